//! Official results: only for a registered runner, replaced and deleted only at the
//! version the caller read (the points pipeline orders its work by that version).

use domain::UserId;
use domain::activity::ActivityEntry;
use domain::marathon::MarathonId;
use domain::ports::StoreError;
use domain::result::OfficialResult;

use super::cursor::{Index, Listing, SortCondition};
use super::items::{RESULT_PREFIX, entry_key, rank_pk, result_item, result_key, runner_pk};
use super::{DynamoRaces, Op};
use crate::dynamo::n;

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
        let put = match expected_version {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(version) => put
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(version)),
        };
        self.write(vec![registered.op(), put.op()], activity).await
    }

    pub(super) async fn delete_result_item(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let delete = self
            .delete(result_key(marathon, runner))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected_version));
        self.write(vec![delete.op()], activity).await
    }
}
