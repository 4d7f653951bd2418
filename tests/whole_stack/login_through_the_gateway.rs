//! The login function's real routes through the local HTTP API: the stack provisioned from
//! template.yaml, the gateway routing by the template's HttpApi events, the real login
//! handler in-process against the emulator's DynamoDB and Secrets Manager.

use std::sync::Arc;
use std::time::Duration;

use local::http_client::{HttpClient, HttpResponse};
use local::{HopKind, InProcess, ServiceOptions, Services, Stack};
use mrmrthon_e2e::with_login;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery";

async fn post(http: &HttpClient, url: &str, correlation_id: &str, body: &Value) -> HttpResponse {
    http.request(
        http::Method::POST,
        url,
        &[
            ("content-type", "application/json"),
            ("user-agent", "e2e-test/1.0"),
            ("x-correlation-id", correlation_id),
        ],
        body.to_string().into_bytes(),
        TIMEOUT,
    )
    .await
    .unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

#[tokio::test]
async fn signup_then_login_through_the_gateway() {
    let stack = &Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let invoker = with_login(InProcess::new(), stack.provisioned(), &sdk).await;
    let services = Services::start(
        stack.endpoint(),
        stack.provisioned(),
        Arc::new(invoker),
        ServiceOptions::for_tests(None),
    )
    .await
    .expect("the local stack's services start");
    let api = services.api_url().unwrap();
    let http = HttpClient::new();
    let email = format!("e2e.{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let correlation_id = format!("e2e-{}", ulid::Ulid::new());

    let signup = post(
        &http,
        &format!("{api}/auth/signup"),
        &correlation_id,
        &json!({"email": email, "password": PASSWORD, "name": "김러너", "user_type": "runner"}),
    )
    .await;
    assert_eq!(signup.status, 201, "{}", signup.text());
    let user = signup.json().unwrap();
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["user_type"], "runner");
    assert_eq!(signup.header("x-correlation-id"), Some(correlation_id.as_str()));
    assert_eq!(signup.header("cache-control"), Some("no-store"));

    let login = post(
        &http,
        &format!("{api}/auth/login"),
        &correlation_id,
        &json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let session = login.json().unwrap();
    assert_eq!(session["message"], "개인 사용자님 환영합니다");
    assert!(
        session["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(session["refresh_token"].as_str().is_some_and(|t| !t.is_empty()));

    let wrong = post(
        &http,
        &format!("{api}/auth/login"),
        &correlation_id,
        &json!({"email": email, "password": "not the password"}),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("content-type"), Some("application/problem+json"));

    let jwks = http
        .get(&format!("{api}/.well-known/jwks.json"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.json().unwrap()["keys"][0]["kty"], "RSA");

    // A route the template does not declare is API Gateway's 404, not the function's.
    let unknown = http.get(&format!("{api}/auth/signup"), TIMEOUT).await.unwrap();
    assert_eq!(
        (unknown.status, unknown.json()),
        (404, Some(json!({"message": "Not Found"})))
    );

    // One hop line per request, naming the function and carrying the correlation id.
    let lines: Vec<String> = services
        .hops
        .recent()
        .into_iter()
        .filter(|h| h.kind == HopKind::Http && h.correlation_ids == [correlation_id.clone()])
        .map(|h| h.to_string())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].contains("LoginFunction") && lines[0].contains("POST /auth/signup -> 201"),
        "{lines:#?}"
    );
    assert!(lines[1].contains("POST /auth/login -> 200"), "{lines:#?}");
    services.stop().await;
}
