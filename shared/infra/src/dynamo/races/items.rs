//! The Races table's item layout: each item is its entity's serde form plus the key and
//! index attributes below. Other functions read these items (the result stream), so the
//! names here are a contract.

use domain::UserId;
use domain::entry::Entry;
use domain::marathon::{Marathon, MarathonId};
use domain::ports::StoreError;
use domain::race::{Bib, Category, ResultStatus, Splits};
use domain::record::Record;
use domain::result::{FinishTime, OfficialResult, result_id};
use domain::user::UserName;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::dynamo::{Item, n, s};

pub(super) use crate::dynamo::keys::{
    ALL_MARATHONS, BIB_SEQ, ENTRY_PREFIX, PENDING, PENDING_AWARD, PENDING_SINCE, RECORD_PREFIX,
    RESULT_PREFIX, bib_key, entry_key, marathon_key, marathon_pk, organizer_pk, race_profile_key, rank_pk,
    record_key, result_key, runner_pk, tombstone_key,
};

// The ranking key pads finish times to six digits; a longer time would sort wrongly.
const _: () = assert!(FinishTime::MAX_SECONDS <= 999_999);

/// `YYYY-MM-DD`: sorts as text in date order, so it can lead a sort key.
pub(super) fn iso_date(date: Date) -> Result<String, StoreError> {
    date.format(format_description!("[year]-[month]-[day]"))
        .map_err(corrupt)
}

pub(super) use crate::dynamo::errors::corrupt;

fn with_attributes<T: Serialize>(entity: &T, attributes: Item) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(entity).map_err(corrupt)?;
    item.extend(attributes);
    Ok(item)
}

pub(super) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(corrupt)
}

pub(super) fn marathon_item(marathon: &Marathon) -> Result<Item, StoreError> {
    let by_date = format!("{}#{}", iso_date(marathon.date)?, marathon.id);
    let mut attributes = marathon_key(&marathon.id);
    attributes.extend([
        ("gsi1pk".to_owned(), s(organizer_pk(&marathon.organizer_id))),
        ("gsi1sk".to_owned(), s(by_date.clone())),
        ("gsi2pk".to_owned(), s(ALL_MARATHONS)),
        ("gsi2sk".to_owned(), s(by_date)),
        // a number, so registration's condition can compare it with the request's time
        (
            "registration_closes_epoch".to_owned(),
            n(marathon.registration_closes_at.unix_timestamp()),
        ),
    ]);
    with_attributes(marathon, attributes)
}

pub(super) fn entry_item(entry: &Entry) -> Result<Item, StoreError> {
    let mut attributes = entry_key(&entry.marathon_id, &entry.runner_id);
    attributes.extend([
        ("gsi1pk".to_owned(), s(runner_pk(&entry.runner_id))),
        (
            "gsi1sk".to_owned(),
            s(format!(
                "{ENTRY_PREFIX}{}#{}",
                iso_date(entry.marathon_date)?,
                entry.marathon_id
            )),
        ),
    ]);
    with_attributes(entry, attributes)
}

/// An official result as the Races table stores it, and so as its stream's images show it
/// to official-record-stream: the result's fields and its id (the key and index
/// attributes sit beside them and are not read back). The domain's `OfficialResult` and
/// the events' `ResultChange` are made from it, never decoded from the item themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultItem {
    /// `<marathon>.<runner>`: what the points pipeline keys awards on.
    pub result_id: String,
    pub marathon_id: MarathonId,
    pub marathon_name: String,
    pub marathon_date: Date,
    pub runner_id: UserId,
    pub runner_name: UserName,
    /// The chip time; absent for a result without one (dnf, dns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<String>,
    pub bonus_points: u32,
    pub points: u32,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The request that made this version, carried on to the events it causes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Absent in items from before statuses: a finish.
    #[serde(default)]
    pub status: ResultStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gun_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Splits::is_empty")]
    pub splits: Splits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib: Option<Bib>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The bulk import that wrote this version (None for a single PUT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
    /// Hundredths of a percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_grade: Option<u32>,
}

impl From<&OfficialResult> for ResultItem {
    fn from(r: &OfficialResult) -> Self {
        Self {
            result_id: result_id(&r.marathon_id, &r.runner_id),
            marathon_id: r.marathon_id.clone(),
            marathon_name: r.marathon_name.clone(),
            marathon_date: r.marathon_date,
            runner_id: r.runner_id.clone(),
            runner_name: r.runner_name.clone(),
            finish_seconds: r.finish_seconds,
            finish_time: r.finish_time.clone(),
            bonus_points: r.bonus_points,
            points: r.points,
            version: r.version,
            recorded_at: r.recorded_at,
            updated_at: r.updated_at,
            correlation_id: r.correlation_id.clone(),
            status: r.status,
            gun_seconds: r.gun_seconds,
            splits: r.splits.clone(),
            bib: r.bib,
            category: r.category,
            import_id: r.import_id.clone(),
            age_grade: r.age_grade,
        }
    }
}

impl From<ResultItem> for OfficialResult {
    fn from(r: ResultItem) -> Self {
        Self {
            marathon_id: r.marathon_id,
            marathon_name: r.marathon_name,
            marathon_date: r.marathon_date,
            runner_id: r.runner_id,
            runner_name: r.runner_name,
            finish_seconds: r.finish_seconds,
            finish_time: r.finish_time,
            bonus_points: r.bonus_points,
            points: r.points,
            version: r.version,
            recorded_at: r.recorded_at,
            updated_at: r.updated_at,
            correlation_id: r.correlation_id,
            status: r.status,
            gun_seconds: r.gun_seconds,
            splits: r.splits,
            bib: r.bib,
            category: r.category,
            import_id: r.import_id,
            age_grade: r.age_grade,
        }
    }
}

pub(super) fn result_item(result: &OfficialResult) -> Result<Item, StoreError> {
    let mut attributes = result_key(&result.marathon_id, &result.runner_id);
    attributes.extend([
        ("gsi1pk".to_owned(), s(runner_pk(&result.runner_id))),
        (
            "gsi1sk".to_owned(),
            s(format!(
                "{RESULT_PREFIX}{}#{}",
                iso_date(result.marathon_date)?,
                result.marathon_id
            )),
        ),
        ("gsi3pk".to_owned(), s(rank_pk(&result.marathon_id))),
        ("gsi3sk".to_owned(), s(rank_position(result))),
        // until the ledger has applied this version (the `pending` index, see keys)
        (PENDING.to_owned(), s(PENDING_AWARD)),
        (PENDING_SINCE.to_owned(), n(result.updated_at.unix_timestamp())),
    ]);
    with_attributes(&ResultItem::from(result), attributes)
}

/// Where a result sits in its marathon's ranking (gsi3's sort key): the domain's
/// `OfficialResult::rank_position`, which the in-memory store orders by too.
pub(super) fn rank_position(result: &OfficialResult) -> String {
    result.rank_position()
}

pub(super) fn record_item(record: &Record) -> Result<Item, StoreError> {
    with_attributes(record, record_key(&record.runner_id, &record.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_result_item_is_the_result_its_id_and_its_keys_and_reads_back_the_same() {
        let (marathon, runner) = (MarathonId::generate(), UserId::generate());
        let result = OfficialResult {
            marathon_id: marathon.clone(),
            marathon_name: "Seoul".into(),
            marathon_date: date!(2027 - 03 - 21),
            runner_id: runner.clone(),
            runner_name: UserName::parse("Kim").unwrap(),
            finish_seconds: Some(10_800),
            finish_time: Some("3:00:00".into()),
            bonus_points: 10,
            points: 110,
            version: 2,
            recorded_at: datetime!(2026-11-21 10:00 UTC),
            updated_at: datetime!(2026-11-21 11:00 UTC),
            correlation_id: Some("c-1".into()),
            status: ResultStatus::Finished,
            gun_seconds: Some(10_830),
            splits: Splits::new(vec![("Half".into(), FinishTime::from_seconds(5_300))]).unwrap(),
            bib: Bib::new(42),
            category: Category::parse("F40").ok(),
            import_id: None,
            age_grade: Some(6_543),
        };
        let item = result_item(&result).unwrap();
        let text = |name: &str| item[name].as_s().unwrap().clone();
        assert_eq!(text("result_id"), result_id(&marathon, &runner));
        assert_eq!(text("sk"), crate::dynamo::keys::result_sk(&runner));
        assert_eq!(text("gsi3sk"), format!("010800#{runner}"));
        assert_eq!(text("pending"), "AWARD", "pending until the ledger applies it");
        assert_eq!(item["pending_since"].as_n().unwrap(), "1795258800");
        let stored: ResultItem = serde_dynamo::from_item(item).unwrap();
        assert_eq!(stored.result_id, result_id(&marathon, &runner));
        assert_eq!(OfficialResult::from(stored), result);
    }

    #[test]
    fn the_ranking_puts_finishers_by_time_then_the_unranked_by_status() {
        let base = OfficialResult {
            marathon_id: MarathonId::generate(),
            marathon_name: "Seoul".into(),
            marathon_date: date!(2027 - 03 - 21),
            runner_id: UserId::generate(),
            runner_name: UserName::parse("Kim").unwrap(),
            finish_seconds: Some(10_800),
            finish_time: Some("3:00:00".into()),
            bonus_points: 0,
            points: 100,
            version: 1,
            recorded_at: datetime!(2026-11-21 10:00 UTC),
            updated_at: datetime!(2026-11-21 10:00 UTC),
            correlation_id: None,
            status: ResultStatus::Finished,
            gun_seconds: None,
            splits: Splits::default(),
            bib: None,
            category: None,
            import_id: None,
            age_grade: None,
        };
        let with = |status, seconds: Option<u32>| {
            rank_position(&OfficialResult {
                status,
                finish_seconds: seconds,
                ..base.clone()
            })
        };
        let order = [
            with(ResultStatus::Finished, Some(9_000)),
            with(ResultStatus::Finished, Some(FinishTime::MAX_SECONDS)),
            with(ResultStatus::Dnf, None),
            with(ResultStatus::Dns, None),
            with(ResultStatus::Dq, Some(8_000)),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        // a finish keeps the key it had before statuses
        assert_eq!(order[0], format!("009000#{}", base.runner_id));
    }
}
