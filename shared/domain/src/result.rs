//! Official results: entered by the owning organizer for a registered runner. Each change
//! bumps `version`; the points pipeline applies a result's contribution at its version.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::marathon::{MarathonId, MarathonLabel};
use crate::user::{UserId, UserName};
use crate::validation::FieldError;

/// A finish time in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FinishTime(u32);

impl FinishTime {
    /// Nobody runs anything for more than four days.
    pub const MAX_SECONDS: u32 = 4 * 24 * 3600;

    /// The HTTP form: "H:MM:SS" (also "HH:MM:SS") or a whole number of seconds. Stricter
    /// than `parse_str` (no fractions, no seconds as text), as the OpenAPI pattern says.
    pub fn parse(value: &serde_json::Value) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("finish_time", "must be \"H:MM:SS\" or a number of seconds");
        match value {
            serde_json::Value::Number(n) => {
                let seconds = n.as_u64().ok_or_else(invalid)?;
                Self::in_range("finish_time", seconds)
            }
            serde_json::Value::String(s) if s.contains(':') && !s.contains(['.', ',']) => {
                Self::in_range("finish_time", Self::seconds_of(s).ok_or_else(invalid)?)
            }
            _ => Err(invalid()),
        }
    }

    /// The form timing systems write: "H:MM:SS" or "HH:MM:SS" with an optional fraction
    /// ("2:58:07.3", "02:58:07,31"), or a bare number of seconds ("10687", "10687.2").
    /// A fraction rounds UP to the next whole second, the road-race rule (World Athletics
    /// TR 19: times not ending in zero are rounded to the next longer whole second).
    /// Errors name the field "finish_time"; `parse_field` names another.
    pub fn parse_str(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field("finish_time", raw)
    }

    /// `parse_str`, naming `field` in its error.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                field,
                "must be \"H:MM:SS\" (optionally with a fraction) or a number of seconds",
            )
        };
        Self::in_range(field, Self::seconds_of(raw).ok_or_else(invalid)?)
    }

    /// The seconds `parse_str` reads, fraction rounded up; None for a malformed value.
    fn seconds_of(raw: &str) -> Option<u64> {
        let raw = raw.trim();
        // whole part and fraction: "." or "," as the decimal separator
        let (whole, fraction) = match raw.split_once(['.', ',']) {
            Some((w, f)) => (w, Some(f)),
            None => (raw, None),
        };
        let round_up = match fraction {
            None => 0,
            Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                u64::from(f.bytes().any(|b| b != b'0'))
            }
            Some(_) => return None,
        };
        let digits = |p: &str, max: u64, len: std::ops::RangeInclusive<usize>| {
            (len.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
                .filter(|v| *v <= max)
        };
        let parts: Vec<&str> = whole.split(':').collect();
        let seconds = match parts.as_slice() {
            [h, m, sec] => {
                digits(h, 96, 1..=2)? * 3600 + digits(m, 59, 2..=2)? * 60 + digits(sec, 59, 2..=2)?
            }
            [sec] => digits(sec, u64::MAX, 1..=9)?,
            _ => return None,
        };
        Some(seconds + round_up)
    }

    fn in_range(field: &str, seconds: u64) -> Result<Self, FieldError> {
        if seconds == 0 || seconds > u64::from(Self::MAX_SECONDS) {
            return Err(FieldError::new(field, "must be between 1 second and 96 hours"));
        }
        Ok(Self(seconds as u32))
    }

    pub fn from_seconds(seconds: u32) -> Self {
        Self(seconds)
    }

    pub fn seconds(self) -> u32 {
        self.0
    }

    pub fn display(self) -> String {
        format!("{}:{:02}:{:02}", self.0 / 3600, self.0 / 60 % 60, self.0 % 60)
    }
}

pub const MAX_BONUS: i64 = 10_000;

pub fn parse_bonus(value: Option<i64>) -> Result<u32, FieldError> {
    match value {
        None => Ok(0),
        Some(v) if (0..=MAX_BONUS).contains(&v) => Ok(v as u32),
        Some(_) => Err(FieldError::new("bonus_points", "must be between 0 and 10000")),
    }
}

/// The id the points pipeline keys awards on: one per (marathon, runner).
pub fn result_id(marathon: &MarathonId, runner: &UserId) -> String {
    format!("{marathon}.{runner}")
}

/// The version a changed result gets: above `stored` (the current version, or the
/// tombstone's a deleted result left), so a result deleted and entered again outranks every
/// award the points pipeline applied for its earlier life whatever the clock says; and never
/// below the clock in milliseconds (results deleted before tombstones existed have none).
pub fn next_version(stored: Option<u64>, now: OffsetDateTime) -> u64 {
    let clock = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    stored.map_or(0, |v| v + 1).max(clock)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfficialResult {
    pub marathon_id: MarathonId,
    /// Copied from the marathon so "my results" reads without a join; listings put the
    /// current name and date back (`MarathonLabel`).
    pub marathon_name: String,
    pub marathon_date: Date,
    pub runner_id: UserId,
    pub runner_name: UserName,
    pub finish_seconds: u32,
    pub finish_time: String,
    pub bonus_points: u32,
    /// What this result contributes to the runner's total: marathon points + bonus.
    pub points: u32,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The request that made this version, carried on to the events it causes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The bulk import that wrote this version (None for a single PUT): its awards are
    /// announced by one summary per import, not one Discord post each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
}

impl MarathonLabel for OfficialResult {
    fn marathon_id(&self) -> &MarathonId {
        &self.marathon_id
    }

    fn relabel(&mut self, name: &str, date: Date) {
        name.clone_into(&mut self.marathon_name);
        self.marathon_date = date;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finish_times_parse_both_forms() {
        assert_eq!(
            FinishTime::parse(&json!("2:58:07")).unwrap().seconds(),
            2 * 3600 + 58 * 60 + 7
        );
        assert_eq!(FinishTime::parse(&json!("02:58:07")).unwrap().seconds(), 10687);
        assert_eq!(FinishTime::parse(&json!(10687)).unwrap().display(), "2:58:07");
    }

    #[test]
    fn malformed_finish_times_are_refused() {
        for bad in [
            json!("2:5:07"),
            json!("2:60:00"),
            json!("abc"),
            json!("1:00"),
            json!(0),
            json!(-3),
            json!(1.5),
            json!(null),
            json!("97:00:00"),
        ] {
            assert!(FinishTime::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timing_system_times_round_up_to_the_next_second() {
        let secs = |raw: &str| FinishTime::parse_str(raw).map(FinishTime::seconds);
        assert_eq!(secs("2:58:07"), Ok(10687));
        assert_eq!(secs("02:58:07.3"), Ok(10688));
        assert_eq!(secs("02:58:07,31"), Ok(10688));
        assert_eq!(secs("2:58:07.000"), Ok(10687), "an exact second stays");
        assert_eq!(secs(" 10687 "), Ok(10687));
        assert_eq!(secs("10687.01"), Ok(10688));
        assert_eq!(secs("95:59:59.9"), Ok(FinishTime::MAX_SECONDS));
        for bad in [
            "96:00:00.1",
            "2:58:07.",
            "2:58:07.x",
            "2:58",
            "",
            "0",
            "0.0",
            "-5",
            "1e3",
            "2:58:07.3.1",
        ] {
            assert!(FinishTime::parse_str(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            FinishTime::parse_field("chip_time", "x").unwrap_err().field,
            "chip_time"
        );
    }

    #[test]
    fn the_http_form_stays_whole_seconds() {
        for bad in [json!("2:58:07.3"), json!("10687")] {
            assert!(FinishTime::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_only_grow_even_across_a_delete() {
        let t0 = time::macros::datetime!(2026-11-21 10:00 UTC);
        let first = next_version(None, t0);
        let second = next_version(Some(first), t0);
        assert!(second > first);
        // deleted, then entered again later: no stored version, still newer
        let again = next_version(None, t0 + time::Duration::seconds(1));
        assert!(again > second);
    }

    #[test]
    fn a_result_entered_again_outranks_its_tombstone_with_a_clock_behind() {
        let t0 = time::macros::datetime!(2026-11-21 10:00 UTC);
        let first = next_version(None, t0);
        // deleted: the removal is first + 1, kept in the tombstone
        let tombstone = first + 1;
        // entered again on a container whose clock is an hour behind
        let again = next_version(Some(tombstone), t0 - time::Duration::hours(1));
        assert!(again > tombstone, "{again} <= {tombstone}");
        // without the tombstone the clock alone would have gone backwards
        assert!(next_version(None, t0 - time::Duration::hours(1)) < first);
    }

    #[test]
    fn bonus_is_optional_and_bounded() {
        assert_eq!(parse_bonus(None).unwrap(), 0);
        assert_eq!(parse_bonus(Some(25)).unwrap(), 25);
        assert!(parse_bonus(Some(-1)).is_err());
        assert!(parse_bonus(Some(10_001)).is_err());
    }
}
