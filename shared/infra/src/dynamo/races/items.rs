//! The Races table's item layout: each item is its entity's serde form plus the key and
//! index attributes below. Other functions read these items (the result stream), so the
//! names here are a contract.

use domain::entry::Entry;
use domain::marathon::Marathon;
use domain::ports::StoreError;
use domain::record::Record;
use domain::result::{FinishTime, OfficialResult, result_id};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Date;
use time::macros::format_description;

use crate::dynamo::{Item, n, s};

pub(super) use crate::dynamo::keys::{
    ALL_MARATHONS, ENTRY_PREFIX, RECORD_PREFIX, RESULT_PREFIX, entry_key, marathon_key, marathon_pk,
    organizer_pk, rank_pk, record_key, result_key, runner_pk,
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
