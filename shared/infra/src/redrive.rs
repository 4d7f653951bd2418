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

/// How [`move_back`] moved the messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// By SQS's own message move task (AWS): `moved` as the task counted them.
    ByTask { moved: i64 },
    /// By [`redrive`]'s copy, because the service refused the task (`why`: the emulator has
    /// none; a role without `sqs:StartMessageMoveTask`).
    ByCopy { moved: usize, why: String },
}

/// Moves a DLQ's messages back to `source_url`, preferring SQS's own message move task
/// (StartMessageMoveTask: SQS moves them server-side, at its pace, keeping their
/// attributes), polled every `poll` until it ends; a service that refuses the task gets
/// [`redrive`]'s copy instead.
pub async fn move_back(
    sqs: &Client,
    dlq_url: &str,
    source_url: &str,
    poll: std::time::Duration,
) -> Result<Moved, RedriveError> {
    let fail = |message: String| RedriveError { moved: 0, message };
    let (dlq_arn, source_arn) = (
        queue_arn(sqs, dlq_url).await.map_err(fail)?,
        queue_arn(sqs, source_url).await.map_err(fail)?,
    );
    let started = sqs
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&source_arn)
        .send()
        .await;
    let handle = match started {
        Ok(output) => output.task_handle.unwrap_or_default(),
        Err(error) => {
            use aws_sdk_sqs::error::ProvideErrorMetadata;
            let status = error.raw_response().map(|r| r.status().as_u16());
            let why = match (error.code(), status) {
                (Some(code), _) => format!("{code}: {}", error.message().unwrap_or_default()),
                (None, Some(status)) => format!("HTTP {status}"),
                _ => DisplayErrorContext(error).to_string(),
            };
            let moved = redrive(sqs, dlq_url, source_url, usize::MAX).await?;
            return Ok(Moved::ByCopy { moved, why });
        }
    };
    loop {
        let tasks = sqs
            .list_message_move_tasks()
            .source_arn(&dlq_arn)
            .send()
            .await
            .map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
        // the newest task first; ours by its handle (a finished task has none)
        let task = tasks
            .results()
            .iter()
            .find(|t| t.task_handle().is_none_or(|h| h == handle))
            .ok_or_else(|| fail(format!("the message move task {handle} is not listed")))?;
        let moved = task.approximate_number_of_messages_moved();
        match task.status() {
            Some("RUNNING" | "CANCELLING") => tokio::time::sleep(poll).await,
            Some("COMPLETED") => return Ok(Moved::ByTask { moved }),
            other => {
                return Err(RedriveError {
                    moved: usize::try_from(moved).unwrap_or(0),
                    message: format!(
                        "the message move task ended {}: {}",
                        other.unwrap_or("without a status"),
                        task.failure_reason().unwrap_or("no reason given")
                    ),
                });
            }
        }
    }
}

async fn queue_arn(sqs: &Client, url: &str) -> Result<String, String> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| format!("{url}: {}", DisplayErrorContext(e)))?;
    attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| format!("{url} has no QueueArn"))
}
