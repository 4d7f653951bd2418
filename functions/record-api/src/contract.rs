//! The HTTP contract: request bodies, query strings and responses, separate from the
//! stored items. Requests deserialize into these types and go on to the domain's rules;
//! responses are built from the domain's types and show only what a client may see (no
//! `correlation_id`, no keys). The OpenAPI document is derived from these same types, and
//! the schemas of the rules the domain checks come from the functions below, so the
//! document says what the code does (tests in `tests/integration/openapi.rs` hold them together).

use domain::FieldError;
use domain::entry::Entry;
use domain::marathon::{Course, MarathonInput};
use domain::points::{Award, PointsSummary};
use domain::record::{Record, RecordInput};
use domain::result::{FinishTime, OfficialResult};
use infra::http::openapi::{WHITE_SPACE, trimmed_text, ulid};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::{IntoParams, ToSchema};

/// The season leaderboard's and personal bests' types (their own module: `contract/leaderboard.rs`).
pub mod leaderboard;

/// A marathon's name and place: trimmed, 1 to this many characters (`MarathonFields`).
pub const MARATHON_TEXT_MAX: usize = 200;
/// "H:MM:SS" with hours up to 96, or the same as whole seconds: exactly what
/// `FinishTime::parse` accepts (1 second to 96 hours, surrounding white space trimmed).
pub fn finish_time_pattern() -> String {
    let hms = [
        "(?:0?[1-9]|[1-8][0-9]|9[0-5]):[0-5][0-9]:[0-5][0-9]",
        "96:00:00",
        "0?0:(?:(?:0[1-9]|[1-5][0-9]):[0-5][0-9]|00:(?:0[1-9]|[1-5][0-9]))",
    ]
    .join("|");
    format!("^[{WHITE_SPACE}]*(?:{hms})[{WHITE_SPACE}]*$")
}
/// An entity-tag this API gives out (`"3"`, or weak `W/"3"`), or `*`. Nineteen digits
/// always fit a u64; `if_match` parses exactly this.
/// Empty is an empty list of entity-tags (RFC 9110's `#entity-tag`), which nothing matches.
pub const IF_MATCH_PATTERN: &str = r#"^(?:\*|(?:W/)?"[0-9]{1,19}")?$"#;

/// JSON Schema's integers include `701.0`; serde's `i64` does not. Takes a number without
/// a fractional part, as the document's `integer` promises; anything else is a type error
/// named by its field.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("invalid type: {number}, expected an integer")))
}

/// The same for values the domain reads as JSON (a course, a finish time): an integral
/// float becomes the integer it is.
pub fn integral(value: Option<serde_json::Value>) -> Option<serde_json::Value> {
    value.map(|value| match value.as_f64() {
        Some(f) if value.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
            serde_json::Value::from(f as i64)
        }
        _ => value,
    })
}

fn date() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
}

fn instant() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some("RFC 3339, with an offset."))
}

fn string_enum(values: &[&str], description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
}

fn nullable(schema: impl Into<RefOr<Schema>>) -> Schema {
    OneOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

fn integer(min: i64, max: i64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
}

fn marathon_name() -> Schema {
    trimmed_text(MARATHON_TEXT_MAX, "The marathon's name.").into()
}

fn marathon_location() -> Schema {
    trimmed_text(MARATHON_TEXT_MAX, "Where it starts.").into()
}

fn course() -> Schema {
    OneOfBuilder::new()
        .item(string_enum(&["full", "half", "10k", "5k"], "A classic course."))
        .item(integer(1, i64::from(Course::MAX_METRES)).description(Some("Any distance in metres.")))
        .description(Some(
            "\"full\" (42195 m), \"half\" (21098 m), \"10k\", \"5k\", or a distance in metres.",
        ))
        .build()
        .into()
}

fn finish_time_of(description: &str) -> Schema {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(finish_time_pattern()))
                .examples(["2:58:07"]),
        )
        .item(integer(1, i64::from(FinishTime::MAX_SECONDS)).description(Some("Whole seconds.")))
        .description(Some(format!(
            "{description} \"H:MM:SS\" or whole seconds, 1 second to 96 hours."
        )))
        .build()
        .into()
}

fn finish_time() -> Schema {
    finish_time_of("The official (chip) finish time.")
}

fn chip_time() -> Schema {
    finish_time_of("The chip time.")
}

fn gun_time() -> Schema {
    finish_time_of("The gun time.")
}

fn split_time() -> Schema {
    finish_time_of("The chip time at this point.")
}

fn result_status() -> Schema {
    string_enum(
        &["finished", "dnf", "dns", "dq"],
        "finished; dnf: started, did not finish; dns: did not start; dq: disqualified. \
         Any case; the timing systems' FIN, OK and DSQ are read too.",
    )
    .into()
}

fn sex() -> Schema {
    string_enum(
        &["female", "male", "x"],
        "The category the runner competes in (x: non-binary).",
    )
    .into()
}

fn category_filter() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(category_pattern()))
        .description(Some(
            "F, M or X, then U20 (under 20), SEN (20 to 34) or a five-year masters band \
             35, 40, ... 90 (90 and over), on race day.",
        ))
        .examples(["F40"])
        .into()
}

/// What `Category::parse` accepts (surrounding white space trimmed, any case).
pub fn category_pattern() -> String {
    format!("^[{WHITE_SPACE}]*[FfMmXx](?:[Uu]20|[Ss][Ee][Nn]|35|[4-8][05]|90)[{WHITE_SPACE}]*$")
}

fn duration() -> Schema {
    finish_time_of("How long it took.")
}

fn record_kind() -> Schema {
    string_enum(&["training", "race"], "A training run or a race.").into()
}

macro_rules! nullable_schemas {
    ($($name:ident => $of:expr;)*) => {$(
        fn $name() -> Schema {
            nullable($of)
        }
    )*};
}

nullable_schemas! {
    nullable_result_status => result_status();
    nullable_chip_time => chip_time();
    nullable_finish_time => finish_time();
    nullable_gun_time => gun_time();
    nullable_sex => sex();
    nullable_date => date();
    nullable_instant => instant();
    nullable_marathon_name => marathon_name();
    nullable_marathon_location => marathon_location();
    nullable_course => course();
    nullable_duration => duration();
    nullable_record_kind => record_kind();
}

/// A new marathon: every field is required (the body `{}` names all seven missing).
/// `registration_closes_at` must not be after the race `date`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewMarathon {
    #[schema(schema_with = marathon_name, required = true)]
    pub name: Option<String>,
    /// The race day.
    #[schema(value_type = Date, required = true, nullable = false)]
    pub date: Option<String>,
    #[schema(schema_with = marathon_location, required = true)]
    pub location: Option<String>,
    #[schema(schema_with = course, required = true)]
    pub course: Option<serde_json::Value>,
    /// Points every finisher earns (plus a result's bonus).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = i64, minimum = 0, maximum = 100000, required = true, nullable = false)]
    pub points: Option<i64>,
    /// Points a runner who starts and does not finish (status dnf) earns: 0 to `points`,
    /// 0 when absent. Did-not-start and disqualified results earn none.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100000)]
    pub dnf_points: Option<i64>,
    /// How many runners may register.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = i64, minimum = 1, maximum = 100000, required = true, nullable = false)]
    pub capacity: Option<i64>,
    /// When registration closes: RFC 3339, not after the race day.
    #[schema(value_type = OffsetDateTime, required = true, nullable = false)]
    pub registration_closes_at: Option<String>,
}

/// Changes to a marathon: any of its fields; one absent or null stays as it is. The
/// result must still hold together (registration closing by race day, capacity at least
/// the runners registered), and points are fixed once a result is recorded (409).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MarathonChanges {
    #[schema(schema_with = nullable_marathon_name)]
    pub name: Option<String>,
    #[schema(schema_with = nullable_date)]
    pub date: Option<String>,
    #[schema(schema_with = nullable_marathon_location)]
    pub location: Option<String>,
    #[schema(schema_with = nullable_course)]
    pub course: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100000)]
    pub points: Option<i64>,
    /// Fixed, like `points`, once a result is recorded.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100000)]
    pub dnf_points: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100000)]
    pub capacity: Option<i64>,
    #[schema(schema_with = nullable_instant)]
    pub registration_closes_at: Option<String>,
}

impl From<NewMarathon> for MarathonInput {
    fn from(body: NewMarathon) -> Self {
        Self {
            name: body.name,
            date: body.date,
            location: body.location,
            course: integral(body.course),
            points: body.points,
            dnf_points: body.dnf_points,
            capacity: body.capacity,
            registration_closes_at: body.registration_closes_at,
        }
    }
}

impl From<MarathonChanges> for MarathonInput {
    fn from(body: MarathonChanges) -> Self {
        Self {
            name: body.name,
            date: body.date,
            location: body.location,
            course: integral(body.course),
            points: body.points,
            dnf_points: body.dnf_points,
            capacity: body.capacity,
            registration_closes_at: body.registration_closes_at,
        }
    }
}

/// An official result for a registered runner: its status and times. A finish needs a
/// chip time; a dnf has no chip or gun time (splits up to where the runner stopped); a
/// dns has no times at all; a dq may keep its times of record. A gun time is never below
/// the chip time, and splits increase and end by the chip time.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResultBody {
    /// How the race ended; "finished" when absent or null.
    #[schema(schema_with = nullable_result_status)]
    pub status: Option<String>,
    /// From the runner's start mat to the finish: what the ranking orders by.
    #[schema(schema_with = nullable_chip_time)]
    pub chip_time: Option<serde_json::Value>,
    /// The same as `chip_time`, its name before gun times (one of the two, not both).
    #[schema(schema_with = nullable_finish_time)]
    pub finish_time: Option<serde_json::Value>,
    /// From the gun to the finish.
    #[schema(schema_with = nullable_gun_time)]
    pub gun_time: Option<serde_json::Value>,
    /// Intermediate chip times in course order, at most 50.
    #[schema(value_type = Option<Vec<SplitBody>>, max_items = 50)]
    pub splits: Option<Vec<SplitBody>>,
    /// Added to the marathon's points for this runner; 0 when absent or null.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000)]
    pub bonus_points: Option<i64>,
}

/// One split as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SplitBody {
    #[schema(schema_with = split_label)]
    pub label: String,
    #[schema(schema_with = split_time)]
    pub time: serde_json::Value,
}

fn split_label() -> Schema {
    trimmed_text(
        domain::race::Splits::LABEL_MAX,
        "Where on the course (\"10K\", \"Half\"), distinct within the result.",
    )
    .into()
}

/// `PUT /marathons/{id}/entries/{runner_id}/bib`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct BibBody {
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = i64, minimum = 1, maximum = 99999, required = true, nullable = false)]
    pub bib: Option<i64>,
}

/// The runner's race profile, used for categories only: nobody else ever sees more than
/// the category label it gives. Both optional; null (or absent) clears one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RaceProfileBody {
    #[schema(schema_with = nullable_sex)]
    pub sex: Option<String>,
    /// A birth date, or only the year.
    #[schema(value_type = Option<String>, pattern = r"^\s*(?:[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2})\s*$", example = "1984-05-17")]
    pub birth: Option<String>,
}

/// The calling runner's race profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct RaceProfileView {
    #[schema(schema_with = nullable_sex)]
    pub sex: Option<String>,
    /// "1984-05-17" or "1984".
    pub birth: Option<String>,
}

impl From<domain::race::RaceProfile> for RaceProfileView {
    fn from(p: domain::race::RaceProfile) -> Self {
        Self {
            sex: p.sex.map(|s| s.as_str().to_owned()),
            birth: p.birth.map(|b| b.to_string()),
        }
    }
}

/// `GET /marathons/{id}/results`: a page of the ranking, optionally one category's, or
/// the rows whose runner's name or bib matches `q`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<String>,
    #[param(nullable = false)]
    pub cursor: Option<String>,
    /// Only this category ("F40", "MSEN", "XU20"; any case).
    #[param(schema_with = category_filter, nullable = false)]
    pub category: Option<String>,
    /// A bib (the exact number) or part of a runner's name (any case); empty or white
    /// space: the whole ranking.
    #[param(value_type = Option<String>, max_length = 100, nullable = false)]
    pub q: Option<String>,
}

/// A new private record.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewRecord {
    #[schema(schema_with = record_kind, required = true)]
    pub kind: Option<String>,
    #[schema(value_type = Date, required = true, nullable = false)]
    pub date: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = i64, minimum = 1, maximum = 1000000, required = true, nullable = false)]
    pub distance_m: Option<i64>,
    #[schema(schema_with = duration, required = true)]
    pub duration: Option<serde_json::Value>,
    /// Free text; empty when absent or null.
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<String>,
}

/// Changes to a private record: any of its fields; one absent or null stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RecordChanges {
    #[schema(schema_with = nullable_record_kind)]
    pub kind: Option<String>,
    #[schema(schema_with = nullable_date)]
    pub date: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub distance_m: Option<i64>,
    #[schema(schema_with = nullable_duration)]
    pub duration: Option<serde_json::Value>,
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<String>,
}

impl From<NewRecord> for RecordInput {
    fn from(body: NewRecord) -> Self {
        Self {
            kind: body.kind,
            date: body.date,
            distance_m: body.distance_m,
            duration: integral(body.duration),
            notes: body.notes,
        }
    }
}

impl From<RecordChanges> for RecordInput {
    fn from(body: RecordChanges) -> Self {
        Self {
            kind: body.kind,
            date: body.date,
            distance_m: body.distance_m,
            duration: integral(body.duration),
            notes: body.notes,
        }
    }
}

/// `?limit=&cursor=` on every listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page, as given.
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

/// `GET /marathons`: upcoming (default) or past marathons, or an organizer's.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MarathonListQuery {
    /// Marathons from today on (default), or before today. Ignored with `organizer`.
    #[param(schema_with = when, nullable = false)]
    pub when: Option<String>,
    /// Only this organizer's marathons, every date.
    #[param(schema_with = organizer_id, nullable = false)]
    pub organizer: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<String>,
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

fn marathon_id() -> Schema {
    ulid("The marathon's id.").into()
}

fn record_id() -> Schema {
    ulid("The record's id.").into()
}

fn runner_id() -> Schema {
    ulid("The runner's user id.").into()
}

/// `/marathons/{id}…`, read by axum's `Path`. An id that is not a ULID names nothing:
/// 404, like an unknown one.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MarathonPath {
    #[param(schema_with = marathon_id)]
    pub id: String,
}

/// `/marathons/{id}/results/{runner_id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ResultPath {
    #[param(schema_with = marathon_id)]
    pub id: String,
    #[param(schema_with = runner_id)]
    pub runner_id: String,
}

/// `/me/records/{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    #[param(schema_with = record_id)]
    pub id: String,
}

/// `/runners/{id}/points`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RunnerPath {
    #[param(schema_with = runner_id)]
    pub id: String,
}

fn organizer_id() -> Schema {
    ulid("An organizer's user id.").into()
}

fn when() -> Schema {
    string_enum(&["upcoming", "past"], "Which marathons.").into()
}

/// `If-Match` where it is required (a marathon's change: 428 without it).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // read by `routes::if_match`; this is its documentation
pub struct IfMatchRequired {
    /// The ETag of the resource as read; `*`: whatever it is now.
    #[param(rename = "If-Match", pattern = r#"^(?:\*|(?:W/)?"[0-9]{1,19}")?$"#)]
    pub if_match: String,
}

/// `If-Match` where it is optional: without it, the change applies to whatever is stored.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IfMatchOptional {
    /// The ETag of the resource as read (a result not yet recorded is at "0"); `*`:
    /// whatever it is now.
    #[param(
        rename = "If-Match",
        pattern = r#"^(?:\*|(?:W/)?"[0-9]{1,19}")?$"#,
        nullable = false
    )]
    pub if_match: Option<String>,
}

/// What an `If-Match` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No header, or `*`: whatever is stored.
    Any,
    /// That version only.
    Version(u64),
    /// An empty list of entity-tags: nothing matches (412).
    Nothing,
}

/// Parses `If-Match` exactly as `IF_MATCH_PATTERN` says.
pub fn parse_if_match(raw: &str) -> Result<Precondition, FieldError> {
    let invalid = || FieldError::new("If-Match", "must be an ETag this API gave out, like \"3\", or *");
    let raw = raw.trim();
    match raw {
        "*" => return Ok(Precondition::Any),
        "" => return Ok(Precondition::Nothing),
        _ => {}
    }
    let digits = raw
        .strip_prefix("W/")
        .unwrap_or(raw)
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|d| (1..=19).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(invalid)?;
    digits.parse().map(Precondition::Version).map_err(|_| invalid())
}

// ---- responses ----

/// The schema of `domain::marathon::MarathonStatus`, which serializes itself.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum MarathonStatus {
    Open,
    Cancelled,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Training,
    Race,
}

/// A marathon as everyone reads it. Its ETag is `version`, quoted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Marathon {
    pub id: String,
    pub organizer_id: String,
    pub name: String,
    pub date: Date,
    pub location: String,
    #[schema(schema_with = course)]
    pub course: serde_json::Value,
    /// The course in metres.
    pub distance_m: u32,
    pub points: u32,
    /// Points a dnf earns.
    pub dnf_points: u32,
    pub capacity: u32,
    /// Runners registered.
    pub entry_count: u32,
    /// Official results recorded; once there is one, `points` is fixed.
    pub result_count: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub registration_closes_at: OffsetDateTime,
    #[schema(value_type = MarathonStatus)]
    pub status: domain::marathon::MarathonStatus,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<&domain::marathon::Marathon> for Marathon {
    fn from(m: &domain::marathon::Marathon) -> Self {
        Self {
            id: m.id.to_string(),
            organizer_id: m.organizer_id.to_string(),
            name: m.name.clone(),
            date: m.date,
            location: m.location.clone(),
            course: m.course.to_json(),
            distance_m: m.distance_m,
            points: m.points,
            dnf_points: m.dnf_points,
            capacity: m.capacity,
            entry_count: m.entry_count,
            result_count: m.result_count,
            registration_closes_at: m.registration_closes_at,
            status: m.status,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A runner's registration.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub marathon_id: String,
    pub runner_id: String,
    pub runner_name: String,
    pub marathon_name: String,
    pub marathon_date: Date,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    /// The race number (null for entries from before bibs).
    #[schema(minimum = 1, maximum = 99999)]
    pub bib: Option<u32>,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        Self {
            marathon_id: e.marathon_id.to_string(),
            runner_id: e.runner_id.to_string(),
            runner_name: e.runner_name.as_str().to_owned(),
            marathon_name: e.marathon_name,
            marathon_date: e.marathon_date,
            registered_at: e.registered_at,
            bib: e.bib.map(domain::race::Bib::number),
        }
    }
}

/// An official result. Its ETag is `version`, quoted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Result)]
pub struct ResultView {
    pub marathon_id: String,
    pub marathon_name: String,
    pub marathon_date: Date,
    pub runner_id: String,
    pub runner_name: String,
    #[schema(value_type = ResultStatusSchema)]
    pub status: domain::race::ResultStatus,
    /// The runner's race number, when the result was written.
    pub bib: Option<u32>,
    /// The runner's category on race day ("F40"); null when their profile does not say.
    pub category: Option<String>,
    /// The chip time in seconds; null without one (dnf, dns).
    pub finish_seconds: Option<u32>,
    /// The chip time, "H:MM:SS" (the name predates gun times).
    pub finish_time: Option<String>,
    /// The same as `finish_time`.
    pub chip_time: Option<String>,
    /// "H:MM:SS".
    pub gun_time: Option<String>,
    pub gun_seconds: Option<u32>,
    pub splits: Vec<SplitView>,
    /// The chip time per kilometre of the course ("4:13/km"); null without a chip time,
    /// and in listings across marathons.
    pub pace: Option<String>,
    pub pace_seconds_per_km: Option<u32>,
    /// The chip time's age-graded percentage (USATF MLDR 2025 road tables, the successors
    /// of the WMA ones), from the runner's private profile; null without a finish, a sex
    /// of female or male and a birth date or year.
    pub age_grade: Option<f64>,
    pub bonus_points: u32,
    /// What this result adds to the runner's total: a finish the marathon's points plus
    /// the bonus, a dnf the marathon's dnf points, a dns or dq nothing.
    pub points: u32,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A split as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct SplitView {
    pub label: String,
    /// "H:MM:SS".
    pub time: String,
    pub seconds: u32,
}

/// The schema of `domain::race::ResultStatus`, which serializes itself.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase", as = ResultStatus)]
#[allow(dead_code)]
pub enum ResultStatusSchema {
    Finished,
    Dnf,
    Dns,
    Dq,
}

impl From<OfficialResult> for ResultView {
    fn from(r: OfficialResult) -> Self {
        Self {
            marathon_id: r.marathon_id.to_string(),
            marathon_name: r.marathon_name,
            marathon_date: r.marathon_date,
            runner_id: r.runner_id.to_string(),
            runner_name: r.runner_name.as_str().to_owned(),
            status: r.status,
            bib: r.bib.map(domain::race::Bib::number),
            category: r.category.map(|c| c.label()),
            finish_seconds: r.finish_seconds,
            chip_time: r.finish_time.clone(),
            finish_time: r.finish_time,
            gun_time: r.gun_seconds.map(|s| FinishTime::from_seconds(s).display()),
            gun_seconds: r.gun_seconds,
            splits: r
                .splits
                .as_slice()
                .iter()
                .map(|s| SplitView {
                    label: s.label.clone(),
                    time: s.time.display(),
                    seconds: s.time.seconds(),
                })
                .collect(),
            pace: None,
            pace_seconds_per_km: None,
            age_grade: r.age_grade.map(|g| f64::from(g) / 100.0),
            bonus_points: r.bonus_points,
            points: r.points,
            version: r.version,
            recorded_at: r.recorded_at,
            updated_at: r.updated_at,
        }
    }
}

impl ResultView {
    /// With the pace over the marathon's course.
    pub fn with_pace(mut self, distance_m: u32) -> Self {
        let pace = self
            .finish_seconds
            .and_then(|s| domain::race::pace_per_km(FinishTime::from_seconds(s), distance_m));
        self.pace = pace.map(domain::race::pace_display);
        self.pace_seconds_per_km = pace;
        self
    }
}

/// A result in a marathon's ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedResult {
    /// The place among all finishers, 1 for the fastest chip time (ties by runner id);
    /// null for a dnf, dns or dq, listed after the finishers.
    #[schema(minimum = 1)]
    pub rank: Option<u64>,
    /// The place among the finishers of the result's category; null without a category
    /// or a finish.
    #[schema(minimum = 1)]
    pub category_rank: Option<u64>,
    #[serde(flatten)]
    pub result: ResultView,
}

/// A private record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: String,
    pub runner_id: String,
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

impl From<Record> for RecordView {
    fn from(r: Record) -> Self {
        Self {
            id: r.id,
            runner_id: r.runner_id.to_string(),
            kind: match r.kind {
                domain::record::RecordKind::Training => RecordKind::Training,
                domain::record::RecordKind::Race => RecordKind::Race,
            },
            date: r.date,
            distance_m: r.distance_m,
            duration_seconds: r.duration_seconds,
            notes: r.notes,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One result's contribution to the runner's total, as last applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct AwardView {
    pub result_id: String,
    pub marathon_id: String,
    pub points: u32,
    /// The result version this award reflects.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Award> for AwardView {
    fn from(a: Award) -> Self {
        Self {
            result_id: a.result_id,
            marathon_id: a.marathon_id.to_string(),
            points: a.points,
            version: a.version,
            updated_at: a.updated_at,
        }
    }
}

/// The runner's total and every award, newest change first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsSummaryView {
    pub total: i64,
    pub history: Vec<AwardView>,
}

impl From<PointsSummary> for PointsSummaryView {
    fn from(s: PointsSummary) -> Self {
        Self {
            total: s.total,
            history: s.history.into_iter().map(AwardView::from).collect(),
        }
    }
}

/// Anyone's total.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunnerPoints {
    pub runner_id: String,
    pub name: String,
    pub total: i64,
}

impl RunnerPoints {
    pub fn new(user: &domain::PublicProfile, total: i64) -> Self {
        Self {
            runner_id: user.id.to_string(),
            name: user.name.as_str().to_owned(),
            total,
        }
    }
}

/// A page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when there is more: pass it back as `cursor`.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn of<D>(page: domain::paging::Page<D>) -> Self
    where
        T: From<D>,
    {
        Self {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_entity_tags_and_star() {
        assert_eq!(parse_if_match("\"3\"").unwrap(), Precondition::Version(3));
        assert_eq!(parse_if_match("W/\"3\"").unwrap(), Precondition::Version(3));
        assert_eq!(parse_if_match("*").unwrap(), Precondition::Any);
        assert_eq!(parse_if_match("").unwrap(), Precondition::Nothing);
        assert_eq!(
            parse_if_match("\"9999999999999999999\"").unwrap(),
            Precondition::Version(9_999_999_999_999_999_999)
        );
        for bad in [
            "3",
            "\"3",
            "\"\"",
            "\"+3\"",
            "\"12345678901234567890\"",
            "W/3",
            "\"3\" x",
        ] {
            assert!(parse_if_match(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn if_match_pattern_says_what_the_parser_takes() {
        let pattern = regex::Regex::new(IF_MATCH_PATTERN).unwrap();
        for value in [
            "\"3\"",
            "W/\"3\"",
            "*",
            "",
            "3",
            "\"3",
            "\"+3\"",
            "\"12345678901234567890\"",
            "W/3",
            "\"\"",
        ] {
            assert_eq!(pattern.is_match(value), parse_if_match(value).is_ok(), "{value}");
        }
    }

    #[test]
    fn finish_time_pattern_says_what_the_domain_takes() {
        let pattern = regex::Regex::new(&finish_time_pattern()).unwrap();
        let mut checked = 0;
        for h in [
            "0", "00", "1", "01", "9", "09", "10", "95", "96", "97", "99", "100", "", "x",
        ] {
            for m in ["00", "01", "0", "59", "60", "5"] {
                for s in ["00", "01", "59", "60", "1"] {
                    for pad in ["", " ", "\t"] {
                        let value = format!("{pad}{h}:{m}:{s}{pad}");
                        let domain = FinishTime::parse(&serde_json::Value::from(value.clone())).is_ok();
                        assert_eq!(pattern.is_match(&value), domain, "{value:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 500);
    }
}
