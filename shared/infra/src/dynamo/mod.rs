//! DynamoDB adapters of the domain's ports.

pub mod activity;
pub(crate) mod errors;
pub mod imports;
pub mod keys;
pub mod leaderboard;
pub mod ledger;
pub mod pending;
pub mod points;
pub mod races;
mod transact;
pub mod users;

pub use activity::ActivityLog;
pub use imports::DynamoImports;
pub use ledger::DynamoLedger;
pub use points::AwardItem;
pub use races::DynamoRaces;
pub use users::DynamoUsers;

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}
