//! The points ledger on the Users table: one award item per result (`USER#id | AWARD#result`)
//! and the profile's `total_points`, changed together in one transaction, only forward in
//! result version. Each applied change that moved the total also leaves, in the same
//! transaction, a pending announcement (`USER#id | ANNOUNCE#result#version`) that
//! `mark_notified` deletes: one per version, so a newer version applied before an older
//! one's announcement went out cannot erase it. Its own adapter over the table, apart
//! from `DynamoUsers`: the ledger writes no activity entries, so its user (point-increase)
//! needs no log table.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use domain::UserId;
use domain::events::ResultChange;
use domain::leaderboard::{Season, season_deltas};
use domain::points::{AwardChange, award_change};
use domain::ports::{LedgerOutcome, PointsLedger, StoreError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::{corrupt, unavailable};
use super::keys::announce_key;
use super::leaderboard;
use super::points::{AwardItem, TOTAL_POINTS, profile_key};
use super::transact::{TransactError, transact};
use super::users::projection;
use super::{key, n};

/// A concurrent change to the same award or season sum makes us re-read; a few rounds,
/// apart by a random pause that grows, settle it (a runner's season item is written by
/// every award of the season: concurrent invocations for one runner take turns here).
const ROUNDS: u32 = 10;

/// The attributes of a pending announcement (`PendingAnnouncement`'s fields).
pub const PENDING_ATTRIBUTES: [&str; 4] = ["result_id", "version", "delta", "applied_at"];

/// Every attribute point-increase reads or writes in the Users table: the keys, the
/// profile's total, the award, pending and season items. Its IAM policy allows these only
/// (`dynamodb:Attributes`, checked against this list by tests/whole_stack/template_policy.rs), so it
/// can neither read nor write credentials, names or addresses.
pub fn ledger_attributes() -> Vec<&'static str> {
    let mut all = vec!["pk", "sk", TOTAL_POINTS];
    all.extend(super::points::AWARD_ATTRIBUTES);
    all.extend(PENDING_ATTRIBUTES);
    all.extend(super::leaderboard::SEASON_ATTRIBUTES);
    all.sort_unstable();
    all.dedup();
    all
}

/// A change applied but not yet announced on points-events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingAnnouncement {
    result_id: String,
    version: u64,
    /// What this version moved the total by: what its announcement says.
    delta: i64,
    #[serde(with = "time::serde::rfc3339")]
    applied_at: OffsetDateTime,
}

/// Awards and totals in the Users table.
#[derive(Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, users_table: impl Into<String>) -> Self {
        Self {
            client,
            table: users_table.into(),
        }
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn table(&self) -> &str {
        &self.table
    }

    /// One cheap read during init, so the first message does not pay the TLS handshake.
    pub async fn warm_up(&self) {
        let probe = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("WARMUP", "WARMUP")))
            // a projection, as IAM requires of a reader limited to some attributes
            .projection_expression("pk")
            .send()
            .await;
        if let Err(error) = probe {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(error), "warm-up read failed");
        }
    }

    async fn award(&self, runner: &UserId, result_id: &str) -> Result<Option<AwardItem>, StoreError> {
        let (expression, names) = projection(&super::points::AWARD_ATTRIBUTES);
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(AwardItem::key(runner, result_id)))
            .projection_expression(&expression)
            .set_expression_attribute_names(Some(names))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(AwardItem::from_item).transpose()
    }

    /// What a change the ledger will not apply (a duplicate or an older version) still
    /// owes: its announcement, if its pending item is there.
    async fn owed(
        &self,
        change: &ResultChange,
        stored: Option<&AwardItem>,
    ) -> Result<LedgerOutcome, StoreError> {
        let runner = &change.runner_id;
        let (expression, names) = projection(&PENDING_ATTRIBUTES);
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(announce_key(runner, &change.result_id, change.version)))
            .projection_expression(&expression)
            .set_expression_attribute_names(Some(names))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let delta = match output.item {
            Some(item) => {
                let pending: PendingAnnouncement = serde_dynamo::from_item(item).map_err(corrupt)?;
                pending.delta
            }
            // An award applied before pending items existed keeps the owed announcement
            // of its own (current) version in its flag.
            None => match stored {
                Some(award) if award.version == change.version && !award.notified && award.delta != 0 => {
                    award.delta
                }
                _ => return Ok(LedgerOutcome::Unchanged),
            },
        };
        Ok(LedgerOutcome::Unnotified {
            delta,
            total: self.current_total(runner).await?,
        })
    }

    async fn current_total(&self, runner: &UserId) -> Result<i64, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(profile_key(runner)))
            .projection_expression(TOTAL_POINTS)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let item = output.item.ok_or(StoreError::Missing("runner"))?;
        Ok(item
            .get(TOTAL_POINTS)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}

#[async_trait]
impl PointsLedger for DynamoLedger {
    async fn apply(&self, change: &ResultChange, now: OffsetDateTime) -> Result<LedgerOutcome, StoreError> {
        let runner = &change.runner_id;
        for round in 0..ROUNDS {
            if round > 0 {
                let pause = fastrand::u64(0..=10 * u64::from(round));
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            let stored = self.award(runner, &change.result_id).await?;
            let apply = match &stored {
                Some(award) if award.version == change.version => None,
                _ => match award_change(
                    stored.as_ref().map(|a| (a.points, a.version)),
                    change.points,
                    change.version,
                ) {
                    AwardChange::Stale => None,
                    AwardChange::Apply { delta } => Some(delta),
                },
            };
            let Some(delta) = apply else {
                // applied before (this version, or overtaken by a newer one): only its
                // announcement can still be owed
                return self.owed(change, stored.as_ref()).await;
            };
            // the season sums this change moves, each written over exactly what was read
            let season = change.marathon_date.map(Season::of);
            let moves = season_deltas(
                stored.as_ref().map(|a| (a.season, a.points)),
                season,
                change.points,
            );
            let mut seasons = Vec::with_capacity(moves.len());
            for (season, delta) in moves {
                let read = leaderboard::season_points(self.client(), self.table(), runner, season).await?;
                let sum = read.unwrap_or(0).checked_add_signed(delta).unwrap_or_else(|| {
                    // only a hand-edited table gets here: keep the board at zero, not stuck
                    tracing::error!(%runner, %season, delta, "season sum would go below zero");
                    0
                });
                seasons.push((leaderboard::season_item(runner, season, sum), read));
            }
            let award = AwardItem {
                season: season.or(stored.as_ref().and_then(|a| a.season)),
                result_id: change.result_id.clone(),
                marathon_id: change.marathon_id.clone(),
                points: change.points,
                version: change.version,
                updated_at: now,
                delta,
                // the pending item written with it owes the announcement now; the flag
                // only speaks for awards written before pending items existed
                notified: true,
            };
            // only over exactly what we read, so the delta is right
            let (condition, expected) = match &stored {
                Some(previous) => ("version = :read", Some(n(previous.version))),
                None => ("attribute_not_exists(pk)", None),
            };
            let put = Put::builder()
                .table_name(self.table())
                .set_item(Some(award.to_item(runner)?))
                .condition_expression(condition)
                .set_expression_attribute_values(expected.map(|v| [(":read".to_owned(), v)].into()))
                .build()
                .map_err(corrupt)?;
            let total = Update::builder()
                .table_name(self.table())
                .set_key(Some(profile_key(runner)))
                .update_expression("SET total_points = if_not_exists(total_points, :zero) + :delta")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":delta", n(delta))
                .build()
                .map_err(corrupt)?;
            // the award and the total first, then the seasons: the cancellation reasons
            // are read by position
            let mut items = vec![
                TransactWriteItem::builder().put(put).build(),
                TransactWriteItem::builder().update(total).build(),
            ];
            for (item, read) in seasons {
                let (condition, expected) = match read {
                    Some(sum) => ("season_points = :read", Some(n(sum))),
                    None => ("attribute_not_exists(pk)", None),
                };
                let put = Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .condition_expression(condition)
                    .set_expression_attribute_values(expected.map(|v| [(":read".to_owned(), v)].into()))
                    .build()
                    .map_err(corrupt)?;
                items.push(TransactWriteItem::builder().put(put).build());
            }
            // nothing to announce when the total did not move
            if delta != 0 {
                let pending = PendingAnnouncement {
                    result_id: change.result_id.clone(),
                    version: change.version,
                    delta,
                    applied_at: now,
                };
                let mut item: super::Item = serde_dynamo::to_item(&pending).map_err(corrupt)?;
                item.extend(announce_key(runner, &change.result_id, change.version));
                let put = Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .build()
                    .map_err(corrupt)?;
                items.push(TransactWriteItem::builder().put(put).build());
            }
            match transact(self.client(), items).await {
                Ok(()) => {
                    return Ok(LedgerOutcome::Applied {
                        delta,
                        total: self.current_total(runner).await?,
                    });
                }
                Err(TransactError::Cancelled(codes))
                    if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") =>
                {
                    return Err(StoreError::Missing("runner"));
                }
                // the award or a season sum changed between our read and write (another
                // result of the runner's, applied concurrently): read again
                Err(TransactError::Cancelled(codes))
                    if codes.first().is_some_and(|c| c == "ConditionalCheckFailed")
                        || codes.iter().skip(2).any(|c| c == "ConditionalCheckFailed") => {}
                Err(other) => return Err(other.into_store_error()),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn mark_notified(&self, runner: &UserId, result_id: &str, version: u64) -> Result<(), StoreError> {
        // "was it there" from a condition rather than ALL_OLD: the old item's attributes are
        // not needed, and a reader limited to some attributes asks for none
        let deleted = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(announce_key(runner, result_id, version)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => return Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(error) => return Err(unavailable(error)),
        }
        // No pending item: an award applied before pending items existed keeps its
        // announcement owed in its own flag.
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(AwardItem::key(runner, result_id)))
            .update_expression("SET notified = :yes")
            .condition_expression("version = :version")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":version", n(version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // a newer version replaced it meanwhile; that one has its own pending item
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}
