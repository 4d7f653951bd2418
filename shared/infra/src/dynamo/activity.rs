//! The activity log table: items are built here and written inside the transaction of
//! the change they describe.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use domain::activity::ActivityEntry;
use domain::ports::StoreError;
use time::Duration;

use super::errors::corrupt;

use super::keys::log_key;
use super::{Item, n};

#[derive(Debug, Clone)]
pub struct ActivityLog {
    pub table: String,
    /// How long DynamoDB keeps an entry before TTL removes it.
    pub retention: Duration,
}

impl ActivityLog {
    /// The entry's item; an entry that cannot be written (a time RFC 3339 cannot hold)
    /// is refused, never written empty.
    pub fn item(&self, entry: &ActivityEntry) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(entry).map_err(corrupt)?;
        item.extend(log_key(&entry.actor, &entry.id));
        item.insert(
            "expires_at".into(),
            n((entry.at + self.retention).unix_timestamp()),
        );
        Ok(item)
    }

    pub fn put(&self, entry: &ActivityEntry) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.item(entry)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}
