//! Moving messages from a dead-letter queue back to the queue they came from, once their
//! cause is fixed. Works the same against AWS and the emulator (plain SQS calls).
//! Each message is sent before it is deleted, so a crash in between duplicates rather
//! than loses it; the consumers are idempotent.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

#[derive(Debug, thiserror::Error)]
#[error("redrive failed after moving {moved} messages: {message}")]
pub struct RedriveError {
    pub moved: usize,
    pub message: String,
}

/// Moves up to `limit` messages (bodies and message attributes) from `dlq_url` to
/// `source_url`; returns how many moved. Stops when the DLQ answers empty.
pub async fn redrive(
    sqs: &Client,
    dlq_url: &str,
    source_url: &str,
    limit: usize,
) -> Result<usize, RedriveError> {
    let mut moved = 0;
    let fail = |moved: usize, message: String| RedriveError { moved, message };
    while moved < limit {
        let received = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(((limit - moved).min(10)) as i32)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            // long enough to send and delete; if we die, they reappear in the DLQ
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|e| fail(moved, DisplayErrorContext(e).to_string()))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        let mut entries = Vec::with_capacity(messages.len());
        for (i, message) in messages.iter().enumerate() {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(message.body.clone().unwrap_or_default())
                .set_message_attributes(message.message_attributes.clone())
                .build()
                .map_err(|e| fail(moved, e.to_string()))?;
            entries.push(entry);
        }
        let sent = sqs
            .send_message_batch()
            .queue_url(source_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| fail(moved, DisplayErrorContext(e).to_string()))?;
        for success in sent.successful {
            let Some(message) = success.id.parse::<usize>().ok().and_then(|i| messages.get(i)) else {
                continue;
            };
            sqs.delete_message()
                .queue_url(dlq_url)
                .set_receipt_handle(message.receipt_handle.clone())
                .send()
                .await
                .map_err(|e| fail(moved, DisplayErrorContext(e).to_string()))?;
            moved += 1;
        }
        if let Some(failed) = sent.failed.first() {
            return Err(fail(
                moved,
                format!("could not send {}: {}", failed.id, failed.code),
            ));
        }
    }
    Ok(moved)
}
