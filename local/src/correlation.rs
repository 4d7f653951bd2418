//! Correlation ids as the local stack reads them from events: the `x-correlation-id`
//! header of an HTTP request, the `correlation_id` field of a message body (also inside an
//! SNS envelope), or the `correlation_id` attribute of a stream record's item image.

use serde_json::Value;

/// The HTTP header the gateway passes through (or adds) and returns.
pub const HEADER: &str = "x-correlation-id";
/// The field of message bodies and items (see docs/DESIGN.md, "Message contracts").
pub const FIELD: &str = "correlation_id";

/// A fresh id for a request that came without one.
pub fn generate() -> String {
    ulid::Ulid::new().to_string()
}

/// From a message body: `correlation_id` at the top, or inside the `Message` of an SNS
/// envelope (SNS to SQS without raw delivery).
pub fn from_body(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    if let Some(id) = field(&value) {
        return Some(id);
    }
    let inner = value.get("Message")?.as_str()?;
    field(&serde_json::from_str(inner).ok()?)
}

/// From a stream record in Lambda's JSON form: the new image's `correlation_id`, else the
/// old image's (a REMOVE has only the old one).
pub fn from_stream_record(record: &Value) -> Option<String> {
    let change = record.get("dynamodb")?;
    ["NewImage", "OldImage"].iter().find_map(|image| {
        change
            .get(image)?
            .get(FIELD)?
            .get("S")?
            .as_str()
            .map(str::to_owned)
    })
}

fn field(value: &Value) -> Option<String> {
    value.get(FIELD)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_plain_and_in_sns_envelopes() {
        assert_eq!(from_body(r#"{"correlation_id":"c1"}"#).as_deref(), Some("c1"));
        let envelope = json!({"Type": "Notification", "Message": r#"{"correlation_id":"c2"}"#});
        assert_eq!(from_body(&envelope.to_string()).as_deref(), Some("c2"));
        assert_eq!(from_body("not json"), None);
        assert_eq!(from_body(r#"{"correlation_id": 7}"#), None);
    }

    #[test]
    fn stream_records_new_then_old_image() {
        let record = json!({"dynamodb": {"OldImage": {"correlation_id": {"S": "old"}}}});
        assert_eq!(from_stream_record(&record).as_deref(), Some("old"));
        let record = json!({"dynamodb": {
            "NewImage": {"correlation_id": {"S": "new"}},
            "OldImage": {"correlation_id": {"S": "old"}}
        }});
        assert_eq!(from_stream_record(&record).as_deref(), Some("new"));
        assert_eq!(from_stream_record(&json!({"dynamodb": {}})), None);
    }
}
