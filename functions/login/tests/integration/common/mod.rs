//! Shared by the handler tests (ports in memory) and the emulator tests (DynamoDB): the
//! same scenarios, driven through the router with API Gateway events from events/login/.

#![allow(dead_code)]

pub mod scenarios;

use std::sync::Arc;

use axum::Router;
use domain::Clock;
use domain::lockout::LockoutPolicy;
use domain::memory::ManualClock;
use domain::ports::UserStore;
use infra::passwords::Passwords;
use infra::tokens::{TokenConfig, TokenSigner, TokenVerifier};
use login::Auth;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

pub const PASSWORD: &str = "correct horse battery";

pub struct App {
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub verifier: TokenVerifier,
    /// Shares the service's counter of password verifications.
    pub passwords: Passwords,
    pub lockout: LockoutPolicy,
    pub source_policy: domain::source_throttle::SourcePolicy,
}

pub fn token_config() -> TokenConfig {
    TokenConfig {
        issuer: "https://auth.mrmrthon.test".into(),
        audience: "mrmrthon-api".into(),
        access_ttl: Duration::minutes(15),
    }
}

/// The login router over `users`, with a fresh key and a clock the test controls.
pub fn app(users: Arc<dyn UserStore>, private_pem: &str, public_pem: &str) -> App {
    let verifier = TokenVerifier::from_public_pem(public_pem, token_config()).expect("test key is valid");
    let auth = Auth {
        users,
        signer: TokenSigner::from_pkcs8_pem(private_pem, token_config()).expect("test key is valid"),
        verifier: TokenVerifier::from_public_pem(public_pem, token_config()).expect("test key is valid"),
        passwords: Passwords::default(),
        clock: Arc::new(domain::SystemClock),
        lockout: LockoutPolicy::default(),
        sources: Arc::new(domain::memory::MemorySources::default()),
        source_policy: domain::source_throttle::SourcePolicy::default(),
        session_lifetime: domain::refresh::SESSION_LIFETIME,
    };
    with_test_clock(auth, verifier)
}

/// Puts a hand-moved clock into `auth`.
pub fn with_test_clock(mut auth: Auth, verifier: TokenVerifier) -> App {
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    auth.clock = clock.clone() as Arc<dyn Clock>;
    App {
        passwords: auth.passwords.clone(),
        lockout: auth.lockout,
        source_policy: auth.source_policy,
        router: login::router(Arc::new(auth)),
        clock,
        verifier,
    }
}

/// A sample event from events/login/.
pub fn event(name: &str) -> Value {
    let path = format!("{}/../../events/login/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&raw).expect("sample events are JSON")
}

pub fn with_body(mut event: Value, body: &Value) -> Value {
    event["body"] = Value::String(body.to_string());
    event
}

pub fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    event["headers"][name] = Value::String(value.to_owned());
    event
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn problem_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

/// Runs an API Gateway v2 event through lambda_http's conversion and the router.
pub async fn call(router: &Router, event: &Value) -> Reply {
    let (head, bytes) = local::router::respond(router.clone(), event)
        .await
        .expect("a valid API Gateway event, and the router is infallible");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply {
        status: head.status.as_u16(),
        headers: head.headers,
        body,
    }
}

pub fn unique_email(tag: &str) -> String {
    format!(
        "{tag}.{}@Example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

pub async fn signup(router: &Router, email: &str, user_type: &str) -> Reply {
    let body = json!({ "email": email, "password": PASSWORD, "name": "김러너", "user_type": user_type });
    call(router, &with_body(event("signup.json"), &body)).await
}

/// A login from an address of its own: the scenarios about accounts are not about the
/// per-source count (`login_from` is).
pub async fn login(router: &Router, email: &str, password: &str) -> Reply {
    login_from(router, email, password, &random_source()).await
}

pub async fn login_from(router: &Router, email: &str, password: &str, source_ip: &str) -> Reply {
    let mut event = with_body(
        event("login.json"),
        &json!({ "email": email, "password": password }),
    );
    event["requestContext"]["http"]["sourceIp"] = Value::String(source_ip.to_owned());
    call(router, &event).await
}

/// A fresh /64 in the documentation prefix (2001:db8::/32): counted apart from every
/// other test's, in this run and in earlier ones the emulator still remembers.
pub fn random_source() -> String {
    let bits = ulid::Ulid::new().random();
    format!("2001:db8:{:x}:{:x}::1", (bits >> 16) & 0xffff, bits & 0xffff)
}

pub async fn refresh(router: &Router, token: &str) -> Reply {
    call(
        router,
        &with_body(event("refresh.json"), &json!({ "refresh_token": token })),
    )
    .await
}

pub async fn logout(router: &Router, token: &str) -> Reply {
    call(
        router,
        &with_body(event("logout.json"), &json!({ "refresh_token": token })),
    )
    .await
}

pub async fn change_password(router: &Router, access: &str, current: &str, new: &str) -> Reply {
    let body = json!({ "current_password": current, "new_password": new });
    let event = with_header(
        with_body(event("password.json"), &body),
        "authorization",
        &format!("Bearer {access}"),
    );
    call(router, &event).await
}

pub async fn delete_account(router: &Router, access: &str, password: &str) -> Reply {
    let event = with_header(
        with_body(event("delete-account.json"), &json!({ "password": password })),
        "authorization",
        &format!("Bearer {access}"),
    );
    call(router, &event).await
}

pub async fn logout_all(router: &Router, access: &str) -> Reply {
    call(
        router,
        &with_header(
            event("logout-all.json"),
            "authorization",
            &format!("Bearer {access}"),
        ),
    )
    .await
}

/// A refresh or logout event (`refresh.json` or `logout.json`) that carries no body and no
/// Content-Type, with the given cookies (API Gateway passes them in their own field) and
/// headers, as a browser relying on the refresh cookie sends it.
pub fn bodiless(sample: &str, cookies: &[&str], headers: &[(&str, &str)]) -> Value {
    let mut event = event(sample);
    event.as_object_mut().unwrap().remove("body");
    event["headers"].as_object_mut().unwrap().remove("content-type");
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    headers
        .iter()
        .fold(event, |event, (name, value)| with_header(event, name, value))
}

/// The header a request relying on the cookie carries.
pub const CSRF: (&str, &str) = ("x-requested-with", "mrmrthon");

/// `mrmrthon_refresh=<token>`, as the browser sends it back.
pub fn cookie_of(token: &str) -> String {
    format!("{}={token}", login::refresh_cookie::NAME)
}

/// The refresh cookie a reply sets (it sets one at most).
pub fn set_cookie(reply: &Reply) -> Option<cookie::Cookie<'static>> {
    let mut values = reply.headers.get_all("set-cookie").iter();
    let value = values.next()?;
    assert!(values.next().is_none(), "one Set-Cookie at most");
    let cookie = cookie::Cookie::parse(value.to_str().unwrap().to_owned()).expect("a valid Set-Cookie");
    assert_eq!(cookie.name(), login::refresh_cookie::NAME);
    Some(cookie)
}

/// Asserts the reply clears the refresh cookie (at its path, with its attributes).
pub fn assert_clears_the_cookie(reply: &Reply) {
    let cookie = set_cookie(reply).unwrap_or_else(|| panic!("no Set-Cookie: {:?}", reply.headers));
    assert_eq!(cookie.value(), "");
    assert_eq!(cookie.max_age(), Some(time::Duration::ZERO));
    assert_eq!(cookie.path(), Some("/api/auth"));
    assert_eq!(
        (cookie.http_only(), cookie.secure(), cookie.same_site()),
        (Some(true), Some(true), Some(cookie::SameSite::Strict))
    );
}

/// A fresh RSA key pair as (PKCS#8 private PEM, SPKI public PEM).
pub fn key_pair() -> (String, String) {
    local::provision::generate_key_pair().expect("key generation")
}
