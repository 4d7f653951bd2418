//! Marathon edits are mailed at most once per marathon per window
//! (MARATHON_MAIL_WINDOW_SECONDS, the template's `MarathonMailWindowSeconds`), so an
//! organizer cannot mail every participant at will.
//!
//! One item per marathon in the Idempotency table, `marathon-mail#<marathon>`, is claimed
//! with a conditional update by the first edit of a window (`window_started` at least one
//! window before the entry's time, or no item yet). That edit is mailed, with a summary of
//! what changed: its own fields plus those of the edits held back since the last mail. An
//! edit inside the window is held back: its changed fields are added to the item's
//! `pending` set, and the next edit mailed lists them. A redelivery or a continuation
//! part of the claiming entry finds its own `entry_id` and mails with the summary the claim
//! fixed. Cancellations are never held back.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use domain::activity::ActivityEntry;
use domain::marathon::MarathonId;

/// How long the item outlives its window (the TTL attribute is `expires_at`).
const KEEP_AFTER_WINDOW: time::Duration = time::Duration::days(7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Mail the participants; what changed since the last mail (field names).
    Mail(Vec<String>),
    /// Another edit was mailed less than a window ago: this one waits for the next mail.
    HeldBack,
}

#[derive(Clone)]
pub struct MailWindows {
    client: Client,
    table: String,
    window: time::Duration,
}

impl MailWindows {
    pub fn new(client: Client, table: impl Into<String>, window: time::Duration) -> Self {
        Self {
            client,
            table: table.into(),
            window,
        }
    }

    /// Whether `entry`, an edit of `marathon` that changed `changes`, is mailed now.
    pub async fn decide(
        &self,
        entry: &ActivityEntry,
        marathon: &MarathonId,
        changes: &[String],
    ) -> Result<Decision, String> {
        let key = AttributeValue::S(format!("marathon-mail#{marathon}"));
        let at = entry.at.unix_timestamp();
        let number = |n: i64| AttributeValue::N(n.to_string());
        let me = AttributeValue::S(entry.id.clone());
        let claim = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", key.clone())
            .update_expression(
                "SET window_started = :at, entry_id = :entry, expires_at = :expires REMOVE pending",
            )
            .condition_expression(
                "attribute_not_exists(id) OR window_started <= :cutoff OR entry_id = :entry",
            )
            .expression_attribute_values(":at", number(at))
            .expression_attribute_values(":entry", me.clone())
            .expression_attribute_values(
                ":expires",
                number((entry.at + self.window + KEEP_AFTER_WINDOW).unix_timestamp()),
            )
            .expression_attribute_values(":cutoff", number(at - self.window.whole_seconds()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None)
            .send()
            .await;
        let old = match claim {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                if !changes.is_empty() {
                    self.client
                        .update_item()
                        .table_name(&self.table)
                        .key("id", key)
                        .update_expression("ADD pending :changes")
                        .expression_attribute_values(":changes", AttributeValue::Ss(changes.to_vec()))
                        .send()
                        .await
                        .map_err(|e| format!("holding back {}: {e}", entry.id))?;
                }
                return Ok(Decision::HeldBack);
            }
            Err(error) => return Err(format!("claiming the mail window of {marathon}: {error}")),
        };
        if old.get("entry_id") == Some(&me) {
            // a redelivery or a continuation part: the summary the claim fixed
            let fixed = strings(&old, "summary");
            return Ok(Decision::Mail(if fixed.is_empty() {
                changes.to_vec()
            } else {
                fixed
            }));
        }
        let summary: BTreeSet<String> = changes.iter().cloned().chain(strings(&old, "pending")).collect();
        let summary: Vec<String> = summary.into_iter().collect();
        if !summary.is_empty() {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("id", key)
                .update_expression("SET summary = :summary")
                .condition_expression("entry_id = :entry")
                .expression_attribute_values(":summary", AttributeValue::Ss(summary.clone()))
                .expression_attribute_values(":entry", me)
                .send()
                .await
                .map_err(|e| format!("keeping the summary of {}: {e}", entry.id))?;
        }
        Ok(Decision::Mail(summary))
    }
}

fn strings(item: &HashMap<String, AttributeValue>, name: &str) -> Vec<String> {
    item.get(name)
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default()
}
