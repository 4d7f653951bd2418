//! The caller of an authenticated route, from a verified `Authorization: Bearer` token.

use axum::extract::FromRequestParts;
use domain::{Role, UserId};
use http::header;
use http::request::Parts;

use super::problem::{Problem, ProblemType};
use crate::tokens::TokenVerifier;

/// Implemented by a function's state so `Caller` can verify tokens.
pub trait Verifies {
    fn verifier(&self) -> &TokenVerifier;
    fn now(&self) -> time::OffsetDateTime;
}

/// Router state is usually an `Arc` of the function's state.
impl<T: Verifies> Verifies for std::sync::Arc<T> {
    fn verifier(&self) -> &TokenVerifier {
        (**self).verifier()
    }

    fn now(&self) -> time::OffsetDateTime {
        (**self).now()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: UserId,
    pub role: Role,
    /// The token's `email_verified` claim; None in tokens issued before login set it
    /// (accounts from before verification existed count as verified).
    pub email_verified: Option<bool>,
}

impl Caller {
    /// 403 unless the caller has `role`.
    pub fn require(&self, role: Role) -> Result<(), Problem> {
        if self.role == role {
            Ok(())
        } else {
            Err(role_required(role))
        }
    }

    /// 403 `unverified-email` when the token says the address is not verified. A token
    /// without the claim predates verification: its account counts as verified.
    pub fn require_verified_email(&self) -> Result<(), Problem> {
        if self.email_verified == Some(false) {
            Err(unverified_email())
        } else {
            Ok(())
        }
    }
}

/// 403: the caller does not have `role` (`Caller::require`'s answer, for use cases that
/// decide it themselves).
pub fn role_required(role: Role) -> Problem {
    Problem::new(
        ProblemType::Forbidden,
        format!("only a {} may do this", role.as_str()),
    )
}

/// 403 `unverified-email` (`Caller::require_verified_email`'s answer).
pub fn unverified_email() -> Problem {
    Problem::new(
        ProblemType::UnverifiedEmail,
        "verify your email address first: open the link in the mail sent at signup \
         (POST /auth/verify-email/resend sends it again), then sign in again or refresh \
         so the access token says the address is verified",
    )
}

fn unauthorized(detail: &str) -> Problem {
    let mut problem = Problem::new(ProblemType::Unauthorized, detail);
    problem.www_authenticate = Some("Bearer realm=\"mrmrthon\"");
    problem
}

impl<S> FromRequestParts<S> for Caller
where
    S: Verifies + Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("send an access token as Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be Bearer <token>"))?;
        let claims = state
            .verifier()
            .verify_access(token, state.now())
            .map_err(|e| unauthorized(&format!("the access token was refused: {e}")))?;
        Ok(Self {
            id: claims.sub,
            role: claims.role,
            email_verified: claims.email_verified,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organizer(email_verified: Option<bool>) -> Caller {
        Caller {
            id: UserId::generate(),
            role: Role::Organizer,
            email_verified,
        }
    }

    #[test]
    fn only_a_token_that_says_unverified_is_refused() {
        let refused = organizer(Some(false)).require_verified_email().unwrap_err();
        assert_eq!(refused.status(), 403);
        assert_eq!(
            refused.kind().uri(),
            "https://mrmrthon.dev/problems/unverified-email"
        );
        assert!(
            refused
                .detail
                .unwrap()
                .starts_with("verify your email address first")
        );
        assert!(organizer(Some(true)).require_verified_email().is_ok());
        // tokens from before login set the claim: their accounts count as verified
        assert!(organizer(None).require_verified_email().is_ok());
    }
}
