//! The hop log: one readable line per hop a request takes through the local stack (HTTP
//! request, stream batch, publish, queue batch, on-failure destination, Discord post,
//! mail), with the function or target, outcome, duration and correlation ids, so that a
//! person can follow one result from the HTTP call to the Discord message.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::format_description;

/// How many hops are kept in memory (for tests and for `recent`).
const KEPT: usize = 2000;
/// At most this many correlation ids are spelled out on one line.
const IDS_SHOWN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopKind {
    Http,
    Stream,
    Publish,
    Queue,
    Destination,
    Discord,
    Mail,
}

impl HopKind {
    pub fn label(self) -> &'static str {
        match self {
            HopKind::Http => "http",
            HopKind::Stream => "stream",
            HopKind::Publish => "publish",
            HopKind::Queue => "queue",
            HopKind::Destination => "on-failure",
            HopKind::Discord => "discord",
            HopKind::Mail => "mail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Some items failed (partial batch response), the rest succeeded.
    Partial(String),
    Failed(String),
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub at: OffsetDateTime,
    pub kind: HopKind,
    /// The function's logical id, or the topic, queue, sink or mailbox.
    pub target: String,
    /// What happened, e.g. `POST /auth/login -> 201` or `3 records from ...`.
    pub detail: String,
    pub outcome: Outcome,
    pub duration: Option<Duration>,
    pub correlation_ids: Vec<String>,
}

impl Hop {
    pub fn new(kind: HopKind, target: impl Into<String>, detail: impl Into<String>) -> Hop {
        Hop {
            at: OffsetDateTime::now_utc(),
            kind,
            target: target.into(),
            detail: detail.into(),
            outcome: Outcome::Ok,
            duration: None,
            correlation_ids: Vec::new(),
        }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Hop {
        self.outcome = outcome;
        self
    }

    pub fn took(mut self, duration: Duration) -> Hop {
        self.duration = Some(duration);
        self
    }

    /// Adds correlation ids, keeping the first occurrence of each.
    pub fn correlation<I, S>(mut self, ids: I) -> Hop
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for id in ids {
            let id = id.into();
            if !id.is_empty() && !self.correlation_ids.contains(&id) {
                self.correlation_ids.push(id);
            }
        }
        self
    }
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clock = self
            .at
            .format(format_description!(
                "[hour]:[minute]:[second].[subsecond digits:3]"
            ))
            .unwrap_or_default();
        let outcome = match &self.outcome {
            Outcome::Ok => "ok".to_owned(),
            Outcome::Partial(why) => format!("PARTIAL ({why})"),
            Outcome::Failed(why) => format!("FAILED ({why})"),
        };
        let took = self
            .duration
            .map(|d| format!("{:>6} ms", d.as_millis()))
            .unwrap_or_else(|| format!("{:>9}", ""));
        write!(
            f,
            "{clock}  {:<10} {:<28} {took}  {}  {outcome}",
            self.kind.label(),
            self.target,
            self.detail
        )?;
        if !self.correlation_ids.is_empty() {
            let shown: Vec<&str> = self
                .correlation_ids
                .iter()
                .take(IDS_SHOWN)
                .map(String::as_str)
                .collect();
            write!(f, "  cid={}", shown.join(","))?;
            if self.correlation_ids.len() > IDS_SHOWN {
                write!(f, ",+{}", self.correlation_ids.len() - IDS_SHOWN)?;
            }
        }
        Ok(())
    }
}

/// Where hops go: printed on stdout (for `make dev`) and kept in memory (for tests).
/// Cheap to clone; every part of the stack holds one.
#[derive(Clone)]
pub struct Hops {
    inner: Arc<Inner>,
}

struct Inner {
    print: bool,
    kept: Mutex<VecDeque<Hop>>,
    /// Hops recorded since the start: a change says something happened.
    count: std::sync::atomic::AtomicU64,
    /// The same without HTTP requests: work of the pipeline behind them.
    pipeline_count: std::sync::atomic::AtomicU64,
}

impl Hops {
    /// Prints each hop as one line on stdout and keeps the recent ones.
    pub fn printing() -> Hops {
        Hops::new(true)
    }

    /// Keeps the recent hops without printing them.
    pub fn quiet() -> Hops {
        Hops::new(false)
    }

    fn new(print: bool) -> Hops {
        Hops {
            inner: Arc::new(Inner {
                print,
                kept: Mutex::new(VecDeque::new()),
                count: std::sync::atomic::AtomicU64::new(0),
                pipeline_count: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// Whether hops are printed (parts that print more than the hop line ask this).
    pub fn is_printing(&self) -> bool {
        self.inner.print
    }

    pub fn record(&self, hop: Hop) {
        if self.inner.print {
            println!("{hop}");
        }
        self.inner.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if hop.kind != HopKind::Http {
            self.inner
                .pipeline_count
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if let Ok(mut kept) = self.inner.kept.lock() {
            if kept.len() == KEPT {
                kept.pop_front();
            }
            kept.push_back(hop);
        }
    }

    /// How many hops were recorded since the start.
    pub fn count(&self) -> u64 {
        self.inner.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many hops other than HTTP requests were recorded since the start (a client
    /// polling the API does not make the pipeline look busy).
    pub fn pipeline_count(&self) -> u64 {
        self.inner
            .pipeline_count
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The last `n` hops as lines, oldest first, into `path` (atomically: a reader such as
    /// `mrmrthon-local status` never sees half a file).
    pub fn write_recent(&self, path: &std::path::Path, n: usize) -> std::io::Result<()> {
        let recent = self.recent();
        let text: String = recent[recent.len().saturating_sub(n)..]
            .iter()
            .map(|hop| format!("{hop}\n"))
            .collect();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, path)
    }

    /// The most recent hops, oldest first.
    pub fn recent(&self) -> Vec<Hop> {
        self.inner
            .kept
            .lock()
            .map(|kept| kept.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl fmt::Debug for Hops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hops").field("print", &self.inner.print).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_kind_target_outcome_duration_and_ids() {
        let hop = Hop::new(HopKind::Queue, "PointIncrease", "3 messages from q")
            .outcome(Outcome::Partial("1 of 3 failed".into()))
            .took(Duration::from_millis(42))
            .correlation(["a", "b", "a", "", "c", "d"]);
        let line = hop.to_string();
        assert!(line.contains("queue"), "{line}");
        assert!(line.contains("PointIncrease"), "{line}");
        assert!(line.contains("42 ms"), "{line}");
        assert!(line.contains("PARTIAL (1 of 3 failed)"), "{line}");
        assert!(line.ends_with("cid=a,b,c,+1"), "{line}");
    }

    #[test]
    fn keeps_recent_hops_in_order() {
        let hops = Hops::quiet();
        for i in 0..3 {
            hops.record(Hop::new(HopKind::Http, "F", format!("#{i}")));
        }
        let details: Vec<String> = hops.recent().into_iter().map(|h| h.detail).collect();
        assert_eq!(details, ["#0", "#1", "#2"]);
        assert_eq!(hops.count(), 3);
        assert_eq!(hops.pipeline_count(), 0);
        hops.record(Hop::new(HopKind::Stream, "F", "1 record"));
        assert_eq!((hops.count(), hops.pipeline_count()), (4, 1));
    }

    #[test]
    fn writes_the_last_hops_to_a_file() {
        let hops = Hops::quiet();
        for i in 0..5 {
            hops.record(Hop::new(HopKind::Http, "F", format!("#{i}")));
        }
        let dir = std::env::temp_dir().join(format!("mrmrthon-hops-{}", std::process::id()));
        let path = dir.join("hops.txt");
        hops.write_recent(&path, 2).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("#3") && lines[1].contains("#4"), "{text}");
    }
}
