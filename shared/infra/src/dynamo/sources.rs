//! Login attempts per source address (`domain::source_throttle`) in the Users table:
//! `SOURCE#<source> | WINDOW#<n>` holds `attempts` and the table's TTL attribute.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValue;
use domain::ports::{SourceAttempts, StoreError};
use domain::source_throttle::{SourceCounts, SourceKey, SourceReservation, Window};
use time::OffsetDateTime;

use super::errors::{corrupt, unavailable};
use super::keys::source_key;
use super::{Item, n};

const ATTEMPTS: &str = "attempts";

#[derive(Clone)]
pub struct DynamoSources {
    client: Client,
    table: String,
}

impl DynamoSources {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn attempts(item: Option<&Item>) -> Result<u64, StoreError> {
    let Some(value) = item.and_then(|item| item.get(ATTEMPTS)) else {
        return Ok(0);
    };
    let raw = value.as_n().map_err(|_| corrupt("attempts is not a number"))?;
    // a release racing a TTL deletion may leave -1 behind: it counts as none
    Ok(raw.parse::<i64>().map_err(corrupt)?.max(0).unsigned_abs())
}

#[async_trait]
impl SourceAttempts for DynamoSources {
    async fn reserve(
        &self,
        source: &SourceKey,
        window: Window,
        expires_at: OffsetDateTime,
    ) -> Result<SourceCounts, StoreError> {
        // One unconditional ADD: every concurrent attempt gets a count of its own back,
        // and none fails another's condition. The previous window's counter is read at
        // the same time (a count a moment old only shifts the estimate by that moment).
        let add = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(source_key(source, window)))
            .update_expression("ADD #attempts :one SET expires_at = :expires")
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(expires_at.unix_timestamp()))
            .return_values(ReturnValue::UpdatedNew)
            .send();
        let previous = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(source_key(source, window.previous())))
            .projection_expression("#attempts")
            .expression_attribute_names("#attempts", ATTEMPTS)
            .send();
        let (add, previous) = tokio::join!(add, previous);
        let add = add.map_err(unavailable)?;
        let previous = previous.map_err(unavailable)?;
        Ok(SourceCounts {
            current: attempts(add.attributes.as_ref())?,
            previous: attempts(previous.item.as_ref())?,
        })
    }

    async fn release(&self, reservation: &SourceReservation) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(source_key(&reservation.source, reservation.window)))
            .update_expression("ADD #attempts :minus")
            // never below zero, and no new item if TTL took the counter meanwhile
            .condition_expression("#attempts > :zero")
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
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
