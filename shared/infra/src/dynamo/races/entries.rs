//! Entries: registration and cancellation keep the marathon's `entry_count` in the same
//! transaction, and the count's conditions are what enforce capacity under concurrency.

use domain::UserId;
use domain::activity::ActivityEntry;
use domain::entry::Entry;
use domain::marathon::{MarathonId, MarathonStatus};
use domain::ports::StoreError;
use time::OffsetDateTime;

use super::cursor::{Index, Listing, SortCondition};
use super::items::{
    ENTRY_PREFIX, corrupt, entry_item, entry_key, marathon_key, marathon_pk, result_key, runner_pk,
};
use super::{DynamoRaces, Op};
use crate::dynamo::n;

pub(super) fn of_marathon(marathon: &MarathonId) -> Listing {
    Listing::new(
        Index::Table,
        marathon_pk(marathon),
        SortCondition::BeginsWith(ENTRY_PREFIX),
        true,
    )
}

/// Most recent race first.
pub(super) fn of_runner(runner: &UserId) -> Listing {
    Listing::new(
        Index::Gsi1,
        runner_pk(runner),
        SortCondition::BeginsWith(ENTRY_PREFIX),
        false,
    )
}

impl DynamoRaces {
    pub(super) async fn register_entry(
        &self,
        entry: &Entry,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let open = serde_dynamo::to_attribute_value(MarathonStatus::Open).map_err(corrupt)?;
        // The count is checked and bumped in one conditional update, so concurrent
        // registrations serialise on the marathon's item and capacity is never exceeded.
        let count = self
            .update(marathon_key(&entry.marathon_id))
            .update_expression("SET #count = #count + :one")
            .condition_expression("#status = :open AND #count < #capacity AND #closes > :now")
            .expression_attribute_names("#count", "entry_count")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#capacity", "capacity")
            .expression_attribute_names("#closes", "registration_closes_epoch")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":open", open)
            .expression_attribute_values(":now", n(now.unix_timestamp()));
        let put = self
            .put(entry_item(entry)?)
            .condition_expression("attribute_not_exists(pk)");
        self.write(vec![count.op(), put.op()], activity).await
    }

    pub(super) async fn cancel_entry_item(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let delete = self
            .delete(entry_key(marathon, runner))
            .condition_expression("attribute_exists(pk)");
        // a runner with an official result keeps the entry: the organizer corrects or
        // removes the result first (a result needs its entry)
        let no_result = self
            .check(result_key(marathon, runner))
            .condition_expression("attribute_not_exists(pk)");
        // the condition also keeps an update from creating a marathon item out of nothing
        let uncount = self
            .update(marathon_key(marathon))
            .update_expression("SET #count = #count - :one")
            .condition_expression("#count > :zero")
            .expression_attribute_names("#count", "entry_count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0));
        self.write(vec![delete.op(), no_result.op(), uncount.op()], activity)
            .await
    }
}
