//! A stream batch: translate every record in order, publish what precedes the first
//! failure, and report the first failed record so the stream retries from there.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::events::ResultEvent;
use domain::ports::EventPublisher;
use infra::batch::{BatchError, ItemError, stream_failure};

pub async fn handle(
    event: Event,
    publisher: &dyn EventPublisher<ResultEvent>,
) -> Result<DynamoDbEventResponse, BatchError> {
    let started = std::time::Instant::now();
    let mut records = event.records;
    let mut envelopes = Vec::new();
    let mut indexes = Vec::new();
    let mut first_failure: Option<(usize, ItemError)> = None;
    for (index, record) in records.iter_mut().enumerate() {
        match crate::translate::translate(record) {
            Ok(Some(envelope)) => {
                envelopes.push(envelope);
                indexes.push(index);
            }
            Ok(None) => {}
            Err(error) => {
                first_failure = Some((index, error));
                break;
            }
        }
    }
    let outcomes = publisher.publish(&envelopes).await;
    for ((outcome, index), envelope) in outcomes.into_iter().zip(&indexes).zip(&envelopes) {
        match outcome {
            Ok(()) => tracing::info!(
                kind = envelope.kind(),
                event_id = %envelope.id,
                correlation_id = envelope.correlation_id.as_deref().unwrap_or("-"),
                "published"
            ),
            Err(error) => {
                let item_error = ItemError::from(error);
                if first_failure.as_ref().is_none_or(|(first, _)| index < first) {
                    first_failure = Some((*index, item_error));
                }
            }
        }
    }
    let response = match first_failure {
        None => DynamoDbEventResponse::default(),
        Some((index, error)) => {
            let record = &records[index];
            tracing::error!(
                sequence_number = record.change.sequence_number.as_deref().unwrap_or("-"),
                %error,
                "stream record failed; the stream retries from it"
            );
            stream_failure(record)?
        }
    };
    tracing::info!(
        records = records.len(),
        published = envelopes.len(),
        failed = response.batch_item_failures.len(),
        millis = started.elapsed().as_millis() as u64,
        "stream batch"
    );
    Ok(response)
}

/// The batch rules over an in-memory topic (tests/publish.rs covers SNS).
#[cfg(test)]
mod tests {
    use super::*;
    use domain::memory::MemoryPublisher;
    use domain::ports::PublishError;
    use serde_json::json;

    const MARATHON: &str = "01JAAAAAAAAAAAAAAAAAAAAAAA";

    /// An INSERT of runner `n`'s result at sequence number `n`.
    fn insert(n: u32) -> serde_json::Value {
        let runner = format!("01JBBBBBBBBBBBBBBBBBBBBB{n:02}");
        let image = json!({
            "pk": { "S": format!("MARATHON#{MARATHON}") }, "sk": { "S": format!("RESULT#{runner}") },
            "result_id": { "S": format!("{MARATHON}.{runner}") },
            "marathon_id": { "S": MARATHON }, "marathon_name": { "S": "Seoul" }, "marathon_date": { "S": "2027-03-21" },
            "runner_id": { "S": runner }, "runner_name": { "S": "Kim" },
            "finish_seconds": { "N": "10800" }, "finish_time": { "S": "3:00:00" }, "bonus_points": { "N": "10" },
            "points": { "N": "110" }, "version": { "N": "1" },
            "recorded_at": { "S": "2026-11-21T10:00:00Z" }, "updated_at": { "S": "2026-11-21T10:00:00Z" }
        });
        json!({
            "eventID": n.to_string(), "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1795255200.0,
                "Keys": { "pk": image["pk"].clone(), "sk": image["sk"].clone() },
                "NewImage": image, "SequenceNumber": n.to_string(), "SizeBytes": 100,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            },
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/races/stream/x"
        })
    }

    fn batch(records: Vec<serde_json::Value>) -> Event {
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    fn failed(response: &DynamoDbEventResponse) -> Vec<String> {
        response
            .batch_item_failures
            .iter()
            .filter_map(|f| f.item_identifier.clone())
            .collect()
    }

    fn runners_published(topic: &MemoryPublisher<ResultEvent>) -> Vec<String> {
        topic
            .published()
            .iter()
            .map(|e| e.event.change().runner_id.to_string())
            .collect()
    }

    #[tokio::test]
    async fn a_batch_is_published_in_order() {
        let topic = MemoryPublisher::default();
        let response = handle(batch((1..=4).map(insert).collect()), &topic)
            .await
            .unwrap();
        assert!(failed(&response).is_empty());
        let runners = runners_published(&topic);
        assert_eq!(runners.len(), 4);
        assert!(runners.windows(2).all(|w| w[0] < w[1]), "{runners:?}");
    }

    #[tokio::test]
    async fn the_first_failure_is_reported_so_the_stream_retries_from_it() {
        // an undecodable image stops the batch: what precedes it is published
        let topic = MemoryPublisher::default();
        let mut broken = insert(3);
        broken["dynamodb"]["NewImage"]["points"] = json!({ "S": "many" });
        let response = handle(batch(vec![insert(1), insert(2), broken, insert(4)]), &topic)
            .await
            .unwrap();
        assert_eq!(failed(&response), ["3"]);
        assert_eq!(topic.published().len(), 2);

        // a publish failure, retryable or refused, reports that record
        for error in [
            PublishError::Retryable("throttled".into()),
            PublishError::Rejected("too big".into()),
        ] {
            let topic = MemoryPublisher::default();
            topic.fail_next(error.clone());
            let mut records: Vec<_> = (1..=3).map(insert).collect();
            records.swap(0, 1);
            let response = handle(batch(records), &topic).await.unwrap();
            assert_eq!(failed(&response), ["2"], "{error:?}");
        }
    }
}
