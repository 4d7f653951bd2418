//! The event source mappings and the HTTP gateway against a real emulator, on a synthetic
//! template, with small in-process test functions: AWS's retry, partial failure, bisect,
//! on-failure, redrive and filter semantics, and payload 2.0 routing. Every wait is
//! bounded (see `eventually`); nothing sleeps for a fixed time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use local::http_client::HttpClient;
use local::{
    Emulator, HopKind, InProcess, Options, Provisioned, ServiceOptions, Services, Template, provision,
    sdk_config,
};
use serde_json::{Value, json};

const TEMPLATE: &str = r#"
Resources:
  Results:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
      StreamSpecification: { StreamViewType: NEW_AND_OLD_IMAGES }
  StreamFailures:
    Type: AWS::SQS::Queue
  # Longer than OnWork's batching window and timeout together (as AWS asks), or a message
  # gathered at the window's start comes back before its batch is done.
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 3
      RedrivePolicy: { deadLetterTargetArn: !GetAtt WorkDlq.Arn, maxReceiveCount: 2 }
  WorkDlq:
    Type: AWS::SQS::Queue
  OnResult:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 5
      Events:
        Results:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Results.StreamArn
            StartingPosition: LATEST
            BatchSize: 3
            MaximumBatchingWindowInSeconds: 1
            FilterCriteria:
              Filters:
                - Pattern: '{"dynamodb": {"NewImage": {"kind": {"S": ["result"]}}}}'
            FunctionResponseTypes: [ReportBatchItemFailures]
            BisectBatchOnFunctionError: true
            MaximumRetryAttempts: 2
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt StreamFailures.Arn
  OnWork:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 1
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: 3
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
  Backlog:
    Type: AWS::SQS::Queue
    Properties: { VisibilityTimeout: 30 }
  Capped:
    Type: AWS::SQS::Queue
    Properties: { VisibilityTimeout: 30 }
  OnBacklog:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 5
      Events:
        Backlog:
          Type: SQS
          Properties: { Queue: !GetAtt Backlog.Arn, BatchSize: 2 }
        Capped:
          Type: SQS
          Properties:
            Queue: !GetAtt Capped.Arn
            BatchSize: 2
            ScalingConfig: { MaximumConcurrency: 2 }
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Read:
          Type: HttpApi
          Properties: { Method: GET, Path: "/marathons/{id}" }
        Files:
          Type: HttpApi
          Properties: { Method: ANY, Path: "/files/{proxy+}" }
        Fail:
          Type: HttpApi
          Properties: { Method: POST, Path: /fail }
"#;

/// Bounded waits: a test fails after this long, it never hangs.
const DEADLINE: Duration = Duration::from_secs(30);

fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| Emulator::start(None).expect("the emulator starts (run `make tools` first)"))
}

/// A fresh stack of the synthetic template under its own name (so tests sharing the
/// emulator never see each other's resources), with `handlers` behind it.
async fn start(stack: &str, handlers: InProcess) -> (Provisioned, Services) {
    let endpoint = emulator().endpoint();
    let template = Template::from_yaml(TEMPLATE).unwrap();
    let provisioned = provision(&sdk_config(endpoint), &template, &Options::new(stack))
        .await
        .expect("the synthetic template provisions");
    let services = Services::start(
        endpoint,
        &provisioned,
        Arc::new(handlers),
        ServiceOptions::for_tests(None),
    )
    .await
    .expect("the services start");
    (provisioned, services)
}

/// Polls `probe` every 50 ms until it yields a value; fails the test after `DEADLINE`.
async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "gave up after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A record a stream handler received: its key and sequence number.
type Received = (String, String);

/// Records the keys of each batch a stream handler receives, with their sequence numbers.
#[derive(Clone, Default)]
struct Batches(Arc<Mutex<Vec<Vec<Received>>>>);

impl Batches {
    fn keys(&self) -> Vec<Vec<String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.iter().map(|(k, _)| k.clone()).collect())
            .collect()
    }

    fn sequence_of(&self, key: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .find(|(k, _)| k == key)
            .map(|(_, s)| s.clone())
    }
}

/// A stream function: fails a record whose `fail` is `report` through the partial batch
/// response, fails the whole batch when one has `error`, and answers a null
/// itemIdentifier the first time it sees `null-id`.
fn stream_handler(batches: Batches) -> InProcess {
    let seen_null = Arc::new(Mutex::new(false));
    InProcess::new().with("OnResult", move |event: Value| {
        let batches = batches.clone();
        let seen_null = Arc::clone(&seen_null);
        async move {
            let records = event["Records"].as_array().cloned().unwrap_or_default();
            let mut batch = Vec::new();
            let mut failures = Vec::new();
            let mut error = false;
            let mut null_id = false;
            for record in &records {
                assert_eq!(record["eventSource"], "aws:dynamodb");
                assert!(
                    record["eventSourceARN"]
                        .as_str()
                        .is_some_and(|a| a.contains("/stream/")),
                    "the local stack adds eventSourceARN: {record}"
                );
                let key = record["dynamodb"]["Keys"]["pk"]["S"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let sequence = record["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                match record["dynamodb"]["NewImage"]["fail"]["S"].as_str() {
                    Some("report") => failures.push(json!({"itemIdentifier": sequence})),
                    Some("error") => error = true,
                    Some("null-id") => null_id = true,
                    _ => {}
                }
                batch.push((key, sequence));
            }
            batches.0.lock().unwrap().push(batch);
            if error {
                return Err("a poison record".into());
            }
            if null_id && !std::mem::replace(&mut *seen_null.lock().unwrap(), true) {
                return Ok(json!({"batchItemFailures": [{"itemIdentifier": null}]}));
            }
            Ok(json!({ "batchItemFailures": failures }))
        }
    })
}

/// Writes items `(key, kind, fail)` in one BatchWriteItem: the emulator handles it as one
/// request, so their stream records appear together, in this order, whatever the load.
async fn put_all(provisioned: &Provisioned, items: &[(&str, &str, Option<&str>)]) {
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(emulator().endpoint()));
    let requests = items
        .iter()
        .map(|(key, kind, fail)| {
            let mut item = HashMap::from([
                ("pk".to_owned(), AttributeValue::S((*key).to_owned())),
                ("kind".to_owned(), AttributeValue::S((*kind).to_owned())),
            ]);
            if let Some(fail) = fail {
                item.insert("fail".to_owned(), AttributeValue::S((*fail).to_owned()));
            }
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect();
    let table = provisioned.physical_name("Results").unwrap().to_owned();
    let out = dynamodb
        .batch_write_item()
        .request_items(table, requests)
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
}

/// Waits for one message on `queue` (a logical id) and returns its body as JSON.
async fn one_message(provisioned: &Provisioned, queue: &str) -> Value {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(emulator().endpoint()));
    let url = provisioned.url(queue).unwrap().to_owned();
    eventually(&format!("a message on {queue}"), async || {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(1)
            .send()
            .await
            .unwrap();
        let body = received.messages?.first()?.body()?.to_owned();
        Some(serde_json::from_str(&body).unwrap())
    })
    .await
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| (*k).to_owned()).collect()
}

#[tokio::test]
async fn a_failed_middle_record_is_retried_from_itself_then_sent_to_the_on_failure_queue() {
    let batches = Batches::default();
    let (provisioned, services) = start("partial", stream_handler(batches.clone())).await;

    put_all(
        &provisioned,
        &[
            ("k1", "result", None),
            ("k2", "result", Some("report")),
            ("k3", "result", None),
            ("k4", "result", None),
        ],
    )
    .await;

    let failure = one_message(&provisioned, "StreamFailures").await;
    eventually("k4 to flow after the discarded batch", async || {
        batches
            .keys()
            .iter()
            .any(|b| b.contains(&"k4".to_owned()))
            .then_some(())
    })
    .await;

    // One batch of three; the retries start at the failed record (k1 is done); after two
    // retries the rest of the batch is given up on and later records flow.
    assert_eq!(
        batches.keys(),
        [
            keys(&["k1", "k2", "k3"]),
            keys(&["k2", "k3"]),
            keys(&["k2", "k3"]),
            keys(&["k4"])
        ]
    );
    let context = &failure["requestContext"];
    assert_eq!(context["condition"], "RetryAttemptsExhausted");
    assert_eq!(context["approximateInvokeCount"], 3);
    assert_eq!(
        context["functionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:partial-OnResult"
    );
    assert_eq!(failure["responseContext"]["statusCode"], 200);
    assert!(
        failure["responseContext"].get("functionError").is_none(),
        "a partial batch response is no function error: {failure}"
    );
    let info = &failure["DDBStreamBatchInfo"];
    assert_eq!(info["batchSize"], 2);
    assert_eq!(
        info["startSequenceNumber"].as_str(),
        batches.sequence_of("k2").as_deref()
    );
    assert_eq!(
        info["endSequenceNumber"].as_str(),
        batches.sequence_of("k3").as_deref()
    );
    assert_eq!(
        info["streamArn"].as_str(),
        provisioned.resource("Results").unwrap().stream_arn.as_deref()
    );
    assert!(
        info["shardId"]
            .as_str()
            .is_some_and(|s| s.starts_with("shardId-"))
    );
    assert!(
        info["approximateArrivalOfFirstRecord"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(failure["version"], "1.0");

    let stream_hops: Vec<_> = services
        .hops
        .recent()
        .into_iter()
        .filter(|h| h.kind == HopKind::Stream)
        .collect();
    assert_eq!(stream_hops.len(), 4);
    assert!(matches!(stream_hops[0].outcome, local::hops::Outcome::Partial(_)));
    services.stop().await;
}

#[tokio::test]
async fn a_function_error_bisects_the_batch_until_the_poison_record_is_alone() {
    let batches = Batches::default();
    let (provisioned, services) = start("bisect", stream_handler(batches.clone())).await;

    put_all(
        &provisioned,
        &[
            ("e1", "result", None),
            ("e2", "result", Some("error")),
            ("e3", "result", None),
        ],
    )
    .await;

    let failure = one_message(&provisioned, "StreamFailures").await;
    eventually("e3 to be processed after the poison record", async || {
        (batches.keys().last() == Some(&keys(&["e3"]))).then_some(())
    })
    .await;

    assert_eq!(
        batches.keys(),
        [
            keys(&["e1", "e2", "e3"]),
            keys(&["e1"]),
            keys(&["e2", "e3"]),
            keys(&["e2"]),
            keys(&["e2"]),
            keys(&["e2"]),
            keys(&["e3"]),
        ],
        "halves until e2 is alone, then its three attempts (one plus two retries)"
    );
    assert_eq!(failure["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(failure["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(failure["responseContext"]["functionError"], "Unhandled");
    let info = &failure["DDBStreamBatchInfo"];
    assert_eq!(info["batchSize"], 1);
    assert_eq!(info["startSequenceNumber"], info["endSequenceNumber"]);
    assert_eq!(
        info["startSequenceNumber"].as_str(),
        batches.sequence_of("e2").as_deref()
    );
    services.stop().await;
}

#[tokio::test]
async fn the_filter_drops_what_no_pattern_matches_and_a_null_item_identifier_fails_the_whole_batch() {
    let batches = Batches::default();
    let (provisioned, services) = start("filter", stream_handler(batches.clone())).await;

    put_all(
        &provisioned,
        &[
            ("skipped", "entry", None),
            ("n1", "result", None),
            ("n2", "result", Some("null-id")),
            ("also-skipped", "entry", None),
            ("n3", "result", None),
        ],
    )
    .await;

    eventually("the retry of the whole batch", async || {
        (batches.keys().len() >= 2).then_some(())
    })
    .await;
    // A null itemIdentifier is a whole-batch failure: the same batch again, from n1.
    assert_eq!(
        batches.keys(),
        [keys(&["n1", "n2", "n3"]), keys(&["n1", "n2", "n3"])]
    );
    assert!(
        batches.keys().iter().flatten().all(|k| !k.contains("skipped")),
        "records of another kind never reach the function"
    );
    services.stop().await;
}

#[tokio::test]
async fn a_failing_message_stays_while_the_others_are_deleted_and_is_redriven_to_the_dlq() {
    let deliveries: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let recorded = Arc::clone(&deliveries);
    let handlers = InProcess::new().with("OnWork", move |event: Value| {
        let recorded = Arc::clone(&recorded);
        async move {
            let mut failures = Vec::new();
            for record in event["Records"].as_array().into_iter().flatten() {
                assert_eq!(record["eventSource"], "aws:sqs");
                let body = record["body"].as_str().unwrap_or_default().to_owned();
                let count = record["attributes"]["ApproximateReceiveCount"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if body == "m2" {
                    failures.push(json!({"itemIdentifier": record["messageId"]}));
                }
                recorded.lock().unwrap().push((body, count));
            }
            Ok(json!({ "batchItemFailures": failures }))
        }
    });
    let (provisioned, services) = start("queue", handlers).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(emulator().endpoint()));
    for body in ["m1", "m2", "m3"] {
        sqs.send_message()
            .queue_url(provisioned.url("Work").unwrap())
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    let dead = eventually("m2 on the dead-letter queue", async || {
        let received = sqs
            .receive_message()
            .queue_url(provisioned.url("WorkDlq").unwrap())
            .send()
            .await
            .unwrap();
        received.messages?.first()?.body().map(str::to_owned)
    })
    .await;
    assert_eq!(dead, "m2");

    // By then m2 was delivered twice (maxReceiveCount 2), a visibility timeout apart; had
    // m1 or m3 not been deleted, they would have come back too.
    let deliveries = deliveries.lock().unwrap().clone();
    let count = |body: &str| deliveries.iter().filter(|(b, _)| b == body).count();
    assert_eq!(
        (count("m1"), count("m2"), count("m3")),
        (1, 2, 1),
        "{deliveries:?}"
    );
    let m2_counts: Vec<&str> = deliveries
        .iter()
        .filter(|(b, _)| b == "m2")
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(m2_counts, ["1", "2"]);
    services.stop().await;
}

/// How many batches of each queue were in the function at once, at the most, and every
/// message body handled.
#[derive(Clone, Default)]
struct InFlight(Arc<Mutex<HashMap<String, QueueLoad>>>);

/// One queue's batches in the function now, at the most, and the bodies handled.
type QueueLoad = (usize, usize, Vec<String>);

impl InFlight {
    fn handler(&self) -> InProcess {
        let seen = self.clone();
        InProcess::new().with("OnBacklog", move |event: Value| {
            let seen = seen.clone();
            async move {
                let records = event["Records"].as_array().cloned().unwrap_or_default();
                let queue = records[0]["eventSourceARN"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                {
                    let mut queues = seen.0.lock().unwrap();
                    let (now, most, bodies) = queues.entry(queue.clone()).or_default();
                    *now += 1;
                    *most = (*most).max(*now);
                    bodies.extend(
                        records
                            .iter()
                            .filter_map(|r| r["body"].as_str().map(str::to_owned)),
                    );
                }
                // long enough for the next batches to be received meanwhile
                tokio::time::sleep(Duration::from_millis(400)).await;
                seen.0.lock().unwrap().get_mut(&queue).unwrap().0 -= 1;
                Ok(json!({}))
            }
        })
    }

    /// (most batches at once, bodies handled) for the queue whose ARN ends with `name`.
    fn of(&self, name: &str) -> (usize, Vec<String>) {
        let queues = self.0.lock().unwrap();
        let (_, most, bodies) = queues
            .iter()
            .find(|(arn, _)| arn.contains(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut bodies = bodies;
        bodies.sort();
        (most, bodies)
    }
}

#[tokio::test]
async fn a_queue_backlog_is_read_by_several_batches_at_once_up_to_the_maximum_concurrency() {
    let seen = InFlight::default();
    let (provisioned, services) = start("backlog", seen.handler()).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(emulator().endpoint()));
    let expected: Vec<String> = {
        let mut all: Vec<String> = (0..24).map(|i| format!("m{i:02}")).collect();
        all.sort();
        all
    };
    for queue in ["Backlog", "Capped"] {
        for chunk in expected.chunks(10) {
            let entries = chunk
                .iter()
                .map(|body| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(body)
                        .message_body(body)
                        .build()
                        .unwrap()
                })
                .collect();
            sqs.send_message_batch()
                .queue_url(provisioned.url(queue).unwrap())
                .set_entries(Some(entries))
                .send()
                .await
                .unwrap();
        }
    }
    let (backlog, capped) = eventually("every message of both queues handled", async || {
        let (backlog, capped) = (seen.of("Backlog"), seen.of("Capped"));
        (backlog.1.len() >= expected.len() && capped.1.len() >= expected.len()).then_some((backlog, capped))
    })
    .await;
    assert_eq!(
        (backlog.1, capped.1),
        (expected.clone(), expected),
        "each message once"
    );
    // Lambda's pollers for a queue without a cap, five locally (local::esm::QUEUE_POLLERS)
    assert!(
        (3..=5).contains(&backlog.0),
        "{} batches at once without a cap",
        backlog.0
    );
    assert_eq!(capped.0, 2, "ScalingConfig.MaximumConcurrency 2");
    services.stop().await;
}

#[tokio::test]
async fn http_routes_reach_their_function_with_path_parameters_and_correlation_ids() {
    let handlers = InProcess::new().with("Api", |event: Value| async move {
        if event["routeKey"] == "POST /fail" {
            return Err("the handler failed".into());
        }
        Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "cookies": ["seen=1; Path=/"],
            "body": json!({
                "routeKey": event["routeKey"],
                "pathParameters": event["pathParameters"],
                "query": event["queryStringParameters"],
                "correlation": event["headers"]["x-correlation-id"],
            }).to_string(),
        }))
    });
    let (_provisioned, services) = start("http", handlers).await;
    let api = services.api_url().unwrap();
    let http = HttpClient::new();
    let timeout = Duration::from_secs(10);

    let reply = http
        .get(&format!("{api}/marathons/m-42?page=2"), timeout)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json().unwrap();
    assert_eq!(body["routeKey"], "GET /marathons/{id}");
    assert_eq!(body["pathParameters"], json!({"id": "m-42"}));
    assert_eq!(body["query"], json!({"page": "2"}));
    let generated = reply.header("x-correlation-id").unwrap().to_owned();
    assert_eq!(
        body["correlation"],
        generated.as_str(),
        "a generated id is added to the request too"
    );
    assert_eq!(reply.header_all("set-cookie"), ["seen=1; Path=/"]);
    assert!(reply.header("apigw-requestid").is_some());

    let reply = http
        .request(
            http::Method::DELETE,
            &format!("{api}/files/a/b.txt"),
            &[("x-correlation-id", "given-1")],
            Vec::new(),
            timeout,
        )
        .await
        .unwrap();
    let body = reply.json().unwrap();
    assert_eq!(body["pathParameters"], json!({"proxy": "a/b.txt"}));
    assert_eq!(body["correlation"], "given-1");
    assert_eq!(reply.header("x-correlation-id"), Some("given-1"));

    let missing = http.get(&format!("{api}/nowhere"), timeout).await.unwrap();
    assert_eq!(
        (missing.status, missing.json()),
        (404, Some(json!({"message": "Not Found"})))
    );
    let failed = http
        .request(
            http::Method::POST,
            &format!("{api}/fail"),
            &[],
            b"{}".to_vec(),
            timeout,
        )
        .await
        .unwrap();
    assert_eq!(
        (failed.status, failed.json()),
        (500, Some(json!({"message": "Internal Server Error"})))
    );
    let huge = http
        .request(
            http::Method::GET,
            &format!("{api}/marathons/m-1"),
            &[],
            vec![b'x'; 10 * 1024 * 1024 + 1],
            timeout,
        )
        .await
        .unwrap();
    assert_eq!(huge.status, 413);

    let http_hops: Vec<String> = services
        .hops
        .recent()
        .into_iter()
        .filter(|h| h.kind == HopKind::Http)
        .map(|h| h.to_string())
        .collect();
    assert!(
        http_hops
            .iter()
            .any(|l| l.contains("GET /marathons/m-42 -> 200") && l.contains(&generated)),
        "{http_hops:#?}"
    );
    services.stop().await;
}

#[tokio::test]
async fn a_queue_that_hides_messages_for_less_than_the_function_runs_is_refused() {
    let endpoint = emulator().endpoint();
    let template =
        Template::from_yaml(&TEMPLATE.replace("\n      Timeout: 1\n", "\n      Timeout: 5\n")).unwrap();
    let provisioned = provision(&sdk_config(endpoint), &template, &Options::new("refused"))
        .await
        .unwrap();
    let handlers = InProcess::new().with("OnWork", |_| async { Ok(Value::Null) });
    let err = Services::start(
        endpoint,
        &provisioned,
        Arc::new(handlers),
        ServiceOptions::for_tests(None),
    )
    .await
    .err()
    .expect("Lambda refuses this mapping");
    assert!(
        err.to_string()
            .contains("queue visibility timeout: 3 seconds is less than function timeout: 5 seconds"),
        "{err}"
    );
}

/// Messages waiting on `queue` (a logical id), visible or not.
async fn queue_depth(provisioned: &Provisioned, queue: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(emulator().endpoint()));
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(provisioned.url(queue).unwrap())
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|a| {
        attributes
            .get(a)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    })
    .sum()
}

async fn replay(provisioned: &Provisioned, handlers: InProcess) -> local::replay::Report {
    let config = sdk_config(emulator().endpoint());
    let (sqs, streams) = (
        aws_sdk_sqs::Client::new(&config),
        aws_sdk_dynamodbstreams::Client::new(&config),
    );
    let targets = local::replay::TemplateTargets {
        provisioned,
        queue_arn: provisioned.arn("StreamFailures").unwrap().to_owned(),
    };
    local::replay::Replayer {
        sqs: &sqs,
        streams: &streams,
        invoker: &handlers,
        targets: &targets,
    }
    .replay_queue(provisioned.url("StreamFailures").unwrap())
    .await
    .expect("the queue can be read")
}

#[tokio::test]
async fn a_discarded_batch_is_replayed_through_the_same_function_and_its_pointer_removed_only_then() {
    let batches = Batches::default();
    let (provisioned, services) = start("replay", stream_handler(batches.clone())).await;
    // r1 fails every time, so the batch [r1, r2] is given up on; x1 lies inside its
    // sequence range but the mapping's filter never lets it through.
    put_all(
        &provisioned,
        &[
            ("r1", "result", Some("report")),
            ("x1", "other", None),
            ("r2", "result", None),
        ],
    )
    .await;
    eventually("the pointer on the on-failure queue", async || {
        (queue_depth(&provisioned, "StreamFailures").await == 1).then_some(())
    })
    .await;
    services.stop().await;

    // Still broken: the pointer stays, visible again for the next attempt.
    let report = replay(&provisioned, stream_handler(batches.clone())).await;
    assert_eq!((report.replayed, report.kept.len()), (0, 1), "{report}");
    assert!(report.kept[0].reason.contains("failed 1 of 2"), "{report}");
    assert_eq!(queue_depth(&provisioned, "StreamFailures").await, 1);

    // Fixed: the same records, filtered as the mapping filters them, in one batch.
    let replayed = Batches::default();
    let fixed = {
        let replayed = replayed.clone();
        InProcess::new().with("OnResult", move |event: Value| {
            let replayed = replayed.clone();
            async move {
                let batch = event["Records"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        let field = |f: &str| r["dynamodb"][f].clone();
                        (
                            field("Keys")["pk"]["S"].as_str().unwrap_or_default().to_owned(),
                            field("SequenceNumber").as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                replayed.0.lock().unwrap().push(batch);
                Ok(json!({ "batchItemFailures": [] }))
            }
        })
    };
    let report = replay(&provisioned, fixed).await;
    assert_eq!(
        (report.replayed, report.records, report.kept.len()),
        (1, 2, 0),
        "{report}"
    );
    assert_eq!(replayed.keys(), [keys(&["r1", "r2"])]);
    assert_eq!(replayed.sequence_of("r1"), batches.sequence_of("r1"));
    assert_eq!(queue_depth(&provisioned, "StreamFailures").await, 0);
}

#[tokio::test]
async fn a_pointer_to_records_the_stream_no_longer_holds_is_kept_and_says_so() {
    let (provisioned, services) = start("replay-gone", InProcess::new()).await;
    put_all(&provisioned, &[("g1", "result", None)]).await;
    services.stop().await;
    let config = sdk_config(emulator().endpoint());
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let stream_arn = provisioned
        .resource("Results")
        .and_then(|r| r.stream_arn.clone())
        .unwrap();
    let shard = streams
        .describe_stream()
        .stream_arn(&stream_arn)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap()
        .shards
        .unwrap()[0]
        .shard_id
        .clone()
        .unwrap();
    // A range below the shard's first record: what a stream has trimmed looks like this.
    let pointer = json!({
        "requestContext": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:replay-gone-OnResult", "condition": "RecordAgeExceeded", "approximateInvokeCount": 1},
        "version": "1.0",
        "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": "1", "endSequenceNumber": "2", "batchSize": 1, "streamArn": stream_arn}
    });
    let sqs = aws_sdk_sqs::Client::new(&config);
    sqs.send_message()
        .queue_url(provisioned.url("StreamFailures").unwrap())
        .message_body(pointer.to_string())
        .send()
        .await
        .unwrap();
    let report = replay(&provisioned, InProcess::new()).await;
    assert_eq!((report.replayed, report.kept.len()), (0, 1), "{report}");
    assert!(
        report.kept[0].reason.contains("no longer in the stream"),
        "{report}"
    );
    assert_eq!(queue_depth(&provisioned, "StreamFailures").await, 1);
}
