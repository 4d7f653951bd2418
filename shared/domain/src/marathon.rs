//! Marathons: what an organizer creates, edits and cancels, and runners register for.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, OffsetDateTime};

use crate::user::UserId;
use crate::validation::{FieldError, ValidationErrors};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MarathonId(String);

impl MarathonId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ulid::Ulid::from_string(raw).ok().map(|id| Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MarathonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The race distance: one of the classic courses, or any distance in metres.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Course {
    Full,
    Half,
    TenK,
    FiveK,
    Metres(u32),
}

impl Course {
    pub const MAX_METRES: u32 = 1_000_000;

    pub fn metres(self) -> u32 {
        match self {
            Self::Full => 42_195,
            Self::Half => 21_098,
            Self::TenK => 10_000,
            Self::FiveK => 5_000,
            Self::Metres(m) => m,
        }
    }

    pub fn parse(value: &serde_json::Value) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "course",
                "must be \"full\", \"half\", \"10k\", \"5k\" or a distance in metres (1 to 1000000)",
            )
        };
        match value {
            serde_json::Value::String(s) => match s.as_str() {
                "full" => Ok(Self::Full),
                "half" => Ok(Self::Half),
                "10k" => Ok(Self::TenK),
                "5k" => Ok(Self::FiveK),
                _ => Err(invalid()),
            },
            serde_json::Value::Number(n) => n
                .as_u64()
                .filter(|m| (1..=u64::from(Self::MAX_METRES)).contains(m))
                .map(|m| Self::Metres(m as u32))
                .ok_or_else(invalid),
            _ => Err(invalid()),
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        match self {
            Self::Full => "full".into(),
            Self::Half => "half".into(),
            Self::TenK => "10k".into(),
            Self::FiveK => "5k".into(),
            Self::Metres(m) => m.into(),
        }
    }
}

impl Serialize for Course {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Course {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Self::parse(&value).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarathonStatus {
    Open,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marathon {
    pub id: MarathonId,
    pub organizer_id: UserId,
    pub name: String,
    pub date: Date,
    pub location: String,
    pub course: Course,
    pub distance_m: u32,
    /// Points every finisher earns.
    pub points: u32,
    /// Points a runner who started and did not finish earns (0 to `points`; 0 for
    /// marathons from before statuses). Fixed once a result is recorded, as `points` is.
    #[serde(default)]
    pub dnf_points: u32,
    pub capacity: u32,
    pub entry_count: u32,
    /// Official results recorded. Once there is one, `points` is fixed: every result
    /// contributes the marathon's points plus its bonus, and a change of points would
    /// leave the totals already awarded behind.
    #[serde(default)]
    pub result_count: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub registration_closes_at: OffsetDateTime,
    pub status: MarathonStatus,
    /// Increases with every change; the ETag for If-Match.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What shows its marathon's name and date: entries and results copy them when written,
/// so a runner's listing reads without a join, and an organizer may edit them later.
/// Listings put the marathon's current name and date back with `relabel`.
pub trait MarathonLabel {
    fn marathon_id(&self) -> &MarathonId;
    fn relabel(&mut self, name: &str, date: Date);
}

/// Why a runner may not register (or cancel) now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRefusal {
    Cancelled,
    RegistrationClosed,
    Full,
    RaceStarted,
}

/// Why an official result may not be recorded now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultRefusal {
    Cancelled,
    BeforeRaceDay,
}

impl Marathon {
    /// Shows this marathon's current name and date on items of it (a listing of one
    /// marathon's entries or results).
    pub fn label<T: MarathonLabel>(&self, items: &mut [T]) {
        for item in items.iter_mut().filter(|i| i.marathon_id() == &self.id) {
            item.relabel(&self.name, self.date);
        }
    }

    pub fn is_owned_by(&self, user: &UserId) -> bool {
        &self.organizer_id == user
    }

    pub fn registration_refusal(&self, now: OffsetDateTime) -> Option<EntryRefusal> {
        if self.status == MarathonStatus::Cancelled {
            Some(EntryRefusal::Cancelled)
        } else if now >= self.registration_closes_at {
            Some(EntryRefusal::RegistrationClosed)
        } else if self.entry_count >= self.capacity {
            Some(EntryRefusal::Full)
        } else {
            None
        }
    }

    /// Whether `points` may become `new_points`: not once a result was recorded.
    pub fn may_set_points(&self, new_points: u32) -> bool {
        new_points == self.points || self.result_count == 0
    }

    /// The same for the points of a dnf.
    pub fn may_set_dnf_points(&self, new_dnf_points: u32) -> bool {
        new_dnf_points == self.dnf_points || self.result_count == 0
    }

    /// Whether the race date may become `new_date`: not once a result was recorded, since
    /// results exist only from race day on (`result_refusal`) and a later date would put
    /// them before their race.
    pub fn may_set_date(&self, new_date: Date) -> bool {
        new_date == self.date || self.result_count == 0
    }

    /// Why an official result may not be recorded `today` (UTC, as every date here): the
    /// marathon is cancelled, or its race day has not come yet, so nobody can have a
    /// finish time and no points can be minted ahead of the race.
    pub fn result_refusal(&self, today: Date) -> Option<ResultRefusal> {
        if self.status == MarathonStatus::Cancelled {
            Some(ResultRefusal::Cancelled)
        } else if today < self.date {
            Some(ResultRefusal::BeforeRaceDay)
        } else {
            None
        }
    }

    /// Runners may cancel until race day.
    pub fn cancellation_refusal(&self, today: Date) -> Option<EntryRefusal> {
        if self.status == MarathonStatus::Cancelled {
            Some(EntryRefusal::Cancelled)
        } else if today >= self.date {
            Some(EntryRefusal::RaceStarted)
        } else {
            None
        }
    }
}

/// The fields an organizer sends; all optional so a missing one is named.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct MarathonInput {
    pub name: Option<String>,
    pub date: Option<String>,
    pub location: Option<String>,
    pub course: Option<serde_json::Value>,
    pub points: Option<i64>,
    /// Optional: 0 when absent on create, unchanged when absent on a patch.
    pub dnf_points: Option<i64>,
    pub capacity: Option<i64>,
    pub registration_closes_at: Option<String>,
}

pub const MAX_POINTS: i64 = 100_000;
pub const MAX_CAPACITY: i64 = 100_000;

fn text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

pub fn parse_date(field: &str, raw: &str) -> Result<Date, FieldError> {
    Date::parse(raw, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| FieldError::new(field, "must be a date like 2026-11-21"))
}

pub fn parse_instant(field: &str, raw: &str) -> Result<OffsetDateTime, FieldError> {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map_err(|_| FieldError::new(field, "must be an RFC 3339 time like 2026-11-01T00:00:00Z"))
}

fn bounded(field: &str, value: i64, min: i64, max: i64) -> Result<u32, FieldError> {
    if (min..=max).contains(&value) {
        Ok(value as u32)
    } else {
        Err(FieldError::new(field, format!("must be between {min} and {max}")))
    }
}

/// The validated content of a marathon (create, or the result of applying a patch).
#[derive(Debug, Clone, PartialEq)]
pub struct MarathonFields {
    pub name: String,
    pub date: Date,
    pub location: String,
    pub course: Course,
    pub points: u32,
    pub dnf_points: u32,
    pub capacity: u32,
    pub registration_closes_at: OffsetDateTime,
}

impl MarathonFields {
    /// The names of the fields (as the API spells them) whose value differs from
    /// `current`'s; none means an edit that changes nothing, which writes nothing.
    pub fn changes(&self, current: &Marathon) -> Vec<&'static str> {
        [
            ("name", self.name != current.name),
            ("date", self.date != current.date),
            ("location", self.location != current.location),
            ("course", self.course != current.course),
            ("points", self.points != current.points),
            ("dnf_points", self.dnf_points != current.dnf_points),
            ("capacity", self.capacity != current.capacity),
            // the same instant written with another offset is no change
            (
                "registration_closes_at",
                self.registration_closes_at != current.registration_closes_at,
            ),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }

    /// Validates a full input (create), or `input` over `base` (a patch).
    pub fn from_input(input: MarathonInput, base: Option<&Marathon>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut field = |name: &str, present: bool| {
            if !present && base.is_none() {
                errors.push(FieldError::missing(name));
            }
        };
        field("name", input.name.is_some());
        field("date", input.date.is_some());
        field("location", input.location.is_some());
        field("course", input.course.is_some());
        field("points", input.points.is_some());
        field("capacity", input.capacity.is_some());
        field("registration_closes_at", input.registration_closes_at.is_some());

        let name = input.name.map(|v| errors.check(text("name", &v, 200)));
        let date = input.date.map(|v| errors.check(parse_date("date", &v)));
        let location = input.location.map(|v| errors.check(text("location", &v, 200)));
        let course = input.course.map(|v| errors.check(Course::parse(&v)));
        let points = input
            .points
            .map(|v| errors.check(bounded("points", v, 0, MAX_POINTS)));
        let dnf_points = input
            .dnf_points
            .map(|v| errors.check(bounded("dnf_points", v, 0, MAX_POINTS)));
        let capacity = input
            .capacity
            .map(|v| errors.check(bounded("capacity", v, 1, MAX_CAPACITY)));
        let closes = input
            .registration_closes_at
            .map(|v| errors.check(parse_instant("registration_closes_at", &v)));

        macro_rules! pick {
            ($new:expr, $old:ident) => {
                match ($new, base) {
                    (Some(Some(v)), _) => Some(v),
                    (Some(None), _) => None,
                    (None, Some(b)) => Some(b.$old.clone()),
                    (None, None) => None,
                }
            };
        }
        let fields = (
            pick!(name, name),
            pick!(date, date),
            pick!(location, location),
            pick!(course, course),
            pick!(points, points),
            pick!(capacity, capacity),
            pick!(closes, registration_closes_at),
        );
        let (
            Some(name),
            Some(date),
            Some(location),
            Some(course),
            Some(points),
            Some(capacity),
            Some(closes),
        ) = fields
        else {
            return Err(errors);
        };
        // Registration may stay open until the end of race day (UTC, as every date here),
        // so a marathon can take its last entries on the day it is run.
        if closes.to_offset(time::UtcOffset::UTC).date() > date {
            errors.push(FieldError::new(
                "registration_closes_at",
                "must not be after the end of the race date (UTC)",
            ));
        }
        let dnf_points = match (dnf_points, base) {
            (Some(Some(v)), _) => v,
            (Some(None), _) => return Err(errors),
            (None, Some(b)) => b.dnf_points,
            (None, None) => 0,
        };
        if dnf_points > points {
            errors.push(FieldError::new(
                "dnf_points",
                format!("must not be more than the {points} points of a finish"),
            ));
        }
        if let Some(base) = base
            && capacity < base.entry_count
        {
            errors.push(FieldError::new(
                "capacity",
                format!(
                    "must be at least the {} runners already registered",
                    base.entry_count
                ),
            ));
        }
        errors.into_result()?;
        Ok(Self {
            name,
            date,
            location,
            course,
            points,
            dnf_points,
            capacity,
            registration_closes_at: closes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::{date, datetime};

    fn input() -> MarathonInput {
        MarathonInput {
            name: Some("Seoul Marathon".into()),
            date: Some("2027-03-21".into()),
            location: Some("Gwanghwamun".into()),
            course: Some(json!("full")),
            points: Some(100),
            dnf_points: None,
            capacity: Some(5),
            registration_closes_at: Some("2027-03-01T00:00:00Z".into()),
        }
    }

    #[test]
    fn courses_parse_names_and_metres() {
        assert_eq!(Course::parse(&json!("half")).unwrap().metres(), 21_098);
        assert_eq!(Course::parse(&json!(8000)).unwrap(), Course::Metres(8000));
        assert!(Course::parse(&json!("ultra")).is_err());
        assert!(Course::parse(&json!(0)).is_err());
        assert!(Course::parse(&json!(-5)).is_err());
        assert_eq!(serde_json::to_value(Course::TenK).unwrap(), json!("10k"));
    }

    #[test]
    fn a_complete_input_validates() {
        let fields = MarathonFields::from_input(input(), None).unwrap();
        assert_eq!(fields.date, date!(2027 - 03 - 21));
        assert_eq!(fields.course, Course::Full);
    }

    #[test]
    fn every_bad_or_missing_field_is_named() {
        let bad = MarathonInput {
            name: Some(" ".into()),
            date: Some("21/03/2027".into()),
            points: Some(-1),
            capacity: Some(0),
            ..MarathonInput::default()
        };
        let errors = MarathonFields::from_input(bad, None).unwrap_err();
        let fields: std::collections::BTreeSet<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        let expected = [
            "capacity",
            "course",
            "date",
            "location",
            "name",
            "points",
            "registration_closes_at",
        ];
        assert_eq!(fields.into_iter().collect::<Vec<_>>(), expected);
        // invalid values are reported as such, not as missing
        assert!(
            errors
                .0
                .iter()
                .any(|e| e.field == "points" && e.message.contains("between"))
        );
    }

    #[test]
    fn registration_must_close_by_race_day() {
        let late = MarathonInput {
            registration_closes_at: Some("2027-03-22T00:00:00Z".into()),
            ..input()
        };
        let errors = MarathonFields::from_input(late, None).unwrap_err();
        assert_eq!(errors.0[0].field, "registration_closes_at");
    }

    #[test]
    fn registration_may_close_at_the_end_of_race_day_in_utc() {
        let on_the_day = MarathonInput {
            registration_closes_at: Some("2027-03-21T23:59:59Z".into()),
            ..input()
        };
        assert!(MarathonFields::from_input(on_the_day, None).is_ok());
        // the same local time west of UTC is already the next day in UTC
        let west = MarathonInput {
            registration_closes_at: Some("2027-03-21T23:00:00-05:00".into()),
            ..input()
        };
        let errors = MarathonFields::from_input(west, None).unwrap_err();
        assert_eq!(errors.0[0].field, "registration_closes_at");
        assert!(errors.0[0].message.contains("end of the race date"));
    }

    #[test]
    fn results_only_from_race_day_on() {
        let mut m = marathon();
        assert_eq!(
            m.result_refusal(date!(2027 - 03 - 20)),
            Some(ResultRefusal::BeforeRaceDay)
        );
        assert_eq!(m.result_refusal(date!(2027 - 03 - 21)), None);
        assert_eq!(m.result_refusal(date!(2027 - 09 - 01)), None);
        m.status = MarathonStatus::Cancelled;
        assert_eq!(
            m.result_refusal(date!(2027 - 03 - 21)),
            Some(ResultRefusal::Cancelled)
        );
    }

    #[test]
    fn the_date_is_fixed_once_a_result_is_recorded() {
        let mut m = marathon();
        assert!(m.may_set_date(date!(2027 - 04 - 01)));
        m.result_count = 1;
        assert!(m.may_set_date(m.date));
        assert!(!m.may_set_date(date!(2027 - 04 - 01)));
        assert!(!m.may_set_date(date!(2027 - 03 - 01)));
    }

    fn marathon() -> Marathon {
        let f = MarathonFields::from_input(input(), None).unwrap();
        let now = datetime!(2027-01-01 0:00 UTC);
        Marathon {
            id: MarathonId::generate(),
            organizer_id: UserId::generate(),
            name: f.name,
            date: f.date,
            location: f.location,
            course: f.course,
            distance_m: f.course.metres(),
            points: f.points,
            dnf_points: f.dnf_points,
            capacity: f.capacity,
            entry_count: 0,
            result_count: 0,
            registration_closes_at: f.registration_closes_at,
            status: MarathonStatus::Open,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_patch_keeps_unsent_fields_and_cannot_shrink_below_entries() {
        let mut base = marathon();
        base.entry_count = 4;
        let patch = MarathonInput {
            points: Some(150),
            ..MarathonInput::default()
        };
        let fields = MarathonFields::from_input(patch, Some(&base)).unwrap();
        assert_eq!((fields.points, fields.name.as_str()), (150, "Seoul Marathon"));
        let shrink = MarathonInput {
            capacity: Some(3),
            ..MarathonInput::default()
        };
        assert_eq!(
            MarathonFields::from_input(shrink, Some(&base)).unwrap_err().0[0].field,
            "capacity"
        );
    }

    #[test]
    fn an_edit_names_what_it_changes_and_an_empty_one_changes_nothing() {
        let base = marathon();
        let same = MarathonFields::from_input(MarathonInput::default(), Some(&base)).unwrap();
        assert_eq!(same.changes(&base), Vec::<&str>::new());
        // every field sent again as it is, the closing time in another offset
        let resent = MarathonInput {
            registration_closes_at: Some("2027-03-01T09:00:00+09:00".into()),
            ..input()
        };
        let resent = MarathonFields::from_input(resent, Some(&base)).unwrap();
        assert_eq!(resent.changes(&base), Vec::<&str>::new());
        let moved = MarathonInput {
            date: Some("2027-03-28".into()),
            location: Some("Jamsil".into()),
            ..MarathonInput::default()
        };
        let moved = MarathonFields::from_input(moved, Some(&base)).unwrap();
        assert_eq!(moved.changes(&base), ["date", "location"]);
    }

    #[test]
    fn registration_rules() {
        let mut m = marathon();
        let before = datetime!(2027-02-01 0:00 UTC);
        assert_eq!(m.registration_refusal(before), None);
        assert_eq!(
            m.registration_refusal(datetime!(2027-03-01 0:00 UTC)),
            Some(EntryRefusal::RegistrationClosed)
        );
        m.entry_count = 5;
        assert_eq!(m.registration_refusal(before), Some(EntryRefusal::Full));
        m.status = MarathonStatus::Cancelled;
        assert_eq!(m.registration_refusal(before), Some(EntryRefusal::Cancelled));
    }

    #[test]
    fn points_are_fixed_once_a_result_is_recorded() {
        let mut m = marathon();
        assert!(m.may_set_points(m.points + 50));
        m.result_count = 1;
        assert!(m.may_set_points(m.points));
        assert!(!m.may_set_points(m.points + 50));
    }

    #[test]
    fn dnf_points_default_to_zero_are_at_most_the_points_and_fixed_with_them() {
        assert_eq!(MarathonFields::from_input(input(), None).unwrap().dnf_points, 0);
        let with = MarathonInput {
            dnf_points: Some(20),
            ..input()
        };
        assert_eq!(MarathonFields::from_input(with, None).unwrap().dnf_points, 20);
        let over = MarathonInput {
            dnf_points: Some(101),
            ..input()
        };
        let errors = MarathonFields::from_input(over, None).unwrap_err();
        assert_eq!(errors.0[0].field, "dnf_points");
        let mut m = marathon();
        m.dnf_points = 20;
        // a patch without it keeps it, and names it when it changes
        let keep = MarathonFields::from_input(MarathonInput::default(), Some(&m)).unwrap();
        assert_eq!(keep.dnf_points, 20);
        let lower = MarathonInput {
            points: Some(10),
            ..MarathonInput::default()
        };
        assert_eq!(
            MarathonFields::from_input(lower, Some(&m)).unwrap_err().0[0].field,
            "dnf_points"
        );
        let change = MarathonInput {
            dnf_points: Some(5),
            ..MarathonInput::default()
        };
        assert_eq!(
            MarathonFields::from_input(change, Some(&m)).unwrap().changes(&m),
            ["dnf_points"]
        );
        m.result_count = 1;
        assert!(m.may_set_dnf_points(20));
        assert!(!m.may_set_dnf_points(5));
    }

    #[test]
    fn runners_cancel_until_race_day() {
        let m = marathon();
        assert_eq!(m.cancellation_refusal(date!(2027 - 03 - 20)), None);
        assert_eq!(
            m.cancellation_refusal(date!(2027 - 03 - 21)),
            Some(EntryRefusal::RaceStarted)
        );
    }

    #[test]
    fn a_listing_shows_the_marathon_as_it_is_now() {
        let mut m = marathon();
        let entry = |marathon_id: &MarathonId| crate::entry::Entry {
            marathon_id: marathon_id.clone(),
            runner_id: UserId::generate(),
            runner_name: crate::user::UserName::parse("Kim").unwrap(),
            marathon_name: "Old name".into(),
            marathon_date: date!(2027 - 03 - 14),
            registered_at: datetime!(2027-01-01 0:00 UTC),
            bib: None,
        };
        let other = MarathonId::generate();
        let mut items = vec![entry(&m.id), entry(&other)];
        m.name = "New name".into();
        m.label(&mut items);
        assert_eq!(
            (items[0].marathon_name.as_str(), items[0].marathon_date),
            ("New name", m.date)
        );
        assert_eq!(items[1].marathon_name, "Old name", "another marathon's item");
    }
}
