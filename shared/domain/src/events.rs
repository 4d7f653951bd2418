//! Message contracts: one versioned envelope for every SNS/SQS body and one event enum per
//! topic, used by producer and consumer alike. `Envelope<ResultEvent>` travels on
//! record-events, `Envelope<PointsEvent>` on points-events: a consumer cannot receive, and
//! a publisher cannot send, the other topic's events.
//!
//! The wire form, unchanged since schema 1:
//! `{"schema":1,"id":..,"occurred_at":..,"correlation_id":..,"type":..,"data":{..}}`
//! (`correlation_id` omitted when absent). It is read by a hand-written visitor, not with
//! `#[serde(flatten)]` (which buffers every field before decoding it again): `data` is
//! decoded in place once `type` has been read, as every producer writes it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::marathon::MarathonId;
use crate::user::UserId;

/// The envelope's schema version; a consumer refuses any other.
pub const SCHEMA: u32 = 1;

/// The events one topic carries. `Serialize` writes the variant's `data` only (the enums
/// are `#[serde(untagged)]` for that); the `type` is `kind`, and `decode` reads `data`
/// back for a given `type`.
pub trait TopicEvent: Serialize + Sized + Send + Sync + 'static {
    /// The topic's name in template.yaml, for logs.
    const TOPIC: &'static str;

    /// The `type` on the wire, also sent as an SNS message attribute for filter policies.
    fn kind(&self) -> &'static str;

    /// Decodes `data` for the `type` `kind`; an unknown type is an error.
    fn decode<'de, D: Deserializer<'de>>(kind: &str, data: D) -> Result<Self, D::Error>;
}

/// What the record-events topic carries: official results as official-record-stream
/// translates them from the Races table's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ResultEvent {
    Recorded(ResultChange),
    Corrected(ResultChange),
    Removed(ResultChange),
}

impl ResultEvent {
    pub const RECORDED: &'static str = "result.recorded";
    pub const CORRECTED: &'static str = "result.corrected";
    pub const REMOVED: &'static str = "result.removed";

    /// Every result event carries the result's contribution at a version.
    pub fn change(&self) -> &ResultChange {
        match self {
            Self::Recorded(c) | Self::Corrected(c) | Self::Removed(c) => c,
        }
    }

    pub fn into_change(self) -> ResultChange {
        match self {
            Self::Recorded(c) | Self::Corrected(c) | Self::Removed(c) => c,
        }
    }
}

impl TopicEvent for ResultEvent {
    const TOPIC: &'static str = "record-events";

    fn kind(&self) -> &'static str {
        match self {
            Self::Recorded(_) => Self::RECORDED,
            Self::Corrected(_) => Self::CORRECTED,
            Self::Removed(_) => Self::REMOVED,
        }
    }

    fn decode<'de, D: Deserializer<'de>>(kind: &str, data: D) -> Result<Self, D::Error> {
        let variant = match kind {
            Self::RECORDED => Self::Recorded,
            Self::CORRECTED => Self::Corrected,
            Self::REMOVED => Self::Removed,
            other => {
                return Err(de::Error::unknown_variant(
                    other,
                    &[Self::RECORDED, Self::CORRECTED, Self::REMOVED],
                ));
            }
        };
        ResultChange::deserialize(data).map(variant)
    }
}

/// What the points-events topic carries: point-increase's announcements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PointsEvent {
    Awarded(PointsAwarded),
    /// Published by results-import once per committed import.
    Imported(ResultsImported),
}

impl PointsEvent {
    pub const AWARDED: &'static str = "points.awarded";
    pub const IMPORTED: &'static str = "results.imported";
}

impl TopicEvent for PointsEvent {
    const TOPIC: &'static str = "points-events";

    fn kind(&self) -> &'static str {
        match self {
            Self::Awarded(_) => Self::AWARDED,
            Self::Imported(_) => Self::IMPORTED,
        }
    }

    fn decode<'de, D: Deserializer<'de>>(kind: &str, data: D) -> Result<Self, D::Error> {
        match kind {
            Self::AWARDED => PointsAwarded::deserialize(data).map(Self::Awarded),
            Self::IMPORTED => ResultsImported::deserialize(data).map(Self::Imported),
            other => Err(de::Error::unknown_variant(
                other,
                &[Self::AWARDED, Self::IMPORTED],
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<E> {
    pub schema: u32,
    /// Unique per event; redeliveries keep it, re-publishes do not. Idempotency keys on
    /// the domain (result id + version), never on this.
    pub id: String,
    pub occurred_at: OffsetDateTime,
    /// Starts at the HTTP request and travels through every hop.
    pub correlation_id: Option<String>,
    pub event: E,
}

/// An official result's new target contribution at a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultChange {
    pub result_id: String,
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    /// The marathon's date: the award's season is its year (the season leaderboard).
    /// Absent from events published before it was added, which still decode; written
    /// only when present, so such events keep their exact wire form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marathon_date: Option<Date>,
    pub runner_id: UserId,
    pub runner_name: String,
    /// Marathon points + bonus; 0 once removed.
    pub points: u32,
    pub version: u64,
    /// The bulk import that wrote this version; absent for a single PUT and a removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
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
    /// Copied from the result event: an imported award is not posted on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
}

/// A bulk import finished applying its rows: the one Discord post an import makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsImported {
    pub import_id: String,
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    /// Results written (new and corrected).
    pub applied: u32,
    /// Results removed ("replace" imports).
    #[serde(default)]
    pub removed: u32,
    /// Rows refused by validation.
    pub failed: u32,
    /// The fastest finishers per category, fastest first (overall when the marathon has
    /// no categories): at most three each.
    pub podiums: Vec<Podium>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Podium {
    /// "overall", or the category's label.
    pub category: String,
    pub places: Vec<PodiumPlace>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodiumPlace {
    pub runner_id: UserId,
    pub runner_name: String,
    pub chip_time: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContractError {
    #[error("not an event envelope: {0}")]
    Malformed(String),
    #[error("unsupported schema {0}")]
    Schema(u32),
}

impl<E: TopicEvent> Envelope<E> {
    pub fn new(event: E, occurred_at: OffsetDateTime, correlation_id: Option<String>) -> Self {
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
        self.event.kind()
    }

    /// The body to publish. Fails only for a time RFC 3339 cannot write (a year outside
    /// 0..=9999), which a publisher must refuse rather than send.
    pub fn to_json(&self) -> Result<String, ContractError> {
        serde_json::to_string(self).map_err(|e| ContractError::Malformed(e.to_string()))
    }

    /// Parses a message body; an unknown type (for this topic) or schema is a permanent
    /// failure.
    pub fn parse(body: &str) -> Result<Self, ContractError> {
        let envelope: Self =
            serde_json::from_str(body).map_err(|e| ContractError::Malformed(e.to_string()))?;
        if envelope.schema != SCHEMA {
            return Err(ContractError::Schema(envelope.schema));
        }
        Ok(envelope)
    }
}

/// The `correlation_id` of a body that is not an envelope of the expected topic (another
/// topic's event, a newer schema), for the log line that refuses it; None if unreadable.
pub fn correlation_id(body: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Peek {
        #[serde(default)]
        correlation_id: Option<String>,
    }
    serde_json::from_str::<Peek>(body).ok()?.correlation_id
}

/// `occurred_at` on the wire.
struct Rfc3339<'a>(&'a OffsetDateTime);

impl Serialize for Rfc3339<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(self.0, serializer)
    }
}

#[derive(Deserialize)]
struct At(#[serde(with = "time::serde::rfc3339")] OffsetDateTime);

impl<E: TopicEvent> Serialize for Envelope<E> {
    /// Field order as schema 1 has always had it (the `type`/`data` pair last).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = if self.correlation_id.is_some() { 6 } else { 5 };
        let mut s = serializer.serialize_struct("Envelope", fields)?;
        s.serialize_field("schema", &self.schema)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("occurred_at", &Rfc3339(&self.occurred_at))?;
        match &self.correlation_id {
            Some(correlation) => s.serialize_field("correlation_id", correlation)?,
            None => s.skip_field("correlation_id")?,
        }
        s.serialize_field("type", self.event.kind())?;
        s.serialize_field("data", &self.event)?;
        s.end()
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Schema,
    Id,
    OccurredAt,
    CorrelationId,
    Type,
    Data,
    #[serde(other)]
    Other,
}

/// `data` decoded in place for a `type` already read.
struct Data<'k, E> {
    kind: &'k str,
    event: PhantomData<E>,
}

impl<'de, E: TopicEvent> DeserializeSeed<'de> for Data<'_, E> {
    type Value = E;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<E, D::Error> {
        E::decode(self.kind, deserializer)
    }
}

struct EnvelopeVisitor<E>(PhantomData<E>);

impl<'de, E: TopicEvent> Visitor<'de> for EnvelopeVisitor<E> {
    type Value = Envelope<E>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<E>, A::Error> {
        fn twice<Err: de::Error>(field: &'static str) -> Err {
            de::Error::duplicate_field(field)
        }
        let (mut schema, mut id, mut occurred_at, mut correlation_id) = (None, None, None, None);
        let mut kind: Option<String> = None;
        let mut event: Option<E> = None;
        // `data` before `type`: kept as JSON until the type is known (no producer of ours
        // writes that order, but JSON objects are unordered)
        let mut early: Option<serde_json::Value> = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Schema if schema.is_some() => return Err(twice("schema")),
                Field::Schema => schema = Some(map.next_value::<u32>()?),
                Field::Id if id.is_some() => return Err(twice("id")),
                Field::Id => id = Some(map.next_value::<String>()?),
                Field::OccurredAt if occurred_at.is_some() => return Err(twice("occurred_at")),
                Field::OccurredAt => occurred_at = Some(map.next_value::<At>()?.0),
                Field::CorrelationId if correlation_id.is_some() => {
                    return Err(twice("correlation_id"));
                }
                Field::CorrelationId => correlation_id = Some(map.next_value::<Option<String>>()?),
                Field::Type if kind.is_some() => return Err(twice("type")),
                Field::Type => kind = Some(map.next_value::<String>()?),
                Field::Data if event.is_some() || early.is_some() => return Err(twice("data")),
                Field::Data => match kind.as_deref() {
                    Some(kind) => {
                        event = Some(map.next_value_seed(Data {
                            kind,
                            event: PhantomData,
                        })?)
                    }
                    None => early = Some(map.next_value()?),
                },
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
        let event = match (event, early) {
            (Some(event), _) => event,
            (None, Some(data)) => E::decode(&kind, data).map_err(de::Error::custom)?,
            (None, None) => return Err(de::Error::missing_field("data")),
        };
        Ok(Envelope {
            schema: schema.ok_or_else(|| de::Error::missing_field("schema"))?,
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            occurred_at: occurred_at.ok_or_else(|| de::Error::missing_field("occurred_at"))?,
            correlation_id: correlation_id.flatten(),
            event,
        })
    }
}

impl<'de, E: TopicEvent> Deserialize<'de> for Envelope<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn change() -> ResultChange {
        ResultChange {
            result_id: "m.r".into(),
            marathon_id: MarathonId::parse("01JAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
            marathon_name: "Seoul".into(),
            marathon_date: None,
            runner_id: UserId::parse("01JBBBBBBBBBBBBBBBBBBBBBBB").unwrap(),
            runner_name: "Kim".into(),
            points: 110,
            version: 3,
            import_id: None,
        }
    }

    #[test]
    fn the_wire_form_is_the_documented_envelope_byte_for_byte() {
        let mut envelope = Envelope::new(
            ResultEvent::Recorded(change()),
            datetime!(2026-11-21 10:00 UTC),
            Some("c-1".into()),
        );
        envelope.id = "01JE".into();
        // what schema 1 has always put on the wire (the former flattened encoding)
        let expected = r#"{"schema":1,"id":"01JE","occurred_at":"2026-11-21T10:00:00Z","correlation_id":"c-1","type":"result.recorded","data":{"result_id":"m.r","marathon_id":"01JAAAAAAAAAAAAAAAAAAAAAAA","marathon_name":"Seoul","runner_id":"01JBBBBBBBBBBBBBBBBBBBBBBB","runner_name":"Kim","points":110,"version":3}}"#;
        assert_eq!(envelope.to_json().unwrap(), expected);
        assert_eq!(Envelope::parse(expected), Ok(envelope.clone()));
        assert_eq!(envelope.kind(), "result.recorded");
        envelope.correlation_id = None;
        assert!(!envelope.to_json().unwrap().contains("correlation_id"));
        assert_eq!(Envelope::parse(&envelope.to_json().unwrap()), Ok(envelope));
    }

    #[test]
    fn the_marathon_date_travels_and_old_events_without_it_still_decode() {
        let mut dated = change();
        dated.marathon_date = Some(time::macros::date!(2027 - 03 - 21));
        let envelope = Envelope::new(
            ResultEvent::Corrected(dated),
            datetime!(2027-03-21 10:00 UTC),
            None,
        );
        let json = envelope.to_json().unwrap();
        assert!(
            json.contains(r#""marathon_name":"Seoul","marathon_date":"2027-03-21","runner_id""#),
            "{json}"
        );
        assert_eq!(Envelope::parse(&json), Ok(envelope));
        // what a producer from before the field published
        let old = r#"{"schema":1,"id":"01JE","occurred_at":"2026-11-21T10:00:00Z","type":"result.removed","data":{"result_id":"m.r","marathon_id":"01JAAAAAAAAAAAAAAAAAAAAAAA","marathon_name":"Seoul","runner_id":"01JBBBBBBBBBBBBBBBBBBBBBBB","runner_name":"Kim","points":0,"version":4}}"#;
        let parsed = Envelope::<ResultEvent>::parse(old).unwrap();
        assert_eq!(parsed.event.change().marathon_date, None);
        assert_eq!(parsed.to_json().unwrap(), old);
    }

    #[test]
    fn an_import_summary_round_trips_and_an_award_without_import_id_reads_as_before() {
        let summary = Envelope::new(
            PointsEvent::Imported(ResultsImported {
                import_id: "01JIMPORT".into(),
                marathon_id: change().marathon_id,
                marathon_name: "Seoul".into(),
                applied: 997,
                removed: 0,
                failed: 3,
                podiums: vec![Podium {
                    category: "overall".into(),
                    places: vec![PodiumPlace {
                        runner_id: change().runner_id,
                        runner_name: "Kim".into(),
                        chip_time: "2:10:01".into(),
                    }],
                }],
            }),
            datetime!(2026-11-21 10:00 UTC),
            None,
        );
        assert_eq!(summary.kind(), "results.imported");
        assert_eq!(Envelope::parse(&summary.to_json().unwrap()), Ok(summary));
        // what point-increase published before imports existed
        let old = r#"{"schema":1,"id":"e","occurred_at":"2026-11-21T10:00:00Z","type":"points.awarded","data":{"runner_id":"01JBBBBBBBBBBBBBBBBBBBBBBB","runner_name":"Kim","marathon_id":"01JAAAAAAAAAAAAAAAAAAAAAAA","marathon_name":"Seoul","result_id":"m.r","delta":1,"total":1,"result_version":1}}"#;
        let PointsEvent::Awarded(award) = Envelope::<PointsEvent>::parse(old).unwrap().event else {
            panic!("not an award");
        };
        assert_eq!(award.import_id, None);
    }

    #[test]
    fn every_kind_round_trips_and_data_may_come_first() {
        let at = datetime!(2026-11-21 10:00 UTC);
        for event in [
            ResultEvent::Recorded(change()),
            ResultEvent::Corrected(change()),
            ResultEvent::Removed(change()),
        ] {
            let envelope = Envelope::new(event, at, None);
            assert_eq!(Envelope::parse(&envelope.to_json().unwrap()), Ok(envelope));
        }
        let awarded = Envelope::new(
            PointsEvent::Awarded(PointsAwarded {
                runner_id: change().runner_id,
                runner_name: "Kim".into(),
                marathon_id: change().marathon_id,
                marathon_name: "Seoul".into(),
                result_id: "m.r".into(),
                delta: -10,
                total: 100,
                result_version: 4,
                import_id: Some("01JIMPORT".into()),
            }),
            at,
            Some("c".into()),
        );
        assert_eq!(Envelope::parse(&awarded.to_json().unwrap()), Ok(awarded.clone()));
        let json: serde_json::Value = serde_json::from_str(&awarded.to_json().unwrap()).unwrap();
        let reordered = format!(
            r#"{{"data":{},"extra":[1],"type":"points.awarded","occurred_at":"2026-11-21T10:00:00Z","id":{},"schema":1,"correlation_id":"c"}}"#,
            json["data"], json["id"]
        );
        assert_eq!(Envelope::parse(&reordered), Ok(awarded));
    }

    #[test]
    fn the_other_topics_events_unknown_types_schemas_and_garbage_are_refused() {
        let recorded = Envelope::new(ResultEvent::Removed(change()), OffsetDateTime::UNIX_EPOCH, None);
        // a result event is not a points event, and the other way round
        assert!(matches!(
            Envelope::<PointsEvent>::parse(&recorded.to_json().unwrap()),
            Err(ContractError::Malformed(_))
        ));
        let mut json: serde_json::Value = serde_json::from_str(&recorded.to_json().unwrap()).unwrap();
        json["type"] = "points.awarded".into();
        assert!(Envelope::<ResultEvent>::parse(&json.to_string()).is_err());
        json["correlation_id"] = "c-9".into();
        assert_eq!(correlation_id(&json.to_string()).as_deref(), Some("c-9"));
        assert_eq!(correlation_id("not json"), None);
        json["type"] = "result.exploded".into();
        assert!(matches!(
            Envelope::<ResultEvent>::parse(&json.to_string()),
            Err(ContractError::Malformed(_))
        ));
        json["type"] = "result.removed".into();
        json["schema"] = 2.into();
        assert_eq!(
            Envelope::<ResultEvent>::parse(&json.to_string()),
            Err(ContractError::Schema(2))
        );
        json["schema"] = 1.into();
        json["data"]["points"] = "many".into();
        assert!(Envelope::<ResultEvent>::parse(&json.to_string()).is_err());
        let body = recorded.to_json().unwrap();
        for bad in [
            "not json".to_owned(),
            "{}".to_owned(),
            "[]".to_owned(),
            body.replace(r#""schema":1,"#, r#""schema":1,"schema":1,"#),
            body.replace(r#","data":"#, r#","nodata":"#),
        ] {
            assert!(Envelope::<ResultEvent>::parse(&bad).is_err(), "{bad}");
        }
    }
}
