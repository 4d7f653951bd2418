//! The login use cases over the domain's ports. No HTTP here: `routes` maps in and out.

use std::sync::Arc;

use domain::activity::{
    ActivityDetails, ActivityEntry, ActivityKind, DeletionDetails, FamilyDetails, LockDetails, RequestOrigin,
    ResetDetails, SignUpDetails,
};
use domain::erasure::DELETION_ENTRY_TTL;
use domain::greeting::{Language, welcome};
use domain::lockout::{LockoutPolicy, Reservation};
use domain::password::check_new_password;
use domain::ports::{Credentials, StoreError, UserStore};
use domain::refresh::{REFRESH_TTL, RefreshFamily, RefreshToken, RefreshVerdict};
use domain::reset::{
    PasswordReset, RESET_MIN_INTERVAL, RESET_TTL, ResetToken, VERIFY_MIN_INTERVAL, VERIFY_TTL,
};
use domain::{Clock, Email, FieldError, Role, User, UserId, UserName, ValidationErrors};
use infra::passwords::Passwords;
use infra::tokens::{TokenSigner, TokenVerifier, refresh};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

pub struct Auth {
    pub users: Arc<dyn UserStore>,
    pub signer: TokenSigner,
    /// Verifies the access tokens of login's own authenticated routes (password change,
    /// logout everywhere): built from the signer's public key.
    pub verifier: TokenVerifier,
    pub passwords: Passwords,
    pub clock: Arc<dyn Clock>,
    pub lockout: LockoutPolicy,
    /// A login's absolute lifetime: refreshing never extends a session past it.
    pub session_lifetime: Duration,
}

impl infra::http::Verifies for Auth {
    fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
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
    /// The current password given to change it is wrong, or attempts are throttled.
    #[error("the current password is incorrect")]
    WrongCurrentPassword,
    /// The caller's account no longer exists.
    #[error("no such account")]
    NoAccount,
    #[error("the address is already verified")]
    AlreadyVerified,
    /// The account changed while the request was decided (its sessions ended, its
    /// password changed): nothing was done, try again.
    #[error("the account changed meanwhile")]
    AccountChanged,
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

/// Request bodies: every field optional so a missing one is reported by name. None of
/// them derives `Debug`: they hold passwords and tokens.
#[derive(Default)]
pub struct SignupRequest {
    pub email: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
    /// "runner" or "organizer", or the original system's codes 0 and 1.
    pub user_type: Option<serde_json::Value>,
}

#[derive(Default)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub password: Option<String>,
}

#[derive(Default)]
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
}

#[derive(Default)]
pub struct ResetRequest {
    pub email: Option<String>,
}

#[derive(Default)]
pub struct ResetConfirmation {
    pub token: Option<String>,
    pub new_password: Option<String>,
}

#[derive(Default)]
pub struct DeleteAccountRequest {
    pub password: Option<String>,
}

#[derive(Default)]
pub struct ChangePasswordRequest {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// The user type as sent: a word, or the original system's code (0 runner, 1 organizer).
fn parse_role(raw: &serde_json::Value) -> Result<Role, FieldError> {
    match raw {
        serde_json::Value::String(word) => Role::parse(word),
        serde_json::Value::Number(code) => code
            .as_u64()
            .map_or_else(|| Err(Role::invalid()), Role::from_code),
        _ => Err(Role::invalid()),
    }
}

/// A new password's rule, named after the field that carries it.
fn check_password_field(field: &str, raw: &str) -> Result<(), FieldError> {
    check_new_password(raw).map_err(|e| FieldError::new(field, e.message))
}

/// No `Debug`: it holds the tokens.
#[derive(Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

#[derive(Serialize)]
pub struct LoginResponse {
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub user: User,
    pub email_verified: bool,
    pub message: &'static str,
}

/// A refresh's answer: the new pair and the account it signs in, so a client that kept
/// only the refresh cookie (a reloaded page) knows who it is again. No `Debug`: it holds
/// the tokens.
pub struct Refreshed {
    pub tokens: TokenPair,
    pub user: User,
    pub email_verified: bool,
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
            .and_then(|raw| errors.check(parse_role(&raw)));
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
        let activity = ActivityEntry::new(user.id.clone(), ActivityKind::UserSignedUp, now, origin.clone())
            .with_details(ActivityDetails::SignedUp(SignUpDetails { user_type: role }));
        self.users.create_user(&user, &hash, &activity).await?;
        tracing::info!(user_id = %user.id, role = role.as_str(), "user signed up");
        // The account exists either way; a verification mail that could not be queued now
        // is one `resend` away.
        if let Err(error) = self.send_verification(&user.id, now, origin).await {
            tracing::warn!(user_id = %user.id, %error, "verification mail not queued");
        }
        Ok(user)
    }

    /// Stores a verification token's hash and logs the entry that makes log-mailer mail
    /// the link, at most once a minute per account. Whether it was queued.
    async fn send_verification(
        &self,
        id: &UserId,
        now: OffsetDateTime,
        origin: RequestOrigin,
    ) -> Result<bool, AuthError> {
        let token = ResetToken {
            user_id: id.clone(),
            secret: refresh::new_secret(),
        };
        let encoded = token.encode();
        let pending = PasswordReset {
            user_id: id.clone(),
            token_hash: refresh::hash_token(&encoded),
            requested_at: now,
            expires_at: now + VERIFY_TTL,
            used: false,
        };
        let activity = ActivityEntry::new(id.clone(), ActivityKind::EmailVerificationRequested, now, origin)
            .with_details(ActivityDetails::PasswordReset(ResetDetails {
                token: encoded,
                expires_at: pending.expires_at.unix_timestamp(),
            }));
        Ok(self
            .users
            .request_email_verification(&pending, now - VERIFY_MIN_INTERVAL, &activity)
            .await?)
    }

    /// Mails the caller a new verification link (at most once a minute). Whether one was
    /// queued; `AlreadyVerified` if there is nothing to verify.
    pub async fn resend_verification(
        &self,
        caller: &UserId,
        origin: RequestOrigin,
    ) -> Result<bool, AuthError> {
        let account = self
            .users
            .credentials_by_id(caller)
            .await?
            .ok_or(AuthError::NoAccount)?;
        if account.email_verified {
            return Err(AuthError::AlreadyVerified);
        }
        self.send_verification(caller, self.clock.now(), origin).await
    }

    /// Verifies the address with a mailed token: once, within a day.
    pub async fn verify_email(&self, token: Option<String>, origin: RequestOrigin) -> Result<(), AuthError> {
        let raw = ValidationErrors::default()
            .require("token", token)
            .ok_or_else(|| ValidationErrors::from(FieldError::missing("token")))?;
        let refused = || {
            AuthError::Invalid(ValidationErrors::from(FieldError::new(
                "token",
                "the verification link is invalid, expired or already used: ask for a new one",
            )))
        };
        let token = ResetToken::parse(&raw).ok_or_else(refused)?;
        let presented = refresh::hash_token(&token.encode());
        let now = self.clock.now();
        let pending = self.users.email_verification(&token.user_id).await?;
        if !pending.is_some_and(|p| p.accepts(&presented, now)) {
            return Err(refused());
        }
        let activity = ActivityEntry::new(token.user_id.clone(), ActivityKind::EmailVerified, now, origin);
        match self
            .users
            .complete_email_verification(&token.user_id, &presented, now, &activity)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(refused()),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(user_id = %token.user_id, "email verified");
        Ok(())
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
        let Some(credentials) = credentials else {
            // the same verification work as for an account, so timing tells nothing
            self.passwords.verify(&password, None).await;
            return Err(AuthError::BadCredentials);
        };
        let now = self.clock.now();
        if !self
            .verify_reserved(&credentials, &password, now, &origin)
            .await?
        {
            return Err(AuthError::BadCredentials);
        }
        let user = credentials.user;
        let family_id = ulid::Ulid::new().to_string();
        let token = RefreshToken {
            user_id: user.id.clone(),
            family_id: family_id.clone(),
            secret: refresh::new_secret(),
        };
        let encoded = token.encode();
        let session_expires_at = now + self.session_lifetime;
        let family = RefreshFamily {
            user_id: user.id.clone(),
            family_id,
            current_hash: refresh::hash_token(&encoded),
            expires_at: (now + REFRESH_TTL).min(session_expires_at),
            revoked: false,
            generation: credentials.session_generation,
            session_expires_at,
        };
        let activity = ActivityEntry::new(user.id.clone(), ActivityKind::LoginSucceeded, now, origin);
        match self.users.record_login(&family, now, &activity).await {
            Ok(()) => {}
            // a lock set, or every session ended, while the password was verified
            Err(StoreError::Conflict) => {
                tracing::info!(user_id = %user.id, "login refused: the account changed meanwhile");
                return Err(AuthError::BadCredentials);
            }
            Err(other) => return Err(other.into()),
        }
        let tokens = self.tokens_for(&user, credentials.email_verified, encoded)?;
        tracing::info!(user_id = %user.id, "login succeeded");
        Ok(LoginResponse {
            tokens,
            email_verified: credentials.email_verified,
            message: welcome(user.user_type, language),
            user,
        })
    }

    /// Verifies `password` against the account's hash, only after the attempt is reserved
    /// (`LockoutPolicy`): an attempt that is throttled, or that loses the race to a
    /// concurrent one, is refused unverified. A failure that completes a run of failures
    /// locks the account and logs the lock (its mail), once per lock.
    async fn verify_reserved(
        &self,
        credentials: &Credentials,
        password: &str,
        now: OffsetDateTime,
        origin: &RequestOrigin,
    ) -> Result<bool, AuthError> {
        let id = &credentials.user.id;
        let reservation: Reservation = match self.lockout.admit(credentials.attempts, now) {
            Ok(reservation) => reservation,
            Err(throttled) => {
                tracing::info!(user_id = %id, retry_at = %throttled.retry_at, "attempt refused: throttled");
                return Ok(false);
            }
        };
        match self.users.reserve_attempt(id, &reservation, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                tracing::info!(user_id = %id, "attempt refused: a concurrent attempt reserved first");
                return Ok(false);
            }
            Err(other) => return Err(other.into()),
        }
        if self
            .passwords
            .verify(password, Some(&credentials.password_hash))
            .await
        {
            return Ok(true);
        }
        tracing::info!(user_id = %id, failures = reservation.failures, "password attempt failed");
        if let Some(until) = reservation.locks_until {
            let entry = ActivityEntry::new(id.clone(), ActivityKind::AccountLocked, now, origin.clone())
                .with_details(ActivityDetails::Locked(LockDetails {
                    locked_until: Some(until.unix_timestamp()),
                }));
            if self
                .users
                .record_lock(id, reservation.failures, until, &entry)
                .await?
            {
                tracing::warn!(user_id = %id, %until, "account locked after sustained failed attempts");
            }
        }
        Ok(false)
    }

    /// Changes the caller's password after checking the current one (throttled like a
    /// login), and ends every session of the account. The security notice is mailed from
    /// the activity entry.
    pub async fn change_password(
        &self,
        caller: &UserId,
        request: ChangePasswordRequest,
        origin: RequestOrigin,
    ) -> Result<(), AuthError> {
        let mut errors = ValidationErrors::default();
        let current = errors.require("current_password", request.current_password);
        let new = errors
            .require("new_password", request.new_password)
            .and_then(|raw| {
                errors
                    .check(check_password_field("new_password", &raw))
                    .map(|()| raw)
            });
        let (Some(current), Some(new)) = (current, new) else {
            return Err(errors.into());
        };
        let credentials = self
            .users
            .credentials_by_id(caller)
            .await?
            .ok_or(AuthError::NoAccount)?;
        let now = self.clock.now();
        if !self.verify_reserved(&credentials, &current, now, &origin).await? {
            return Err(AuthError::WrongCurrentPassword);
        }
        let hash = self
            .passwords
            .hash(&new)
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        let activity = ActivityEntry::new(caller.clone(), ActivityKind::PasswordChanged, now, origin);
        self.users
            .change_password(caller, &hash, credentials.session_generation, &activity)
            .await?;
        tracing::info!(user_id = %caller, "password changed; every session ended");
        Ok(())
    }

    /// Deletes the caller's account after checking its password (throttled like a login):
    /// the Users side at once, in one transaction with the `account.deleted` entry, which
    /// account-erasure turns into the Races side (results kept under the anonymous name,
    /// upcoming entries cancelled, private records deleted) and log-mailer into the
    /// confirmation mail to the address being erased (docs/DESIGN.md, Account deletion).
    pub async fn delete_account(
        &self,
        caller: &UserId,
        request: DeleteAccountRequest,
        origin: RequestOrigin,
    ) -> Result<(), AuthError> {
        let password = ValidationErrors::default()
            .require("password", request.password)
            .ok_or_else(|| ValidationErrors::from(FieldError::missing("password")))?;
        let credentials = self
            .users
            .credentials_by_id(caller)
            .await?
            .ok_or(AuthError::NoAccount)?;
        let now = self.clock.now();
        if !self
            .verify_reserved(&credentials, &password, now, &origin)
            .await?
        {
            return Err(AuthError::WrongCurrentPassword);
        }
        let activity = ActivityEntry::new(caller.clone(), ActivityKind::AccountDeleted, now, origin)
            .with_details(ActivityDetails::Deleted(DeletionDetails {
                email: credentials.user.email.as_str().to_owned(),
                user_type: credentials.user.user_type,
            }));
        match self
            .users
            .delete_account(&credentials, now, &activity, now + DELETION_ENTRY_TTL)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                // deleted by a concurrent request, or its sessions ended meanwhile
                return Err(match self.users.credentials_by_id(caller).await? {
                    None => AuthError::NoAccount,
                    Some(_) => AuthError::AccountChanged,
                });
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(user_id = %caller, "account deleted");
        Ok(())
    }

    /// Asks for a reset link. Known and unknown addresses get the same answer and the same
    /// work up to the store (a token is made and hashed either way); for a known one the
    /// hash is stored and the entry that makes log-mailer send the link is logged, at
    /// most once a minute per account.
    pub async fn request_password_reset(
        &self,
        request: ResetRequest,
        origin: RequestOrigin,
    ) -> Result<(), AuthError> {
        let email = ValidationErrors::default()
            .require("email", request.email)
            .ok_or_else(|| ValidationErrors::from(FieldError::missing("email")))?;
        let credentials = match Email::parse(&email) {
            Ok(email) => self.users.credentials(&email).await?,
            Err(_) => None,
        };
        let now = self.clock.now();
        let token = ResetToken {
            user_id: credentials
                .as_ref()
                .map_or_else(UserId::generate, |c| c.user.id.clone()),
            secret: refresh::new_secret(),
        };
        let encoded = token.encode();
        let reset = PasswordReset {
            user_id: token.user_id.clone(),
            token_hash: refresh::hash_token(&encoded),
            requested_at: now,
            expires_at: now + RESET_TTL,
            used: false,
        };
        let Some(credentials) = credentials else {
            tracing::info!("password reset asked for an unknown address");
            return Ok(());
        };
        let activity = ActivityEntry::new(
            credentials.user.id.clone(),
            ActivityKind::PasswordResetRequested,
            now,
            origin,
        )
        .with_details(ActivityDetails::PasswordReset(ResetDetails {
            token: encoded,
            expires_at: reset.expires_at.unix_timestamp(),
        }));
        let stored = self
            .users
            .request_password_reset(&reset, now - RESET_MIN_INTERVAL, &activity)
            .await?;
        tracing::info!(user_id = %credentials.user.id, mailed = stored, "password reset asked for");
        Ok(())
    }

    /// Sets a new password with a reset token: once, before it expires. Every session
    /// ends, failures and locks are cleared, and the owner gets the password-changed notice.
    pub async fn confirm_password_reset(
        &self,
        request: ResetConfirmation,
        origin: RequestOrigin,
    ) -> Result<(), AuthError> {
        let mut errors = ValidationErrors::default();
        let token = errors.require("token", request.token);
        let new = errors
            .require("new_password", request.new_password)
            .and_then(|raw| {
                errors
                    .check(check_password_field("new_password", &raw))
                    .map(|()| raw)
            });
        let (Some(token), Some(new)) = (token, new) else {
            return Err(errors.into());
        };
        let refused = || {
            AuthError::Invalid(ValidationErrors::from(FieldError::new(
                "token",
                "the reset link is invalid, expired or already used: ask for a new one",
            )))
        };
        let token = ResetToken::parse(&token).ok_or_else(refused)?;
        let presented = refresh::hash_token(&token.encode());
        let now = self.clock.now();
        let reset = self.users.password_reset(&token.user_id).await?;
        if !reset.is_some_and(|reset| reset.accepts(&presented, now)) {
            return Err(refused());
        }
        let hash = self
            .passwords
            .hash(&new)
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        let activity = ActivityEntry::new(token.user_id.clone(), ActivityKind::PasswordChanged, now, origin);
        match self
            .users
            .complete_password_reset(&token.user_id, &presented, &hash, now, &activity)
            .await
        {
            Ok(()) => {}
            // used by a concurrent confirmation a moment ago
            Err(StoreError::Conflict) => return Err(refused()),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(user_id = %token.user_id, "password reset; every session ended");
        Ok(())
    }

    /// Ends every session of the caller's account (every refresh family).
    pub async fn logout_everywhere(&self, caller: &UserId, origin: RequestOrigin) -> Result<(), AuthError> {
        let now = self.clock.now();
        let activity = ActivityEntry::new(caller.clone(), ActivityKind::LoggedOutEverywhere, now, origin);
        match self.users.end_sessions(caller, &activity).await {
            Ok(()) => {}
            Err(StoreError::Conflict | StoreError::Missing(_)) => return Err(AuthError::NoAccount),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(user_id = %caller, "logged out everywhere");
        Ok(())
    }

    pub async fn refresh(
        &self,
        request: RefreshRequest,
        origin: RequestOrigin,
    ) -> Result<Refreshed, AuthError> {
        let (token, family) = self.presented_family(request).await?;
        let account = self
            .users
            .credentials_by_id(&family.user_id)
            .await?
            .ok_or(AuthError::BadRefreshToken)?;
        let now = self.clock.now();
        let presented_hash = refresh::hash_token(&token.encode());
        match family.judge(&presented_hash, account.session_generation, now) {
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
                family.next_expiry(now),
            )
            .await;
        match rotated {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                // every session ended meanwhile: nothing was stolen, the token is just dead
                let ended = self
                    .users
                    .credentials_by_id(&family.user_id)
                    .await?
                    .is_none_or(|now| now.session_generation != family.generation);
                if !ended {
                    // someone used the same token a moment earlier: one of the two is not the owner
                    self.revoke_for_reuse(&family, now, origin).await?;
                }
                return Err(AuthError::BadRefreshToken);
            }
            Err(other) => return Err(other.into()),
        }
        let tokens = self.tokens_for(&account.user, account.email_verified, encoded)?;
        Ok(Refreshed {
            tokens,
            user: account.user,
            email_verified: account.email_verified,
        })
    }

    /// Revokes the token's family. Presenting an older token of the family counts as reuse
    /// and revokes it too; an unknown token is refused.
    pub async fn logout(&self, request: RefreshRequest, origin: RequestOrigin) -> Result<(), AuthError> {
        let (token, family) = self.presented_family(request).await?;
        if family.revoked {
            return Ok(());
        }
        let now = self.clock.now();
        // the generation is not the subject here: an ended session logs out as a live one
        if family.judge(&refresh::hash_token(&token.encode()), family.generation, now)
            == RefreshVerdict::Reused
        {
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

    fn tokens_for(
        &self,
        user: &User,
        email_verified: bool,
        refresh_token: String,
    ) -> Result<TokenPair, AuthError> {
        let access = self
            .signer
            .issue_access_verified(&user.id, user.user_type, email_verified, self.clock.now())
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        Ok(TokenPair {
            access_token: access.token,
            refresh_token,
            token_type: "Bearer",
            expires_in: access.expires_in,
        })
    }
}
