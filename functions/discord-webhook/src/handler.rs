//! One SQS batch: each message is a `points.awarded` envelope, posted to Discord once per
//! award version (idempotency key `discord#<result_id>#<result_version>`), or a
//! `results.imported` summary, posted once per import (`discord#import#<import_id>`);
//! an award an import made is not posted on its own (the summary tells it). Concurrently
//! and within the invocation's deadline. Failed messages are reported by id; a poison one
//! reaches the DLQ after `maxReceiveCount` without holding back the others.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_lambda_events::streams::SqsEventResponse;
use domain::Clock;
use domain::events::{Envelope, PointsEvent};
use domain::greeting::Language;
use infra::batch::{BatchError, ItemError, sqs_batch};
use infra::idempotency::{Idempotency, Once};
use infra::site::SiteUrl;
use lambda_runtime::LambdaEvent;
use tokio::time::Instant;

use crate::message::WebhookMessage;
use crate::post::{PostError, Webhook};

/// Messages posted at once. Discord's webhook bucket is 5 requests per 2 s: more at once
/// would only earn 429s (which also count towards Discord's invalid-request ban).
pub const CONCURRENCY: usize = 5;

/// What happened to one message, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Discord accepted the post.
    Posted,
    /// An award a bulk import made: its import's summary announces it, nothing sent.
    Imported,
    /// This award version was posted before: nothing sent.
    Duplicate,
    /// Another delivery of the same award is posting right now: retried later.
    InProgress,
    RateLimited,
    Unavailable,
    OutOfTime,
    /// Discord refused the post (4xx): poison.
    Rejected,
    /// Not a `points.awarded` envelope of our schema: poison.
    Poison,
    /// The idempotency table could not be read or written: retried later.
    StoreUnavailable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Posted => "posted",
            Outcome::Imported => "imported",
            Outcome::Duplicate => "duplicate",
            Outcome::InProgress => "in_progress",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unavailable => "unavailable",
            Outcome::OutOfTime => "out_of_time",
            Outcome::Rejected => "rejected",
            Outcome::Poison => "poison",
            Outcome::StoreUnavailable => "store_unavailable",
        }
    }
}

/// One message's result: what happened, and what the batch reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub outcome: Outcome,
    pub correlation_id: Option<String>,
    pub result: Result<(), ItemError>,
}

impl Delivery {
    fn done(outcome: Outcome, correlation_id: Option<String>) -> Self {
        Self {
            outcome,
            correlation_id,
            result: Ok(()),
        }
    }

    fn failed(outcome: Outcome, correlation_id: Option<String>, error: ItemError) -> Self {
        Self {
            outcome,
            correlation_id,
            result: Err(error),
        }
    }
}

/// The function: the webhook client and the idempotency records, built once per container;
/// the clock its records are stamped with; the deployment's language for the posts.
pub struct Notifier {
    webhook: Webhook,
    idempotency: Idempotency,
    clock: Arc<dyn Clock>,
    language: Language,
    /// The web app the posts link to (SITE_URL); None: posts without links.
    site: Option<SiteUrl>,
    concurrency: usize,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("webhook", &self.webhook)
            .field("idempotency", &self.idempotency)
            .field("language", &self.language)
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    pub fn new(
        webhook: Webhook,
        idempotency: Idempotency,
        clock: Arc<dyn Clock>,
        language: Language,
    ) -> Self {
        Self {
            webhook,
            idempotency,
            clock,
            language,
            site: None,
            concurrency: CONCURRENCY,
        }
    }

    /// The notifier with posts linking to `site`'s pages.
    pub fn with_site(self, site: Option<SiteUrl>) -> Self {
        Self { site, ..self }
    }

    /// The Lambda entry point: the batch, with the invocation's deadline.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsEventResponse, BatchError> {
        let deadline = deadline_from_epoch_ms(event.context.deadline);
        let response = self.process(event.payload, deadline).await;
        infra::metrics::flush();
        response
    }

    /// The batch with an explicit deadline (for in-process invokers and tests).
    pub async fn process(&self, event: SqsEvent, deadline: Instant) -> Result<SqsEventResponse, BatchError> {
        sqs_batch(event, self.concurrency, |message| self.message(message, deadline)).await
    }

    /// One message, with its log line.
    async fn message(&self, message: SqsMessage, deadline: Instant) -> Result<(), ItemError> {
        let started = Instant::now();
        let delivery = self.deliver(&message, deadline).await;
        infra::metrics::outcome(infra::metrics::Metric::DiscordPosts, delivery.outcome.as_str());
        let message_id = message.message_id.as_deref().unwrap_or_default();
        let correlation_id = delivery.correlation_id.as_deref().unwrap_or_default();
        let duration_ms = started.elapsed().as_millis() as u64;
        let outcome = delivery.outcome.as_str();
        match &delivery.result {
            Ok(()) => tracing::info!(
                message_id,
                correlation_id,
                outcome,
                duration_ms,
                "discord notification"
            ),
            Err(ItemError::Retryable(reason)) => {
                tracing::warn!(message_id, correlation_id, outcome, duration_ms, %reason, "discord notification")
            }
            Err(ItemError::Poison(reason)) => {
                tracing::error!(message_id, correlation_id, outcome, duration_ms, %reason, "discord notification")
            }
        }
        delivery.result
    }

    /// Decodes, claims the award version, posts, and settles the claim.
    pub async fn deliver(&self, message: &SqsMessage, deadline: Instant) -> Delivery {
        // points-events carries `points.awarded` and `results.imported`: any other type
        // fails to decode
        let envelope = match message.body.as_deref().map(Envelope::<PointsEvent>::parse) {
            Some(Ok(envelope)) => envelope,
            Some(Err(error)) => {
                // kept for the log line when the body is another topic's or schema's envelope
                let correlation_id = message.body.as_deref().and_then(domain::events::correlation_id);
                return poison(correlation_id, format!("undecodable body: {error}"));
            }
            None => return poison(None, "message without a body".into()),
        };
        let correlation_id = envelope.correlation_id.clone();
        let (discord, key) = match &envelope.event {
            PointsEvent::Awarded(award) if award.import_id.is_some() => {
                return Delivery::done(Outcome::Imported, correlation_id);
            }
            PointsEvent::Awarded(award) => (
                WebhookMessage::for_award(award, envelope.occurred_at, self.language, self.site.as_ref()),
                format!("discord#{}#{}", award.result_id, award.result_version),
            ),
            PointsEvent::Imported(summary) => (
                WebhookMessage::for_import(summary, envelope.occurred_at, self.language, self.site.as_ref()),
                format!("discord#import#{}", summary.import_id),
            ),
        };
        if !self.webhook.has_time(deadline) {
            // not even one attempt fits: leave the award unclaimed for the redelivery
            let error = PostError::OutOfTime { attempts: 0 };
            return Delivery::failed(
                Outcome::OutOfTime,
                correlation_id,
                ItemError::Retryable(error.to_string()),
            );
        }

        let posted = self
            .idempotency
            .once(&key, &*self.clock, || {
                self.webhook.post(&discord, correlation_id.as_deref(), deadline)
            })
            .await;
        match posted {
            Once::Done(_) => Delivery::done(Outcome::Posted, correlation_id),
            Once::AlreadyDone => Delivery::done(Outcome::Duplicate, correlation_id),
            Once::HeldElsewhere => Delivery::failed(
                Outcome::InProgress,
                correlation_id,
                ItemError::Retryable(format!("{key} is being posted by another delivery")),
            ),
            Once::StoreUnavailable(error) => Delivery::failed(
                Outcome::StoreUnavailable,
                correlation_id,
                ItemError::Retryable(format!("cannot claim {key}: {error}")),
            ),
            // the key is given back, so a redelivery may post (a 4xx posted nothing either)
            Once::Failed(error) => {
                let (outcome, item) = match &error {
                    PostError::Rejected { .. } => (Outcome::Rejected, ItemError::Poison(error.to_string())),
                    PostError::RateLimited { .. } => {
                        (Outcome::RateLimited, ItemError::Retryable(error.to_string()))
                    }
                    PostError::Unavailable { .. } => {
                        (Outcome::Unavailable, ItemError::Retryable(error.to_string()))
                    }
                    PostError::OutOfTime { .. } => {
                        (Outcome::OutOfTime, ItemError::Retryable(error.to_string()))
                    }
                };
                Delivery::failed(outcome, correlation_id, item)
            }
        }
    }
}

fn poison(correlation_id: Option<String>, reason: String) -> Delivery {
    Delivery::failed(Outcome::Poison, correlation_id, ItemError::Poison(reason))
}

/// Lambda's deadline (ms since the epoch; see infra::deadline) as an instant on the
/// monotonic clock.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    let left =
        infra::deadline::time_left(deadline_ms, time::OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO);
    Instant::now() + left
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn the_deadline_is_the_time_left() {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let before = Instant::now();
        let deadline = deadline_from_epoch_ms(now_ms + 10_000);
        let left = deadline - before;
        assert!(
            left > Duration::from_millis(9_000) && left <= Duration::from_millis(10_100),
            "{left:?}"
        );
        // a deadline in the past (or none at all) leaves no time, never a panic
        assert!(deadline_from_epoch_ms(0) <= Instant::now());
        assert!(deadline_from_epoch_ms(now_ms - 5_000) <= Instant::now());
        // cargo lambda watch's relative "deadline" is time from now
        assert!(deadline_from_epoch_ms(600_000) > Instant::now() + Duration::from_secs(590));
    }
}
