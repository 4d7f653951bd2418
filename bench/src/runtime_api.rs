//! A local Lambda Runtime API (the 2018-06-01 interface a bootstrap polls), just enough for
//! measuring: it notes when the function first asks for work, hands out queued events one
//! at a time, and reports every response and error. Also a Discord stand-in (204 to every
//! POST) for discord-webhook's outbound calls.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

/// What the stub saw, in order.
#[derive(Debug)]
pub enum Signal {
    /// `GET /runtime/invocation/next`, when its request arrived.
    Next(Instant),
    /// A response (`ok`) or an error for an invocation.
    Outcome { ok: bool, body: String },
    /// `POST /runtime/init/error`: the function could not start.
    InitError(String),
}

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<String>>,
    signals: mpsc::UnboundedSender<Signal>,
    function_arn: String,
}

/// One stub per bootstrap process, on 127.0.0.1 and a free port. Dropping it stops it.
pub struct RuntimeApi {
    address: SocketAddr,
    events: mpsc::UnboundedSender<String>,
    pub signals: mpsc::UnboundedReceiver<Signal>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(function_name: &str) -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (events, events_rx) = mpsc::unbounded_channel();
        let (signals_tx, signals) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            signals: signals_tx,
            function_arn: format!(
                "arn:aws:lambda:{}:{}:function:{function_name}",
                local::emulator::REGION,
                local::emulator::ACCOUNT_ID
            ),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let server = tokio::spawn(async move {
            // Ends when the task is aborted (on drop); an accept error ends it early and the
            // harness then times out waiting, with a message.
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApi {
            address,
            events,
            signals,
            server,
        })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues an event (its JSON payload); the function gets it on its next poll.
    pub fn push(&self, payload: String) {
        // The receiver lives as long as the server; a failure means the server is gone, which
        // the harness notices as a timeout.
        let _ = self.events.send(payload);
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let arrived = Instant::now();
    let _ = shared.signals.send(Signal::Next(arrived));
    // Long poll, as the real Runtime API does: the function waits here until there is work.
    let payload = {
        let mut events = shared.events.lock().await;
        events.recv().await
    };
    let Some(payload) = payload else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let request_id = ulid::Ulid::new().to_string();
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() + 60_000)
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", request_id.clone());
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set("lambda-runtime-invoked-function-arn", shared.function_arn.clone());
    let trace = ulid::Ulid::new().0;
    set(
        "lambda-runtime-trace-id",
        format!(
            "Root=1-{:08x}-{:024x};Sampled=0",
            (trace >> 96) as u32,
            trace & ((1u128 << 96) - 1)
        ),
    );
    set("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, payload).into_response()
}

async fn response(State(shared): State<Arc<Shared>>, Path(_id): Path<String>, body: Bytes) -> StatusCode {
    outcome(&shared, true, &body)
}

async fn error(State(shared): State<Arc<Shared>>, Path(_id): Path<String>, body: Bytes) -> StatusCode {
    outcome(&shared, false, &body)
}

fn outcome(shared: &Shared, ok: bool, body: &[u8]) -> StatusCode {
    let body = String::from_utf8_lossy(body).into_owned();
    let _ = shared.signals.send(Signal::Outcome { ok, body });
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let _ = shared
        .signals
        .send(Signal::InitError(String::from_utf8_lossy(&body).into_owned()));
    StatusCode::ACCEPTED
}

/// A Discord stand-in: every POST gets 204 No Content, as Discord answers a webhook
/// execution without `?wait=true`. Returns the URL to store in the webhook secret.
pub struct DiscordSink {
    url: String,
    server: JoinHandle<()>,
}

impl DiscordSink {
    pub async fn start() -> std::io::Result<DiscordSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/api/webhooks/0/bench", listener.local_addr()?);
        let app = Router::new().fallback(|| async { StatusCode::NO_CONTENT });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(DiscordSink { url, server })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for DiscordSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}
