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
        self.put_item(self.item(entry)?)
    }

    /// The entry, kept only until `expires_at` rather than the log's retention: for an
    /// entry that carries a short-lived secret (a reset token) to the mailer.
    pub fn put_until(
        &self,
        entry: &ActivityEntry,
        expires_at: time::OffsetDateTime,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = self.item(entry)?;
        item.insert("expires_at".into(), n(expires_at.unix_timestamp()));
        self.put_item(item)
    }

    fn put_item(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}
