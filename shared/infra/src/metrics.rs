//! Business and pipeline metrics in CloudWatch Embedded Metric Format: counters through the
//! `metrics` facade, written by `metrics_cloudwatch_embedded` as one JSON line per
//! invocation on stdout, which Lambda sends to CloudWatch Logs and CloudWatch turns into
//! metrics (no PutMetricData call, nothing on the request path). Locally the same lines
//! show in the `make dev` log.
//!
//! Every metric the code emits is a `Metric`, so the dashboard in template.yaml can be
//! checked against `Metric::ALL` (tests/whole_stack/template_policy.rs).

use std::sync::OnceLock;

use metrics_cloudwatch_embedded::Collector;

/// The CloudWatch namespace of every metric here.
pub const NAMESPACE: &str = "mrmrthon";
/// The dimension naming the function that emitted a metric.
pub const SERVICE: &str = "Service";
/// The dimension of a metric counted per outcome.
pub const OUTCOME: &str = "Outcome";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Official results created or corrected (record-api).
    ResultsRecorded,
    /// Awards the ledger moved to a newer version (point-increase).
    AwardsApplied,
    /// Deliveries of a version the ledger already had, or an older one: no effect.
    AwardsUnchanged,
    /// Points added to (or, negative, taken from) runners' totals, in absolute value.
    PointsMoved,
    /// Discord posts, per outcome (posted, duplicate, retried, failed).
    DiscordPosts,
    /// Mails, per outcome (sent, duplicate, failed, skipped).
    Mails,
    /// Results and removals a reconcile pass compared with the ledger.
    ReconcileChecked,
    /// Of those, the ones whose event reconcile published again (the ledger lacked them).
    ReconcileRepaired,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::ResultsRecorded,
        Metric::AwardsApplied,
        Metric::AwardsUnchanged,
        Metric::PointsMoved,
        Metric::DiscordPosts,
        Metric::Mails,
        Metric::ReconcileChecked,
        Metric::ReconcileRepaired,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::ResultsRecorded => "ResultsRecorded",
            Metric::AwardsApplied => "AwardsApplied",
            Metric::AwardsUnchanged => "AwardsUnchanged",
            Metric::PointsMoved => "PointsMoved",
            Metric::DiscordPosts => "DiscordPosts",
            Metric::Mails => "Mails",
            Metric::ReconcileChecked => "ReconcileChecked",
            Metric::ReconcileRepaired => "ReconcileRepaired",
        }
    }

    /// Whether the metric carries the `Outcome` dimension.
    pub fn per_outcome(self) -> bool {
        matches!(self, Metric::DiscordPosts | Metric::Mails)
    }
}

static COLLECTOR: OnceLock<Option<&'static Collector>> = OnceLock::new();

/// Installs the process's recorder, its metrics tagged with `service`. Once per process:
/// a second call (several functions in one test process) keeps the first recorder.
pub fn init(service: &'static str) {
    COLLECTOR.get_or_init(|| {
        metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .with_dimension(SERVICE, service)
            .init()
            .map_err(|e| tracing::warn!("metrics are off: {e}"))
            .ok()
    });
}

/// Counts `n` of `metric` (a no-op until `init`).
pub fn count(metric: Metric, n: u64) {
    debug_assert!(!metric.per_outcome(), "{} is counted per outcome", metric.name());
    metrics::counter!(metric.name()).increment(n);
}

/// Counts one `metric` with this outcome.
pub fn outcome(metric: Metric, outcome: &'static str) {
    debug_assert!(metric.per_outcome(), "{} has no outcome", metric.name());
    metrics::counter!(metric.name(), OUTCOME => outcome).increment(1);
}

/// Writes what was counted since the last flush as EMF lines to `out`; nothing when
/// nothing was counted. Call at the end of each invocation.
pub fn flush_to(out: impl std::io::Write) {
    if let Some(Some(collector)) = COLLECTOR.get()
        && let Err(e) = collector.flush(out)
    {
        tracing::warn!("cannot write metrics: {e}");
    }
}

/// `flush_to` stdout, where Lambda collects EMF lines.
pub fn flush() {
    flush_to(std::io::stdout().lock());
}

/// An HTTP function's router that flushes after each response (one request per
/// invocation on Lambda).
pub fn flushed_per_request(router: axum::Router) -> axum::Router {
    router.layer(axum::middleware::map_response(
        |response: axum::response::Response| async {
            flush();
            response
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_metrics_flush_as_one_emf_document_per_outcome_then_nothing() {
        init("test-service");
        count(Metric::ResultsRecorded, 2);
        outcome(Metric::Mails, "sent");
        outcome(Metric::Mails, "sent");
        outcome(Metric::Mails, "failed");
        let mut out = Vec::new();
        flush_to(&mut out);
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        let value = |name: &str, outcome: Option<&str>| {
            lines
                .iter()
                .find(|l| l.get(name).is_some() && l.get(OUTCOME).and_then(|o| o.as_str()) == outcome)
                .map(|l| {
                    let namespace = &l["_aws"]["CloudWatchMetrics"][0];
                    assert_eq!(namespace["Namespace"], NAMESPACE);
                    assert_eq!(l[SERVICE], "test-service");
                    l[name].as_f64().unwrap()
                })
        };
        assert_eq!(value("ResultsRecorded", None), Some(2.0));
        assert_eq!(value("Mails", Some("sent")), Some(2.0));
        assert_eq!(value("Mails", Some("failed")), Some(1.0));
        let mut again = Vec::new();
        flush_to(&mut again);
        assert!(again.is_empty(), "counters restart at zero after a flush");
    }

    #[test]
    fn names_are_unique() {
        let names: std::collections::BTreeSet<_> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len());
    }
}
