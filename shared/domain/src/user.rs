//! Users: identity, email, display name and role.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

use crate::validation::FieldError;

/// Server-generated, time-ordered (ULID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    /// Accepts only the shape we generate, so a forged id never reaches a key expression.
    pub fn parse(raw: &str) -> Option<Self> {
        ulid::Ulid::from_string(raw).ok().map(|id| Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lower-cased so one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let normalized = raw.trim().to_lowercase();
        let invalid = || FieldError::new("email", "must be an email address like runner@example.com");
        if normalized.len() > Self::MAX_LEN {
            return Err(FieldError::new("email", "must be at most 254 characters"));
        }
        let (local, domain) = normalized.split_once('@').ok_or_else(invalid)?;
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !normalized
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if well_formed {
            Ok(Self(normalized))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: trimmed, 1 to 100 characters, no control characters
/// (it ends up in mail headers and Discord messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "must not be empty"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("name", "must be at most 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new("name", "must not contain control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a user may do. The original system stored 0 (runner) and 1 (organizer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Runner,
    Organizer,
}

impl Role {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "runner" => Ok(Self::Runner),
            "organizer" => Ok(Self::Organizer),
            _ => Err(Self::invalid()),
        }
    }

    /// The original system's codes, still accepted on input: 0 runner, 1 organizer.
    pub fn from_code(code: u64) -> Result<Self, FieldError> {
        match code {
            0 => Ok(Self::Runner),
            1 => Ok(Self::Organizer),
            _ => Err(Self::invalid()),
        }
    }

    /// What a user type that is neither a known word nor a known code gets.
    pub fn invalid() -> FieldError {
        FieldError::new(
            "user_type",
            "must be \"runner\" or \"organizer\" (or the codes 0 and 1)",
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Runner => "runner",
            Self::Organizer => "organizer",
        }
    }
}

/// The name a deleted account's official results, entries and points page keep: results
/// stay in the rankings (so they stay true) under no one's name (docs/DESIGN.md, Account
/// deletion). Fixed, so the web app can show it in the reader's language.
pub const ANONYMOUS_NAME: &str = "Anonymous runner";

impl UserName {
    /// `ANONYMOUS_NAME`, what a deleted account is called.
    pub fn anonymous() -> Self {
        Self(ANONYMOUS_NAME.to_owned())
    }
}

/// What anyone may see of an account, also once it is deleted (then with the anonymous
/// name): never its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicProfile {
    pub id: UserId,
    pub name: UserName,
    pub user_type: Role,
    /// Whether the owner deleted the account (the name is then `ANONYMOUS_NAME`).
    pub deleted: bool,
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: UserName,
    pub user_type: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let email = Email::parse("  Kim.Runner@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "kim.runner@example.com");
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "",
            "no-at-sign",
            "@example.com",
            "a@nodot",
            "a@.com",
            "a b@example.com",
            "a@b@c.com",
            "a@example.com\r\nBcc: x@y.z",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn name_rejects_empty_long_and_control_characters() {
        assert_eq!(UserName::parse("  Kim  ").unwrap().as_str(), "Kim");
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"가".repeat(101)).is_err());
        assert!(UserName::parse(&"가".repeat(100)).is_ok());
        assert!(UserName::parse("Kim\r\nBcc: x").is_err());
    }

    #[test]
    fn role_parses_only_known_values() {
        assert_eq!(Role::parse("runner").unwrap(), Role::Runner);
        assert_eq!(Role::parse("organizer").unwrap(), Role::Organizer);
        let err = Role::parse("admin").unwrap_err();
        assert_eq!(err.field, "user_type");
        assert_eq!(Role::from_code(0).unwrap(), Role::Runner);
        assert_eq!(Role::from_code(1).unwrap(), Role::Organizer);
        assert_eq!(Role::from_code(2).unwrap_err().field, "user_type");
    }

    #[test]
    fn the_anonymous_name_is_a_valid_name() {
        assert_eq!(UserName::parse(ANONYMOUS_NAME).unwrap(), UserName::anonymous());
    }

    #[test]
    fn user_id_accepts_only_ulids() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(id.as_str()), Some(id));
        assert_eq!(UserId::parse("USER#x"), None);
    }
}
