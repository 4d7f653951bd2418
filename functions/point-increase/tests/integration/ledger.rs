//! point-increase against the emulator: the real ledger on the Users table and the real
//! points-events topic (whose subscription delivers to the discord-notify queue).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::events::{Envelope, PointsEvent, ResultChange, ResultEvent};
use domain::marathon::MarathonId;
use domain::ports::{EventPublisher, LedgerOutcome, PointsLedger, PointsStore, PublishError, UserStore};
use domain::{Email, Role, User, UserId, UserName};
use infra::dynamo::{ActivityLog, AwardItem, DynamoLedger, DynamoUsers};
use point_increase::PointIncrease;
use time::OffsetDateTime;

pub(crate) struct World {
    pub(crate) function: PointIncrease,
    pub(crate) users: DynamoUsers,
    /// The ledger the function uses, on its own, for the adapter's outcomes.
    ledger: DynamoLedger,
    pub(crate) dynamo: aws_sdk_dynamodb::Client,
    pub(crate) users_table: String,
    sqs: aws_sdk_sqs::Client,
    /// This test's own queue on the points-events topic, filtered on its correlation id,
    /// so parallel tests never see each other's announcements.
    inbox: String,
    correlation: String,
}

pub(crate) async fn world() -> World {
    let stack = local::Stack::shared();
    let sdk = stack.sdk_config().await;
    let p = stack.provisioned();
    let env = p
        .function_env("PointIncreaseFunction")
        .expect("PointIncreaseFunction in template.yaml");
    let function = point_increase::connect(&sdk, &env["USERS_TABLE"], &env["POINTS_EVENTS_TOPIC"]).await;
    let activity = ActivityLog {
        table: p.physical_name("ActivityLogTable").unwrap().to_owned(),
        retention: time::Duration::days(1),
    };
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let correlation = format!("test-{}", ulid::Ulid::new());
    let inbox = sqs
        .create_queue()
        .queue_name(&correlation)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let inbox_arn = format!(
        "arn:aws:sqs:{}:{}:{correlation}",
        local::emulator::REGION,
        local::emulator::ACCOUNT_ID
    );
    aws_sdk_sns::Client::new(&sdk)
        .subscribe()
        .topic_arn(&env["POINTS_EVENTS_TOPIC"])
        .protocol("sqs")
        .endpoint(inbox_arn)
        .attributes("RawMessageDelivery", "true")
        .attributes(
            "FilterPolicy",
            format!("{{\"correlation_id\": [\"{correlation}\"]}}"),
        )
        .send()
        .await
        .unwrap();
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    World {
        function,
        users: DynamoUsers::new(dynamo.clone(), &env["USERS_TABLE"], activity),
        ledger: DynamoLedger::new(dynamo.clone(), &env["USERS_TABLE"]),
        dynamo,
        users_table: env["USERS_TABLE"].clone(),
        sqs,
        inbox,
        correlation,
    }
}

impl World {
    pub(crate) async fn runner(&self) -> UserId {
        let id = UserId::generate();
        let user = User {
            id: id.clone(),
            email: Email::parse(&format!("{}@example.com", id.as_str().to_lowercase())).unwrap(),
            name: UserName::parse("Kim Runner").unwrap(),
            user_type: Role::Runner,
            created_at: OffsetDateTime::now_utc(),
        };
        let entry = ActivityEntry::new(
            id.clone(),
            ActivityKind::UserSignedUp,
            user.created_at,
            RequestOrigin::default(),
        );
        self.users
            .create_user(&user, "$argon2id$unused", &entry)
            .await
            .unwrap();
        id
    }

    async fn total(&self, runner: &UserId) -> i64 {
        self.users.total(runner).await.unwrap().unwrap().1
    }

    pub(crate) async fn deliver(&self, messages: Vec<SqsMessage>) -> Vec<String> {
        let mut event = SqsEvent::default();
        event.records = messages;
        let response = self.function.handle(event).await.expect("the batch is handled");
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier.unwrap())
            .collect()
    }

    /// Delivers `pending` again and again, as SQS does after a failure's visibility, until
    /// every message is handled (at most 20 deliveries).
    pub(crate) async fn deliver_until_done(&self, mut pending: Vec<SqsMessage>) {
        for _ in 0..20 {
            if pending.is_empty() {
                return;
            }
            let failed = self.deliver(pending.clone()).await;
            pending.retain(|m| failed.contains(m.message_id.as_ref().unwrap()));
        }
        panic!("messages still failing after 20 deliveries: {}", pending.len());
    }

    /// The points.awarded announcements this test caused: waits (bounded) for `expected`,
    /// then keeps draining until a poll brings none.
    async fn announcements(&self, expected: usize) -> Vec<domain::events::PointsAwarded> {
        let mut found = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.inbox)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            let messages = output.messages.unwrap_or_default();
            let quiet = messages.is_empty();
            for message in messages {
                let PointsEvent::Awarded(awarded) =
                    Envelope::<PointsEvent>::parse(message.body.as_deref().unwrap())
                        .unwrap()
                        .event
                else {
                    panic!("point-increase publishes awards only");
                };
                found.push(awarded);
                self.sqs
                    .delete_message()
                    .queue_url(&self.inbox)
                    .receipt_handle(message.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            if (found.len() >= expected && quiet) || std::time::Instant::now() > deadline {
                return found;
            }
        }
    }

    pub(crate) fn message(&self, event: ResultEvent) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(ulid::Ulid::new().to_string());
        m.body = Some(
            Envelope::new(event, OffsetDateTime::now_utc(), Some(self.correlation.clone()))
                .to_json()
                .unwrap(),
        );
        m
    }
}

fn change(runner: &UserId, result: &str, points: u32, version: u64) -> ResultChange {
    ResultChange {
        result_id: result.to_owned(),
        marathon_id: MarathonId::generate(),
        marathon_name: "Seoul".into(),
        marathon_date: Some(time::macros::date!(2027 - 03 - 21)),
        runner_id: runner.clone(),
        runner_name: "Kim Runner".into(),
        points,
        version,
        import_id: None,
    }
}

fn result_id() -> String {
    format!("{}.r", ulid::Ulid::new())
}

#[tokio::test]
async fn corrections_apply_differences_and_removal_takes_points_back() {
    let w = world().await;
    let runner = w.runner().await;
    let r = result_id();
    assert!(
        w.deliver(vec![
            w.message(ResultEvent::Recorded(change(&runner, &r, 100, 1)))
        ])
        .await
        .is_empty()
    );
    assert_eq!(w.total(&runner).await, 100);
    // only the finish time changed: a new version, the same points
    w.deliver(vec![
        w.message(ResultEvent::Corrected(change(&runner, &r, 100, 2))),
    ])
    .await;
    assert_eq!(w.total(&runner).await, 100);
    w.deliver(vec![
        w.message(ResultEvent::Corrected(change(&runner, &r, 110, 3))),
    ])
    .await;
    assert_eq!(w.total(&runner).await, 110);
    w.deliver(vec![w.message(ResultEvent::Removed(change(&runner, &r, 0, 4)))])
        .await;
    assert_eq!(w.total(&runner).await, 0);
    // announced: +100, +10, -110; the finish-time-only correction said nothing
    let deltas: Vec<i64> = w.announcements(3).await.iter().map(|a| a.delta).collect();
    assert_eq!(deltas.len(), 3, "{deltas:?}");
    assert_eq!(deltas.iter().sum::<i64>(), 0);
    assert!(deltas.contains(&100) && deltas.contains(&10) && deltas.contains(&-110));
    let history = w.users.awards(&runner).await.unwrap();
    assert_eq!((history.len(), history[0].points, history[0].version), (1, 0, 4));
}

#[tokio::test]
async fn the_same_message_three_times_even_concurrently_applies_once() {
    let w = world().await;
    let runner = w.runner().await;
    let one = w.message(ResultEvent::Recorded(change(&runner, &result_id(), 70, 1)));
    let failures = futures::future::join_all((0..3).map(|_| w.deliver(vec![one.clone()]))).await;
    assert!(failures.iter().all(Vec::is_empty));
    w.deliver(vec![one.clone()]).await;
    assert_eq!(w.total(&runner).await, 70);
    // A duplicate that arrives while the first delivery is between its write and its
    // announcement may announce too (at-least-once, never lost); every announcement names
    // the same award version, which the notifier posts once.
    let announced = w.announcements(1).await;
    assert!(!announced.is_empty());
    assert!(
        announced
            .iter()
            .all(|a| a.delta == 70 && a.total == 70 && a.result_version == 1),
        "{announced:?}"
    );
    // once announced, further duplicates say nothing
    w.deliver(vec![one]).await;
    assert!(w.announcements(0).await.is_empty());
}

#[tokio::test]
async fn out_of_order_versions_end_at_the_newest_amount() {
    let w = world().await;
    let runner = w.runner().await;
    let r = result_id();
    w.deliver(vec![
        w.message(ResultEvent::Corrected(change(&runner, &r, 130, 3))),
    ])
    .await;
    w.deliver(vec![
        w.message(ResultEvent::Recorded(change(&runner, &r, 100, 1))),
    ])
    .await;
    w.deliver(vec![
        w.message(ResultEvent::Corrected(change(&runner, &r, 120, 2))),
    ])
    .await;
    assert_eq!(w.total(&runner).await, 130);
}

#[tokio::test]
async fn fifty_results_recorded_concurrently_give_the_exact_total() {
    let w = world().await;
    let runner = w.runner().await;
    let batches: Vec<Vec<SqsMessage>> = (0..5)
        .map(|_| {
            (0..10)
                .map(|i| w.message(ResultEvent::Recorded(change(&runner, &result_id(), 10 + i, 1))))
                .collect()
        })
        .collect();
    // a message that loses every round of contention for the runner's season sum fails
    // (retryable) and comes back, as SQS brings it back: none is applied twice
    futures::future::join_all(batches.into_iter().map(|b| w.deliver_until_done(b))).await;
    // five batches of 10..=19
    assert_eq!(w.total(&runner).await, 5 * (10..20).sum::<i64>());
}

#[tokio::test]
async fn poison_fails_alone_in_its_batch() {
    let w = world().await;
    let runner = w.runner().await;
    let mut batch: Vec<SqsMessage> = (0..9)
        .map(|_| w.message(ResultEvent::Recorded(change(&runner, &result_id(), 5, 1))))
        .collect();
    let mut poison = SqsMessage::default();
    poison.message_id = Some("poison-1".into());
    poison.body = Some("{\"type\": \"result.exploded\"}".into());
    batch.insert(4, poison);
    // a result for a runner who does not exist is poison too
    let ghost = w.message(ResultEvent::Recorded(change(
        &UserId::generate(),
        &result_id(),
        5,
        1,
    )));
    let ghost_id = ghost.message_id.clone().unwrap();
    batch.push(ghost);
    let mut failed = w.deliver(batch).await;
    failed.sort();
    let mut expected = vec!["poison-1".to_owned(), ghost_id];
    expected.sort();
    assert_eq!(failed, expected);
    assert_eq!(w.total(&runner).await, 45);
}

/// The real points-events topic behind a first publish that fails, as during an outage.
struct FailsFirst {
    topic: Arc<dyn EventPublisher<PointsEvent>>,
    failed: AtomicBool,
}

#[async_trait::async_trait]
impl EventPublisher<PointsEvent> for FailsFirst {
    async fn publish(&self, envelopes: &[Envelope<PointsEvent>]) -> Vec<Result<(), PublishError>> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return envelopes
                .iter()
                .map(|_| Err(PublishError::Retryable("topic gone".into())))
                .collect();
        }
        self.topic.publish(envelopes).await
    }
}

#[tokio::test]
async fn an_announcement_overtaken_by_a_newer_version_is_still_sent_once() {
    let w = world().await;
    let runner = w.runner().await;
    let r = result_id();
    let outage = PointIncrease {
        ledger: w.function.ledger.clone(),
        publisher: Arc::new(FailsFirst {
            topic: w.function.publisher.clone(),
            failed: AtomicBool::new(false),
        }),
        clock: w.function.clock.clone(),
    };
    let recorded = w.message(ResultEvent::Recorded(change(&runner, &r, 110, 1)));
    let recorded_id = recorded.message_id.clone().unwrap();
    let mut event = SqsEvent::default();
    event.records = vec![recorded.clone()];
    let failed: Vec<String> = outage
        .handle(event)
        .await
        .expect("the batch is handled")
        .batch_item_failures
        .into_iter()
        .filter_map(|f| f.item_identifier)
        .collect();
    assert_eq!(failed, [recorded_id], "applied, its announcement failed");
    assert_eq!(w.total(&runner).await, 110);
    // the removal overtakes the recording's redelivery
    assert!(
        w.deliver(vec![w.message(ResultEvent::Removed(change(&runner, &r, 0, 2)))])
            .await
            .is_empty()
    );
    assert!(w.deliver(vec![recorded.clone()]).await.is_empty());
    assert!(w.deliver(vec![recorded]).await.is_empty());
    assert_eq!(w.total(&runner).await, 0, "the points moved once each way");
    let mut announced: Vec<(u64, i64)> = w
        .announcements(2)
        .await
        .iter()
        .map(|a| (a.result_version, a.delta))
        .collect();
    announced.sort();
    assert_eq!(announced, [(1, 110), (2, -110)], "each change announced once");
}

#[tokio::test]
async fn the_ledger_owes_each_applied_version_its_announcement_until_marked() {
    let w = world().await;
    let runner = w.runner().await;
    let r = result_id();
    let at = OffsetDateTime::now_utc();
    let v1 = change(&runner, &r, 110, 1);
    let v2 = change(&runner, &r, 0, 2);
    assert_eq!(
        w.ledger.apply(&v1, at).await.unwrap(),
        LedgerOutcome::Applied {
            delta: 110,
            total: 110
        }
    );
    assert_eq!(
        w.ledger.apply(&v2, at).await.unwrap(),
        LedgerOutcome::Applied {
            delta: -110,
            total: 0
        }
    );
    // both owed, each with its own delta, whatever order the redeliveries come in
    let owed_v1 = LedgerOutcome::Unnotified { delta: 110, total: 0 };
    assert_eq!(w.ledger.apply(&v1, at).await.unwrap(), owed_v1);
    assert_eq!(
        w.ledger.apply(&v2, at).await.unwrap(),
        LedgerOutcome::Unnotified {
            delta: -110,
            total: 0
        }
    );
    // marking the newer one leaves the older one owed
    w.ledger.mark_notified(&runner, &r, 2).await.unwrap();
    assert_eq!(w.ledger.apply(&v2, at).await.unwrap(), LedgerOutcome::Unchanged);
    assert_eq!(w.ledger.apply(&v1, at).await.unwrap(), owed_v1);
    w.ledger.mark_notified(&runner, &r, 1).await.unwrap();
    assert_eq!(w.ledger.apply(&v1, at).await.unwrap(), LedgerOutcome::Unchanged);
    // nothing pending is left behind in the runner's partition
    let pending = w
        .dynamo
        .query()
        .table_name(&w.users_table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :announce)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{runner}")))
        .expression_attribute_values(":announce", AttributeValue::S("ANNOUNCE#".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(pending.count, 0, "{:?}", pending.items);
    assert_eq!(w.total(&runner).await, 0);
}

#[tokio::test]
async fn an_award_written_before_pending_items_keeps_its_owed_announcement() {
    let w = world().await;
    let runner = w.runner().await;
    let r = result_id();
    // as the ledger wrote it before: the flag on the award is the only outbox
    let legacy = AwardItem {
        result_id: r.clone(),
        marathon_id: MarathonId::generate(),
        points: 50,
        version: 1,
        updated_at: OffsetDateTime::now_utc(),
        delta: 50,
        notified: false,
        // before seasons too
        season: None,
    };
    w.dynamo
        .put_item()
        .table_name(&w.users_table)
        .set_item(Some(legacy.to_item(&runner).unwrap()))
        .send()
        .await
        .unwrap();
    let v1 = change(&runner, &r, 50, 1);
    let at = OffsetDateTime::now_utc();
    assert!(
        matches!(
            w.ledger.apply(&v1, at).await.unwrap(),
            LedgerOutcome::Unnotified { delta: 50, .. }
        ),
        "still owed"
    );
    w.ledger.mark_notified(&runner, &r, 1).await.unwrap();
    assert_eq!(w.ledger.apply(&v1, at).await.unwrap(), LedgerOutcome::Unchanged);
}
