//! The event source mappings template.yaml declares: SAM `Events` of type `DynamoDB` and
//! `SQS` on functions, read into `MappingSpec`s with AWS's defaults and checked with
//! AWS's limits (what CreateEventSourceMapping would refuse, the local stack refuses too).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml::Value;

use super::filter::Filters;
use crate::error::{Error, Result};
use crate::provision::Provisioned;
use crate::provision::flexible::{Flag, Number};

pub const DYNAMODB_EVENT: &str = "DynamoDB";
pub const SQS_EVENT: &str = "SQS";
const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";

/// Properties SAM accepts that change nothing locally (scaling, metrics, encryption...).
const IGNORED: &[&str] = &[
    "ParallelizationFactor",
    "TumblingWindowInSeconds",
    "MetricsConfig",
    "KmsKeyArn",
    "ProvisionedPollerConfig",
    "StartingPositionTimestamp",
];

#[derive(Debug, Clone, PartialEq)]
pub struct MappingSpec {
    /// The function's logical id.
    pub function: String,
    /// The event's name under the function's `Events`.
    pub event: String,
    /// The stream or queue ARN.
    pub source_arn: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub filters: Filters,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
    /// How many batches of a queue may be in the function at once: `ScalingConfig`'s
    /// `MaximumConcurrency`, else `QUEUE_POLLERS`. Streams run one batch a shard.
    pub max_concurrency: usize,
    /// Stream-only settings; None for a queue.
    pub stream: Option<StreamSettings>,
    /// Properties that were given but have no local effect, for the start-up summary.
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamSettings {
    pub starting_position: StartingPosition,
    pub bisect_on_error: bool,
    /// None: retry until the record expires (AWS's -1).
    pub max_retries: Option<u32>,
    /// None: no age limit (AWS's -1).
    pub max_record_age: Option<Duration>,
    /// `DestinationConfig.OnFailure.Destination`: an SQS queue or SNS topic ARN.
    pub on_failure: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
}

impl MappingSpec {
    pub fn is_stream(&self) -> bool {
        self.stream.is_some()
    }

    /// `Function.Event` for messages.
    pub fn name(&self) -> String {
        format!("{}.{}", self.function, self.event)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Properties {
    stream: Option<String>,
    queue: Option<String>,
    batch_size: Option<Number>,
    enabled: Option<Flag>,
    maximum_batching_window_in_seconds: Option<Number>,
    filter_criteria: Option<Value>,
    #[serde(default)]
    function_response_types: Vec<String>,
    starting_position: Option<String>,
    bisect_batch_on_function_error: Option<Flag>,
    maximum_retry_attempts: Option<Number>,
    maximum_record_age_in_seconds: Option<Number>,
    destination_config: Option<DestinationConfig>,
    scaling_config: Option<ScalingConfig>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScalingConfig {
    maximum_concurrency: Option<Number>,
}

/// Lambda reads a queue with five pollers to begin with and adds more while it has a
/// backlog; locally a queue's concurrent batches stop at five (one emulator serves them all).
pub const QUEUE_POLLERS: usize = 5;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationConfig {
    on_failure: Option<OnFailure>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OnFailure {
    destination: Option<String>,
}

/// Every DynamoDB and SQS event of every function, intrinsics resolved.
pub fn mapping_specs(provisioned: &Provisioned) -> Result<Vec<MappingSpec>> {
    let mut specs = Vec::new();
    for function in provisioned.functions() {
        for event in &function.events {
            if event.kind != DYNAMODB_EVENT && event.kind != SQS_EVENT {
                continue;
            }
            let at = format!(
                "Resources.{}.Properties.Events.{}.Properties",
                function.logical_id, event.name
            );
            let properties = provisioned
                .resolve(&event.properties)
                .map_err(|e| Error::Template(format!("{at}: {e}")))?;
            let spec = parse(&function.logical_id, &event.name, &event.kind, &properties)
                .map_err(|message| Error::Template(format!("{at}: {message}")))?;
            specs.push(spec);
        }
    }
    Ok(specs)
}

fn parse(function: &str, event: &str, kind: &str, properties: &Value) -> Result<MappingSpec, String> {
    let props: Properties = serde_yaml::from_value(properties.clone()).map_err(|e| e.to_string())?;
    let is_stream = kind == DYNAMODB_EVENT;
    let source_arn = if is_stream {
        props
            .stream
            .clone()
            .ok_or("Stream (the stream ARN) is required")?
    } else {
        props.queue.clone().ok_or("Queue (the queue ARN) is required")?
    };

    let batch_size = props
        .batch_size
        .map(|n| n.0)
        .unwrap_or(if is_stream { 100 } else { 10 });
    if !(1..=10_000).contains(&batch_size) {
        return Err(format!("BatchSize must be 1 to 10000, got {batch_size}"));
    }
    let window = props.maximum_batching_window_in_seconds.map_or(0, |n| n.0);
    if !(0..=300).contains(&window) {
        return Err(format!(
            "MaximumBatchingWindowInSeconds must be 0 to 300, got {window}"
        ));
    }
    if !is_stream && batch_size > 10 && window < 1 {
        return Err("a BatchSize over 10 needs MaximumBatchingWindowInSeconds of at least 1 (SQS)".into());
    }
    let mut report_batch_item_failures = false;
    for response_type in &props.function_response_types {
        if response_type != REPORT_BATCH_ITEM_FAILURES {
            return Err(format!(
                "FunctionResponseTypes: unknown value {response_type:?} (only {REPORT_BATCH_ITEM_FAILURES})"
            ));
        }
        report_batch_item_failures = true;
    }
    let filters = match &props.filter_criteria {
        None => Filters::default(),
        Some(criteria) => {
            let json = serde_json::to_value(criteria).map_err(|e| format!("FilterCriteria: {e}"))?;
            Filters::parse(&json)?
        }
    };

    let max_concurrency = match props.scaling_config.as_ref().and_then(|c| c.maximum_concurrency) {
        None => QUEUE_POLLERS,
        Some(_) if is_stream => {
            return Err("ScalingConfig applies to SQS queues only".into());
        }
        Some(Number(n @ 2..=1000)) => (n as usize).min(QUEUE_POLLERS),
        Some(Number(n)) => {
            return Err(format!(
                "ScalingConfig.MaximumConcurrency must be 2 to 1000, got {n}"
            ));
        }
    };
    let stream = if is_stream {
        Some(stream_settings(&props)?)
    } else {
        let stream_only = [
            ("StartingPosition", props.starting_position.is_some()),
            (
                "BisectBatchOnFunctionError",
                props.bisect_batch_on_function_error.is_some(),
            ),
            ("MaximumRetryAttempts", props.maximum_retry_attempts.is_some()),
            (
                "MaximumRecordAgeInSeconds",
                props.maximum_record_age_in_seconds.is_some(),
            ),
            ("DestinationConfig", props.destination_config.is_some()),
        ];
        if let Some((name, _)) = stream_only.iter().find(|(_, given)| *given) {
            return Err(format!(
                "{name} applies to streams only (an SQS queue's failures go to its RedrivePolicy)"
            ));
        }
        None
    };

    let mut ignored = Vec::new();
    for name in props.other.keys() {
        if IGNORED.contains(&name.as_str()) {
            ignored.push(name.clone());
        } else {
            return Err(format!("unknown property {name} for a {kind} event"));
        }
    }

    Ok(MappingSpec {
        function: function.to_owned(),
        event: event.to_owned(),
        source_arn,
        batch_size: batch_size as usize,
        batching_window: Duration::from_secs(window as u64),
        filters,
        report_batch_item_failures,
        enabled: props.enabled.is_none_or(|f| f.0),
        max_concurrency,
        stream,
        ignored,
    })
}

fn stream_settings(props: &Properties) -> Result<StreamSettings, String> {
    let starting_position = match props.starting_position.as_deref() {
        Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
        Some("LATEST") => StartingPosition::Latest,
        Some(other) => {
            return Err(format!(
                "StartingPosition must be TRIM_HORIZON or LATEST, got {other:?}"
            ));
        }
        None => return Err("StartingPosition (TRIM_HORIZON or LATEST) is required for a stream".into()),
    };
    let max_retries = match props.maximum_retry_attempts.map(|n| n.0) {
        None | Some(-1) => None,
        Some(n @ 0..=10_000) => Some(n as u32),
        Some(n) => return Err(format!("MaximumRetryAttempts must be -1 to 10000, got {n}")),
    };
    let max_record_age = match props.maximum_record_age_in_seconds.map(|n| n.0) {
        None | Some(-1) => None,
        Some(n @ 60..=604_800) => Some(Duration::from_secs(n as u64)),
        Some(n) => {
            return Err(format!(
                "MaximumRecordAgeInSeconds must be -1 or 60 to 604800, got {n}"
            ));
        }
    };
    let on_failure = props
        .destination_config
        .as_ref()
        .and_then(|d| d.on_failure.as_ref())
        .and_then(|o| o.destination.clone());
    if let Some(arn) = &on_failure
        && !(arn.starts_with("arn:aws:sqs:") || arn.starts_with("arn:aws:sns:"))
    {
        return Err(format!(
            "DestinationConfig.OnFailure.Destination must be an SQS queue or SNS topic ARN, got {arn:?}"
        ));
    }
    Ok(StreamSettings {
        starting_position,
        bisect_on_error: props.bisect_batch_on_function_error.is_some_and(|f| f.0),
        max_retries,
        max_record_age,
        on_failure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn stream_defaults_and_every_setting() {
        let spec = parse(
            "F",
            "E",
            DYNAMODB_EVENT,
            &yaml("{Stream: arn:s, StartingPosition: LATEST}"),
        )
        .unwrap();
        assert_eq!(spec.batch_size, 100);
        assert_eq!(spec.batching_window, Duration::ZERO);
        assert!(spec.enabled && !spec.report_batch_item_failures && spec.filters.is_empty());
        let stream = spec.stream.unwrap();
        assert_eq!(stream.max_retries, None);
        assert_eq!(stream.max_record_age, None);

        let spec = parse(
            "F",
            "E",
            DYNAMODB_EVENT,
            &yaml(
                r#"
Stream: arn:s
StartingPosition: TRIM_HORIZON
BatchSize: "5"
MaximumBatchingWindowInSeconds: 2
FunctionResponseTypes: [ReportBatchItemFailures]
BisectBatchOnFunctionError: true
MaximumRetryAttempts: 2
MaximumRecordAgeInSeconds: 60
ParallelizationFactor: 2
DestinationConfig: { OnFailure: { Type: SQS, Destination: "arn:aws:sqs:us-east-1:1:q" } }
FilterCriteria: { Filters: [ { Pattern: '{"eventName": ["INSERT"]}' } ] }
"#,
            ),
        )
        .unwrap();
        assert_eq!(
            (spec.batch_size, spec.batching_window),
            (5, Duration::from_secs(2))
        );
        assert!(spec.report_batch_item_failures && !spec.filters.is_empty());
        assert_eq!(spec.ignored, ["ParallelizationFactor"]);
        let stream = spec.stream.unwrap();
        assert_eq!(stream.starting_position, StartingPosition::TrimHorizon);
        assert!(stream.bisect_on_error);
        assert_eq!(stream.max_retries, Some(2));
        assert_eq!(stream.max_record_age, Some(Duration::from_secs(60)));
        assert_eq!(stream.on_failure.as_deref(), Some("arn:aws:sqs:us-east-1:1:q"));
    }

    #[test]
    fn queue_defaults_and_limits() {
        let spec = parse("F", "E", SQS_EVENT, &yaml("{Queue: arn:q}")).unwrap();
        assert_eq!(spec.batch_size, 10);
        assert!(spec.stream.is_none());
        let disabled = parse("F", "E", SQS_EVENT, &yaml("{Queue: arn:q, Enabled: false}")).unwrap();
        assert!(!disabled.enabled);
        assert_eq!(spec.max_concurrency, QUEUE_POLLERS);
        let capped = parse(
            "F",
            "E",
            SQS_EVENT,
            &yaml("{Queue: arn:q, ScalingConfig: {MaximumConcurrency: 2}}"),
        )
        .unwrap();
        assert_eq!(capped.max_concurrency, 2);
        let wide = parse(
            "F",
            "E",
            SQS_EVENT,
            &yaml("{Queue: arn:q, ScalingConfig: {MaximumConcurrency: 50}}"),
        )
        .unwrap();
        assert_eq!(wide.max_concurrency, QUEUE_POLLERS);
        for (bad, says) in [
            ("{Queue: arn:q, BatchSize: 20}", "at least 1"),
            ("{Queue: arn:q, BisectBatchOnFunctionError: true}", "streams only"),
            ("{Queue: arn:q, FunctionResponseTypes: [Report]}", "unknown value"),
            ("{Queue: arn:q, BatchSzie: 5}", "unknown property BatchSzie"),
            ("{BatchSize: 5}", "Queue"),
            (
                "{Queue: arn:q, ScalingConfig: {MaximumConcurrency: 1}}",
                "2 to 1000",
            ),
        ] {
            let err = parse("F", "E", SQS_EVENT, &yaml(bad)).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn stream_limits() {
        for (bad, says) in [
            ("{Stream: s}", "StartingPosition"),
            (
                "{Stream: s, StartingPosition: AT_TIMESTAMP}",
                "TRIM_HORIZON or LATEST",
            ),
            (
                "{Stream: s, StartingPosition: LATEST, MaximumRetryAttempts: -2}",
                "-1 to 10000",
            ),
            (
                "{Stream: s, StartingPosition: LATEST, MaximumRecordAgeInSeconds: 10}",
                "60 to 604800",
            ),
            (
                "{Stream: s, StartingPosition: LATEST, BatchSize: 0}",
                "1 to 10000",
            ),
            (
                "{Stream: s, StartingPosition: LATEST, ScalingConfig: {MaximumConcurrency: 2}}",
                "SQS queues only",
            ),
            (
                "{Stream: s, StartingPosition: LATEST, DestinationConfig: {OnFailure: {Destination: arn:aws:s3:::b}}}",
                "SQS queue or SNS topic",
            ),
        ] {
            let err = parse("F", "E", DYNAMODB_EVENT, &yaml(bad)).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
