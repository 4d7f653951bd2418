//! Account deletion's Races side (`domain::erasure::ErasureStore`): a deleted runner's
//! entries, official results and private records, found by the runner's keys (gsi1's
//! `RUNNER#` partition, the records' own partition) and changed one item at a time, each
//! change repeatable with one effect.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::activity::ActivityEntry;
use domain::erasure::{EntryRef, ErasureStore, Footprint};
use domain::marathon::MarathonId;
use domain::ports::{RaceStore, StoreError};
use domain::{ANONYMOUS_NAME, UserId};
use serde::Deserialize;
use time::Date;

use super::DynamoRaces;
use super::items::{
    ENTRY_PREFIX, RECORD_PREFIX, RESULT_PREFIX, entry_key, from_item, record_key, result_key, runner_pk,
    tombstone_key,
};
use crate::dynamo::errors::unavailable;
use crate::dynamo::{Item, s};

#[derive(Deserialize)]
struct EntryItem {
    marathon_id: MarathonId,
    marathon_name: String,
    marathon_date: Date,
}

#[derive(Deserialize)]
struct ResultRef {
    marathon_id: MarathonId,
}

#[derive(Deserialize)]
struct RecordRef {
    id: String,
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    error: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    error
        .as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

impl DynamoRaces {
    /// Every item of `pk` (on gsi1 when `index`) whose sort key begins with `prefix`,
    /// projected to `attributes`, following the pages to the end.
    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        index: bool,
        pk: String,
        prefix: &str,
        attributes: &[&str],
    ) -> Result<Vec<T>, StoreError> {
        let (pk_name, sk_name) = if index { ("gsi1pk", "gsi1sk") } else { ("pk", "sk") };
        let mut names: HashMap<String, String> = attributes
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("#p{i}"), (*a).to_owned()))
            .collect();
        names.insert("#pk".into(), pk_name.into());
        names.insert("#sk".into(), sk_name.into());
        let projection = (0..attributes.len())
            .map(|i| format!("#p{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .set_expression_attribute_names(Some(names.clone()))
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .projection_expression(&projection)
                .set_exclusive_start_key(start);
            if index {
                query = query.index_name("gsi1");
            } else {
                query = query.consistent_read(true);
            }
            let output = query.send().await.map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                found.push(from_item(item)?);
            }
            start = output.last_evaluated_key.filter(|key| !key.is_empty());
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// Sets `runner_name` to the anonymous name on the item at `key`, if it exists; the
    /// version and everything else stay.
    async fn anonymize(&self, key: Item) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("SET runner_name = :anonymous")
            // never makes an item out of nothing (a result deleted meanwhile stays deleted)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":anonymous", AttributeValue::S(ANONYMOUS_NAME.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }
}

#[async_trait]
impl ErasureStore for DynamoRaces {
    async fn footprint(&self, runner: &UserId) -> Result<Footprint, StoreError> {
        let entries: Vec<EntryItem> = self
            .all(
                true,
                runner_pk(runner),
                ENTRY_PREFIX,
                &["marathon_id", "marathon_name", "marathon_date"],
            )
            .await?;
        let results: Vec<ResultRef> = self
            .all(true, runner_pk(runner), RESULT_PREFIX, &["marathon_id"])
            .await?;
        let records: Vec<RecordRef> = self.all(false, runner_pk(runner), RECORD_PREFIX, &["id"]).await?;
        Ok(Footprint {
            entries: entries
                .into_iter()
                .map(|e| EntryRef {
                    marathon_id: e.marathon_id,
                    marathon_name: e.marathon_name,
                    marathon_date: e.marathon_date,
                })
                .collect(),
            results: results.into_iter().map(|r| r.marathon_id).collect(),
            records: records.into_iter().map(|r| r.id).collect(),
        })
    }

    async fn cancel_entry(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        RaceStore::cancel_entry(self, marathon, runner, activity).await
    }

    async fn anonymize_entry(&self, marathon: &MarathonId, runner: &UserId) -> Result<(), StoreError> {
        self.anonymize(entry_key(marathon, runner)).await
    }

    async fn anonymize_result(&self, marathon: &MarathonId, runner: &UserId) -> Result<(), StoreError> {
        // official-record-stream sees a MODIFY of the same version: no event (translate.rs)
        self.anonymize(result_key(marathon, runner)).await?;
        // a deleted result's tombstone keeps the names reconcile would publish
        self.anonymize(tombstone_key(marathon, runner)).await
    }

    async fn delete_record(&self, runner: &UserId, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(record_key(runner, id)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
