//! `mrmrthon-local reconcile`: one reconcile pass on demand against `make dev`'s stack,
//! through the function `make dev` runs under `cargo lambda watch` (the same code the
//! EventBridge schedule invokes every 15 minutes on AWS), with the schedule's event.
//! The pass leaves markers younger than the function's GRACE_SECONDS (template.yaml) to
//! the normal path.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{DEFAULT_ENDPOINT, provision_endpoint, running};
use crate::error::{Error, Result};
use crate::invoke::{Invoker, WatchInvoker};
use crate::provision::Provisioned;
use crate::stack::STACK_NAME;

/// The function's logical id in template.yaml.
pub const FUNCTION: &str = "ReconcileFunction";

/// What EventBridge sends on a schedule (events/reconcile/schedule.json): the function
/// reads nothing from it.
pub fn scheduled_event(now: time::OffsetDateTime) -> Value {
    let time = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({
        "version": "0",
        "id": ulid::Ulid::new().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time,
        "region": "us-east-1",
        "resources": [],
        "detail": {}
    })
}

pub async fn run(endpoint: Option<String>, invoke_url: Option<String>) -> Result<()> {
    let endpoint = endpoint
        .or_else(|| running::Running::current().map(|r| r.endpoint))
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let provisioned: Provisioned = provision_endpoint(&endpoint, STACK_NAME, BTreeMap::new(), None).await?;
    let function = provisioned
        .function(FUNCTION)
        .ok_or_else(|| Error::Reconcile(format!("template.yaml has no {FUNCTION}")))?;
    let invoker = WatchInvoker::new(invoke_url.unwrap_or_else(|| "http://127.0.0.1:9000".to_owned()));
    let report = invoker
        .invoke(function, scheduled_event(time::OffsetDateTime::now_utc()))
        .await
        .map_err(|e| Error::Reconcile(e.to_string()))?;
    // {"checked": n, "repaired": n, "acknowledged": n}
    println!("reconcile: {report}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_has_the_shape_of_the_sample() {
        let sample: Value =
            serde_json::from_str(include_str!("../../../events/reconcile/schedule.json")).unwrap();
        let event = scheduled_event(time::macros::datetime!(2026-11-21 10:15 UTC));
        for field in ["version", "detail-type", "source", "detail"] {
            assert_eq!(event[field], sample[field], "{field}");
        }
        assert_eq!(event["time"], "2026-11-21T10:15:00Z");
    }
}
