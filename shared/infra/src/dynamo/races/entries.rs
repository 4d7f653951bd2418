//! Entries: registration and cancellation keep the marathon's `entry_count` in the same
//! transaction, and the count's conditions are what enforce capacity under concurrency.

use domain::UserId;
use domain::activity::ActivityEntry;
use domain::entry::Entry;
use domain::marathon::{MarathonId, MarathonStatus};
use domain::ports::StoreError;
use domain::race::Bib;
use time::OffsetDateTime;

use aws_sdk_dynamodb::types::ReturnValue;

use super::cursor::{Index, Listing, SortCondition};
use super::items::{
    BIB_SEQ, ENTRY_PREFIX, corrupt, entry_item, entry_key, marathon_key, marathon_pk, result_key, runner_pk,
};
use super::{DynamoRaces, Op};
use crate::dynamo::errors::unavailable;
use crate::dynamo::n;
use crate::dynamo::transact::{TransactError, transact};

const CHECK_FAILED: &str = "ConditionalCheckFailed";

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

/// Bibs tried per registration when the organizer has taken the next ones by hand.
const BIB_ATTEMPTS: usize = 20;

impl DynamoRaces {
    pub(super) async fn register_entry(
        &self,
        entry: &Entry,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<Option<Bib>, StoreError> {
        for _ in 0..BIB_ATTEMPTS {
            // The next number comes from the marathon's counter, reserved on its own (an
            // atomic ADD, so concurrent registrations never conflict over it); a
            // registration refused after it leaves a gap, which is all it costs.
            let bib = self.reserve_bib(&entry.marathon_id).await?;
            let entry = Entry { bib, ..entry.clone() };
            match self.register_with(&entry, now, activity).await {
                // the bib item (third) alone failed: the organizer gave that number to
                // someone by hand; take the next
                Err(TransactError::Cancelled(codes))
                    if codes.get(2).is_some_and(|c| c == CHECK_FAILED)
                        && codes.iter().filter(|c| *c == CHECK_FAILED).count() == 1 =>
                {
                    continue;
                }
                Err(error) => return Err(error.into_store_error()),
                Ok(()) => return Ok(bib),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Moves the marathon's bib counter on by one and returns the number, None past
    /// `Bib::MAX`; `Conflict` without a marathon (as registration's own condition says).
    async fn reserve_bib(&self, marathon: &MarathonId) -> Result<Option<Bib>, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(marathon_key(marathon)))
            .update_expression("ADD #seq :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#seq", BIB_SEQ)
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        let output = match output {
            Ok(output) => output,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Err(StoreError::Conflict);
            }
            Err(error) => return Err(unavailable(error)),
        };
        let seq = output
            .attributes
            .and_then(|a| a.get(BIB_SEQ).cloned())
            .and_then(|v| v.as_n().ok().and_then(|n| n.parse::<u32>().ok()))
            .ok_or_else(|| corrupt("the bib counter is not a number"))?;
        Ok(Bib::new(seq))
    }

    async fn register_with(
        &self,
        entry: &Entry,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), TransactError> {
        let failed = TransactError::Failed;
        let open = serde_dynamo::to_attribute_value(MarathonStatus::Open)
            .map_err(corrupt)
            .map_err(failed)?;
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
            .put(entry_item(entry).map_err(failed)?)
            .condition_expression("attribute_not_exists(pk)");
        let mut ops = vec![count.op(), put.op()];
        if let Some(bib) = entry.bib {
            ops.push(self.bib_claim(&entry.marathon_id, bib, &entry.runner_id).op());
        }
        ops.push(self.activity.put(activity).map_err(failed)?);
        transact(&self.client, ops).await
    }

    pub(super) async fn cancel_entry_item(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        // the bib goes free with the entry: read which it is, and delete on that condition
        let current: Option<Entry> = self.get(entry_key(marathon, runner)).await?;
        let bib = current.as_ref().and_then(|e| e.bib);
        let mut delete = self
            .delete(entry_key(marathon, runner))
            .condition_expression("attribute_exists(pk)");
        if let Some(bib) = bib {
            delete = delete
                .condition_expression("attribute_exists(pk) AND #bib = :bib")
                .expression_attribute_names("#bib", "bib")
                .expression_attribute_values(":bib", n(bib.number()));
        }
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
        let mut ops = vec![delete.op(), no_result.op(), uncount.op()];
        if let Some(bib) = bib {
            ops.push(self.bib_release(marathon, bib, runner).op());
        }
        self.write(ops, activity).await
    }
}
