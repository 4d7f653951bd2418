//! The people a notice goes to, read with GetItem and Query only (never Scan): a user's
//! profile (`USER#id | PROFILE` in Users: email, name, language, email_verified) and a
//! marathon's participants
//! (`MARATHON#id | ENTRY#runner` in Races), page by page.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::UserId;
use domain::marathon::MarathonId;
use infra::dynamo::keys;

use crate::compose::Language;

/// The profile attributes the mailer reads, and the only ones its IAM policy allows
/// (`dynamodb:Attributes` in template.yaml, checked by tests/whole_stack/template_policy.rs).
pub const PROFILE_ATTRIBUTES: [&str; 4] = ["email", "name", "language", "email_verified"];

/// Where a notice goes: what the profile says about its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: UserId,
    /// As stored; `compose::address` decides whether SES can take it.
    pub email: String,
    /// May be empty; whatever it holds is made safe when composed.
    pub name: String,
    /// Profiles carry no language yet: None starts the mail in the deployment's language
    /// (NOTIFICATION_LANGUAGE), with a section in the other one.
    pub language: Option<Language>,
    /// Whether the address is verified: unverified ones get security mails only.
    /// Profiles written before verification existed have no flag and count as verified.
    pub email_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("directory unavailable: {0}")]
pub struct LookupError(pub String);

fn unavailable<E: std::error::Error + 'static>(error: E) -> LookupError {
    LookupError(DisplayErrorContext(error).to_string())
}

/// The Users and Races tables as the mailer reads them.
#[derive(Debug, Clone)]
pub struct Directory {
    client: Client,
    users_table: String,
    races_table: String,
    page_size: i32,
}

type Item = HashMap<String, AttributeValue>;

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

impl Directory {
    /// `page_size`: participants per Query page, which is also the chunk the handler
    /// sends before it looks at the clock again.
    pub fn new(
        client: Client,
        users_table: impl Into<String>,
        races_table: impl Into<String>,
        page_size: i32,
    ) -> Self {
        Self {
            client,
            users_table: users_table.into(),
            races_table: races_table.into(),
            page_size: page_size.max(1),
        }
    }

    /// The user's profile, or None when there is none (the user is skipped).
    pub async fn recipient(&self, user: &UserId) -> Result<Option<Recipient>, LookupError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(keys::profile_key(user)))
            // all its IAM policy lets it read of a profile
            .projection_expression(
                (0..PROFILE_ATTRIBUTES.len())
                    .map(|i| format!("#p{i}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .set_expression_attribute_names(Some(
                PROFILE_ATTRIBUTES
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("#p{i}"), (*a).to_owned()))
                    .collect(),
            ))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item.map(|item| Recipient {
            user_id: user.clone(),
            email: text(&item, "email").unwrap_or_default(),
            name: text(&item, "name").unwrap_or_default(),
            language: text(&item, "language").and_then(|l| Language::from_tag(&l)),
            email_verified: item
                .get("email_verified")
                .is_none_or(|v| v.as_bool().is_ok_and(|verified| *verified)),
        }))
    }

    /// The marathon's registered runners in key order, one Query page at a time; from the
    /// one after `after` when a continuation resumes.
    pub fn participants(&self, marathon: &MarathonId, after: Option<&UserId>) -> Participants<'_> {
        let pk = keys::marathon_pk(marathon);
        let next = after.map(|runner| keys::entry_key(marathon, runner));
        Participants {
            directory: self,
            pk,
            next,
            done: false,
        }
    }

    /// One cheap read during init, so the first record does not pay the TLS handshake.
    pub async fn warm_up(&self) {
        let probe = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .key("pk", s("WARMUP"))
            .key("sk", s("WARMUP"))
            // a projection, as IAM requires of a reader limited to some attributes
            .projection_expression("pk")
            .send()
            .await;
        if let Err(error) = probe {
            tracing::warn!(error = %DisplayErrorContext(error), "warm-up read failed");
        }
    }
}

/// Pages of participants: `next_page` until it gives None.
pub struct Participants<'a> {
    directory: &'a Directory,
    pk: String,
    next: Option<Item>,
    done: bool,
}

impl Participants<'_> {
    /// True once the last page was read.
    pub fn finished(&self) -> bool {
        self.done
    }

    pub async fn next_page(&mut self) -> Result<Option<Vec<UserId>>, LookupError> {
        if self.done {
            return Ok(None);
        }
        let d = self.directory;
        let output = d
            .client
            .query()
            .table_name(&d.races_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :entry)")
            .expression_attribute_values(":pk", s(&self.pk))
            .expression_attribute_values(":entry", s(keys::ENTRY_PREFIX))
            .projection_expression("runner_id")
            .limit(d.page_size)
            .set_exclusive_start_key(self.next.take())
            .send()
            .await
            .map_err(unavailable)?;
        self.next = output.last_evaluated_key.filter(|k| !k.is_empty());
        self.done = self.next.is_none();
        let runners = output
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| {
                let raw = text(item, "runner_id");
                let id = raw.as_deref().and_then(UserId::parse);
                if id.is_none() {
                    tracing::warn!(pk = %self.pk, runner_id = ?raw, "entry without a usable runner id: skipped");
                }
                id
            })
            .collect();
        Ok(Some(runners))
    }
}
