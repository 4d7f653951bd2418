//! The Users table: `USER#id | PROFILE`, `EMAIL#email | EMAIL` (uniqueness) and
//! `USER#id | REFRESH#family`.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};
use domain::activity::ActivityEntry;
use domain::lockout::LockoutPolicy;
use domain::ports::{Credentials, FailedLogin, StoreError, UserStore};
use domain::refresh::RefreshFamily;
use domain::{Email, Role, User, UserId, UserName};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::{corrupt, unavailable};
use super::keys::{email_key, profile_key, refresh_key};
use super::transact::{TransactError, transact};
use super::{ActivityLog, Item, key, n, s};

#[derive(Clone)]
pub struct DynamoUsers {
    client: Client,
    table: String,
    activity: ActivityLog,
}

#[derive(Serialize, Deserialize)]
struct ProfileItem {
    id: UserId,
    email: Email,
    name: UserName,
    user_type: Role,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    password_hash: String,
    #[serde(default)]
    failed_logins: u32,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locked_until: Option<i64>,
    #[serde(default)]
    total_points: i64,
}

/// What a profile shows the functions that only need to name or mail someone: the
/// `User`'s serde form, never the credentials. record-api's and log-mailer's IAM policies
/// allow reading no other attribute of the Users table (`dynamodb:Attributes`, checked
/// against these lists by tests/template_policy.rs).
pub const PUBLIC_PROFILE_ATTRIBUTES: [&str; 5] = ["id", "email", "name", "user_type", "created_at"];

/// A projection of `attributes`, every name through a placeholder (`name` is a reserved
/// word): only what is projected is read, and IAM sees which attributes a read asks for.
pub(crate) fn projection(attributes: &[&str]) -> (String, std::collections::HashMap<String, String>) {
    let names: std::collections::HashMap<String, String> = attributes
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("#p{i}"), (*a).to_owned()))
        .collect();
    let expression = (0..attributes.len())
        .map(|i| format!("#p{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    (expression, names)
}

#[derive(Serialize, Deserialize)]
struct FamilyItem {
    user_id: UserId,
    family_id: String,
    current_hash: String,
    /// Unix seconds; also the table's TTL attribute, so dead families clean themselves up.
    expires_at: i64,
    revoked: bool,
}

fn from_unix(seconds: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(corrupt)
}

impl DynamoUsers {
    pub fn new(client: Client, table: impl Into<String>, activity: ActivityLog) -> Self {
        Self {
            client,
            table: table.into(),
            activity,
        }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TransactError> {
        transact(&self.client, items).await
    }

    fn put(&self, item: Item, condition: &str) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }

    fn update(&self, key: Item) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder().table_name(&self.table).set_key(Some(key))
    }
}

fn built(update: aws_sdk_dynamodb::types::builders::UpdateBuilder) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(update.build().expect("table, key and expression are set"))
        .build()
}

#[async_trait]
impl UserStore for DynamoUsers {
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let profile = ProfileItem {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            user_type: user.user_type,
            created_at: user.created_at,
            password_hash: password_hash.to_owned(),
            failed_logins: 0,
            locked_until: None,
            total_points: 0,
        };
        let mut profile_item: Item = serde_dynamo::to_item(&profile).map_err(corrupt)?;
        profile_item.extend(profile_key(&user.id));
        let mut email_item = email_key(&user.email);
        email_item.insert("user_id".into(), s(user.id.as_str()));
        let items = vec![
            self.put(profile_item, "attribute_not_exists(pk)"),
            self.put(email_item, "attribute_not_exists(pk)"),
            self.activity.put(activity)?,
        ];
        self.transact(items).await.map_err(|outcome| match outcome {
            // the email claim is item 1; the profile id is fresh and cannot collide
            TransactError::Cancelled(codes)
                if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") =>
            {
                StoreError::EmailTaken
            }
            other => other.into_store_error(),
        })
    }

    async fn credentials(&self, email: &Email) -> Result<Option<Credentials>, StoreError> {
        let claim = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(email_key(email)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(user_id) = claim
            .item
            .as_ref()
            .and_then(|item| item.get("user_id"))
            .and_then(|v| v.as_s().ok())
            .and_then(|raw| UserId::parse(raw))
        else {
            return Ok(None);
        };
        let Some(profile) = self.profile(&user_id).await? else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            locked_until: profile.locked_until.map(from_unix).transpose()?,
            failed_logins: profile.failed_logins,
            password_hash: profile.password_hash.clone(),
            user: profile.into_user(),
        }))
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        // the public attributes only: callers without the right to read credentials can
        let (expression, names) = projection(&PUBLIC_PROFILE_ATTRIBUTES);
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(id)))
            .projection_expression(expression)
            .set_expression_attribute_names(Some(names))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item
            .map(|item| serde_dynamo::from_item(item).map_err(corrupt))
            .transpose()
    }

    async fn record_failed_login(
        &self,
        id: &UserId,
        policy: &LockoutPolicy,
        now: OffsetDateTime,
        lock_entry: &ActivityEntry,
    ) -> Result<FailedLogin, StoreError> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(id)))
            .update_expression("SET failed_logins = if_not_exists(failed_logins, :zero) + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(unavailable)?;
        let failures: u32 = counted
            .attributes
            .as_ref()
            .and_then(|a| a.get("failed_logins"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("failed_logins missing after update"))?;
        if !policy.locks_at(failures) {
            return Ok(FailedLogin::Counted(failures));
        }
        let lock = self
            .update(profile_key(id))
            .update_expression("SET locked_until = :until, failed_logins = :zero")
            // only the failure that crossed the limit locks; a concurrent one finds it reset
            .condition_expression("failed_logins >= :max")
            .expression_attribute_values(":until", n(policy.locked_until(now).unix_timestamp()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":max", n(policy.max_failures));
        match self
            .transact(vec![built(lock), self.activity.put(lock_entry)?])
            .await
        {
            Ok(()) => Ok(FailedLogin::Locked),
            Err(outcome) => match outcome.into_store_error() {
                StoreError::Conflict => Ok(FailedLogin::Locked),
                other => Err(other),
            },
        }
    }

    async fn record_login(&self, family: &RefreshFamily, activity: &ActivityEntry) -> Result<(), StoreError> {
        let reset = self
            .update(profile_key(&family.user_id))
            .update_expression("SET failed_logins = :zero")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0));
        let mut family_item: Item = serde_dynamo::to_item(FamilyItem::from(family)).map_err(corrupt)?;
        family_item.extend(refresh_key(&family.user_id, &family.family_id));
        let items = vec![
            built(reset),
            self.put(family_item, "attribute_not_exists(pk)"),
            self.activity.put(activity)?,
        ];
        self.transact(items)
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn refresh_family(
        &self,
        user: &UserId,
        family_id: &str,
    ) -> Result<Option<RefreshFamily>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(refresh_key(user, family_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item
            .map(|item| {
                let stored: FamilyItem = serde_dynamo::from_item(item).map_err(corrupt)?;
                stored.try_into()
            })
            .transpose()
    }

    async fn rotate_refresh(
        &self,
        family: &RefreshFamily,
        expected_hash: &str,
        next_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(refresh_key(&family.user_id, &family.family_id)))
            .update_expression("SET current_hash = :next, expires_at = :expires")
            .condition_expression("current_hash = :expected AND revoked = :false")
            .expression_attribute_values(":next", s(next_hash))
            .expression_attribute_values(":expected", s(expected_hash))
            .expression_attribute_values(":expires", n(expires_at.unix_timestamp()))
            .expression_attribute_values(":false", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn revoke_family(
        &self,
        user: &UserId,
        family_id: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let revoke = self
            .update(refresh_key(user, family_id))
            .update_expression("SET revoked = :true")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true));
        self.transact(vec![built(revoke), self.activity.put(activity)?])
            .await
            .map_err(TransactError::into_store_error)
    }
}

impl DynamoUsers {
    async fn profile(&self, id: &UserId) -> Result<Option<ProfileItem>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item
            .map(|item| serde_dynamo::from_item(item).map_err(corrupt))
            .transpose()
    }

    /// For the other views of the Users table (`points`).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// One cheap read during init, so the first request does not pay the TLS handshake.
    pub async fn warm_up(&self) {
        let probe = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("WARMUP", "WARMUP")))
            // a projection, as IAM requires of readers limited to some attributes
            .projection_expression("pk")
            .send()
            .await;
        if let Err(error) = probe {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(error), "warm-up read failed");
        }
    }
}

impl ProfileItem {
    fn into_user(self) -> User {
        User {
            id: self.id,
            email: self.email,
            name: self.name,
            user_type: self.user_type,
            created_at: self.created_at,
        }
    }
}

impl From<&RefreshFamily> for FamilyItem {
    fn from(family: &RefreshFamily) -> Self {
        Self {
            user_id: family.user_id.clone(),
            family_id: family.family_id.clone(),
            current_hash: family.current_hash.clone(),
            expires_at: family.expires_at.unix_timestamp(),
            revoked: family.revoked,
        }
    }
}

impl TryFrom<FamilyItem> for RefreshFamily {
    type Error = StoreError;

    fn try_from(item: FamilyItem) -> Result<Self, StoreError> {
        Ok(Self {
            expires_at: from_unix(item.expires_at)?,
            user_id: item.user_id,
            family_id: item.family_id,
            current_hash: item.current_hash,
            revoked: item.revoked,
        })
    }
}
