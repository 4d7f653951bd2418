//! Tokens mailed to an account's address: password reset, and email verification (the
//! same shape). Single use, short-lived; the link carries `<user id>.<256 random bits>`
//! and the Users table keeps only its hash.

use time::{Duration, OffsetDateTime};

use crate::user::UserId;

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::minutes(30);
/// At most one reset mail per account this often (the rest are answered alike and dropped),
/// so the endpoint cannot flood a mailbox.
pub const RESET_MIN_INTERVAL: Duration = Duration::minutes(1);

/// How long an email verification link works.
pub const VERIFY_TTL: Duration = Duration::hours(24);
/// At most one verification mail per account this often.
pub const VERIFY_MIN_INTERVAL: Duration = Duration::minutes(1);

/// A reset (or verification) token's parts: whose account, and the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetToken {
    pub user_id: UserId,
    pub secret: String,
}

impl std::fmt::Debug for ResetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the secret
        write!(f, "ResetToken({})", self.user_id)
    }
}

impl ResetToken {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.user_id, self.secret)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let (user, secret) = raw.trim().split_once('.')?;
        let user_id = UserId::parse(user)?;
        let plausible = (32..=128).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| Self {
            user_id,
            secret: secret.to_owned(),
        })
    }
}

/// A reset as stored: the hash of the one token that works, until when, and whether it
/// was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub user_id: UserId,
    pub token_hash: String,
    pub requested_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used: bool,
}

impl PasswordReset {
    /// Whether a token hashing to `presented_hash` may set a new password at `now`.
    pub fn accepts(&self, presented_hash: &str, now: OffsetDateTime) -> bool {
        !self.used && now < self.expires_at && presented_hash == self.token_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_token_round_trips_and_garbage_is_refused() {
        let token = ResetToken {
            user_id: UserId::generate(),
            secret: "s".repeat(43),
        };
        assert_eq!(ResetToken::parse(&token.encode()), Some(token.clone()));
        assert!(!format!("{token:?}").contains("sss"));
        for bad in ["", "x.y", &format!("{}.short", UserId::generate()), "a.b.c"] {
            assert!(ResetToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_reset_works_once_and_only_before_it_expires() {
        let now = datetime!(2026-11-21 10:00 UTC);
        let reset = PasswordReset {
            user_id: UserId::generate(),
            token_hash: "h".into(),
            requested_at: now,
            expires_at: now + RESET_TTL,
            used: false,
        };
        assert!(reset.accepts("h", now + Duration::minutes(29)));
        assert!(!reset.accepts("other", now));
        assert!(!reset.accepts("h", now + RESET_TTL));
        let used = PasswordReset { used: true, ..reset };
        assert!(!used.accepts("h", now));
    }
}
