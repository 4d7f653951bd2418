//! Private training and race records: a runner's own notes, visible to nobody else.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::marathon::parse_date;
use crate::result::FinishTime;
use crate::user::UserId;
use crate::validation::{FieldError, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Training,
    Race,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub runner_id: UserId,
    pub kind: RecordKind,
    pub date: Date,
    pub distance_m: u32,
    pub duration_seconds: u32,
    pub notes: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct RecordInput {
    pub kind: Option<String>,
    pub date: Option<String>,
    pub distance_m: Option<i64>,
    pub duration: Option<serde_json::Value>,
    pub notes: Option<String>,
}

pub const MAX_NOTES: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub struct RecordFields {
    pub kind: RecordKind,
    pub date: Date,
    pub distance_m: u32,
    pub duration_seconds: u32,
    pub notes: String,
}

impl RecordFields {
    /// Validates a full input (create), or `input` over `base` (a patch).
    pub fn from_input(input: RecordInput, base: Option<&Record>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let kind = match (input.kind, base) {
            (Some(k), _) => errors.check(match k.as_str() {
                "training" => Ok(RecordKind::Training),
                "race" => Ok(RecordKind::Race),
                _ => Err(FieldError::new("kind", "must be \"training\" or \"race\"")),
            }),
            (None, Some(b)) => Some(b.kind),
            (None, None) => errors.require("kind", None),
        };
        let date = match (input.date, base) {
            (Some(d), _) => errors.check(parse_date("date", &d)),
            (None, Some(b)) => Some(b.date),
            (None, None) => errors.require("date", None),
        };
        let distance = match (input.distance_m, base) {
            (Some(d), _) if (1..=1_000_000).contains(&d) => Some(d as u32),
            (Some(_), _) => errors.check(Err(FieldError::new(
                "distance_m",
                "must be between 1 and 1000000",
            ))),
            (None, Some(b)) => Some(b.distance_m),
            (None, None) => errors.require("distance_m", None),
        };
        let duration = match (input.duration, base) {
            (Some(d), _) => errors
                .check(FinishTime::parse(&d).map_err(|e| FieldError::new("duration", e.message)))
                .map(FinishTime::seconds),
            (None, Some(b)) => Some(b.duration_seconds),
            (None, None) => errors.require("duration", None),
        };
        let notes = match (input.notes, base) {
            (Some(n), _) if n.chars().count() > MAX_NOTES => {
                errors.check(Err(FieldError::new("notes", "must be at most 2000 characters")))
            }
            (Some(n), _) => Some(n.trim().to_owned()),
            (None, Some(b)) => Some(b.notes.clone()),
            (None, None) => Some(String::new()),
        };
        match (kind, date, distance, duration, notes) {
            (Some(kind), Some(date), Some(distance_m), Some(duration_seconds), Some(notes))
                if errors.0.is_empty() =>
            {
                Ok(Self {
                    kind,
                    date,
                    distance_m,
                    duration_seconds,
                    notes,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_needs_kind_date_distance_and_duration() {
        let errors = RecordFields::from_input(RecordInput::default(), None).unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "date", "distance_m", "duration"]);
    }

    #[test]
    fn a_valid_record() {
        let input = RecordInput {
            kind: Some("training".into()),
            date: Some("2026-11-20".into()),
            distance_m: Some(12_000),
            duration: Some(json!("1:02:03")),
            notes: Some(" tempo ".into()),
        };
        let fields = RecordFields::from_input(input, None).unwrap();
        assert_eq!((fields.duration_seconds, fields.notes.as_str()), (3723, "tempo"));
    }
}
