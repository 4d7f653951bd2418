//! The Users table: `USER#id | PROFILE`, `EMAIL#email | EMAIL` (uniqueness) and
//! `USER#id | REFRESH#family`.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use domain::activity::ActivityEntry;
use domain::lockout::{AttemptState, Reservation};
use domain::ports::{Credentials, StoreError, UserStore};
use domain::refresh::RefreshFamily;
use domain::reset::PasswordReset;
use domain::{Email, PublicProfile, Role, User, UserId, UserName};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::{corrupt, unavailable};
use super::keys::{email_key, profile_key, refresh_key, reset_key, verify_key};
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
    /// Unix seconds; no attempt before it (a delay after failures, or a lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<i64>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locked_until: Option<i64>,
    /// Moves on when every session ends (password change, logout everywhere).
    #[serde(default)]
    session_generation: u64,
    /// Profiles written before addresses were verified have none: they count as verified.
    #[serde(default = "verified_before_verification")]
    email_verified: bool,
    #[serde(default)]
    total_points: i64,
}

/// What a profile shows the functions that only need to name or mail someone: the
/// `User`'s serde form, never the credentials. record-api's and log-mailer's IAM policies
/// allow reading no other attribute of the Users table (`dynamodb:Attributes`, checked
/// against these lists by tests/whole_stack/template_policy.rs).
pub const PUBLIC_PROFILE_ATTRIBUTES: [&str; 5] = ["id", "email", "name", "user_type", "created_at"];

/// Set on a deleted account's profile (RFC 3339), which keeps only its id, role, creation
/// time, points and the anonymous name: docs/DESIGN.md, Account deletion.
pub const DELETED_AT: &str = "deleted_at";

/// A profile's public attributes as read (`PUBLIC_PROFILE_ATTRIBUTES`, and what else a
/// reader projects). A deleted account's has no `email`: that is how readers limited to
/// these attributes tell it, without a right to read more.
#[derive(Deserialize)]
pub(crate) struct PublicItem {
    id: UserId,
    #[serde(default)]
    email: Option<Email>,
    name: UserName,
    user_type: Role,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl PublicItem {
    /// The `User` of a live account; None once deleted.
    pub(crate) fn into_user(self) -> Option<User> {
        Some(User {
            email: self.email?,
            id: self.id,
            name: self.name,
            user_type: self.user_type,
            created_at: self.created_at,
        })
    }

    pub(crate) fn into_public(self) -> PublicProfile {
        PublicProfile {
            deleted: self.email.is_none(),
            id: self.id,
            name: self.name,
            user_type: self.user_type,
        }
    }
}

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
    /// The account's session generation at login (absent in older items: 0).
    #[serde(default)]
    generation: u64,
    /// Unix seconds: the login's absolute end. Older items have none: their current
    /// expiry is then the end (rotation no longer extends them).
    #[serde(default)]
    session_expires_at: Option<i64>,
}

/// A condition that the profile's session generation is still `generation` (profiles
/// written before generations existed have none, which is 0).
fn generation_condition(generation: u64) -> &'static str {
    if generation == 0 {
        "(attribute_not_exists(session_generation) OR session_generation = :generation)"
    } else {
        "session_generation = :generation"
    }
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    error: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    error
        .as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

#[derive(Serialize, Deserialize)]
struct ResetItem {
    user_id: UserId,
    token_hash: String,
    /// Unix seconds.
    requested_at: i64,
    /// Unix seconds; also the table's TTL attribute.
    expires_at: i64,
    #[serde(default)]
    used: bool,
}

fn verified_before_verification() -> bool {
    true
}

fn rfc3339(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&time::format_description::well_known::Rfc3339)
        .map_err(corrupt)
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
            next_attempt_at: None,
            locked_until: None,
            session_generation: 0,
            email_verified: false,
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
        self.credentials_by_id(&user_id).await
    }

    async fn credentials_by_id(&self, id: &UserId) -> Result<Option<Credentials>, StoreError> {
        let Some(profile) = self.profile(id).await? else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            attempts: AttemptState {
                failures: profile.failed_logins,
                next_attempt_at: profile.next_attempt_at.map(from_unix).transpose()?,
                locked_until: profile.locked_until.map(from_unix).transpose()?,
            },
            session_generation: profile.session_generation,
            email_verified: profile.email_verified,
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
        let Some(item) = output.item else { return Ok(None) };
        let public: PublicItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        // a deleted account is no user any more (its anonymous profile keeps its points)
        Ok(public.into_user())
    }

    async fn reserve_attempt(
        &self,
        id: &UserId,
        reservation: &Reservation,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // The count read must not have moved, and no delay or lock may apply: of
        // concurrent attempts on one reading, one passes.
        let count = if reservation.expected_failures == 0 {
            "(attribute_not_exists(failed_logins) OR failed_logins = :expected)"
        } else {
            "failed_logins = :expected"
        };
        let condition = format!(
            "attribute_exists(pk) AND {count} \
             AND (attribute_not_exists(next_attempt_at) OR next_attempt_at <= :now) \
             AND (attribute_not_exists(locked_until) OR locked_until <= :now)"
        );
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(id)))
            .update_expression("SET failed_logins = :failures, next_attempt_at = :next")
            .condition_expression(condition)
            .expression_attribute_values(":expected", n(reservation.expected_failures))
            .expression_attribute_values(":failures", n(reservation.failures))
            .expression_attribute_values(":next", n(reservation.next_attempt_at.unix_timestamp()))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Err(StoreError::Conflict),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn record_lock(
        &self,
        id: &UserId,
        failures: u32,
        until: OffsetDateTime,
        lock_entry: &ActivityEntry,
    ) -> Result<bool, StoreError> {
        let lock = self
            .update(profile_key(id))
            .update_expression("SET locked_until = :until")
            // a success since the reservation cleared the count: nothing to lock
            .condition_expression("failed_logins = :failures")
            .expression_attribute_values(":until", n(until.unix_timestamp()))
            .expression_attribute_values(":failures", n(failures));
        match self
            .transact(vec![built(lock), self.activity.put(lock_entry)?])
            .await
        {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(codes))
                if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") =>
            {
                Ok(false)
            }
            Err(other) => Err(other.into_store_error()),
        }
    }

    async fn record_login(
        &self,
        family: &RefreshFamily,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        // A success clears the failures only if no lock holds (a lock set while this
        // attempt was verified wins).
        let reset = self
            .update(profile_key(&family.user_id))
            .update_expression("SET failed_logins = :zero REMOVE next_attempt_at, locked_until")
            .condition_expression(format!(
                "attribute_exists(pk) AND (attribute_not_exists(locked_until) OR locked_until <= :now) AND {}",
                generation_condition(family.generation)
            ))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .expression_attribute_values(":generation", n(family.generation));
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

    async fn change_password(
        &self,
        id: &UserId,
        password_hash: &str,
        generation: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let change = self
            .update(profile_key(id))
            .update_expression(
                "SET password_hash = :hash, failed_logins = :zero, session_generation = :next \
                 REMOVE next_attempt_at, locked_until",
            )
            .condition_expression(format!(
                "attribute_exists(pk) AND {}",
                generation_condition(generation)
            ))
            .expression_attribute_values(":hash", s(password_hash))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":generation", n(generation))
            .expression_attribute_values(":next", n(generation + 1));
        self.transact(vec![built(change), self.activity.put(activity)?])
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn end_sessions(&self, id: &UserId, activity: &ActivityEntry) -> Result<(), StoreError> {
        let end = self
            .update(profile_key(id))
            .update_expression("SET session_generation = if_not_exists(session_generation, :zero) + :one")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        self.transact(vec![built(end), self.activity.put(activity)?])
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn request_password_reset(
        &self,
        reset: &PasswordReset,
        not_since: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<bool, StoreError> {
        self.request_token(reset_key(&reset.user_id), reset, not_since, activity)
            .await
    }

    async fn password_reset(&self, id: &UserId) -> Result<Option<PasswordReset>, StoreError> {
        self.pending_token(reset_key(id)).await
    }

    async fn request_email_verification(
        &self,
        pending: &PasswordReset,
        not_since: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<bool, StoreError> {
        self.request_token(verify_key(&pending.user_id), pending, not_since, activity)
            .await
    }

    async fn email_verification(&self, id: &UserId) -> Result<Option<PasswordReset>, StoreError> {
        self.pending_token(verify_key(id)).await
    }

    async fn complete_email_verification(
        &self,
        id: &UserId,
        token_hash: &str,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let set = self
            .update(profile_key(id))
            .update_expression("SET email_verified = :true")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", AttributeValue::Bool(true));
        self.transact(vec![
            built(self.consume_token(verify_key(id), token_hash, now)),
            built(set),
            self.activity.put(activity)?,
        ])
        .await
        .map_err(TransactError::into_store_error)
    }

    async fn complete_password_reset(
        &self,
        id: &UserId,
        token_hash: &str,
        password_hash: &str,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        // single use: of concurrent confirmations, one marks it used
        let consume = self.consume_token(reset_key(id), token_hash, now);
        let set = self
            .update(profile_key(id))
            .update_expression(
                "SET password_hash = :password, failed_logins = :zero, \
                 session_generation = if_not_exists(session_generation, :zero) + :one \
                 REMOVE next_attempt_at, locked_until",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":password", s(password_hash))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        self.transact(vec![built(consume), built(set), self.activity.put(activity)?])
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn delete_account(
        &self,
        account: &Credentials,
        now: OffsetDateTime,
        activity: &ActivityEntry,
        activity_until: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let id = &account.user.id;
        let generation = account.session_generation;
        // What stays: the id, the role, the creation time, the points (the awards are
        // items of their own, untouched), under the anonymous name. The next generation
        // ends every refresh family, as a password change does; families expire by TTL.
        let anonymize = self
            .update(profile_key(id))
            .update_expression(
                "SET #name = :anonymous, deleted_at = :now, session_generation = :next \
                 REMOVE email, password_hash, failed_logins, next_attempt_at, locked_until, email_verified",
            )
            .condition_expression(format!(
                "attribute_exists(pk) AND attribute_not_exists(deleted_at) AND {}",
                generation_condition(generation)
            ))
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":anonymous", s(domain::ANONYMOUS_NAME))
            .expression_attribute_values(":now", s(rfc3339(now)?))
            .expression_attribute_values(":generation", n(generation))
            .expression_attribute_values(":next", n(generation + 1));
        // the address is free for a new account; only this account's claim goes
        let claim = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(email_key(&account.user.email)))
            .condition_expression("user_id = :id")
            .expression_attribute_values(":id", s(id.as_str()))
            .build()
            .expect("table and key are set");
        let token = |key: Item| {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .build()
                .expect("table and key are set");
            TransactWriteItem::builder().delete(delete).build()
        };
        self.transact(vec![
            built(anonymize),
            TransactWriteItem::builder().delete(claim).build(),
            token(reset_key(id)),
            token(verify_key(id)),
            // it carries the address, for the confirmation mail: kept days, not the log's retention
            self.activity.put_until(activity, activity_until)?,
        ])
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
        let rotate = self
            .update(refresh_key(&family.user_id, &family.family_id))
            .update_expression("SET current_hash = :next, expires_at = :expires")
            .condition_expression("current_hash = :expected AND revoked = :false")
            .expression_attribute_values(":next", s(next_hash))
            .expression_attribute_values(":expected", s(expected_hash))
            .expression_attribute_values(":expires", n(expires_at.unix_timestamp()))
            .expression_attribute_values(":false", AttributeValue::Bool(false));
        // the sessions must not have ended meanwhile (a password change, logout everywhere)
        let generation = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile_key(&family.user_id)))
            .condition_expression(generation_condition(family.generation))
            .expression_attribute_values(":generation", n(family.generation))
            .build()
            .expect("table, key and condition are set");
        self.transact(vec![
            built(rotate),
            TransactWriteItem::builder().condition_check(generation).build(),
        ])
        .await
        .map_err(TransactError::into_store_error)
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
            .expression_attribute_values(":true", AttributeValue::Bool(true));
        self.transact(vec![built(revoke), self.activity.put(activity)?])
            .await
            .map_err(TransactError::into_store_error)
    }
}

impl DynamoUsers {
    /// Stores a mailed token's hash at `key` in place of an earlier one, with the entry that
    /// carries the token to the mailer (kept only as long as the token lives), unless the
    /// last one was asked for after `not_since`.
    async fn request_token(
        &self,
        key: Item,
        pending: &PasswordReset,
        not_since: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<bool, StoreError> {
        let stored = ResetItem {
            user_id: pending.user_id.clone(),
            token_hash: pending.token_hash.clone(),
            requested_at: pending.requested_at.unix_timestamp(),
            expires_at: pending.expires_at.unix_timestamp(),
            used: false,
        };
        let mut item: Item = serde_dynamo::to_item(&stored).map_err(corrupt)?;
        item.extend(key);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            // one mail a minute at most: a flood of requests is answered alike and dropped
            .condition_expression("attribute_not_exists(pk) OR requested_at <= :not_since")
            .expression_attribute_values(":not_since", n(not_since.unix_timestamp()))
            .build()
            .expect("table and item are set");
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            // the entry carries the token: it goes when the token does
            self.activity.put_until(activity, pending.expires_at)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(codes))
                if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") =>
            {
                Ok(false)
            }
            Err(other) => Err(other.into_store_error()),
        }
    }

    async fn pending_token(&self, key: Item) -> Result<Option<PasswordReset>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item
            .map(|item| {
                let stored: ResetItem = serde_dynamo::from_item(item).map_err(corrupt)?;
                Ok(PasswordReset {
                    user_id: stored.user_id,
                    token_hash: stored.token_hash,
                    requested_at: from_unix(stored.requested_at)?,
                    expires_at: from_unix(stored.expires_at)?,
                    used: stored.used,
                })
            })
            .transpose()
    }

    /// Marks the token at `key` used, only if it is `token_hash`, unused and alive at `now`.
    fn consume_token(
        &self,
        key: Item,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        self.update(key)
            .update_expression("SET used = :true")
            .condition_expression("token_hash = :hash AND used = :false AND expires_at > :now")
            .expression_attribute_values(":hash", s(token_hash))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
    }

    /// A live account's profile: a deleted account's reads as none.
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
            .filter(|item| !item.contains_key(DELETED_AT))
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
            generation: family.generation,
            session_expires_at: Some(family.session_expires_at.unix_timestamp()),
        }
    }
}

impl TryFrom<FamilyItem> for RefreshFamily {
    type Error = StoreError;

    fn try_from(item: FamilyItem) -> Result<Self, StoreError> {
        Ok(Self {
            expires_at: from_unix(item.expires_at)?,
            session_expires_at: from_unix(item.session_expires_at.unwrap_or(item.expires_at))?,
            generation: item.generation,
            user_id: item.user_id,
            family_id: item.family_id,
            current_hash: item.current_hash,
            revoked: item.revoked,
        })
    }
}
