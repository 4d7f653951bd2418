//! login's OpenAPI document, generated from its routes and request/response types: it
//! names exactly the routes template.yaml gives login, and what it requires is what the
//! code refuses (checked through the router, the store in memory).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
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
async fn refresh_and_logout_without_a_json_body_are_a_documented_415() {
    let document = document();
    let (private_pem, public_pem) = key_pair();
    let app = app(Arc::new(MemoryUsers::default()), &private_pem, &public_pem);
    for (path, sample) in [("/auth/refresh", "refresh.json"), ("/auth/logout", "logout.json")] {
        let mut request = event(sample);
        request["headers"].as_object_mut().unwrap().remove("content-type");
        let reply = call(&app.router, &request).await;
        assert_eq!(reply.status, 415, "{path}");
        assert_eq!(
            reply.problem_type(),
            "https://mrmrthon.dev/problems/unsupported-media-type"
        );
        let documented = &document["paths"][path]["post"]["responses"]["415"];
        assert_eq!(
            documented["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{path}"
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
        BTreeSet::from(["id", "email", "name", "user_type", "created_at"])
    );
}
