//! The document api-docs serves is the one login's and record-api's code generates, and it
//! names exactly the routes template.yaml gives the HTTP API.

use std::path::PathBuf;

use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The whole API's document: api-docs' own routes and title, then login's and record-api's.
fn generated() -> Value {
    let mut document = api_docs::openapi();
    document.merge(login::openapi());
    document.merge(record_api::openapi());
    serde_json::to_value(&document).expect("the document serializes")
}

#[test]
fn the_served_document_is_the_generated_one() {
    let generated = generated();
    let served: Value = serde_json::from_str(api_docs::DOCUMENT).expect("openapi.json is JSON");
    if served != generated {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
            std::fs::write(&path, text).expect("openapi.json is writable");
        } else {
            panic!(
                "{} is stale: the code's routes or types changed. Regenerate it with\n  \
                 UPDATE_OPENAPI=1 cargo test -p api-docs --test document\nand review the diff.",
                path.display()
            );
        }
    }
}

/// OpenAPI requires each operationId to be unique in the document; generators (the web
/// app's openapi-typescript among them) key operations by it, so a shared one merges two
/// operations' types. utoipa takes the handler's name by default, which repeats across
/// modules (`list`, `show`, `mine`): every operation names its own.
#[test]
fn every_operation_has_its_own_operation_id() {
    let document = generated();
    let mut seen = std::collections::BTreeMap::<String, String>::new();
    let mut duplicates = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let operation_name = format!("{} {path}", method.to_uppercase());
            let Some(id) = operation["operationId"].as_str() else {
                duplicates.push(format!("{operation_name} has no operationId"));
                continue;
            };
            if let Some(first) = seen.insert(id.to_owned(), operation_name.clone()) {
                duplicates.push(format!("{id:?} names both {first} and {operation_name}"));
            }
        }
    }
    assert!(seen.len() > 30, "the document's operations were read: {seen:?}");
    assert!(duplicates.is_empty(), "{duplicates:#?}");
}

#[test]
fn every_template_route_is_documented_and_every_documented_route_is_in_the_template() {
    let template = local::Template::from_path(&local::stack::template_path()).expect("template.yaml parses");
    let mut declared = template.http_routes(None).expect("routes");
    // Swagger UI's files: static assets of the page, not operations of the API.
    assert!(declared.remove(&("GET".to_owned(), "/docs/{proxy+}".to_owned())));
    assert_eq!(declared, local::template::openapi_routes(&generated()));
}

async fn get(path: &str) -> (http::StatusCode, http::HeaderMap, Vec<u8>) {
    let request = http::Request::get(path).body(axum::body::Body::empty()).unwrap();
    let response = api_docs::router().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn the_document_and_the_ui_are_served() {
    let (status, headers, body) = get("/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body, api_docs::DOCUMENT.as_bytes());

    let (status, headers, _) = get("/docs").await;
    assert_eq!(status, 303);
    // relative: /api/docs -> /api/docs/index.html on the site
    assert_eq!(headers["location"], "docs/index.html");

    let (status, headers, body) = get("/docs/index.html").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html");
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(body.starts_with(&[0x1f, 0x8b]), "gzip magic");

    // the page's configuration points at the document, relative to the page
    let (status, _, body) = get("/docs/swagger-initializer.js").await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("\"../openapi.json\""));

    let (status, headers, _) = get("/docs/nope.js").await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
}

/// The samples in events/api-docs/ (also for `cargo lambda invoke`), through lambda_http's
/// own conversion of an API Gateway event, as in Lambda.
#[tokio::test]
async fn the_sample_events_are_answered() {
    for (sample, content_type) in [
        ("openapi.json", "application/json"),
        ("docs-page.json", "text/html"),
    ] {
        let path = format!("{}/../../events/api-docs/{sample}", env!("CARGO_MANIFEST_DIR"));
        let event = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
        let response = api_docs::router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{sample}");
        assert_eq!(response.headers()["content-type"], content_type, "{sample}");
    }
}
