//! A function's axum router run in this process as Lambda runs it behind API Gateway: the
//! payload 2.0 event through lambda_http's own request conversion, so the router sees what
//! it sees in Lambda. One place for the tests of login and record-api, the end-to-end
//! tests and the bench.

use axum::Router;
use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::invoke::{HandlerError, InProcess};

/// The router's response to `event`: its head and whole body.
pub async fn respond(router: Router, event: &Value) -> Result<(http::response::Parts, Bytes), HandlerError> {
    let request = lambda_http::request::from_str(&event.to_string())?;
    let response = router.oneshot(request).await?;
    let (parts, body) = response.into_parts();
    Ok((parts, axum::body::to_bytes(body, usize::MAX).await?))
}

/// The router's response to `event` as the payload 2.0 response Lambda would return (as
/// lambda_http does: `Set-Cookie` into `cookies`, repeated headers comma-joined, a body
/// that is not plain UTF-8 base64-encoded).
pub async fn http_handler(router: Router, event: Value) -> Result<Value, HandlerError> {
    let (parts, bytes) = respond(router, &event).await?;
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for name in parts.headers.keys() {
        let values: Vec<&str> = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if name == http::header::SET_COOKIE {
            cookies.extend(values.iter().map(|v| Value::from(*v)));
        } else {
            headers.insert(name.as_str().to_owned(), Value::from(values.join(",")));
        }
    }
    let encoded = parts.headers.contains_key(http::header::CONTENT_ENCODING);
    let (body, base64) = match std::str::from_utf8(&bytes) {
        _ if bytes.is_empty() => (Value::Null, false),
        Ok(text) if !encoded => (Value::from(text), false),
        _ => (Value::from(STANDARD.encode(&bytes)), true),
    };
    Ok(json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "multiValueHeaders": {},
        "cookies": cookies,
        "body": body,
        "isBase64Encoded": base64,
    }))
}

impl InProcess {
    /// Registers an HTTP function by its router.
    pub fn with_router(self, logical_id: &str, router: Router) -> InProcess {
        self.with(logical_id, move |event: Value| {
            http_handler(router.clone(), event)
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;

    use super::*;

    fn event(path: &str) -> Value {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {"host": "example.com"},
            "requestContext": {
                "accountId": "1", "apiId": "api", "domainName": "example.com", "domainPrefix": "example",
                "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
                "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0
            },
            "isBase64Encoded": false
        })
    }

    #[tokio::test]
    async fn answers_as_lambda_http_does() {
        let router = Router::new()
            .route(
                "/text",
                get(|| async { ([("set-cookie", "a=1"), ("x-one", "1")], "hello") }),
            )
            .route("/bytes", get(|| async { vec![0xffu8, 0x00] }));
        let text = http_handler(router.clone(), event("/text")).await.unwrap();
        assert_eq!(text["statusCode"], 200);
        assert_eq!(text["body"], "hello");
        assert_eq!(text["cookies"], json!(["a=1"]));
        assert_eq!(text["headers"]["x-one"], "1");
        assert!(text["headers"].get("set-cookie").is_none());
        let bytes = http_handler(router.clone(), event("/bytes")).await.unwrap();
        assert_eq!(
            (&bytes["body"], &bytes["isBase64Encoded"]),
            (&json!("/wA="), &json!(true))
        );
        let missing = http_handler(router, event("/none")).await.unwrap();
        assert_eq!(
            (&missing["statusCode"], &missing["body"]),
            (&json!(404), &Value::Null)
        );
    }
}
