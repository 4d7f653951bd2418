//! Access tokens (RS256 JWT) and refresh-token helpers.
//!
//! Only login holds the private key ([`TokenSigner`]); every other function verifies with the
//! public key or the JWKS login publishes ([`TokenVerifier`]). Both are built once per
//! container, during init: parsing and checking keys, the kid and the JWKS happen there, so a
//! request pays only for one signature or one verification.
//!
//! Refresh tokens are opaque: see [`refresh`].

mod claims;
mod error;
mod jwks;
pub mod refresh;
mod signer;
mod verifier;

use time::Duration;

pub use error::{KeyError, TokenError};
pub use jwks::{Jwk, Jwks};
pub use signer::{IssuedAccess, TokenSigner};
pub use verifier::{AccessClaims, CACHE_CAPACITY, TokenVerifier};

/// How long an access token lives unless configured otherwise.
pub const DEFAULT_ACCESS_TTL: Duration = Duration::minutes(15);

/// Clock skew tolerated between the signer and a verifier, for `exp` and `iat`.
pub const LEEWAY: Duration = Duration::seconds(30);

/// Who issues tokens, for whom, and for how long. Signer and verifiers must agree on
/// `issuer` and `audience`; only the signer uses `access_ttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
}

impl TokenConfig {
    /// A config with the default 15-minute access token lifetime.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            access_ttl: DEFAULT_ACCESS_TTL,
        }
    }

    /// Misconfiguration fails at cold start, not on the first request.
    fn check(&self) -> Result<(), KeyError> {
        if self.issuer.trim().is_empty() {
            return Err(KeyError::Config("issuer must not be empty"));
        }
        if self.audience.trim().is_empty() {
            return Err(KeyError::Config("audience must not be empty"));
        }
        if self.access_ttl < Duration::SECOND {
            return Err(KeyError::Config("access_ttl must be at least one second"));
        }
        Ok(())
    }
}

/// The label of the first PEM block (`-----BEGIN <label>-----`). jsonwebtoken's PEM loaders
/// do not tell private from public keys (`EncodingKey::from_rsa_pem` takes a `PUBLIC KEY`),
/// so the signer and verifier check the label themselves.
fn pem_label(pem: &str) -> Option<&str> {
    let (_, rest) = pem.split_once("-----BEGIN ")?;
    let (label, _) = rest.split_once("-----")?;
    Some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_label_is_the_first_begin_line() {
        assert_eq!(
            pem_label("-----BEGIN PUBLIC KEY-----\nAA==\n"),
            Some("PUBLIC KEY")
        );
        assert_eq!(
            pem_label("junk\n-----BEGIN RSA PRIVATE KEY-----"),
            Some("RSA PRIVATE KEY")
        );
        assert_eq!(pem_label("-----BEGIN PRIVATE KEY"), None);
        assert_eq!(pem_label("no pem"), None);
    }

    #[test]
    fn default_ttl_is_fifteen_minutes() {
        let config = TokenConfig::new("iss", "aud");
        assert_eq!(config.access_ttl, Duration::minutes(15));
        assert_eq!(config.check(), Ok(()));
    }

    #[test]
    fn config_rejects_empty_names_and_useless_ttl() {
        assert!(TokenConfig::new(" ", "aud").check().is_err());
        assert!(TokenConfig::new("iss", "").check().is_err());
        let mut config = TokenConfig::new("iss", "aud");
        config.access_ttl = Duration::milliseconds(500);
        assert!(config.check().is_err());
        config.access_ttl = Duration::seconds(-60);
        assert!(config.check().is_err());
    }
}
