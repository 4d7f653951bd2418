//! Official results: only for a registered runner, replaced and deleted only at the
//! version the caller read (the points pipeline orders its work by that version). The
//! marathon's `result_count` moves in the same transaction: while it is above zero the
//! marathon's points are fixed, so every result contributes points + bonus of one value.

use domain::UserId;
use domain::activity::ActivityEntry;
use domain::marathon::MarathonId;
use domain::ports::StoreError;
use domain::result::OfficialResult;

use super::cursor::{Index, Listing, SortCondition};
use super::items::{RESULT_PREFIX, entry_key, marathon_key, rank_pk, result_item, result_key, runner_pk};
use super::{DynamoRaces, Op};
use crate::dynamo::n;
use crate::dynamo::transact::{TransactError, transact};
use aws_sdk_dynamodb::types::AttributeValue;

/// Fastest first; the sort key breaks ties by runner id.
pub(super) fn ranking(marathon: &MarathonId) -> Listing {
    Listing::new(Index::Gsi3, rank_pk(marathon), SortCondition::All, true)
}

/// Most recent race first.
pub(super) fn of_runner(runner: &UserId) -> Listing {
    Listing::new(
        Index::Gsi1,
        runner_pk(runner),
        SortCondition::BeginsWith(RESULT_PREFIX),
        false,
    )
}

impl DynamoRaces {
    pub(super) async fn put_result_item(
        &self,
        result: &OfficialResult,
        expected_version: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let registered = self
            .check(entry_key(&result.marathon_id, &result.runner_id))
            .condition_expression("attribute_exists(pk)");
        let put = self.put(result_item(result)?);
        let ops = match expected_version {
            None => {
                // counted, and only at the points this result was priced with: a change of
                // points since the caller read the marathon fails the result instead
                let marathon_points = result.points.saturating_sub(result.bonus_points);
                let count = self
                    .update(marathon_key(&result.marathon_id))
                    .update_expression("SET #count = if_not_exists(#count, :zero) + :one")
                    .condition_expression("#points = :points")
                    .expression_attribute_names("#count", "result_count")
                    .expression_attribute_names("#points", "points")
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":points", n(marathon_points));
                let put = put.condition_expression("attribute_not_exists(pk)");
                vec![registered.op(), count.op(), put.op()]
            }
            // points cannot have changed: this result's count has fixed them
            Some(version) => {
                let put = put
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":expected", n(version));
                vec![registered.op(), put.op()]
            }
        };
        self.write(ops, activity).await
    }

    pub(super) async fn delete_result_item(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        // The stream's REMOVE carries the item as it was, so its events would follow the
        // last PUT: stamp this request's correlation id on it first (a MODIFY of the same
        // version, which official-record-stream turns into no event). One more write per
        // deletion; if the deletion then fails, the next PUT overwrites the stamp.
        if let Some(correlation) = &activity.origin.correlation_id {
            let stamp = self
                .update(result_key(marathon, runner))
                .update_expression("SET #correlation = :correlation")
                .condition_expression("#version = :expected")
                .expression_attribute_names("#correlation", "correlation_id")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":correlation", AttributeValue::S(correlation.clone()))
                .expression_attribute_values(":expected", n(expected_version));
            transact(&self.client, vec![stamp.op()])
                .await
                .map_err(TransactError::into_store_error)?;
        }
        let delete = self
            .delete(result_key(marathon, runner))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected_version));
        // the condition keeps an update from creating a marathon item out of nothing
        let uncount = self
            .update(marathon_key(marathon))
            .update_expression("SET #count = if_not_exists(#count, :one) - :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#count", "result_count")
            .expression_attribute_values(":one", n(1));
        self.write(vec![delete.op(), uncount.op()], activity).await
    }
}
