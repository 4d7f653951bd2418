//! The login use cases over the domain's ports. No HTTP here: `routes` maps in and out.

use std::sync::Arc;

use domain::activity::{
    ActivityDetails, ActivityEntry, ActivityKind, FamilyDetails, LockDetails, RequestOrigin, SignUpDetails,
};
use domain::greeting::{Language, welcome};
use domain::lockout::LockoutPolicy;
use domain::password::check_new_password;
use domain::ports::{FailedLogin, StoreError, UserStore};
use domain::refresh::{REFRESH_TTL, RefreshFamily, RefreshToken, RefreshVerdict};
use domain::{Clock, Email, Role, User, UserId, UserName, ValidationErrors};
use infra::passwords::Passwords;
use infra::tokens::{TokenSigner, refresh};
use serde::{Deserialize, Serialize};

pub struct Auth {
    pub users: Arc<dyn UserStore>,
    pub signer: TokenSigner,
    pub passwords: Passwords,
    pub clock: Arc<dyn Clock>,
    pub lockout: LockoutPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("email already registered")]
    EmailTaken,
    /// Unknown email, wrong password and locked account: one error, by design.
    #[error("invalid credentials")]
    BadCredentials,
    #[error("invalid refresh token")]
    BadRefreshToken,
    #[error(transparent)]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => Self::EmailTaken,
            other => Self::Store(other),
        }
    }
}

/// Request bodies: every field optional so a missing one is reported by name.
#[derive(Default, Deserialize)]
pub struct SignupRequest {
    pub email: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub user_type: Option<String>,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("SignupRequest")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("name", &self.name)
            .field("user_type", &self.user_type)
            .finish()
    }
}

#[derive(Default, Deserialize)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub password: Option<String>,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .finish()
    }
}

#[derive(Default, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("RefreshRequest")
            .field("refresh_token", &REDACTED)
            .finish()
    }
}

#[derive(Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("TokenPair")
            .field("access_token", &REDACTED)
            .field("refresh_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

#[derive(Debug, Serialize)]
pub struct LoginResponse {
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub user: User,
    pub message: &'static str,
}

impl Auth {
    pub async fn signup(&self, request: SignupRequest, origin: RequestOrigin) -> Result<User, AuthError> {
        let mut errors = ValidationErrors::default();
        let email = errors
            .require("email", request.email)
            .and_then(|raw| errors.check(Email::parse(&raw)));
        let password = errors
            .require("password", request.password)
            .and_then(|raw| errors.check(check_new_password(&raw)).map(|()| raw));
        let name = errors
            .require("name", request.name)
            .and_then(|raw| errors.check(UserName::parse(&raw)));
        let role = errors
            .require("user_type", request.user_type)
            .and_then(|raw| errors.check(Role::parse(&raw)));
        let (Some(email), Some(password), Some(name), Some(role)) = (email, password, name, role) else {
            return Err(errors.into());
        };

        let now = self.clock.now();
        let user = User {
            id: UserId::generate(),
            email,
            name,
            user_type: role,
            created_at: now,
        };
        let hash = self
            .passwords
            .hash(&password)
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        let activity = ActivityEntry::new(user.id.clone(), ActivityKind::UserSignedUp, now, origin)
            .with_details(ActivityDetails::SignedUp(SignUpDetails { user_type: role }));
        self.users.create_user(&user, &hash, &activity).await?;
        tracing::info!(user_id = %user.id, role = role.as_str(), "user signed up");
        Ok(user)
    }

    pub async fn login(
        &self,
        request: LoginRequest,
        origin: RequestOrigin,
        language: Language,
    ) -> Result<LoginResponse, AuthError> {
        let mut errors = ValidationErrors::default();
        let email = errors.require("email", request.email);
        let password = errors.require("password", request.password);
        let (Some(email), Some(password)) = (email, password) else {
            return Err(errors.into());
        };
        // A malformed email cannot belong to an account; treat it like an unknown one.
        let credentials = match Email::parse(&email) {
            Ok(email) => self.users.credentials(&email).await?,
            Err(_) => None,
        };
        // Always one full verification, whatever the account state, so timing tells nothing.
        let password_ok = self
            .passwords
            .verify(&password, credentials.as_ref().map(|c| c.password_hash.as_str()))
            .await;
        let Some(credentials) = credentials else {
            return Err(AuthError::BadCredentials);
        };
        let now = self.clock.now();
        let user = credentials.user;
        if self.lockout.is_locked(credentials.locked_until, now) {
            tracing::info!(user_id = %user.id, "login refused: account locked");
            return Err(AuthError::BadCredentials);
        }
        if !password_ok {
            let lock_entry = ActivityEntry::new(user.id.clone(), ActivityKind::AccountLocked, now, origin)
                .with_details(ActivityDetails::Locked(LockDetails {
                    locked_until: Some(self.lockout.locked_until(now).unix_timestamp()),
                }));
            let outcome = self
                .users
                .record_failed_login(&user.id, &self.lockout, now, &lock_entry)
                .await?;
            match outcome {
                FailedLogin::Locked => {
                    tracing::warn!(user_id = %user.id, "account locked after failed logins")
                }
                FailedLogin::Counted(n) => tracing::info!(user_id = %user.id, failures = n, "login failed"),
            }
            return Err(AuthError::BadCredentials);
        }

        let family_id = ulid::Ulid::new().to_string();
        let token = RefreshToken {
            user_id: user.id.clone(),
            family_id: family_id.clone(),
            secret: refresh::new_secret(),
        };
        let encoded = token.encode();
        let family = RefreshFamily {
            user_id: user.id.clone(),
            family_id,
            current_hash: refresh::hash_token(&encoded),
            expires_at: now + REFRESH_TTL,
            revoked: false,
        };
        let activity = ActivityEntry::new(user.id.clone(), ActivityKind::LoginSucceeded, now, origin);
        self.users.record_login(&family, &activity).await?;
        let tokens = self.tokens_for(&user, encoded)?;
        tracing::info!(user_id = %user.id, "login succeeded");
        Ok(LoginResponse {
            tokens,
            message: welcome(user.user_type, language),
            user,
        })
    }

    pub async fn refresh(
        &self,
        request: RefreshRequest,
        origin: RequestOrigin,
    ) -> Result<TokenPair, AuthError> {
        let (token, family) = self.presented_family(request).await?;
        let now = self.clock.now();
        let presented_hash = refresh::hash_token(&token.encode());
        match family.judge(&presented_hash, now) {
            RefreshVerdict::Rotate => {}
            RefreshVerdict::Reused => {
                self.revoke_for_reuse(&family, now, origin).await?;
                return Err(AuthError::BadRefreshToken);
            }
            RefreshVerdict::Expired | RefreshVerdict::Revoked => return Err(AuthError::BadRefreshToken),
        }
        let next = RefreshToken {
            secret: refresh::new_secret(),
            ..token
        };
        let encoded = next.encode();
        let rotated = self
            .users
            .rotate_refresh(
                &family,
                &presented_hash,
                &refresh::hash_token(&encoded),
                now + REFRESH_TTL,
            )
            .await;
        match rotated {
            Ok(()) => {}
            // Someone used the same token a moment earlier: one of the two is not the owner.
            Err(StoreError::Conflict) => {
                self.revoke_for_reuse(&family, now, origin).await?;
                return Err(AuthError::BadRefreshToken);
            }
            Err(other) => return Err(other.into()),
        }
        let user = self
            .users
            .user(&family.user_id)
            .await?
            .ok_or(AuthError::BadRefreshToken)?;
        self.tokens_for(&user, encoded)
    }

    /// Revokes the token's family. Presenting an older token of the family counts as reuse
    /// and revokes it too; an unknown token is refused.
    pub async fn logout(&self, request: RefreshRequest, origin: RequestOrigin) -> Result<(), AuthError> {
        let (token, family) = self.presented_family(request).await?;
        if family.revoked {
            return Ok(());
        }
        let now = self.clock.now();
        if family.judge(&refresh::hash_token(&token.encode()), now) == RefreshVerdict::Reused {
            return self.revoke_for_reuse(&family, now, origin).await;
        }
        let activity = ActivityEntry::new(family.user_id.clone(), ActivityKind::LoggedOut, now, origin);
        self.users
            .revoke_family(&family.user_id, &family.family_id, &activity)
            .await?;
        Ok(())
    }

    async fn presented_family(
        &self,
        request: RefreshRequest,
    ) -> Result<(RefreshToken, RefreshFamily), AuthError> {
        let raw = ValidationErrors::default()
            .require("refresh_token", request.refresh_token)
            .ok_or_else(|| ValidationErrors::from(domain::FieldError::missing("refresh_token")))?;
        let token = RefreshToken::parse(&raw).ok_or(AuthError::BadRefreshToken)?;
        let family = self
            .users
            .refresh_family(&token.user_id, &token.family_id)
            .await?
            .ok_or(AuthError::BadRefreshToken)?;
        Ok((token, family))
    }

    async fn revoke_for_reuse(
        &self,
        family: &RefreshFamily,
        now: time::OffsetDateTime,
        origin: RequestOrigin,
    ) -> Result<(), AuthError> {
        tracing::warn!(user_id = %family.user_id, family_id = %family.family_id, "refresh token reuse: revoking family");
        let activity = ActivityEntry::new(
            family.user_id.clone(),
            ActivityKind::RefreshReuseDetected,
            now,
            origin,
        )
        .with_details(ActivityDetails::RefreshReuse(FamilyDetails {
            family_id: family.family_id.clone(),
        }));
        self.users
            .revoke_family(&family.user_id, &family.family_id, &activity)
            .await?;
        Ok(())
    }

    fn tokens_for(&self, user: &User, refresh_token: String) -> Result<TokenPair, AuthError> {
        let access = self
            .signer
            .issue_access(&user.id, user.user_type, self.clock.now())
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        Ok(TokenPair {
            access_token: access.token,
            refresh_token,
            token_type: "Bearer",
            expires_in: access.expires_in,
        })
    }
}
