//! The activity log: one entry per mutation or security event, written in the same
//! transaction as the change it describes (an outbox the log-mailer reads).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::marathon::MarathonId;
use crate::user::{Role, UserId};

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
    /// Every session ended at the user's request.
    #[serde(rename = "auth.logged_out_everywhere")]
    LoggedOutEverywhere,
    /// The password changed (every session ended with it): a security notice.
    #[serde(rename = "auth.password_changed")]
    PasswordChanged,
    /// A reset link was asked for: log-mailer mails it (the entry carries the token).
    #[serde(rename = "auth.password_reset_requested")]
    PasswordResetRequested,
    /// A verification link for the address: log-mailer mails it (the entry carries the token).
    #[serde(rename = "auth.email_verification_requested")]
    EmailVerificationRequested,
    /// The address was verified.
    #[serde(rename = "auth.email_verified")]
    EmailVerified,
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
    /// The organizer gave a runner's entry a bib.
    #[serde(rename = "entry.bib_set")]
    EntryBibSet,
    /// A runner changed their private race profile (sex, birth).
    #[serde(rename = "user.race_profile_updated")]
    RaceProfileUpdated,
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
    /// The owner deleted the account: the Users side is done in the entry's transaction,
    /// account-erasure cleans the Races side, log-mailer mails the address it carries.
    #[serde(rename = "account.deleted")]
    AccountDeleted,
}

/// Where a request came from, as far as the gateway tells us.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestOrigin {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: Option<String>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
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
    /// Kind-specific facts, for the mailer and for people reading the log, as stored:
    /// written from an `ActivityDetails` (`with_details`), read back as one (`details()`)
    /// by the readers that need them. Not decoded with the entry: an entry whose details a
    /// reader has no use for (a sign-up written without any, an entry from an older
    /// writer) must not fail that reader, and on a stream a failed record holds back
    /// every record after it.
    #[serde(default)]
    pub details: serde_json::Value,
}

impl std::fmt::Debug for ActivityEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a reset request's details hold a live token, a deletion's the erased address:
        // never printed
        let secret = matches!(
            self.kind,
            ActivityKind::PasswordResetRequested
                | ActivityKind::EmailVerificationRequested
                | ActivityKind::AccountDeleted
        );
        f.debug_struct("ActivityEntry")
            .field("id", &self.id)
            .field("actor", &self.actor)
            .field("kind", &self.kind)
            .field("at", &self.at)
            .field("origin", &self.origin)
            .field("details", if secret { &"<redacted>" } else { &self.details })
            .finish()
    }
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

    pub fn with_details(mut self, details: ActivityDetails) -> Self {
        // Strings, integers and ISO dates: serializing to a JSON value cannot fail.
        self.details = serde_json::to_value(details).unwrap_or_default();
        self
    }

    /// The details, typed by the entry's kind.
    pub fn details(&self) -> Result<ActivityDetails, DetailsError> {
        ActivityDetails::decode(self.kind, &self.details)
    }
}

/// What an entry tells beyond its kind: written by record-api and login, read by
/// log-mailer. Which variant an entry holds follows from its `kind` (`decode`); stored
/// as the variant's fields alone, the shape the log has always had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ActivityDetails {
    /// user.signed_up
    SignedUp(SignUpDetails),
    /// auth.account_locked
    Locked(LockDetails),
    /// auth.refresh_reuse_detected
    RefreshReuse(FamilyDetails),
    /// marathon.created, marathon.updated, marathon.cancelled
    Marathon(MarathonDetails),
    /// entry.registered, entry.cancelled
    Entry(EntryDetails),
    /// result.recorded, result.corrected, result.removed
    Result(ResultDetails),
    /// record.created, record.updated, record.deleted
    Record(RecordDetails),
    /// auth.password_reset_requested, auth.email_verification_requested
    PasswordReset(ResetDetails),
    /// account.deleted
    Deleted(DeletionDetails),
    /// auth.login_succeeded, auth.logged_out, auth.logged_out_everywhere,
    /// auth.password_changed: stored as null.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpDetails {
    pub user_type: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockDetails {
    /// When the lock ends, unix seconds; None in entries written before it was recorded.
    #[serde(default)]
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyDetails {
    pub family_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarathonDetails {
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    pub date: Date,
    /// The fields an edit changed (`MarathonFields::changes`), for the mail's summary;
    /// empty on other kinds and on entries written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDetails {
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    pub runner_id: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultDetails {
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    pub runner_id: UserId,
    /// The chip time "H:MM:SS", as the result shows it; None when it has none (a dnf).
    #[serde(default)]
    pub finish_time: Option<String>,
    pub points: u32,
    pub version: u64,
    /// Entries from before statuses are finishes.
    #[serde(default)]
    pub status: crate::race::ResultStatus,
}

impl From<&crate::result::OfficialResult> for ResultDetails {
    /// What the points pipeline and the mails read about a result change, whoever wrote
    /// it (a PUT or an import).
    fn from(result: &crate::result::OfficialResult) -> Self {
        Self {
            marathon_id: result.marathon_id.clone(),
            marathon_name: result.marathon_name.clone(),
            runner_id: result.runner_id.clone(),
            finish_time: result.finish_time.clone(),
            points: result.points,
            version: result.version,
            status: result.status,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDetails {
    pub record_id: String,
}

/// A reset link's token, for log-mailer to mail. The entry holding it expires with the
/// token (its TTL is the token's, not the log's retention: docs/DESIGN.md, Auth).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetDetails {
    /// `<user id>.<secret>`, as the link carries it.
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for ResetDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetDetails")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What the erasure of an account needs once the profile no longer says it: the address
/// to confirm to (the entry holding it is kept only days, not the log's retention:
/// docs/DESIGN.md, Account deletion) and the role, so the Races side knows what to clean.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionDetails {
    pub email: String,
    pub user_type: Role,
}

// The address is the personal data being erased: no log line shows it.
impl std::fmt::Debug for DeletionDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeletionDetails")
            .field("email", &"<redacted>")
            .field("user_type", &self.user_type)
            .finish()
    }
}

/// Details that do not fit their entry's kind: they will never read, whatever the retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} details: {reason}")]
pub struct DetailsError {
    pub kind: String,
    pub reason: String,
}

impl ActivityDetails {
    /// Reads stored details for an entry of `kind`. Ids must have the shape the server
    /// generates (they reach key expressions downstream).
    pub fn decode(kind: ActivityKind, details: &serde_json::Value) -> Result<Self, DetailsError> {
        use ActivityKind as K;
        let error = |reason: String| DetailsError {
            kind: kind.as_str().to_owned(),
            reason,
        };
        fn read<T: DeserializeOwned>(details: &serde_json::Value) -> Result<T, String> {
            T::deserialize(details).map_err(|e| e.to_string())
        }
        let user = |id: &UserId| match UserId::parse(id.as_str()) {
            Some(_) => Ok(()),
            None => Err(error(format!("not a user id: {id:?}"))),
        };
        let marathon = |id: &MarathonId| match MarathonId::parse(id.as_str()) {
            Some(_) => Ok(()),
            None => Err(error(format!("not a marathon id: {id:?}"))),
        };
        Ok(match kind {
            K::UserSignedUp => Self::SignedUp(read(details).map_err(error)?),
            // older entries carry no details: the lock's end is then unknown
            K::AccountLocked if details.is_null() => Self::Locked(LockDetails { locked_until: None }),
            K::AccountLocked => Self::Locked(read(details).map_err(error)?),
            K::RefreshReuseDetected => Self::RefreshReuse(read(details).map_err(error)?),
            K::LoginSucceeded | K::LoggedOut | K::LoggedOutEverywhere | K::PasswordChanged => Self::None,
            K::PasswordResetRequested | K::EmailVerificationRequested => {
                Self::PasswordReset(read(details).map_err(error)?)
            }
            K::EmailVerified => Self::None,
            K::MarathonCreated | K::MarathonUpdated | K::MarathonCancelled => {
                let d: MarathonDetails = read(details).map_err(error)?;
                marathon(&d.marathon_id)?;
                Self::Marathon(d)
            }
            K::RaceProfileUpdated => Self::None,
            K::EntryRegistered | K::EntryCancelled | K::EntryBibSet => {
                let d: EntryDetails = read(details).map_err(error)?;
                marathon(&d.marathon_id)?;
                user(&d.runner_id)?;
                Self::Entry(d)
            }
            K::ResultRecorded | K::ResultCorrected | K::ResultRemoved => {
                let d: ResultDetails = read(details).map_err(error)?;
                marathon(&d.marathon_id)?;
                user(&d.runner_id)?;
                Self::Result(d)
            }
            K::RecordCreated | K::RecordUpdated | K::RecordDeleted => {
                Self::Record(read(details).map_err(error)?)
            }
            K::AccountDeleted => Self::Deleted(read(details).map_err(error)?),
        })
    }
}

impl ActivityKind {
    /// The kind as the log writes it (`result.recorded`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserSignedUp => "user.signed_up",
            Self::LoginSucceeded => "auth.login_succeeded",
            Self::AccountLocked => "auth.account_locked",
            Self::RefreshReuseDetected => "auth.refresh_reuse_detected",
            Self::LoggedOut => "auth.logged_out",
            Self::LoggedOutEverywhere => "auth.logged_out_everywhere",
            Self::PasswordChanged => "auth.password_changed",
            Self::PasswordResetRequested => "auth.password_reset_requested",
            Self::EmailVerificationRequested => "auth.email_verification_requested",
            Self::EmailVerified => "auth.email_verified",
            Self::MarathonCreated => "marathon.created",
            Self::MarathonUpdated => "marathon.updated",
            Self::MarathonCancelled => "marathon.cancelled",
            Self::EntryRegistered => "entry.registered",
            Self::EntryCancelled => "entry.cancelled",
            Self::EntryBibSet => "entry.bib_set",
            Self::RaceProfileUpdated => "user.race_profile_updated",
            Self::ResultRecorded => "result.recorded",
            Self::ResultCorrected => "result.corrected",
            Self::ResultRemoved => "result.removed",
            Self::RecordCreated => "record.created",
            Self::RecordUpdated => "record.updated",
            Self::RecordDeleted => "record.deleted",
            Self::AccountDeleted => "account.deleted",
        }
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
        .with_details(ActivityDetails::Result(ResultDetails {
            marathon_id: MarathonId::generate(),
            marathon_name: "서울".into(),
            runner_id: UserId::generate(),
            finish_time: Some("3:00:00".into()),
            status: Default::default(),
            points: 110,
            version: 1,
        }));
        let stored = serde_json::to_value(&entry).unwrap();
        assert_eq!(stored["source_ip"], "203.0.113.7");
        assert_eq!(stored["kind"], "result.recorded");
        assert!(stored.get("origin").is_none());
        assert_eq!(stored["details"]["points"], 110);
        assert_eq!(stored["details"]["finish_time"], "3:00:00");
        let back: ActivityEntry = serde_json::from_value(stored).unwrap();
        assert_eq!(back, entry);
        assert_eq!(back.details().unwrap(), entry.details().unwrap());
    }

    #[test]
    fn every_kind_names_itself_as_serde_does() {
        use ActivityKind as K;
        for kind in [
            K::UserSignedUp,
            K::LoginSucceeded,
            K::AccountLocked,
            K::RefreshReuseDetected,
            K::LoggedOut,
            K::LoggedOutEverywhere,
            K::PasswordChanged,
            K::PasswordResetRequested,
            K::EmailVerificationRequested,
            K::EmailVerified,
            K::MarathonCreated,
            K::MarathonUpdated,
            K::MarathonCancelled,
            K::EntryRegistered,
            K::EntryCancelled,
            K::EntryBibSet,
            K::RaceProfileUpdated,
            K::ResultRecorded,
            K::ResultCorrected,
            K::ResultRemoved,
            K::RecordCreated,
            K::RecordUpdated,
            K::RecordDeleted,
            K::AccountDeleted,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }

    #[test]
    fn details_are_stored_as_their_fields_and_read_back_by_kind() {
        let (marathon, runner) = (MarathonId::generate(), UserId::generate());
        let cases = [
            (
                ActivityKind::UserSignedUp,
                ActivityDetails::SignedUp(SignUpDetails {
                    user_type: Role::Organizer,
                }),
                json!({"user_type": "organizer"}),
            ),
            (
                ActivityKind::AccountLocked,
                ActivityDetails::Locked(LockDetails {
                    locked_until: Some(1_795_262_400),
                }),
                json!({"locked_until": 1_795_262_400}),
            ),
            (
                ActivityKind::RefreshReuseDetected,
                ActivityDetails::RefreshReuse(FamilyDetails {
                    family_id: "f1".into(),
                }),
                json!({"family_id": "f1"}),
            ),
            (
                ActivityKind::MarathonCancelled,
                ActivityDetails::Marathon(MarathonDetails {
                    marathon_id: marathon.clone(),
                    marathon_name: "Seoul".into(),
                    date: time::macros::date!(2027 - 03 - 21),
                    changes: Vec::new(),
                }),
                json!({"marathon_id": marathon, "marathon_name": "Seoul", "date": "2027-03-21"}),
            ),
            (
                ActivityKind::EntryRegistered,
                ActivityDetails::Entry(EntryDetails {
                    marathon_id: marathon.clone(),
                    marathon_name: "Seoul".into(),
                    runner_id: runner.clone(),
                }),
                json!({"marathon_id": marathon, "marathon_name": "Seoul", "runner_id": runner}),
            ),
            (
                ActivityKind::ResultCorrected,
                ActivityDetails::Result(ResultDetails {
                    marathon_id: marathon.clone(),
                    marathon_name: "Seoul".into(),
                    runner_id: runner.clone(),
                    finish_time: Some("3:59:59".into()),
                    status: Default::default(),
                    points: 100,
                    version: 7,
                }),
                json!({"marathon_id": marathon, "marathon_name": "Seoul", "runner_id": runner,
                       "finish_time": "3:59:59", "points": 100, "version": 7, "status": "finished"}),
            ),
            (
                ActivityKind::RecordDeleted,
                ActivityDetails::Record(RecordDetails {
                    record_id: "r1".into(),
                }),
                json!({"record_id": "r1"}),
            ),
            (
                ActivityKind::LoginSucceeded,
                ActivityDetails::None,
                serde_json::Value::Null,
            ),
            (
                ActivityKind::PasswordResetRequested,
                ActivityDetails::PasswordReset(ResetDetails {
                    token: "u.s".into(),
                    expires_at: 1_795_262_400,
                }),
                json!({"token": "u.s", "expires_at": 1_795_262_400}),
            ),
            (
                ActivityKind::AccountDeleted,
                ActivityDetails::Deleted(DeletionDetails {
                    email: "kim@example.com".into(),
                    user_type: Role::Runner,
                }),
                json!({"email": "kim@example.com", "user_type": "runner"}),
            ),
        ];
        for (kind, details, stored) in cases {
            let entry = ActivityEntry::new(
                runner.clone(),
                kind,
                OffsetDateTime::UNIX_EPOCH,
                RequestOrigin::default(),
            )
            .with_details(details.clone());
            assert_eq!(entry.details, stored, "{kind:?}");
            assert_eq!(entry.details(), Ok(details), "{kind:?}");
        }
    }

    #[test]
    fn details_that_do_not_fit_their_kind_are_errors() {
        let runner = UserId::generate();
        let cases = [
            (ActivityKind::ResultRecorded, json!({"marathon_name": "Seoul"})),
            (
                ActivityKind::ResultRecorded,
                json!({"marathon_id": MarathonId::generate(), "marathon_name": "S", "runner_id": "USER#x' OR 1=1",
                       "finish_time": "1:00:00", "points": 1, "version": 1}),
            ),
            (
                ActivityKind::MarathonCancelled,
                json!({"marathon_id": "../../etc", "marathon_name": "S", "date": "2027-03-21"}),
            ),
            (ActivityKind::MarathonUpdated, serde_json::Value::Null),
            (ActivityKind::AccountLocked, json!({"locked_until": "soon"})),
            (
                ActivityKind::EntryCancelled,
                json!({"marathon_id": MarathonId::generate(), "runner_id": runner}),
            ),
        ];
        for (kind, details) in cases {
            let decoded = ActivityDetails::decode(kind, &details);
            assert!(
                matches!(&decoded, Err(e) if e.kind == kind.as_str()),
                "{kind:?} {details}: {decoded:?}"
            );
        }
        // an old lock entry without details still reads: the lock's end is unknown
        assert_eq!(
            ActivityDetails::decode(ActivityKind::AccountLocked, &serde_json::Value::Null),
            Ok(ActivityDetails::Locked(LockDetails { locked_until: None }))
        );
    }

    #[test]
    fn a_reset_token_never_shows_in_debug() {
        let entry = ActivityEntry::new(
            UserId::generate(),
            ActivityKind::PasswordResetRequested,
            OffsetDateTime::UNIX_EPOCH,
            RequestOrigin::default(),
        )
        .with_details(ActivityDetails::PasswordReset(ResetDetails {
            token: "the-live-secret".into(),
            expires_at: 1,
        }));
        assert!(!format!("{entry:?}").contains("the-live-secret"));
        assert!(!format!("{:?}", entry.details().unwrap()).contains("the-live-secret"));
    }

    #[test]
    fn a_deleted_address_never_shows_in_debug() {
        let entry = ActivityEntry::new(
            UserId::generate(),
            ActivityKind::AccountDeleted,
            OffsetDateTime::UNIX_EPOCH,
            RequestOrigin::default(),
        )
        .with_details(ActivityDetails::Deleted(DeletionDetails {
            email: "gone@example.com".into(),
            user_type: Role::Runner,
        }));
        assert!(!format!("{entry:?}").contains("gone@example.com"));
        assert!(!format!("{:?}", entry.details().unwrap()).contains("gone@example.com"));
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
