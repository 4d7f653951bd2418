//! What the handler tests share: a stand-in Discord webhook (a real HTTP server on
//! 127.0.0.1 that records every post and answers scripted statuses), the sample events
//! from events/discord-webhook/ made unique per test, and a Notifier wired to the
//! emulator's idempotency table (template.yaml's IdempotencyTable).
#![allow(dead_code)] // each test binary uses its own part of this

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_lambda_events::streams::SqsEventResponse;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use discord_webhook::config::{CLAIM_FOR, KEEP_FOR};
use discord_webhook::{Notifier, RetryPolicy, Webhook, WebhookUrl};
use domain::greeting::Language;
use infra::idempotency::Idempotency;
use serde_json::{Value, json};

/// The secret part of the test webhook URL: it must never show up in a log line.
pub const TOKEN: &str = "tok3n-Sh0uld-N3ver-B3-L0gged";

/// What the stand-in answers to one post.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(u16),
    /// 429 with `retry_after` (seconds) in the JSON body and a whole-second `Retry-After`.
    RateLimited(f64),
    /// Never answers: the client's timeout has to cut it.
    Hang,
}

/// One post as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub body: Value,
    pub correlation_id: Option<String>,
    pub reply: Reply,
}

impl Received {
    pub fn accepted(&self) -> bool {
        matches!(self.reply, Reply::Status(s) if (200..300).contains(&s))
    }
}

#[derive(Default)]
struct Recorded {
    received: Vec<Received>,
    script: VecDeque<Reply>,
}

/// A Discord stand-in on its own thread and runtime, so that nothing it does shows up in
/// the test's tracing output or competes with the code under test.
pub struct Discord {
    addr: SocketAddr,
    recorded: Arc<Mutex<Recorded>>,
}

fn lock(recorded: &Mutex<Recorded>) -> MutexGuard<'_, Recorded> {
    recorded.lock().unwrap_or_else(|p| p.into_inner())
}

impl Discord {
    pub fn start() -> Discord {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let state = Arc::clone(&recorded);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = Router::new()
                    .route("/api/webhooks/{id}/{token}", post(webhook))
                    .with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        Discord { addr, recorded }
    }

    /// The URL the function gets from its secret.
    pub fn url(&self) -> String {
        format!("http://{}/api/webhooks/1234567890/{TOKEN}", self.addr)
    }

    /// The next answers, in order; after them every post gets 204.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.recorded).script = replies.into_iter().collect();
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.recorded).received.clone()
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(Received::accepted).collect()
    }
}

async fn webhook(
    State(recorded): State<Arc<Mutex<Recorded>>>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut recorded = lock(&recorded);
        let reply = recorded.script.pop_front().unwrap_or(Reply::Status(204));
        recorded.received.push(Received {
            at: Instant::now(),
            path: format!("/api/webhooks/{id}/{token}"),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            correlation_id: headers
                .get("x-correlation-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            reply: reply.clone(),
        });
        reply
    };
    match reply {
        Reply::Hang => std::future::pending().await,
        Reply::RateLimited(seconds) => {
            let body =
                json!({"message": "You are being rate limited.", "retry_after": seconds, "global": false});
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", format!("{}", seconds.ceil() as u64))],
                axum::Json(body),
            )
                .into_response()
        }
        Reply::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap();
            if status.is_success() {
                status.into_response()
            } else {
                (status, axum::Json(json!({"message": "scripted", "code": 0}))).into_response()
            }
        }
    }
}

/// Short waits, so tests take milliseconds; the same logic as production.
pub fn test_policy() -> RetryPolicy {
    RetryPolicy {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_millis(500),
        max_attempts: 5,
        server_retries: 2,
        backoff: Duration::from_millis(50),
        margin: Duration::from_millis(500),
        min_attempt: Duration::from_millis(100),
    }
}

/// The idempotency records in the emulator's table (template.yaml's IdempotencyTable),
/// with the production durations.
pub async fn idempotency() -> Idempotency {
    let stack = local::Stack::shared();
    let table = stack
        .provisioned()
        .physical_name("IdempotencyTable")
        .expect("template.yaml declares IdempotencyTable");
    let sdk = stack.sdk_config().await;
    Idempotency::new(aws_sdk_dynamodb::Client::new(&sdk), table, KEEP_FOR, CLAIM_FOR)
}

/// A Notifier posting in English to `url`, its idempotency records in the emulator.
pub async fn notifier(url: &str) -> Notifier {
    notifier_with(url, Arc::new(domain::SystemClock), Language::English).await
}

/// A Notifier with the clock and the language it is given.
pub async fn notifier_with(url: &str, clock: Arc<dyn domain::Clock>, language: Language) -> Notifier {
    let webhook = Webhook::new(WebhookUrl::parse(url).unwrap(), test_policy()).unwrap();
    Notifier::new(webhook, idempotency().await, clock, language)
}

pub fn deadline_in(seconds: u64) -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(seconds)
}

/// A sample event from events/discord-webhook/, as Lambda would deliver it.
pub fn sample(name: &str) -> SqsEvent {
    let path = format!(
        "{}/../../events/discord-webhook/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{path} is not an SQS event: {e}"))
}

static UNIQUE: AtomicU64 = AtomicU64::new(0);

fn unique() -> u64 {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

/// The sample with fresh message ids and fresh result ids (the idempotency table is shared
/// by every test in this process), so each test sees awards never posted before.
pub fn fresh(name: &str) -> SqsEvent {
    let mut event = sample(name);
    let run = unique();
    for message in &mut event.records {
        message.message_id = Some(format!("msg-{run}-{}", unique()));
        if let Some(body) = message.body.as_mut()
            && let Ok(mut envelope) = serde_json::from_str::<Value>(body)
            && let Some(result_id) = envelope.pointer_mut("/data/result_id")
        {
            *result_id = Value::String(format!("{}.t{run}", result_id.as_str().unwrap()));
            *body = envelope.to_string();
        }
    }
    event
}

/// The same message again, as a redelivery (SNS re-publish or SQS retry): new message id.
pub fn redelivered(message: &SqsMessage) -> SqsMessage {
    let mut copy = message.clone();
    copy.message_id = Some(format!("msg-again-{}", unique()));
    copy
}

pub fn batch(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

pub fn failed_ids(response: &SqsEventResponse) -> Vec<String> {
    let mut ids: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().expect("never a null identifier"))
        .collect();
    ids.sort();
    ids
}

/// Rewrites one field of a message's envelope.
pub fn with_envelope(message: &SqsMessage, edit: impl FnOnce(&mut Value)) -> SqsMessage {
    let mut copy = redelivered(message);
    let mut envelope: Value = serde_json::from_str(copy.body.as_deref().unwrap()).unwrap();
    edit(&mut envelope);
    copy.body = Some(envelope.to_string());
    copy
}
