//! Batch processing for SQS and DynamoDB stream events, the Rust edition of Powertools'
//! batch utility: report only what failed, never with an empty or null identifier.

use std::future::Future;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_lambda_events::streams::{
    DynamoDbBatchItemFailure, DynamoDbEventResponse, SqsBatchItemFailure, SqsEventResponse,
};
use futures::StreamExt;
use tracing::Instrument;

/// Why one record failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// Throttling, timeouts, a dependency down: the same record may succeed later.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Undecodable, unknown type, missing entity: it will never succeed; let it reach the
    /// dead-letter destination without blocking the others.
    #[error("poison: {0}")]
    Poison(String),
}

/// The one classification of the ports' errors, for every consumer.
///
/// A publish SNS refused (`Rejected`: the entry itself is at fault, see `sns::failure`;
/// throttling and key or permission trouble are `Retryable` there) is poison: the same
/// envelope is refused again whatever the retries. Both consumers still report it as a
/// failed item, so nothing is lost: the stream retries up to its limit and then sends it
/// to its failure queue, SQS redelivers it up to `maxReceiveCount` and then moves it to
/// the DLQ; the classification tells the logs (and the on-call) which it is.
impl From<domain::ports::PublishError> for ItemError {
    fn from(error: domain::ports::PublishError) -> Self {
        use domain::ports::PublishError;
        match error {
            PublishError::Retryable(reason) => Self::Retryable(reason),
            PublishError::Rejected(reason) => Self::Poison(format!("publish refused: {reason}")),
        }
    }
}

/// Storage: a missing entity, an item we cannot read, a taken email or a foreign cursor
/// will not change by retrying; a conflict (a concurrent writer moved first), throttling
/// or an outage may.
impl From<domain::ports::StoreError> for ItemError {
    fn from(error: domain::ports::StoreError) -> Self {
        use domain::ports::StoreError;
        match error {
            StoreError::Missing(what) => Self::Poison(format!("missing {what}")),
            StoreError::Corrupt(cause) => Self::Poison(format!("corrupt stored data: {cause}")),
            other @ (StoreError::EmailTaken | StoreError::InvalidCursor) => Self::Poison(other.to_string()),
            other @ (StoreError::Conflict | StoreError::Unavailable(_)) => Self::Retryable(other.to_string()),
        }
    }
}

/// The whole invocation must fail (Lambda then retries the whole batch): only when a
/// failure cannot be attributed to a record.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BatchError(pub String);

impl From<BatchError> for lambda_runtime::Diagnostic {
    fn from(error: BatchError) -> Self {
        Self {
            error_type: "BatchError".into(),
            error_message: error.0,
        }
    }
}

/// Handles the messages concurrently (at most `concurrency` at once) and reports the
/// failed ones by message id, so SQS deletes the rest.
pub async fn sqs_batch<F, Fut>(
    event: SqsEvent,
    concurrency: usize,
    handle: F,
) -> Result<SqsEventResponse, BatchError>
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), ItemError>>,
{
    if let Some(unnamed) = event
        .records
        .iter()
        .find(|m| m.message_id.as_deref().is_none_or(str::is_empty))
    {
        // A failure we could not name would make Lambda retry everything; refuse up front.
        return Err(BatchError(format!(
            "a message without an id in the batch: {:?}",
            unnamed.event_source_arn
        )));
    }
    let outcomes: Vec<(String, Result<(), ItemError>)> = futures::stream::iter(event.records)
        .map(|message| {
            let id = message.message_id.clone().unwrap_or_default();
            let span = tracing::info_span!("message", message_id = %id);
            let fut = handle(message).instrument(span);
            async move { (id, fut.await) }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut response = SqsEventResponse::default();
    for (id, outcome) in outcomes {
        match outcome {
            Ok(()) => {}
            Err(ItemError::Poison(reason)) => {
                tracing::error!(message_id = %id, %reason, "poison message: it will reach the DLQ");
                response.batch_item_failures.push(sqs_failure(id));
            }
            Err(ItemError::Retryable(reason)) => {
                tracing::warn!(message_id = %id, %reason, "message failed; SQS will redeliver it");
                response.batch_item_failures.push(sqs_failure(id));
            }
        }
    }
    Ok(response)
}

fn sqs_failure(id: String) -> SqsBatchItemFailure {
    let mut failure = SqsBatchItemFailure::default();
    failure.item_identifier = Some(id);
    failure
}

/// For a stream: Lambda retries from the lowest failed sequence number, so only the first
/// failure (in record order) is reported and later records are not worth processing.
pub fn stream_failure(record: &EventRecord) -> Result<DynamoDbEventResponse, BatchError> {
    let sequence = record
        .change
        .sequence_number
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            BatchError(format!(
                "stream record {} has no sequence number",
                record.event_id
            ))
        })?;
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(sequence);
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures.push(failure);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m
    }

    #[tokio::test]
    async fn only_failed_messages_are_reported() {
        let mut event = SqsEvent::default();
        event.records = vec![
            message("a", "ok"),
            message("b", "poison"),
            message("c", "retry"),
            message("d", "ok"),
        ];
        let response = sqs_batch(event, 4, |m| async move {
            match m.body.as_deref() {
                Some("poison") => Err(ItemError::Poison("bad".into())),
                Some("retry") => Err(ItemError::Retryable("later".into())),
                _ => Ok(()),
            }
        })
        .await
        .unwrap();
        let mut ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone().unwrap())
            .collect();
        ids.sort();
        assert_eq!(ids, ["b", "c"]);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(
            json["batchItemFailures"][0]["itemIdentifier"]
                .as_str()
                .map(str::len),
            Some(1)
        );
    }

    #[tokio::test]
    async fn a_message_without_id_fails_the_invocation_instead_of_a_null_identifier() {
        let mut event = SqsEvent::default();
        event.records = vec![SqsMessage::default()];
        assert!(sqs_batch(event, 1, |_| async { Ok(()) }).await.is_err());
    }

    #[tokio::test]
    async fn messages_run_concurrently_up_to_the_bound() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (in_flight, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut event = SqsEvent::default();
        event.records = (0..10).map(|i| message(&i.to_string(), "ok")).collect();
        sqs_batch(event, 4, |_| async {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(peak.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn publish_and_store_errors_are_classified_once() {
        use domain::ports::{PublishError, StoreError};
        assert!(matches!(
            ItemError::from(PublishError::Rejected("too big".into())),
            ItemError::Poison(_)
        ));
        assert!(matches!(
            ItemError::from(PublishError::Retryable("throttled".into())),
            ItemError::Retryable(_)
        ));
        assert!(matches!(
            ItemError::from(StoreError::Missing("runner")),
            ItemError::Poison(_)
        ));
        assert!(matches!(
            ItemError::from(StoreError::Corrupt("x".into())),
            ItemError::Poison(_)
        ));
        assert!(matches!(
            ItemError::from(StoreError::Conflict),
            ItemError::Retryable(_)
        ));
        assert!(matches!(
            ItemError::from(StoreError::Unavailable("down".into())),
            ItemError::Retryable(_)
        ));
    }

    #[test]
    fn stream_failures_name_the_sequence_number() {
        let mut record = EventRecord::default();
        record.change.sequence_number = Some("42".into());
        let response = stream_failure(&record).unwrap();
        assert_eq!(
            response.batch_item_failures[0].item_identifier.as_deref(),
            Some("42")
        );
        record.change.sequence_number = None;
        assert!(stream_failure(&record).is_err());
    }
}
