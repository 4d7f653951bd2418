//! Publishing event envelopes to an SNS topic, ten per PublishBatch call, with every
//! entry's outcome checked (a batch call succeeds even when some entries fail).

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use domain::events::Envelope;
use domain::ports::{EventPublisher, PublishError};

/// SNS's limit per PublishBatch.
const BATCH: usize = 10;

#[derive(Clone)]
pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
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

    fn entry(index: usize, envelope: &Envelope) -> Result<PublishBatchRequestEntry, PublishError> {
        let kind = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(envelope.kind())
            .build()
            .map_err(|e| PublishError::Rejected(e.to_string()))?;
        let mut entry = PublishBatchRequestEntry::builder()
            .id(index.to_string())
            .message(envelope.to_json())
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

#[async_trait]
impl EventPublisher for SnsPublisher {
    async fn publish(&self, envelopes: &[Envelope]) -> Vec<Result<(), PublishError>> {
        let mut outcomes: Vec<Result<(), PublishError>> = vec![Ok(()); envelopes.len()];
        for (chunk_index, chunk) in envelopes.chunks(BATCH).enumerate() {
            let offset = chunk_index * BATCH;
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, envelope) in chunk.iter().enumerate() {
                match Self::entry(offset + i, envelope) {
                    Ok(entry) => entries.push(entry),
                    Err(error) => outcomes[offset + i] = Err(error),
                }
            }
            if entries.is_empty() {
                continue;
            }
            let sent = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await;
            match sent {
                Ok(output) => {
                    for failed in output.failed.unwrap_or_default() {
                        let Some(index) = failed.id.parse::<usize>().ok().filter(|i| *i < outcomes.len())
                        else {
                            continue;
                        };
                        let reason = format!("{}: {}", failed.code, failed.message.unwrap_or_default());
                        outcomes[index] = Err(if failed.sender_fault {
                            PublishError::Rejected(reason)
                        } else {
                            PublishError::Retryable(reason)
                        });
                    }
                }
                Err(error) => {
                    let reason = aws_sdk_sns::error::DisplayErrorContext(error).to_string();
                    for outcome in &mut outcomes[offset..offset + chunk.len()] {
                        if outcome.is_ok() {
                            *outcome = Err(PublishError::Retryable(reason.clone()));
                        }
                    }
                }
            }
        }
        outcomes
    }
}
