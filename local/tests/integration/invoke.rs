//! `WatchInvoker` against a stand-in for `cargo lambda watch`'s invoke endpoint that
//! answers the ways the real one does: 200 with the payload, 500 with the error for a
//! handler error, and whatever a broken function sends.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use local::{Function, InvokeError, Invoker, WatchInvoker};
use serde_json::{Value, json};

fn function(binary: &str) -> Function {
    Function {
        logical_id: format!("{binary}Function"),
        code_uri: None,
        binary: Some(binary.to_owned()),
        environment: BTreeMap::new(),
        timeout: Duration::from_secs(3),
        events: Vec::new(),
    }
}

async fn fake_watch() -> String {
    async fn invoke(Path(name): Path<String>, body: String) -> Response {
        match name.as_str() {
            "echo" => (StatusCode::OK, body).into_response(),
            "unit" => StatusCode::OK.into_response(),
            "boom" => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"errorType": "alloc::boxed::Box<dyn core::error::Error>", "errorMessage": "bad input"}).to_string(),
            )
                .into_response(),
            "garbage" => (StatusCode::OK, "<html>oops</html>").into_response(),
            _ => (StatusCode::NOT_FOUND, "no such function").into_response(),
        }
    }
    let app = Router::new().route("/2015-03-31/functions/{name}/invocations", post(invoke));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn answers_errors_and_garbage_are_told_apart() {
    let invoker = WatchInvoker::new(fake_watch().await).with_timeout(Duration::from_secs(10));

    let echoed = invoker
        .invoke(&function("echo"), json!({"Records": [1]}))
        .await
        .unwrap();
    assert_eq!(echoed, json!({"Records": [1]}));
    assert_eq!(
        invoker.invoke(&function("unit"), json!({})).await.unwrap(),
        Value::Null
    );

    match invoker.invoke(&function("boom"), json!({})).await {
        Err(error @ InvokeError::Function { .. }) => {
            assert!(error.is_function_error());
            assert!(error.to_string().contains("bad input"), "{error}");
        }
        other => panic!("a 500 is a function error: {other:?}"),
    }
    assert!(matches!(
        invoker.invoke(&function("garbage"), json!({})).await,
        Err(InvokeError::BadResponse { .. })
    ));
    match invoker.invoke(&function("missing"), json!({})).await {
        Err(error @ InvokeError::Transport { .. }) => {
            assert!(!error.is_function_error());
            assert!(error.to_string().contains("HTTP 404"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let nobody = WatchInvoker::new("http://127.0.0.1:9").with_timeout(Duration::from_secs(5));
    assert!(matches!(
        nobody.invoke(&function("echo"), json!({})).await,
        Err(InvokeError::Transport { .. })
    ));
}
