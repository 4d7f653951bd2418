//! The Races table's sparse `pending` index, as reconcile reads it: official results and
//! deletion tombstones whose version the ledger may not have applied (see
//! `keys::PENDING_INDEX`), the ledger's applied version of each (the award item on Users),
//! and the acknowledgement that removes an item from the index once the ledger has it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::UserId;
use domain::marathon::MarathonId;
use domain::ports::StoreError;
use serde::Deserialize;

use super::errors::{corrupt, unavailable};
use super::keys::{PENDING, PENDING_AWARD, PENDING_INDEX, PENDING_SINCE, award_key, is_result_sk};
use super::{Item, n, s};

/// The Races attributes an acknowledgement touches (reconcile's IAM policy allows only
/// these on the table, tests/whole_stack/template_policy.rs): the key, the marker, the condition.
pub const ACKNOWLEDGE_ATTRIBUTES: [&str; 5] = ["pk", "sk", PENDING, PENDING_SINCE, "version"];

/// The Users attributes reconcile reads: an award item's applied version.
pub const LEDGER_ATTRIBUTES: [&str; 3] = ["pk", "sk", "version"];

/// What the index projects beside the keys: `PendingItem`'s other fields (template.yaml's
/// `NonKeyAttributes`, checked against this list).
pub const PROJECTED_ATTRIBUTES: [&str; 10] = [
    "version",
    "result_id",
    "marathon_id",
    "marathon_name",
    "runner_id",
    "runner_name",
    "points",
    "correlation_id",
    "marathon_date",
    "import_id",
];

/// A result or a tombstone in the index: what its event needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PendingItem {
    pub pk: String,
    pub sk: String,
    pub result_id: String,
    pub marathon_id: MarathonId,
    #[serde(default)]
    pub marathon_name: String,
    pub runner_id: UserId,
    #[serde(default)]
    pub runner_name: String,
    /// The result's points (a tombstone has none: a removal contributes 0).
    #[serde(default)]
    pub points: u32,
    /// The result's version, or the removal's for a tombstone.
    pub version: u64,
    /// Epoch seconds.
    pub pending_since: i64,
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// The marathon's date (its year is the award's season); absent from tombstones
    /// written before it was kept.
    #[serde(default)]
    pub marathon_date: Option<time::Date>,
    /// The bulk import that wrote this version of the result (a tombstone has none): its
    /// repair is announced in the import's one summary, not on its own.
    #[serde(default)]
    pub import_id: Option<String>,
}

impl PendingItem {
    /// A tombstone (`REMOVED#`) stands for the removal of its result.
    pub fn is_removal(&self) -> bool {
        !is_result_sk(&self.sk)
    }
}

#[derive(Clone)]
pub struct DynamoPending {
    client: Client,
    races: String,
    users: String,
}

impl DynamoPending {
    pub fn new(client: Client, races_table: impl Into<String>, users_table: impl Into<String>) -> Self {
        Self {
            client,
            races: races_table.into(),
            users: users_table.into(),
        }
    }

    /// Every item of the index written at or before `until` (epoch seconds), oldest first.
    pub async fn due(&self, until: i64) -> Result<Vec<PendingItem>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.races)
                .index_name(PENDING_INDEX)
                .key_condition_expression("#pending = :award AND #since <= :until")
                .expression_attribute_names("#pending", PENDING)
                .expression_attribute_names("#since", PENDING_SINCE)
                .expression_attribute_values(":award", s(PENDING_AWARD))
                .expression_attribute_values(":until", n(until))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                items.push(serde_dynamo::from_item(item).map_err(corrupt)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// The version the ledger has applied for a result (its award item's), if any.
    pub async fn applied_version(&self, runner: &UserId, result_id: &str) -> Result<Option<u64>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users)
            .set_key(Some(award_key(runner, result_id)))
            .projection_expression("#version")
            .expression_attribute_names("#version", "version")
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .item
            .and_then(|item| item.get("version").cloned())
            .and_then(|v| match v {
                AttributeValue::N(n) => n.parse().ok(),
                _ => None,
            }))
    }

    /// Takes the item out of the index, only at the version the ledger was seen to have:
    /// a newer write since keeps its marker. False when it had moved on.
    pub async fn acknowledge(&self, item: &PendingItem) -> Result<bool, StoreError> {
        let outcome = self
            .client
            .update_item()
            .table_name(&self.races)
            .key("pk", s(item.pk.clone()))
            .key("sk", s(item.sk.clone()))
            .update_expression("REMOVE #pending, #since")
            .condition_expression("#version = :version")
            .expression_attribute_names("#pending", PENDING)
            .expression_attribute_names("#since", PENDING_SINCE)
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":version", n(item.version))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}
