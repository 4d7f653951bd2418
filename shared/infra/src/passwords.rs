//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, TryLockError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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
    /// argon2's 19 MiB working area, kept for the container's life. Allocating it per hash
    /// let glibc keep one freed copy per blocking-pool thread: login's peak RSS reached
    /// 125 MiB in a burst of sequential logins.
    memory: Arc<Mutex<Vec<Block>>>,
    /// Verifications against a stored hash (not the dummy's), shared by clones: what the
    /// lockout limits, counted so tests can show it holds.
    verifications: Arc<AtomicU64>,
    /// Every verification, the dummy's included: the work a request costs, counted so
    /// tests can show a refused attempt costs what a verified one does.
    runs: Arc<AtomicU64>,
}

impl Default for Passwords {
    fn default() -> Self {
        let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
        Self {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            memory: Arc::default(),
            verifications: Arc::default(),
            runs: Arc::default(),
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
        let error = |e: &dyn std::fmt::Display| HashError(e.to_string());
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|_| HashError("no randomness".into()))?;
        let mut out = [0u8; 32];
        self.with_memory(self.argon.params().block_count(), |blocks| {
            self.argon
                .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        })
        .map_err(|e| error(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(self.argon.params()).map_err(|e| error(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| error(&e))?),
            hash: Some(Output::new(&out).map_err(|e| error(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Verifies against `hash`, or against a dummy hash when there is no account, so both
    /// paths cost one full verification. A malformed stored hash verifies as false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let this = self.clone();
        let password = password.to_owned();
        let hash = hash.unwrap_or(DUMMY_HASH).to_owned();
        let known = hash != DUMMY_HASH;
        if known {
            self.verifications.fetch_add(1, Ordering::Relaxed);
        }
        self.runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || this.verify_now(password.as_bytes(), &hash) && known)
            .await
            .unwrap_or(false)
    }

    /// How many verifications against a stored hash this instance (and its clones) made.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// How many verifications of any kind (the dummy's too) this instance made.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Recomputes the hash with the parameters stored in `phc` (older accounts may have
    /// others) and compares in constant time (`Output`'s equality).
    fn verify_now(&self, password: &[u8], phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        let computed = self.with_memory(argon.params().block_count(), |blocks| {
            argon.hash_password_into_with_memory(password, salt, &mut out, blocks)
        });
        computed.is_ok() && Output::new(&out).is_ok_and(|computed| &computed == expected)
    }

    /// Runs `work` on the kept working area, grown to `blocks` if needed. A second hash at
    /// the same time (local runs; Lambda sends a container one request at a time) gets an
    /// area of its own rather than waiting.
    fn with_memory<R>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> R) -> R {
        let mut kept = match self.memory.try_lock() {
            Ok(kept) => kept,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return work(&mut vec![Block::default(); blocks]),
        };
        if kept.len() < blocks {
            kept.resize(blocks, Block::default());
        }
        work(&mut kept[..blocks])
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
        assert!(!passwords.verify("wrong horse battery", None).await);
        assert_eq!(passwords.clone().verifications(), 2, "the dummy's is not counted");
        assert_eq!(passwords.runs(), 3, "but it is work like the others");
        // the PHC string is the standard one: the argon2 crate's own verifier accepts it
        use argon2::password_hash::PasswordVerifier as _;
        let argon = Argon2::default();
        assert!(
            argon
                .verify_password(b"correct horse battery", hash.as_str())
                .is_ok()
        );
        assert!(
            argon
                .verify_password(b"wrong horse battery", hash.as_str())
                .is_err()
        );
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

    #[tokio::test]
    async fn hashes_from_the_argon2_crate_still_verify() {
        // Accounts created before the working area was kept, and other parameters.
        use argon2::password_hash::PasswordHasher as _;
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        );
        let hash = older
            .hash_password_with_salt(b"an older password", b"0123456789abcdef")
            .unwrap()
            .to_string();
        let passwords = Passwords::default();
        assert!(passwords.verify("an older password", Some(&hash)).await);
        assert!(!passwords.verify("an older passworD", Some(&hash)).await);
    }

    #[tokio::test]
    async fn concurrent_hashes_each_get_a_working_area() {
        let passwords = Passwords::default();
        let hashes = futures::future::join_all((0..4).map(|i| {
            let passwords = passwords.clone();
            async move { passwords.hash(&format!("password number {i}")).await.unwrap() }
        }))
        .await;
        for (i, hash) in hashes.iter().enumerate() {
            assert!(
                passwords
                    .verify(&format!("password number {i}"), Some(hash))
                    .await
            );
        }
        assert_eq!(passwords.memory.lock().unwrap().len(), 19 * 1024);
    }
}
