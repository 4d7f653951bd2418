//! Continuations: a marathon's participants may be more than one invocation can mail
//! (5,000 entrants at SES's usual 14 mails/s take six minutes; a 60 s invocation mails
//! about 700), and the stream's retry limit must bound failures, not a marathon's size.
//!
//! When an invocation stops after settling a prefix of the participants (in key order),
//! it writes the next part beside the log: a copy of the entry under
//! `MAIL#<entry id> | PART#<n>` with the last runner settled. That item's stream record
//! is new, with retries of its own, and starts after that runner. Every part settles at
//! least one participant more than the one before, so the chain ends. A part is written
//! once (conditional put): a redelivered part that finds its successor written stops
//! there instead of starting a second chain.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::UserId;
use domain::activity::ActivityEntry;
use infra::dynamo::{ActivityLog, keys};

use crate::recipients::LookupError;

type Item = std::collections::HashMap<String, AttributeValue>;

const PART: &str = "mail_part";
const AFTER: &str = "mail_after";

/// Where a part starts: after `after`, the last participant an earlier part settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// 1 for the first continuation (the entry itself is part 0).
    pub part: u32,
    pub after: UserId,
}

impl Continuation {
    /// Takes a part's own attributes out of a stream image; None for an entry as its
    /// producer wrote it. Half a continuation, or an unreadable one, is an error.
    pub fn take(image: &mut serde_dynamo::Item) -> Result<Option<Self>, String> {
        use serde_dynamo::AttributeValue as Image;
        let part = image.remove(PART);
        let after = image.remove(AFTER);
        match (part, after) {
            (None, None) => Ok(None),
            (Some(Image::N(part)), Some(Image::S(after))) => {
                let part = part
                    .parse::<u32>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("{PART} is not a part number: {part}"))?;
                let after =
                    UserId::parse(&after).ok_or_else(|| format!("{AFTER} is not a user id: {after:?}"))?;
                Ok(Some(Self { part, after }))
            }
            (part, after) => Err(format!(
                "a continuation needs a numeric {PART} and a string {AFTER}: {part:?}, {after:?}"
            )),
        }
    }

    /// The item of this part for `entry`, as written (and as its stream image reads).
    pub fn item(&self, log: &ActivityLog, entry: &ActivityEntry) -> Result<Item, LookupError> {
        let mut item = log.item(entry).map_err(|e| LookupError(e.to_string()))?;
        // the entry's copy under its own key (replacing the entry's `USER# | LOG#`)
        item.extend(keys::mail_part_key(&entry.id, self.part));
        item.insert(PART.into(), AttributeValue::N(self.part.to_string()));
        item.insert(AFTER.into(), AttributeValue::S(self.after.to_string()));
        Ok(item)
    }
}

/// Whether `write` put the part or found it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    New,
    /// An earlier delivery of the same part wrote it: that chain goes on.
    Existing,
}

/// The ActivityLog table as the mailer writes it: continuations only.
#[derive(Debug, Clone)]
pub struct Continuations {
    client: Client,
    log: ActivityLog,
}

impl Continuations {
    /// `log.retention`: how long a part stays (its stream record lives 24 hours anyway).
    pub fn new(client: Client, log: ActivityLog) -> Self {
        Self { client, log }
    }

    pub async fn write(&self, entry: &ActivityEntry, next: &Continuation) -> Result<Written, LookupError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.log.table)
            .set_item(Some(next.item(&self.log, entry)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Written::New),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Written::Existing)
            }
            Err(error) => Err(LookupError(DisplayErrorContext(error).to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::activity::{ActivityKind, RequestOrigin};
    use time::OffsetDateTime;

    fn entry() -> ActivityEntry {
        ActivityEntry::new(
            UserId::generate(),
            ActivityKind::MarathonCancelled,
            OffsetDateTime::UNIX_EPOCH,
            RequestOrigin::default(),
        )
        .with_details(domain::activity::ActivityDetails::Marathon(
            domain::activity::MarathonDetails {
                marathon_id: domain::marathon::MarathonId::generate(),
                marathon_name: "Jeju".into(),
                date: time::macros::date!(2027 - 03 - 21),
                changes: Vec::new(),
            },
        ))
    }

    fn log() -> ActivityLog {
        ActivityLog {
            table: "log".into(),
            retention: time::Duration::days(2),
        }
    }

    #[test]
    fn a_part_reads_back_as_its_entry_and_where_it_starts() {
        let entry = entry();
        let next = Continuation {
            part: 3,
            after: UserId::generate(),
        };
        let item = next.item(&log(), &entry).unwrap();
        assert_eq!(item["pk"], AttributeValue::S(format!("MAIL#{}", entry.id)));
        assert_eq!(item["sk"], AttributeValue::S("PART#000003".into()));
        let mut image = serde_dynamo::Item::from(item);
        assert_eq!(Continuation::take(&mut image), Ok(Some(next)));
        let back: ActivityEntry = serde_dynamo::from_item(image).unwrap();
        assert_eq!(back, entry);
    }

    #[test]
    fn an_entry_is_no_continuation_and_half_of_one_is_an_error() {
        use serde_dynamo::AttributeValue as Image;
        let mut image = serde_dynamo::Item::from(log().item(&entry()).unwrap());
        assert_eq!(Continuation::take(&mut image), Ok(None));
        let mut half = image.clone();
        half.insert(PART.into(), Image::N("1".into()));
        assert!(Continuation::take(&mut half).is_err());
        for (part, after) in [("0", UserId::generate().to_string()), ("1", "not an id".into())] {
            let mut bad = image.clone();
            bad.insert(PART.into(), Image::N(part.into()));
            bad.insert(AFTER.into(), Image::S(after));
            assert!(Continuation::take(&mut bad).is_err(), "{part}");
        }
    }
}
