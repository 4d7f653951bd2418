//! Race-day items: bibs (`BIB#<nnnnn>` claims in the marathon's partition, so a bib is
//! unique per marathon by the same transaction that gives it), the roster the import
//! matches rows against, the ranking read, and runners' private race profiles
//! (`RUNNER#<id> | RACEPROFILE`).

use aws_sdk_dynamodb::types::KeysAndAttributes;
use aws_sdk_dynamodb::types::builders::{ConditionCheckBuilder, DeleteBuilder, PutBuilder};
use domain::UserId;
use domain::activity::ActivityEntry;
use domain::entry::{Entry, RosterEntry};
use domain::marathon::MarathonId;
use domain::paging::Page;
use domain::ports::{RankedRow, StoreError};
use domain::race::{Bib, RaceProfile};
use domain::result::OfficialResult;
use serde::{Deserialize, Serialize};

use super::items::{
    ENTRY_PREFIX, ResultItem, bib_key, entry_key, from_item, marathon_pk, race_profile_key, rank_pk,
    result_key,
};
use super::{DynamoRaces, Op};
use crate::dynamo::errors::unavailable;
use crate::dynamo::{Item, n, s};

/// Longer than any position this store writes (DynamoDB refuses sort key values over
/// 1024 bytes): not one of ours.
const MAX_POSITION_LEN: usize = 200;
/// Rounds of BatchGetItem for keys DynamoDB left unprocessed before giving up.
const BATCH_ROUNDS: u32 = 4;

#[derive(Serialize, Deserialize)]
struct BibItem {
    runner_id: UserId,
}

#[derive(Serialize, Deserialize)]
struct ProfileItem {
    runner_id: UserId,
    #[serde(flatten)]
    profile: RaceProfile,
}

impl DynamoRaces {
    /// Claims `bib` for `runner`: only if nobody holds it.
    pub(super) fn bib_claim(&self, marathon: &MarathonId, bib: Bib, runner: &UserId) -> PutBuilder {
        let mut item = bib_key(marathon, bib);
        item.insert("runner_id".into(), s(runner.to_string()));
        self.put(item).condition_expression("attribute_not_exists(pk)")
    }

    /// Frees `bib`: only if `runner` holds it.
    pub(super) fn bib_release(&self, marathon: &MarathonId, bib: Bib, runner: &UserId) -> DeleteBuilder {
        self.delete(bib_key(marathon, bib))
            .condition_expression("#runner = :runner")
            .expression_attribute_names("#runner", "runner_id")
            .expression_attribute_values(":runner", s(runner.to_string()))
    }

    pub(super) async fn set_bib_item(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        bib: Bib,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let entry: Entry = self
            .get(entry_key(marathon, runner))
            .await?
            .ok_or(StoreError::Missing("entry"))?;
        if entry.bib == Some(bib) {
            return Ok(());
        }
        let update = self
            .update(entry_key(marathon, runner))
            .update_expression("SET #bib = :bib")
            .expression_attribute_names("#bib", "bib")
            .expression_attribute_values(":bib", n(bib.number()));
        // the entry still has the bib read above, so the one freed is the one it had
        let update = match entry.bib {
            Some(old) => update
                .condition_expression("attribute_exists(pk) AND #bib = :old")
                .expression_attribute_values(":old", n(old.number())),
            None => update.condition_expression("attribute_exists(pk) AND attribute_not_exists(#bib)"),
        };
        let mut ops = vec![update.op(), self.bib_claim(marathon, bib, runner).op()];
        if let Some(old) = entry.bib {
            ops.push(self.bib_release(marathon, old, runner).op());
        }
        // A result shows its runner's bib: it follows, at the same version (a MODIFY that
        // changes no version, which official-record-stream turns into no event).
        let result: Option<ResultItem> = self.get(result_key(marathon, runner)).await?;
        ops.push(match result {
            Some(result) => self
                .update(result_key(marathon, runner))
                .update_expression("SET #bib = :bib")
                .condition_expression("#version = :version")
                .expression_attribute_names("#bib", "bib")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":bib", n(bib.number()))
                .expression_attribute_values(":version", n(result.version))
                .op(),
            None => self.absent(result_key(marathon, runner)).op(),
        });
        self.write(ops, activity).await
    }

    fn absent(&self, key: Item) -> ConditionCheckBuilder {
        self.check(key).condition_expression("attribute_not_exists(pk)")
    }

    pub(super) async fn bib_holder_of(
        &self,
        marathon: &MarathonId,
        bib: Bib,
    ) -> Result<Option<UserId>, StoreError> {
        let item: Option<BibItem> = self.get(bib_key(marathon, bib)).await?;
        Ok(item.map(|i| i.runner_id))
    }

    /// Every item of `partition` whose sort key begins with `prefix`, page after page.
    async fn all_of(&self, partition: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(partition.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    pub(super) async fn roster_of(&self, marathon: &MarathonId) -> Result<Vec<RosterEntry>, StoreError> {
        let entries = self.all_of(marathon_pk(marathon), ENTRY_PREFIX).await?;
        let mut roster = entries
            .into_iter()
            .map(from_item::<Entry>)
            .filter_map(|entry| match entry {
                Ok(Entry {
                    bib: Some(bib),
                    runner_id,
                    runner_name,
                    ..
                }) => Some(Ok(RosterEntry {
                    bib,
                    runner_id,
                    runner_name,
                })),
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        roster.sort_by_key(|r| r.bib);
        Ok(roster)
    }

    pub(super) async fn ranking_rows(
        &self,
        marathon: &MarathonId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<RankedRow>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi3")
            .expression_attribute_values(":pk", s(rank_pk(marathon)))
            .limit(limit.clamp(1, 1000) as i32);
        query = match after {
            Some(after) if after.is_empty() || after.len() > MAX_POSITION_LEN => {
                return Err(StoreError::InvalidCursor);
            }
            Some(after) => query
                .key_condition_expression("gsi3pk = :pk AND gsi3sk > :after")
                .expression_attribute_values(":after", s(after)),
            None => query.key_condition_expression("gsi3pk = :pk"),
        };
        let output = query.send().await.map_err(unavailable)?;
        let rows = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let position = item
                    .get("gsi3sk")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt("a ranked result without gsi3sk".into()))?;
                let result: ResultItem = from_item(item)?;
                Ok(RankedRow {
                    position,
                    result: OfficialResult::from(result),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let more = output.last_evaluated_key.is_some_and(|k| !k.is_empty());
        Ok(Page {
            next_cursor: more.then(|| rows.last().map(|r| r.position.clone())).flatten(),
            items: rows,
        })
    }

    pub(super) async fn race_profile_of(&self, runner: &UserId) -> Result<RaceProfile, StoreError> {
        let item: Option<ProfileItem> = self.get(race_profile_key(runner)).await?;
        Ok(item.map(|i| i.profile).unwrap_or_default())
    }

    pub(super) async fn set_race_profile_item(
        &self,
        runner: &UserId,
        profile: &RaceProfile,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let op = if *profile == RaceProfile::default() {
            // nothing left to keep
            self.delete(race_profile_key(runner)).op()
        } else {
            let mut item: Item = serde_dynamo::to_item(ProfileItem {
                runner_id: runner.clone(),
                profile: *profile,
            })
            .map_err(super::items::corrupt)?;
            item.extend(race_profile_key(runner));
            self.put(item).op()
        };
        self.write(vec![op], activity).await
    }

    pub(super) async fn race_profiles_of(
        &self,
        runners: &[UserId],
    ) -> Result<Vec<(UserId, RaceProfile)>, StoreError> {
        let mut ids: Vec<&UserId> = runners.iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::new();
        // BatchGetItem takes at most 100 keys
        for chunk in ids.chunks(100) {
            let keys: Vec<Item> = chunk.iter().map(|id| race_profile_key(id)).collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            );
            let mut rounds = 0;
            while let Some(keys) = request.take() {
                rounds += 1;
                if rounds > BATCH_ROUNDS {
                    return Err(StoreError::Unavailable("race profiles left unprocessed".into()));
                }
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(unavailable)?;
                let items = output
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default();
                for item in items {
                    let profile: ProfileItem = from_item(item)?;
                    found.push((profile.runner_id, profile.profile));
                }
                request = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
            }
        }
        Ok(found)
    }
}
