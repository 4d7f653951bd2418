//! Refresh tokens: opaque to clients, stored only as a hash, rotated on every use.
//! Each login starts a family; presenting a token its family has already rotated past
//! means it was stolen or replayed, and the whole family is revoked.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::user::UserId;

pub const REFRESH_TTL: Duration = Duration::days(14);

/// How long a login's session lasts at most, however often it is refreshed (the default;
/// login's `SESSION_DAYS` sets it).
pub const SESSION_LIFETIME: Duration = Duration::days(30);

/// The parts of a refresh token: where its family lives, and the secret itself.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: UserId,
    pub family_id: String,
    pub secret: String,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the secret
        write!(f, "RefreshToken({}/{})", self.user_id, self.family_id)
    }
}

impl RefreshToken {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.user_id, self.family_id, self.secret)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().splitn(3, '.');
        let user_id = UserId::parse(parts.next()?)?;
        let family_id = ulid::Ulid::from_string(parts.next()?).ok()?.to_string();
        let secret = parts.next()?;
        let plausible = (32..=128).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| Self {
            user_id,
            family_id,
            secret: secret.to_owned(),
        })
    }
}

/// A family as stored: the hash of the one token that may be used next.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    pub user_id: UserId,
    pub family_id: String,
    pub current_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub revoked: bool,
    /// The account's session generation at login: a password change or "log out
    /// everywhere" moves the account's on, which ends every family of an older one.
    #[serde(default)]
    pub generation: u64,
    /// The login's absolute end: rotation never moves `expires_at` past it.
    #[serde(with = "time::serde::rfc3339")]
    pub session_expires_at: OffsetDateTime,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for RefreshFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("RefreshFamily")
            .field("user_id", &self.user_id)
            .field("family_id", &self.family_id)
            .field("current_hash", &REDACTED)
            .field("expires_at", &self.expires_at)
            .field("revoked", &self.revoked)
            .finish()
    }
}

/// What presenting a refresh token means for its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshVerdict {
    Rotate,
    Expired,
    Revoked,
    /// A token the family already rotated past: revoke the family.
    Reused,
}

impl RefreshFamily {
    /// `generation` is the account's current session generation.
    pub fn judge(&self, presented_hash: &str, generation: u64, now: OffsetDateTime) -> RefreshVerdict {
        if self.revoked || self.generation != generation {
            RefreshVerdict::Revoked
        } else if presented_hash != self.current_hash {
            RefreshVerdict::Reused
        } else if now >= self.expires_at {
            RefreshVerdict::Expired
        } else {
            RefreshVerdict::Rotate
        }
    }

    /// When a token rotated at `now` expires: a refresh TTL later, but never past the
    /// session's absolute end.
    pub fn next_expiry(&self, now: OffsetDateTime) -> OffsetDateTime {
        (now + REFRESH_TTL).min(self.session_expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn token() -> RefreshToken {
        RefreshToken {
            user_id: UserId::generate(),
            family_id: ulid::Ulid::new().to_string(),
            secret: "a".repeat(43),
        }
    }

    #[test]
    fn encode_parse_round_trip() {
        let t = token();
        assert_eq!(RefreshToken::parse(&t.encode()), Some(t));
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in [
            "",
            "x.y.z",
            "a.b",
            &format!("{}.{}.short", UserId::generate(), ulid::Ulid::new()),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", token()).contains("aaaa"));
    }

    #[test]
    fn judging_a_presented_token() {
        let now = datetime!(2026-11-21 10:00 UTC);
        let family = RefreshFamily {
            user_id: UserId::generate(),
            family_id: "f".into(),
            current_hash: "h1".into(),
            expires_at: now + REFRESH_TTL,
            revoked: false,
            generation: 2,
            session_expires_at: now + SESSION_LIFETIME,
        };
        assert_eq!(family.judge("h1", 2, now), RefreshVerdict::Rotate);
        assert_eq!(family.judge("h0", 2, now), RefreshVerdict::Reused);
        assert_eq!(family.judge("h1", 2, now + REFRESH_TTL), RefreshVerdict::Expired);
        // the account moved on (password changed, logged out everywhere)
        assert_eq!(family.judge("h1", 3, now), RefreshVerdict::Revoked);
        let revoked = RefreshFamily {
            revoked: true,
            ..family
        };
        assert_eq!(revoked.judge("h1", 2, now), RefreshVerdict::Revoked);
    }

    #[test]
    fn rotation_never_extends_the_session_past_its_end() {
        let login = datetime!(2026-11-01 10:00 UTC);
        let family = RefreshFamily {
            user_id: UserId::generate(),
            family_id: "f".into(),
            current_hash: "h".into(),
            expires_at: login + REFRESH_TTL,
            revoked: false,
            generation: 0,
            session_expires_at: login + SESSION_LIFETIME,
        };
        assert_eq!(
            family.next_expiry(login + Duration::days(1)),
            login + Duration::days(15)
        );
        assert_eq!(
            family.next_expiry(login + Duration::days(20)),
            login + SESSION_LIFETIME
        );
    }
}
