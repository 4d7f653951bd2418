//! Verifying access tokens (every function that serves authenticated requests).

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::rsa::PublicKey;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{Role, UserId};
use jsonwebtoken::DecodingKey;
use lru::LruCache;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::claims::{ACCESS_TYP, IncomingClaims};
use super::jwks::{Jwks, thumbprint};
use super::{KeyError, LEEWAY, TokenConfig, TokenError, pem_label};

/// Ours are about 700 bytes; refusing huge input first keeps decoding cheap for garbage.
const MAX_TOKEN_LEN: usize = 4096;

/// Verified tokens kept per verifier (per container): a runner's app sends the same access
/// token with every request for its 15 minutes, and one container serves few people at a
/// time. At most about 1 MiB (a token and its claims are under 1 KiB).
pub const CACHE_CAPACITY: usize = 1024;

/// What a verified access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: UserId,
    pub role: Role,
    pub jti: String,
    pub iat: OffsetDateTime,
    pub exp: OffsetDateTime,
    /// The `email_verified` claim: None in tokens issued before login set it.
    pub email_verified: Option<bool>,
}

/// Verifies RS256 access tokens against one or more public keys. Build it once per container.
///
/// The signature is checked with aws-lc directly, against a key parsed once: jsonwebtoken's
/// `decode` rebuilds the RSA key from its components for every token, which cost about
/// 25 µs of the 42 µs a verification took (BENCHMARKS.md, `verify-token`).
///
/// A verified token is remembered (keyed by the whole token, so a single changed byte is
/// another token, verified in full): its next uses skip the RSA verification, which was 46
/// of create-record's 77 µs (BENCHMARKS.md). A remembered token is served only while the key
/// that verified it is still one of this verifier's keys and its `exp` (and `iat`) still
/// pass at the caller's `now`, with the same leeway as a full verification.
pub struct TokenVerifier {
    keys: Vec<VerifyingKey>,
    config: TokenConfig,
    verified: Mutex<LruCache<String, Verified>>,
}

/// A token verified before, and which key verified it.
#[derive(Clone)]
struct Verified {
    claims: AccessClaims,
    key: KeyId,
}

/// Unique to one parsed key in this process: a key loaded again (a rotation back to the
/// same kid, or the same key material) is another, so nothing verified by the old one is
/// served after a rotation, whatever the kids say.
type KeyId = u64;

fn next_key_id() -> KeyId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

struct VerifyingKey {
    id: KeyId,
    kid: String,
    key: ParsedPublicKey,
}

/// Only what is needed before choosing a key.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

impl TokenVerifier {
    /// From an SPKI PEM (`PUBLIC KEY`) holding an RSA key of 2048 to 8192 bits.
    /// The kid is the key's thumbprint, as the signer computes it.
    pub fn from_public_pem(pem: &str, config: TokenConfig) -> Result<Self, KeyError> {
        if !matches!(pem_label(pem), Some("PUBLIC KEY")) {
            return Err(KeyError::NotRsaPem);
        }
        let der = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| KeyError::NotRsaPem)?;
        let der = der.try_get_as_bytes().map_err(|_| KeyError::NotRsaPem)?;
        // jsonwebtoken does not look inside the DER; aws-lc does
        let public = PublicKey::from_der(der).map_err(|_| KeyError::NotRsaPem)?;
        let components = RsaPublicKeyComponents::<Vec<u8>>::from(&public);
        let key = VerifyingKey::new(&components.n, &components.e, None)?;
        Self::new(vec![key], config)
    }

    /// From a JWKS document: every RS256 signing key in it is accepted. Keys of other kinds
    /// are skipped; an RS256 key that is malformed or too small fails the whole document.
    pub fn from_jwks(jwks: &Jwks, config: TokenConfig) -> Result<Self, KeyError> {
        let mut keys: Vec<VerifyingKey> = Vec::new();
        for jwk in jwks.keys.iter().filter(|jwk| jwk.is_rs256_signing_key()) {
            let (Some(n), Some(e)) = (&jwk.n, &jwk.e) else {
                return Err(KeyError::Invalid("RSA JWK without n or e"));
            };
            let decode = |part: &str| {
                URL_SAFE_NO_PAD
                    .decode(part)
                    .map_err(|_| KeyError::Invalid("JWK n or e is not base64url"))
            };
            let key = VerifyingKey::new(&decode(n)?, &decode(e)?, jwk.kid.clone())?;
            if keys.iter().any(|known| known.kid == key.kid) {
                return Err(KeyError::DuplicateKid(key.kid));
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(KeyError::NoUsableKey);
        }
        Self::new(keys, config)
    }

    fn new(keys: Vec<VerifyingKey>, config: TokenConfig) -> Result<Self, KeyError> {
        config.check()?;
        let capacity = NonZeroUsize::new(CACHE_CAPACITY).ok_or(KeyError::Config("no cache"))?;
        Ok(Self {
            keys,
            config,
            verified: Mutex::new(LruCache::new(capacity)),
        })
    }

    /// Replaces the accepted keys with the RS256 signing keys of `jwks` (for a container
    /// that reloads the JWKS; none does today: a new key pair means new containers). No
    /// token remembered before is served again from memory: every use of a remembered token
    /// checks that the very key object that verified it is still here, and these are new.
    pub fn rotate(&mut self, jwks: &Jwks) -> Result<(), KeyError> {
        let rotated = Self::from_jwks(jwks, self.config.clone())?;
        self.keys = rotated.keys;
        Ok(())
    }

    /// Checks an access token at time `now`: algorithm RS256 only, signature by a known key
    /// (chosen by kid when the token has one), iss, aud, exp and iat (with [`LEEWAY`]),
    /// `typ` = access, and well-formed sub, role and jti. A token verified before by a key
    /// still accepted is served from memory, its time claims checked again at `now`.
    pub fn verify_access(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        if let Some(known) = self.remembered(token) {
            if self.keys.iter().any(|key| key.id == known.key) {
                check_times(
                    known.claims.iat.unix_timestamp(),
                    known.claims.exp.unix_timestamp(),
                    now,
                )?;
                return Ok(known.claims);
            }
            // its key was rotated out: forget it; the full check below says why it fails
            self.forget(token);
        }
        let (claims, key) = self.verify_in_full(token, now)?;
        if let Ok(mut verified) = self.verified.lock() {
            verified.put(
                token.to_owned(),
                Verified {
                    claims: claims.clone(),
                    key,
                },
            );
        }
        Ok(claims)
    }

    /// Remembers at most `capacity` tokens instead of [`CACHE_CAPACITY`]; forgets those
    /// remembered so far.
    pub fn with_cache_capacity(self, capacity: NonZeroUsize) -> Self {
        Self {
            verified: Mutex::new(LruCache::new(capacity)),
            ..self
        }
    }

    /// Tokens remembered now (for tests and the bench).
    pub fn remembered_tokens(&self) -> usize {
        self.verified.lock().map(|v| v.len()).unwrap_or(0)
    }

    fn remembered(&self, token: &str) -> Option<Verified> {
        // a poisoned lock only means a panic elsewhere: verify in full instead
        self.verified.lock().ok()?.get(token).cloned()
    }

    fn forget(&self, token: &str) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.pop(token);
        }
    }

    /// The whole check (signature included); which key verified the token.
    fn verify_in_full(&self, token: &str, now: OffsetDateTime) -> Result<(AccessClaims, KeyId), TokenError> {
        let header = read_header(token)?;
        if header.alg != "RS256" {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        if header.crit.is_some() {
            // RFC 7515 §4.1.11: extensions we do not understand must not be ignored
            return Err(TokenError::Malformed);
        }
        let key = self.key_for(header.kid.as_deref())?;

        // read_header saw exactly three segments: header.payload.signature
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        key.key
            .verify_sig(signed.as_bytes(), &signature)
            .map_err(|_| TokenError::InvalidSignature)?;
        let (_, payload) = signed.split_once('.').ok_or(TokenError::Malformed)?;
        let claims: IncomingClaims = decode_segment(payload)?;

        // Every registered claim we rely on must be there; iss and aud must be ours. The
        // time claims are checked below against the caller's `now` (testable, consistent).
        for (name, present) in [
            ("exp", claims.exp.is_some()),
            ("iss", claims.iss.is_some()),
            ("aud", claims.aud.is_some()),
            ("sub", claims.sub.is_some()),
        ] {
            if !present {
                return Err(TokenError::MissingClaim(name));
            }
        }
        if claims.iss.as_deref() != Some(self.config.issuer.as_str()) {
            return Err(TokenError::WrongIssuer);
        }
        if !claims
            .aud
            .as_ref()
            .is_some_and(|aud| aud.contains(&self.config.audience))
        {
            return Err(TokenError::WrongAudience);
        }
        if claims.typ.as_deref() != Some(ACCESS_TYP) {
            return Err(TokenError::WrongType);
        }
        let exp = claims.exp.ok_or(TokenError::MissingClaim("exp"))?;
        let iat = claims.iat.ok_or(TokenError::MissingClaim("iat"))?;
        check_times(iat, exp, now)?;
        if iat >= exp {
            return Err(TokenError::InvalidClaim("iat"));
        }

        let sub = claims.sub.ok_or(TokenError::MissingClaim("sub"))?;
        let sub = UserId::parse(&sub).ok_or(TokenError::InvalidClaim("sub"))?;
        let role = claims.role.ok_or(TokenError::MissingClaim("role"))?;
        let role = Role::parse(&role).map_err(|_| TokenError::InvalidClaim("role"))?;
        let jti = claims.jti.ok_or(TokenError::MissingClaim("jti"))?;
        if ulid::Ulid::from_string(&jti).is_err() {
            return Err(TokenError::InvalidClaim("jti"));
        }

        let claims = AccessClaims {
            sub,
            role,
            jti,
            iat: timestamp(iat, "iat")?,
            exp: timestamp(exp, "exp")?,
            email_verified: claims.email_verified,
        };
        Ok((claims, key.id))
    }

    /// The kids this verifier accepts.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.kid.as_str())
    }

    fn key_for(&self, kid: Option<&str>) -> Result<&VerifyingKey, TokenError> {
        match (kid, self.keys.as_slice()) {
            (Some(kid), keys) => keys.iter().find(|key| key.kid == kid),
            // without a kid, only an unambiguous key will do: never try them all
            (None, [only]) => Some(only),
            (None, _) => None,
        }
        .ok_or(TokenError::UnknownKey)
    }
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Checks the key now, so a bad key fails the init rather than every request.
    fn new(n: &[u8], e: &[u8], kid: Option<String>) -> Result<Self, KeyError> {
        let bits = rsa_bits(n);
        if bits < 2048 {
            return Err(KeyError::TooSmall);
        }
        if bits > 8192 {
            return Err(KeyError::TooLarge);
        }
        // parsed once: rejects zero-padded or inconsistent components at init
        let key = RsaPublicKeyComponents { n, e }.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)?;
        Ok(Self {
            id: next_key_id(),
            kid: kid.unwrap_or_else(|| thumbprint(n, e)),
            key,
        })
    }
}

/// `exp` and `iat` (Unix seconds) at `now`, with [`LEEWAY`]: for a full verification and
/// for every use of a remembered token alike.
fn check_times(iat: i64, exp: i64, now: OffsetDateTime) -> Result<(), TokenError> {
    let leeway = LEEWAY.whole_seconds();
    let now = now.unix_timestamp();
    if now >= exp.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    if iat > now.saturating_add(leeway) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// Bit length of a big-endian unsigned integer.
fn rsa_bits(n: &[u8]) -> usize {
    match n.iter().position(|&byte| byte != 0) {
        Some(first) => (n.len() - first) * 8 - n[first].leading_zeros() as usize,
        None => 0,
    }
}

fn read_header(token: &str) -> Result<RawHeader, TokenError> {
    if token.len() > MAX_TOKEN_LEN || token.bytes().filter(|&b| b == b'.').count() != 2 {
        return Err(TokenError::Malformed);
    }
    let (segment, _) = token.split_once('.').ok_or(TokenError::Malformed)?;
    decode_segment(segment)
}

/// A base64url JSON segment of a JWT.
fn decode_segment<T: DeserializeOwned>(segment: &str) -> Result<T, TokenError> {
    let json = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
}

fn timestamp(seconds: i64, claim: &'static str) -> Result<OffsetDateTime, TokenError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| TokenError::InvalidClaim(claim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_bits_counts_from_the_first_set_bit() {
        assert_eq!(rsa_bits(&[]), 0);
        assert_eq!(rsa_bits(&[0, 0]), 0);
        assert_eq!(rsa_bits(&[1]), 1);
        assert_eq!(rsa_bits(&[0, 0x80, 0]), 16);
        assert_eq!(rsa_bits(&[0x7f; 256]), 2047);
        assert_eq!(rsa_bits(&[0xff; 256]), 2048);
    }

    #[test]
    fn header_needs_three_segments_and_json() {
        assert_eq!(read_header("a.b").err(), Some(TokenError::Malformed));
        assert_eq!(read_header("a.b.c.d").err(), Some(TokenError::Malformed));
        assert_eq!(read_header("!!.b.c").err(), Some(TokenError::Malformed));
        let long = format!("{}.b.c", "a".repeat(MAX_TOKEN_LEN));
        assert_eq!(read_header(&long).err(), Some(TokenError::Malformed));
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let parsed = read_header(&format!("{header}.b.c")).unwrap();
        assert_eq!(parsed.alg, "none");
        assert!(parsed.kid.is_none());
    }
}
