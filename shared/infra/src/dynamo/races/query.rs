//! Paged queries over a listing. No Scan and no filter: every page is one Query whose key
//! condition selects exactly the listing, so a page is short only at the end.

use domain::paging::{MAX_LIMIT, Page, PageRequest};
use domain::ports::StoreError;
use serde::de::DeserializeOwned;

use super::DynamoRaces;
use super::cursor::{Index, Listing};
use super::items::from_item;
use crate::dynamo::errors::unavailable;

impl DynamoRaces {
    pub(super) async fn page<T: DeserializeOwned>(
        &self,
        listing: &Listing,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let start = page.cursor.as_deref().map(|c| listing.start_key(c)).transpose()?;
        let limit = page.limit.clamp(1, MAX_LIMIT) as usize;
        let (expression, values) = listing.key_condition();
        // One item more than asked tells whether there is a next page, so the last page
        // never comes with a cursor that leads to an empty one.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(listing.index.name().map(str::to_owned))
            .key_condition_expression(expression)
            .set_expression_attribute_values(Some(
                values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            ))
            .scan_index_forward(listing.forward)
            .limit(limit as i32 + 1)
            .set_exclusive_start_key(start)
            // global indexes only read eventually consistent
            .consistent_read(listing.index == Index::Table)
            .send()
            .await
            .map_err(unavailable)?;
        let mut items = output.items.unwrap_or_default();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            Some(listing.cursor_after(items.last().expect("limit is at least 1"))?)
        } else {
            // a short page with a last evaluated key: DynamoDB stopped at its 1 MB limit
            output
                .last_evaluated_key
                .filter(|key| !key.is_empty())
                .map(|key| listing.cursor_after(&key))
                .transpose()?
        };
        let items = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }
}
