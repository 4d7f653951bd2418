//! Message contracts: one versioned envelope for every SNS/SQS body, one Rust type per
//! contract, used by producer and consumer alike.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::marathon::MarathonId;
use crate::user::UserId;

/// The envelope's schema version; a consumer refuses any other.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub schema: u32,
    /// Unique per event; redeliveries keep it, re-publishes do not. Idempotency keys on
    /// the domain (result id + version), never on this.
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Starts at the HTTP request and travels through every hop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    #[serde(rename = "result.recorded")]
    ResultRecorded(ResultChange),
    #[serde(rename = "result.corrected")]
    ResultCorrected(ResultChange),
    #[serde(rename = "result.removed")]
    ResultRemoved(ResultChange),
    #[serde(rename = "points.awarded")]
    PointsAwarded(PointsAwarded),
}

/// An official result's new target contribution at a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultChange {
    pub result_id: String,
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    pub runner_id: UserId,
    pub runner_name: String,
    /// Marathon points + bonus; 0 once removed.
    pub points: u32,
    pub version: u64,
}

/// A runner's total changed because a result's contribution changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsAwarded {
    pub runner_id: UserId,
    pub runner_name: String,
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    pub result_id: String,
    pub delta: i64,
    pub total: i64,
    pub result_version: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContractError {
    #[error("not an event envelope: {0}")]
    Malformed(String),
    #[error("unsupported schema {0}")]
    Schema(u32),
}

impl Envelope {
    pub fn new(event: Event, occurred_at: OffsetDateTime, correlation_id: Option<String>) -> Self {
        Self {
            schema: SCHEMA,
            id: ulid::Ulid::new().to_string(),
            occurred_at,
            correlation_id,
            event,
        }
    }

    /// The `type`, also sent as an SNS message attribute for filter policies.
    pub fn kind(&self) -> &'static str {
        match self.event {
            Event::ResultRecorded(_) => "result.recorded",
            Event::ResultCorrected(_) => "result.corrected",
            Event::ResultRemoved(_) => "result.removed",
            Event::PointsAwarded(_) => "points.awarded",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("envelopes always serialize")
    }

    /// Parses a message body; an unknown type or schema is a permanent failure.
    pub fn parse(body: &str) -> Result<Self, ContractError> {
        let envelope: Self =
            serde_json::from_str(body).map_err(|e| ContractError::Malformed(e.to_string()))?;
        if envelope.schema != SCHEMA {
            return Err(ContractError::Schema(envelope.schema));
        }
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn change() -> ResultChange {
        ResultChange {
            result_id: "m.r".into(),
            marathon_id: MarathonId::generate(),
            marathon_name: "Seoul".into(),
            runner_id: UserId::generate(),
            runner_name: "Kim".into(),
            points: 110,
            version: 3,
        }
    }

    #[test]
    fn the_wire_form_is_the_documented_envelope() {
        let envelope = Envelope::new(
            Event::ResultRecorded(change()),
            datetime!(2026-11-21 10:00 UTC),
            Some("c-1".into()),
        );
        let json: serde_json::Value = serde_json::from_str(&envelope.to_json()).unwrap();
        assert_eq!(json["type"], "result.recorded");
        assert_eq!(json["schema"], 1);
        assert_eq!(json["occurred_at"], "2026-11-21T10:00:00Z");
        assert_eq!(json["correlation_id"], "c-1");
        assert_eq!(json["data"]["points"], 110);
        assert_eq!(Envelope::parse(&envelope.to_json()).unwrap(), envelope);
        assert_eq!(envelope.kind(), "result.recorded");
    }

    #[test]
    fn unknown_types_schemas_and_garbage_are_refused() {
        let mut json: serde_json::Value = serde_json::from_str(
            &Envelope::new(Event::ResultRemoved(change()), OffsetDateTime::UNIX_EPOCH, None).to_json(),
        )
        .unwrap();
        json["type"] = "result.exploded".into();
        assert!(matches!(
            Envelope::parse(&json.to_string()),
            Err(ContractError::Malformed(_))
        ));
        json["type"] = "result.removed".into();
        json["schema"] = 2.into();
        assert_eq!(Envelope::parse(&json.to_string()), Err(ContractError::Schema(2)));
        assert!(Envelope::parse("not json").is_err());
        assert!(Envelope::parse("{}").is_err());
    }
}
