//! The soak's figures as text: a summary for the test's output and RELIABILITY.md for
//! `make soak`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use super::chaos::Injected;
use super::checker::Count;
use super::{OpKind, Outcome};

/// The faults injected, as counted by those who injected them.
#[derive(Debug, Clone)]
pub struct FaultFigures {
    /// The emulator's counters: calls and faults by service and kind.
    pub emulator: Value,
    pub discord_posts: usize,
    pub discord_refused: usize,
    pub functions: BTreeMap<String, Injected>,
    pub outage: Duration,
    /// Messages left on each dead-letter and on-failure queue.
    pub dead_letters: BTreeMap<String, u64>,
    /// HTTP attempts the history's operations took.
    pub api_attempts: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub setup: Duration,
    pub driven: Duration,
    /// When the faults healed, counted from the last operation, and how many effects were
    /// missing then (late, unless still missing at the check).
    pub healed_after: Duration,
    pub missing_at_heal: u64,
    pub settled: Duration,
    pub total: Duration,
}

/// Dead-letter and on-failure queues: those no mapping consumes and some queue redrives to,
/// or a mapping names as its on-failure destination; here by the template's naming.
const DEAD_ENDS: [&str; 5] = [
    "PointIncreaseDLQ",
    "DiscordNotifyDLQ",
    "MailRetryDLQ",
    "RecordStreamFailuresQueue",
    "MailerStreamFailuresQueue",
];
const WORK_QUEUES: [&str; 3] = ["PointIncreaseQueue", "DiscordNotifyQueue", "MailRetryQueue"];

async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<u64, String> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .map_err(|e| format!("GetQueueAttributes {url}: {e}"))?;
    Ok(attributes
        .attributes()
        .map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0))
}

pub async fn dead_letters(
    sdk: &SdkConfig,
    provisioned: &local::Provisioned,
) -> Result<BTreeMap<String, u64>, String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut depths = BTreeMap::new();
    for queue in DEAD_ENDS {
        let url = provisioned.url(queue).ok_or(queue)?;
        depths.insert(queue.to_owned(), depth(&sqs, url).await?);
    }
    Ok(depths)
}

/// Messages in the work queues, visible, in flight or delayed.
pub async fn work_in_queues(sdk: &SdkConfig, provisioned: &local::Provisioned) -> Result<u64, String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut total = 0;
    for queue in WORK_QUEUES {
        total += depth(&sqs, provisioned.url(queue).ok_or(queue)?).await?;
    }
    Ok(total)
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn count_row(out: &mut String, what: &str, c: &Count) {
    let _ = writeln!(
        out,
        "| {what} | {} | {} | {} | {} | {} |",
        c.expected, c.observed, c.lost, c.duplicated, c.unexpected
    );
}

/// The figures table and the notes: what the test prints and RELIABILITY.md holds.
pub fn summary(outcome: &Outcome) -> String {
    let f = &outcome.figures;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**lost {}, duplicated {}, unexpected {}** over {} operations at {:.0}% faults (seed {}).\n",
        f.lost(),
        f.duplicated(),
        f.unexpected(),
        outcome.history.len(),
        outcome.config.faults * 100.0,
        outcome.config.seed
    );
    out.push_str(
        "| effect | expected | observed | lost | duplicated | unexpected |\n|---|---|---|---|---|---|\n",
    );
    count_row(
        &mut out,
        "ledger: each result's award at its last change",
        &f.ledger,
    );
    count_row(&mut out, "runners' totals", &f.totals);
    count_row(
        &mut out,
        "Discord posts (one per change that moved a total)",
        &f.discord,
    );
    count_row(&mut out, "mails (one to the runner per change)", &f.mail);
    let _ = writeln!(
        out,
        "\nVersions overtaken by a later one before they were applied (no award, hence no post; the next post's delta covers both): {}.",
        f.overtaken
    );
    if !f.notes.is_empty() {
        out.push_str("\nDiscrepancies (the first 20):\n\n");
        for note in &f.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

/// RELIABILITY.md: how it was run, the faults, the operations, the figures, the time.
pub fn markdown(outcome: &Outcome, command: &str) -> String {
    let c = &outcome.config;
    let t = &outcome.timings;
    let faults = &outcome.faults;
    let mut out = String::new();
    out.push_str("# Reliability: the fault-injection soak\n\n");
    out.push_str(
        "Written by `make soak` (`tests/soak_main.rs`, `tests/soak/`), not by hand; docs/DESIGN.md \
         (Testing layers) says what it does. A history of result operations goes through the local \
         stack's HTTP API with the real functions in-process while faults are injected; once the \
         system is quiet, a checker compares what the history implies with every runner's total and \
         ledger, the Discord posts and the mailbox.\n\n",
    );
    let _ = writeln!(out, "Command: `{command}`\n");
    let _ = writeln!(
        out,
        "Seed {}, fault share {:.0}%, {} operations over {} runners and {} marathons ({} results), {} at a time.\n",
        c.seed,
        c.faults * 100.0,
        outcome.history.len(),
        c.runners,
        c.marathons,
        c.runners * c.marathons,
        c.workers
    );
    out.push_str("## Result\n\n");
    out.push_str(&summary(outcome));

    out.push_str("\n## Operations\n\n| operation | committed |\n|---|---|\n");
    let mut kinds: BTreeMap<OpKind, usize> = BTreeMap::new();
    for op in &outcome.history {
        *kinds.entry(op.kind).or_default() += 1;
    }
    for (kind, n) in &kinds {
        let _ = writeln!(out, "| {} | {n} |", kind.label());
    }
    let _ = writeln!(
        out,
        "\n{} HTTP attempts for {} operations: a 5xx (a function killed, a dependency failing past the SDK's retries) is retried with the same request until the answer is definite; a retry that finds its change made gets 200 with the result as sent (a PUT) or 404 (a DELETE).",
        faults.api_attempts,
        outcome.history.len()
    );

    out.push_str("\n## Faults injected\n\n");
    out.push_str("AWS calls by the functions the emulator answered with a fault: throttling, 500 or 503 before handling the request, or 500 or 503 after handling it (the write happened, its answer was lost; never for SES, which keeps no idempotency key):\n\n| service | calls | throttling | 500 | 503 | 500 after | 503 after |\n|---|---|---|---|---|---|---|\n");
    let calls = faults
        .emulator
        .get("calls")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (service, n) in &calls {
        let kinds = &faults.emulator["faults"][service];
        let get = |k: &str| kinds.get(k).and_then(Value::as_u64).unwrap_or(0);
        let _ = writeln!(
            out,
            "| {service} | {n} | {} | {} | {} | {} | {} |",
            get("throttling"),
            get("500"),
            get("503"),
            get("500 after"),
            get("503 after")
        );
    }
    let _ = writeln!(
        out,
        "\nDiscord stand-in: {} posts received, {} answered 429 (retry after 0.1-0.5 s) or 500.\n",
        faults.discord_posts, faults.discord_refused
    );
    out.push_str("Functions (in-process; a kill fails the invocation as a crashed runtime's, `Runtime.ExitError`):\n\n| function | invocations | killed mid-batch after committing a prefix | killed while idle (the next invocation fails) | batch delivered twice at once |\n|---|---|---|---|---|\n");
    for (function, i) in &faults.functions {
        let _ = writeln!(
            out,
            "| {function} | {} | {} | {} | {} |",
            i.invocations, i.killed_mid_batch, i.killed_idle, i.duplicated
        );
    }
    if faults.outage.is_zero() {
        out.push_str("\nNo topic outage.\n");
    } else {
        let _ = writeln!(
            out,
            "\nThe points topic (RecordEventsTopic) deleted for {} a third of the way in, then brought back with its subscription as one redeploy.",
            seconds(faults.outage)
        );
    }
    out.push_str(
        "\nLeft on the dead-letter and on-failure queues at the end:\n\n| queue | messages |\n|---|---|\n",
    );
    for (queue, n) in &faults.dead_letters {
        let _ = writeln!(out, "| {queue} | {n} |");
    }

    out.push_str("\n## Duration\n\n");
    let _ = writeln!(
        out,
        "Set-up (accounts, marathons, registrations) {}, operations {}, then the faults went on {} more (effects still missing when they healed, late so far: {}), until quiet and right {} after the last operation, in all {}.",
        seconds(t.setup),
        seconds(t.driven),
        seconds(t.healed_after),
        t.missing_at_heal,
        seconds(t.settled),
        seconds(t.total)
    );
    out.push_str(
        "\n## How it is run\n\n\
         - The functions' SDK calls carry the user agent `app/mrmrthon-soak`; the emulator faults \
         only those, so the stack's own pollers (AWS's control plane locally) and the checker are not \
         faulted. Throttling is answered before the request is handled; half of the 5xx of DynamoDB, \
         SNS and SQS after it (TransactWriteItems stays idempotent by its ClientRequestToken, as on \
         AWS).\n\
         - Kills, idle kills and duplicate deliveries are drawn per invocation (a quarter, an eighth \
         and a quarter of the fault share); all faults stay on after the last operation until every \
         effect is there or a quarter of the settle time (SOAK_SETTLE) has passed; then they all \
         heal (Jepsen's final phase) and the check waits, within the settle time, for the missing \
         effects and for the work queues to empty, then 3 s more for late duplicates. An effect \
         missing at the check is lost, whenever the faults healed.\n\
         - Each work queue hides a message for its consumer's timeout (the least Lambda allows) \
         instead of six times it, and a deferred mail waits 1-2 s instead of 10-60 s, so a bounded \
         run sees many retries; everything else is template.yaml's.\n\
         - Options: `make soak SOAK_OPS=2000 SOAK_FAULTS=0.3 SOAK_SEED=9` (also SOAK_RUNNERS, \
         SOAK_MARATHONS, SOAK_OUTAGE seconds, SOAK_WORKERS, SOAK_SETTLE seconds). The seed fixes every \
         draw; timing still varies from run to run, so two runs with one seed differ in detail.\n",
    );
    out
}
