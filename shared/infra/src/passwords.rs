//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

/// A hash of a random password at the same parameters. Login verifies against it when
/// the email is unknown, so unknown and known accounts cost the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Y2hhbmdlLW1lLW5vdC1yZWFs$1hYg+4dzD3tO2pdzY3U8G30Im3PYgIZKcWyDxHKb0kA";

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
}

impl Default for Passwords {
    fn default() -> Self {
        let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
        Self {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        }
    }
}

impl Passwords {
    /// Hashes on the blocking pool: tens of milliseconds of CPU must not stall other requests.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let this = self.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || this.hash_now(&password))
            .await
            .map_err(|e| HashError(e.to_string()))?
    }

    pub fn hash_now(&self, password: &str) -> Result<String, HashError> {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|_| HashError("no randomness".into()))?;
        self.argon
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    /// Verifies against `hash`, or against a dummy hash when there is no account, so both
    /// paths cost one full verification. A malformed stored hash verifies as false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let this = self.clone();
        let password = password.to_owned();
        let hash = hash.unwrap_or(DUMMY_HASH).to_owned();
        let known = hash != DUMMY_HASH;
        tokio::task::spawn_blocking(move || {
            this.argon
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
                && known
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let passwords = Passwords::default();
        let hash = passwords.hash("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify("correct horse battery", Some(&hash)).await);
        assert!(!passwords.verify("wrong horse battery", Some(&hash)).await);
    }

    #[tokio::test]
    async fn salts_differ() {
        let passwords = Passwords::default();
        assert_ne!(
            passwords.hash("same password").await.unwrap(),
            passwords.hash("same password").await.unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_account_never_verifies_even_with_the_dummy_password() {
        let passwords = Passwords::default();
        assert!(!passwords.verify("anything at all", None).await);
        assert!(!passwords.verify("anything", Some("not a phc string")).await);
    }

    #[test]
    fn dummy_hash_uses_the_live_parameters() {
        // if the parameters change, the dummy must change too or timing would differ
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = argon2::password_hash::phc::PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.hash.unwrap().len(), 32);
    }
}
