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

/// What applying a result's target contribution at `version` does to a stored award.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwardChange {
    /// Set the award to the target and add `delta` to the total (delta may be 0: the
    /// version still moves forward).
    Apply { delta: i64 },
    /// The stored award already reflects this version or a newer one: no effect.
    Stale,
}

/// Points semantics: awards only move forward in version; the total moves by the
/// difference. Duplicates, redeliveries and out-of-order deliveries therefore change nothing.
pub fn award_change(stored: Option<(u32, u64)>, target: u32, version: u64) -> AwardChange {
    match stored {
        Some((_, stored_version)) if stored_version >= version => AwardChange::Stale,
        Some((points, _)) => AwardChange::Apply {
            delta: i64::from(target) - i64::from(points),
        },
        None => AwardChange::Apply {
            delta: i64::from(target),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_award_adds_its_points() {
        assert_eq!(award_change(None, 100, 1), AwardChange::Apply { delta: 100 });
    }

    #[test]
    fn a_correction_applies_the_difference() {
        assert_eq!(
            award_change(Some((100, 1)), 110, 2),
            AwardChange::Apply { delta: 10 }
        );
        assert_eq!(
            award_change(Some((110, 2)), 100, 3),
            AwardChange::Apply { delta: -10 }
        );
        assert_eq!(
            award_change(Some((110, 3)), 0, 4),
            AwardChange::Apply { delta: -110 }
        );
    }

    #[test]
    fn duplicates_and_stale_versions_change_nothing() {
        assert_eq!(award_change(Some((100, 2)), 100, 2), AwardChange::Stale);
        assert_eq!(award_change(Some((100, 5)), 70, 4), AwardChange::Stale);
    }
}
