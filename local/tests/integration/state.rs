//! `make dev`'s saved state against real emulators: items, dead-letter messages and the
//! JWT key pair written on one emulator come back on a fresh one after a restart, and
//! the stream mappings resume after the restored records (none goes through the pipeline
//! again, a new one does). Every wait is bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use local::esm::Progress;
use local::stack::{STACK_NAME, template_path};
use local::state::{self, Clients, Scope, Snapshot};
use local::{
    Emulator, Hops, InProcess, Options, Provisioned, ServiceOptions, Services, Template, provision,
    sdk_config,
};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

async fn provisioned(emulator: &Emulator) -> Provisioned {
    let template = Template::from_path(&template_path()).unwrap();
    provision(
        &sdk_config(emulator.endpoint()),
        &template,
        &Options::new(STACK_NAME),
    )
    .await
    .expect("template.yaml provisions")
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: i64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// (table logical id, item): a user, a marathon, an entry, an official result and a
/// runner's points, shaped like the functions' items (keys, numbers, maps, lists).
fn items() -> Vec<(&'static str, HashMap<String, AttributeValue>)> {
    vec![
        (
            "UsersTable",
            HashMap::from([
                ("pk".into(), s("USER#runner-1")),
                ("sk".into(), s("PROFILE")),
                ("name".into(), s("김러너")),
                ("email".into(), s("kim@example.com")),
                ("user_type".into(), s("runner")),
            ]),
        ),
        (
            "UsersTable",
            HashMap::from([
                ("pk".into(), s("USER#runner-1")),
                ("sk".into(), s("POINTS")),
                ("total".into(), n(110)),
                (
                    "awards".into(),
                    AttributeValue::L(vec![AttributeValue::M(HashMap::from([
                        ("marathon".into(), s("m-1")),
                        ("points".into(), n(110)),
                    ]))]),
                ),
            ]),
        ),
        (
            "RacesTable",
            HashMap::from([
                ("pk".into(), s("MARATHON#m-1")),
                ("sk".into(), s("MARATHON")),
                ("name".into(), s("서울 마라톤")),
                ("points".into(), n(100)),
                ("entry_count".into(), n(1)),
            ]),
        ),
        (
            "RacesTable",
            HashMap::from([
                ("pk".into(), s("MARATHON#m-1")),
                ("sk".into(), s("ENTRY#runner-1")),
                ("runner_name".into(), s("김러너")),
            ]),
        ),
        (
            "RacesTable",
            HashMap::from([
                ("pk".into(), s("MARATHON#m-1")),
                ("sk".into(), s("RESULT#runner-1")),
                ("finish_time".into(), s("3:12:45")),
                ("bonus".into(), AttributeValue::B(vec![1, 2, 3].into())),
            ]),
        ),
    ]
}

async fn get(
    dynamodb: &aws_sdk_dynamodb::Client,
    provisioned: &Provisioned,
    table: &str,
    item: &HashMap<String, AttributeValue>,
) -> Option<HashMap<String, AttributeValue>> {
    let key: HashMap<String, AttributeValue> = ["pk", "sk"]
        .iter()
        .map(|k| ((*k).to_owned(), item[*k].clone()))
        .collect();
    dynamodb
        .get_item()
        .table_name(provisioned.physical_name(table).unwrap())
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_an_emulator_restart_and_restored_records_are_not_replayed() {
    let dir = std::env::temp_dir().join(format!("mrmrthon-state-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // First life: write, snapshot, save.
    let first = tokio::task::spawn_blocking(|| Emulator::start(None))
        .await
        .unwrap()
        .expect("the emulator starts (run `make tools` first)");
    let before = provisioned(&first).await;
    let config = sdk_config(first.endpoint());
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    for (table, item) in items() {
        dynamodb
            .put_item()
            .table_name(before.physical_name(table).unwrap())
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    let dlq = before.url("PointIncreaseDLQ").unwrap().to_owned();
    sqs.send_message()
        .queue_url(&dlq)
        .message_body(r#"{"runner_id":"runner-1","points":110}"#)
        .message_attributes(
            "correlation_id",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("cid-1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let keys = before.key_pair_secrets().unwrap().clone();
    let private_key = secrets
        .get_secret_value()
        .secret_id(&keys.private_key_secret)
        .send()
        .await
        .unwrap()
        .secret_string
        .unwrap();

    let clients = Clients::new(&config);
    let scope = Scope::of(&before).unwrap();
    let snapshot = state::settled_snapshot(
        &clients,
        &scope,
        &Progress::default(),
        &Hops::quiet(),
        Duration::from_secs(2),
    )
    .await
    .unwrap()
    .expect("nothing runs: the pipeline is settled");
    assert_eq!(snapshot.item_count(), 5, "{snapshot:?}");
    assert_eq!(
        snapshot.queues["PointIncreaseDLQ"].len(),
        1,
        "{:?}",
        snapshot.queues
    );
    // Reading the DLQ for the snapshot leaves its message there, visible.
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes[&QueueAttributeName::ApproximateNumberOfMessages], "1");
    snapshot.save(&dir).unwrap();
    drop(first);

    // Second life: a fresh emulator, provisioned, then the saved state written back.
    let second = tokio::task::spawn_blocking(|| Emulator::start(None))
        .await
        .unwrap()
        .expect("a second emulator starts");
    let after = provisioned(&second).await;
    let config = sdk_config(second.endpoint());
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let loaded = Snapshot::load(&dir).unwrap().expect("the snapshot was saved");
    std::fs::remove_dir_all(&dir).unwrap();
    let checkpoints = state::restore(&Clients::new(&config), &after, &loaded)
        .await
        .unwrap();

    for (table, item) in items() {
        assert_eq!(
            get(&dynamodb, &after, table, &item).await.as_ref(),
            Some(&item),
            "{table}"
        );
    }
    let received = sqs
        .receive_message()
        .queue_url(after.url("PointIncreaseDLQ").unwrap())
        .message_attribute_names("All")
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0].body(),
        Some(r#"{"runner_id":"runner-1","points":110}"#)
    );
    assert_eq!(
        received[0].message_attributes().unwrap()["correlation_id"].string_value(),
        Some("cid-1")
    );
    let restored_key = secrets
        .get_secret_value()
        .secret_id(&keys.private_key_secret)
        .send()
        .await
        .unwrap()
        .secret_string
        .unwrap();
    assert_eq!(
        restored_key, private_key,
        "tokens signed before the restart still verify"
    );
    assert!(
        checkpoints.keys().any(|(arn, _)| Some(arn.as_str()) == after.resource("RacesTable").unwrap().stream_arn.as_deref()),
        "the restore's records on the Races stream are behind a checkpoint: {checkpoints:?}"
    );

    // The Races stream mapping (TRIM_HORIZON in the template) resumes after the restore.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorder = Arc::clone(&seen);
    let handlers = InProcess::new().with("OfficialRecordStreamFunction", move |event: Value| {
        let recorder = Arc::clone(&recorder);
        async move {
            for record in event["Records"].as_array().cloned().unwrap_or_default() {
                let sk = record["dynamodb"]["Keys"]["sk"]["S"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                recorder.lock().unwrap().push(sk);
            }
            Ok(json!({ "batchItemFailures": [] }))
        }
    });
    let services = Services::start(
        second.endpoint(),
        &after,
        Arc::new(handlers),
        ServiceOptions {
            api_port: None,
            checkpoints,
            ..ServiceOptions::for_tests(None)
        },
    )
    .await
    .unwrap();
    dynamodb
        .put_item()
        .table_name(after.physical_name("RacesTable").unwrap())
        .item("pk", s("MARATHON#m-1"))
        .item("sk", s("RESULT#runner-2"))
        .item("finish_time", s("4:01:00"))
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    while !seen.lock().unwrap().contains(&"RESULT#runner-2".to_owned()) {
        assert!(
            started.elapsed() < DEADLINE,
            "the new result never reached the function: {:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    services.stop().await;
    // In stream order the restored result would have come first.
    assert_eq!(*seen.lock().unwrap(), ["RESULT#runner-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_work_queue_means_no_snapshot() {
    let emulator = tokio::task::spawn_blocking(|| Emulator::start(None))
        .await
        .unwrap()
        .expect("the emulator starts");
    let provisioned = provisioned(&emulator).await;
    let config = sdk_config(emulator.endpoint());
    let sqs = aws_sdk_sqs::Client::new(&config);
    // A message waiting for a function that is not running: work under way.
    sqs.send_message()
        .queue_url(provisioned.url("PointIncreaseQueue").unwrap())
        .message_body("{}")
        .send()
        .await
        .unwrap();
    let clients = Clients::new(&config);
    let scope = Scope::of(&provisioned).unwrap();
    let snapshot = state::settled_snapshot(
        &clients,
        &scope,
        &Progress::default(),
        &Hops::quiet(),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(snapshot, None, "a snapshot now could lose that message's effect");
    assert_eq!(state::work_queued(&clients, &scope).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_snapshot_while_a_stream_record_is_in_hand_and_the_checkpoint_once_it_is_done() {
    let emulator = tokio::task::spawn_blocking(|| Emulator::start(None))
        .await
        .unwrap()
        .expect("the emulator starts");
    let provisioned = provisioned(&emulator).await;
    let config = sdk_config(emulator.endpoint());
    // The function holds its batch until released: the record is read and not done.
    let release = Arc::new(tokio::sync::Notify::new());
    let held = Arc::clone(&release);
    let handlers = InProcess::new().with("OfficialRecordStreamFunction", move |_event: Value| {
        let held = Arc::clone(&held);
        async move {
            held.notified().await;
            Ok(json!({ "batchItemFailures": [] }))
        }
    });
    let hops = Hops::quiet();
    let services = Services::start(
        emulator.endpoint(),
        &provisioned,
        Arc::new(handlers),
        ServiceOptions {
            api_port: None,
            hops: hops.clone(),
            ..ServiceOptions::for_tests(None)
        },
    )
    .await
    .unwrap();
    let progress = services.mappings.as_ref().unwrap().progress();
    aws_sdk_dynamodb::Client::new(&config)
        .put_item()
        .table_name(provisioned.physical_name("RacesTable").unwrap())
        .item("pk", s("MARATHON#m-1"))
        .item("sk", s("RESULT#runner-1"))
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    while progress.unprocessed() == 0 {
        assert!(started.elapsed() < DEADLINE, "the record was never read");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let clients = Clients::new(&config);
    let scope = Scope::of(&provisioned).unwrap();
    let busy = state::settled_snapshot(&clients, &scope, &progress, &hops, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(busy, None, "the item's effect is not done yet");

    release.notify_one();
    let started = Instant::now();
    let snapshot = loop {
        if let Some(snapshot) =
            state::settled_snapshot(&clients, &scope, &progress, &hops, Duration::from_secs(1))
                .await
                .unwrap()
        {
            break snapshot;
        }
        assert!(started.elapsed() < DEADLINE, "the pipeline never settled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    services.stop().await;
    let races_stream = provisioned
        .resource("RacesTable")
        .unwrap()
        .stream_arn
        .clone()
        .unwrap();
    let checkpoint = snapshot
        .checkpoints
        .iter()
        .find(|c| c.stream_arn == races_stream)
        .expect("the Races shard has a checkpoint");
    // The checkpoint is the record just processed: the last one on the stream.
    let ends = state::stream_ends(&aws_sdk_dynamodbstreams::Client::new(&config), &provisioned)
        .await
        .unwrap();
    assert_eq!(
        ends.get(&(races_stream.clone(), checkpoint.shard_id.clone())),
        Some(&checkpoint.sequence)
    );
    assert_eq!(snapshot.tables["RacesTable"].len(), 1);
}
