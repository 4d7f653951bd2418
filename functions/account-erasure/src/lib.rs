//! account-erasure: a deleted account's Races side (docs/DESIGN.md, Account deletion).
//! login deletes the Users side in one transaction with an `account.deleted` entry; the
//! ActivityLog stream brings that entry here (the mapping lets only that kind through),
//! and `Eraser::erase` puts the anonymous name on the runner's official results (without a
//! new version: no result event, no points moved), cancels the entries of marathons not
//! run yet (their places are freed), anonymizes the other entries and deletes the private
//! records. Every step is repeatable with one effect, so a redelivered or replayed entry
//! finishes what an earlier attempt left and changes nothing twice.

pub mod config;

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::activity::{ActivityDetails, ActivityEntry, ActivityKind, EntryDetails, RequestOrigin};
use domain::erasure::{EntryFate, ErasureStore, entry_fate};
use domain::ports::StoreError;
use domain::{Clock, UserId};
use infra::batch::{BatchError, stream_failure};
use infra::dynamo::{ActivityLog, DynamoRaces};
use infra::poison::{PoisonQueue, PoisonSink};

/// What one erasure did (for its log line and the tests).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub results_anonymized: usize,
    pub entries_cancelled: usize,
    pub entries_anonymized: usize,
    pub records_deleted: usize,
}

pub struct Eraser {
    pub store: Arc<dyn ErasureStore>,
    pub clock: Arc<dyn Clock>,
}

impl Eraser {
    /// Erases what `runner` left in the Races table. `deleted` is the deletion's entry:
    /// its time decides which marathons were not run yet (the same answer on every
    /// redelivery), its origin goes on the cancellations' entries.
    pub async fn erase(&self, runner: &UserId, deleted: &ActivityEntry) -> Result<Erased, StoreError> {
        let footprint = self.store.footprint(runner).await?;
        let today = deleted.at.date();
        let mut done = Erased::default();
        for marathon in &footprint.results {
            self.store.anonymize_result(marathon, runner).await?;
            done.results_anonymized += 1;
        }
        for entry in &footprint.entries {
            if entry_fate(entry.marathon_date, today) == EntryFate::Cancel {
                let origin = RequestOrigin {
                    correlation_id: deleted.origin.correlation_id.clone(),
                    ..RequestOrigin::default()
                };
                let cancelled = ActivityEntry::new(
                    runner.clone(),
                    ActivityKind::EntryCancelled,
                    self.clock.now(),
                    origin,
                )
                .with_details(ActivityDetails::Entry(EntryDetails {
                    marathon_id: entry.marathon_id.clone(),
                    marathon_name: entry.marathon_name.clone(),
                    runner_id: runner.clone(),
                }));
                match self
                    .store
                    .cancel_entry(&entry.marathon_id, runner, &cancelled)
                    .await
                {
                    Ok(()) => {
                        done.entries_cancelled += 1;
                        continue;
                    }
                    // gone already (a redelivery), or a result holds it: it stays, nameless
                    Err(StoreError::Conflict) => {}
                    Err(other) => return Err(other),
                }
            }
            self.store.anonymize_entry(&entry.marathon_id, runner).await?;
            done.entries_anonymized += 1;
        }
        for record in &footprint.records {
            self.store.delete_record(runner, record).await?;
            done.records_deleted += 1;
        }
        Ok(done)
    }
}

/// Init: the settings from the environment, the clients once per container.
pub async fn bootstrap() -> Result<(Eraser, PoisonQueue), infra::config::ConfigError> {
    let settings = config::Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    Ok(connect(&sdk, &settings))
}

/// The eraser over the Races table and the failure queue `settings` name.
pub fn connect(sdk: &aws_config::SdkConfig, settings: &config::Settings) -> (Eraser, PoisonQueue) {
    let activity = ActivityLog {
        table: settings.activity_table.clone(),
        retention: settings.activity_retention,
    };
    let races = DynamoRaces::new(
        aws_sdk_dynamodb::Client::new(sdk),
        &settings.races_table,
        activity,
    );
    let poison = PoisonQueue::new(
        aws_sdk_sqs::Client::new(sdk),
        settings.failures_queue.clone(),
        settings.function.clone(),
    );
    let eraser = Eraser {
        store: Arc::new(races),
        clock: Arc::new(domain::SystemClock),
    };
    (eraser, poison)
}

/// Why a record was not erased.
enum Failure {
    /// It may pass (DynamoDB throttled or down): the stream retries from this record.
    Retry(String),
    /// It never will (not an activity entry, no usable actor): parked, the shard moves on.
    Poison(String),
}

/// One ActivityLog stream batch, in order: each `account.deleted` entry is erased; the
/// first failure that may pass is reported by its sequence number (the stream retries
/// from it, for hours if need be); poison is parked on the failure queue.
pub async fn handle(
    event: Event,
    eraser: &Eraser,
    poison: &dyn PoisonSink,
) -> Result<DynamoDbEventResponse, BatchError> {
    for mut record in event.records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        match process(&mut record, eraser).await {
            Ok(()) => {}
            Err(Failure::Poison(reason)) => {
                if let Err(error) = poison.park(&record, &reason).await {
                    tracing::error!(sequence, %reason, %error, "poison record not parked; the stream delivers it again");
                    return stream_failure(&record);
                }
            }
            Err(Failure::Retry(reason)) => {
                tracing::error!(sequence, %reason, "erasure not finished; the stream retries from this record");
                return stream_failure(&record);
            }
        }
    }
    Ok(DynamoDbEventResponse::default())
}

async fn process(record: &mut EventRecord, eraser: &Eraser) -> Result<(), Failure> {
    if record.event_name != "INSERT" {
        return Ok(());
    }
    let image = std::mem::take(&mut record.change.new_image);
    let entry: ActivityEntry = serde_dynamo::from_item(image)
        .map_err(|e| Failure::Poison(format!("NewImage is not an activity entry: {e}")))?;
    // the mapping's filter lets only deletions through; anything else is not ours
    if entry.kind != ActivityKind::AccountDeleted {
        return Ok(());
    }
    // the id reaches key expressions: only the shape the server generates
    let runner = UserId::parse(entry.actor.as_str())
        .ok_or_else(|| Failure::Poison(format!("not a user id: {:?}", entry.actor.as_str())))?;
    let started = std::time::Instant::now();
    match eraser.erase(&runner, &entry).await {
        Ok(done) => {
            tracing::info!(
                user_id = %runner,
                entry_id = %entry.id,
                correlation_id = entry.origin.correlation_id.as_deref().unwrap_or("-"),
                results_anonymized = done.results_anonymized,
                entries_cancelled = done.entries_cancelled,
                entries_anonymized = done.entries_anonymized,
                records_deleted = done.records_deleted,
                millis = started.elapsed().as_millis() as u64,
                "account erased"
            );
            Ok(())
        }
        Err(StoreError::Corrupt(reason)) => Err(Failure::Poison(format!("stored data unreadable: {reason}"))),
        Err(other) => Err(Failure::Retry(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Mutex;

    use async_trait::async_trait;
    use domain::erasure::{EntryRef, Footprint};
    use domain::marathon::MarathonId;
    use domain::memory::ManualClock;
    use infra::poison::MemoryPoison;
    use serde_json::json;
    use time::macros::{date, datetime};

    use super::*;

    /// The Races table as erasure sees it: names on entries and results, records, and
    /// the entries' activity; failures on demand.
    #[derive(Default)]
    struct FakeRaces {
        entries: Mutex<BTreeMap<String, (EntryRef, String, bool)>>,
        results: Mutex<BTreeMap<String, String>>,
        records: Mutex<BTreeSet<String>>,
        cancellations: Mutex<Vec<ActivityEntry>>,
        fail_footprint: Mutex<Option<StoreError>>,
    }

    impl FakeRaces {
        fn entry(&self, marathon: &MarathonId, date: time::Date, has_result: bool) {
            let entry = EntryRef {
                marathon_id: marathon.clone(),
                marathon_name: "Seoul".into(),
                marathon_date: date,
            };
            self.entries
                .lock()
                .unwrap()
                .insert(marathon.to_string(), (entry, "Kim".into(), has_result));
            if has_result {
                self.results
                    .lock()
                    .unwrap()
                    .insert(marathon.to_string(), "Kim".into());
            }
        }
    }

    #[async_trait]
    impl ErasureStore for FakeRaces {
        async fn footprint(&self, _: &UserId) -> Result<Footprint, StoreError> {
            if let Some(error) = self.fail_footprint.lock().unwrap().take() {
                return Err(error);
            }
            Ok(Footprint {
                entries: self
                    .entries
                    .lock()
                    .unwrap()
                    .values()
                    .map(|(e, _, _)| e.clone())
                    .collect(),
                results: self
                    .results
                    .lock()
                    .unwrap()
                    .keys()
                    .map(|m| MarathonId::parse(m).unwrap())
                    .collect(),
                records: self.records.lock().unwrap().iter().cloned().collect(),
            })
        }

        async fn cancel_entry(
            &self,
            marathon: &MarathonId,
            _: &UserId,
            activity: &ActivityEntry,
        ) -> Result<(), StoreError> {
            let mut entries = self.entries.lock().unwrap();
            match entries.get(marathon.as_str()) {
                Some((_, _, false)) => {
                    entries.remove(marathon.as_str());
                    self.cancellations.lock().unwrap().push(activity.clone());
                    Ok(())
                }
                _ => Err(StoreError::Conflict),
            }
        }

        async fn anonymize_entry(&self, marathon: &MarathonId, _: &UserId) -> Result<(), StoreError> {
            if let Some((_, name, _)) = self.entries.lock().unwrap().get_mut(marathon.as_str()) {
                domain::ANONYMOUS_NAME.clone_into(name);
            }
            Ok(())
        }

        async fn anonymize_result(&self, marathon: &MarathonId, _: &UserId) -> Result<(), StoreError> {
            if let Some(name) = self.results.lock().unwrap().get_mut(marathon.as_str()) {
                domain::ANONYMOUS_NAME.clone_into(name);
            }
            Ok(())
        }

        async fn delete_record(&self, _: &UserId, id: &str) -> Result<(), StoreError> {
            self.records.lock().unwrap().remove(id);
            Ok(())
        }
    }

    const DELETED_AT: time::OffsetDateTime = datetime!(2027-03-21 09:00 UTC);

    fn world() -> (Arc<FakeRaces>, Eraser, UserId) {
        let races = Arc::new(FakeRaces::default());
        let eraser = Eraser {
            store: races.clone(),
            clock: Arc::new(ManualClock::new(DELETED_AT)),
        };
        (races, eraser, UserId::generate())
    }

    fn deletion(runner: &UserId) -> ActivityEntry {
        let origin = RequestOrigin {
            correlation_id: Some("c-delete".into()),
            source_ip: Some("203.0.113.7".into()),
            ..RequestOrigin::default()
        };
        ActivityEntry::new(runner.clone(), ActivityKind::AccountDeleted, DELETED_AT, origin)
    }

    #[tokio::test]
    async fn results_keep_their_place_under_no_name_and_upcoming_entries_are_cancelled() {
        let (races, eraser, runner) = world();
        let (past, race_day, upcoming) = (
            MarathonId::generate(),
            MarathonId::generate(),
            MarathonId::generate(),
        );
        races.entry(&past, date!(2026 - 10 - 01), true);
        races.entry(&race_day, date!(2027 - 03 - 21), false);
        races.entry(&upcoming, date!(2027 - 04 - 01), false);
        races
            .records
            .lock()
            .unwrap()
            .extend(["r1".to_owned(), "r2".to_owned()]);

        let done = eraser.erase(&runner, &deletion(&runner)).await.unwrap();
        assert_eq!(
            done,
            Erased {
                results_anonymized: 1,
                entries_cancelled: 1,
                entries_anonymized: 2,
                records_deleted: 2,
            }
        );
        assert_eq!(
            races.results.lock().unwrap()[past.as_str()],
            domain::ANONYMOUS_NAME
        );
        let entries = races.entries.lock().unwrap();
        assert!(
            !entries.contains_key(upcoming.as_str()),
            "cancelled: its place is free"
        );
        assert_eq!(entries[past.as_str()].1, domain::ANONYMOUS_NAME);
        assert_eq!(
            entries[race_day.as_str()].1,
            domain::ANONYMOUS_NAME,
            "race day: kept"
        );
        assert!(races.records.lock().unwrap().is_empty());
        let cancellations = races.cancellations.lock().unwrap();
        assert_eq!(cancellations.len(), 1);
        assert_eq!(cancellations[0].kind, ActivityKind::EntryCancelled);
        assert_eq!(
            cancellations[0].origin.correlation_id.as_deref(),
            Some("c-delete")
        );
        assert_eq!(
            cancellations[0].origin.source_ip, None,
            "no address of the erased runner"
        );
    }

    #[tokio::test]
    async fn a_redelivery_has_no_second_effect() {
        let (races, eraser, runner) = world();
        let upcoming = MarathonId::generate();
        races.entry(&upcoming, date!(2027 - 04 - 01), false);
        let deleted = deletion(&runner);
        eraser.erase(&runner, &deleted).await.unwrap();
        let again = eraser.erase(&runner, &deleted).await.unwrap();
        assert_eq!(again, Erased::default());
        assert_eq!(races.cancellations.lock().unwrap().len(), 1, "one cancellation");
    }

    fn stream(entries: &[serde_json::Value]) -> Event {
        let records: Vec<_> = entries
            .iter()
            .enumerate()
            .map(|(n, image)| {
                json!({
                    "eventID": n.to_string(), "eventName": "INSERT", "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                    "dynamodb": {
                        "Keys": { "pk": { "S": "USER#x" }, "sk": { "S": "LOG#x" } },
                        "NewImage": image, "SequenceNumber": (n + 1).to_string(), "SizeBytes": 100,
                        "StreamViewType": "NEW_IMAGE"
                    },
                    "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/log/stream/x"
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    fn image(entry: &ActivityEntry) -> serde_json::Value {
        let item: serde_dynamo::Item = serde_dynamo::to_item(entry).unwrap();
        serde_json::to_value(item).unwrap()
    }

    #[tokio::test]
    async fn a_batch_erases_parks_poison_and_retries_from_an_outage() {
        let (races, eraser, runner) = world();
        races.records.lock().unwrap().insert("r1".into());
        let poison = MemoryPoison::default();
        let garbage = json!({ "kind": { "S": "account.deleted" } });
        let event = stream(&[garbage, image(&deletion(&runner))]);
        let response = handle(event, &eraser, &poison).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(poison.parked().len(), 1, "the undecodable entry is parked");
        assert!(
            races.records.lock().unwrap().is_empty(),
            "the record after it is erased"
        );

        *races.fail_footprint.lock().unwrap() = Some(StoreError::Unavailable("throttled".into()));
        let other = ActivityEntry::new(
            UserId::generate(),
            ActivityKind::LoginSucceeded,
            DELETED_AT,
            RequestOrigin::default(),
        );
        let event = stream(&[image(&other), image(&deletion(&runner))]);
        let response = handle(event, &eraser, &poison).await.unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .filter_map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, ["2"], "retried from the deletion, not parked");
        assert_eq!(poison.parked().len(), 1);
    }

    #[tokio::test]
    async fn the_sample_event_is_a_deletion_the_handler_erases() {
        let (races, eraser, _) = world();
        races.records.lock().unwrap().insert("r1".into());
        let sample = include_str!("../../../events/account-erasure/account-deleted.json");
        let event: Event = serde_json::from_str(sample).unwrap();
        let poison = MemoryPoison::default();
        let response = handle(event, &eraser, &poison).await.unwrap();
        assert!(response.batch_item_failures.is_empty() && poison.parked().is_empty());
        assert!(races.records.lock().unwrap().is_empty());
    }
}
