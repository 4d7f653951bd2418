//! Issuing access tokens (login only: it alone holds the private key).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{Role, UserId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use time::OffsetDateTime;

use super::claims::{ACCESS_TYP, OutgoingClaims};
use super::jwks::{Jwk, Jwks, thumbprint};
use super::{KeyError, TokenConfig, TokenError, pem_label};

/// A freshly issued access token, shaped for an OAuth-style response.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedAccess {
    pub token: String,
    /// Seconds until `exp`.
    pub expires_in: u64,
}

impl std::fmt::Debug for IssuedAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a bearer token in a log line is a credential in a log line
        f.debug_struct("IssuedAccess")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Signs RS256 access tokens. Build it once per container.
///
/// It signs with aws-lc directly instead of `jsonwebtoken::encode`, which re-parses and
/// re-checks the DER key on every call: here the key is parsed once and the header segment
/// is encoded once. Tokens are verified by jsonwebtoken (see the tests).
pub struct TokenSigner {
    key: KeyPair,
    rng: SystemRandom,
    /// base64url of `{"typ":"JWT","alg":"RS256","kid":...}`, the same for every token.
    header_segment: String,
    kid: String,
    jwks: Jwks,
    config: TokenConfig,
}

impl TokenSigner {
    /// Accepts an unencrypted PKCS#8 PEM (`PRIVATE KEY`) holding an RSA key of 2048 to 8192
    /// bits. Anything else (another label, an EC key, a weak or inconsistent key) is refused.
    pub fn from_pkcs8_pem(pem: &str, config: TokenConfig) -> Result<Self, KeyError> {
        config.check()?;
        if !matches!(pem_label(pem), Some("PRIVATE KEY")) {
            return Err(KeyError::NotRsaPem);
        }
        // jsonwebtoken only unwraps the PEM to PKCS#1 DER, without checking the key itself;
        // aws-lc parses it, checks its consistency and enforces 2048..=8192 bits.
        let der = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| KeyError::NotRsaPem)?;
        let key = KeyPair::from_der(der.as_bytes())?;

        let public = RsaPublicKeyComponents::<Vec<u8>>::from(key.public_key());
        let kid = thumbprint(&public.n, &public.e);
        let jwk = Jwk::rs256(&public.n, &public.e, &kid);

        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.clone());
        let header_json = serde_json::to_vec(&header).expect("a header of strings serializes");

        Ok(Self {
            key,
            rng: SystemRandom::new(),
            header_segment: URL_SAFE_NO_PAD.encode(header_json),
            kid,
            jwks: Jwks { keys: vec![jwk] },
            config,
        })
    }

    /// An access token for `subject`, valid from `now` for the configured ttl.
    pub fn issue_access(
        &self,
        subject: &UserId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<IssuedAccess, TokenError> {
        self.issue(subject, role, None, now)
    }

    /// The same, with the `email_verified` claim (whether the account's address is
    /// verified: an unverified organizer may not record results).
    pub fn issue_access_verified(
        &self,
        subject: &UserId,
        role: Role,
        email_verified: bool,
        now: OffsetDateTime,
    ) -> Result<IssuedAccess, TokenError> {
        self.issue(subject, role, Some(email_verified), now)
    }

    fn issue(
        &self,
        subject: &UserId,
        role: Role,
        email_verified: Option<bool>,
        now: OffsetDateTime,
    ) -> Result<IssuedAccess, TokenError> {
        let ttl = self.config.access_ttl.whole_seconds();
        let iat = now.unix_timestamp();
        let exp = iat.checked_add(ttl).ok_or(TokenError::Signing)?;
        let jti = ulid::Ulid::from_datetime(now.into()).to_string();
        let claims = OutgoingClaims {
            iss: &self.config.issuer,
            aud: &self.config.audience,
            sub: subject.as_str(),
            exp,
            iat,
            jti: &jti,
            typ: ACCESS_TYP,
            role: role.as_str(),
            email_verified,
        };
        let payload = serde_json::to_vec(&claims).map_err(|_| TokenError::Signing)?;

        let mut signature = vec![0; self.key.public_modulus_len()];
        let mut token = String::with_capacity(
            self.header_segment.len() + 2 + (payload.len() + signature.len()) * 4 / 3 + 4,
        );
        token.push_str(&self.header_segment);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), &mut signature)
            .map_err(|_| TokenError::Signing)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);

        Ok(IssuedAccess {
            token,
            // config.check() guarantees a ttl of at least one second
            expires_in: ttl.unsigned_abs(),
        })
    }

    /// RFC 7638 thumbprint of the public key, carried as `kid` in every token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWKS document, built at construction.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    pub fn config(&self) -> &TokenConfig {
        &self.config
    }
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the private key
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
