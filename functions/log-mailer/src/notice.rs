//! What an activity-log entry tells, read from its `details` (the domain's
//! `ActivityDetails`, which record-api's routes and login's use cases write), and whom it
//! concerns. Kinds nobody is mailed about give no notice.

use domain::UserId;
use domain::activity::{ActivityDetails, ActivityEntry, ActivityKind};
use domain::marathon::MarathonId;
use domain::race::ResultStatus;
use domain::reset::ResetToken;
use time::OffsetDateTime;

/// An entry that cannot be read: it will never succeed, whatever the retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable activity entry: {0}")]
pub struct Undecodable(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultChange {
    Recorded,
    Corrected,
    Removed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarathonChange {
    Updated,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityEvent {
    /// Too many failed logins; `until` is when the lock ends.
    AccountLocked { until: Option<OffsetDateTime> },
    /// A rotated refresh token came back: its whole family was revoked.
    RefreshReuse,
    /// The password changed; every session ended with it.
    PasswordChanged,
    /// A reset link was asked for: the mail carries it (`ResetToken`'s Debug hides it).
    PasswordReset {
        token: ResetToken,
        expires_at: OffsetDateTime,
    },
    /// The link that verifies the address (sent at signup and on request).
    VerifyEmail {
        token: ResetToken,
        expires_at: OffsetDateTime,
    },
    /// The account was deleted: the confirmation goes to the address the entry carries,
    /// since the profile has none any more.
    AccountDeleted { address: ErasedAddress },
}

/// The address of a deleted account, as its deletion's entry carries it: the personal
/// data being erased, so no `Debug` (no log line) shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ErasedAddress(pub String);

impl std::fmt::Debug for ErasedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Result {
        change: ResultChange,
        runner: UserId,
        /// The result's page is the marathon's and the runner's.
        marathon: MarathonId,
        marathon_name: String,
        finish_time: Option<String>,
        points: Option<u64>,
        /// How the race ended: a dnf, dns or dq is said in words.
        status: ResultStatus,
    },
    Marathon {
        change: MarathonChange,
        marathon: MarathonId,
        marathon_name: String,
        date: Option<String>,
        /// The fields changed since the participants' last mail (an edit's summary).
        changes: Vec<String>,
    },
    Security {
        event: SecurityEvent,
        user: UserId,
        at: OffsetDateTime,
        source_ip: Option<String>,
    },
}

/// Whom a notice concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    User(UserId),
    /// Every runner registered for the marathon (its `ENTRY#` items).
    Participants(MarathonId),
}

/// The kind as the log writes it (`result.recorded`).
pub fn kind_name(kind: ActivityKind) -> String {
    kind.as_str().to_owned()
}

fn details(entry: &ActivityEntry) -> Result<ActivityDetails, Undecodable> {
    entry.details().map_err(|e| Undecodable(e.to_string()))
}

/// The details an entry of this kind must hold; anything else is a contract breach.
fn mismatch(entry: &ActivityEntry, details: &ActivityDetails) -> Undecodable {
    Undecodable(format!("{} entry with {details:?}", entry.kind.as_str()))
}

impl Notice {
    /// The notice an entry gives, or None for kinds nobody is mailed about (sign-ups,
    /// logins, logouts, entries, private records, marathon creation).
    pub fn from_entry(entry: &ActivityEntry) -> Result<Option<Self>, Undecodable> {
        use ActivityKind as K;
        let result = |change| -> Result<Option<Self>, Undecodable> {
            match details(entry)? {
                ActivityDetails::Result(d) => Ok(Some(Self::Result {
                    change,
                    runner: d.runner_id,
                    marathon: d.marathon_id,
                    marathon_name: d.marathon_name,
                    finish_time: d.finish_time,
                    points: Some(u64::from(d.points)),
                    status: d.status,
                })),
                other => Err(mismatch(entry, &other)),
            }
        };
        let marathon = |change| -> Result<Option<Self>, Undecodable> {
            match details(entry)? {
                ActivityDetails::Marathon(d) => Ok(Some(Self::Marathon {
                    change,
                    marathon: d.marathon_id,
                    marathon_name: d.marathon_name,
                    date: Some(d.date.to_string()),
                    changes: d.changes,
                })),
                other => Err(mismatch(entry, &other)),
            }
        };
        let security = |event| Self::Security {
            event,
            user: entry.actor.clone(),
            at: entry.at,
            source_ip: entry.origin.source_ip.clone(),
        };
        match entry.kind {
            K::ResultRecorded => result(ResultChange::Recorded),
            K::ResultCorrected => result(ResultChange::Corrected),
            K::ResultRemoved => result(ResultChange::Removed),
            K::MarathonUpdated => marathon(MarathonChange::Updated),
            K::MarathonCancelled => marathon(MarathonChange::Cancelled),
            K::AccountLocked => {
                // older entries may carry no details: the mail then names no time
                let until = match details(entry)? {
                    ActivityDetails::Locked(d) => d.locked_until,
                    other => return Err(mismatch(entry, &other)),
                };
                let until = until
                    .map(|s| {
                        OffsetDateTime::from_unix_timestamp(s)
                            .map_err(|e| Undecodable(format!("locked_until {s}: {e}")))
                    })
                    .transpose()?;
                Ok(Some(security(SecurityEvent::AccountLocked { until })))
            }
            K::RefreshReuseDetected => Ok(Some(security(SecurityEvent::RefreshReuse))),
            K::PasswordChanged => Ok(Some(security(SecurityEvent::PasswordChanged))),
            K::AccountDeleted => match details(entry)? {
                ActivityDetails::Deleted(d) => Ok(Some(security(SecurityEvent::AccountDeleted {
                    address: ErasedAddress(d.email),
                }))),
                other => Err(mismatch(entry, &other)),
            },
            K::PasswordResetRequested | K::EmailVerificationRequested => {
                let ActivityDetails::PasswordReset(d) = details(entry)? else {
                    return Err(Undecodable(format!(
                        "{} entry without a token",
                        entry.kind.as_str()
                    )));
                };
                // the link must be for the account it is mailed to
                let token = ResetToken::parse(&d.token)
                    .filter(|token| token.user_id == entry.actor)
                    .ok_or_else(|| Undecodable("a reset token not of the entry's actor".into()))?;
                let expires_at = OffsetDateTime::from_unix_timestamp(d.expires_at)
                    .map_err(|e| Undecodable(format!("expires_at {}: {e}", d.expires_at)))?;
                Ok(Some(security(if entry.kind == K::PasswordResetRequested {
                    SecurityEvent::PasswordReset { token, expires_at }
                } else {
                    SecurityEvent::VerifyEmail { token, expires_at }
                })))
            }
            K::UserSignedUp
            | K::LoginSucceeded
            | K::LoggedOut
            | K::LoggedOutEverywhere
            | K::EmailVerified
            | K::MarathonCreated
            | K::EntryRegistered
            | K::EntryCancelled
            | K::EntryBibSet
            | K::RaceProfileUpdated
            | K::RecordCreated
            | K::RecordUpdated
            | K::RecordDeleted => Ok(None),
        }
    }

    /// A marathon edit's notice listing `summary` as what changed (the edits held back
    /// since the last mail included); any other notice as it is.
    pub fn with_changes(self, summary: Vec<String>) -> Self {
        match self {
            Self::Marathon {
                change,
                marathon,
                marathon_name,
                date,
                ..
            } => Self::Marathon {
                change,
                marathon,
                marathon_name,
                date,
                changes: summary,
            },
            other => other,
        }
    }

    /// Security mails (lockout, token reuse, password changed or reset, verification) go
    /// to every address, verified or not, and first; the others to verified ones only.
    pub fn is_security(&self) -> bool {
        matches!(self, Self::Security { .. })
    }

    /// Where a deleted account's confirmation goes (the profile no longer says).
    pub fn erased_address(&self) -> Option<&str> {
        match self {
            Self::Security {
                event: SecurityEvent::AccountDeleted { address },
                ..
            } => Some(&address.0),
            _ => None,
        }
    }

    pub fn audience(&self) -> Audience {
        match self {
            Self::Result { runner, .. } => Audience::User(runner.clone()),
            Self::Marathon { marathon, .. } => Audience::Participants(marathon.clone()),
            Self::Security { user, .. } => Audience::User(user.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::activity::RequestOrigin;
    use serde_json::json;
    use time::macros::datetime;

    const ACTOR: &str = "01JC0000000000000000000001";
    const RUNNER: &str = "01JC0000000000000000000002";
    const MARATHON: &str = "01JC0000000000000000000003";

    /// An entry with `details` as stored (possibly broken: the log is input here).
    fn entry(kind: ActivityKind, details: serde_json::Value) -> ActivityEntry {
        let mut entry = ActivityEntry::new(
            UserId::parse(ACTOR).unwrap(),
            kind,
            datetime!(2026-11-21 10:00 UTC),
            RequestOrigin {
                source_ip: Some("203.0.113.7".into()),
                ..RequestOrigin::default()
            },
        );
        entry.details = details;
        entry
    }

    fn audience(kind: ActivityKind, details: serde_json::Value) -> Option<Audience> {
        Notice::from_entry(&entry(kind, details))
            .unwrap()
            .map(|n| n.audience())
    }

    fn result_details() -> serde_json::Value {
        json!({"marathon_id": MARATHON, "marathon_name": "Seoul", "runner_id": RUNNER,
               "finish_time": "3:59:59", "points": 100, "version": 7})
    }

    fn marathon_details() -> serde_json::Value {
        json!({"marathon_id": MARATHON, "marathon_name": "Seoul", "date": "2027-03-21"})
    }

    #[test]
    fn results_concern_their_runner_not_the_organizer_who_acted() {
        let runner = UserId::parse(RUNNER).unwrap();
        for kind in [
            ActivityKind::ResultRecorded,
            ActivityKind::ResultCorrected,
            ActivityKind::ResultRemoved,
        ] {
            assert_eq!(
                audience(kind, result_details()),
                Some(Audience::User(runner.clone())),
                "{kind:?}"
            );
        }
        let notice = Notice::from_entry(&entry(ActivityKind::ResultCorrected, result_details()))
            .unwrap()
            .unwrap();
        assert_eq!(
            notice,
            Notice::Result {
                change: ResultChange::Corrected,
                runner,
                marathon: MarathonId::parse(MARATHON).unwrap(),
                marathon_name: "Seoul".into(),
                finish_time: Some("3:59:59".into()),
                points: Some(100),
                status: ResultStatus::Finished,
            }
        );
    }

    #[test]
    fn marathon_changes_concern_every_participant() {
        let marathon = MarathonId::parse(MARATHON).unwrap();
        for kind in [ActivityKind::MarathonUpdated, ActivityKind::MarathonCancelled] {
            assert_eq!(
                audience(kind, marathon_details()),
                Some(Audience::Participants(marathon.clone())),
                "{kind:?}"
            );
        }
        let notice = Notice::from_entry(&entry(ActivityKind::MarathonUpdated, marathon_details()))
            .unwrap()
            .unwrap();
        assert!(
            matches!(&notice, Notice::Marathon { date: Some(date), .. } if date == "2027-03-21"),
            "the date as the mail shows it: {notice:?}"
        );
    }

    #[test]
    fn security_events_concern_the_actor() {
        let actor = UserId::parse(ACTOR).unwrap();
        let locked = entry(
            ActivityKind::AccountLocked,
            json!({"locked_until": 1_795_262_400}),
        );
        let notice = Notice::from_entry(&locked).unwrap().unwrap();
        assert_eq!(notice.audience(), Audience::User(actor.clone()));
        assert_eq!(
            notice,
            Notice::Security {
                event: SecurityEvent::AccountLocked {
                    until: Some(datetime!(2026-11-21 10:00 UTC) + time::Duration::hours(2)),
                },
                user: actor.clone(),
                at: datetime!(2026-11-21 10:00 UTC),
                source_ip: Some("203.0.113.7".into()),
            }
        );
        assert_eq!(
            audience(ActivityKind::RefreshReuseDetected, json!({"family_id": "f1"})),
            Some(Audience::User(actor.clone()))
        );
        let secret = "s".repeat(43);
        let reset = entry(
            ActivityKind::PasswordResetRequested,
            json!({"token": format!("{ACTOR}.{secret}"), "expires_at": 1_795_262_400}),
        );
        let notice = Notice::from_entry(&reset).unwrap().unwrap();
        assert_eq!(notice.audience(), Audience::User(actor.clone()));
        assert!(
            matches!(&notice, Notice::Security { event: SecurityEvent::PasswordReset { token, .. }, .. }
                if token.secret == secret),
            "{notice:?}"
        );
        assert!(
            !format!("{notice:?}").contains(&secret),
            "Debug never shows the token"
        );
        let verify = entry(
            ActivityKind::EmailVerificationRequested,
            json!({"token": format!("{ACTOR}.{secret}"), "expires_at": 1_795_262_400}),
        );
        assert!(matches!(
            Notice::from_entry(&verify).unwrap().unwrap(),
            Notice::Security {
                event: SecurityEvent::VerifyEmail { .. },
                ..
            }
        ));
        // a token for another account is never mailed to this one
        let foreign = entry(
            ActivityKind::PasswordResetRequested,
            json!({"token": format!("{RUNNER}.{secret}"), "expires_at": 1_795_262_400}),
        );
        assert!(Notice::from_entry(&foreign).is_err());
        let changed = entry(ActivityKind::PasswordChanged, serde_json::Value::Null);
        let notice = Notice::from_entry(&changed).unwrap().unwrap();
        assert!(
            matches!(&notice, Notice::Security { event: SecurityEvent::PasswordChanged, user, .. } if *user == actor),
            "{notice:?}"
        );
    }

    #[test]
    fn a_deletion_is_confirmed_to_the_address_its_entry_carries() {
        let deleted = entry(
            ActivityKind::AccountDeleted,
            json!({"email": "gone@example.com", "user_type": "runner"}),
        );
        let notice = Notice::from_entry(&deleted).unwrap().unwrap();
        assert!(notice.is_security(), "sent even to an unverified address");
        assert_eq!(notice.erased_address(), Some("gone@example.com"));
        assert!(
            !format!("{notice:?}").contains("gone@example.com"),
            "no log shows it"
        );
        let other = Notice::from_entry(&entry(ActivityKind::PasswordChanged, json!(null)))
            .unwrap()
            .unwrap();
        assert_eq!(other.erased_address(), None, "others go to the profile's address");
        assert!(Notice::from_entry(&entry(ActivityKind::AccountDeleted, json!(null))).is_err());
    }

    #[test]
    fn routine_kinds_mail_nobody() {
        for kind in [
            ActivityKind::UserSignedUp,
            ActivityKind::LoginSucceeded,
            ActivityKind::LoggedOut,
            ActivityKind::LoggedOutEverywhere,
            ActivityKind::MarathonCreated,
            ActivityKind::EntryRegistered,
            ActivityKind::EntryCancelled,
            ActivityKind::EntryBibSet,
            ActivityKind::RaceProfileUpdated,
            ActivityKind::RecordCreated,
            ActivityKind::RecordUpdated,
            ActivityKind::RecordDeleted,
        ] {
            // whatever the details say (an entry's details name a runner and a marathon)
            assert_eq!(audience(kind, result_details()), None, "{kind:?}");
        }
    }

    #[test]
    fn details_that_cannot_name_a_recipient_are_undecodable() {
        let cases = [
            (ActivityKind::ResultRecorded, json!({"marathon_name": "Seoul"})),
            (
                ActivityKind::ResultRecorded,
                json!({"marathon_name": "Seoul", "runner_id": "USER#x' OR 1=1"}),
            ),
            (ActivityKind::MarathonCancelled, json!({"marathon_name": "Seoul"})),
            (
                ActivityKind::MarathonCancelled,
                json!({"marathon_id": "../../etc", "marathon_name": "Seoul"}),
            ),
            (ActivityKind::MarathonUpdated, serde_json::Value::Null),
            (ActivityKind::AccountLocked, json!({"locked_until": "soon"})),
        ];
        for (kind, details) in cases {
            assert!(
                Notice::from_entry(&entry(kind, details.clone())).is_err(),
                "{kind:?} {details}"
            );
        }
    }
}
