//! Access tokens end to end: what the signer issues, what the verifier accepts, and the
//! forgeries it must refuse.

use std::sync::LazyLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use domain::{Role, UserId};
use infra::tokens::{Jwks, KeyError, TokenConfig, TokenError, TokenSigner, TokenVerifier, refresh};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const ISSUER: &str = "https://login.mrmrthon.test";
const AUDIENCE: &str = "mrmrthon-api";
const NOW: OffsetDateTime = datetime!(2025-04-20 09:00:00 UTC);

struct TestKey {
    private_pem: String,
    public_pem: String,
}

// RSA key generation is slow in a debug build: one key per role, shared by all tests.
static KEY: LazyLock<TestKey> = LazyLock::new(generate_key);
static FOREIGN_KEY: LazyLock<TestKey> = LazyLock::new(generate_key);

fn generate_key() -> TestKey {
    let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let private = pair.as_der().unwrap();
    let public = pair.public_key().as_der().unwrap();
    TestKey {
        private_pem: pem("PRIVATE KEY", private.as_ref()),
        public_pem: pem("PUBLIC KEY", public.as_ref()),
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

// A 1024-bit key made once with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024`;
// aws-lc cannot generate one. Worthless on purpose.
const WEAK_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAMWby+bfukbs4YwB
sIEh+WTUuOyM7woCd9l7QrgxbcJuger7Rpccq5or2dIVKcNVDnuNdfaiiEn7SGZ4
4HGs3WA4H6WwcXmxk3ZrLQrAulphM/BGVRPcJ4nD3QYGvWW1k+kvrhUMcY4yv8Tt
ilVhnzY21hAKDTL4TmnzeFdGWS//AgMBAAECgYAYGcVHljfI2LE1eytExJj/JDad
mx64UM6/NppPjq+9S+8KcrUMTxHazshVKAGc8i2/AeTGPNJ0e3I8FTgChTvGfngP
uGkhlMvNMdP1zGUCtmEG1YgGSgDsFLrVGF41r/Bbh9+vHdYB7UV8KljntihbVYl0
246EOMHfWkl0QQRIOQJBAO/GIETQRMUPH4r2/b4dJ5hHhYs3SoRTwpRIcmukPtnL
th1lR6ENw/FoZlbhZqU18YsbjUgC2EGVDfTTMByOme0CQQDS+zFMujiLnrLfRwFv
zb/bF3zfeQIQVX0l8VXZcnG0CKgokaqe0qWKzOX58ctgAhcZLM5gLs8w4Dzj8KAu
nEQbAkA/VJdlVZU0b2AndkFjG5Q/tnRhZwM5nF4CiHggUkt/fzzk2sFmmposgyS0
weg4rtzTnz1bzdSMze/XwIguosOpAkA9DNrTLP+3xxBTc6SCybK+nylPMSDbwSEZ
naAN8APe6LJgKuaIVsP4ShoyHTmQaopsin6dbm4d4oU8ICD529YJAkEA3ldcfwSs
z2Vo/h5L2ptv8m/7HoSebA2LTtrsEPLmiE+GcyPIeTGgGw0W7Xar59ytnB6c2UTC
a4Ol8JXJCvuoAg==
-----END PRIVATE KEY-----
";
const WEAK_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDFm8vm37pG7OGMAbCBIflk1Ljs
jO8KAnfZe0K4MW3CboHq+0aXHKuaK9nSFSnDVQ57jXX2oohJ+0hmeOBxrN1gOB+l
sHF5sZN2ay0KwLpaYTPwRlUT3CeJw90GBr1ltZPpL64VDHGOMr/E7YpVYZ82NtYQ
Cg0y+E5p83hXRlkv/wIDAQAB
-----END PUBLIC KEY-----
";

fn config() -> TokenConfig {
    TokenConfig::new(ISSUER, AUDIENCE)
}

fn signer() -> TokenSigner {
    TokenSigner::from_pkcs8_pem(&KEY.private_pem, config()).unwrap()
}

fn verifier() -> TokenVerifier {
    TokenVerifier::from_public_pem(&KEY.public_pem, config()).unwrap()
}

/// Claims a valid access token carries, for hand-built tokens to start from.
fn valid_claims() -> Value {
    let iat = NOW.unix_timestamp();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": UserId::generate().as_str(),
        "exp": iat + 900,
        "iat": iat,
        "jti": ulid::Ulid::new().to_string(),
        "typ": "access",
        "role": "runner",
    })
}

/// Signs `claims` with jsonwebtoken itself, bypassing our signer's choices.
fn hand_sign(claims: &Value, alg: Algorithm, key: &EncodingKey, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn our_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(KEY.private_pem.as_bytes()).unwrap()
}

/// `claims` signed with our key and our kid: only the claims can make it fail.
fn hand_signed(claims: &Value) -> String {
    hand_sign(claims, Algorithm::RS256, &our_key(), Some(signer().kid()))
}

fn segments(token: &str) -> Vec<&str> {
    token.split('.').collect()
}

fn decode_segment(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn encode_segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[test]
fn issued_token_round_trips_with_its_claims() {
    let signer = signer();
    let user = UserId::generate();
    let issued = signer.issue_access(&user, Role::Organizer, NOW).unwrap();
    assert_eq!(issued.expires_in, 900);

    let claims = verifier().verify_access(&issued.token, NOW).unwrap();
    assert_eq!(claims.sub, user);
    assert_eq!(claims.role, Role::Organizer);
    assert_eq!(claims.iat, NOW);
    assert_eq!(claims.exp, NOW + Duration::minutes(15));
    assert!(ulid::Ulid::from_string(&claims.jti).is_ok());

    let parts = segments(&issued.token);
    assert_eq!(
        decode_segment(parts[0]),
        json!({"alg": "RS256", "typ": "JWT", "kid": signer.kid()})
    );
    let payload = decode_segment(parts[1]);
    assert_eq!(payload["iss"], ISSUER);
    assert_eq!(payload["aud"], AUDIENCE);
    assert_eq!(payload["typ"], "access");
    assert_eq!(payload["role"], "organizer");
    assert_eq!(payload["sub"], user.as_str());
    assert!(payload.get("email_verified").is_none());
    assert_eq!(claims.email_verified, None);
}

#[test]
fn the_email_verified_claim_travels_when_set() {
    let signer = signer();
    for verified in [true, false] {
        let issued = signer
            .issue_access_verified(&UserId::generate(), Role::Organizer, verified, NOW)
            .unwrap();
        assert_eq!(
            decode_segment(segments(&issued.token)[1])["email_verified"],
            verified
        );
        let claims = verifier().verify_access(&issued.token, NOW).unwrap();
        assert_eq!(claims.email_verified, Some(verified));
    }
}

#[test]
fn each_token_gets_its_own_jti() {
    let signer = signer();
    let user = UserId::generate();
    let first = signer.issue_access(&user, Role::Runner, NOW).unwrap();
    let second = signer.issue_access(&user, Role::Runner, NOW).unwrap();
    let verifier = verifier();
    let first = verifier.verify_access(&first.token, NOW).unwrap();
    let second = verifier.verify_access(&second.token, NOW).unwrap();
    assert_ne!(first.jti, second.jti);
}

#[test]
fn configured_ttl_sets_exp_and_expires_in() {
    let mut config = config();
    config.access_ttl = Duration::minutes(5);
    let signer = TokenSigner::from_pkcs8_pem(&KEY.private_pem, config).unwrap();
    let issued = signer
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    assert_eq!(issued.expires_in, 300);
    let claims = verifier().verify_access(&issued.token, NOW).unwrap();
    assert_eq!(claims.exp, NOW + Duration::minutes(5));
}

#[test]
fn tokens_verify_from_the_published_jwks() {
    let signer = signer();
    let published = serde_json::to_string(signer.jwks()).unwrap();
    let document: Value = serde_json::from_str(&published).unwrap();
    let key = &document["keys"][0];
    assert_eq!(document["keys"].as_array().unwrap().len(), 1);
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["kid"], signer.kid());
    assert_eq!(key["e"], "AQAB");
    assert_eq!(
        URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap().len(),
        256
    );

    let jwks: Jwks = serde_json::from_str(&published).unwrap();
    let verifier = TokenVerifier::from_jwks(&jwks, config()).unwrap();
    let user = UserId::generate();
    let issued = signer.issue_access(&user, Role::Runner, NOW).unwrap();
    assert_eq!(verifier.verify_access(&issued.token, NOW).unwrap().sub, user);
}

#[test]
fn a_jwks_with_two_keys_accepts_both_signers_by_kid() {
    let ours = signer();
    let next = TokenSigner::from_pkcs8_pem(&FOREIGN_KEY.private_pem, config()).unwrap();
    let jwks = Jwks {
        keys: [ours.jwks(), next.jwks()]
            .iter()
            .flat_map(|jwks| jwks.keys.clone())
            .collect(),
    };
    let verifier = TokenVerifier::from_jwks(&jwks, config()).unwrap();
    for signer in [&ours, &next] {
        let issued = signer
            .issue_access(&UserId::generate(), Role::Runner, NOW)
            .unwrap();
        assert!(verifier.verify_access(&issued.token, NOW).is_ok());
    }
    // without a kid the key would be a guess: refused rather than tried in turn
    let no_kid = hand_sign(&valid_claims(), Algorithm::RS256, &our_key(), None);
    assert_eq!(verifier.verify_access(&no_kid, NOW), Err(TokenError::UnknownKey));
}

#[test]
fn a_hand_built_token_with_valid_claims_passes() {
    // the baseline the forgery tests below depart from
    let claims = verifier().verify_access(&hand_signed(&valid_claims()), NOW);
    assert!(claims.is_ok(), "{claims:?}");
    // a single-key verifier accepts a token without kid too
    let no_kid = hand_sign(&valid_claims(), Algorithm::RS256, &our_key(), None);
    assert!(verifier().verify_access(&no_kid, NOW).is_ok());
}

#[test]
fn tampered_payload_is_rejected() {
    let issued = signer()
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    let parts = segments(&issued.token);
    let mut payload = decode_segment(parts[1]);
    payload["role"] = json!("organizer");
    let forged = format!("{}.{}.{}", parts[0], encode_segment(&payload), parts[2]);
    assert_eq!(
        verifier().verify_access(&forged, NOW),
        Err(TokenError::InvalidSignature)
    );
}

#[test]
fn expired_token_is_rejected_after_the_leeway() {
    let issued = signer()
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    let verifier = verifier();
    let exp = NOW + Duration::minutes(15);
    assert!(verifier.verify_access(&issued.token, exp).is_ok());
    assert!(
        verifier
            .verify_access(&issued.token, exp + Duration::seconds(29))
            .is_ok()
    );
    assert_eq!(
        verifier.verify_access(&issued.token, exp + Duration::seconds(30)),
        Err(TokenError::Expired)
    );
    assert_eq!(
        verifier.verify_access(&issued.token, NOW + Duration::days(1)),
        Err(TokenError::Expired)
    );
}

#[test]
fn token_issued_in_the_future_is_rejected_beyond_the_leeway() {
    let issued = signer()
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    let verifier = verifier();
    assert!(
        verifier
            .verify_access(&issued.token, NOW - Duration::seconds(30))
            .is_ok()
    );
    assert_eq!(
        verifier.verify_access(&issued.token, NOW - Duration::seconds(31)),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn alg_none_is_rejected() {
    let header = encode_segment(&json!({"alg": "none", "typ": "JWT"}));
    let payload = encode_segment(&valid_claims());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}.c2lnbmF0dXJl"),
    ] {
        assert_eq!(
            verifier().verify_access(&token, NOW),
            Err(TokenError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_rejected() {
    // the classic key confusion: the public PEM used as an HMAC secret
    let secret = EncodingKey::from_secret(KEY.public_pem.as_bytes());
    let kid = signer().kid().to_owned();
    for kid in [Some(kid.as_str()), None] {
        let token = hand_sign(&valid_claims(), Algorithm::HS256, &secret, kid);
        assert_eq!(
            verifier().verify_access(&token, NOW),
            Err(TokenError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn other_rsa_algorithms_are_rejected_even_with_the_right_key() {
    let kid = signer().kid().to_owned();
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        let token = hand_sign(&valid_claims(), alg, &our_key(), Some(&kid));
        assert_eq!(
            verifier().verify_access(&token, NOW),
            Err(TokenError::UnsupportedAlgorithm),
            "{alg:?}"
        );
    }
}

#[test]
fn token_from_a_foreign_key_is_rejected() {
    let foreign = TokenSigner::from_pkcs8_pem(&FOREIGN_KEY.private_pem, config()).unwrap();
    let issued = foreign
        .issue_access(&UserId::generate(), Role::Organizer, NOW)
        .unwrap();
    assert_eq!(
        verifier().verify_access(&issued.token, NOW),
        Err(TokenError::UnknownKey)
    );

    // the same forgery claiming our kid, or no kid at all, fails on the signature
    let foreign_key = EncodingKey::from_rsa_pem(FOREIGN_KEY.private_pem.as_bytes()).unwrap();
    let kid = signer().kid().to_owned();
    for kid in [Some(kid.as_str()), None] {
        let token = hand_sign(&valid_claims(), Algorithm::RS256, &foreign_key, kid);
        assert_eq!(
            verifier().verify_access(&token, NOW),
            Err(TokenError::InvalidSignature)
        );
    }
}

#[test]
fn wrong_issuer_or_audience_is_rejected() {
    let verifier = verifier();
    let mut claims = valid_claims();
    claims["iss"] = json!("https://login.elsewhere.test");
    assert_eq!(
        verifier.verify_access(&hand_signed(&claims), NOW),
        Err(TokenError::WrongIssuer)
    );

    let mut claims = valid_claims();
    claims["aud"] = json!("another-api");
    assert_eq!(
        verifier.verify_access(&hand_signed(&claims), NOW),
        Err(TokenError::WrongAudience)
    );

    // RFC 7519: aud may be an array; ours must be one of its members
    let mut claims = valid_claims();
    claims["aud"] = json!(["another-api", AUDIENCE]);
    assert!(verifier.verify_access(&hand_signed(&claims), NOW).is_ok());
    claims["aud"] = json!(["another-api"]);
    assert_eq!(
        verifier.verify_access(&hand_signed(&claims), NOW),
        Err(TokenError::WrongAudience)
    );
    claims["aud"] = json!(42);
    assert_eq!(
        verifier.verify_access(&hand_signed(&claims), NOW),
        Err(TokenError::Malformed)
    );

    // and through the signer: a login configured for another audience
    let other =
        TokenSigner::from_pkcs8_pem(&KEY.private_pem, TokenConfig::new(ISSUER, "another-api")).unwrap();
    let issued = other
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    assert_eq!(
        verifier.verify_access(&issued.token, NOW),
        Err(TokenError::WrongAudience)
    );
}

#[test]
fn a_refresh_typed_jwt_is_not_an_access_token() {
    let verifier = verifier();
    for typ in [json!("refresh"), json!("Access"), json!(null)] {
        let mut claims = valid_claims();
        claims["typ"] = typ;
        assert_eq!(
            verifier.verify_access(&hand_signed(&claims), NOW),
            Err(TokenError::WrongType)
        );
    }
    let mut claims = valid_claims();
    claims.as_object_mut().unwrap().remove("typ");
    assert_eq!(
        verifier.verify_access(&hand_signed(&claims), NOW),
        Err(TokenError::WrongType)
    );
}

#[test]
fn missing_claims_are_named() {
    let verifier = verifier();
    for claim in ["sub", "iss", "aud", "exp", "iat", "jti", "role"] {
        let mut claims = valid_claims();
        claims.as_object_mut().unwrap().remove(claim);
        assert_eq!(
            verifier.verify_access(&hand_signed(&claims), NOW),
            Err(TokenError::MissingClaim(claim)),
            "without {claim}"
        );
    }
}

#[test]
fn invalid_claim_values_are_named() {
    let verifier = verifier();
    let cases = [
        ("sub", json!("USER#01HX")),
        ("role", json!("admin")),
        ("jti", json!("not-a-ulid")),
    ];
    for (claim, value) in cases {
        let mut claims = valid_claims();
        claims[claim] = value;
        assert_eq!(
            verifier.verify_access(&hand_signed(&claims), NOW),
            Err(TokenError::InvalidClaim(claim)),
            "{claim}"
        );
    }
    // not expired yet (leeway) and not in the future, but issued no earlier than it expires
    let mut claims = valid_claims();
    claims["exp"] = claims["iat"].clone();
    assert_eq!(
        verifier.verify_access(&hand_signed(&claims), NOW),
        Err(TokenError::InvalidClaim("iat"))
    );
}

#[test]
fn garbage_is_malformed() {
    let verifier = verifier();
    let token = signer()
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap()
        .token;
    let truncated = &token[..token.rfind('.').unwrap()];
    for garbage in ["", "Bearer", "a.b.c", "...", truncated] {
        assert_eq!(
            verifier.verify_access(garbage, NOW),
            Err(TokenError::Malformed),
            "{garbage:?}"
        );
    }
}

#[test]
fn signer_refuses_what_is_not_a_strong_rsa_private_key() {
    let refuse = |pem: &str| TokenSigner::from_pkcs8_pem(pem, config()).err();
    assert_eq!(refuse("not a key"), Some(KeyError::NotRsaPem));
    assert_eq!(
        refuse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        Some(KeyError::NotRsaPem)
    );
    assert_eq!(refuse(&KEY.public_pem), Some(KeyError::NotRsaPem));
    assert_eq!(refuse(WEAK_PRIVATE_PEM), Some(KeyError::TooSmall));

    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    assert_eq!(
        refuse(&pem("PRIVATE KEY", ec.as_ref())),
        Some(KeyError::NotRsaPem)
    );

    let err = TokenSigner::from_pkcs8_pem(&KEY.private_pem, TokenConfig::new("", AUDIENCE));
    assert!(matches!(err, Err(KeyError::Config(_))));
}

#[test]
fn verifier_refuses_weak_or_wrong_keys() {
    let from_pem = |pem: &str| TokenVerifier::from_public_pem(pem, config()).err();
    assert_eq!(from_pem("garbage"), Some(KeyError::NotRsaPem));
    assert_eq!(from_pem(&KEY.private_pem), Some(KeyError::NotRsaPem));
    assert_eq!(from_pem(WEAK_PUBLIC_PEM), Some(KeyError::TooSmall));

    let from_jwks = |jwks: Value| {
        let jwks: Jwks = serde_json::from_value(jwks).unwrap();
        TokenVerifier::from_jwks(&jwks, config()).err()
    };
    assert_eq!(from_jwks(json!({"keys": []})), Some(KeyError::NoUsableKey));
    assert_eq!(
        from_jwks(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
        Some(KeyError::NoUsableKey)
    );
    // the weak key's modulus, published as a JWK
    let weak_n = "xZvL5t-6RuzhjAGwgSH5ZNS47IzvCgJ32XtCuDFtwm6B6vtGlxyrmivZ0hUpw1UOe4119qKISftIZnjgcazdYDgfpbBxebGTdmstCsC6WmEz8EZVE9wnicPdBga9ZbWT6S-uFQxxjjK_xO2KVWGfNjbWEAoNMvhOafN4V0ZZL_8";
    assert_eq!(
        from_jwks(json!({"keys": [{"kty": "RSA", "n": weak_n, "e": "AQAB"}]})),
        Some(KeyError::TooSmall)
    );

    let signer = signer();
    let mut keys = signer.jwks().keys.clone();
    keys.extend(signer.jwks().keys.clone());
    assert_eq!(
        TokenVerifier::from_jwks(&Jwks { keys }, config()).err(),
        Some(KeyError::DuplicateKid(signer.kid().to_owned()))
    );
}

#[test]
fn kid_is_stable_per_key_and_differs_between_keys() {
    let first = signer();
    let again = signer();
    let foreign = TokenSigner::from_pkcs8_pem(&FOREIGN_KEY.private_pem, config()).unwrap();
    assert_eq!(first.kid(), again.kid());
    assert_ne!(first.kid(), foreign.kid());
    // a SHA-256 thumbprint in base64url
    assert_eq!(first.kid().len(), 43);
    // the verifier derives the same kid from the public key alone
    assert_eq!(verifier().kids().collect::<Vec<_>>(), [first.kid()]);
}

#[test]
fn debug_output_leaks_neither_key_nor_token() {
    let signer = signer();
    let issued = signer
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    let signature = segments(&issued.token)[2].to_owned();
    assert!(!format!("{issued:?}").contains(&signature));
    let key_body = KEY.private_pem.lines().nth(1).unwrap();
    assert!(!format!("{signer:?}").contains(key_body));
    assert!(format!("{signer:?}").contains(signer.kid()));
}

#[test]
fn refresh_secrets_are_43_url_safe_chars_and_distinct() {
    let secrets: Vec<String> = (0..100).map(|_| refresh::new_secret()).collect();
    for secret in &secrets {
        assert_eq!(secret.len(), 43);
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{secret}"
        );
        // fits what domain::refresh::RefreshToken::parse accepts
        assert!(
            domain::refresh::RefreshToken::parse(&format!(
                "{}.{}.{secret}",
                UserId::generate(),
                ulid::Ulid::new()
            ))
            .is_some()
        );
    }
    let distinct: std::collections::HashSet<&String> = secrets.iter().collect();
    assert_eq!(distinct.len(), secrets.len());
}

#[test]
fn refresh_hash_is_deterministic_and_input_sensitive() {
    let secret = refresh::new_secret();
    let hash = refresh::hash_token(&secret);
    assert_eq!(hash, refresh::hash_token(&secret));
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_ne!(hash, refresh::hash_token(&refresh::new_secret()));
    assert_ne!(refresh::hash_token("a"), refresh::hash_token("b"));
    assert!(!hash.contains(&secret));
}

// Handlers share one signer/verifier across concurrent requests: this fails to compile if
// either stops being Send + Sync.
const _: fn() = || {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<TokenSigner>();
    shareable::<TokenVerifier>();
};

// The verified-token cache: a token is remembered only once it passed in full, and every
// later use checks its expiry (and iat) again and that its key is still accepted.

#[test]
fn a_remembered_token_is_served_again_with_the_same_claims() {
    let verifier = verifier();
    let issued = signer()
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    let first = verifier.verify_access(&issued.token, NOW).unwrap();
    assert_eq!(verifier.remembered_tokens(), 1);
    let again = verifier
        .verify_access(&issued.token, NOW + Duration::minutes(5))
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(verifier.remembered_tokens(), 1);
}

#[test]
fn an_expired_token_is_never_served_from_the_cache() {
    let verifier = verifier();
    let issued = signer()
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    assert!(verifier.verify_access(&issued.token, NOW).is_ok());
    assert_eq!(verifier.remembered_tokens(), 1);
    // exp is NOW + 15 min; the leeway is 30 s, exactly as a full verification allows
    let exp = NOW + Duration::minutes(15);
    assert!(
        verifier
            .verify_access(&issued.token, exp + Duration::seconds(29))
            .is_ok()
    );
    assert_eq!(
        verifier.verify_access(&issued.token, exp + Duration::seconds(30)),
        Err(TokenError::Expired)
    );
    assert_eq!(
        verifier.verify_access(&issued.token, exp + Duration::hours(2)),
        Err(TokenError::Expired)
    );
    // and a fresh verifier, which never saw it, says the same
    assert_eq!(
        self::verifier().verify_access(&issued.token, exp + Duration::hours(2)),
        Err(TokenError::Expired)
    );
    // a remembered token used before its iat (a clock gone back) is refused as well
    assert_eq!(
        verifier.verify_access(&issued.token, NOW - Duration::minutes(5)),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn a_token_whose_key_was_rotated_out_is_never_served_from_the_cache() {
    let ours = signer();
    let next = TokenSigner::from_pkcs8_pem(&FOREIGN_KEY.private_pem, config()).unwrap();
    let both = Jwks {
        keys: [ours.jwks(), next.jwks()]
            .iter()
            .flat_map(|jwks| jwks.keys.clone())
            .collect(),
    };
    let mut verifier = TokenVerifier::from_jwks(&both, config()).unwrap();
    let old = ours.issue_access(&UserId::generate(), Role::Runner, NOW).unwrap();
    let new = next.issue_access(&UserId::generate(), Role::Runner, NOW).unwrap();
    assert!(verifier.verify_access(&old.token, NOW).is_ok());
    assert!(verifier.verify_access(&new.token, NOW).is_ok());
    assert_eq!(verifier.remembered_tokens(), 2);

    // our key leaves the JWKS: its token is refused although it was remembered and valid
    verifier.rotate(next.jwks()).unwrap();
    assert_eq!(
        verifier.verify_access(&old.token, NOW),
        Err(TokenError::UnknownKey)
    );
    assert_eq!(
        verifier.verify_access(&old.token, NOW),
        Err(TokenError::UnknownKey)
    );
    // the surviving key's token still passes (verified again: the key objects are new)
    assert!(verifier.verify_access(&new.token, NOW).is_ok());

    // even a key that comes back under the same kid is another key: nothing remembered
    // from before is served, every token is verified in full again
    verifier.rotate(&both).unwrap();
    let forged_kid = {
        // a token signed by a key the verifier never accepted, under our kid
        let mut claims = valid_claims();
        claims["sub"] = json!(UserId::generate().as_str());
        hand_sign(
            &claims,
            Algorithm::RS256,
            &EncodingKey::from_rsa_pem(FOREIGN_KEY.private_pem.as_bytes()).unwrap(),
            Some(ours.kid()),
        )
    };
    assert_eq!(
        verifier.verify_access(&forged_kid, NOW),
        Err(TokenError::InvalidSignature)
    );
    assert!(verifier.verify_access(&old.token, NOW).is_ok());
}

#[test]
fn refused_tokens_are_not_remembered_and_a_changed_byte_is_another_token() {
    let verifier = verifier();
    let issued = signer()
        .issue_access(&UserId::generate(), Role::Runner, NOW)
        .unwrap();
    assert!(verifier.verify_access(&issued.token, NOW).is_ok());
    // the same token with its signature's last character changed: verified in full, refused
    // (inside the signature: its last character also carries padding bits)
    let mut bytes = issued.token.clone().into_bytes();
    let at = bytes.len() - 10;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        verifier.verify_access(&tampered, NOW),
        Err(TokenError::InvalidSignature)
    );
    assert_eq!(
        verifier.verify_access(&tampered, NOW),
        Err(TokenError::InvalidSignature)
    );
    assert_eq!(verifier.remembered_tokens(), 1);
}

#[test]
fn the_cache_is_bounded() {
    assert_eq!(infra::tokens::CACHE_CAPACITY, 1024);
    let verifier = verifier().with_cache_capacity(std::num::NonZeroUsize::new(3).unwrap());
    let tokens: Vec<String> = (0..4).map(|_| hand_signed(&valid_claims())).collect();
    for token in &tokens {
        assert!(verifier.verify_access(token, NOW).is_ok());
    }
    assert_eq!(verifier.remembered_tokens(), 3);
    // the least recently used (the first) went out; it still verifies, in full
    assert!(verifier.verify_access(&tokens[0], NOW).is_ok());
    assert_eq!(verifier.remembered_tokens(), 3);
}
