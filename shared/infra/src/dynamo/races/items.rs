//! The Races table's item layout: each item is its entity's serde form plus the key and
//! index attributes below. Other functions read these items (the result stream), so the
//! names here are a contract.

use domain::UserId;
use domain::entry::Entry;
use domain::marathon::{Marathon, MarathonId};
use domain::ports::StoreError;
use domain::record::Record;
use domain::result::{FinishTime, OfficialResult, result_id};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Date;
use time::macros::format_description;

use crate::dynamo::{Item, key, n, s};

pub(super) const META: &str = "META";
pub(super) const ENTRY_PREFIX: &str = "ENTRY#";
/// The result stream consumer recognises official results by this `sk` prefix.
pub const RESULT_PREFIX: &str = "RESULT#";
pub(super) const RECORD_PREFIX: &str = "RECORD#";
/// gsi2's one partition: every marathon, by date.
pub(super) const ALL_MARATHONS: &str = "MARATHON";

// The ranking key pads finish times to six digits; a longer time would sort wrongly.
const _: () = assert!(FinishTime::MAX_SECONDS <= 999_999);

pub(super) fn marathon_pk(id: &MarathonId) -> String {
    format!("MARATHON#{id}")
}

pub(super) fn organizer_pk(organizer: &UserId) -> String {
    format!("ORGANIZER#{organizer}")
}

pub(super) fn runner_pk(runner: &UserId) -> String {
    format!("RUNNER#{runner}")
}

pub(super) fn rank_pk(marathon: &MarathonId) -> String {
    format!("RANK#{marathon}")
}

pub(super) fn marathon_key(id: &MarathonId) -> Item {
    key(marathon_pk(id), META)
}

pub(super) fn entry_key(marathon: &MarathonId, runner: &UserId) -> Item {
    key(marathon_pk(marathon), format!("{ENTRY_PREFIX}{runner}"))
}

pub(super) fn result_key(marathon: &MarathonId, runner: &UserId) -> Item {
    key(marathon_pk(marathon), format!("{RESULT_PREFIX}{runner}"))
}

pub(super) fn record_key(runner: &UserId, id: &str) -> Item {
    key(runner_pk(runner), format!("{RECORD_PREFIX}{id}"))
}

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
        // six digits hold FinishTime::MAX_SECONDS, so text order is finish order
        (
            "gsi3sk".to_owned(),
            s(format!("{:06}#{}", result.finish_seconds, result.runner_id)),
        ),
        (
            "result_id".to_owned(),
            s(result_id(&result.marathon_id, &result.runner_id)),
        ),
    ]);
    with_attributes(result, attributes)
}

pub(super) fn record_item(record: &Record) -> Result<Item, StoreError> {
    with_attributes(record, record_key(&record.runner_id, &record.id))
}
