//! Idempotency records, Powertools-style: claim a key before a side effect, mark it done
//! after, release it on failure. A redelivered message finds the key done and does nothing.

use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::Clock;
use domain::ports::StoreError;
use time::{Duration, OffsetDateTime};

use crate::dynamo::errors::unavailable;

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours: do the side effect, then `complete` (or `release` if it failed).
    Claimed,
    /// Done before: skip the side effect.
    AlreadyDone,
    /// Another invocation holds it right now: fail this item so it is retried later.
    InProgress,
}

/// What [`Idempotency::once`] did with its side effect.
#[derive(Debug)]
pub enum Once<T, E> {
    /// Claimed, acted, and the act succeeded. The key is recorded done; if that record
    /// cannot be written (after [`COMPLETE_ATTEMPTS`] tries) it is logged and the key stays
    /// claimed until its claim expires, after which a redelivery would act again.
    Done(T),
    /// Done before: the act was not run.
    AlreadyDone,
    /// Another invocation holds the key right now: the act was not run; retry later.
    HeldElsewhere,
    /// Claimed and acted, and the act failed: the key is released (or, if the release
    /// fails, logged and left to expire) so a retry may act again.
    Failed(E),
    /// The claim could not be read or written: the act was not run.
    StoreUnavailable(StoreError),
}

/// Writes of the done record after a successful act. Failing the item instead would act
/// twice on redelivery, so a couple of quick retries is all that is worth doing.
pub const COMPLETE_ATTEMPTS: usize = 3;

#[derive(Debug, Clone)]
pub struct Idempotency {
    client: Client,
    table: String,
    /// How long a completed record suppresses repeats (beyond any redelivery window).
    keep_for: Duration,
    /// How long a claim blocks others if its holder dies mid-way (about the function timeout).
    claim_for: Duration,
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl Idempotency {
    pub fn new(client: Client, table: impl Into<String>, keep_for: Duration, claim_for: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            keep_for,
            claim_for,
        }
    }

    /// Claims `key`, runs `act` only if the claim is ours, then records it done (`Ok`) or
    /// releases it (`Err`). The clock stamps the claim and, after the act, its completion.
    pub async fn once<T, E, F, Fut>(&self, key: &str, clock: &dyn Clock, act: F) -> Once<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        match self.claim(key, clock.now()).await {
            Ok(Claim::Claimed) => {}
            Ok(Claim::AlreadyDone) => return Once::AlreadyDone,
            Ok(Claim::InProgress) => return Once::HeldElsewhere,
            Err(error) => return Once::StoreUnavailable(error),
        }
        match act().await {
            Ok(value) => {
                let mut last = None;
                for _ in 0..COMPLETE_ATTEMPTS {
                    match self.complete(key, clock.now()).await {
                        Ok(()) => return Once::Done(value),
                        Err(error) => last = Some(error),
                    }
                }
                if let Some(error) = last {
                    tracing::error!(key, %error, "acted, but cannot mark the key done; it stays claimed until the claim expires, then a redelivery may act again");
                }
                Once::Done(value)
            }
            Err(error) => {
                if let Err(release) = self.release(key).await {
                    tracing::warn!(key, error = %release, "cannot release the claim; it expires by itself");
                }
                Once::Failed(error)
            }
        }
    }

    /// Claims `key` for this call. The claim names its owner (a nonce of this call): a
    /// put that succeeded but whose answer was lost (a timeout, a 5xx after the write) is
    /// retried by the SDK and fails its own condition; the owner tells our claim from
    /// another invocation's, so it is not taken for one held elsewhere (which would hold
    /// the key against ourselves until the claim expires).
    pub async fn claim(&self, key: &str, now: OffsetDateTime) -> Result<Claim, StoreError> {
        let owner = ulid::Ulid::new().to_string();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", s(key))
            .item("status", s(IN_PROGRESS))
            .item("owner", s(&owner))
            .item("claim_expires_at", n((now + self.claim_for).unix_timestamp()))
            .item("expires_at", n((now + self.keep_for).unix_timestamp()))
            // free, expired (TTL deletes lazily), or an abandoned claim
            .condition_expression(
                "attribute_not_exists(id) OR expires_at < :now OR (#status = :in_progress AND claim_expires_at < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let held = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("id", s(key))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(unavailable)?;
                let field = |name: &str| {
                    held.item
                        .as_ref()
                        .and_then(|i| i.get(name))
                        .and_then(|v| v.as_s().ok())
                        .map(String::as_str)
                };
                Ok(match (field("status"), field("owner")) {
                    (Some(COMPLETED), _) => Claim::AlreadyDone,
                    // our own put, answered late: the claim is ours
                    (Some(IN_PROGRESS), Some(holder)) if holder == owner => Claim::Claimed,
                    _ => Claim::InProgress,
                })
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    pub async fn complete(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", s(key))
            .update_expression("SET #status = :done, expires_at = :expires REMOVE claim_expires_at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s(COMPLETED))
            .expression_attribute_values(":expires", n((now + self.keep_for).unix_timestamp()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Gives the key back after a failed side effect, so a retry may claim it.
    pub async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("id", s(key))
            .condition_expression("#status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await
            .map(|_| ())
            .or_else(|error| {
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception())
                {
                    Ok(())
                } else {
                    Err(unavailable(error))
                }
            })
    }
}
