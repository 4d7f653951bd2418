//! One TransactWriteItems with retries of DynamoDB's TransactionConflict, shared by every
//! store.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TransactWriteItem;
use domain::ports::StoreError;

use crate::dynamo::errors::{cancellation_codes, is_conflict, unavailable};

/// Registrations for one popular marathon all update its META item, so conflicts are
/// expected under load: more attempts than a per-user item needs, with jittered backoff so
/// the losers do not collide again in lockstep.
const ATTEMPTS: u32 = 8;
const BASE_DELAY_MS: u64 = 10;
const MAX_DELAY_MS: u64 = 400;

pub(crate) enum TransactError {
    /// Per-item cancellation reasons, in the order of the items.
    Cancelled(Vec<String>),
    Failed(StoreError),
}

impl TransactError {
    /// A failed condition means the state moved on (`Conflict`); anything else is worth a
    /// retry later (`Unavailable`).
    pub(crate) fn into_store_error(self) -> StoreError {
        match self {
            Self::Cancelled(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => {
                StoreError::Conflict
            }
            Self::Cancelled(codes) => StoreError::Unavailable(format!("transaction cancelled: {codes:?}")),
            Self::Failed(error) => error,
        }
    }
}

pub(crate) async fn transact(client: &Client, items: Vec<TransactWriteItem>) -> Result<(), TransactError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(()),
            Err(error) => match cancellation_codes(&error) {
                Some(codes) if is_conflict(&codes) && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Some(codes) => return Err(TransactError::Cancelled(codes)),
                None => return Err(TransactError::Failed(unavailable(error))),
            },
        }
    }
}

/// "Full jitter": a random delay up to an exponentially growing cap.
fn backoff(attempt: u32) -> Duration {
    let cap = (BASE_DELAY_MS << attempt.min(16)).min(MAX_DELAY_MS);
    // RandomState is seeded randomly per instance: enough randomness for a jitter.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_millis(random % (cap + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_cap() {
        for attempt in 1..ATTEMPTS {
            assert!(backoff(attempt) <= Duration::from_millis(MAX_DELAY_MS));
        }
        assert!(backoff(1) <= Duration::from_millis(20));
    }

    #[test]
    fn only_failed_conditions_are_conflicts() {
        let codes = |c: &[&str]| TransactError::Cancelled(c.iter().map(|s| s.to_string()).collect());
        assert!(matches!(
            codes(&["None", "ConditionalCheckFailed"]).into_store_error(),
            StoreError::Conflict
        ));
        assert!(matches!(
            codes(&["TransactionConflict", "None"]).into_store_error(),
            StoreError::Unavailable(_)
        ));
    }
}
