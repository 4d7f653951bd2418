//! API Gateway HTTP API payload format 2.0, both ways: an HTTP request becomes the event
//! (`aws_lambda_events`' `ApiGatewayV2httpRequest`), and the function's response becomes
//! the HTTP response by the 2.0 rules (a structured response with `statusCode`, or any
//! other JSON answered as 200 `application/json`).

use std::collections::HashMap;
use std::net::IpAddr;

use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::emulator::ACCOUNT_ID;

/// Keys the 2.0 request type serializes but real 2.0 events never carry (they belong to
/// the custom authorizer v1 payload).
const NOT_IN_V2_EVENTS: &[&str] = &[
    "type",
    "methodArn",
    "httpMethod",
    "identitySource",
    "authorizationToken",
    "resource",
];

/// The parts of an HTTP request the event is made of.
pub struct Incoming<'a> {
    pub method: &'a Method,
    /// Path as received, percent-encoding kept.
    pub path: &'a str,
    /// Query string as received, without `?`; empty when none.
    pub query: &'a str,
    pub protocol: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: IpAddr,
}

/// Everything the gateway decided about the request.
pub struct Routing<'a> {
    pub route_key: &'a str,
    pub path_parameters: HashMap<String, String>,
    pub request_id: &'a str,
    pub at: OffsetDateTime,
}

/// The payload 2.0 event for `incoming`.
pub fn request_event(incoming: &Incoming<'_>, routing: Routing<'_>) -> Value {
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in incoming.headers.keys() {
        // Values beyond visible ASCII (obs-text) are passed on, as API Gateway does, rather
        // than dropped: a function decides what a malformed header means.
        let values: Vec<std::borrow::Cow<'_, str>> = incoming
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect();
        if name == http::header::COOKIE {
            // Cookies travel in their own field, one entry per cookie.
            cookies.extend(
                values
                    .iter()
                    .flat_map(|v| v.split(';'))
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        // Repeated headers arrive as one, values joined by commas.
        if let Ok(joined) = HeaderValue::from_str(&values.join(",")) {
            headers.insert(name.clone(), joined);
        }
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let host = header("host").unwrap_or_else(|| "127.0.0.1".into());
    let domain = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h).to_owned();

    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = incoming.method.clone();
    http.path = Some(incoming.path.to_owned());
    http.protocol = Some(incoming.protocol.to_owned());
    http.source_ip = Some(incoming.source_ip.to_string());
    http.user_agent = header("user-agent");

    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(routing.route_key.to_owned());
    context.account_id = Some(ACCOUNT_ID.to_owned());
    context.stage = Some("$default".to_owned());
    context.request_id = Some(routing.request_id.to_owned());
    context.apiid = Some("local".to_owned());
    context.domain_prefix = Some(domain.split('.').next().unwrap_or_default().to_owned());
    context.domain_name = Some(domain);
    context.time = routing
        .at
        .format(format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ))
        .ok();
    context.time_epoch = (routing.at.unix_timestamp_nanos() / 1_000_000) as i64;
    context.http = http;

    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".to_owned());
    event.route_key = Some(routing.route_key.to_owned());
    event.raw_path = Some(incoming.path.to_owned());
    event.raw_query_string = Some(incoming.query.to_owned());
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.query_string_parameters = query_parameters(incoming.query);
    event.path_parameters = routing.path_parameters;
    event.request_context = context;
    if !incoming.body.is_empty() {
        let content_type = header("content-type");
        match std::str::from_utf8(incoming.body) {
            Ok(text) if is_text(content_type.as_deref()) => event.body = Some(text.to_owned()),
            _ => {
                event.body = Some(STANDARD.encode(incoming.body));
                event.is_base64_encoded = true;
            }
        }
    }
    event.headers = headers;

    let mut json = serde_json::to_value(&event).unwrap_or(Value::Null);
    if let Some(object) = json.as_object_mut() {
        for key in NOT_IN_V2_EVENTS {
            object.remove(*key);
        }
        if object
            .get("stageVariables")
            .is_some_and(|v| v.as_object().is_none_or(|o| o.is_empty()))
        {
            object.remove("stageVariables");
        }
    }
    json
}

/// API Gateway passes text bodies as they are and base64-encodes everything else
/// (form posts included); without a content type, valid UTF-8 counts as text.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || matches!(
            mime.as_str(),
            "application/json" | "application/javascript" | "application/xml" | "application/yaml"
        )
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
}

/// Query parameters percent-decoded; a repeated name keeps all its values (serialized
/// comma-joined, as API Gateway does).
fn query_parameters(query: &str) -> QueryMap {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(percent_decode(name))
            .or_default()
            .push(percent_decode(value));
    }
    QueryMap::from(map)
}

/// `%XX` escapes decoded (as UTF-8, lossily); everything else kept.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The HTTP response a function's payload stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponse {
    pub status: u16,
    /// In order; `set-cookie` once per cookie.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

/// Maps a payload 2.0 response. An error means API Gateway would answer 500.
pub fn response(payload: &Value) -> Result<GatewayResponse, String> {
    let Some(object) = payload.as_object().filter(|o| o.contains_key("statusCode")) else {
        // Not a structured response: the payload itself is the JSON body.
        let body = match payload {
            Value::String(text) => text.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        return Ok(GatewayResponse {
            status: 200,
            headers: vec![(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        });
    };
    let status = object["statusCode"]
        .as_u64()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| format!("statusCode is not an HTTP status: {}", object["statusCode"]))?
        as u16;
    let mut headers = Vec::new();
    let mut push = |name: &str, value: &Value| -> Result<(), String> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            other => return Err(format!("header {name}: not a scalar: {other}")),
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name}: {e}"))?;
        let value = HeaderValue::from_str(&text).map_err(|e| format!("header {name}: {e}"))?;
        headers.push((name, value));
        Ok(())
    };
    if let Some(map) = object.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            push(name, value)?;
        }
    }
    if let Some(map) = object.get("multiValueHeaders").and_then(Value::as_object) {
        for (name, values) in map {
            for value in values.as_array().into_iter().flatten() {
                push(name, value)?;
            }
        }
    }
    if let Some(cookies) = object.get("cookies").and_then(Value::as_array) {
        for cookie in cookies {
            push("set-cookie", cookie)?;
        }
    }
    let base64 = object
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) if base64 => STANDARD
            .decode(text)
            .map_err(|e| format!("isBase64Encoded, but the body is not base64: {e}"))?,
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    Ok(GatewayResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn event_for(headers: &[(&str, &str)], body: &[u8], query: &str) -> Value {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let incoming = Incoming {
            method: &Method::POST,
            path: "/marathons/m%201/results",
            query,
            protocol: "HTTP/1.1",
            headers: &map,
            body,
            source_ip: "127.0.0.1".parse().unwrap(),
        };
        request_event(
            &incoming,
            Routing {
                route_key: "POST /marathons/{id}/results",
                path_parameters: HashMap::from([("id".to_owned(), "m 1".to_owned())]),
                request_id: "req-1",
                at: datetime!(2026-11-21 10:00:00.123 UTC),
            },
        )
    }

    #[test]
    fn requests_become_v2_events() {
        let event = event_for(
            &[
                ("Host", "127.0.0.1:3000"),
                ("User-Agent", "curl/8"),
                ("X-Thing", "a"),
                ("x-thing", "b"),
                ("Cookie", "a=1; b=2"),
                ("content-type", "application/json"),
            ],
            br#"{"x":1}"#,
            "page=2&tag=a&tag=b&q=%ED%95%9C",
        );
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["routeKey"], "POST /marathons/{id}/results");
        assert_eq!(event["rawPath"], "/marathons/m%201/results");
        assert_eq!(event["rawQueryString"], "page=2&tag=a&tag=b&q=%ED%95%9C");
        assert_eq!(event["headers"]["x-thing"], "a,b");
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["queryStringParameters"]["tag"], "a,b");
        assert_eq!(event["queryStringParameters"]["q"], "한");
        assert_eq!(event["pathParameters"]["id"], "m 1");
        let context = &event["requestContext"];
        assert_eq!(context["http"]["method"], "POST");
        assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(context["http"]["userAgent"], "curl/8");
        assert_eq!(context["requestId"], "req-1");
        assert_eq!(context["stage"], "$default");
        assert_eq!(context["domainName"], "127.0.0.1");
        assert_eq!(context["time"], "21/Nov/2026:10:00:00 +0000");
        assert_eq!(context["timeEpoch"], 1_795_255_200_123_i64);
        assert_eq!(event["body"], r#"{"x":1}"#);
        assert_eq!(event["isBase64Encoded"], false);
        for key in NOT_IN_V2_EVENTS {
            assert!(event.get(*key).is_none(), "{key}");
        }
        // It is what lambda_http and the typed event read back.
        let typed: ApiGatewayV2httpRequest = serde_json::from_value(event).unwrap();
        assert_eq!(typed.request_context.http.method, Method::POST);
    }

    #[test]
    fn header_values_beyond_ascii_are_passed_on_not_dropped() {
        let event = event_for(&[("if-match", "\u{84}"), ("x-name", "김")], b"", "");
        assert_eq!(event["headers"]["if-match"], "\u{84}");
        assert_eq!(event["headers"]["x-name"], "김");
    }

    #[test]
    fn binary_and_form_bodies_are_base64_and_empty_ones_absent() {
        let event = event_for(&[("content-type", "image/png")], &[0xff, 0x00], "");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "/wA=");
        let form = event_for(
            &[("content-type", "application/x-www-form-urlencoded")],
            b"a=1",
            "",
        );
        assert_eq!(form["isBase64Encoded"], true);
        let empty = event_for(&[], b"", "");
        assert!(empty.get("body").is_none());
        assert!(empty.get("queryStringParameters").is_none());
        assert!(empty.get("cookies").is_none());
    }

    #[test]
    fn structured_responses() {
        let mapped = response(&json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-n": 5},
            "multiValueHeaders": {"x-multi": ["a", "b"]},
            "cookies": ["s=1; HttpOnly", "t=2"],
            "body": "eyJvayI6dHJ1ZX0=",
            "isBase64Encoded": true
        }))
        .unwrap();
        assert_eq!(mapped.status, 201);
        assert_eq!(mapped.body, br#"{"ok":true}"#);
        let values = |name: &str| -> Vec<&str> {
            mapped
                .headers
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.to_str().unwrap())
                .collect()
        };
        assert_eq!(values("set-cookie"), ["s=1; HttpOnly", "t=2"]);
        assert_eq!(values("x-multi"), ["a", "b"]);
        assert_eq!(values("x-n"), ["5"]);
    }

    #[test]
    fn bare_payloads_and_broken_responses() {
        let object = response(&json!({"message": "hi"})).unwrap();
        assert_eq!(
            (object.status, object.body.as_slice()),
            (200, br#"{"message":"hi"}"#.as_slice())
        );
        assert_eq!(object.headers[0].1, "application/json");
        assert_eq!(response(&json!("Hello")).unwrap().body, b"Hello");
        assert!(response(&json!({"statusCode": 99})).is_err());
        assert!(response(&json!({"statusCode": "200"})).is_err());
        assert!(response(&json!({"statusCode": 200, "body": "%%", "isBase64Encoded": true})).is_err());
        assert!(response(&json!({"statusCode": 200, "headers": {"bad header": "x"}})).is_err());
    }
}
