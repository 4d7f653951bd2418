//! Publishing event envelopes to an SNS topic, ten per PublishBatch call, with every
//! entry's outcome checked (a batch call succeeds even when some entries fail).

use std::marker::PhantomData;
use std::ops::Range;

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::{BatchResultErrorEntry, MessageAttributeValue, PublishBatchRequestEntry};
use domain::events::{Envelope, TopicEvent};
use domain::ports::{EventPublisher, PublishError};

/// SNS's limit per PublishBatch.
const BATCH: usize = 10;

/// Failed-entry codes SNS marks as the sender's fault although the same entry may well
/// pass later (throttling, a key or a permission being fixed): retried, not refused.
const TRANSIENT_SENDER_FAULTS: &[&str] = &[
    "Throttled",
    "ThrottledException",
    "Throttling",
    "KMSThrottling",
    "KMSThrottlingException",
    "KMSDisabled",
    "KMSDisabledException",
    "KMSInvalidState",
    "KMSInvalidStateException",
    "KMSNotFound",
    "KMSNotFoundException",
    "KMSAccessDenied",
    "KMSAccessDeniedException",
    "KMSOptInRequired",
    "AuthorizationError",
    "InternalError",
];

/// A topic carrying `E`: `SnsPublisher<ResultEvent>` can publish nothing else.
pub struct SnsPublisher<E> {
    client: Client,
    topic_arn: String,
    events: PhantomData<fn(&E)>,
}

impl<E> Clone for SnsPublisher<E> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            topic_arn: self.topic_arn.clone(),
            events: PhantomData,
        }
    }
}

impl<E: TopicEvent> SnsPublisher<E> {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
            events: PhantomData,
        }
    }

    /// One cheap call during init (the topic's attributes), so the first publish does not
    /// pay the TLS handshake. A failure is only logged: publishing reports its own.
    pub async fn warm_up(&self) {
        let probe = self
            .client
            .get_topic_attributes()
            .topic_arn(&self.topic_arn)
            .send()
            .await;
        if let Err(error) = probe {
            tracing::warn!(error = %aws_sdk_sns::error::DisplayErrorContext(error), "warm-up call failed");
        }
    }

    fn entry(index: usize, envelope: &Envelope<E>) -> Result<PublishBatchRequestEntry, PublishError> {
        let body = envelope
            .to_json()
            .map_err(|e| PublishError::Rejected(e.to_string()))?;
        let kind = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(envelope.kind())
            .build()
            .map_err(|e| PublishError::Rejected(e.to_string()))?;
        let mut entry = PublishBatchRequestEntry::builder()
            .id(index.to_string())
            .message(body)
            // the type as an attribute too, for subscription filter policies
            .message_attributes("type", kind);
        if let Some(correlation) = &envelope.correlation_id {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(correlation)
                .build()
                .map_err(|e| PublishError::Rejected(e.to_string()))?;
            entry = entry.message_attributes("correlation_id", value);
        }
        entry.build().map_err(|e| PublishError::Rejected(e.to_string()))
    }
}

/// How one failed entry is classified: refused when SNS blames the entry itself (too
/// large, an invalid attribute: the same entry fails again), retryable otherwise.
fn failure(failed: &BatchResultErrorEntry) -> PublishError {
    let reason = format!(
        "{}: {}",
        failed.code,
        failed.message.as_deref().unwrap_or_default()
    );
    if failed.sender_fault && !TRANSIENT_SENDER_FAULTS.contains(&failed.code.as_str()) {
        PublishError::Rejected(reason)
    } else {
        PublishError::Retryable(reason)
    }
}

/// The outcomes of the entries `chunk` (their ids are their indexes) from what SNS answered.
/// An entry counts as published only when SNS lists it as successful: one it does not
/// name, or names with an id we cannot read back, is a retryable failure (we do not know
/// whether it went out, and consumers are idempotent, so publishing again is safe).
fn settle<'a>(
    chunk: Range<usize>,
    successful: impl IntoIterator<Item = &'a str>,
    failed: &[BatchResultErrorEntry],
) -> Vec<Result<(), PublishError>> {
    let unknown = || PublishError::Retryable("SNS did not report this entry's outcome".into());
    let mut outcomes: Vec<Result<(), PublishError>> = chunk.clone().map(|_| Err(unknown())).collect();
    let slot = |id: &str| {
        id.parse::<usize>()
            .ok()
            .filter(|i| chunk.contains(i))
            .map(|i| i - chunk.start)
    };
    for id in successful {
        match slot(id) {
            Some(i) => outcomes[i] = Ok(()),
            None => tracing::warn!(id, "SNS reported success for an entry id we did not send"),
        }
    }
    for entry in failed {
        match slot(&entry.id) {
            Some(i) => outcomes[i] = Err(failure(entry)),
            None => tracing::warn!(id = %entry.id, "SNS reported a failure for an entry id we did not send"),
        }
    }
    outcomes
}

#[async_trait]
impl<E: TopicEvent> EventPublisher<E> for SnsPublisher<E> {
    async fn publish(&self, envelopes: &[Envelope<E>]) -> Vec<Result<(), PublishError>> {
        let mut outcomes: Vec<Result<(), PublishError>> = vec![Ok(()); envelopes.len()];
        for (chunk_index, chunk) in envelopes.chunks(BATCH).enumerate() {
            let offset = chunk_index * BATCH;
            let mut entries = Vec::with_capacity(chunk.len());
            let mut sent = Vec::with_capacity(chunk.len());
            for (i, envelope) in chunk.iter().enumerate() {
                match Self::entry(offset + i, envelope) {
                    Ok(entry) => {
                        entries.push(entry);
                        sent.push(offset + i);
                    }
                    Err(error) => outcomes[offset + i] = Err(error),
                }
            }
            if entries.is_empty() {
                continue;
            }
            let answer = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await;
            match answer {
                Ok(output) => {
                    let successful = output.successful.iter().flatten().filter_map(|s| s.id.as_deref());
                    let settled = settle(
                        offset..offset + chunk.len(),
                        successful,
                        output.failed.as_deref().unwrap_or_default(),
                    );
                    for index in sent {
                        outcomes[index] = settled[index - offset].clone();
                    }
                }
                Err(error) => {
                    let reason = aws_sdk_sns::error::DisplayErrorContext(error).to_string();
                    for index in sent {
                        outcomes[index] = Err(PublishError::Retryable(reason.clone()));
                    }
                }
            }
        }
        outcomes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(id: &str, code: &str, sender_fault: bool) -> BatchResultErrorEntry {
        BatchResultErrorEntry::builder()
            .id(id)
            .code(code)
            .message("m")
            .sender_fault(sender_fault)
            .build()
            .unwrap()
    }

    #[test]
    fn only_entries_sns_names_as_successful_count_as_published() {
        // entries 10..14 of a publish: 10 and 12 went out, 11 was refused, 13 was named with
        // an id we cannot read, 14 was not named at all
        let outcomes = settle(
            10..15,
            ["10", "12", "x13", "99"],
            &[
                failed("11", "InvalidParameter", true),
                failed("one-3", "Internal", false),
            ],
        );
        assert_eq!(outcomes[0], Ok(()));
        assert!(
            matches!(outcomes[1], Err(PublishError::Rejected(ref r)) if r.starts_with("InvalidParameter"))
        );
        assert_eq!(outcomes[2], Ok(()));
        assert!(matches!(outcomes[3], Err(PublishError::Retryable(_))));
        assert!(matches!(outcomes[4], Err(PublishError::Retryable(_))));
    }

    #[test]
    fn throttling_and_server_faults_are_retryable_and_entry_faults_refused() {
        assert!(matches!(
            failure(&failed("0", "Throttled", true)),
            PublishError::Retryable(_)
        ));
        assert!(matches!(
            failure(&failed("0", "KMSThrottling", true)),
            PublishError::Retryable(_)
        ));
        assert!(matches!(
            failure(&failed("0", "InternalError", false)),
            PublishError::Retryable(_)
        ));
        assert!(matches!(
            failure(&failed("0", "InvalidParameter", true)),
            PublishError::Rejected(_)
        ));
    }
}
