//! The password policy. Hashing itself (argon2id) lives in infra.

use crate::validation::FieldError;

/// NIST SP 800-63B: length over composition rules.
pub const MIN_CHARS: usize = 10;
/// argon2 cost does not depend on length, but an unbounded body field invites abuse.
pub const MAX_BYTES: usize = 1024;

pub fn check_new_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < MIN_CHARS {
        return Err(FieldError::new("password", "must be at least 10 characters"));
    }
    if password.len() > MAX_BYTES {
        return Err(FieldError::new("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_characters_is_the_minimum() {
        assert!(check_new_password("123456789").is_err());
        assert!(check_new_password("1234567890").is_ok());
        // characters, not bytes: ten Hangul syllables are enough
        assert!(check_new_password("가나다라마바사아자차").is_ok());
    }

    #[test]
    fn overlong_passwords_are_refused() {
        assert!(check_new_password(&"x".repeat(MAX_BYTES + 1)).is_err());
    }
}
