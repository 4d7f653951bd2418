//! The Races table: marathons (`MARATHON#id | META`), entries (`MARATHON#id | ENTRY#runner`),
//! official results (`MARATHON#id | RESULT#runner`), bib claims (`MARATHON#id | BIB#nnnnn`),
//! private records (`RUNNER#id | RECORD#id`) and race profiles (`RUNNER#id | RACEPROFILE`).
//! Every mutation is one TransactWriteItems that also writes the activity entry describing
//! it. The item layout is in `items`.

mod cursor;
mod entries;
mod erasure;
mod items;
mod marathons;
mod query;
mod race_day;
mod records;
mod results;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::builders::{ConditionCheckBuilder, DeleteBuilder, PutBuilder, UpdateBuilder};
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
use domain::UserId;
use domain::activity::ActivityEntry;
use domain::entry::{Entry, RosterEntry};
use domain::marathon::{Marathon, MarathonId};
use domain::paging::{Page, PageRequest};
use domain::ports::{MarathonFilter, RaceStore, RankedRow, StoreError};
use domain::race::{Bib, RaceProfile};
use domain::record::Record;
use domain::result::OfficialResult;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

pub use super::keys::RESULT_PREFIX;
pub use items::ResultItem;

use super::transact::{TransactError, transact};
use super::{ActivityLog, Item};
use crate::dynamo::errors::unavailable;

#[derive(Clone)]
pub struct DynamoRaces {
    client: Client,
    table: String,
    activity: ActivityLog,
}

impl DynamoRaces {
    pub fn new(client: Client, table: impl Into<String>, activity: ActivityLog) -> Self {
        Self {
            client,
            table: table.into(),
            activity,
        }
    }

    fn put(&self, item: Item) -> PutBuilder {
        Put::builder().table_name(&self.table).set_item(Some(item))
    }

    fn update(&self, key: Item) -> UpdateBuilder {
        Update::builder().table_name(&self.table).set_key(Some(key))
    }

    fn delete(&self, key: Item) -> DeleteBuilder {
        Delete::builder().table_name(&self.table).set_key(Some(key))
    }

    fn check(&self, key: Item) -> ConditionCheckBuilder {
        ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
    }

    /// Writes `ops` and the activity entry together; a failed condition is `Conflict`.
    async fn write(
        &self,
        mut ops: Vec<TransactWriteItem>,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        ops.push(self.activity.put(activity)?);
        transact(&self.client, ops)
            .await
            .map_err(TransactError::into_store_error)
    }

    /// A strongly consistent read of one item.
    async fn get<T: DeserializeOwned>(&self, key: Item) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(items::from_item).transpose()
    }
}

/// A builder as one item of a transaction.
trait Op {
    fn op(self) -> TransactWriteItem;
}

impl Op for PutBuilder {
    fn op(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .put(self.build().expect("table and item are set"))
            .build()
    }
}

impl Op for UpdateBuilder {
    fn op(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .update(self.build().expect("table, key and expression are set"))
            .build()
    }
}

impl Op for DeleteBuilder {
    fn op(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .delete(self.build().expect("table and key are set"))
            .build()
    }
}

impl Op for ConditionCheckBuilder {
    fn op(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .condition_check(self.build().expect("table, key and condition are set"))
            .build()
    }
}

#[async_trait]
impl RaceStore for DynamoRaces {
    async fn create_marathon(&self, marathon: &Marathon, activity: &ActivityEntry) -> Result<(), StoreError> {
        self.create_marathon_item(marathon, activity).await
    }

    async fn marathon(&self, id: &MarathonId) -> Result<Option<Marathon>, StoreError> {
        self.get(items::marathon_key(id)).await
    }

    async fn list_marathons(
        &self,
        filter: &MarathonFilter,
        page: &PageRequest,
    ) -> Result<Page<Marathon>, StoreError> {
        self.page(&marathons::listing(filter)?, page).await
    }

    async fn update_marathon(
        &self,
        marathon: &Marathon,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        self.update_marathon_item(marathon, expected_version, activity)
            .await
    }

    async fn register(
        &self,
        entry: &Entry,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<Option<Bib>, StoreError> {
        self.register_entry(entry, now, activity).await
    }

    async fn set_bib(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        bib: Bib,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        self.set_bib_item(marathon, runner, bib, activity).await
    }

    async fn bib_holder(&self, marathon: &MarathonId, bib: Bib) -> Result<Option<UserId>, StoreError> {
        self.bib_holder_of(marathon, bib).await
    }

    async fn marathon_roster(&self, marathon: &MarathonId) -> Result<Vec<RosterEntry>, StoreError> {
        self.roster_of(marathon).await
    }

    async fn cancel_entry(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        self.cancel_entry_item(marathon, runner, activity).await
    }

    async fn entry(&self, marathon: &MarathonId, runner: &UserId) -> Result<Option<Entry>, StoreError> {
        self.get(items::entry_key(marathon, runner)).await
    }

    async fn marathon_entries(
        &self,
        marathon: &MarathonId,
        page: &PageRequest,
    ) -> Result<Page<Entry>, StoreError> {
        self.page(&entries::of_marathon(marathon), page).await
    }

    async fn runner_entries(&self, runner: &UserId, page: &PageRequest) -> Result<Page<Entry>, StoreError> {
        let mut entries = self.page(&entries::of_runner(runner), page).await?;
        self.relabel(&mut entries.items).await?;
        Ok(entries)
    }

    async fn result(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
    ) -> Result<Option<OfficialResult>, StoreError> {
        let item: Option<ResultItem> = self.get(items::result_key(marathon, runner)).await?;
        Ok(item.map(OfficialResult::from))
    }

    async fn put_result(
        &self,
        result: &OfficialResult,
        expected_version: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        self.put_result_item(result, expected_version, activity).await
    }

    async fn removed_version(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
    ) -> Result<Option<u64>, StoreError> {
        self.removed_version_of(marathon, runner).await
    }

    async fn delete_result(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        self.delete_result_item(marathon, runner, expected_version, activity)
            .await
    }

    async fn marathon_results(
        &self,
        marathon: &MarathonId,
        page: &PageRequest,
    ) -> Result<Page<OfficialResult>, StoreError> {
        let items: Page<ResultItem> = self.page(&results::ranking(marathon), page).await?;
        Ok(items.map(OfficialResult::from))
    }

    async fn ranking(
        &self,
        marathon: &MarathonId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<RankedRow>, StoreError> {
        self.ranking_rows(marathon, after, limit).await
    }

    async fn race_profile(&self, runner: &UserId) -> Result<RaceProfile, StoreError> {
        self.race_profile_of(runner).await
    }

    async fn set_race_profile(
        &self,
        runner: &UserId,
        profile: &RaceProfile,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        self.set_race_profile_item(runner, profile, activity).await
    }

    async fn race_profiles(&self, runners: &[UserId]) -> Result<Vec<(UserId, RaceProfile)>, StoreError> {
        self.race_profiles_of(runners).await
    }

    async fn runner_results(
        &self,
        runner: &UserId,
        page: &PageRequest,
    ) -> Result<Page<OfficialResult>, StoreError> {
        let items: Page<ResultItem> = self.page(&results::of_runner(runner), page).await?;
        let mut results = items.map(OfficialResult::from);
        self.relabel(&mut results.items).await?;
        Ok(results)
    }

    async fn create_record(&self, record: &Record, activity: &ActivityEntry) -> Result<(), StoreError> {
        self.create_record_item(record, activity).await
    }

    async fn record(&self, runner: &UserId, id: &str) -> Result<Option<Record>, StoreError> {
        self.get(items::record_key(runner, id)).await
    }

    async fn runner_records(&self, runner: &UserId, page: &PageRequest) -> Result<Page<Record>, StoreError> {
        self.page(&records::of_runner(runner), page).await
    }

    async fn update_record(&self, record: &Record, activity: &ActivityEntry) -> Result<(), StoreError> {
        self.update_record_item(record, activity).await
    }

    async fn delete_record(
        &self,
        runner: &UserId,
        id: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        self.delete_record_item(runner, id, activity).await
    }
}
