//! A function process killed under `cargo lambda watch` comes back, as on Lambda: the real
//! `cargo lambda watch` (from .venv, as `make dev` runs it) serves api-docs, the smallest
//! function (no AWS); its process is killed while idle, then in the middle of an
//! invocation, and each time the next invocation is answered within seconds by a fresh
//! process.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use local::dev::children::Supervised;
use local::emulator::{repo_root, venv_dir};
use local::function_host::{FunctionHost, Serving};
use local::{Function, InvokeError, Invoker, WatchInvoker};
use serde_json::{Value, json};

fn api_docs() -> Function {
    Function {
        logical_id: "ApiDocsFunction".into(),
        code_uri: None,
        binary: Some("api-docs".into()),
        environment: BTreeMap::new(),
        timeout: Duration::from_secs(3),
        events: Vec::new(),
    }
}

/// An HTTP API (payload 2.0) request for the OpenAPI document.
fn get_document() -> Value {
    json!({
        "version": "2.0", "routeKey": "GET /openapi.json", "rawPath": "/openapi.json", "rawQueryString": "",
        "headers": {"host": "127.0.0.1"}, "isBase64Encoded": false,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "local",
            "requestId": "crash-test", "routeKey": "GET /openapi.json", "stage": "$default",
            "time": "30/Nov/2026:06:00:00 +0000", "timeEpoch": 1795932000000u64,
            "http": {"method": "GET", "path": "/openapi.json", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "crash-test"}
        }
    })
}

fn signal(pid: i32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

async fn served(invoker: &WatchInvoker, what: &str, within: Duration) -> Duration {
    let started = Instant::now();
    let answer = tokio::time::timeout(within, invoker.invoke(&api_docs(), get_document()))
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {within:?}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(answer["statusCode"], 200, "{what}: {answer}");
    started.elapsed()
}

fn serving(host: &FunctionHost) -> i32 {
    match host.serving("api-docs") {
        Serving::Alive(pid) => pid,
        Serving::NotStarted => panic!("no api-docs process after an answered invocation"),
    }
}

#[tokio::test]
async fn a_killed_function_process_is_replaced_and_the_next_invocation_served() {
    let cargo_lambda = venv_dir().join("bin").join("cargo-lambda");
    assert!(
        cargo_lambda.exists(),
        "{} is missing: run `make tools`",
        cargo_lambda.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let args: Vec<String> = [
        "lambda",
        "watch",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
        "--ignore-changes",
    ]
    .map(String::from)
    .to_vec();
    let watch = Supervised::spawn("cargo lambda watch", &cargo_lambda, &args, &repo_root()).unwrap();
    let host = Arc::new(FunctionHost::new(watch.pid().unwrap()));
    let invoker = WatchInvoker::new(format!("http://127.0.0.1:{port}"))
        .with_timeout(Duration::from_secs(600))
        .with_host(Arc::clone(&host));

    // the first invocation may build the binary
    let mut first = Err(String::new());
    for _ in 0..40 {
        match tokio::time::timeout(
            Duration::from_secs(600),
            invoker.invoke(&api_docs(), get_document()),
        )
        .await
        {
            Ok(Ok(answer)) if answer["statusCode"] == 200 => {
                first = Ok(answer);
                break;
            }
            // the watch's port is not open yet
            Ok(Err(InvokeError::Transport { detail, .. })) => {
                first = Err(detail);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            other => panic!("first invocation: {other:?}"),
        }
    }
    first.expect("cargo lambda watch serves api-docs");
    let original = serving(&host);

    // killed while idle: the next invocation starts a fresh process and is answered. `kill`
    // returns before the process is gone; "idle" means gone before the next invocation
    // comes (on a loaded machine an invocation sent at once met the dying process)
    signal(original, "KILL");
    let dying = Instant::now();
    while FunctionHost::alive(original) {
        assert!(
            dying.elapsed() < Duration::from_secs(10),
            "{original} outlived SIGKILL"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = served(&invoker, "after a kill while idle", Duration::from_secs(20)).await;
    assert!(took < Duration::from_secs(10), "{took:?}");
    let fresh = serving(&host);
    assert_ne!(fresh, original);

    // killed in the middle of an invocation (held stopped, so the kill lands mid-flight):
    // the invocation fails at once as a crash, and the retry is answered
    signal(fresh, "STOP");
    let pending = tokio::spawn({
        let invoker = WatchInvoker::new(format!("http://127.0.0.1:{port}"))
            .with_timeout(Duration::from_secs(60))
            .with_host(Arc::clone(&host));
        async move {
            let started = Instant::now();
            (
                invoker.invoke(&api_docs(), get_document()).await,
                started.elapsed(),
            )
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    signal(fresh, "KILL");
    let (crashed, after) = pending.await.unwrap();
    match crashed {
        Err(InvokeError::Function {
            error_type, message, ..
        }) => {
            assert_eq!(error_type, "Runtime.ExitError", "{message}");
        }
        other => panic!("the invocation in flight: {other:?}"),
    }
    assert!(
        after < Duration::from_secs(5),
        "the crash was noticed after {after:?}"
    );
    let took = served(
        &invoker,
        "the retry after a kill mid-invocation",
        Duration::from_secs(20),
    )
    .await;
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_ne!(serving(&host), fresh);

    drop(invoker);
    drop(host);
    watch.stop().await;
}
