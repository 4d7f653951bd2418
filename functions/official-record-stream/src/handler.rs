//! A stream batch: translate every record in order, publish the events, and report the
//! first record that failed for a reason that may pass (throttling, a topic or permission
//! missing, an outage) so the stream retries from there, for hours if need be. A record
//! that can never succeed (undecodable, refused by SNS for what it is) is parked on the
//! failure queue (`infra::poison`) and counts as done, so it does not hold the shard.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::events::ResultEvent;
use domain::ports::EventPublisher;
use infra::batch::{BatchError, ItemError, stream_failure};
use infra::poison::PoisonSink;

pub async fn handle(
    event: Event,
    publisher: &dyn EventPublisher<ResultEvent>,
    poison: &dyn PoisonSink,
) -> Result<DynamoDbEventResponse, BatchError> {
    let started = std::time::Instant::now();
    let mut records = event.records;
    let mut envelopes = Vec::new();
    let mut indexes = Vec::new();
    // (record index, reason) of every record that will never succeed
    let mut poisoned: Vec<(usize, String)> = Vec::new();
    for (index, record) in records.iter_mut().enumerate() {
        match crate::translate::translate(record) {
            Ok(Some(envelope)) => {
                envelopes.push(envelope);
                indexes.push(index);
            }
            Ok(None) => {}
            Err(ItemError::Poison(reason)) => poisoned.push((index, reason)),
            // translation has no retryable failure today; if it gets one, retry from here
            Err(ItemError::Retryable(_)) => break,
        }
    }
    let mut first_retry: Option<(usize, String)> = None;
    let outcomes = publisher.publish(&envelopes).await;
    for ((outcome, index), envelope) in outcomes.into_iter().zip(&indexes).zip(&envelopes) {
        match outcome.map_err(ItemError::from) {
            Ok(()) => tracing::info!(
                kind = envelope.kind(),
                event_id = %envelope.id,
                correlation_id = envelope.correlation_id.as_deref().unwrap_or("-"),
                "published"
            ),
            Err(ItemError::Poison(reason)) => poisoned.push((*index, reason)),
            Err(ItemError::Retryable(reason)) => {
                if first_retry.as_ref().is_none_or(|(first, _)| index < first) {
                    first_retry = Some((*index, reason));
                }
            }
        }
    }
    // Only the poison before the retry point is parked: what follows it comes back.
    poisoned.sort_by_key(|(index, _)| *index);
    let mut parked = 0;
    for (index, reason) in poisoned {
        if first_retry.as_ref().is_some_and(|(first, _)| index > *first) {
            break;
        }
        if let Err(error) = poison.park(&records[index], &reason).await {
            first_retry = Some((index, format!("{reason}; not parked: {error}")));
            break;
        }
        parked += 1;
    }
    let response = match first_retry {
        None => DynamoDbEventResponse::default(),
        Some((index, reason)) => {
            let record = &records[index];
            tracing::error!(
                sequence_number = record.change.sequence_number.as_deref().unwrap_or("-"),
                %reason,
                "stream record failed; the stream retries from it"
            );
            stream_failure(record)?
        }
    };
    tracing::info!(
        records = records.len(),
        published = envelopes.len(),
        parked,
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
    use infra::poison::MemoryPoison;
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
        let response = handle(
            batch((1..=4).map(insert).collect()),
            &topic,
            &MemoryPoison::default(),
        )
        .await
        .unwrap();
        assert!(failed(&response).is_empty());
        let runners = runners_published(&topic);
        assert_eq!(runners.len(), 4);
        assert!(runners.windows(2).all(|w| w[0] < w[1]), "{runners:?}");
    }

    #[tokio::test]
    async fn poison_is_parked_and_the_batch_goes_on_while_a_retryable_failure_is_retried_from_itself() {
        // an undecodable image is parked; the records around it are published
        let (topic, poison) = (MemoryPublisher::default(), MemoryPoison::default());
        let mut broken = insert(3);
        broken["dynamodb"]["NewImage"]["points"] = json!({ "S": "many" });
        let response = handle(
            batch(vec![insert(1), insert(2), broken.clone(), insert(4)]),
            &topic,
            &poison,
        )
        .await
        .unwrap();
        assert!(failed(&response).is_empty());
        assert_eq!(topic.published().len(), 3);
        let parked = poison.parked();
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].0, "3");
        assert!(parked[0].1.contains("undecodable"), "{parked:?}");

        // a retryable publish failure reports that record and parks nothing after it
        let (topic, poison) = (MemoryPublisher::default(), MemoryPoison::default());
        topic.fail_next(PublishError::Retryable("throttled".into()));
        let mut records: Vec<_> = (1..=3).map(insert).collect();
        records.swap(0, 1);
        records.push(broken.clone());
        let response = handle(batch(records), &topic, &poison).await.unwrap();
        assert_eq!(failed(&response), ["2"]);
        assert!(poison.parked().is_empty());

        // SNS refusing the envelope itself: parked, not retried
        let (topic, poison) = (MemoryPublisher::default(), MemoryPoison::default());
        topic.fail_next(PublishError::Rejected("too big".into()));
        let response = handle(batch(vec![insert(1), insert(2)]), &topic, &poison)
            .await
            .unwrap();
        assert!(failed(&response).is_empty());
        assert_eq!(poison.parked().len(), 1);

        // a poison record that cannot be parked stays in the stream
        let (topic, poison) = (MemoryPublisher::default(), MemoryPoison::default());
        poison.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        let response = handle(batch(vec![insert(1), broken, insert(4)]), &topic, &poison)
            .await
            .unwrap();
        assert_eq!(failed(&response), ["3"]);
    }
}
