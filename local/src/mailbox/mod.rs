//! The mailbox: every mail sent through the emulator's SES becomes a readable `.eml` file
//! in a folder (`.local/mailbox/` for `make dev`), announced in the hop log.
//!
//! The emulator keeps sent mail as SES models (`Message` for SendEmail, which keeps only
//! the HTML body when both were given, `RawMessage` for SendRawEmail: log-mailer's
//! multipart mails, written as sent; `TemplateMessage` for SendTemplatedEmail). The
//! emulator's launcher (local/emulator.py, `SENT_MAIL_PATH`) answers the ones sent since
//! the last look, in `/moto-api/data.json`'s form; that dump itself holds every model of
//! every service (all DynamoDB items ever made) and takes seconds once a race is imported.

pub mod eml;
pub mod links;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::hops::{Hop, HopKind, Hops, Outcome};
use crate::http_client::HttpClient;
use crate::timing::Timing;
use eml::Outgoing;

const DUMP_TIMEOUT: Duration = Duration::from_secs(30);
/// local/emulator.py's `SENT_MAIL_PATH`.
const SENT_MAIL_PATH: &str = "/_mrmrthon/ses/sent";

/// A mail the mailbox wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: String,
    pub path: PathBuf,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
}

pub struct Mailbox {
    dir: PathBuf,
    written: Arc<Mutex<Vec<Mail>>>,
    task: Option<JoinHandle<()>>,
}

struct Poller {
    endpoint: String,
    dir: PathBuf,
    /// Per kind of SES message, how many were read (the emulator's `next`).
    next: serde_json::Map<String, Value>,
    http: HttpClient,
    seen: HashSet<String>,
    written: Arc<Mutex<Vec<Mail>>>,
    hops: Hops,
}

impl Mailbox {
    /// Writes what was sent so far (skipping mail already in `dir`), then keeps polling.
    pub async fn start(endpoint: &str, dir: PathBuf, hops: Hops, timing: Timing) -> Result<Mailbox> {
        std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
            path: dir.clone(),
            source,
        })?;
        let written = Arc::new(Mutex::new(Vec::new()));
        let mut poller = Poller {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            dir: dir.clone(),
            next: serde_json::Map::new(),
            http: HttpClient::new(),
            seen: ids_in(&dir),
            written: Arc::clone(&written),
            hops,
        };
        poller.collect().await.map_err(Error::Process)?;
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(timing.mailbox_poll).await;
                // one cheap request: the emulator answers only what was sent since
                if let Err(e) = poller.collect().await {
                    tracing::warn!("mailbox: {e}");
                }
            }
        });
        Ok(Mailbox {
            dir,
            written,
            task: Some(task),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The mails written since start, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        self.written.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Stops polling; no file appears after this returns.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Poller {
    /// Writes every sent mail not written yet.
    async fn collect(&mut self) -> std::result::Result<(), String> {
        let started = Instant::now();
        let query: Vec<String> = self
            .next
            .iter()
            .map(|(kind, read)| format!("{kind}={}", read.as_u64().unwrap_or(0)))
            .collect();
        let url = format!("{}{SENT_MAIL_PATH}?{}", self.endpoint, query.join("&"));
        let response = self.http.get(&url, DUMP_TIMEOUT).await?;
        let ses = response
            .json()
            .ok_or_else(|| format!("{url} did not answer JSON (status {})", response.status))?;
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();

        for message in ses["Message"].as_array().into_iter().flatten() {
            let id = text(message, "id");
            if id.is_empty() || self.seen.contains(&id) {
                continue;
            }
            let destinations = &message["destinations"];
            let mail = Outgoing {
                id: id.clone(),
                from: text(message, "source"),
                to: strings(&destinations["ToAddresses"]),
                cc: strings(&destinations["CcAddresses"]),
                bcc: strings(&destinations["BccAddresses"]),
                subject: text(message, "subject"),
                body: text(message, "body"),
            };
            let found = Found {
                text: mail.render(OffsetDateTime::now_utc()),
                correlation: crate::correlation::from_body(&mail.body),
                id,
                from: mail.from,
                to: mail.to,
                subject: mail.subject,
            };
            self.write(found, started)?;
        }
        for message in ses["RawMessage"].as_array().into_iter().flatten() {
            let id = text(message, "id");
            if id.is_empty() || self.seen.contains(&id) {
                continue;
            }
            let raw = text(message, "raw_data");
            // decoded (RFC 2047) by a MIME parser, for the hop log and `Mail::subject`
            let subject = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .and_then(|m| m.subject().map(str::to_owned))
                .or_else(|| eml::header_value(&raw, "subject"))
                .unwrap_or_default();
            let correlation = eml::header_value(&raw, "x-correlation-id");
            let to = recipients(strings(&message["destinations"]));
            let found = Found {
                id,
                from: text(message, "source"),
                to,
                subject,
                correlation,
                text: raw,
            };
            self.write(found, started)?;
        }
        for message in ses["TemplateMessage"].as_array().into_iter().flatten() {
            let id = text(message, "id");
            if id.is_empty() || self.seen.contains(&id) {
                continue;
            }
            let template = text(message, "template");
            let data = text(message, "template_data");
            let destinations = &message["destinations"];
            let mail = Outgoing {
                id: id.clone(),
                from: text(message, "source"),
                to: strings(&destinations["ToAddresses"]),
                cc: strings(&destinations["CcAddresses"]),
                bcc: strings(&destinations["BccAddresses"]),
                subject: format!("[template {template}]"),
                // The emulator does not render templates: show what was asked for.
                body: format!("template: {template}\ntemplate data: {data}\n"),
            };
            let found = Found {
                text: mail.render(OffsetDateTime::now_utc()),
                correlation: crate::correlation::from_body(&data),
                id,
                from: mail.from,
                to: mail.to,
                subject: mail.subject,
            };
            self.write(found, started)?;
        }
        // only once every one was written: a failed write is read again next time
        if let Some(next) = ses["next"].as_object() {
            self.next = next.clone();
        }
        Ok(())
    }

    fn write(&mut self, found: Found, started: Instant) -> std::result::Result<(), String> {
        let Found {
            id,
            text,
            from,
            to,
            subject,
            correlation,
        } = found;
        let stamp = OffsetDateTime::now_utc()
            .format(format_description!(
                "[year][month][day]T[hour][minute][second][subsecond digits:3]"
            ))
            .unwrap_or_default();
        let path = self.dir.join(format!("{stamp}-{}.eml", file_safe(&id)));
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.seen.insert(id.clone());
        let shown = path.strip_prefix(crate::emulator::repo_root()).unwrap_or(&path);
        self.hops.record(
            Hop::new(
                HopKind::Mail,
                "mailbox",
                format!("to {} {:?} -> {}", to.join(", "), subject, shown.display()),
            )
            .outcome(Outcome::Ok)
            .took(started.elapsed())
            .correlation(correlation),
        );
        if let Ok(mut written) = self.written.lock() {
            written.push(Mail {
                id,
                path,
                from,
                to,
                subject,
            });
        }
        Ok(())
    }
}

/// A sent mail found in the dump, rendered.
struct Found {
    id: String,
    text: String,
    from: String,
    to: Vec<String>,
    subject: String,
    correlation: Option<String>,
}

/// The message ids of the `.eml` files already in `dir` (`<stamp>-<id>.eml`).
fn ids_in(dir: &Path) -> HashSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".eml")?;
            Some(stem.split_once('-')?.1.to_owned())
        })
        .collect()
}

/// The emulator's SendRawEmail lists a recipient twice when the request names it and the
/// To header does too (`a@b` and `Name <a@b>`): each address once, as a bare address.
fn recipients(destinations: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for destination in destinations {
        let bare = match destination.rsplit_once('<') {
            Some((_, rest)) => rest.trim_end_matches('>').trim().to_owned(),
            None => destination.trim().to_owned(),
        };
        if !out.iter().any(|seen| seen.eq_ignore_ascii_case(&bare)) {
            out.push(bare);
        }
    }
    out
}

/// Message ids are letters, digits and dashes; anything else becomes `_`.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_back_from_file_names() {
        let dir = std::env::temp_dir().join(format!("mrmrthon-mailbox-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("20261121T100000000-abc-def.eml"), "x").unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        assert_eq!(ids_in(&dir), HashSet::from(["abc-def".to_owned()]));
        assert_eq!(file_safe("a/b c-1"), "a_b_c-1");
        assert_eq!(
            recipients(vec![
                "kim@example.com".into(),
                "=?utf-8?b?6rmA?= <Kim@example.com>".into(),
                "lee@example.com".into(),
            ]),
            ["kim@example.com", "lee@example.com"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
