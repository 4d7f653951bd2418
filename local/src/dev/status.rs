//! `mrmrthon-local status`: the local stack at a glance. Whether `make dev` runs, each
//! queue's depth (work queues, dead-letter queues, on-failure queues), each table's item
//! count, the saved state, and the last hops (from the file `make dev` keeps, see
//! `persist`). Read-only: it lists what the emulator has rather than provisioning.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use aws_sdk_dynamodb::types::Select;
use aws_sdk_sqs::types::QueueAttributeName;

use super::running::Running;
use crate::emulator::sdk_config;
use crate::error::{Error, Result};
use crate::moto_api;
use crate::stack::STACK_NAME;
use crate::state::{self, Snapshot};

/// What the report is made from; `make dev`'s files by default.
pub struct Sources<'a> {
    pub endpoint: &'a str,
    pub running: Option<Running>,
    pub hops_file: &'a Path,
    pub state_dir: &'a Path,
    pub hops_shown: usize,
}

/// One queue's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub name: String,
    pub role: &'static str,
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

/// The whole report as text.
pub async fn report(sources: &Sources<'_>) -> Result<String> {
    let mut out = String::new();
    let line = |out: &mut String, text: String| {
        let _ = writeln!(out, "{text}");
    };
    match &sources.running {
        Some(r) if r.is_alive() => line(
            &mut out,
            format!(
                "make dev       running (pid {}, since {}); site {}, API {}, Discord sink {}",
                r.pid, r.started_at, r.site_url, r.api_url, r.sink_url
            ),
        ),
        Some(r) => line(
            &mut out,
            format!(
                "make dev       not running (pid {} of {} is gone: killed?)",
                r.pid, r.started_at
            ),
        ),
        None => line(&mut out, "make dev       not running".into()),
    }

    let answering = moto_api::is_answering(sources.endpoint, Duration::from_secs(2));
    if answering {
        line(
            &mut out,
            format!("emulator       {} (answering)", sources.endpoint),
        );
        let config = sdk_config(sources.endpoint);
        let queues = queues(&aws_sdk_sqs::Client::new(&config)).await?;
        let work: u64 = queues
            .iter()
            .filter(|q| q.role == "work")
            .map(|q| q.visible + q.in_flight + q.delayed)
            .sum();
        let dead: u64 = queues
            .iter()
            .filter(|q| q.role != "work")
            .map(|q| q.visible + q.in_flight + q.delayed)
            .sum();
        let verdict = match (work, dead) {
            (0, 0) => "quiet: nothing waiting or in flight, nothing dead-lettered".to_owned(),
            (0, d) => format!("quiet, but {d} message(s) wait in dead-letter / on-failure queues"),
            (w, _) => format!("busy: {w} message(s) on work queues"),
        };
        line(&mut out, format!("pipeline       {verdict}"));
        line(&mut out, String::new());
        line(
            &mut out,
            format!(
                "{:<40} {:<12} {:>8} {:>10} {:>8}",
                "QUEUE", "ROLE", "VISIBLE", "IN FLIGHT", "DELAYED"
            ),
        );
        for q in &queues {
            let hint = match q.role {
                "dead-letter" if q.visible > 0 => format!(
                    "  <- make redrive QUEUE={}",
                    q.name.strip_prefix(&format!("{STACK_NAME}-")).unwrap_or(&q.name)
                ),
                "on-failure" if q.visible > 0 => "  <- discarded stream batches: see docs/DESIGN.md".into(),
                _ => String::new(),
            };
            line(
                &mut out,
                format!(
                    "{:<40} {:<12} {:>8} {:>10} {:>8}{hint}",
                    q.name, q.role, q.visible, q.in_flight, q.delayed
                ),
            );
        }
        line(&mut out, String::new());
        line(&mut out, format!("{:<40} {:>8}", "TABLE", "ITEMS"));
        for (table, count) in tables(&aws_sdk_dynamodb::Client::new(&config)).await? {
            line(&mut out, format!("{table:<40} {count:>8}"));
        }
    } else {
        line(
            &mut out,
            format!(
                "emulator       {} does not answer: no queues or tables to show",
                sources.endpoint
            ),
        );
    }

    line(&mut out, String::new());
    let state_file = state::snapshot_path(sources.state_dir);
    match Snapshot::load(sources.state_dir) {
        Ok(Some(s)) => line(
            &mut out,
            format!(
                "saved state    {} items, {} dead-letter messages, taken {} ({})",
                s.item_count(),
                s.message_count(),
                s.taken_at,
                state_file.display()
            ),
        ),
        Ok(None) => line(&mut out, "saved state    none (make dev saves it)".into()),
        Err(e) => line(&mut out, format!("saved state    unreadable: {e}")),
    }

    let hops = last_lines(sources.hops_file, sources.hops_shown);
    if hops.is_empty() {
        line(&mut out, "last hops      none recorded".into());
    } else {
        line(
            &mut out,
            format!("last hops      (from {})", sources.hops_file.display()),
        );
        for hop in hops {
            line(&mut out, format!("  {hop}"));
        }
    }
    Ok(out)
}

/// Every queue of the emulator with its role: `work` when it redrives to a DLQ or is
/// consumed, `dead-letter` when another queue's RedrivePolicy names it, `on-failure` for
/// the rest (the stream mappings' destinations).
pub async fn queues(sqs: &aws_sdk_sqs::Client) -> Result<Vec<QueueRow>> {
    let mut urls = Vec::new();
    let mut token = None;
    loop {
        let listed = sqs
            .list_queues()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| Error::aws("ListQueues", e))?;
        urls.extend(listed.queue_urls.unwrap_or_default());
        token = listed.next_token;
        if token.is_none() {
            break;
        }
    }
    let mut rows = Vec::new();
    let mut dead_letter_targets = BTreeSet::new();
    let mut redriving = BTreeSet::new();
    for url in &urls {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(|e| Error::aws(format!("GetQueueAttributes {url}"), e))?
            .attributes
            .unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let name = url.rsplit('/').next().unwrap_or(url).to_owned();
        if let Some(policy) = attributes.get(&QueueAttributeName::RedrivePolicy) {
            redriving.insert(name.clone());
            if let Some(target) = serde_json::from_str::<serde_json::Value>(policy)
                .ok()
                .and_then(|p| p["deadLetterTargetArn"].as_str().map(str::to_owned))
            {
                dead_letter_targets.insert(target.rsplit(':').next().unwrap_or_default().to_owned());
            }
        }
        rows.push(QueueRow {
            name,
            role: "",
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        });
    }
    for row in &mut rows {
        row.role = if redriving.contains(&row.name) {
            "work"
        } else if dead_letter_targets.contains(&row.name) {
            "dead-letter"
        } else {
            "on-failure"
        };
    }
    rows.sort_by(|a, b| (role_order(a.role), &a.name).cmp(&(role_order(b.role), &b.name)));
    Ok(rows)
}

fn role_order(role: &str) -> u8 {
    match role {
        "work" => 0,
        "dead-letter" => 1,
        _ => 2,
    }
}

/// Every table with its exact item count (a counting Scan: the emulator's ItemCount is
/// not live, and local tables are small).
pub async fn tables(dynamodb: &aws_sdk_dynamodb::Client) -> Result<Vec<(String, u64)>> {
    let mut names = Vec::new();
    let mut start = None;
    loop {
        let listed = dynamodb
            .list_tables()
            .set_exclusive_start_table_name(start)
            .send()
            .await
            .map_err(|e| Error::aws("ListTables", e))?;
        names.extend(listed.table_names.unwrap_or_default());
        start = listed.last_evaluated_table_name;
        if start.is_none() {
            break;
        }
    }
    let mut counts = Vec::new();
    for name in names {
        let mut count = 0u64;
        let mut key = None;
        loop {
            let page = dynamodb
                .scan()
                .table_name(&name)
                .select(Select::Count)
                .set_exclusive_start_key(key)
                .send()
                .await
                .map_err(|e| Error::aws(format!("Scan {name}"), e))?;
            count += page.count.max(0) as u64;
            key = page.last_evaluated_key.filter(|k| !k.is_empty());
            if key.is_none() {
                break;
            }
        }
        counts.push((name, count));
    }
    Ok(counts)
}

/// The last `n` lines of a file; none when it does not exist.
fn last_lines(path: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_of_a_missing_or_short_file() {
        assert!(last_lines(Path::new("/nonexistent/hops.txt"), 5).is_empty());
        let dir = std::env::temp_dir().join(format!("mrmrthon-status-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hops.txt");
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        assert_eq!(last_lines(&path, 2), ["b", "c"]);
        assert_eq!(last_lines(&path, 10), ["a", "b", "c"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
