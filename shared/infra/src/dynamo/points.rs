//! Points in the Users table: `USER#id | AWARD#result_id` items (one result's contribution
//! as last applied, written by point-increase) and the `total_points` of the profile.
//! `AwardItem` is the one definition of the award item, for its writer and its readers.

use std::collections::HashMap;

use async_trait::async_trait;
use domain::leaderboard::Season;
use domain::marathon::MarathonId;
use domain::points::Award;
use domain::ports::{PointsStore, StoreError};
use domain::{PublicProfile, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::{corrupt, unavailable};
pub use super::keys::{AWARD_PREFIX, profile_key};
use super::keys::{award_key, user_pk};
use super::users::{PUBLIC_PROFILE_ATTRIBUTES, PublicItem, projection};
use super::{DynamoUsers, Item, s};

/// The profile attribute holding the sum of the runner's awards.
pub const TOTAL_POINTS: &str = "total_points";

/// The attributes of an award item (`AwardItem`'s fields), what readers project.
pub const AWARD_ATTRIBUTES: [&str; 8] = [
    "result_id",
    "marathon_id",
    "points",
    "version",
    "updated_at",
    "delta",
    "notified",
    "season",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwardItem {
    pub result_id: String,
    pub marathon_id: MarathonId,
    pub points: u32,
    /// The result version this award reflects; an award only moves to a newer one.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// What this version changed the total by, kept until announced.
    #[serde(default)]
    pub delta: i64,
    /// Whether `points.awarded` went out for this version: the outbox flag of awards
    /// written before pending announcements (`ANNOUNCE#` items, see `DynamoLedger`)
    /// existed; new awards are written `true`, their pending item owes the announcement.
    #[serde(default)]
    pub notified: bool,
    /// The season (its marathon's year) whose sum counts these points; absent from
    /// awards written before seasons, which no season counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<Season>,
}

impl AwardItem {
    pub fn key(runner: &UserId, result_id: &str) -> Item {
        award_key(runner, result_id)
    }

    /// The whole item: attributes and key.
    pub fn to_item(&self, runner: &UserId) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(self).map_err(corrupt)?;
        item.extend(Self::key(runner, &self.result_id));
        Ok(item)
    }

    pub fn from_item(item: Item) -> Result<Self, StoreError> {
        serde_dynamo::from_item(item).map_err(corrupt)
    }
}

impl From<AwardItem> for Award {
    fn from(item: AwardItem) -> Self {
        Self {
            result_id: item.result_id,
            marathon_id: item.marathon_id,
            points: item.points,
            version: item.version,
            updated_at: item.updated_at,
        }
    }
}

impl From<&Award> for AwardItem {
    fn from(award: &Award) -> Self {
        Self {
            result_id: award.result_id.clone(),
            marathon_id: award.marathon_id.clone(),
            points: award.points,
            version: award.version,
            updated_at: award.updated_at,
            delta: 0,
            notified: true,
            season: None,
        }
    }
}

#[derive(Deserialize)]
struct ProfilePoints {
    /// Absent until the first award.
    #[serde(default)]
    total_points: i64,
}

#[async_trait]
impl PointsStore for DynamoUsers {
    async fn total(&self, runner: &UserId) -> Result<Option<(PublicProfile, i64)>, StoreError> {
        let mut attributes = PUBLIC_PROFILE_ATTRIBUTES.to_vec();
        attributes.push(TOTAL_POINTS);
        let (expression, names) = projection(&attributes);
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(profile_key(runner)))
            .projection_expression(expression)
            .set_expression_attribute_names(Some(names))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item else { return Ok(None) };
        // One read serves both; a deleted account keeps its total under the anonymous name.
        let public: PublicItem = serde_dynamo::from_item(item.clone()).map_err(corrupt)?;
        let points: ProfilePoints = serde_dynamo::from_item(item).map_err(corrupt)?;
        Ok(Some((public.into_public(), points.total_points)))
    }

    async fn awards(&self, runner: &UserId) -> Result<Vec<Award>, StoreError> {
        let mut awards = Vec::new();
        let mut start: Option<HashMap<_, _>> = None;
        let (expression, names) = projection(&AWARD_ATTRIBUTES);
        // A runner has one award per result, few enough to return whole; DynamoDB still
        // pages at 1 MB, so follow the last evaluated key to the end.
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :award)")
                .expression_attribute_values(":pk", s(user_pk(runner)))
                .expression_attribute_values(":award", s(AWARD_PREFIX))
                .projection_expression(&expression)
                .set_expression_attribute_names(Some(names.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                awards.push(AwardItem::from_item(item)?.into());
            }
            start = output.last_evaluated_key.filter(|key| !key.is_empty());
            if start.is_none() {
                return Ok(awards);
            }
        }
    }
}
