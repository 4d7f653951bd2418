//! Replays a stream mapping's on-failure queue. Lambda sends a pointer there when it gives
//! up on a batch (shard and sequence range, not the records). While the stream still holds
//! those records (24 hours), this re-reads them, keeps the ones the mapping's filters let
//! through, invokes the same function with them as one batch, and deletes the pointer only
//! when the function handled every record. A pointer that still fails, or whose records
//! aged out of the stream, stays on the queue and is reported. Consumers are idempotent on
//! the domain (result id + version), so replaying a batch that partly succeeded before
//! changes nothing twice.
//!
//! The same code serves the local stack (functions under `cargo lambda watch`, the mapping
//! read from template.yaml) and AWS (the function invoked through the Lambda API, the
//! mapping's filters read from the Lambda API).

use std::collections::HashSet;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodbstreams::Client as StreamsClient;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_sqs::Client as SqsClient;
use serde_json::Value;

use crate::esm::filter::Filters;
use crate::esm::record::StreamItem;
use crate::esm::response::{Verdict, verdict};
use crate::invoke::Invoker;
use crate::provision::Function;

mod lambda;
mod template;

pub use lambda::{LambdaInvoker, LambdaTargets};
pub use template::TemplateTargets;

/// What a pointer says about the batch Lambda gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    pub function_arn: String,
    pub stream_arn: String,
    pub shard_id: String,
    pub start: String,
    pub end: String,
}

impl Pointer {
    /// Parses the invocation record Lambda sends to a stream's on-failure destination.
    pub fn parse(body: &str) -> Result<Pointer, String> {
        let record: Value =
            serde_json::from_str(body).map_err(|e| format!("not an on-failure record (not JSON): {e}"))?;
        let text = |path: &[&str]| -> Result<String, String> {
            let mut value = &record;
            for key in path {
                value = value.get(key).unwrap_or(&Value::Null);
            }
            value
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("not an on-failure record: no {}", path.join(".")))
        };
        let batch = "DDBStreamBatchInfo";
        Ok(Pointer {
            function_arn: text(&["requestContext", "functionArn"])?,
            stream_arn: text(&[batch, "streamArn"])?,
            // a record parked by its function (`infra::poison`) names no shard: found later
            shard_id: text(&[batch, "shardId"]).unwrap_or_default(),
            start: text(&[batch, "startSequenceNumber"])?,
            end: text(&[batch, "endSequenceNumber"])?,
        })
    }
}

/// The function a pointer's records go to, as its mapping delivers them.
pub struct Target {
    pub function: Function,
    pub filters: Filters,
    pub report_batch_item_failures: bool,
}

/// One pointer left on the queue, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub message_id: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Pointers whose records were all handled, and deleted.
    pub replayed: usize,
    /// Records delivered to functions.
    pub records: usize,
    pub kept: Vec<Kept>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pointer{} replayed ({} record{} delivered), {} kept",
            self.replayed,
            plural(self.replayed),
            self.records,
            plural(self.records),
            self.kept.len()
        )?;
        for kept in &self.kept {
            write!(f, "\n  kept {}: {}", kept.message_id, kept.reason)?;
        }
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Where a pointer's target comes from: the template locally, the Lambda API on AWS.
pub trait Targets: Send + Sync {
    fn target<'a>(&'a self, pointer: &'a Pointer) -> futures::future::BoxFuture<'a, Result<Target, String>>;
}

pub struct Replayer<'a> {
    pub sqs: &'a SqsClient,
    pub streams: &'a StreamsClient,
    pub invoker: &'a dyn Invoker,
    pub targets: &'a dyn Targets,
}

/// How long a received pointer stays hidden from other readers while it is replayed.
const VISIBILITY: Duration = Duration::from_secs(300);
/// GetRecords returns at most 1000 records.
const READ_LIMIT: i32 = 1000;
/// Empty reads in a row before an open shard counts as read to its end.
const EMPTY_READS: usize = 3;

impl Replayer<'_> {
    /// Replays every pointer on the queue at `queue_url`, once each.
    pub async fn replay_queue(&self, queue_url: &str) -> Result<Report, String> {
        let mut report = Report::default();
        let mut seen = HashSet::new();
        let mut failed_handles = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(VISIBILITY.as_secs() as i32)
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ReceiveMessage {queue_url}: {}",
                        aws_sdk_sqs::error::DisplayErrorContext(e)
                    )
                })?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let id = message.message_id.clone().unwrap_or_default();
                let handle = message.receipt_handle.clone().unwrap_or_default();
                if !seen.insert(id.clone()) {
                    continue;
                }
                match self.replay_one(message.body.as_deref().unwrap_or_default()).await {
                    Ok(records) => {
                        self.sqs
                            .delete_message()
                            .queue_url(queue_url)
                            .receipt_handle(&handle)
                            .send()
                            .await
                            .map_err(|e| {
                                format!(
                                    "replayed {id} but could not delete it (it will be replayed again, harmlessly): {}",
                                    aws_sdk_sqs::error::DisplayErrorContext(e)
                                )
                            })?;
                        report.replayed += 1;
                        report.records += records;
                    }
                    Err(reason) => {
                        failed_handles.push(handle);
                        report.kept.push(Kept {
                            message_id: id,
                            reason,
                        });
                    }
                }
            }
        }
        // What could not be replayed is visible again at once, for the next attempt.
        for handle in failed_handles {
            let _ = self
                .sqs
                .change_message_visibility()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await;
        }
        Ok(report)
    }

    /// Replays one pointer; the number of records delivered, or why it stays.
    async fn replay_one(&self, body: &str) -> Result<usize, String> {
        let pointer = Pointer::parse(body)?;
        let target = self.targets.target(&pointer).await?;
        let items = read_range(self.streams, &pointer).await?;
        let items: Vec<StreamItem> = items
            .into_iter()
            .filter(|item| target.filters.matches(&item.shape))
            .collect();
        if items.is_empty() {
            return Ok(0);
        }
        let mut event = Event::default();
        event.records = items.iter().map(|i| i.record.clone()).collect();
        let payload = serde_json::to_value(&event).map_err(|e| format!("cannot encode the event: {e}"))?;
        let result = self.invoker.invoke(&target.function, payload).await;
        let identifiers: HashSet<&str> = items.iter().map(|i| i.sequence.as_str()).collect();
        match verdict(&result, target.report_batch_item_failures, &identifiers) {
            Verdict::Success => Ok(items.len()),
            Verdict::Partial(failed) => Err(format!(
                "{} failed {} of {} records again (first {})",
                target.function.logical_id,
                failed.len(),
                items.len(),
                failed.first().map(String::as_str).unwrap_or_default()
            )),
            Verdict::Failed(failure) => Err(format!(
                "{} failed the batch again: {}",
                target.function.logical_id, failure.reason
            )),
        }
    }
}

/// The pointer's records, read from the stream: from `start` through `end`, in order.
pub async fn read_range(streams: &StreamsClient, pointer: &Pointer) -> Result<Vec<StreamItem>, String> {
    let mut pointer = pointer.clone();
    if pointer.shard_id.is_empty() {
        pointer.shard_id = shard_of(streams, &pointer.stream_arn, &pointer.start).await?;
    }
    let pointer = &pointer;
    let aged_out = || {
        format!(
            "the records {}..{} are no longer in the stream (it keeps them 24 hours); see the queue's alarm for what to do instead",
            pointer.start, pointer.end
        )
    };
    let mut iterator = streams
        .get_shard_iterator()
        .stream_arn(&pointer.stream_arn)
        .shard_id(&pointer.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&pointer.start)
        .send()
        .await
        .map_err(|e| {
            let text = aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string();
            if text.contains("TrimmedDataAccess") || text.contains("ResourceNotFound") {
                aged_out()
            } else {
                format!(
                    "GetShardIterator at {} on {}: {text}",
                    pointer.start, pointer.shard_id
                )
            }
        })?
        .shard_iterator;
    let (start, end) = (sequence_key(&pointer.start), sequence_key(&pointer.end));
    let mut items: Vec<StreamItem> = Vec::new();
    let mut empty_reads = 0;
    while let Some(current) = iterator.take() {
        let output = streams
            .get_records()
            .shard_iterator(current)
            .limit(READ_LIMIT)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "GetRecords on {}: {}",
                    pointer.shard_id,
                    aws_sdk_dynamodbstreams::error::DisplayErrorContext(e)
                )
            })?;
        let records = output.records.unwrap_or_default();
        empty_reads = if records.is_empty() { empty_reads + 1 } else { 0 };
        let mut past_end = false;
        for record in &records {
            let item = StreamItem::from_sdk(record, &pointer.stream_arn)?;
            let key = sequence_key(&item.sequence);
            if items.is_empty() && key != start {
                return Err(aged_out());
            }
            if key > end {
                past_end = true;
                break;
            }
            items.push(item);
        }
        if past_end || empty_reads >= EMPTY_READS {
            break;
        }
        iterator = output.next_shard_iterator;
    }
    match items.last() {
        Some(last) if sequence_key(&last.sequence) == end => Ok(items),
        Some(last) => Err(format!(
            "the stream ends at {} before the pointer's last record {}",
            last.sequence, pointer.end
        )),
        None => Err(aged_out()),
    }
}

/// The shard whose sequence range holds `sequence` (a parked record's pointer names none).
async fn shard_of(streams: &StreamsClient, stream_arn: &str, sequence: &str) -> Result<String, String> {
    let wanted = sequence_key(sequence);
    let mut start_after: Option<String> = None;
    loop {
        let described = streams
            .describe_stream()
            .stream_arn(stream_arn)
            .set_exclusive_start_shard_id(start_after.clone())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "DescribeStream {stream_arn}: {}",
                    aws_sdk_dynamodbstreams::error::DisplayErrorContext(e)
                )
            })?;
        let Some(description) = described.stream_description else {
            break;
        };
        for shard in description.shards() {
            let range = shard.sequence_number_range();
            let first = range.and_then(|r| r.starting_sequence_number()).map(sequence_key);
            let last = range.and_then(|r| r.ending_sequence_number()).map(sequence_key);
            if first.is_some_and(|f| f <= wanted) && last.is_none_or(|l| wanted <= l) {
                return Ok(shard.shard_id().unwrap_or_default().to_owned());
            }
        }
        start_after = description.last_evaluated_shard_id().map(str::to_owned);
        if start_after.is_none() {
            break;
        }
    }
    Err(format!(
        "no shard of {stream_arn} holds sequence number {sequence} any more (the stream keeps records 24 hours); see the queue's alarm for what to do instead"
    ))
}

/// Sequence numbers are decimal strings of any length: compare them as numbers.
fn sequence_key(sequence: &str) -> (usize, &str) {
    let digits = sequence.trim_start_matches('0');
    (digits.len(), digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointer_body() -> Value {
        json!({
            "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:1:function:f", "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
            "version": "1.0",
            "timestamp": "2026-11-30T03:00:00.000Z",
            "DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": "100", "endSequenceNumber": "1200", "batchSize": 3, "streamArn": "arn:aws:dynamodb:us-east-1:1:table/T/stream/x"}
        })
    }

    #[test]
    fn a_pointer_names_the_function_shard_and_range() {
        let pointer = Pointer::parse(&pointer_body().to_string()).unwrap();
        assert_eq!(pointer.function_arn, "arn:aws:lambda:us-east-1:1:function:f");
        assert_eq!((pointer.start.as_str(), pointer.end.as_str()), ("100", "1200"));
        assert_eq!(pointer.shard_id, "shardId-1");
    }

    #[test]
    fn anything_else_is_refused_with_what_is_missing() {
        let mut body = pointer_body();
        body["DDBStreamBatchInfo"]
            .as_object_mut()
            .unwrap()
            .remove("streamArn");
        let error = Pointer::parse(&body.to_string()).unwrap_err();
        assert!(error.contains("DDBStreamBatchInfo.streamArn"), "{error}");
        // a parked poison record names no shard: the replay finds it
        let mut body = pointer_body();
        body["DDBStreamBatchInfo"]
            .as_object_mut()
            .unwrap()
            .remove("shardId");
        assert_eq!(Pointer::parse(&body.to_string()).unwrap().shard_id, "");
        assert!(Pointer::parse("{\"Records\": []}").is_err());
        assert!(Pointer::parse("not json").is_err());
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(sequence_key("999") < sequence_key("1000"));
        assert!(sequence_key("0100") == sequence_key("100"));
        assert!(sequence_key("49500000000000000001") > sequence_key("4950000000000000000"));
    }
}
