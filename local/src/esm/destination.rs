//! A stream mapping's on-failure destination (`DestinationConfig.OnFailure.Destination`):
//! when a batch is discarded (retries exhausted or records too old), Lambda sends a
//! description of it, not the records, to an SQS queue or SNS topic. The record has AWS's
//! shape: `requestContext`, `responseContext` (absent when the batch was never invoked),
//! `version`, `timestamp` and `DDBStreamBatchInfo`.

use aws_sdk_sns::Client as SnsClient;
use aws_sdk_sqs::Client as SqsClient;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};
use crate::provision::Provisioned;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// The discarded batch, as `DDBStreamBatchInfo` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchInfo {
    pub shard_id: String,
    pub stream_arn: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub first_arrival: OffsetDateTime,
    pub last_arrival: OffsetDateTime,
    pub batch_size: usize,
}

/// How the batch's last invocation ended; None when it was never invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastResponse {
    pub function_error: bool,
}

/// The invocation record Lambda sends for a discarded stream batch.
pub fn failure_record(
    function_arn: &str,
    condition: Condition,
    approximate_invoke_count: u32,
    last_response: Option<LastResponse>,
    info: &BatchInfo,
) -> Value {
    let mut record = json!({
        "requestContext": {
            "requestId": request_id(),
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": approximate_invoke_count,
        },
        "version": "1.0",
        "timestamp": timestamp(OffsetDateTime::now_utc(), true),
        "DDBStreamBatchInfo": {
            "shardId": info.shard_id,
            "startSequenceNumber": info.start_sequence_number,
            "endSequenceNumber": info.end_sequence_number,
            "approximateArrivalOfFirstRecord": timestamp(info.first_arrival, false),
            "approximateArrivalOfLastRecord": timestamp(info.last_arrival, false),
            "batchSize": info.batch_size,
            "streamArn": info.stream_arn,
        },
    });
    if let Some(last) = last_response {
        let mut context = json!({"statusCode": 200, "executedVersion": "$LATEST"});
        if last.function_error {
            context["functionError"] = json!("Unhandled");
        }
        record["responseContext"] = context;
    }
    record
}

/// Where failure records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    arn: String,
    queue_url: Option<String>,
}

impl Destination {
    /// Finds the queue (by the provisioned resources, else by name on the emulator) or
    /// takes the topic ARN as is.
    pub async fn resolve(arn: &str, provisioned: &Provisioned, sqs: &SqsClient) -> Result<Destination> {
        if arn.starts_with("arn:aws:sns:") {
            return Ok(Destination {
                arn: arn.to_owned(),
                queue_url: None,
            });
        }
        let url = match provisioned.resources().find(|r| r.arn.as_deref() == Some(arn)) {
            Some(resource) => resource.url.clone(),
            None => None,
        };
        let url = match url {
            Some(url) => url,
            None => queue_url(sqs, arn).await?,
        };
        Ok(Destination {
            arn: arn.to_owned(),
            queue_url: Some(url),
        })
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    pub async fn send(&self, sqs: &SqsClient, sns: &SnsClient, record: &Value) -> Result<(), String> {
        let body = record.to_string();
        match &self.queue_url {
            Some(url) => sqs
                .send_message()
                .queue_url(url)
                .message_body(body)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string()),
            None => sns
                .publish()
                .topic_arn(&self.arn)
                .message(body)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_sdk_sns::error::DisplayErrorContext(e).to_string()),
        }
    }
}

/// The URL of the queue an ARN names (`arn:aws:sqs:region:account:name`).
pub async fn queue_url(sqs: &SqsClient, arn: &str) -> Result<String> {
    let mut parts = arn.split(':');
    let (Some(account), Some(name)) = (parts.nth(4), parts.next()) else {
        return Err(Error::Template(format!("{arn} is not an SQS queue ARN")));
    };
    sqs.get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|e| Error::aws(format!("GetQueueUrl {arn}"), e))?
        .queue_url
        .ok_or_else(|| Error::Aws {
            action: format!("GetQueueUrl {arn}"),
            message: "no URL in the response".into(),
        })
}

/// A request id in UUID form, as Lambda's look.
fn request_id() -> String {
    let n = ulid::Ulid::new().0;
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `2019-11-14T00:13:19Z` (arrivals) or `2019-11-14T00:13:49.717Z` (the record's time).
fn timestamp(at: OffsetDateTime, millis: bool) -> String {
    let at = if millis {
        at.replace_nanosecond(at.millisecond() as u32 * 1_000_000)
    } else {
        at.replace_nanosecond(0)
    };
    at.ok().and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn info() -> BatchInfo {
        BatchInfo {
            shard_id: "shardId-1".into(),
            stream_arn: "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x".into(),
            start_sequence_number: "100".into(),
            end_sequence_number: "102".into(),
            first_arrival: datetime!(2026-11-21 10:00:01.250 UTC),
            last_arrival: datetime!(2026-11-21 10:00:02 UTC),
            batch_size: 3,
        }
    }

    #[test]
    fn the_record_has_aws_shape() {
        let record = failure_record(
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            Condition::RetryAttemptsExhausted,
            3,
            Some(LastResponse { function_error: true }),
            &info(),
        );
        assert_eq!(record["requestContext"]["condition"], "RetryAttemptsExhausted");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(record["requestContext"]["requestId"].as_str().unwrap().len(), 36);
        assert_eq!(record["responseContext"]["functionError"], "Unhandled");
        assert_eq!(record["version"], "1.0");
        let batch = &record["DDBStreamBatchInfo"];
        assert_eq!(batch["approximateArrivalOfFirstRecord"], "2026-11-21T10:00:01Z");
        assert_eq!(batch["startSequenceNumber"], "100");
        assert_eq!(batch["batchSize"], 3);
        assert!(record["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn no_response_context_without_an_invocation_and_no_function_error_on_partial() {
        let aged = failure_record("arn:f", Condition::RecordAgeExceeded, 0, None, &info());
        assert!(aged.get("responseContext").is_none());
        let partial = failure_record(
            "arn:f",
            Condition::RetryAttemptsExhausted,
            2,
            Some(LastResponse {
                function_error: false,
            }),
            &info(),
        );
        assert_eq!(partial["responseContext"]["statusCode"], 200);
        assert!(partial["responseContext"].get("functionError").is_none());
    }
}
