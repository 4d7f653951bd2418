//! reconcile (anti-entropy): finds official results and removals whose version the points
//! ledger has not applied although they were written minutes ago (their event was lost:
//! a stream record aged out, a pointer discarded, a publish dropped) and publishes their
//! result event again on record-events, the way official-record-stream would. Idempotent:
//! point-increase applies each version once, so a repair that races a late original is a
//! duplicate the ledger ignores.
//!
//! What it reads is the Races table's sparse `pending` index (infra::dynamo::pending):
//! every result write and deletion tombstone enters it; a pass takes out those the ledger
//! has applied. So a pass costs one query over what was written since the last pass plus
//! what is still owed, never a scan of the tables.

pub mod config;

use std::sync::Arc;

use async_trait::async_trait;
use domain::Clock;
use domain::UserId;
use domain::events::{Envelope, ResultChange, ResultEvent};
use domain::ports::{EventPublisher, StoreError};
use infra::dynamo::pending::{DynamoPending, PendingItem};
use infra::metrics::{self, Metric};

/// The index and the ledger, as a pass needs them (DynamoPending; fakes in the tests).
#[async_trait]
pub trait PendingStore: Send + Sync {
    async fn due(&self, until: i64) -> Result<Vec<PendingItem>, StoreError>;
    async fn applied_version(&self, runner: &UserId, result_id: &str) -> Result<Option<u64>, StoreError>;
    async fn acknowledge(&self, item: &PendingItem) -> Result<bool, StoreError>;
}

#[async_trait]
impl PendingStore for DynamoPending {
    async fn due(&self, until: i64) -> Result<Vec<PendingItem>, StoreError> {
        DynamoPending::due(self, until).await
    }
    async fn applied_version(&self, runner: &UserId, result_id: &str) -> Result<Option<u64>, StoreError> {
        DynamoPending::applied_version(self, runner, result_id).await
    }
    async fn acknowledge(&self, item: &PendingItem) -> Result<bool, StoreError> {
        DynamoPending::acknowledge(self, item).await
    }
}

/// What to do with one pending item, given the version the ledger has applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The ledger has this version or a newer one: take the item out of the index.
    Acknowledge,
    /// The ledger lacks it: publish its event again (the item stays until applied).
    Repair,
}

/// The selection rule. The ledger only moves forward in version, so an applied version at
/// or above the item's means its event arrived (or was overtaken by a newer one, whose
/// own item is then pending or acknowledged on its own).
pub fn decide(item: &PendingItem, applied: Option<u64>) -> Decision {
    match applied {
        Some(applied) if applied >= item.version => Decision::Acknowledge,
        _ => Decision::Repair,
    }
}

/// The event official-record-stream would have published for the item.
pub fn event(item: &PendingItem, applied: Option<u64>) -> ResultEvent {
    let change = ResultChange {
        result_id: item.result_id.clone(),
        marathon_id: item.marathon_id.clone(),
        marathon_name: item.marathon_name.clone(),
        // a tombstone from before the date was kept on it has none: point-increase then
        // takes the season from the award it replaces
        marathon_date: item.marathon_date,
        runner_id: item.runner_id.clone(),
        runner_name: item.runner_name.clone(),
        // a removal contributes nothing
        points: if item.is_removal() { 0 } else { item.points },
        version: item.version,
        // an imported result's repair is still the import's (no post of its own); a
        // removal never is (a replace's removals are posted each on its own)
        import_id: if item.is_removal() {
            None
        } else {
            item.import_id.clone()
        },
    };
    match (item.is_removal(), applied) {
        (true, _) => ResultEvent::Removed(change),
        (false, None) => ResultEvent::Recorded(change),
        (false, Some(_)) => ResultEvent::Corrected(change),
    }
}

/// One pass's figures.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Pending items old enough to look at.
    pub checked: u64,
    /// Of those, the ones whose event was published again.
    pub repaired: u64,
    /// Of those, the ones the ledger had: out of the index.
    pub acknowledged: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("reading the pending index: {0}")]
    Index(StoreError),
    /// Some items could be neither checked nor repaired: the next pass tries them again.
    #[error("{failed} of {checked} pending items failed (the next pass retries them); first: {first}")]
    Items {
        failed: u64,
        checked: u64,
        first: String,
    },
}

pub struct Reconcile {
    pub store: Arc<dyn PendingStore>,
    /// record-events: nothing but result events can be published through it.
    pub publisher: Arc<dyn EventPublisher<ResultEvent>>,
    pub clock: Arc<dyn Clock>,
    /// Markers younger than this are left to the normal path.
    pub grace: time::Duration,
}

impl Reconcile {
    /// One pass, as the schedule runs it: figures in the log and as metrics.
    pub async fn handle(&self) -> Result<Report, PassError> {
        let outcome = self.pass().await;
        infra::metrics::flush();
        match &outcome {
            Ok(report) => tracing::info!(
                checked = report.checked,
                repaired = report.repaired,
                acknowledged = report.acknowledged,
                "reconciled"
            ),
            Err(error) => tracing::error!(%error, "reconcile pass failed"),
        }
        outcome
    }

    pub async fn pass(&self) -> Result<Report, PassError> {
        let now = self.clock.now();
        let until = (now - self.grace).unix_timestamp();
        let due = self.store.due(until).await.map_err(PassError::Index)?;
        let mut report = Report::default();
        let mut failures: Vec<String> = Vec::new();
        let mut repairs = Vec::new();
        for item in &due {
            report.checked += 1;
            let applied = match self.store.applied_version(&item.runner_id, &item.result_id).await {
                Ok(applied) => applied,
                Err(error) => {
                    failures.push(format!("{}: {error}", item.result_id));
                    continue;
                }
            };
            match decide(item, applied) {
                Decision::Acknowledge => match self.store.acknowledge(item).await {
                    Ok(_) => report.acknowledged += 1,
                    Err(error) => failures.push(format!("{}: {error}", item.result_id)),
                },
                Decision::Repair => {
                    let envelope = Envelope::new(event(item, applied), now, item.correlation_id.clone());
                    tracing::warn!(
                        result_id = %item.result_id,
                        version = item.version,
                        applied = ?applied,
                        kind = envelope.kind(),
                        pending_since = item.pending_since,
                        correlation_id = item.correlation_id.as_deref().unwrap_or("-"),
                        "the ledger lacks this version: publishing its event again"
                    );
                    repairs.push(envelope);
                }
            }
        }
        let outcomes = self.publisher.publish(&repairs).await;
        for (envelope, outcome) in repairs.iter().zip(outcomes) {
            match outcome {
                Ok(()) => report.repaired += 1,
                Err(error) => failures.push(format!("{}: {error}", envelope.event.change().result_id)),
            }
        }
        metrics::count(Metric::ReconcileChecked, report.checked);
        metrics::count(Metric::ReconcileRepaired, report.repaired);
        match failures.first() {
            None => Ok(report),
            Some(first) => {
                tracing::warn!(?report, "partial pass");
                Err(PassError::Items {
                    failed: failures.len() as u64,
                    checked: report.checked,
                    first: first.clone(),
                })
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BootError(#[from] infra::config::ConfigError);

pub async fn bootstrap() -> Result<Reconcile, BootError> {
    let settings = config::Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    Ok(connect(&sdk, &settings))
}

pub fn connect(sdk: &aws_config::SdkConfig, settings: &config::Settings) -> Reconcile {
    let store = DynamoPending::new(
        aws_sdk_dynamodb::Client::new(sdk),
        &settings.races_table,
        &settings.users_table,
    );
    let publisher =
        infra::sns::SnsPublisher::<ResultEvent>::new(aws_sdk_sns::Client::new(sdk), &settings.topic);
    Reconcile {
        store: Arc::new(store),
        publisher: Arc::new(publisher),
        clock: Arc::new(domain::SystemClock),
        grace: time::Duration::seconds(settings.grace_seconds as i64),
    }
}

/// The selection rule and a pass over in-memory fakes (tests/whole_stack/reconcile.rs runs it on the
/// local stack against the real index, ledger and topic).
#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use domain::marathon::MarathonId;
    use domain::memory::{ManualClock, MemoryPublisher};
    use domain::ports::PublishError;
    use time::macros::datetime;

    const NOW: time::OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    #[derive(Default)]
    struct FakeStore {
        items: Mutex<Vec<PendingItem>>,
        /// (runner, result id) -> applied version
        ledger: Mutex<HashMap<(UserId, String), u64>>,
    }

    #[async_trait]
    impl PendingStore for FakeStore {
        async fn due(&self, until: i64) -> Result<Vec<PendingItem>, StoreError> {
            let items = self.items.lock().unwrap();
            Ok(items
                .iter()
                .filter(|i| i.pending_since <= until)
                .cloned()
                .collect())
        }
        async fn applied_version(&self, runner: &UserId, result_id: &str) -> Result<Option<u64>, StoreError> {
            let ledger = self.ledger.lock().unwrap();
            Ok(ledger.get(&(runner.clone(), result_id.to_owned())).copied())
        }
        async fn acknowledge(&self, item: &PendingItem) -> Result<bool, StoreError> {
            let mut items = self.items.lock().unwrap();
            let before = items.len();
            items.retain(|i| !(i.pk == item.pk && i.sk == item.sk && i.version == item.version));
            Ok(items.len() < before)
        }
    }

    fn item(sk_prefix: &str, points: u32, version: u64, age_seconds: i64) -> PendingItem {
        let (marathon, runner) = (MarathonId::generate(), UserId::generate());
        PendingItem {
            pk: format!("MARATHON#{marathon}"),
            sk: format!("{sk_prefix}{runner}"),
            result_id: domain::result::result_id(&marathon, &runner),
            marathon_id: marathon,
            marathon_name: "Seoul".into(),
            runner_id: runner,
            runner_name: "Kim".into(),
            points,
            version,
            pending_since: (NOW - time::Duration::seconds(age_seconds)).unix_timestamp(),
            correlation_id: Some("c-7".into()),
            marathon_date: Some(time::macros::date!(2027 - 03 - 21)),
            import_id: None,
        }
    }

    fn reconcile(store: &Arc<FakeStore>, topic: &Arc<MemoryPublisher<ResultEvent>>) -> Reconcile {
        Reconcile {
            store: store.clone(),
            publisher: topic.clone(),
            clock: Arc::new(ManualClock::new(NOW)),
            grace: time::Duration::minutes(5),
        }
    }

    fn apply(store: &FakeStore, item: &PendingItem, version: u64) {
        store
            .ledger
            .lock()
            .unwrap()
            .insert((item.runner_id.clone(), item.result_id.clone()), version);
    }

    #[test]
    fn only_a_version_the_ledger_lacks_is_repaired() {
        let pending = item("RESULT#", 100, 3, 600);
        assert_eq!(decide(&pending, None), Decision::Repair);
        assert_eq!(decide(&pending, Some(2)), Decision::Repair);
        assert_eq!(decide(&pending, Some(3)), Decision::Acknowledge);
        // overtaken by a newer version: that one has its own marker
        assert_eq!(decide(&pending, Some(4)), Decision::Acknowledge);
    }

    #[test]
    fn the_event_is_the_one_the_stream_would_have_made() {
        let result = item("RESULT#", 110, 1, 600);
        assert!(
            matches!(event(&result, None), ResultEvent::Recorded(ref c) if c.points == 110 && c.version == 1)
        );
        assert!(matches!(event(&result, Some(0)), ResultEvent::Corrected(_)));
        let removal = item("REMOVED#", 0, 4, 600);
        assert!(matches!(
            event(&removal, Some(3)),
            ResultEvent::Removed(ref c) if c.points == 0 && c.version == 4 && c.runner_name == "Kim"
        ));
    }

    #[tokio::test]
    async fn an_imported_result_is_repaired_as_the_import_s_and_a_removal_as_its_own() {
        let (store, topic) = (
            Arc::new(FakeStore::default()),
            Arc::new(MemoryPublisher::default()),
        );
        let imported = PendingItem {
            import_id: Some("01JIMPORT".into()),
            ..item("RESULT#", 110, 1, 3600)
        };
        let corrected = PendingItem {
            import_id: Some("01JIMPORT".into()),
            ..item("RESULT#", 90, 2, 3600)
        };
        apply(&store, &corrected, 1);
        // a tombstone never has one; even if it had, a removal is posted on its own
        let removed = PendingItem {
            import_id: Some("01JIMPORT".into()),
            ..item("REMOVED#", 0, 3, 3600)
        };
        let single = item("RESULT#", 100, 1, 3600);
        *store.items.lock().unwrap() = vec![
            imported.clone(),
            corrected.clone(),
            removed.clone(),
            single.clone(),
        ];
        assert_eq!(reconcile(&store, &topic).handle().await.unwrap().repaired, 4);
        let published: Vec<(String, &str, Option<String>)> = topic
            .published()
            .iter()
            .map(|e| {
                let c = e.event.change();
                (c.result_id.clone(), e.kind(), c.import_id.clone())
            })
            .collect();
        let import = Some("01JIMPORT".to_owned());
        assert_eq!(
            published,
            [
                (imported.result_id, ResultEvent::RECORDED, import.clone()),
                (corrected.result_id, ResultEvent::CORRECTED, import),
                (removed.result_id, ResultEvent::REMOVED, None),
                (single.result_id, ResultEvent::RECORDED, None),
            ]
        );
    }

    #[tokio::test]
    async fn a_pass_repairs_what_the_ledger_lacks_and_the_next_pass_only_acknowledges() {
        let (store, topic) = (
            Arc::new(FakeStore::default()),
            Arc::new(MemoryPublisher::default()),
        );
        let lost = item("RESULT#", 110, 2, 3600);
        let applied = item("RESULT#", 50, 1, 600);
        let removal_lost = item("REMOVED#", 0, 3, 900);
        // written a minute ago: its event may well be on its way
        let young = item("RESULT#", 70, 1, 60);
        apply(&store, &applied, 1);
        apply(&store, &removal_lost, 2);
        *store.items.lock().unwrap() =
            vec![lost.clone(), applied.clone(), removal_lost.clone(), young.clone()];
        let function = reconcile(&store, &topic);

        let report = function.handle().await.unwrap();
        assert_eq!(
            report,
            Report {
                checked: 3,
                repaired: 2,
                acknowledged: 1
            }
        );
        let published: Vec<(String, u64, u32, &str)> = topic
            .published()
            .iter()
            .map(|e| {
                assert_eq!(
                    e.correlation_id.as_deref(),
                    Some("c-7"),
                    "the write's correlation id"
                );
                let c = e.event.change();
                (c.result_id.clone(), c.version, c.points, e.kind())
            })
            .collect();
        assert_eq!(
            published,
            [
                (lost.result_id.clone(), 2, 110, ResultEvent::RECORDED),
                (removal_lost.result_id.clone(), 3, 0, ResultEvent::REMOVED),
            ]
        );
        // the repaired stay in the index until the ledger has them
        assert_eq!(store.items.lock().unwrap().len(), 3);

        // point-increase applied the repairs: the next pass repairs nothing
        apply(&store, &lost, 2);
        apply(&store, &removal_lost, 3);
        let report = function.handle().await.unwrap();
        assert_eq!(
            report,
            Report {
                checked: 2,
                repaired: 0,
                acknowledged: 2
            }
        );
        assert_eq!(topic.published().len(), 2);
        assert_eq!(*store.items.lock().unwrap(), [young]);
    }

    #[tokio::test]
    async fn a_failed_publish_fails_the_pass_and_keeps_the_item_for_the_next() {
        let (store, topic) = (
            Arc::new(FakeStore::default()),
            Arc::new(MemoryPublisher::default()),
        );
        let lost = item("RESULT#", 110, 1, 3600);
        *store.items.lock().unwrap() = vec![lost.clone()];
        let function = reconcile(&store, &topic);
        topic.fail_next(PublishError::Retryable("topic gone".into()));
        let error = function.handle().await.unwrap_err();
        assert!(
            matches!(
                error,
                PassError::Items {
                    failed: 1,
                    checked: 1,
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(*store.items.lock().unwrap(), [lost]);
        assert_eq!(function.handle().await.unwrap().repaired, 1);
        assert_eq!(topic.published().len(), 1);
    }
}
