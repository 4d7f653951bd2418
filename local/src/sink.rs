//! A stand-in for Discord's webhook endpoint, on 127.0.0.1: it records every JSON post,
//! prints it readably, and answers as Discord does (204, or 200 with the message when the
//! URL has `?wait=true`; 400 for what Discord refuses: invalid JSON, an empty message,
//! content over 2000 characters, more than 10 embeds). A small control API scripts the
//! next answers, to exercise a client's rate-limit and error handling:
//!
//! - `POST /_sink/script` `{"responses": [{"status": 429, "retry_after": 0.5}, {"status": 500, "times": 2}]}`
//!   replaces the queue of scripted answers (each used `times` times, default once; a 429
//!   carries `retry_after` in the JSON body and `Retry-After` / `X-RateLimit-*` headers);
//!   `GET` shows it, `DELETE` clears it;
//! - `GET /_sink/posts` lists the recorded posts, `DELETE /_sink/posts` forgets them;
//! - `POST /_sink/faults` `{"share": 0.2, "seed": 7}` answers that share of the posts not
//!   scripted, drawn from the seed, with a 429 (`retry_after` 0.1 to 0.5 s) or a 500, half
//!   each; `{"share": 0}` ends it.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::correlation;
use crate::error::{Error, Result};
use crate::hops::{Hop, HopKind, Hops, Outcome};

/// The path functions post to locally: `{url}/webhooks/local/mrmrthon`.
pub const WEBHOOK_PATH: &str = "/webhooks/local/mrmrthon";
/// Discord's limits the sink enforces.
const MAX_CONTENT: usize = 2000;
const MAX_EMBEDS: usize = 10;

/// One post as received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Post {
    pub id: u64,
    pub at: String,
    pub path: String,
    pub query: Option<String>,
    pub correlation_id: Option<String>,
    /// The JSON body (a string when the body was not JSON).
    pub body: Value,
    /// The status the sink answered.
    pub status: u16,
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scripted {
    pub status: u16,
    /// Seconds, for a 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    /// Replaces the default body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// How many posts get this answer (default 1).
    #[serde(default = "once")]
    pub times: u32,
}

fn once() -> u32 {
    1
}

impl Scripted {
    pub fn status(status: u16) -> Scripted {
        Scripted {
            status,
            retry_after: None,
            body: None,
            times: 1,
        }
    }

    pub fn rate_limited(retry_after: f64) -> Scripted {
        Scripted {
            retry_after: Some(retry_after),
            ..Scripted::status(429)
        }
    }

    pub fn times(mut self, times: u32) -> Scripted {
        self.times = times;
        self
    }
}

#[derive(Debug, Deserialize)]
struct ScriptRequest {
    responses: Vec<Scripted>,
}

#[derive(Debug, Deserialize)]
struct FaultsRequest {
    share: f64,
    #[serde(default)]
    seed: u64,
}

/// Random 429s and 500s, drawn from a seed.
struct RandomFaults {
    share: f64,
    draws: StdRng,
}

impl RandomFaults {
    fn new(share: f64, seed: u64) -> Option<RandomFaults> {
        (share > 0.0).then(|| RandomFaults {
            share,
            draws: StdRng::seed_from_u64(seed),
        })
    }

    fn draw(&mut self) -> Option<Scripted> {
        if !self.draws.random_bool(self.share.clamp(0.0, 1.0)) {
            return None;
        }
        Some(if self.draws.random_bool(0.5) {
            Scripted::rate_limited(self.draws.random_range(0.1..0.5))
        } else {
            Scripted::status(500)
        })
    }
}

#[derive(Default)]
struct Recorded {
    posts: Vec<Post>,
    script: VecDeque<Scripted>,
    random: Option<RandomFaults>,
    next_id: u64,
}

struct Shared {
    recorded: Mutex<Recorded>,
    hops: Hops,
}

impl Shared {
    fn recorded(&self) -> MutexGuard<'_, Recorded> {
        // A poisoned lock only means a handler panicked mid-update; the data is still usable.
        self.recorded.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Sink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sink {
    /// Listens on 127.0.0.1:`port` (0 picks a free port).
    pub async fn start(port: u16, hops: Hops) -> Result<Sink> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|e| {
                Error::Process(format!("the Discord sink cannot listen on 127.0.0.1:{port}: {e}"))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Process(format!("cannot read the sink's address: {e}")))?;
        let shared = Arc::new(Shared {
            recorded: Mutex::new(Recorded::default()),
            hops,
        });
        let app = Router::new()
            .route("/webhooks/{*rest}", post(webhook))
            .route(
                "/_sink/script",
                get(show_script).post(set_script).delete(clear_script),
            )
            .route("/_sink/posts", get(list_posts).delete(clear_posts))
            .route("/_sink/faults", post(set_faults))
            .with_state(Arc::clone(&shared));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("the Discord sink stopped: {e}");
            }
        });
        Ok(Sink {
            addr,
            shared,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL to give functions as their Discord webhook.
    pub fn webhook_url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.url())
    }

    pub fn posts(&self) -> Vec<Post> {
        self.shared.recorded().posts.clone()
    }

    /// Replaces the scripted answers.
    pub fn script(&self, responses: Vec<Scripted>) {
        self.shared.recorded().script = responses.into();
    }

    /// Answers `share` of the posts no script answers with a 429 or a 500, drawn from
    /// `seed` (0 ends it).
    pub fn random_faults(&self, share: f64, seed: u64) {
        self.shared.recorded().random = RandomFaults::new(share, seed);
    }

    pub fn clear(&self) {
        let mut recorded = self.shared.recorded();
        recorded.posts.clear();
        recorded.script.clear();
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn webhook(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let correlation_id = headers
        .get(correlation::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            parsed
                .as_ref()?
                .get(correlation::FIELD)?
                .as_str()
                .map(str::to_owned)
        });
    let wait = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("wait=true")));

    let (id, scripted) = {
        let mut recorded = shared.recorded();
        recorded.next_id += 1;
        let scripted = match recorded.script.front_mut() {
            Some(front) if front.times > 1 => {
                front.times -= 1;
                Some(front.clone())
            }
            Some(_) => recorded.script.pop_front(),
            None => recorded.random.as_mut().and_then(RandomFaults::draw),
        };
        (recorded.next_id, scripted)
    };
    let response = match (&scripted, &parsed) {
        (Some(scripted), _) => scripted_answer(scripted),
        (None, None) => discord_error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        ),
        (None, Some(message)) => match refusal(message) {
            Some((code, text)) => discord_error(StatusCode::BAD_REQUEST, code, &text),
            None if wait => (StatusCode::OK, axum::Json(sent_message(id, &rest, message))).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    };
    let status = response.status().as_u16();
    let post = Post {
        id,
        at: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        path: format!("/webhooks/{rest}"),
        query,
        correlation_id: correlation_id.clone(),
        body: parsed
            .clone()
            .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&body).into_owned())),
        status,
    };
    shared.recorded().posts.push(post);

    let outcome = match status {
        200..=299 => Outcome::Ok,
        _ if scripted.is_some() => Outcome::Failed(format!("scripted {status}")),
        _ => Outcome::Failed(format!("refused {status}")),
    };
    let summary = parsed
        .as_ref()
        .map(one_line)
        .unwrap_or_else(|| "(not JSON)".into());
    shared.hops.record(
        Hop::new(
            HopKind::Discord,
            "discord sink",
            format!("POST #{id} -> {status}  {summary}"),
        )
        .outcome(outcome)
        .took(started.elapsed())
        .correlation(correlation_id),
    );
    if shared.hops.is_printing()
        && let Some(message) = &parsed
    {
        print!("{}", readable(message));
    }
    response
}

/// What Discord refuses with a 400, as (code, message).
fn refusal(message: &Value) -> Option<(u32, String)> {
    let Some(object) = message.as_object() else {
        return Some((50109, "The request body contains invalid JSON.".into()));
    };
    let content = object.get("content").and_then(Value::as_str).unwrap_or_default();
    let embeds = object.get("embeds").and_then(Value::as_array).map_or(0, Vec::len);
    let other = ["components", "attachments", "poll", "sticker_ids"]
        .iter()
        .any(|k| object.get(*k).is_some_and(|v| !v.is_null()));
    if content.trim().is_empty() && embeds == 0 && !other {
        return Some((50006, "Cannot send an empty message".into()));
    }
    if content.chars().count() > MAX_CONTENT {
        return Some((
            50035,
            format!("Invalid Form Body: content must be {MAX_CONTENT} or fewer in length."),
        ));
    }
    if embeds > MAX_EMBEDS {
        return Some((
            50035,
            format!("Invalid Form Body: embeds must be {MAX_EMBEDS} or fewer in length."),
        ));
    }
    None
}

fn scripted_answer(scripted: &Scripted) -> Response {
    let status = StatusCode::from_u16(scripted.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = scripted.retry_after.unwrap_or(1.0).max(0.0);
        let body = scripted.body.clone().unwrap_or_else(
            || json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false}),
        );
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        // Retry-After is whole seconds (HTTP); the X-RateLimit headers carry the fraction.
        let pairs = [
            ("retry-after", format!("{}", retry_after.ceil() as u64)),
            ("x-ratelimit-limit", "5".to_owned()),
            ("x-ratelimit-remaining", "0".to_owned()),
            ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
            ("x-ratelimit-scope", "shared".to_owned()),
        ];
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        return response;
    }
    if let Some(body) = &scripted.body {
        return (status, axum::Json(body.clone())).into_response();
    }
    if status.is_success() {
        return status.into_response();
    }
    let (code, text) = match status.as_u16() {
        400 => (50035, "Invalid Form Body".to_owned()),
        401 => (0, "401: Unauthorized".to_owned()),
        403 => (50013, "Missing Permissions".to_owned()),
        404 => (10015, "Unknown Webhook".to_owned()),
        s => (
            0,
            format!("{s}: {}", status.canonical_reason().unwrap_or("Error")),
        ),
    };
    discord_error(status, code, &text)
}

fn discord_error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, axum::Json(json!({"message": message, "code": code}))).into_response()
}

/// The message object Discord returns for `?wait=true`.
fn sent_message(id: u64, rest: &str, message: &Value) -> Value {
    json!({
        "id": format!("{}", 1_000_000_000_000_000_000u64 + id),
        "type": 0,
        "channel_id": "local",
        "webhook_id": rest.split('/').next().unwrap_or_default(),
        "content": message.get("content").cloned().unwrap_or(json!("")),
        "embeds": message.get("embeds").cloned().unwrap_or(json!([])),
        "timestamp": OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
    })
}

/// The gist of a message for the hop line.
fn one_line(message: &Value) -> String {
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .or_else(|| message.pointer("/embeds/0/title").and_then(Value::as_str))
        .unwrap_or("(no text)");
    let mut line: String = text.chars().take(72).collect();
    if text.chars().count() > 72 {
        line.push('…');
    }
    format!("{:?}", line.replace('\n', " "))
}

/// The message as a person reads it in the channel: content, then each embed.
fn readable(message: &Value) -> String {
    let pad = " ".repeat(14);
    let mut out = String::new();
    if let Some(name) = message.get("username").and_then(Value::as_str) {
        out.push_str(&format!("{pad}as {name}\n"));
    }
    if let Some(content) = message.get("content").and_then(Value::as_str) {
        for line in content.lines() {
            out.push_str(&format!("{pad}| {line}\n"));
        }
    }
    for embed in message
        .get("embeds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |key: &str| embed.get(key).and_then(Value::as_str);
        if let Some(title) = text("title") {
            out.push_str(&format!("{pad}[embed] {title}\n"));
        }
        if let Some(description) = text("description") {
            for line in description.lines() {
                out.push_str(&format!("{pad}        {line}\n"));
            }
        }
        for field in embed
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let get = |key: &str| field.get(key).and_then(Value::as_str).unwrap_or_default();
            out.push_str(&format!("{pad}        {}: {}\n", get("name"), get("value")));
        }
    }
    out
}

async fn set_script(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<ScriptRequest>(&body) {
        Ok(request) => {
            if let Some(bad) = request.responses.iter().find(|r| StatusCode::from_u16(r.status).is_err() || r.times == 0) {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": format!("not a usable answer: {}", json!(bad))})),
                )
                    .into_response();
            }
            let queued = request.responses.len();
            shared.recorded().script = request.responses.into();
            axum::Json(json!({ "queued": queued })).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": format!("expected {{\"responses\": [{{\"status\": 429, \"retry_after\": 0.5}}]}}: {e}")})),
        )
            .into_response(),
    }
}

async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultsRequest>(&body) {
        Ok(request) if (0.0..=1.0).contains(&request.share) => {
            shared.recorded().random = RandomFaults::new(request.share, request.seed);
            axum::Json(json!({ "share": request.share, "seed": request.seed })).into_response()
        }
        Ok(_) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "share is between 0 and 1"})),
        )
            .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": format!("expected {{\"share\": 0.2, \"seed\": 7}}: {e}")})),
        )
            .into_response(),
    }
}

async fn show_script(State(shared): State<Arc<Shared>>) -> Response {
    let script: Vec<Scripted> = shared.recorded().script.iter().cloned().collect();
    axum::Json(json!({ "responses": script })).into_response()
}

async fn clear_script(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.recorded().script.clear();
    StatusCode::NO_CONTENT
}

async fn list_posts(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(json!({ "posts": shared.recorded().posts })).into_response()
}

async fn clear_posts(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.recorded().posts.clear();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_refuses_what_it_refuses() {
        assert_eq!(refusal(&json!({"content": "hi"})), None);
        assert_eq!(refusal(&json!({"embeds": [{"title": "t"}]})), None);
        assert_eq!(refusal(&json!({"content": "  "})).map(|r| r.0), Some(50006));
        assert_eq!(
            refusal(&json!({"content": "x".repeat(2001)})).map(|r| r.0),
            Some(50035)
        );
        assert_eq!(
            refusal(&json!({"content": "x", "embeds": vec![json!({}); 11]})).map(|r| r.0),
            Some(50035)
        );
        assert_eq!(refusal(&json!([1])).map(|r| r.0), Some(50109));
    }

    #[test]
    fn messages_read_like_the_channel() {
        let message = json!({
            "username": "mrmrthon",
            "content": "김러너 finished\nSeoul Marathon",
            "embeds": [{"title": "+100 points", "description": "total 300", "fields": [{"name": "rank", "value": "7"}]}]
        });
        let text = readable(&message);
        assert!(text.contains("as mrmrthon"), "{text}");
        assert!(text.contains("| 김러너 finished\n"), "{text}");
        assert!(text.contains("[embed] +100 points"), "{text}");
        assert!(text.contains("rank: 7"), "{text}");
        assert_eq!(one_line(&message), "\"김러너 finished Seoul Marathon\"");
    }
}
