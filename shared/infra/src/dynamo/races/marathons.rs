//! Marathons: create, edit (optimistic, on `version`), and the listings by date and by
//! organizer.

use std::collections::HashMap;

use domain::activity::ActivityEntry;
use domain::marathon::Marathon;
use domain::ports::{MarathonFilter, StoreError};

use super::cursor::{Index, Listing, SortCondition};
use super::items::{ALL_MARATHONS, iso_date, marathon_item, marathon_key, organizer_pk};
use super::{DynamoRaces, Op};
use crate::dynamo::n;

/// What an edit never overwrites: the key, who owns the marathon, when it was created, and
/// `entry_count`, which registrations change without bumping the version.
const KEPT_ON_UPDATE: [&str; 8] = [
    "pk",
    "sk",
    "gsi1pk",
    "gsi2pk",
    "id",
    "organizer_id",
    "created_at",
    "entry_count",
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
        let mut values: HashMap<_, _> = fields
            .into_iter()
            .map(|(attr, value)| (format!(":{attr}"), value))
            .collect();
        values.insert(":expected".into(), n(expected_version));
        let update = self
            .update(marathon_key(&marathon.id))
            .update_expression(format!("SET {set}"))
            // registrations may have counted past a lowered capacity since the caller read
            .condition_expression("#version = :expected AND #entry_count <= :capacity")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        self.write(vec![update.op()], activity).await
    }
}
