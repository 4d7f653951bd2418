//! Poison stream records are parked, not retried. The stream mappings retry a failed
//! record for hours (template.yaml: an outage must not exhaust them), so a record that can
//! never succeed (undecodable, invalid, refused by SNS for what it is) would hold its shard
//! for those hours. The function instead sends a pointer to it to the mapping's on-failure
//! queue itself and reports the record as done: the shard moves on at once, the queue's
//! alarm fires, and `make replay` sends the record through the function again once the
//! cause is fixed.
//!
//! The pointer has the shape Lambda gives a discarded batch (`requestContext`,
//! `DDBStreamBatchInfo` with a one-record sequence range), with `condition`
//! `PoisonRecord` and a `poison` object saying why and which item. A stream record does
//! not name its shard: `shardId` is left out, and the replay finds the shard from the
//! sequence number.

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `requestContext.condition` of a parked record.
pub const POISON_CONDITION: &str = "PoisonRecord";

/// Where poison records go.
#[async_trait]
pub trait PoisonSink: Send + Sync {
    /// Parks one record; an error means it was not parked (the caller reports the
    /// record as failed, so the stream keeps it).
    async fn park(&self, record: &EventRecord, reason: &str) -> Result<(), String>;
}

/// The on-failure queue (an SQS queue URL from the environment), as the function's role
/// may already send to it: Lambda's own on-failure delivery uses that permission too.
#[derive(Clone, Debug)]
pub struct PoisonQueue {
    sqs: Sqs,
    queue_url: String,
    /// Who parked it: the replay on AWS invokes this function again.
    function: String,
}

/// The SQS client, or what to build it from when first needed.
#[derive(Clone, Debug)]
enum Sqs {
    Client(aws_sdk_sqs::Client),
    OnDemand(
        Box<aws_config::SdkConfig>,
        std::sync::Arc<std::sync::OnceLock<aws_sdk_sqs::Client>>,
    ),
}

impl Sqs {
    fn client(&self) -> &aws_sdk_sqs::Client {
        match self {
            Sqs::Client(client) => client,
            Sqs::OnDemand(sdk, client) => client.get_or_init(|| aws_sdk_sqs::Client::new(sdk)),
        }
    }
}

impl PoisonQueue {
    /// `function`: the function's name or ARN (Lambda's AWS_LAMBDA_FUNCTION_NAME).
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>, function: impl Into<String>) -> Self {
        Self {
            sqs: Sqs::Client(sqs),
            queue_url: queue_url.into(),
            function: function.into(),
        }
    }

    /// The same, with its SQS client built at the first record parked rather than at cold
    /// start: most containers never park one, and a client costs init CPU (BENCHMARKS.md).
    pub fn on_demand(
        sdk: &aws_config::SdkConfig,
        queue_url: impl Into<String>,
        function: impl Into<String>,
    ) -> Self {
        Self {
            sqs: Sqs::OnDemand(Box::new(sdk.clone()), Default::default()),
            queue_url: queue_url.into(),
            function: function.into(),
        }
    }
}

#[async_trait]
impl PoisonSink for PoisonQueue {
    async fn park(&self, record: &EventRecord, reason: &str) -> Result<(), String> {
        let body = pointer(&self.function, record, reason, OffsetDateTime::now_utc())?;
        self.sqs
            .client()
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "SendMessage to the failure queue: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })?;
        tracing::error!(
            sequence_number = record.change.sequence_number.as_deref().unwrap_or("-"),
            %reason,
            "poison stream record parked on the failure queue (make replay sends it again)"
        );
        Ok(())
    }
}

/// The parked record's pointer. Fails only for a record without a sequence number (then
/// nothing could find it again: the caller fails the invocation instead).
pub fn pointer(
    function: &str,
    record: &EventRecord,
    reason: &str,
    now: OffsetDateTime,
) -> Result<Value, String> {
    let sequence = record
        .change
        .sequence_number
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("stream record {} has no sequence number", record.event_id))?;
    let arrival =
        OffsetDateTime::from_unix_timestamp(record.change.approximate_creation_date_time.timestamp())
            .unwrap_or(now)
            .format(&Rfc3339)
            .unwrap_or_default();
    Ok(json!({
        "requestContext": {
            "requestId": ulid::Ulid::new().to_string(),
            "functionArn": function,
            "condition": POISON_CONDITION,
            "approximateInvokeCount": 1,
        },
        "version": "1.0",
        "timestamp": now.format(&Rfc3339).unwrap_or_default(),
        "DDBStreamBatchInfo": {
            "startSequenceNumber": sequence,
            "endSequenceNumber": sequence,
            "approximateArrivalOfFirstRecord": arrival,
            "approximateArrivalOfLastRecord": arrival,
            "batchSize": 1,
            "streamArn": record.event_source_arn.as_deref().unwrap_or_default(),
        },
        "poison": {
            "reason": reason,
            "eventName": record.event_name,
            "keys": serde_json::to_value(&record.change.keys).unwrap_or(Value::Null),
        },
    }))
}

/// A sink that keeps what it is given, for tests; `fail` makes every park fail.
#[derive(Default, Debug)]
pub struct MemoryPoison {
    parked: std::sync::Mutex<Vec<(String, String)>>,
    pub fail: std::sync::atomic::AtomicBool,
}

impl MemoryPoison {
    /// (sequence number, reason) of every parked record.
    pub fn parked(&self) -> Vec<(String, String)> {
        self.parked.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl PoisonSink for MemoryPoison {
    async fn park(&self, record: &EventRecord, reason: &str) -> Result<(), String> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("the failure queue is unavailable".into());
        }
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        if let Ok(mut parked) = self.parked.lock() {
            parked.push((sequence, reason.to_owned()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pointer_has_lambdas_shape_with_one_record_and_why() {
        let record: EventRecord = serde_json::from_value(json!({
            "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1795255200.0,
                "Keys": {"pk": {"S": "MARATHON#m"}, "sk": {"S": "RESULT#r"}},
                "SequenceNumber": "4200", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"
            },
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/races/stream/x"
        }))
        .unwrap();
        let value = pointer("f", &record, "undecodable", OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!(value["requestContext"]["condition"], POISON_CONDITION);
        assert_eq!(value["requestContext"]["functionArn"], "f");
        let info = &value["DDBStreamBatchInfo"];
        assert_eq!(
            (
                info["startSequenceNumber"].as_str(),
                info["endSequenceNumber"].as_str()
            ),
            (Some("4200"), Some("4200"))
        );
        assert_eq!(
            info["streamArn"],
            "arn:aws:dynamodb:us-east-1:1:table/races/stream/x"
        );
        assert!(info.get("shardId").is_none());
        assert_eq!(value["poison"]["reason"], "undecodable");
        assert_eq!(value["poison"]["keys"]["sk"]["S"], "RESULT#r");

        let mut unnamed = record.clone();
        unnamed.change.sequence_number = None;
        assert!(pointer("f", &unnamed, "x", OffsetDateTime::UNIX_EPOCH).is_err());
    }
}
