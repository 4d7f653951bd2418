//! `mrmrthon-local replay`: one command for a stream mapping's on-failure queue (see
//! `crate::replay`). Locally the queue is named by its logical id and its pointers go to
//! the functions `make dev` runs under `cargo lambda watch`; with `--queue-url` the
//! standard AWS configuration is used and the functions are invoked through the Lambda API.

use std::collections::BTreeMap;

use super::{DEFAULT_ENDPOINT, provision_endpoint, running};
use crate::error::{Error, Result};
use crate::invoke::{Invoker, WatchInvoker};
use crate::replay::{LambdaInvoker, LambdaTargets, Replayer, Report, Targets, TemplateTargets};
use crate::stack::STACK_NAME;
use crate::{emulator, provision::Provisioned};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOptions {
    /// The on-failure queue's logical id in template.yaml (the local stack).
    pub queue: Option<String>,
    /// The queue's URL (AWS).
    pub queue_url: Option<String>,
    pub endpoint: Option<String>,
    /// `cargo lambda watch`'s invoke API (`make dev`'s `--invoke-port`).
    pub invoke_url: Option<String>,
}

pub async fn run(options: ReplayOptions) -> Result<()> {
    let report = match (&options.queue, &options.queue_url) {
        (_, Some(url)) => on_aws(url, options.endpoint.as_deref()).await?,
        (Some(queue), None) => locally(queue, &options).await?,
        (None, None) => return Err(Error::Replay("name an on-failure queue".into())),
    };
    println!("{report}");
    if report.kept.is_empty() {
        Ok(())
    } else {
        Err(Error::Replay(format!(
            "{} pointer(s) kept: fix what the reasons say, then run the command again",
            report.kept.len()
        )))
    }
}

async fn locally(queue: &str, options: &ReplayOptions) -> Result<Report> {
    let endpoint = options
        .endpoint
        .clone()
        .or_else(|| running::Running::current().map(|r| r.endpoint))
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let provisioned: Provisioned = provision_endpoint(&endpoint, STACK_NAME, BTreeMap::new(), None).await?;
    let (Some(queue_arn), Some(queue_url)) = (provisioned.arn(queue), provisioned.url(queue)) else {
        return Err(Error::Replay(format!("template.yaml has no queue {queue}")));
    };
    let config = emulator::sdk_config(&endpoint);
    let invoker = WatchInvoker::new(
        options
            .invoke_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:9000".to_owned()),
    );
    let targets = TemplateTargets {
        provisioned: &provisioned,
        queue_arn: queue_arn.to_owned(),
    };
    replay_with(&config, &invoker, &targets, queue_url).await
}

async fn on_aws(queue_url: &str, endpoint: Option<&str>) -> Result<Report> {
    let config = match endpoint {
        Some(endpoint) => emulator::sdk_config(endpoint),
        None => {
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .load()
                .await
        }
    };
    let lambda = aws_sdk_lambda::Client::new(&config);
    let invoker = LambdaInvoker {
        client: lambda.clone(),
    };
    let targets = LambdaTargets { client: lambda };
    replay_with(&config, &invoker, &targets, queue_url).await
}

async fn replay_with(
    config: &aws_config::SdkConfig,
    invoker: &dyn Invoker,
    targets: &dyn Targets,
    queue_url: &str,
) -> Result<Report> {
    Replayer {
        sqs: &aws_sdk_sqs::Client::new(config),
        streams: &aws_sdk_dynamodbstreams::Client::new(config),
        invoker,
        targets,
    }
    .replay_queue(queue_url)
    .await
    .map_err(Error::Replay)
}
