//! Official results: entered by the owning organizer for a registered runner. Each change
//! bumps `version`; the points pipeline applies a result's contribution at its version.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::marathon::{Marathon, MarathonId, MarathonLabel};
use crate::race::{Bib, Category, ResultFields, ResultStatus, Splits, result_points};
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
    /// The chip time in seconds (the field's name predates gun times); None when the
    /// result has none (dnf, dns, a dq without times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_seconds: Option<u32>,
    /// The chip time as "H:MM:SS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<String>,
    pub bonus_points: u32,
    /// What this result contributes to the runner's total (`race::result_points`).
    pub points: u32,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The request that made this version, carried on to the events it causes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Results stored before statuses existed are finishes.
    #[serde(default)]
    pub status: ResultStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gun_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Splits::is_empty")]
    pub splits: Splits,
    /// The runner's bib when the result was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib: Option<Bib>,
    /// The runner's category on race day, from their race profile when the result was
    /// written (only the label: sex and birth date stay private).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The bulk import that wrote this version; None for a single PUT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
    /// The chip time's age-graded percentage in hundredths (`race::age_grade`), from the
    /// runner's profile when the result was written; None when it cannot be graded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_grade: Option<u32>,
}

/// Who a result is for, as the marathon's roster knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRunner {
    pub id: UserId,
    pub name: UserName,
    pub bib: Option<Bib>,
    pub category: Option<Category>,
}

impl OfficialResult {
    /// The result `fields` and `bonus` make for `runner` in `marathon`, as a new version of
    /// `existing` (if any) numbered above `floor` (`next_version`). Points follow the
    /// policy in `race::result_points`.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        marathon: &Marathon,
        runner: ResultRunner,
        fields: ResultFields,
        bonus: u32,
        existing: Option<&OfficialResult>,
        floor: Option<u64>,
        now: OffsetDateTime,
        correlation_id: Option<String>,
    ) -> Self {
        Self {
            marathon_id: marathon.id.clone(),
            marathon_name: marathon.name.clone(),
            marathon_date: marathon.date,
            runner_id: runner.id,
            runner_name: runner.name,
            finish_seconds: fields.chip.map(FinishTime::seconds),
            finish_time: fields.chip.map(FinishTime::display),
            bonus_points: bonus,
            points: result_points(fields.status, marathon.points, marathon.dnf_points, bonus),
            version: next_version(floor, now),
            recorded_at: existing.map_or(now, |r| r.recorded_at),
            updated_at: now,
            correlation_id,
            status: fields.status,
            gun_seconds: fields.gun.map(FinishTime::seconds),
            splits: fields.splits,
            bib: runner.bib,
            category: runner.category,
            import_id: None,
            age_grade: None,
        }
    }

    /// With the age-graded percentage of its chip time over `distance_m`, for the runner
    /// `profile` describes (their age on race day).
    pub fn with_age_grade(mut self, profile: &crate::race::RaceProfile, distance_m: u32) -> Self {
        self.age_grade = match (self.status, self.finish_seconds, profile.sex, profile.birth) {
            (ResultStatus::Finished, Some(chip), Some(sex), Some(birth)) => crate::race::age_grade(
                FinishTime::from_seconds(chip),
                distance_m,
                sex,
                birth.age_on(self.marathon_date),
            ),
            _ => None,
        };
        self
    }

    /// Where this result sits in its marathon's ranking (the order every ranking read
    /// follows, and the DynamoDB adapter's gsi3 sort key): finishers by chip time, six
    /// digits holding `FinishTime::MAX_SECONDS` so text order is time order (the form every
    /// result had before statuses), then the results without a rank behind them (digits
    /// sort before letters): DNF, DNS, DQ, each by runner id.
    pub fn rank_position(&self) -> String {
        match (self.status, self.finish_seconds) {
            (ResultStatus::Finished, Some(seconds)) => format!("{seconds:06}#{}", self.runner_id),
            (ResultStatus::Finished, None) | (ResultStatus::Dnf, _) => format!("DNF#{}", self.runner_id),
            (ResultStatus::Dns, _) => format!("DNS#{}", self.runner_id),
            (ResultStatus::Dq, _) => format!("DQ#{}", self.runner_id),
        }
    }

    /// The status and times as validated fields.
    pub fn fields(&self) -> ResultFields {
        ResultFields {
            status: self.status,
            chip: self.finish_seconds.map(FinishTime::from_seconds),
            gun: self.gun_seconds.map(FinishTime::from_seconds),
            splits: self.splits.clone(),
        }
    }

    /// Whether `other` says the same as this result (status, times, bonus, points, bib,
    /// category): writing it would change nothing, so nothing is written or announced.
    pub fn same_content(&self, other: &OfficialResult) -> bool {
        self.fields() == other.fields()
            && self.bonus_points == other.bonus_points
            && self.points == other.points
            && self.bib == other.bib
            && self.category == other.category
            && self.age_grade == other.age_grade
    }
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

    fn marathon() -> Marathon {
        let now = time::macros::datetime!(2027-01-01 0:00 UTC);
        Marathon {
            id: MarathonId::generate(),
            organizer_id: UserId::generate(),
            name: "Seoul".into(),
            date: time::macros::date!(2027 - 03 - 21),
            location: "Gwanghwamun".into(),
            course: crate::marathon::Course::Full,
            distance_m: 42_195,
            points: 100,
            dnf_points: 20,
            capacity: 10,
            entry_count: 1,
            result_count: 0,
            registration_closes_at: now,
            status: crate::marathon::MarathonStatus::Open,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_result_is_priced_by_its_status_and_carries_its_times() {
        use crate::race::{ResultFields, ResultStatus, Splits};
        let m = marathon();
        let runner = || ResultRunner {
            id: UserId::generate(),
            name: UserName::parse("Kim").unwrap(),
            bib: crate::race::Bib::new(7),
            category: crate::race::Category::parse("F40").ok(),
        };
        let now = time::macros::datetime!(2027-03-21 12:00 UTC);
        let chip = FinishTime::parse_str("3:00:00").unwrap();
        let gun = FinishTime::parse_str("3:01:00").unwrap();
        let finished =
            ResultFields::new(ResultStatus::Finished, Some(chip), Some(gun), Splits::default()).unwrap();
        let r = OfficialResult::build(&m, runner(), finished, 5, None, None, now, None);
        assert_eq!(
            (r.points, r.finish_seconds, r.gun_seconds),
            (105, Some(10_800), Some(10_860))
        );
        assert_eq!(r.finish_time.as_deref(), Some("3:00:00"));
        assert_eq!(r.fields().chip, Some(chip));
        let dnf = ResultFields::new(ResultStatus::Dnf, None, None, Splits::default()).unwrap();
        let d = OfficialResult::build(&m, runner(), dnf, 5, Some(&r), Some(r.version), now, None);
        assert_eq!(
            (d.points, d.finish_seconds, d.status),
            (20, None, ResultStatus::Dnf)
        );
        assert!(d.version > r.version);
        assert_eq!(d.recorded_at, r.recorded_at);
        assert!(!d.same_content(&r));
        let again = OfficialResult {
            version: d.version + 1,
            ..d.clone()
        };
        assert!(d.same_content(&again));
        // the stored form leaves out what a result does not have
        let json = serde_json::to_value(&d).unwrap();
        assert!(
            json.get("finish_seconds").is_none() && json.get("splits").is_none(),
            "{json}"
        );
        assert_eq!(json["status"], "dnf");
        assert_eq!(json["category"], "F40");
        assert_eq!(json["bib"], 7);
        // graded from the profile: a finish only
        let profile = crate::race::RaceProfile {
            sex: Some(crate::race::Sex::Female),
            birth: Some(crate::race::Birth::Year(1982)),
        };
        assert!(r.clone().with_age_grade(&profile, 42_195).age_grade.is_some());
        assert_eq!(d.clone().with_age_grade(&profile, 42_195).age_grade, None);
        assert_eq!(
            r.with_age_grade(&crate::race::RaceProfile::default(), 42_195)
                .age_grade,
            None
        );
    }

    #[test]
    fn a_result_stored_before_statuses_reads_as_a_finish() {
        let stored = json!({
            "marathon_id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "marathon_name": "Seoul",
            "marathon_date": "2027-03-21", "runner_id": "01JBBBBBBBBBBBBBBBBBBBBBBB",
            "runner_name": "Kim", "finish_seconds": 10800, "finish_time": "3:00:00",
            "bonus_points": 0, "points": 100, "version": 3,
            "recorded_at": "2027-03-21T12:00:00Z", "updated_at": "2027-03-21T12:00:00Z"
        });
        let r: OfficialResult = serde_json::from_value(stored).unwrap();
        assert_eq!(r.status, crate::race::ResultStatus::Finished);
        assert_eq!((r.finish_seconds, r.bib, r.category), (Some(10_800), None, None));
        assert!(r.splits.is_empty());
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
