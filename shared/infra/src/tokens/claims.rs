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
}

/// Every field optional, so a missing claim is reported by name instead of as a JSON error.
/// `iss` and `aud` are absent on purpose: jsonwebtoken checks them.
#[derive(Deserialize)]
pub(super) struct IncomingClaims {
    pub sub: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub typ: Option<String>,
    pub role: Option<String>,
}
