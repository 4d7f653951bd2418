//! A runner's private records, in the runner's own partition.

use domain::UserId;
use domain::activity::ActivityEntry;
use domain::ports::StoreError;
use domain::record::Record;

use super::cursor::{Index, Listing, SortCondition};
use super::items::{RECORD_PREFIX, record_item, record_key, runner_pk};
use super::{DynamoRaces, Op};

/// Record ids are ULIDs, so descending key order is newest first.
pub(super) fn of_runner(runner: &UserId) -> Listing {
    Listing::new(
        Index::Table,
        runner_pk(runner),
        SortCondition::BeginsWith(RECORD_PREFIX),
        false,
    )
}

impl DynamoRaces {
    pub(super) async fn create_record_item(
        &self,
        record: &Record,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let put = self
            .put(record_item(record)?)
            .condition_expression("attribute_not_exists(pk)");
        self.write(vec![put.op()], activity).await
    }

    pub(super) async fn update_record_item(
        &self,
        record: &Record,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let put = self
            .put(record_item(record)?)
            .condition_expression("attribute_exists(pk)");
        self.write(vec![put.op()], activity).await
    }

    pub(super) async fn delete_record_item(
        &self,
        runner: &UserId,
        id: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let delete = self
            .delete(record_key(runner, id))
            .condition_expression("attribute_exists(pk)");
        self.write(vec![delete.op()], activity).await
    }
}
