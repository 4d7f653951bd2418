//! login's OpenAPI document, generated from its routes and request/response types: it
//! names exactly the routes template.yaml gives login, and what it requires is what the
//! code refuses (checked through the router, the store in memory).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::common::*;
use domain::memory::MemoryUsers;
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::to_value(login::openapi()).expect("the document serializes")
}

#[test]
fn the_document_names_exactly_the_routes_the_template_gives_login() {
    let template = local::Template::from_path(&local::stack::template_path()).expect("template.yaml parses");
    assert_eq!(
        local::template::openapi_routes(&document()),
        template.http_routes(Some("LoginFunction")).expect("routes")
    );
}

#[tokio::test]
async fn signup_requires_what_the_code_refuses_when_missing() {
    let document = document();
    let schema = &document["components"]["schemas"]["SignupBody"];
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let (private_pem, public_pem) = key_pair();
    let app = app(Arc::new(MemoryUsers::default()), &private_pem, &public_pem);
    let reply = call(&app.router, &with_body(event("signup.json"), &json!({}))).await;
    assert_eq!(reply.status, 400);
    let missing: BTreeSet<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(required, missing);

    let properties = &schema["properties"];
    assert_eq!(properties["password"]["minLength"], domain::password::MIN_CHARS);
    assert_eq!(properties["email"]["format"], "email");
    assert_eq!(properties["email"]["maxLength"], domain::Email::MAX_LEN);
    assert_eq!(
        properties["name"]["pattern"],
        json!(infra::http::openapi::trimmed_text(domain::UserName::MAX_CHARS, "").pattern)
    );
    assert_eq!(
        document["components"]["schemas"]["Role"]["enum"],
        json!(["runner", "organizer"])
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_documented_415_and_no_body_is_allowed() {
    let document = document();
    let (private_pem, public_pem) = key_pair();
    let app = app(Arc::new(MemoryUsers::default()), &private_pem, &public_pem);
    for (path, sample) in [("/auth/refresh", "refresh.json"), ("/auth/logout", "logout.json")] {
        let operation = &document["paths"][path]["post"];
        let mut request = event(sample);
        request["headers"].as_object_mut().unwrap().remove("content-type");
        let reply = call(&app.router, &request).await;
        assert_eq!(reply.status, 415, "{path}");
        assert_eq!(
            reply.problem_type(),
            "https://mrmrthon.dev/problems/unsupported-media-type"
        );
        assert_eq!(
            operation["responses"]["415"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{path}"
        );
        // no body at all is not refused as such (the token may be in the cookie)
        assert_ne!(operation["requestBody"]["required"], json!(true), "{path}");
        let reply = call(&app.router, &bodiless(sample, &[], &[])).await;
        assert_eq!(reply.status, 401, "{path}: {:?}", reply.body);
        assert!(
            operation["responses"]["401"]["headers"]["Set-Cookie"].is_object(),
            "{path}"
        );
    }
}

#[test]
fn the_cookie_and_its_csrf_header_are_documented_as_the_code_reads_them() {
    let document = document();
    for path in ["/auth/refresh", "/auth/logout"] {
        let operation = &document["paths"][path]["post"];
        let parameters = operation["parameters"].as_array().unwrap();
        let find = |place: &str| {
            parameters
                .iter()
                .find(|p| p["in"] == place)
                .unwrap_or_else(|| panic!("{path}: no {place} parameter"))
        };
        let cookie = find("cookie");
        assert_eq!(cookie["name"], login::refresh_cookie::NAME, "{path}");
        assert_ne!(cookie["required"], json!(true), "{path}");
        let header = find("header");
        assert!(
            header["name"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(login::refresh_cookie::CSRF_HEADER),
            "{path}"
        );
        assert_ne!(header["required"], json!(true), "{path}");
        assert_eq!(
            header["schema"]["enum"],
            json!([login::refresh_cookie::CSRF_VALUE]),
            "{path}"
        );
        assert_eq!(
            operation["responses"]["403"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{path}"
        );
    }
    for (path, status) in [
        ("/auth/login", "200"),
        ("/auth/refresh", "200"),
        ("/auth/logout", "204"),
    ] {
        let documented = &document["paths"][path]["post"]["responses"][status]["headers"]["Set-Cookie"];
        let description = documented["description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with("mrmrthon_refresh=") && description.contains("Path=/api/auth"),
            "{path} {status}: {documented}"
        );
    }
}

#[test]
fn the_session_shows_no_password_hash() {
    let document = document();
    let user = document["components"]["schemas"]["User"]["properties"]
        .as_object()
        .unwrap();
    let fields: BTreeSet<&str> = user.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        BTreeSet::from(["id", "email", "name", "user_type", "created_at", "email_verified"])
    );
}
