//! Why a token or a key was refused.

/// Why a token was refused. Every variant but [`TokenError::Signing`] means "401": the
/// messages name the reason and are safe to show a client; none carries key material,
/// library internals or the token itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    /// Anything but RS256, including `none` and HS256 (a key-confusion attempt).
    #[error("the token algorithm is not accepted")]
    UnsupportedAlgorithm,
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    #[error("the token signature is invalid")]
    InvalidSignature,
    #[error("the token has expired")]
    Expired,
    /// `iat` lies in the future beyond the leeway.
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token issuer is not accepted")]
    WrongIssuer,
    #[error("the token audience is not accepted")]
    WrongAudience,
    /// A JWT of another `typ`, such as `refresh`.
    #[error("the token is not an access token")]
    WrongType,
    #[error("the token lacks the {0} claim")]
    MissingClaim(&'static str),
    #[error("the token {0} claim is invalid")]
    InvalidClaim(&'static str),
    /// Issuing only, and a server fault (500), not the client's.
    #[error("the token could not be signed")]
    Signing,
}

/// Why a signer or verifier could not be built (at cold start: fail the init, loudly).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM-encoded RSA key of the expected kind")]
    NotRsaPem,
    #[error("the RSA key is too small: at least 2048 bits are required")]
    TooSmall,
    #[error("the RSA key is too large: at most 8192 bits are supported")]
    TooLarge,
    /// aws-lc's reason, e.g. `InvalidEncoding` or `InconsistentComponents`.
    #[error("the RSA key is invalid: {0}")]
    Invalid(&'static str),
    #[error("the JWKS has no RS256 signing key")]
    NoUsableKey,
    #[error("the JWKS has two keys with kid {0}")]
    DuplicateKid(String),
    #[error("invalid token config: {0}")]
    Config(&'static str),
}

impl From<aws_lc_rs::error::KeyRejected> for KeyError {
    fn from(rejected: aws_lc_rs::error::KeyRejected) -> Self {
        match rejected.description_() {
            "TooSmall" => Self::TooSmall,
            "TooLarge" => Self::TooLarge,
            other => Self::Invalid(other),
        }
    }
}
