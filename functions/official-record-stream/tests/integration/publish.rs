//! official-record-stream against the emulator: stream records of real result items,
//! published through the real SNS topic to the point-increase queue (its filter policy
//! from template.yaml included).

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use domain::events::{Envelope, ResultEvent};
use domain::marathon::MarathonId;
use domain::result::OfficialResult;
use domain::{UserId, UserName};
use infra::dynamo::keys;
use infra::dynamo::races::ResultItem;
use infra::sns::SnsPublisher;
use serde_json::json;

fn result_item(marathon: &MarathonId, runner: &UserId, points: u32, version: u64) -> serde_json::Value {
    let result = OfficialResult {
        marathon_id: marathon.clone(),
        marathon_name: "Seoul".into(),
        marathon_date: time::macros::date!(2027 - 03 - 21),
        runner_id: runner.clone(),
        runner_name: UserName::parse("Kim").unwrap(),
        finish_seconds: Some(10800),
        finish_time: Some("3:00:00".into()),
        bonus_points: 0,
        points,
        version,
        recorded_at: time::OffsetDateTime::now_utc(),
        updated_at: time::OffsetDateTime::now_utc(),
        correlation_id: Some("publish-test".into()),
        status: Default::default(),
        gun_seconds: None,
        splits: Default::default(),
        bib: None,
        category: None,
        import_id: None,
        age_grade: None,
    };
    // the item as the Races adapter stores it: the stored type and the codec's keys
    let mut item: serde_dynamo::Item = serde_dynamo::to_item(ResultItem::from(&result)).unwrap();
    item.insert(
        "pk".into(),
        serde_dynamo::AttributeValue::S(keys::marathon_pk(marathon)),
    );
    item.insert(
        "sk".into(),
        serde_dynamo::AttributeValue::S(keys::result_sk(runner)),
    );
    serde_json::to_value(item).unwrap()
}

fn record(
    sequence: u32,
    name: &str,
    sk: &str,
    old: Option<serde_json::Value>,
    new: Option<serde_json::Value>,
) -> EventRecord {
    let mut change = json!({
        "ApproximateCreationDateTime": 1795255200.0,
        "Keys": { "pk": { "S": "MARATHON#x" }, "sk": { "S": sk } },
        "SequenceNumber": sequence.to_string(), "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"
    });
    if let Some(old) = old {
        change["OldImage"] = old;
    }
    if let Some(new) = new {
        change["NewImage"] = new;
    }
    serde_json::from_value(json!({
        "eventID": sequence.to_string(), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "dynamodb": change,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/races/stream/x"
    }))
    .unwrap()
}

async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str, expected: usize) -> Vec<Envelope<ResultEvent>> {
    let mut found = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let output = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() && found.len() >= expected {
            break;
        }
        for message in messages {
            let envelope = Envelope::parse(message.body.as_deref().unwrap()).unwrap();
            assert_eq!(
                message
                    .message_attributes
                    .as_ref()
                    .and_then(|a| a.get("type"))
                    .and_then(|v| v.string_value()),
                Some(envelope.kind()),
                "the type travels as a message attribute"
            );
            found.push(envelope);
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    found
}

#[tokio::test]
async fn a_batch_is_published_in_order_and_a_poison_record_is_parked_on_the_failure_queue() {
    let stack = local::Stack::shared();
    let sdk = stack.sdk_config().await;
    let env = stack
        .provisioned()
        .function_env("OfficialRecordStreamFunction")
        .unwrap();
    let publisher =
        SnsPublisher::<ResultEvent>::new(aws_sdk_sns::Client::new(&sdk), &env["RECORD_EVENTS_TOPIC"]);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = stack.provisioned().url("PointIncreaseQueue").unwrap().to_owned();
    let failures = env["RECORD_STREAM_FAILURES_QUEUE_URL"].clone();
    // as the function builds it: the SQS client made at the first record parked
    let poison = infra::poison::PoisonQueue::on_demand(&sdk, &failures, "official-record-stream");
    let marathon = MarathonId::generate();

    // 12 results (more than one PublishBatch), an entry, and a no-op update
    let runners: Vec<UserId> = (0..12).map(|_| UserId::generate()).collect();
    let mut records: Vec<EventRecord> = runners
        .iter()
        .enumerate()
        .map(|(i, r)| {
            record(
                i as u32 + 1,
                "INSERT",
                "RESULT#r",
                None,
                Some(result_item(&marathon, r, 100, 1)),
            )
        })
        .collect();
    records.push(record(
        13,
        "INSERT",
        "ENTRY#r",
        None,
        Some(json!({ "sk": { "S": "ENTRY#r" } })),
    ));
    let same = result_item(&marathon, &runners[0], 100, 1);
    records.push(record(14, "MODIFY", "RESULT#r", Some(same.clone()), Some(same)));
    let mut event = Event::default();
    event.records = records;
    let response = official_record_stream::handle(event, &publisher, &poison)
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    let published = drain(&sqs, &queue, 12).await;
    assert_eq!(published.len(), 12);
    let mut delivered: Vec<String> = published
        .iter()
        .map(|e| match &e.event {
            ResultEvent::Recorded(c) => c.runner_id.to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    delivered.sort();
    let mut expected: Vec<String> = runners.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(delivered, expected);
    assert!(
        published
            .iter()
            .all(|e| e.correlation_id.as_deref() == Some("publish-test"))
    );

    // a poison record at position 3: the others go out, it is parked on the failure queue
    // with a pointer `make replay` reads
    let mut event = Event::default();
    event.records = (0..6)
        .map(|i| {
            if i == 3 {
                record(
                    100 + i,
                    "INSERT",
                    "RESULT#r",
                    None,
                    Some(json!({ "sk": { "S": "RESULT#r" } })),
                )
            } else {
                record(
                    100 + i,
                    "INSERT",
                    "RESULT#r",
                    None,
                    Some(result_item(&marathon, &UserId::generate(), 5, 1)),
                )
            }
        })
        .collect();
    let response = official_record_stream::handle(event, &publisher, &poison)
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(drain(&sqs, &queue, 5).await.len(), 5);
    let parked = sqs
        .receive_message()
        .queue_url(&failures)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    let bodies: Vec<serde_json::Value> = parked
        .iter()
        .map(|m| serde_json::from_str(m.body.as_deref().unwrap()).unwrap())
        .collect();
    let ours: Vec<_> = bodies
        .iter()
        .filter(|b| b["DDBStreamBatchInfo"]["startSequenceNumber"] == "103")
        .collect();
    assert_eq!(ours.len(), 1, "{bodies:?}");
    let pointer = local::replay::Pointer::parse(&ours[0].to_string()).unwrap();
    assert_eq!((pointer.start.as_str(), pointer.end.as_str()), ("103", "103"));
    assert_eq!(ours[0]["requestContext"]["condition"], "PoisonRecord");
    for message in parked {
        sqs.delete_message()
            .queue_url(&failures)
            .receipt_handle(message.receipt_handle.unwrap())
            .send()
            .await
            .unwrap();
    }
}
