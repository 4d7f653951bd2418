//! The JWKS document login publishes and verifiers read (RFC 7517), and the RFC 7638 kid.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// `{"keys":[...]}`. Serialize it as is to publish it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One public key. Only the members an RSA signing key uses are modelled; a JWKS that also
/// holds other kinds of keys still parses (their `n`/`e` are absent and they are skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Modulus, base64url of its big-endian bytes without leading zeros.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// Public exponent, same encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

impl Jwk {
    /// The published form of an RS256 signing key.
    pub(super) fn rs256(n: &[u8], e: &[u8], kid: &str) -> Self {
        Self {
            kty: "RSA".to_owned(),
            key_use: Some("sig".to_owned()),
            alg: Some("RS256".to_owned()),
            kid: Some(kid.to_owned()),
            n: Some(URL_SAFE_NO_PAD.encode(n)),
            e: Some(URL_SAFE_NO_PAD.encode(e)),
        }
    }

    /// Whether this entry is meant for RS256 signatures; others are not ours to use.
    pub(super) fn is_rs256_signing_key(&self) -> bool {
        self.kty == "RSA"
            && self.alg.as_deref().is_none_or(|alg| alg == "RS256")
            && self.key_use.as_deref().is_none_or(|key_use| key_use == "sig")
    }
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key. Computed from the key
/// bytes, never from a JWK's strings, so the canonical JSON cannot be forged or mis-encoded.
pub(super) fn thumbprint(n: &[u8], e: &[u8]) -> String {
    // RFC 7638 §3.2: required members only, in lexicographic order, no whitespace.
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(e),
        URL_SAFE_NO_PAD.encode(n)
    );
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example key of RFC 7638 §3.1 and the thumbprint the RFC gives for it.
    const RFC_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    const RFC_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        let n = URL_SAFE_NO_PAD.decode(RFC_N).unwrap();
        let e = URL_SAFE_NO_PAD.decode("AQAB").unwrap();
        assert_eq!(thumbprint(&n, &e), RFC_THUMBPRINT);
    }

    #[test]
    fn rs256_jwk_serializes_to_the_published_shape() {
        let n = URL_SAFE_NO_PAD.decode(RFC_N).unwrap();
        let jwk = Jwk::rs256(&n, &[1, 0, 1], &thumbprint(&n, &[1, 0, 1]));
        let json = serde_json::to_value(Jwks { keys: vec![jwk] }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"keys": [{
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": RFC_THUMBPRINT,
                "n": RFC_N, "e": "AQAB"
            }]})
        );
    }

    #[test]
    fn foreign_keys_parse_and_are_not_rs256_signing_keys() {
        let jwks: Jwks = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "alg": "PS256", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
        ]}))
        .unwrap();
        let usable: Vec<bool> = jwks.keys.iter().map(Jwk::is_rs256_signing_key).collect();
        assert_eq!(usable, [false, false, false, true]);
    }
}
