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
