//! The activity log table: items are built here and written inside the transaction of
//! the change they describe.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use domain::activity::ActivityEntry;
use time::Duration;

use super::keys::log_key;
use super::{Item, n};

#[derive(Debug, Clone)]
pub struct ActivityLog {
    pub table: String,
    /// How long DynamoDB keeps an entry before TTL removes it.
    pub retention: Duration,
}

impl ActivityLog {
    pub fn item(&self, entry: &ActivityEntry) -> Item {
        let mut item: Item = serde_dynamo::to_item(entry).unwrap_or_default();
        item.extend(log_key(&entry.actor, &entry.id));
        item.insert(
            "expires_at".into(),
            n((entry.at + self.retention).unix_timestamp()),
        );
        item
    }

    pub fn put(&self, entry: &ActivityEntry) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.item(entry)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }
}
