//! DynamoDB Streams records (as the SDK reads them from the emulator) turned into the
//! records Lambda delivers: `aws_lambda_events`' `EventRecord`, with the
//! `eventSourceARN` that the emulator leaves out.
//!
//! Two JSON forms are kept per record: AWS's own shape (no empty images), which filter
//! patterns and correlation ids are read from, and the typed record the function gets.

use std::collections::HashMap;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// One stream record, ready for filtering and invoking.
#[derive(Debug, Clone)]
pub struct StreamItem {
    pub record: EventRecord,
    /// The record as AWS would send it.
    pub shape: Value,
    pub sequence: String,
    pub arrival: OffsetDateTime,
}

impl StreamItem {
    pub fn from_sdk(record: &Record, stream_arn: &str) -> Result<StreamItem, String> {
        let shape = shape(record, stream_arn)?;
        let typed: EventRecord = serde_json::from_value(shape.clone())
            .map_err(|e| format!("the stream record does not fit Lambda's event type: {e}"))?;
        let change = record
            .dynamodb()
            .ok_or("the stream record has no dynamodb part")?;
        let sequence = change
            .sequence_number()
            .ok_or("the stream record has no SequenceNumber")?
            .to_owned();
        let arrival = change
            .approximate_creation_date_time()
            .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).ok())
            .unwrap_or_else(OffsetDateTime::now_utc);
        Ok(StreamItem {
            record: typed,
            shape,
            sequence,
            arrival,
        })
    }

    pub fn correlation_id(&self) -> Option<String> {
        crate::correlation::from_stream_record(&self.shape)
    }
}

/// The record in the JSON form Lambda uses (`eventID`, `dynamodb.NewImage`, ...).
fn shape(record: &Record, stream_arn: &str) -> Result<Value, String> {
    let change = record
        .dynamodb()
        .ok_or("the stream record has no dynamodb part")?;
    let mut dynamodb = Map::new();
    if let Some(at) = change.approximate_creation_date_time() {
        // Lambda sends epoch seconds as a number.
        dynamodb.insert("ApproximateCreationDateTime".into(), json!(at.as_secs_f64()));
    }
    for (name, image) in [
        ("Keys", change.keys()),
        ("NewImage", change.new_image()),
        ("OldImage", change.old_image()),
    ] {
        if let Some(image) = image {
            dynamodb.insert(name.into(), item(image));
        }
    }
    if let Some(sequence) = change.sequence_number() {
        dynamodb.insert("SequenceNumber".into(), json!(sequence));
    }
    dynamodb.insert("SizeBytes".into(), json!(change.size_bytes().unwrap_or(0)));
    if let Some(view) = change.stream_view_type() {
        dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
    }
    let mut shape = json!({
        "eventID": record.event_id().unwrap_or_default(),
        "eventName": record.event_name().map(|n| n.as_str()).unwrap_or_default(),
        "eventVersion": record.event_version().unwrap_or("1.1"),
        "eventSource": record.event_source().unwrap_or("aws:dynamodb"),
        "awsRegion": record.aws_region().unwrap_or(crate::emulator::REGION),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    });
    if let Some(identity) = record.user_identity() {
        shape["userIdentity"] = json!({
            "type": identity.r#type().unwrap_or_default(),
            "principalId": identity.principal_id().unwrap_or_default(),
        });
    }
    Ok(shape)
}

fn item(attributes: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        attributes
            .iter()
            .map(|(name, value)| (name.clone(), attribute(value)))
            .collect(),
    )
}

/// DynamoDB's JSON for one attribute value (`{"S": "x"}`, binary as base64).
fn attribute(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": STANDARD.encode(b.as_ref()) }),
        AttributeValue::Ss(items) => json!({ "SS": items }),
        AttributeValue::Ns(items) => json!({ "NS": items }),
        AttributeValue::Bs(items) => {
            json!({ "BS": items.iter().map(|b| STANDARD.encode(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::M(map) => json!({ "M": item(map) }),
        AttributeValue::L(items) => json!({ "L": items.iter().map(attribute).collect::<Vec<_>>() }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        // A type newer than this SDK: keep the record, mark the value.
        _ => json!({ "NULL": true }),
    }
}

/// The table name in a stream ARN (`arn:aws:dynamodb:r:a:table/NAME/stream/LABEL`).
pub fn table_of(stream_arn: &str) -> &str {
    stream_arn
        .split_once(":table/")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .unwrap_or(stream_arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::primitives::{Blob, DateTime};
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord, StreamViewType};

    const ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Races/stream/2026-11-21T00:00:00.000";

    fn sdk_record() -> Record {
        let change = StreamRecord::builder()
            .approximate_creation_date_time(DateTime::from_secs_f64(1_795_305_000.5))
            .keys("pk", AttributeValue::S("RESULT#1".into()))
            .new_image("pk", AttributeValue::S("RESULT#1".into()))
            .new_image("points", AttributeValue::N("100".into()))
            .new_image("blob", AttributeValue::B(Blob::new(b"hi".to_vec())))
            .new_image("tags", AttributeValue::L(vec![AttributeValue::Bool(true)]))
            .new_image("correlation_id", AttributeValue::S("cid-7".into()))
            .sequence_number("1100000000017454423009")
            .size_bytes(99)
            .stream_view_type(StreamViewType::NewAndOldImages)
            .build();
        Record::builder()
            .event_id("e1")
            .event_name(OperationType::Insert)
            .event_source("aws:dynamodb")
            .event_version("1.0")
            .aws_region("us-east-1")
            .dynamodb(change)
            .build()
    }

    #[test]
    fn becomes_a_lambda_record_with_its_source_arn() {
        let item = StreamItem::from_sdk(&sdk_record(), ARN).unwrap();
        assert_eq!(item.sequence, "1100000000017454423009");
        assert_eq!(item.record.event_source_arn.as_deref(), Some(ARN));
        assert_eq!(item.record.event_name, "INSERT");
        assert_eq!(item.correlation_id().as_deref(), Some("cid-7"));
        assert_eq!(item.arrival.unix_timestamp(), 1_795_305_000);
        assert_eq!(item.shape["dynamodb"]["NewImage"]["blob"]["B"], "aGk=");
        assert_eq!(item.shape["dynamodb"]["NewImage"]["points"]["N"], "100");
        assert!(
            item.shape["dynamodb"].get("OldImage").is_none(),
            "AWS leaves out absent images"
        );
        let sent = serde_json::to_value(&item.record).unwrap();
        assert_eq!(sent["eventSourceARN"], ARN);
        assert_eq!(sent["dynamodb"]["NewImage"]["tags"]["L"][0]["BOOL"], true);
        // The typed record sends whole epoch seconds, as Lambda does.
        assert_eq!(
            sent["dynamodb"]["ApproximateCreationDateTime"].as_f64(),
            Some(1_795_305_000.0)
        );
    }

    #[test]
    fn table_names_from_stream_arns() {
        assert_eq!(table_of(ARN), "Races");
        assert_eq!(table_of("nonsense"), "nonsense");
    }
}
