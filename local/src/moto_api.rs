//! A tiny HTTP/1.0 client for the emulator's own control API (`/moto-api/...`): readiness
//! probe, reset, and later the data dump (sent mail). HTTP/1.0 with `Connection: close`
//! means no chunked bodies and no keep-alive to handle; that is all moto needs, and it
//! keeps an HTTP client crate out of the dependency tree.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::error::{Error, Result};

/// How long one control-API call may take; the emulator is local, so this is generous.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub fn get(endpoint: &str, path: &str) -> Result<Response> {
    request(endpoint, "GET", path, CALL_TIMEOUT)
}

pub fn post(endpoint: &str, path: &str) -> Result<Response> {
    request(endpoint, "POST", path, CALL_TIMEOUT)
}

/// Sets the faults the emulator answers on purpose (`local/emulator.py`, `FAULTS_PATH`),
/// e.g. `{"ses": {"code": "Throttling", "message": "Daily message quota exceeded.",
/// "seconds": 5}}`: every SES send fails so for 5 seconds; `{"random": {"share": 0.2,
/// "seed": 7, "agent": "app/x"}}` answers a fifth of the calls made with that user agent
/// with throttling or a 5xx.
pub async fn set_faults(endpoint: &str, faults: &serde_json::Value) -> Result<()> {
    let url = format!("{}/_mrmrthon/faults", endpoint.trim_end_matches('/'));
    let response = crate::http_client::HttpClient::new()
        .post_json(&url, faults, CALL_TIMEOUT)
        .await
        .map_err(Error::Process)?;
    if (200..300).contains(&response.status) {
        Ok(())
    } else {
        Err(Error::Process(format!(
            "the emulator refused the faults: {}",
            response.text()
        )))
    }
}

/// The random faults' counters (`{"random": …}` in `set_faults`): calls seen and faults
/// answered, by service and kind, since the random faults were last set.
pub async fn fault_counts(endpoint: &str) -> Result<serde_json::Value> {
    let url = format!("{}/_mrmrthon/faults", endpoint.trim_end_matches('/'));
    let response = crate::http_client::HttpClient::new()
        .get(&url, CALL_TIMEOUT)
        .await
        .map_err(Error::Process)?;
    response
        .json()
        .ok_or_else(|| Error::Process(format!("the emulator's fault counters: {}", response.text())))
}

/// True when a moto server answers at `endpoint` (used both to wait for our own emulator
/// and to reuse one that is already running).
pub fn is_answering(endpoint: &str, timeout: Duration) -> bool {
    request(endpoint, "GET", "/moto-api/", timeout).is_ok_and(|r| r.is_success())
}

pub(crate) fn request(
    endpoint: &str,
    method: &'static str,
    path: &str,
    timeout: Duration,
) -> Result<Response> {
    let url = format!("{}{path}", endpoint.trim_end_matches('/'));
    let fail = |message: String| Error::Http {
        method,
        url: url.clone(),
        message,
    };
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| fail("only http:// endpoints are supported".into()))?
        .trim_end_matches('/');
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?
        .next()
        .ok_or_else(|| fail("the host resolves to no address".into()))?;

    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| fail(e.to_string()))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| fail(e.to_string()))?;
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| fail(e.to_string()))?;
    parse_response(&raw).ok_or_else(|| fail("malformed HTTP response".into()))
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let status_line = head.lines().next()?;
    let status = status_line.split_whitespace().nth(1)?.parse().ok()?;
    Some(Response {
        status,
        body: raw[split + 4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"hello");
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_response(b"nonsense"), None);
    }
}
