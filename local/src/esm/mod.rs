//! Event source mappings, which the emulator does not have: every `DynamoDB` and `SQS`
//! event template.yaml declares on a function becomes a poller here, with AWS's batching,
//! filtering and failure semantics (see `stream` and `sqs`); every `S3` event becomes a
//! bucket notification to a queue and a poller that invokes as S3 does (`bucket`). Nothing is named per
//! function: a new mapping in the template works without code changes.

pub mod bucket;
pub mod destination;
pub mod filter;
pub mod record;
pub mod response;
pub mod spec;
mod sqs;
mod stream;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::hops::Hops;
use crate::invoke::Invoker;
use crate::provision::Provisioned;
use crate::timing::Timing;
use destination::Destination;
pub use spec::{MappingSpec, StartingPosition, StreamSettings, mapping_specs};

/// The SDK clients the pollers share.
#[derive(Clone)]
pub(crate) struct Clients {
    streams: aws_sdk_dynamodbstreams::Client,
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
}

impl Clients {
    fn new(config: &SdkConfig) -> Clients {
        Clients {
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
        }
    }
}

/// Where a stream mapping resumes: (stream ARN, shard id) -> the last sequence number
/// already dealt with. A shard with no checkpoint starts at the mapping's `StartingPosition`.
pub type Checkpoints = BTreeMap<(String, String), String>;

/// What the stream pollers have read and not yet finished, so that someone outside (the
/// state snapshot of `make dev`) can tell when the pipeline is settled. SQS mappings need
/// nothing here: their unfinished work is visible as the queue's in-flight messages.
#[derive(Debug, Default)]
pub struct Progress {
    /// Records read (and matched by the filters) whose batch is not done yet.
    unprocessed: AtomicUsize,
    /// Records read and matched since the start.
    matched: AtomicU64,
    /// Per shard: GetRecords calls started and completed.
    shards: Mutex<Vec<Arc<ShardPolls>>>,
}

#[derive(Debug, Default)]
pub(crate) struct ShardPolls {
    stream_arn: String,
    shard_id: String,
    pub(crate) started: AtomicU64,
    pub(crate) completed: AtomicU64,
    /// The last sequence number read from the shard (the checkpoint once it is done).
    pub(crate) last_read: Mutex<Option<String>>,
}

impl Progress {
    pub fn unprocessed(&self) -> usize {
        self.unprocessed.load(Ordering::SeqCst)
    }

    pub fn matched(&self) -> u64 {
        self.matched.load(Ordering::SeqCst)
    }

    /// One mark per shard: the number of GetRecords calls started so far.
    pub fn poll_marks(&self) -> Vec<u64> {
        self.shards()
            .iter()
            .map(|s| s.started.load(Ordering::SeqCst))
            .collect()
    }

    /// True once every shard has completed a GetRecords call it started after `marks`
    /// were taken: whatever was written before the marks has been read by then.
    pub fn polled_since(&self, marks: &[u64]) -> bool {
        self.shards()
            .iter()
            .zip(marks)
            .all(|(s, mark)| s.completed.load(Ordering::SeqCst) > *mark)
    }

    /// Every shard's last sequence number read. Once `unprocessed` is 0, every record up
    /// to these is done: where the mappings would resume.
    pub fn checkpoints(&self) -> Checkpoints {
        self.shards()
            .iter()
            .filter_map(|s| {
                let sequence = s.last_read.lock().ok()?.clone()?;
                Some(((s.stream_arn.clone(), s.shard_id.clone()), sequence))
            })
            .collect()
    }

    pub(crate) fn add_shard(
        &self,
        stream_arn: &str,
        shard_id: &str,
        last_read: Option<String>,
    ) -> Arc<ShardPolls> {
        let polls = Arc::new(ShardPolls {
            stream_arn: stream_arn.to_owned(),
            shard_id: shard_id.to_owned(),
            last_read: Mutex::new(last_read),
            ..ShardPolls::default()
        });
        if let Ok(mut shards) = self.shards.lock() {
            shards.push(Arc::clone(&polls));
        }
        polls
    }

    pub(crate) fn read(&self, records: usize) {
        self.matched.fetch_add(records as u64, Ordering::SeqCst);
        self.unprocessed.fetch_add(records, Ordering::SeqCst);
    }

    pub(crate) fn done(&self, records: usize) {
        self.unprocessed.fetch_sub(records, Ordering::SeqCst);
    }

    fn shards(&self) -> Vec<Arc<ShardPolls>> {
        self.shards.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The running mappings. Dropping this (or `stop`) ends every poller.
pub struct Mappings {
    tasks: JoinSet<()>,
    lines: Vec<String>,
    progress: Arc<Progress>,
}

impl Mappings {
    /// Starts a poller per mapping and returns once each is positioned (a stream mapping
    /// at `LATEST` sees every write made after this returns). A mapping AWS would refuse
    /// (bad properties, a queue whose visibility timeout is shorter than the function's
    /// timeout, an unknown on-failure destination) stops the start with the reason.
    /// Mappings of functions the invoker cannot serve are listed but not started.
    pub async fn start(
        config: &SdkConfig,
        provisioned: &Provisioned,
        invoker: Arc<dyn Invoker>,
        hops: Hops,
        timing: Timing,
    ) -> Result<Mappings> {
        Self::start_at(config, provisioned, invoker, hops, timing, &Checkpoints::new()).await
    }

    /// `start`, with stream shards in `checkpoints` resuming right after their checkpoint.
    pub async fn start_at(
        config: &SdkConfig,
        provisioned: &Provisioned,
        invoker: Arc<dyn Invoker>,
        hops: Hops,
        timing: Timing,
        checkpoints: &Checkpoints,
    ) -> Result<Mappings> {
        let clients = Clients::new(config);
        let progress = Arc::new(Progress::default());
        let mut tasks = JoinSet::new();
        let mut lines = Vec::new();
        for spec in mapping_specs(provisioned)? {
            let function = provisioned
                .function(&spec.function)
                .cloned()
                .ok_or_else(|| Error::UnknownFunction(spec.function.clone()))?;
            let mut line = describe(&spec);
            if !spec.enabled {
                lines.push(format!("{line}  [Enabled: false, not started]"));
                continue;
            }
            if !invoker.serves(&function) {
                lines.push(format!("{line}  [no handler, not started]"));
                continue;
            }
            if !spec.ignored.is_empty() {
                line.push_str(&format!("  [ignored locally: {}]", spec.ignored.join(", ")));
            }
            match spec.stream.clone() {
                Some(settings) => {
                    let destination = match &settings.on_failure {
                        Some(arn) => Some(Destination::resolve(arn, provisioned, &clients.sqs).await?),
                        None => None,
                    };
                    let mapping = Arc::new(stream::StreamMapping {
                        function_arn: function.arn(provisioned),
                        spec,
                        settings,
                        function,
                        invoker: Arc::clone(&invoker),
                        clients: clients.clone(),
                        destination,
                        hops: hops.clone(),
                        timing,
                        progress: Arc::clone(&progress),
                    });
                    for cursor in mapping.position(checkpoints).await? {
                        let polls = progress.add_shard(
                            &mapping.spec.source_arn,
                            cursor.shard_id(),
                            cursor.last_read(),
                        );
                        tasks.spawn(Arc::clone(&mapping).run(cursor, polls));
                    }
                }
                None => {
                    let queue_url = match provisioned
                        .resources()
                        .find(|r| r.arn.as_deref() == Some(spec.source_arn.as_str()))
                        .and_then(|r| r.url.clone())
                    {
                        Some(url) => url,
                        None => destination::queue_url(&clients.sqs, &spec.source_arn).await?,
                    };
                    let mapping = Arc::new(sqs::QueueMapping {
                        spec,
                        function,
                        queue_url,
                        invoker: Arc::clone(&invoker),
                        clients: clients.clone(),
                        hops: hops.clone(),
                        timing,
                    });
                    mapping.check_visibility_timeout().await?;
                    tasks.spawn(mapping.run());
                }
            }
            lines.push(line);
        }
        let mut triggers = Vec::new();
        for trigger in bucket::triggers(provisioned)? {
            let function = provisioned
                .function(&trigger.function)
                .cloned()
                .ok_or_else(|| Error::UnknownFunction(trigger.function.clone()))?;
            let line = format!(
                "{:<28} bucket {} -> {}",
                trigger.name(),
                trigger.bucket,
                trigger.function
            );
            if !invoker.serves(&function) {
                lines.push(format!("{line}  [no handler, not started]"));
                continue;
            }
            lines.push(format!(
                "{line} ({}, async: {} retries)",
                trigger.events.join(", "),
                2
            ));
            triggers.push((trigger, function));
        }
        let urls = bucket::connect(config, provisioned.stack_name(), &triggers).await?;
        for ((trigger, function), queue_url) in triggers.into_iter().zip(urls) {
            let mapping = Arc::new(bucket::BucketMapping {
                trigger,
                function,
                queue_url,
                invoker: Arc::clone(&invoker),
                sqs: clients.sqs.clone(),
                hops: hops.clone(),
                timing,
            });
            tasks.spawn(mapping.run());
        }
        Ok(Mappings {
            tasks,
            lines,
            progress,
        })
    }

    /// What the stream pollers have in hand.
    pub fn progress(&self) -> Arc<Progress> {
        Arc::clone(&self.progress)
    }

    /// One line per mapping, for the start-up summary.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Ends every poller; an invocation in flight is abandoned (its messages come back
    /// after their visibility timeout, as after a crash).
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
    }
}

fn describe(spec: &MappingSpec) -> String {
    let source = match &spec.stream {
        Some(_) => format!("stream of {}", record::table_of(&spec.source_arn)),
        None => format!("queue {}", spec.source_arn.rsplit(':').next().unwrap_or_default()),
    };
    let mut traits = vec![format!("batch {}", spec.batch_size)];
    if !spec.batching_window.is_zero() {
        traits.push(format!("window {}s", spec.batching_window.as_secs()));
    }
    if !spec.filters.is_empty() {
        traits.push("filtered".into());
    }
    if spec.report_batch_item_failures {
        traits.push("ReportBatchItemFailures".into());
    }
    if let Some(stream) = &spec.stream {
        if stream.bisect_on_error {
            traits.push("bisect".into());
        }
        if let Some(max) = stream.max_retries {
            traits.push(format!("retries {max}"));
        }
        if let Some(age) = stream.max_record_age {
            traits.push(format!("max age {}s", age.as_secs()));
        }
        if let Some(arn) = &stream.on_failure {
            traits.push(format!(
                "on failure -> {}",
                arn.rsplit(':').next().unwrap_or_default()
            ));
        }
    }
    format!(
        "{:<28} {source} -> {} ({})",
        spec.name(),
        spec.function,
        traits.join(", ")
    )
}

/// A failure a developer must notice (a malformed batch response, a lost record): on
/// stderr whatever the log filter says.
fn loud(spec: &MappingSpec, message: &str) {
    eprintln!("!! event source mapping {}: {message}", spec.name());
}
