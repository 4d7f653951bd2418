//! Bulk results imports in the Races table (`MARATHON#<id> | IMPORT#<import>`): one item
//! per import, its state moved by conditional writes (a dry run only before the commit,
//! the commit only once), its progress only forwards.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::import::{Import, ImportId, ImportState, ImportStore};
use domain::marathon::MarathonId;
use domain::ports::StoreError;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::errors::{corrupt, unavailable};
use super::keys::import_key;
use super::{Item, n, s};

#[derive(Clone)]
pub struct DynamoImports {
    client: Client,
    table: String,
}

fn state(state: ImportState) -> AttributeValue {
    // the serde name, as the item stores it
    s(serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default())
}

fn at(now: OffsetDateTime) -> AttributeValue {
    s(now.format(&Rfc3339).unwrap_or_default())
}

/// A failed condition is `Conflict`; everything else is the SDK's.
fn conditional<E, R>(error: SdkError<E, R>, failed: impl Fn(&E) -> bool) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    if error.as_service_error().is_some_and(failed) {
        StoreError::Conflict
    } else {
        unavailable(error)
    }
}

impl DynamoImports {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn item(import: &Import) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(import).map_err(corrupt)?;
        item.extend(import_key(&import.marathon_id, &import.id));
        Ok(item)
    }
}

#[async_trait]
impl ImportStore for DynamoImports {
    async fn create(&self, import: &Import) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(import)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| conditional(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn get(&self, marathon: &MarathonId, id: &ImportId) -> Result<Option<Import>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(import_key(marathon, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item
            .map(|item| serde_dynamo::from_item(item).map_err(corrupt))
            .transpose()
    }

    async fn save_dry_run(&self, import: &Import) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(import)?))
            .condition_expression("#state IN (:awaiting, :validated, :rejected)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":awaiting", state(ImportState::AwaitingUpload))
            .expression_attribute_values(":validated", state(ImportState::Validated))
            .expression_attribute_values(":rejected", state(ImportState::Rejected))
            .send()
            .await
            .map_err(|e| conditional(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn begin_commit(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(import_key(marathon, id)))
            .update_expression("SET #state = :committing, updated_at = :now")
            .condition_expression("#state = :validated")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":committing", state(ImportState::Committing))
            .expression_attribute_values(":validated", state(ImportState::Validated))
            .expression_attribute_values(":now", at(now))
            .send()
            .await
            .map_err(|e| conditional(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn progress(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        applied: u32,
        removed: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(import_key(marathon, id)))
            .update_expression("SET applied = :applied, removed = :removed, updated_at = :now")
            .condition_expression("applied <= :applied AND removed <= :removed")
            .expression_attribute_values(":applied", n(applied))
            .expression_attribute_values(":removed", n(removed))
            .expression_attribute_values(":now", at(now))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            // another run is further along: its count stands
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn finish(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(import_key(marathon, id)))
            .update_expression("SET #state = :committed, committed_at = :now, updated_at = :now")
            .condition_expression("#state = :committing")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":committed", state(ImportState::Committed))
            .expression_attribute_values(":committing", state(ImportState::Committing))
            .expression_attribute_values(":now", at(now))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                match self.get(marathon, id).await? {
                    Some(import) if import.state == ImportState::Committed => Ok(()),
                    _ => Err(StoreError::Conflict),
                }
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
