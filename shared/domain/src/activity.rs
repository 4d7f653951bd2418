//! The activity log: one entry per mutation or security event, written in the same
//! transaction as the change it describes (an outbox the log-mailer reads).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::user::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityKind {
    #[serde(rename = "user.signed_up")]
    UserSignedUp,
    #[serde(rename = "auth.login_succeeded")]
    LoginSucceeded,
    #[serde(rename = "auth.account_locked")]
    AccountLocked,
    #[serde(rename = "auth.refresh_reuse_detected")]
    RefreshReuseDetected,
    #[serde(rename = "auth.logged_out")]
    LoggedOut,
    #[serde(rename = "marathon.created")]
    MarathonCreated,
    #[serde(rename = "marathon.updated")]
    MarathonUpdated,
    #[serde(rename = "marathon.cancelled")]
    MarathonCancelled,
    #[serde(rename = "entry.registered")]
    EntryRegistered,
    #[serde(rename = "entry.cancelled")]
    EntryCancelled,
    #[serde(rename = "result.recorded")]
    ResultRecorded,
    #[serde(rename = "result.corrected")]
    ResultCorrected,
    #[serde(rename = "result.removed")]
    ResultRemoved,
    #[serde(rename = "record.created")]
    RecordCreated,
    #[serde(rename = "record.updated")]
    RecordUpdated,
    #[serde(rename = "record.deleted")]
    RecordDeleted,
}

/// Where a request came from, as far as the gateway tells us.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestOrigin {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredEntry")]
pub struct ActivityEntry {
    /// ULID: unique and ordered by time.
    pub id: String,
    pub actor: UserId,
    pub kind: ActivityKind,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(flatten)]
    pub origin: RequestOrigin,
    /// Kind-specific facts, for the mailer and for people reading the log.
    #[serde(default)]
    pub details: serde_json::Value,
}

/// An entry as stored: the origin's fields sit beside the others. Read through this flat
/// shape because `#[serde(flatten)]` on the way in buffers the whole item (details
/// included) before decoding it again: most of the log-mailer's per-record allocations.
#[derive(Deserialize)]
struct StoredEntry {
    id: String,
    actor: UserId,
    kind: ActivityKind,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    source_ip: Option<String>,
    user_agent: Option<String>,
    correlation_id: Option<String>,
    #[serde(default)]
    details: serde_json::Value,
}

impl From<StoredEntry> for ActivityEntry {
    fn from(e: StoredEntry) -> Self {
        Self {
            id: e.id,
            actor: e.actor,
            kind: e.kind,
            at: e.at,
            origin: RequestOrigin {
                source_ip: e.source_ip,
                user_agent: e.user_agent,
                correlation_id: e.correlation_id,
            },
            details: e.details,
        }
    }
}

impl ActivityEntry {
    pub fn new(actor: UserId, kind: ActivityKind, at: OffsetDateTime, origin: RequestOrigin) -> Self {
        Self {
            id: ulid::Ulid::new().to_string(),
            actor,
            kind,
            at,
            origin,
            details: serde_json::Value::Null,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_entry_is_stored_flat_and_reads_back_the_same() {
        let origin = RequestOrigin {
            source_ip: Some("203.0.113.7".into()),
            user_agent: Some("curl/8".into()),
            correlation_id: Some("c-1".into()),
        };
        let entry = ActivityEntry::new(
            UserId::generate(),
            ActivityKind::ResultRecorded,
            OffsetDateTime::UNIX_EPOCH,
            origin,
        )
        .with_details(json!({"marathon_name": "서울", "points": 110}));
        let stored = serde_json::to_value(&entry).unwrap();
        assert_eq!(stored["source_ip"], "203.0.113.7");
        assert_eq!(stored["kind"], "result.recorded");
        assert!(stored.get("origin").is_none());
        let back: ActivityEntry = serde_json::from_value(stored).unwrap();
        assert_eq!(back, entry);
    }

    #[test]
    fn keys_and_ttl_are_ignored_and_a_missing_origin_or_details_is_empty() {
        let actor = UserId::generate();
        let stored = json!({
            "pk": "LOG#1", "sk": "x", "expires_at": 1,
            "id": "01J", "actor": actor.as_str(), "kind": "auth.account_locked",
            "at": "2026-11-22T00:00:00Z", "user_agent": null
        });
        let entry: ActivityEntry = serde_json::from_value(stored).unwrap();
        assert_eq!(entry.actor, actor);
        assert_eq!(entry.origin, RequestOrigin::default());
        assert!(entry.details.is_null());
    }
}
