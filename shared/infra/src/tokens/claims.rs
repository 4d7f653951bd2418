//! The access token payload as it travels: one place for the claim names.

use serde::{Deserialize, Serialize};

/// `typ` of an access token; refresh tokens are opaque and never JWTs, but a JWT of any other
/// `typ` (ours or someone else's) must not pass as an access token.
pub(super) const ACCESS_TYP: &str = "access";

#[derive(Serialize)]
pub(super) struct OutgoingClaims<'a> {
    pub iss: &'a str,
    pub aud: &'a str,
    pub sub: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub jti: &'a str,
    pub typ: &'a str,
    pub role: &'a str,
    /// Whether the account's address is verified (login sets it; absent in older tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// Every field optional, so a missing claim is reported by name instead of as a JSON error.
#[derive(Deserialize)]
pub(super) struct IncomingClaims {
    pub iss: Option<String>,
    pub aud: Option<Audience>,
    pub sub: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub typ: Option<String>,
    pub role: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
}

/// RFC 7519 §4.1.3: one audience as a string, or several as an array.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(one) => one == audience,
            Self::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}
