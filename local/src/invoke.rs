//! How the local stack invokes a function: `Invoker`, with one implementation that POSTs
//! to `cargo lambda watch`'s invoke endpoint (`make dev`) and one that calls async
//! handlers in this process (the tests).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::function_host::{CHECK_EVERY, FunctionHost, Serving};
use crate::http_client::HttpClient;
use crate::provision::Function;

/// Why an invocation produced no usable response. The event source mappings count every
/// variant as the whole batch failing; the gateway answers 500 (503 on a timeout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The handler returned an error (Lambda's `FunctionError: Unhandled`).
    #[error("{function} returned an error: {error_type}: {message}")]
    Function {
        function: String,
        error_type: String,
        message: String,
    },
    #[error("{function} timed out after {timeout:?}")]
    Timeout { function: String, timeout: Duration },
    #[error("{function} answered something that is not JSON: {detail}")]
    BadResponse { function: String, detail: String },
    #[error("cannot invoke {function}: {detail}")]
    Transport { function: String, detail: String },
    #[error("no in-process handler for {0}")]
    NoHandler(String),
}

impl InvokeError {
    /// True when the function ran and failed (as opposed to not being reached).
    pub fn is_function_error(&self) -> bool {
        matches!(
            self,
            InvokeError::Function { .. } | InvokeError::Timeout { .. } | InvokeError::BadResponse { .. }
        )
    }
}

/// Invokes a function with a JSON event and returns its JSON response.
pub trait Invoker: Send + Sync {
    fn invoke<'a>(
        &'a self,
        function: &'a Function,
        event: Value,
    ) -> BoxFuture<'a, Result<Value, InvokeError>>;

    /// Whether this invoker can run `function` at all. The stack starts no mapping for a
    /// function it cannot serve (tests register only the handlers they need).
    fn serves(&self, function: &Function) -> bool {
        let _ = function;
        true
    }

    /// One line for the start-up summary.
    fn describe(&self) -> String;
}

/// `cargo lambda watch`'s Lambda invoke API. It compiles a function on its first
/// invocation, which can take minutes, so the wait is long; it answers a handler error
/// with HTTP 500 (not 200 + `X-Amz-Function-Error` as Lambda does), read here as a
/// function error too.
pub struct WatchInvoker {
    base: String,
    client: HttpClient,
    timeout: Duration,
    /// Watches the function processes and replaces a dead one (`make dev`).
    host: Option<Arc<FunctionHost>>,
}

/// Beyond the function's own timeout, for the runtime's round trips.
const TIMEOUT_GRACE: Duration = Duration::from_secs(3);

/// Long enough for `cargo lambda watch` to compile a function on its first invocation.
pub const WATCH_TIMEOUT: Duration = Duration::from_secs(15 * 60);

impl WatchInvoker {
    /// `base` is `http://127.0.0.1:9000` (no trailing slash needed).
    pub fn new(base: impl Into<String>) -> WatchInvoker {
        WatchInvoker {
            base: base.into().trim_end_matches('/').to_owned(),
            client: HttpClient::new(),
            timeout: WATCH_TIMEOUT,
            host: None,
        }
    }

    /// Watches the processes of `cargo lambda watch` (its process id): a function whose
    /// process died fails its invocation at once and gets a fresh process, and once a
    /// process serves, an invocation waits no longer than the function's timeout.
    pub fn with_host(mut self, host: Arc<FunctionHost>) -> WatchInvoker {
        self.host = Some(host);
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> WatchInvoker {
        self.timeout = timeout;
        self
    }

    /// The invoke URL of a function, as `cargo lambda invoke` uses it.
    pub fn url(&self, function: &Function) -> String {
        format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.base,
            function.binary_name()
        )
    }
}

impl Invoker for WatchInvoker {
    fn invoke<'a>(
        &'a self,
        function: &'a Function,
        event: Value,
    ) -> BoxFuture<'a, Result<Value, InvokeError>> {
        async move {
            let name = function.logical_id.clone();
            let url = self.url(function);
            let request = self.client.post_json(&url, &event, self.timeout);
            let response = match &self.host {
                None => request.await,
                Some(host) => match watched(host, function, request).await {
                    Watched::Answered(response) => response,
                    Watched::Exited(pid) => {
                        return Err(InvokeError::Function {
                            function: name,
                            error_type: "Runtime.ExitError".to_owned(),
                            message: format!("the function's process {pid} exited during the invocation"),
                        });
                    }
                    Watched::TimedOut => {
                        return Err(InvokeError::Timeout {
                            function: name,
                            timeout: function.timeout,
                        });
                    }
                },
            }
            .map_err(|detail| InvokeError::Transport {
                function: name.clone(),
                detail,
            })?;
            let function_error = response.header("x-amz-function-error").map(str::to_owned);
            if (200..300).contains(&response.status) && function_error.is_none() {
                return parse_payload(&name, &response.body);
            }
            if response.status == 500 || function_error.is_some() {
                let body = response.json().unwrap_or(Value::Null);
                return Err(function_error_of(name, &body, function_error, response.text()));
            }
            Err(InvokeError::Transport {
                function: name,
                detail: format!("HTTP {}: {}", response.status, response.text()),
            })
        }
        .boxed()
    }

    fn describe(&self) -> String {
        format!("cargo lambda watch at {}", self.base)
    }
}

enum Watched<T> {
    Answered(T),
    Exited(i32),
    TimedOut,
}

/// Waits for `request` while looking at the process serving `function`: its death ends
/// the wait (and a fresh process is started), and once a process serves, the wait is
/// bounded by the function's timeout (a compile before the first start does not count):
/// an invocation handed to a runtime that died while idle is never answered.
async fn watched<T>(
    host: &FunctionHost,
    function: &Function,
    request: impl Future<Output = T>,
) -> Watched<T> {
    let binary = function.binary_name();
    // cargo lambda runs one invocation of a function at a time: room for one ahead in line
    let limit = function.timeout * 2 + TIMEOUT_GRACE;
    let mut serving = match host.serving(binary) {
        Serving::Alive(pid) => Some((pid, tokio::time::Instant::now())),
        Serving::NotStarted => None,
    };
    tokio::pin!(request);
    loop {
        tokio::select! {
            response = &mut request => return Watched::Answered(response),
            () = tokio::time::sleep(CHECK_EVERY) => {}
        }
        match serving {
            Some((pid, _)) if !FunctionHost::alive(pid) => {
                // replaced now, so the retry finds it warm
                host.serving(binary);
                return Watched::Exited(pid);
            }
            Some((_, since)) if since.elapsed() > limit => return Watched::TimedOut,
            Some(_) => {}
            None => {
                if let Serving::Alive(pid) = host.serving(binary) {
                    serving = Some((pid, tokio::time::Instant::now()));
                }
            }
        }
    }
}

/// A function error from Lambda's error body (`errorType`, `errorMessage`), with what the
/// transport said (`X-Amz-Function-Error`) and its text as fallbacks.
pub(crate) fn function_error_of(
    function: String,
    body: &Value,
    error_type: Option<String>,
    fallback_message: String,
) -> InvokeError {
    let field = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    InvokeError::Function {
        function,
        error_type: field("errorType")
            .or(error_type)
            .unwrap_or_else(|| "Unhandled".to_owned()),
        message: field("errorMessage").unwrap_or(fallback_message),
    }
}

/// An empty payload is how a handler returning `()` answers; anything else must be JSON.
pub(crate) fn parse_payload(function: &str, body: &[u8]) -> Result<Value, InvokeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| InvokeError::BadResponse {
        function: function.to_owned(),
        detail: format!("{e}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])),
    })
}

/// The error an in-process handler returns.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

type Handler = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, HandlerError>> + Send + Sync>;

/// Async handlers in this process, by function logical id. Each invocation runs on a task
/// of its own, so a panic is a function error (as a crashed runtime is in Lambda), and is
/// cut off at the function's `Timeout`.
#[derive(Clone, Default)]
pub struct InProcess {
    handlers: HashMap<String, Handler>,
}

impl InProcess {
    pub fn new() -> InProcess {
        InProcess::default()
    }

    /// Registers the handler of the function with this logical id.
    pub fn with<F, Fut>(mut self, logical_id: &str, handler: F) -> InProcess
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |event| handler(event).boxed());
        self.handlers.insert(logical_id.to_owned(), handler);
        self
    }
}

impl Invoker for InProcess {
    fn invoke<'a>(
        &'a self,
        function: &'a Function,
        event: Value,
    ) -> BoxFuture<'a, Result<Value, InvokeError>> {
        async move {
            let name = function.logical_id.clone();
            let handler = self
                .handlers
                .get(&name)
                .cloned()
                .ok_or_else(|| InvokeError::NoHandler(name.clone()))?;
            let task = tokio::spawn(handler(event));
            let abort = task.abort_handle();
            match tokio::time::timeout(function.timeout, task).await {
                Ok(Ok(Ok(response))) => Ok(response),
                Ok(Ok(Err(error))) => Err(InvokeError::Function {
                    function: name,
                    error_type: "Error".to_owned(),
                    message: error.to_string(),
                }),
                Ok(Err(join)) => Err(InvokeError::Function {
                    function: name,
                    error_type: "Runtime.ExitError".to_owned(),
                    message: format!("the handler panicked: {join}"),
                }),
                Err(_) => {
                    abort.abort();
                    Err(InvokeError::Timeout {
                        function: name,
                        timeout: function.timeout,
                    })
                }
            }
        }
        .boxed()
    }

    fn serves(&self, function: &Function) -> bool {
        self.handlers.contains_key(&function.logical_id)
    }

    fn describe(&self) -> String {
        let mut names: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        names.sort_unstable();
        format!("in-process handlers: {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn function(timeout_ms: u64) -> Function {
        Function {
            logical_id: "Fn".into(),
            code_uri: None,
            binary: Some("fn-bin".into()),
            environment: BTreeMap::new(),
            timeout: Duration::from_millis(timeout_ms),
            events: Vec::new(),
        }
    }

    #[tokio::test]
    async fn in_process_results_errors_panics_and_timeouts() {
        let invoker = InProcess::new().with("Fn", |event: Value| async move {
            match event["do"].as_str() {
                Some("echo") => Ok(event),
                Some("fail") => Err("boom".into()),
                Some("panic") => panic!("kaboom"),
                _ => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(Value::Null)
                }
            }
        });
        let f = function(200);
        assert!(invoker.serves(&f));
        let echo = invoker.invoke(&f, json!({"do": "echo"})).await.unwrap();
        assert_eq!(echo["do"], "echo");
        match invoker.invoke(&f, json!({"do": "fail"})).await {
            Err(InvokeError::Function { message, .. }) => assert_eq!(message, "boom"),
            other => panic!("{other:?}"),
        }
        match invoker.invoke(&f, json!({"do": "panic"})).await {
            Err(InvokeError::Function { error_type, .. }) => assert_eq!(error_type, "Runtime.ExitError"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            invoker.invoke(&f, json!({"do": "hang"})).await,
            Err(InvokeError::Timeout { .. })
        ));
        let mut other = function(200);
        other.logical_id = "Other".into();
        assert!(!invoker.serves(&other));
        assert_eq!(
            invoker.invoke(&other, Value::Null).await,
            Err(InvokeError::NoHandler("Other".into()))
        );
    }

    #[test]
    fn payloads_empty_json_or_bad() {
        assert_eq!(parse_payload("F", b"").unwrap(), Value::Null);
        assert_eq!(parse_payload("F", b"{\"a\":1}").unwrap(), json!({"a": 1}));
        assert!(matches!(
            parse_payload("F", b"<html>"),
            Err(InvokeError::BadResponse { .. })
        ));
    }

    #[test]
    fn the_watch_url_uses_the_binary_name() {
        let invoker = WatchInvoker::new("http://127.0.0.1:9000/");
        assert_eq!(
            invoker.url(&function(1)),
            "http://127.0.0.1:9000/2015-03-31/functions/fn-bin/invocations"
        );
    }
}
