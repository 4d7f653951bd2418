//! Marathons: create, edit (optimistic, on `version`), and the listings by date and by
//! organizer.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use domain::activity::ActivityEntry;
use domain::marathon::{Marathon, MarathonId, MarathonLabel};
use domain::ports::{MarathonFilter, StoreError};
use serde::Deserialize;
use time::Date;

use super::cursor::{Index, Listing, SortCondition};
use super::items::{ALL_MARATHONS, from_item, iso_date, marathon_item, marathon_key, organizer_pk};
use super::{DynamoRaces, Op};
use crate::dynamo::errors::unavailable;
use crate::dynamo::n;

/// Rounds of BatchGetItem for the keys DynamoDB left unprocessed (throttling) before the
/// listing fails as unavailable.
const BATCH_ROUNDS: u32 = 4;

/// A marathon's name and date as a listing shows them.
#[derive(Deserialize)]
struct Label {
    id: MarathonId,
    name: String,
    date: Date,
}

/// What an edit never overwrites: the key, who owns the marathon, when it was created, and
/// the counts, which registrations and results change without bumping the version.
const KEPT_ON_UPDATE: [&str; 9] = [
    "pk",
    "sk",
    "gsi1pk",
    "gsi2pk",
    "id",
    "organizer_id",
    "created_at",
    "entry_count",
    "result_count",
];

pub(super) fn listing(filter: &MarathonFilter) -> Result<Listing, StoreError> {
    Ok(match filter {
        MarathonFilter::Upcoming { today } => Listing::new(
            Index::Gsi2,
            ALL_MARATHONS.into(),
            SortCondition::AtLeast(iso_date(*today)?),
            true,
        ),
        MarathonFilter::Past { today } => Listing::new(
            Index::Gsi2,
            ALL_MARATHONS.into(),
            SortCondition::Below(iso_date(*today)?),
            false,
        ),
        // the organizer's partition holds nothing but marathons
        MarathonFilter::ByOrganizer(organizer) => {
            Listing::new(Index::Gsi1, organizer_pk(organizer), SortCondition::All, true)
        }
    })
}

impl DynamoRaces {
    pub(super) async fn create_marathon_item(
        &self,
        marathon: &Marathon,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let put = self
            .put(marathon_item(marathon)?)
            .condition_expression("attribute_not_exists(pk)");
        self.write(vec![put.op()], activity).await
    }

    pub(super) async fn update_marathon_item(
        &self,
        marathon: &Marathon,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut fields: Vec<_> = marathon_item(marathon)?
            .into_iter()
            .filter(|(attr, _)| !KEPT_ON_UPDATE.contains(&attr.as_str()))
            .collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let set = fields
            .iter()
            .map(|(attr, _)| format!("#{attr} = :{attr}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut names: HashMap<String, String> = fields
            .iter()
            .map(|(attr, _)| (format!("#{attr}"), attr.clone()))
            .collect();
        names.insert("#entry_count".into(), "entry_count".into());
        names.insert("#result_count".into(), "result_count".into());
        let mut values: HashMap<_, _> = fields
            .into_iter()
            .map(|(attr, value)| (format!(":{attr}"), value))
            .collect();
        values.insert(":expected".into(), n(expected_version));
        values.insert(":no_results".into(), n(0));
        let update = self
            .update(marathon_key(&marathon.id))
            .update_expression(format!("SET {set}"))
            // registrations may have counted past a lowered capacity since the caller read,
            // and a result recorded since fixes the points and the date
            // (`Marathon::may_set_points`, `may_set_date`)
            .condition_expression(format!(
                "#version = :expected AND #entry_count <= :capacity \
                 AND ((#points = :points AND #date = :date AND {dnf}) \
                      OR attribute_not_exists(#result_count) OR #result_count = :no_results)",
                // marathons from before statuses have no dnf_points: 0
                dnf = if marathon.dnf_points == 0 {
                    "(attribute_not_exists(#dnf_points) OR #dnf_points = :dnf_points)"
                } else {
                    "#dnf_points = :dnf_points"
                }
            ))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        self.write(vec![update.op()], activity).await
    }

    /// Puts each item's marathon's current name and date back (an organizer may have
    /// edited them since the item was written): one BatchGetItem of the distinct
    /// marathons of a page (at most 100, BatchGetItem's limit).
    pub(super) async fn relabel<T: MarathonLabel>(&self, items: &mut [T]) -> Result<(), StoreError> {
        let mut ids: Vec<&MarathonId> = items.iter().map(|i| i.marathon_id()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let keys = ids.into_iter().map(marathon_key).collect();
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .projection_expression("id, #name, #date")
                .expression_attribute_names("#name", "name")
                .expression_attribute_names("#date", "date")
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
        );
        let mut labels = HashMap::new();
        for round in 0..BATCH_ROUNDS {
            let Some(pending) = request.take() else { break };
            if round > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(25 << round)).await;
            }
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, pending)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                let label: Label = from_item(item)?;
                labels.insert(label.id, (label.name, label.date));
            }
            request = output
                .unprocessed_keys
                .unwrap_or_default()
                .remove(&self.table)
                .filter(|k| !k.keys().is_empty());
        }
        if request.is_some() {
            return Err(StoreError::Unavailable(
                "DynamoDB left marathons unread after retries".into(),
            ));
        }
        for item in items {
            // a marathon gone since (none is deleted today) keeps its copied label
            if let Some((name, date)) = labels.get(item.marathon_id()) {
                item.relabel(name, *date);
            }
        }
        Ok(())
    }
}
