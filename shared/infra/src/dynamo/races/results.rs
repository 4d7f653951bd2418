//! Official results: only for a registered runner, replaced and deleted only at the
//! version the caller read (the points pipeline orders its work by that version). The
//! marathon's `result_count` moves in the same transaction: while it is above zero the
//! marathon's points are fixed, so every result contributes points + bonus of one value.
//! A deletion leaves a tombstone (`REMOVED#<runner>`) with the removal's version, which a
//! result recorded again must outrank.

use domain::UserId;
use domain::activity::ActivityEntry;
use domain::marathon::MarathonId;
use domain::ports::StoreError;
use domain::race::ResultStatus;
use domain::result::OfficialResult;

use super::cursor::{Index, Listing, SortCondition};
use super::items::{
    PENDING, PENDING_AWARD, PENDING_SINCE, RESULT_PREFIX, ResultItem, corrupt, entry_key, marathon_key,
    rank_pk, result_item, result_key, runner_pk, tombstone_key,
};
use super::{DynamoRaces, Op};
use crate::dynamo::transact::{TransactError, transact};
use crate::dynamo::{Item, n, s};
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
                // counted, and only at the points this result was priced with and the date
                // it was checked against (results exist from race day on): a change of
                // either since the caller read the marathon fails the result instead.
                let stored_date = serde_dynamo::to_attribute_value(result.marathon_date).map_err(corrupt)?;
                let count = self
                    .update(marathon_key(&result.marathon_id))
                    .update_expression("SET #count = if_not_exists(#count, :zero) + :one")
                    .expression_attribute_names("#count", "result_count")
                    .expression_attribute_names("#date", "date")
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":one", n(1))
                    // as the marathon item stores it (its serde form)
                    .expression_attribute_values(":date", stored_date);
                // the points this result was priced with (`race::result_points`): a finish
                // by the marathon's points, a dnf by its dnf points, the others by none
                let count = match result.status {
                    ResultStatus::Finished => count
                        .condition_expression("#points = :points AND #date = :date")
                        .expression_attribute_names("#points", "points")
                        .expression_attribute_values(
                            ":points",
                            n(result.points.saturating_sub(result.bonus_points)),
                        ),
                    // marathons from before statuses have no dnf_points: 0
                    ResultStatus::Dnf if result.points == 0 => count
                        .condition_expression("(attribute_not_exists(#dnf) OR #dnf = :dnf) AND #date = :date")
                        .expression_attribute_names("#dnf", "dnf_points")
                        .expression_attribute_values(":dnf", n(0)),
                    ResultStatus::Dnf => count
                        .condition_expression("#dnf = :dnf AND #date = :date")
                        .expression_attribute_names("#dnf", "dnf_points")
                        .expression_attribute_values(":dnf", n(result.points)),
                    ResultStatus::Dns | ResultStatus::Dq => count.condition_expression("#date = :date"),
                };
                let put = put.condition_expression("attribute_not_exists(pk)");
                // newer than every earlier life of this result, whatever the writer's clock
                let newer = self
                    .check(tombstone_key(&result.marathon_id, &result.runner_id))
                    .condition_expression("attribute_not_exists(pk) OR #version < :version")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":version", n(result.version));
                vec![registered.op(), count.op(), put.op(), newer.op()]
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
        // the removal's version, as the points pipeline numbers it (official-record-stream:
        // the old version plus one); kept so a later result is numbered above it
        let removed = expected_version + 1;
        // what reconcile needs to re-emit the removal if its event is lost (the `pending`
        // index): the result's names, read here since the stream's event is made from the
        // deleted item and the tombstone outlives it
        let names: Option<ResultItem> = self.get(result_key(marathon, runner)).await?;
        let tombstone = tombstone_item(marathon, runner, removed, names.as_ref(), activity);
        let tombstone = self
            .put(tombstone)
            .condition_expression("attribute_not_exists(pk) OR #version < :removed")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":removed", n(removed));
        self.write(vec![delete.op(), uncount.op(), tombstone.op()], activity)
            .await
    }

    pub(super) async fn removed_version_of(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
    ) -> Result<Option<u64>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Tombstone {
            version: u64,
        }
        let tombstone: Option<Tombstone> = self.get(tombstone_key(marathon, runner)).await?;
        Ok(tombstone.map(|t| t.version))
    }
}

/// A deletion's tombstone: its key and the removal's version, and, until the ledger has
/// taken the result's points back, the `pending` marker with the names the removal's
/// event carries (`infra::dynamo::pending::PendingItem` reads them).
fn tombstone_item(
    marathon: &MarathonId,
    runner: &UserId,
    removed: u64,
    names: Option<&ResultItem>,
    activity: &ActivityEntry,
) -> Item {
    let mut item = tombstone_key(marathon, runner);
    item.insert("version".into(), n(removed));
    item.insert(PENDING.into(), s(PENDING_AWARD));
    item.insert(PENDING_SINCE.into(), n(activity.at.unix_timestamp()));
    item.insert("marathon_id".into(), s(marathon.to_string()));
    item.insert("runner_id".into(), s(runner.to_string()));
    item.insert("result_id".into(), s(domain::result::result_id(marathon, runner)));
    if let Some(names) = names {
        item.insert("marathon_name".into(), s(names.marathon_name.clone()));
        item.insert("runner_name".into(), s(names.runner_name.as_str()));
        // the removal's season (its year), for the season leaderboard
        item.insert("marathon_date".into(), s(names.marathon_date.to_string()));
    }
    if let Some(correlation) = &activity.origin.correlation_id {
        item.insert("correlation_id".into(), s(correlation.clone()));
    }
    item
}
