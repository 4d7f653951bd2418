//! Refresh-token secrets and the hash stored in their place.
//!
//! A refresh token is opaque: 256 random bits the client sends back. The Users table keeps
//! only [`hash_token`] of it, so a leaked table does not hand out sessions.

use std::fmt::Write as _;

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const SECRET_BYTES: usize = 32;

/// A new secret: 256 bits from the system CSPRNG, base64url without padding (43 characters).
///
/// # Panics
/// If the operating system cannot provide randomness; there is no safe fallback.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of `token`, as 64 lowercase hex characters (what `sha256sum` prints, so an
/// operator can find a stored family from a token).
///
/// Safe to store, and a fast unsalted hash is enough, because the input is not a password:
/// it carries 256 bits of entropy from [`new_secret`], so there is nothing to guess and no
/// precomputed table to fear. A salt or a slow hash (argon2) would add nothing but CPU on
/// every refresh. Never pass low-entropy input here.
pub fn hash_token(token: &str) -> String {
    let hash = digest::digest(&digest::SHA256, token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in hash.as_ref() {
        // writing to a String cannot fail
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        // FIPS 180-2 test vector for "abc"
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secret_decodes_to_256_bits() {
        let secret = new_secret();
        assert_eq!(URL_SAFE_NO_PAD.decode(&secret).unwrap().len(), SECRET_BYTES);
    }
}
