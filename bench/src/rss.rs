//! Peak RSS: one bootstrap handles a burst of representative events through the stub
//! Runtime API; VmHWM is read from /proc/<pid>/status at the end, before it is stopped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bootstrap::start_function;
use crate::fixtures;
use crate::lab::{Function, Lab, Result};
use crate::runtime_api::{RuntimeApi, Signal};

const INIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Per invocation; the emulator is slow but never this slow.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Burst {
    pub invocations: usize,
    /// How the invocations ended: "ok", "HTTP 200", "partial batch failure", "function error"...
    pub outcomes: BTreeMap<String, usize>,
    pub first_error: Option<String>,
    pub peak_rss: u64,
    pub wall: Duration,
    pub describe: String,
}

pub async fn measure(lab: &Lab, function: &Function, count: usize) -> Result<Burst> {
    let plan = fixtures::plan(lab, function, count).await?;
    let (mut api, mut running) = start_function(lab, function, "burst").await?;
    let outcome = async {
        running.first_poll(&mut api, INIT_TIMEOUT).await?;
        let mut burst = Burst {
            invocations: 0,
            outcomes: BTreeMap::new(),
            first_error: None,
            peak_rss: 0,
            wall: Duration::ZERO,
            describe: plan.describe,
        };
        let started = Instant::now();
        let mut replies = Vec::new();
        for event in plan.setup {
            api.push(event);
            replies.push(next_outcome(&mut running, &mut api, &mut burst).await?);
        }
        let events = (plan.burst)(&replies)?;
        let total = events.len();
        for event in events {
            api.push(event);
        }
        for _ in 0..total {
            next_outcome(&mut running, &mut api, &mut burst).await?;
        }
        burst.wall = started.elapsed();
        burst.peak_rss = running.peak_rss()?;
        Ok(burst)
    }
    .await;
    running.stop().await;
    outcome
}

/// Waits for the next response or error; counts and classifies it; returns its payload.
async fn next_outcome(
    running: &mut crate::bootstrap::Running,
    api: &mut RuntimeApi,
    burst: &mut Burst,
) -> Result<String> {
    loop {
        match running.signal(api, INVOKE_TIMEOUT).await? {
            Signal::Next(_) => {}
            Signal::InitError(body) => return Err(format!("init error: {body}")),
            Signal::Outcome { ok, body, .. } => {
                burst.invocations += 1;
                let class = classify(ok, &body);
                if class != "ok" && !class.starts_with("HTTP 2") && burst.first_error.is_none() {
                    burst.first_error = Some(format!("{class}: {}", truncate(&body, 300)));
                }
                *burst.outcomes.entry(class).or_default() += 1;
                return Ok(body);
            }
        }
    }
}

pub(crate) fn classify(ok: bool, body: &str) -> String {
    if !ok {
        return "function error".into();
    }
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return "ok".into();
    };
    if let Some(status) = value.get("statusCode").and_then(Value::as_u64) {
        return format!("HTTP {status}");
    }
    match value.get("batchItemFailures").and_then(Value::as_array) {
        Some(failures) if !failures.is_empty() => "partial batch failure".into(),
        _ => "ok".into(),
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_classified() {
        assert_eq!(classify(false, "{}"), "function error");
        assert_eq!(classify(true, r#"{"statusCode":409,"body":""}"#), "HTTP 409");
        assert_eq!(
            classify(true, r#"{"batchItemFailures":[{"itemIdentifier":"a"}]}"#),
            "partial batch failure"
        );
        assert_eq!(classify(true, r#"{"batchItemFailures":[]}"#), "ok");
        assert_eq!(classify(true, "not json"), "ok");
        assert_eq!(truncate("éééé", 2), "éé…");
    }
}
