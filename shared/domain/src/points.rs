//! Points: what each official result contributes to its runner's total. point-increase
//! writes awards; record-api reads them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::marathon::MarathonId;

/// One result's contribution as last applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Award {
    pub result_id: String,
    pub marathon_id: MarathonId,
    pub points: u32,
    /// The result version this award reflects.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointsSummary {
    pub total: i64,
    pub history: Vec<Award>,
}
