//! A DynamoDB stream mapping: reads each shard of the stream (DescribeStream,
//! GetShardIterator, GetRecords), drops records no filter matches, batches the rest and
//! invokes the function, with AWS's failure semantics:
//!
//! - a batch is retried until it succeeds, its retries are exhausted
//!   (`MaximumRetryAttempts`) or its records are too old (`MaximumRecordAgeInSeconds`);
//!   a shard waits for its current batch, so one poison record blocks it until then;
//! - with `ReportBatchItemFailures`, the records before the lowest failed sequence number
//!   are done and the retry starts at that record;
//! - with `BisectBatchOnFunctionError`, a batch the function fails with an error is split
//!   in two halves, retried one after the other (the split does not count as a retry); an
//!   unusable batch response fails the whole batch but is no function error, so the batch
//!   is retried whole;
//! - a discarded batch is described to the on-failure destination.
//!
//! The checkpoint is this process's memory: a restart starts again at the mapping's
//! `StartingPosition`, as a newly created mapping would, unless the caller hands over a
//! checkpoint for the shard (`make dev` does after restoring its saved state, so that the
//! restored items are not processed a second time).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodbstreams::Client as StreamsClient;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;

use super::destination::{BatchInfo, Condition, Destination, LastResponse, failure_record};
use super::record::{StreamItem, table_of};
use super::response::{Verdict, verdict};
use super::spec::{MappingSpec, StartingPosition, StreamSettings};
use super::{Checkpoints, Clients, Progress, ShardPolls, loud};
use crate::error::{Error, Result};
use crate::hops::{Hop, HopKind, Hops, Outcome};
use crate::invoke::Invoker;
use crate::provision::Function;
use crate::timing::Timing;

/// GetRecords returns at most 1000 records.
const GET_RECORDS_LIMIT: usize = 1000;

pub(super) struct StreamMapping {
    pub spec: MappingSpec,
    pub settings: StreamSettings,
    pub function: Function,
    pub function_arn: String,
    pub invoker: Arc<dyn Invoker>,
    pub clients: Clients,
    pub destination: Option<Destination>,
    pub hops: Hops,
    pub timing: Timing,
    pub progress: Arc<Progress>,
}

/// Where a shard is read from next.
pub(super) struct Cursor {
    shard_id: String,
    iterator: Option<String>,
    /// The last sequence number read: a lost iterator is re-made after it.
    last_read: Option<String>,
}

impl Cursor {
    pub(super) fn shard_id(&self) -> &str {
        &self.shard_id
    }

    pub(super) fn last_read(&self) -> Option<String> {
        self.last_read.clone()
    }
}

/// A batch being retried, with its own count of invocations.
struct Attempt {
    items: Vec<StreamItem>,
    invocations: u32,
    last: Option<LastResponse>,
}

impl StreamMapping {
    /// Positions a cursor on every shard (after its checkpoint, else at
    /// `StartingPosition`), so that once this returns, every later write is seen.
    pub async fn position(&self, checkpoints: &Checkpoints) -> Result<Vec<Cursor>> {
        let arn = &self.spec.source_arn;
        let streams = &self.clients.streams;
        let mut cursors = Vec::new();
        let mut start_after: Option<String> = None;
        loop {
            let described = streams
                .describe_stream()
                .stream_arn(arn)
                .set_exclusive_start_shard_id(start_after.clone())
                .send()
                .await
                .map_err(|e| Error::aws(format!("DescribeStream {arn} for {}", self.spec.name()), e))?;
            let Some(description) = described.stream_description else {
                break;
            };
            for shard in description.shards() {
                let Some(shard_id) = shard.shard_id() else {
                    continue;
                };
                let closed = shard
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_some();
                let checkpoint = checkpoints.get(&(arn.clone(), shard_id.to_owned()));
                // LATEST means "from now": a closed shard has nothing new.
                if closed
                    && checkpoint.is_none()
                    && self.settings.starting_position == StartingPosition::Latest
                {
                    continue;
                }
                let (kind, after) = match (checkpoint, self.settings.starting_position) {
                    (Some(sequence), _) => (ShardIteratorType::AfterSequenceNumber, Some(sequence.clone())),
                    (None, StartingPosition::Latest) => (ShardIteratorType::Latest, None),
                    (None, StartingPosition::TrimHorizon) => (ShardIteratorType::TrimHorizon, None),
                };
                let iterator = iterator(streams, arn, shard_id, kind, after.clone()).await?;
                cursors.push(Cursor {
                    shard_id: shard_id.to_owned(),
                    iterator: Some(iterator),
                    last_read: after,
                });
            }
            start_after = description.last_evaluated_shard_id().map(str::to_owned);
            if start_after.is_none() {
                break;
            }
        }
        Ok(cursors)
    }

    /// Reads and processes one shard until it closes (or the task is stopped).
    pub async fn run(self: Arc<Self>, mut cursor: Cursor, polls: Arc<ShardPolls>) {
        let mut pending: VecDeque<StreamItem> = VecDeque::new();
        let mut window_opened: Option<Instant> = None;
        // empty reads in a row: an idle shard is read less often (Timing::stream_idle)
        let mut empty_reads = 0u32;
        loop {
            let room = self.spec.batch_size.saturating_sub(pending.len());
            if room > 0 && cursor.iterator.is_some() {
                polls.started.fetch_add(1, Ordering::SeqCst);
                let read = self.read(&mut cursor, room.min(GET_RECORDS_LIMIT)).await;
                match read {
                    Ok(items) => {
                        empty_reads = if items.is_empty() {
                            empty_reads.saturating_add(1)
                        } else {
                            0
                        };
                        let before = pending.len();
                        pending.extend(items.into_iter().filter(|i| self.spec.filters.matches(&i.shape)));
                        // Counted before the poll counts as completed: an observer that
                        // sees the poll done sees its records too.
                        self.progress.read(pending.len() - before);
                        if let Ok(mut last) = polls.last_read.lock() {
                            last.clone_from(&cursor.last_read);
                        }
                        polls.completed.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(message) => {
                        polls.completed.fetch_add(1, Ordering::SeqCst);
                        tracing::warn!(mapping = %self.spec.name(), shard = %cursor.shard_id, "{message}");
                        tokio::time::sleep(self.timing.stream_poll).await;
                        continue;
                    }
                }
            }
            if pending.is_empty() {
                if cursor.iterator.is_none() {
                    tracing::info!(mapping = %self.spec.name(), shard = %cursor.shard_id, "shard closed");
                    return;
                }
                tokio::time::sleep(self.timing.stream_idle(empty_reads.max(1))).await;
                continue;
            }
            // MaximumBatchingWindowInSeconds: gather up to a full batch for that long.
            if pending.len() < self.spec.batch_size && cursor.iterator.is_some() {
                let opened = *window_opened.get_or_insert_with(Instant::now);
                let left = self.spec.batching_window.saturating_sub(opened.elapsed());
                if !left.is_zero() {
                    tokio::time::sleep(left.min(self.timing.stream_poll)).await;
                    continue;
                }
            }
            window_opened = None;
            let take = self.spec.batch_size.min(pending.len());
            let batch: Vec<StreamItem> = pending.drain(..take).collect();
            self.process(&cursor.shard_id, batch).await;
            self.progress.done(take);
        }
    }

    async fn read(&self, cursor: &mut Cursor, limit: usize) -> std::result::Result<Vec<StreamItem>, String> {
        let Some(current) = cursor.iterator.clone() else {
            return Ok(Vec::new());
        };
        let arn = &self.spec.source_arn;
        let output = match self
            .clients
            .streams
            .get_records()
            .shard_iterator(current)
            .limit(limit as i32)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                // An iterator can expire or be lost (the emulator keeps a bounded number):
                // make a new one right after the last record read.
                let error = aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string();
                let (kind, after) = match &cursor.last_read {
                    Some(sequence) => (ShardIteratorType::AfterSequenceNumber, Some(sequence.clone())),
                    None if self.settings.starting_position == StartingPosition::TrimHorizon => {
                        (ShardIteratorType::TrimHorizon, None)
                    }
                    None => (ShardIteratorType::Latest, None),
                };
                if let Ok(fresh) = iterator(&self.clients.streams, arn, &cursor.shard_id, kind, after).await {
                    cursor.iterator = Some(fresh);
                }
                return Err(format!("GetRecords failed, iterator renewed: {error}"));
            }
        };
        cursor.iterator = output.next_shard_iterator;
        let mut items = Vec::with_capacity(output.records.as_ref().map_or(0, Vec::len));
        for record in output.records.unwrap_or_default() {
            match StreamItem::from_sdk(&record, arn) {
                Ok(item) => {
                    cursor.last_read = Some(item.sequence.clone());
                    items.push(item);
                }
                // A record Lambda could not deliver either: say so and move on.
                Err(message) => loud(
                    &self.spec,
                    &format!("skipping an unreadable stream record: {message}"),
                ),
            }
        }
        Ok(items)
    }

    /// Invokes the function with `batch` until the batch is done or discarded.
    async fn process(&self, shard_id: &str, batch: Vec<StreamItem>) {
        let mut queue = VecDeque::from([Attempt {
            items: batch,
            invocations: 0,
            last: None,
        }]);
        while let Some(mut attempt) = queue.pop_front() {
            loop {
                if let Some(max_age) = self.settings.max_record_age {
                    let now = time::OffsetDateTime::now_utc();
                    let expired = attempt
                        .items
                        .iter()
                        .take_while(|i| now - i.arrival > max_age)
                        .count();
                    if expired > 0 {
                        let old: Vec<StreamItem> = attempt.items.drain(..expired).collect();
                        self.discard(shard_id, &old, Condition::RecordAgeExceeded, &attempt)
                            .await;
                    }
                    if attempt.items.is_empty() {
                        break;
                    }
                }
                let verdict = self.invoke(&attempt.items).await;
                attempt.invocations += 1;
                match verdict {
                    Verdict::Success => break,
                    Verdict::Partial(failed) => {
                        attempt.last = Some(LastResponse {
                            function_error: false,
                        });
                        // Retry from the lowest failed sequence number: items are in order.
                        let first_failed = attempt
                            .items
                            .iter()
                            .position(|i| failed.contains(&i.sequence))
                            .unwrap_or(0);
                        attempt.items.drain(..first_failed);
                    }
                    Verdict::Failed(failure) => {
                        attempt.last = Some(LastResponse {
                            function_error: failure.function_error,
                        });
                        // Only a function error bisects; an unusable batch response (a
                        // null itemIdentifier...) retries the whole batch as it is.
                        if self.settings.bisect_on_error && failure.function_error && attempt.items.len() > 1
                        {
                            let second = attempt.items.split_off(attempt.items.len() / 2);
                            for half in [second, std::mem::take(&mut attempt.items)] {
                                queue.push_front(Attempt {
                                    items: half,
                                    invocations: 0,
                                    last: None,
                                });
                            }
                            break;
                        }
                    }
                }
                let retries_used = attempt.invocations - 1;
                if self.settings.max_retries.is_some_and(|max| retries_used >= max) {
                    let items = std::mem::take(&mut attempt.items);
                    self.discard(shard_id, &items, Condition::RetryAttemptsExhausted, &attempt)
                        .await;
                    break;
                }
                tokio::time::sleep(self.timing.backoff(attempt.invocations)).await;
            }
        }
    }

    /// One invocation with its hop line.
    async fn invoke(&self, items: &[StreamItem]) -> Verdict {
        let mut event = Event::default();
        event.records = items.iter().map(|i| i.record.clone()).collect();
        let started = Instant::now();
        let result = match serde_json::to_value(&event) {
            Ok(payload) => self.invoker.invoke(&self.function, payload).await,
            Err(e) => Err(crate::invoke::InvokeError::BadResponse {
                function: self.function.logical_id.clone(),
                detail: format!("cannot encode the event: {e}"),
            }),
        };
        let took = started.elapsed();
        let identifiers: HashSet<&str> = items.iter().map(|i| i.sequence.as_str()).collect();
        let verdict = verdict(&result, self.spec.report_batch_item_failures, &identifiers);
        let outcome = match &verdict {
            Verdict::Success => Outcome::Ok,
            Verdict::Partial(failed) => {
                Outcome::Partial(format!("{} of {} failed", failed.len(), items.len()))
            }
            Verdict::Failed(failure) => {
                if !failure.function_error {
                    loud(&self.spec, &format!("the whole batch fails: {}", failure.reason));
                }
                Outcome::Failed(failure.reason.clone())
            }
        };
        self.hops.record(
            Hop::new(
                HopKind::Stream,
                &self.function.logical_id,
                format!(
                    "{} record{} from {}",
                    items.len(),
                    if items.len() == 1 { "" } else { "s" },
                    table_of(&self.spec.source_arn)
                ),
            )
            .outcome(outcome)
            .took(took)
            .correlation(items.iter().filter_map(StreamItem::correlation_id)),
        );
        verdict
    }

    /// Gives up on `items`: describes them to the on-failure destination, if any.
    async fn discard(&self, shard_id: &str, items: &[StreamItem], condition: Condition, attempt: &Attempt) {
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return;
        };
        let info = BatchInfo {
            shard_id: shard_id.to_owned(),
            stream_arn: self.spec.source_arn.clone(),
            start_sequence_number: first.sequence.clone(),
            end_sequence_number: last.sequence.clone(),
            first_arrival: first.arrival,
            last_arrival: last.arrival,
            batch_size: items.len(),
        };
        let record = failure_record(
            &self.function_arn,
            condition,
            attempt.invocations,
            attempt.last,
            &info,
        );
        let detail = format!(
            "{} record{} discarded ({}), sequence {}..{}",
            items.len(),
            if items.len() == 1 { "" } else { "s" },
            condition.as_str(),
            info.start_sequence_number,
            info.end_sequence_number
        );
        let started = Instant::now();
        let (target, outcome) = match &self.destination {
            Some(destination) => {
                let sent = destination
                    .send(&self.clients.sqs, &self.clients.sns, &record)
                    .await;
                let outcome = match sent {
                    Ok(()) => Outcome::Ok,
                    Err(e) => {
                        loud(
                            &self.spec,
                            &format!("cannot send to the on-failure destination: {e}"),
                        );
                        Outcome::Failed(e)
                    }
                };
                (
                    destination
                        .arn()
                        .rsplit(':')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    outcome,
                )
            }
            None => (
                self.function.logical_id.clone(),
                Outcome::Failed("no on-failure destination: the records are lost".into()),
            ),
        };
        self.hops.record(
            Hop::new(HopKind::Destination, target, detail)
                .outcome(outcome)
                .took(started.elapsed())
                .correlation(items.iter().filter_map(StreamItem::correlation_id)),
        );
    }
}

async fn iterator(
    streams: &StreamsClient,
    arn: &str,
    shard_id: &str,
    kind: ShardIteratorType,
    sequence: Option<String>,
) -> Result<String> {
    let action = || format!("GetShardIterator {kind} on {arn} {shard_id}");
    streams
        .get_shard_iterator()
        .stream_arn(arn)
        .shard_id(shard_id)
        .shard_iterator_type(kind.clone())
        .set_sequence_number(sequence)
        .send()
        .await
        .map_err(|e| Error::aws(action(), e))?
        .shard_iterator
        .ok_or_else(|| Error::Aws {
            action: action(),
            message: "no iterator in the response".into(),
        })
}
