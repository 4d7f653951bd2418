//! point-increase: applies each result event to its runner's points exactly once per
//! version (the ledger decides), and announces a changed total on `points-events`.

pub mod config;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_lambda_events::streams::SqsEventResponse;
use domain::Clock;
use domain::events::{Envelope, PointsAwarded, PointsEvent, ResultChange, ResultEvent};
use domain::ports::{EventPublisher, LedgerOutcome, PointsLedger};
use infra::batch::{BatchError, ItemError, sqs_batch};
use infra::metrics::{self, Metric};

/// Messages of one batch handled at once: a batch of 10 costs about one round trip.
const CONCURRENCY: usize = 10;

/// One lock per runner within an invocation: a batch's messages for the same runner
/// take turns (they would write the same season item and retry each other), messages
/// for different runners run at once.
#[derive(Default)]
struct RunnerTurns(Mutex<HashMap<domain::UserId, Arc<tokio::sync::Mutex<()>>>>);

impl RunnerTurns {
    fn of(&self, runner: &domain::UserId) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        turns.entry(runner.clone()).or_default().clone()
    }
}

pub struct PointIncrease {
    pub ledger: Arc<dyn PointsLedger>,
    /// points-events: nothing but `points.awarded` can be published through it.
    pub publisher: Arc<dyn EventPublisher<PointsEvent>>,
    pub clock: Arc<dyn Clock>,
}

impl PointIncrease {
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsEventResponse, BatchError> {
        let turns = RunnerTurns::default();
        let response = sqs_batch(event, CONCURRENCY, |message| self.message(message, &turns)).await;
        infra::metrics::flush();
        response
    }

    async fn message(&self, message: SqsMessage, turns: &RunnerTurns) -> Result<(), ItemError> {
        let started = std::time::Instant::now();
        let body = message
            .body
            .as_deref()
            .ok_or_else(|| ItemError::Poison("empty body".into()))?;
        // record-events carries result events only: anything else fails to decode
        let envelope = Envelope::<ResultEvent>::parse(body).map_err(|e| ItemError::Poison(e.to_string()))?;
        let kind = envelope.kind();
        let change = envelope.event.into_change();
        let correlation = envelope.correlation_id;
        let turn = turns.of(&change.runner_id);
        let _turn = turn.lock().await;
        let outcome = self.ledger.apply(&change, self.clock.now()).await?;
        match outcome {
            LedgerOutcome::Applied { delta, .. } => {
                metrics::count(Metric::AwardsApplied, 1);
                metrics::count(Metric::PointsMoved, delta.unsigned_abs());
            }
            // applied before; only its announcement is new
            LedgerOutcome::Unnotified { .. } => {}
            LedgerOutcome::Unchanged => metrics::count(Metric::AwardsUnchanged, 1),
        }
        let announced = match outcome {
            LedgerOutcome::Applied { delta, total } | LedgerOutcome::Unnotified { delta, total }
                if delta != 0 =>
            {
                self.announce(&change, delta, total, correlation.clone()).await?;
                true
            }
            _ => false,
        };
        tracing::info!(
            kind,
            result_id = %change.result_id,
            version = change.version,
            outcome = ?outcome,
            announced,
            correlation_id = correlation.as_deref().unwrap_or("-"),
            millis = started.elapsed().as_millis() as u64,
            "points"
        );
        Ok(())
    }

    /// Publishes, then marks the award announced. If publishing fails, the message is
    /// retried and the ledger reports the version as applied but unannounced.
    async fn announce(
        &self,
        change: &ResultChange,
        delta: i64,
        total: i64,
        correlation: Option<String>,
    ) -> Result<(), ItemError> {
        let awarded = Envelope::new(
            PointsEvent::Awarded(PointsAwarded {
                runner_id: change.runner_id.clone(),
                runner_name: change.runner_name.clone(),
                marathon_id: change.marathon_id.clone(),
                marathon_name: change.marathon_name.clone(),
                result_id: change.result_id.clone(),
                delta,
                total,
                result_version: change.version,
                import_id: change.import_id.clone(),
            }),
            self.clock.now(),
            correlation,
        );
        let outcome = self
            .publisher
            .publish(std::slice::from_ref(&awarded))
            .await
            .into_iter()
            .next();
        match outcome {
            Some(Ok(())) => {}
            Some(Err(error)) => return Err(error.into()),
            None => return Err(ItemError::Retryable("the publisher gave no outcome".into())),
        }
        Ok(self
            .ledger
            .mark_notified(&change.runner_id, &change.result_id, change.version)
            .await?)
    }
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BootError(#[from] infra::aws::ConfigError);

/// Init: clients once per container, and one call to DynamoDB and one to SNS, together, so
/// the first message pays neither TLS handshake.
pub async fn bootstrap() -> Result<PointIncrease, BootError> {
    let settings = config::Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    Ok(connect(&sdk, &settings.users_table, &settings.topic).await)
}

pub async fn connect(sdk: &aws_config::SdkConfig, users_table: &str, topic: &str) -> PointIncrease {
    let ledger = infra::dynamo::DynamoLedger::new(aws_sdk_dynamodb::Client::new(sdk), users_table);
    let publisher = infra::sns::SnsPublisher::<PointsEvent>::new(aws_sdk_sns::Client::new(sdk), topic);
    tokio::join!(ledger.warm_up(), publisher.warm_up());
    PointIncrease {
        ledger: Arc::new(ledger),
        publisher: Arc::new(publisher),
        clock: Arc::new(domain::SystemClock),
    }
}

/// The rules over in-memory ports (the emulator tests in tests/ledger.rs cover the
/// DynamoDB ledger and SNS).
#[cfg(test)]
mod tests {
    use super::*;
    use domain::UserId;
    use domain::marathon::MarathonId;
    use domain::memory::{ManualClock, MemoryLedger, MemoryPublisher};
    use domain::ports::PublishError;
    use time::macros::datetime;

    struct World {
        ledger: Arc<MemoryLedger>,
        topic: Arc<MemoryPublisher<PointsEvent>>,
        function: PointIncrease,
        runner: UserId,
    }

    fn world() -> World {
        let (ledger, topic) = (
            Arc::new(MemoryLedger::default()),
            Arc::new(MemoryPublisher::default()),
        );
        let runner = UserId::generate();
        ledger.add_runner(&runner);
        let function = PointIncrease {
            ledger: ledger.clone(),
            publisher: topic.clone(),
            clock: Arc::new(ManualClock::new(datetime!(2026-11-21 10:00 UTC))),
        };
        World {
            ledger,
            topic,
            function,
            runner,
        }
    }

    fn change(runner: &UserId, points: u32, version: u64) -> ResultChange {
        ResultChange {
            result_id: "m.r".into(),
            marathon_id: MarathonId::parse("01JAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
            marathon_name: "Seoul".into(),
            marathon_date: Some(time::macros::date!(2027 - 03 - 21)),
            runner_id: runner.clone(),
            runner_name: "Kim".into(),
            points,
            version,
            import_id: None,
        }
    }

    fn message(id: &str, body: String) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body);
        m
    }

    fn body(event: ResultEvent) -> String {
        Envelope::new(event, datetime!(2026-11-21 10:00 UTC), Some("c-1".into()))
            .to_json()
            .unwrap()
    }

    async fn deliver(w: &World, messages: Vec<SqsMessage>) -> Vec<String> {
        let mut event = SqsEvent::default();
        event.records = messages;
        let response = w.function.handle(event).await.unwrap();
        let mut failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .filter_map(|f| f.item_identifier)
            .collect();
        failed.sort();
        failed
    }

    fn awarded(w: &World) -> Vec<(i64, i64, u64)> {
        w.topic
            .published()
            .into_iter()
            .map(|e| {
                let PointsEvent::Awarded(a) = e.event else {
                    panic!("point-increase publishes awards only");
                };
                assert_eq!(
                    e.correlation_id.as_deref(),
                    Some("c-1"),
                    "the correlation id travels on"
                );
                (a.delta, a.total, a.result_version)
            })
            .collect()
    }

    #[tokio::test]
    async fn a_result_is_applied_announced_once_and_its_corrections_move_the_total_by_the_difference() {
        let w = world();
        let recorded = message("1", body(ResultEvent::Recorded(change(&w.runner, 100, 1))));
        assert!(deliver(&w, vec![recorded.clone()]).await.is_empty());
        assert_eq!(awarded(&w), [(100, 100, 1)]);
        assert_eq!(w.ledger.notified(&w.runner, "m.r"), Some(true));
        // a redelivery changes nothing and announces nothing
        assert!(deliver(&w, vec![recorded]).await.is_empty());
        // a correction that only changed the finish time moves no points: no announcement
        let same = message("2", body(ResultEvent::Corrected(change(&w.runner, 100, 2))));
        let more = message("3", body(ResultEvent::Corrected(change(&w.runner, 110, 3))));
        assert!(deliver(&w, vec![same]).await.is_empty());
        assert!(deliver(&w, vec![more]).await.is_empty());
        let removed = message("4", body(ResultEvent::Removed(change(&w.runner, 0, 4))));
        assert!(deliver(&w, vec![removed]).await.is_empty());
        assert_eq!(awarded(&w), [(100, 100, 1), (10, 110, 3), (-110, 0, 4)]);
        assert_eq!(w.ledger.total(&w.runner), Some(0));
    }

    #[tokio::test]
    async fn a_failed_announcement_is_retried_and_sent_on_redelivery_without_applying_twice() {
        let w = world();
        let recorded = message("1", body(ResultEvent::Recorded(change(&w.runner, 100, 1))));
        w.topic.fail_next(PublishError::Retryable("throttled".into()));
        assert_eq!(deliver(&w, vec![recorded.clone()]).await, ["1"]);
        assert!(awarded(&w).is_empty());
        assert_eq!(w.ledger.notified(&w.runner, "m.r"), Some(false));
        assert_eq!(deliver(&w, vec![recorded]).await, Vec::<String>::new());
        assert_eq!(awarded(&w), [(100, 100, 1)]);
        assert_eq!(w.ledger.total(&w.runner), Some(100), "applied once");
        assert_eq!(w.ledger.notified(&w.runner, "m.r"), Some(true));
    }

    #[tokio::test]
    async fn an_announcement_that_failed_is_sent_once_even_after_a_newer_version_overtook_it() {
        let w = world();
        let recorded = message("1", body(ResultEvent::Recorded(change(&w.runner, 110, 1))));
        w.topic.fail_next(PublishError::Retryable("topic gone".into()));
        assert_eq!(deliver(&w, vec![recorded.clone()]).await, ["1"]);
        // the removal is applied and announced before the recording is redelivered
        let removed = message("2", body(ResultEvent::Removed(change(&w.runner, 0, 2))));
        assert!(deliver(&w, vec![removed]).await.is_empty());
        assert_eq!(awarded(&w), [(-110, 0, 2)]);
        assert_eq!(w.ledger.pending(&w.runner, "m.r"), [1]);
        // the redelivery owes only the announcement; the total it names is today's
        assert!(deliver(&w, vec![recorded.clone()]).await.is_empty());
        assert_eq!(awarded(&w), [(-110, 0, 2), (110, 0, 1)]);
        assert!(w.ledger.pending(&w.runner, "m.r").is_empty());
        // announced once: a further redelivery says nothing, and the points moved twice only
        assert!(deliver(&w, vec![recorded]).await.is_empty());
        assert_eq!(awarded(&w).len(), 2);
        assert_eq!(w.ledger.total(&w.runner), Some(0));
    }

    #[tokio::test]
    async fn bad_bodies_unknown_runners_and_refused_publishes_fail_only_their_message() {
        let w = world();
        let awarded_body = Envelope::new(
            PointsEvent::Awarded(PointsAwarded {
                runner_id: w.runner.clone(),
                runner_name: "Kim".into(),
                marathon_id: MarathonId::generate(),
                marathon_name: "Seoul".into(),
                result_id: "m.r".into(),
                delta: 1,
                total: 1,
                result_version: 1,
                import_id: None,
            }),
            datetime!(2026-11-21 10:00 UTC),
            None,
        )
        .to_json()
        .unwrap();
        let mut empty = message("e", String::new());
        empty.body = None;
        let failed = deliver(
            &w,
            vec![
                message("a", awarded_body),
                message("b", "not json".into()),
                message(
                    "c",
                    body(ResultEvent::Recorded(change(&UserId::generate(), 5, 1))),
                ),
                empty,
                message("ok", body(ResultEvent::Recorded(change(&w.runner, 7, 1)))),
            ],
        )
        .await;
        assert_eq!(failed, ["a", "b", "c", "e"]);
        assert_eq!(awarded(&w), [(7, 7, 1)]);
        // the classification: a refused publish is poison, an unknown runner too
        w.topic.fail_next(PublishError::Rejected("too big".into()));
        let outcome = w
            .function
            .message(
                message("r", body(ResultEvent::Corrected(change(&w.runner, 9, 2)))),
                &RunnerTurns::default(),
            )
            .await;
        assert!(matches!(outcome, Err(ItemError::Poison(_))), "{outcome:?}");
        let outcome = w
            .function
            .message(
                message(
                    "u",
                    body(ResultEvent::Recorded(change(&UserId::generate(), 5, 1))),
                ),
                &RunnerTurns::default(),
            )
            .await;
        assert!(
            matches!(outcome, Err(ItemError::Poison(ref r)) if r.contains("runner")),
            "{outcome:?}"
        );
    }
}
