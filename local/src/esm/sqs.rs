//! An SQS mapping: receives batches (up to `BatchSize`, gathering for up to
//! `MaximumBatchingWindowInSeconds`), deletes messages no filter matches (as AWS does),
//! invokes the function, then deletes what succeeded: everything on success, the
//! messages not listed as failed on a partial batch response, nothing on a failure.
//! What is not deleted becomes visible again after the queue's visibility timeout, and
//! the emulator itself moves a message to the dead-letter queue once it has been received
//! `maxReceiveCount` times (the queue's RedrivePolicy), exactly as SQS does.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use serde_json::Value;

use super::response::{Verdict, verdict};
use super::spec::MappingSpec;
use super::{Clients, loud};
use crate::emulator::REGION;
use crate::error::{Error, Result};
use crate::hops::{Hop, HopKind, Hops, Outcome};
use crate::invoke::Invoker;
use crate::provision::Function;
use crate::timing::Timing;

/// ReceiveMessage and DeleteMessageBatch take at most 10 messages.
const SQS_MAX: usize = 10;
/// SQS's longest long poll.
const MAX_WAIT_SECONDS: u64 = 20;

/// What one receive found.
enum Received {
    Empty,
    Batch(Vec<Message>),
    Failed,
}

pub(super) struct QueueMapping {
    pub spec: MappingSpec,
    pub function: Function,
    pub queue_url: String,
    pub invoker: Arc<dyn Invoker>,
    pub clients: Clients,
    pub hops: Hops,
    pub timing: Timing,
}

impl QueueMapping {
    /// Lambda refuses a mapping whose queue hides a message for less time than the
    /// function may run (the message would come back while still being processed).
    pub async fn check_visibility_timeout(&self) -> Result<()> {
        let attributes = self
            .clients
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::VisibilityTimeout)
            .send()
            .await
            .map_err(|e| Error::aws(format!("GetQueueAttributes {}", self.queue_url), e))?;
        let visibility: u64 = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::VisibilityTimeout))
            .and_then(|v| v.parse().ok())
            .unwrap_or(30);
        if visibility < self.function.timeout.as_secs() {
            return Err(Error::Template(format!(
                "{}: queue visibility timeout: {visibility} seconds is less than function timeout: {} seconds (Lambda refuses this mapping)",
                self.spec.name(),
                self.function.timeout.as_secs()
            )));
        }
        Ok(())
    }

    /// The mapping's first poller, which runs for as long as the stack does. As Lambda,
    /// it adds pollers while the queue has a backlog (it received a full batch), up to the
    /// mapping's concurrency; each extra one stops at its first empty receive. They are
    /// this task's own, so they end with it.
    pub async fn run(self: Arc<Self>) {
        let mut extra = tokio::task::JoinSet::new();
        loop {
            while extra.try_join_next().is_some() {}
            match self.receive().await {
                Received::Batch(messages) => {
                    if messages.len() >= self.spec.batch_size && extra.len() + 1 < self.spec.max_concurrency {
                        extra.spawn(Arc::clone(&self).run_extra());
                    }
                    self.handle(messages).await;
                }
                Received::Empty if self.timing.queue_wait < Duration::from_secs(1) => {
                    tokio::time::sleep(self.timing.queue_wait).await;
                }
                Received::Empty | Received::Failed => {}
            }
        }
    }

    async fn run_extra(self: Arc<Self>) {
        while let Received::Batch(messages) = self.receive().await {
            self.handle(messages).await;
        }
    }

    async fn receive(&self) -> Received {
        match self.receive_batch().await {
            Ok(messages) if messages.is_empty() => Received::Empty,
            Ok(messages) => Received::Batch(messages),
            Err(message) => {
                tracing::warn!(mapping = %self.spec.name(), "{message}");
                tokio::time::sleep(self.timing.retry_backoff.max(Duration::from_millis(200))).await;
                Received::Failed
            }
        }
    }

    /// Deletes what no filter matches (as AWS does) and hands the rest to the function.
    async fn handle(&self, messages: Vec<Message>) {
        let (matching, filtered): (Vec<Message>, Vec<Message>) = messages
            .into_iter()
            .partition(|m| self.spec.filters.matches(&filter_shape(m, &self.spec.source_arn)));
        if !filtered.is_empty() {
            self.delete(&filtered).await;
        }
        if !matching.is_empty() {
            self.process(matching).await;
        }
    }

    /// Up to `BatchSize` messages; with a batching window, keeps receiving until the batch
    /// is full or the window has passed.
    async fn receive_batch(&self) -> std::result::Result<Vec<Message>, String> {
        let mut batch: Vec<Message> = Vec::new();
        let opened = Instant::now();
        loop {
            let room = self.spec.batch_size - batch.len();
            let window_left = self.spec.batching_window.saturating_sub(opened.elapsed());
            let wait = if !batch.is_empty() {
                window_left.as_secs().min(MAX_WAIT_SECONDS)
            } else if self.timing.queue_wait >= Duration::from_secs(1) {
                self.timing.queue_wait.as_secs().min(MAX_WAIT_SECONDS)
            } else {
                0
            };
            let received = self
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(room.min(SQS_MAX) as i32)
                .wait_time_seconds(wait as i32)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ReceiveMessage {}: {}",
                        self.queue_url,
                        aws_sdk_sqs::error::DisplayErrorContext(e)
                    )
                })?;
            let got = received.messages.unwrap_or_default();
            let empty = got.is_empty();
            batch.extend(got);
            let full = batch.len() >= self.spec.batch_size;
            let window_over = self
                .spec
                .batching_window
                .saturating_sub(opened.elapsed())
                .is_zero();
            if full || batch.is_empty() || window_over || (empty && wait > 0) {
                return Ok(batch);
            }
            if empty {
                tokio::time::sleep(self.timing.queue_wait.min(window_left)).await;
            }
        }
    }

    async fn process(&self, messages: Vec<Message>) {
        let mut event = SqsEvent::default();
        event.records = messages
            .iter()
            .map(|m| lambda_message(m, &self.spec.source_arn))
            .collect();
        let started = Instant::now();
        let result = match serde_json::to_value(&event) {
            Ok(payload) => self.invoker.invoke(&self.function, payload).await,
            Err(e) => Err(crate::invoke::InvokeError::BadResponse {
                function: self.function.logical_id.clone(),
                detail: format!("cannot encode the event: {e}"),
            }),
        };
        let took = started.elapsed();
        let identifiers: HashSet<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
        let verdict = verdict(&result, self.spec.report_batch_item_failures, &identifiers);
        let (done, outcome): (Vec<Message>, Outcome) = match &verdict {
            Verdict::Success => (messages.clone(), Outcome::Ok),
            Verdict::Partial(failed) => (
                messages
                    .iter()
                    .filter(|m| m.message_id().is_none_or(|id| !failed.iter().any(|f| f == id)))
                    .cloned()
                    .collect(),
                Outcome::Partial(format!(
                    "{} of {} failed, left for redelivery",
                    failed.len(),
                    messages.len()
                )),
            ),
            Verdict::Failed(failure) => {
                if !failure.function_error {
                    loud(&self.spec, &format!("the whole batch fails: {}", failure.reason));
                }
                (Vec::new(), Outcome::Failed(failure.reason.clone()))
            }
        };
        if !done.is_empty() {
            self.delete(&done).await;
        }
        let queue_name = self.spec.source_arn.rsplit(':').next().unwrap_or_default();
        self.hops.record(
            Hop::new(
                HopKind::Queue,
                &self.function.logical_id,
                format!(
                    "{} message{} from {queue_name}",
                    messages.len(),
                    if messages.len() == 1 { "" } else { "s" }
                ),
            )
            .outcome(outcome)
            .took(took)
            .correlation(messages.iter().filter_map(correlation_id)),
        );
    }

    async fn delete(&self, messages: &[Message]) {
        for chunk in messages.chunks(SQS_MAX) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle()?)
                        .build()
                        .ok()
                })
                .collect();
            let deleted = self
                .clients
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            match deleted {
                Ok(out) if out.failed().is_empty() => {}
                Ok(out) => tracing::warn!(
                    mapping = %self.spec.name(),
                    "{} messages could not be deleted and will be delivered again",
                    out.failed().len()
                ),
                Err(e) => tracing::warn!(
                    mapping = %self.spec.name(),
                    "DeleteMessageBatch failed, the messages will be delivered again: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                ),
            }
        }
    }
}

/// A received message as Lambda delivers it in an SQS event.
fn lambda_message(message: &Message, queue_arn: &str) -> SqsMessage {
    let mut out = SqsMessage::default();
    out.message_id = message.message_id().map(str::to_owned);
    out.receipt_handle = message.receipt_handle().map(str::to_owned);
    out.body = message.body().map(str::to_owned);
    out.md5_of_body = message.md5_of_body().map(str::to_owned);
    out.md5_of_message_attributes = message.md5_of_message_attributes().map(str::to_owned);
    out.attributes = message
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    out.message_attributes = message
        .message_attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| {
                    let mut attribute = SqsMessageAttribute::default();
                    attribute.string_value = value.string_value().map(str::to_owned);
                    attribute.binary_value = value.binary_value().map(|b| base64_data(b.as_ref()));
                    attribute.string_list_values = value.string_list_values().to_vec();
                    attribute.binary_list_values = value
                        .binary_list_values()
                        .iter()
                        .map(|b| base64_data(b.as_ref()))
                        .collect();
                    attribute.data_type = Some(value.data_type().to_owned());
                    (name.clone(), attribute)
                })
                .collect::<HashMap<_, _>>()
        })
        .unwrap_or_default();
    out.event_source_arn = Some(queue_arn.to_owned());
    out.event_source = Some("aws:sqs".to_owned());
    out.aws_region = Some(queue_arn.split(':').nth(3).unwrap_or(REGION).to_owned());
    out
}

/// `Base64Data` is non-exhaustive: built through its `DerefMut`.
fn base64_data(bytes: &[u8]) -> Base64Data {
    let mut data = Base64Data::default();
    data.extend_from_slice(bytes);
    data
}

/// What filter patterns see: the Lambda record with a JSON body parsed (AWS matches
/// `body` patterns against the JSON; a plain-text body stays a string).
fn filter_shape(message: &Message, queue_arn: &str) -> Value {
    let mut shape = serde_json::to_value(lambda_message(message, queue_arn)).unwrap_or(Value::Null);
    if let Some(parsed) = message.body().and_then(|b| serde_json::from_str::<Value>(b).ok()) {
        shape["body"] = parsed;
    }
    shape
}

fn correlation_id(message: &Message) -> Option<String> {
    if let Some(id) = message.body().and_then(crate::correlation::from_body) {
        return Some(id);
    }
    message
        .message_attributes()?
        .get(crate::correlation::FIELD)?
        .string_value()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::types::MessageAttributeValue;

    fn message(body: &str) -> Message {
        Message::builder()
            .message_id("m1")
            .receipt_handle("r1")
            .body(body)
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "2")
            .message_attributes(
                "correlation_id",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("from-attribute")
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[test]
    fn messages_become_lambda_records() {
        let record = lambda_message(&message("hi"), "arn:aws:sqs:eu-west-1:123456789012:q");
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["messageId"], "m1");
        assert_eq!(json["receiptHandle"], "r1");
        assert_eq!(json["eventSource"], "aws:sqs");
        assert_eq!(json["eventSourceARN"], "arn:aws:sqs:eu-west-1:123456789012:q");
        assert_eq!(json["awsRegion"], "eu-west-1");
        assert_eq!(json["attributes"]["ApproximateReceiveCount"], "2");
        assert_eq!(
            json["messageAttributes"]["correlation_id"]["stringValue"],
            "from-attribute"
        );
    }

    #[test]
    fn filters_see_json_bodies_parsed_and_correlation_ids_come_from_body_or_attribute() {
        let json_body = message(r#"{"type":"result.recorded","correlation_id":"from-body"}"#);
        assert_eq!(
            filter_shape(&json_body, "arn:q")["body"]["type"],
            "result.recorded"
        );
        assert_eq!(correlation_id(&json_body).as_deref(), Some("from-body"));
        let text = message("plain");
        assert_eq!(filter_shape(&text, "arn:q")["body"], "plain");
        assert_eq!(correlation_id(&text).as_deref(), Some("from-attribute"));
    }
}
