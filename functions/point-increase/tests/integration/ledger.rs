//! point-increase against the emulator: the real ledger on the Users table and the real
//! points-events topic (whose subscription delivers to the discord-notify queue).

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::events::{Envelope, PointsEvent, ResultChange, ResultEvent};
use domain::marathon::MarathonId;
use domain::ports::{PointsStore, UserStore};
use domain::{Email, Role, User, UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoUsers};
use point_increase::PointIncrease;
use time::OffsetDateTime;

struct World {
    function: PointIncrease,
    users: DynamoUsers,
    sqs: aws_sdk_sqs::Client,
    /// This test's own queue on the points-events topic, filtered on its correlation id,
    /// so parallel tests never see each other's announcements.
    inbox: String,
    correlation: String,
}

async fn world() -> World {
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
    World {
        function,
        users: DynamoUsers::new(aws_sdk_dynamodb::Client::new(&sdk), &env["USERS_TABLE"], activity),
        sqs,
        inbox,
        correlation,
    }
}

impl World {
    async fn runner(&self) -> UserId {
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

    async fn deliver(&self, messages: Vec<SqsMessage>) -> Vec<String> {
        let mut event = SqsEvent::default();
        event.records = messages;
        let response = self.function.handle(event).await.expect("the batch is handled");
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier.unwrap())
            .collect()
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
                        .event;
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

    fn message(&self, event: ResultEvent) -> SqsMessage {
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
        runner_id: runner.clone(),
        runner_name: "Kim Runner".into(),
        points,
        version,
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
    let failures = futures::future::join_all(batches.into_iter().map(|b| w.deliver(b))).await;
    assert!(failures.iter().all(Vec::is_empty), "{failures:?}");
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
