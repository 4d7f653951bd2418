//! Request bodies and token pairs hold passwords and tokens: their `Debug` (what a log
//! line, a `{:?}` or a panic message shows) names every field but never prints a secret.
//! (The use-case layer's requests and token pair have no `Debug` at all.)

use login::auth::TokenPair;
use login::routes::{LoginBody, RefreshBody, SignupBody};

const PASSWORD: &str = "correct horse battery staple";
const ACCESS: &str = "eyJhbGciOiJSUzI1NiJ9.access-token-body.signature";
const REFRESH: &str = "01JC0000000000000000000001.family.refresh-secret-256-bits";

fn shows_no_secret(debug: String, secrets: &[&str], shown: &[&str]) {
    for secret in secrets {
        assert!(!debug.contains(secret), "{debug} shows {secret}");
    }
    assert!(debug.contains("[redacted]"), "{debug}");
    for field in shown {
        assert!(debug.contains(field), "{debug} lacks {field}");
    }
}

#[test]
fn signup_and_login_requests_hide_the_password() {
    let body = SignupBody {
        email: Some("kim@example.com".into()),
        password: Some(PASSWORD.into()),
        name: Some("Kim".into()),
        user_type: Some("runner".into()),
    };
    shows_no_secret(format!("{body:#?}"), &[PASSWORD], &["kim@example.com"]);
    let body = LoginBody {
        email: Some("kim@example.com".into()),
        password: Some(PASSWORD.into()),
    };
    shows_no_secret(format!("{body:?}"), &[PASSWORD], &["kim@example.com"]);
}

#[test]
fn refresh_requests_and_token_pairs_hide_the_tokens() {
    let body = RefreshBody {
        refresh_token: Some(REFRESH.into()),
    };
    shows_no_secret(format!("{body:?}"), &[REFRESH], &["refresh_token"]);
    let pair = TokenPair {
        access_token: ACCESS.into(),
        refresh_token: REFRESH.into(),
        token_type: "Bearer",
        expires_in: 900,
    };
    let view = login::routes::TokenPair::from(pair);
    shows_no_secret(format!("{view:?}"), &[ACCESS, REFRESH], &["Bearer", "900"]);
}
