//! The points ledger on the Users table: one award item per result (`USER#id | AWARD#result`)
//! and the profile's `total_points`, changed together in one transaction, only forward in
//! result version. Its own adapter over the table, apart from `DynamoUsers`: the ledger
//! writes no activity entries, so its user (point-increase) needs no log table.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use domain::UserId;
use domain::events::ResultChange;
use domain::points::{AwardChange, award_change};
use domain::ports::{LedgerOutcome, PointsLedger, StoreError};
use time::OffsetDateTime;

use super::errors::{corrupt, unavailable};
use super::points::{AwardItem, TOTAL_POINTS, profile_key};
use super::transact::{TransactError, transact};
use super::{key, n};

/// A concurrent change to the same award makes us re-read; a few rounds settle it.
const ROUNDS: u32 = 5;

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
            .send()
            .await;
        if let Err(error) = probe {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(error), "warm-up read failed");
        }
    }

    async fn award(&self, runner: &UserId, result_id: &str) -> Result<Option<AwardItem>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(AwardItem::key(runner, result_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(AwardItem::from_item).transpose()
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
        for _ in 0..ROUNDS {
            let stored = self.award(runner, &change.result_id).await?;
            if let Some(award) = &stored
                && award.version == change.version
            {
                return Ok(if award.notified || award.delta == 0 {
                    LedgerOutcome::Unchanged
                } else {
                    LedgerOutcome::Unnotified {
                        delta: award.delta,
                        total: self.current_total(runner).await?,
                    }
                });
            }
            let delta = match award_change(
                stored.as_ref().map(|a| (a.points, a.version)),
                change.points,
                change.version,
            ) {
                AwardChange::Stale => return Ok(LedgerOutcome::Unchanged),
                AwardChange::Apply { delta } => delta,
            };
            let award = AwardItem {
                result_id: change.result_id.clone(),
                marathon_id: change.marathon_id.clone(),
                points: change.points,
                version: change.version,
                updated_at: now,
                delta,
                // nothing to announce when the total did not move
                notified: delta == 0,
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
            let items = vec![
                TransactWriteItem::builder().put(put).build(),
                TransactWriteItem::builder().update(total).build(),
            ];
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
                // the award changed between our read and write: read again
                Err(TransactError::Cancelled(codes))
                    if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {}
                Err(other) => return Err(other.into_store_error()),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn mark_notified(&self, runner: &UserId, result_id: &str, version: u64) -> Result<(), StoreError> {
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
            // a newer version replaced it meanwhile; that one carries its own flag
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
