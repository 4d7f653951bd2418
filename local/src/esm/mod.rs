//! Event source mappings, which the emulator does not have: every `DynamoDB` and `SQS`
//! event template.yaml declares on a function becomes a poller here, with AWS's batching,
//! filtering and failure semantics (see `stream` and `sqs`). Nothing is named per
//! function: a new mapping in the template works without code changes.

pub mod destination;
pub mod filter;
pub mod record;
pub mod response;
pub mod spec;
mod sqs;
mod stream;

use std::sync::Arc;

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

/// The running mappings. Dropping this (or `stop`) ends every poller.
pub struct Mappings {
    tasks: JoinSet<()>,
    lines: Vec<String>,
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
        let clients = Clients::new(config);
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
                    });
                    for cursor in mapping.position().await? {
                        tasks.spawn(Arc::clone(&mapping).run(cursor));
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
        Ok(Mappings { tasks, lines })
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
