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
