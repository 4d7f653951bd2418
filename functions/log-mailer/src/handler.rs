//! One stream batch: records in order; INSERTs only (moto emits a MODIFY for an update
//! that changes nothing, TTL deletions are REMOVEs); each entry's recipients in chunks
//! (a Query page of participants) with a bounded number in flight; one idempotency record
//! per (entry, recipient), so a redelivered record continues where the last attempt
//! stopped. A record the deadline interrupts after it settled some participants goes on
//! in a continuation (`continuation`), a new stream record; one that fails, or that
//! settled nobody, is reported by its sequence number and nothing after it is touched
//! (the stream retries from there). A record that can never be mailed (undecodable) is
//! parked on the failure queue (`infra::poison`) and the batch goes on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::sqs::SqsEvent;
use aws_lambda_events::streams::{DynamoDbEventResponse, SqsBatchItemFailure, SqsEventResponse};
use domain::activity::ActivityEntry;
use domain::{Clock, UserId};
use futures::StreamExt;
use infra::batch::{BatchError, stream_failure};
use infra::idempotency::{Idempotency, Once};
use infra::poison::PoisonSink;
use lambda_runtime::LambdaEvent;

use crate::budget::{Budget, deadline_of};
use crate::compose;
use crate::continuation::{Continuation, Continuations, Written};
use crate::deferred::{DeferredMail, MailQueue, RetryDelays};
use crate::notice::{Audience, MarathonChange, Notice, kind_name};
use crate::recipients::Directory;
use crate::send::{Backoff, MailPort, SendError, send_with_retries};
use crate::window::{Decision, MailWindows};

/// How hard one invocation pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Recipients of one entry in flight at once. One recipient costs four sequential
    /// calls (claim, profile, SendRawEmail, complete), about 50-150 ms; 8 in flight reach
    /// 50+ mails/s, above SES's usual production rate (14/s), so SES's rate stays the
    /// limit and its throttling is absorbed by the backoff, while memory, sockets and
    /// the burst against the Users table stay small.
    pub concurrency: usize,
    /// Participants per Query page, which is also the chunk sent between two looks at
    /// the clock; it bounds memory whatever the marathon's size.
    pub page_size: i32,
    /// Nothing new starts when less than this is left before the deadline: the worst
    /// case of work already started (DynamoDB calls of at most 2 s each, a SendRawEmail of
    /// at most 4 s).
    pub stop_margin: Duration,
    pub backoff: Backoff,
    /// Before a deferred mail's first retry.
    pub retry_delays: RetryDelays,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            concurrency: 8,
            page_size: 100,
            stop_margin: Duration::from_secs(10),
            backoff: Backoff::default(),
            retry_delays: RetryDelays::default(),
        }
    }
}

pub struct Mailer {
    pub directory: Directory,
    pub idempotency: Idempotency,
    /// Where a marathon's mailing goes on when one invocation cannot finish it.
    pub continuations: Continuations,
    /// Marathon edits: at most one mail per marathon per window.
    pub windows: MailWindows,
    pub ses: Arc<dyn MailPort>,
    /// Where a record that can never be mailed is parked (the failure queue), so that it
    /// does not hold the shard through the mapping's hours of retries.
    pub poison: Arc<dyn PoisonSink>,
    /// Where mails SES cannot take now wait (MailRetryQueue, `deferred`).
    pub retry_queue: Arc<dyn MailQueue>,
    /// The verified sender address (MAIL_SENDER).
    pub sender: String,
    /// The deployment's language (NOTIFICATION_LANGUAGE): first in a mail unless the
    /// profile names one.
    pub language: domain::greeting::Language,
    /// The web app mails link to (SITE_URL); None: mails without links.
    pub site: Option<infra::site::SiteUrl>,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
}

/// What happened for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Delivery {
    Sent,
    /// An earlier attempt sent it (a redelivered record).
    AlreadySent,
    /// No profile, an address SES cannot take, or SES rejected the recipient.
    Skipped,
    /// Not done now (deadline, another holder, SES still unable on a retry): later.
    Deferred(String),
    /// SES cannot take it now: put on MailRetryQueue, sent from there later.
    Queued,
    /// SES cannot take it now (throttling that did not pass, the daily quota, an outage).
    Later(String),
    /// The record cannot succeed now (a dependency down, a refused sender).
    Failed(String),
}

#[derive(Debug, Default)]
struct Tally {
    recipients: usize,
    sent: usize,
    duplicates: usize,
    skipped: usize,
    /// Put on MailRetryQueue.
    queued: usize,
    deferred: usize,
    /// Pages of participants left unread.
    unread: bool,
    reason: Option<String>,
    /// The last participant, in key order, settled (sent, sent before, or skipped) with
    /// every one before it in this invocation: where a continuation starts.
    settled_through: Option<UserId>,
    /// A participant was left unsettled: `settled_through` moves no further.
    gap: bool,
}

impl Tally {
    /// Counts the deliveries of one chunk, in the order its participants were read.
    fn count_chunk(&mut self, chunk: impl IntoIterator<Item = (UserId, Delivery)>) {
        for (user, delivery) in chunk {
            let settled = matches!(
                delivery,
                Delivery::Sent | Delivery::AlreadySent | Delivery::Skipped | Delivery::Queued
            );
            if settled && !self.gap {
                self.settled_through = Some(user);
            } else {
                self.gap = true;
            }
            self.count(delivery);
        }
    }

    fn count(&mut self, delivery: Delivery) {
        let outcome = match &delivery {
            Delivery::Sent => "sent",
            Delivery::AlreadySent => "duplicate",
            Delivery::Skipped => "skipped",
            Delivery::Deferred(_) | Delivery::Later(_) => "deferred",
            Delivery::Queued => "queued",
            Delivery::Failed(_) => "failed",
        };
        infra::metrics::outcome(infra::metrics::Metric::Mails, outcome);
        match delivery {
            Delivery::Sent => self.sent += 1,
            Delivery::AlreadySent => self.duplicates += 1,
            Delivery::Skipped => self.skipped += 1,
            Delivery::Queued => self.queued += 1,
            Delivery::Deferred(reason) | Delivery::Later(reason) | Delivery::Failed(reason) => {
                self.deferred += 1;
                self.reason.get_or_insert(reason);
            }
        }
    }

    fn complete(&self) -> bool {
        self.deferred == 0 && !self.unread && self.reason.is_none()
    }
}

/// Which way a mail came: a stream record, or MailRetryQueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Stream,
    RetryQueue,
}

enum RecordFailure {
    /// Never decodable: parked on the failure queue, and the batch goes on.
    Poison(String),
    /// Interrupted or failed for now: the stream brings it back.
    Retry(String),
}

impl Mailer {
    /// The Lambda entry point.
    pub async fn handle(&self, event: LambdaEvent<Event>) -> Result<DynamoDbEventResponse, BatchError> {
        let deadline = deadline_of(&event.context);
        let response = self.handle_records(event.payload.records, deadline).await;
        infra::metrics::flush();
        response
    }

    pub async fn handle_records(
        &self,
        records: Vec<EventRecord>,
        deadline: Option<time::OffsetDateTime>,
    ) -> Result<DynamoDbEventResponse, BatchError> {
        let budget = Budget::new(Arc::clone(&self.clock), deadline, self.limits.stop_margin);
        for mut record in records {
            let outcome = if budget.exhausted() {
                Err(RecordFailure::Retry(
                    "the invocation's deadline is near; not started".into(),
                ))
            } else {
                self.process(&mut record, &budget).await
            };
            let sequence = record.change.sequence_number.as_deref().unwrap_or_default();
            match outcome {
                Ok(()) => {}
                Err(RecordFailure::Poison(reason)) => {
                    if let Err(error) = self.poison.park(&record, &reason).await {
                        tracing::error!(
                            event_id = %record.event_id, sequence, %reason, %error,
                            "poison stream record not parked; the stream will deliver it again"
                        );
                        return stream_failure(&record);
                    }
                }
                Err(RecordFailure::Retry(reason)) => {
                    tracing::warn!(
                        event_id = %record.event_id, sequence, %reason,
                        "stream record not finished; the stream will deliver it again"
                    );
                    return stream_failure(&record);
                }
            }
        }
        Ok(DynamoDbEventResponse::default())
    }

    /// The Lambda entry point for both event sources: the ActivityLog stream and
    /// MailRetryQueue (told apart by the records' `eventSource`).
    pub async fn handle_any(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<serde_json::Value, BatchError> {
        let deadline = deadline_of(&event.context);
        let response = self.handle_payload(event.payload, deadline).await;
        infra::metrics::flush();
        response
    }

    /// `handle_any` without the Lambda context.
    pub async fn handle_payload(
        &self,
        payload: serde_json::Value,
        deadline: Option<time::OffsetDateTime>,
    ) -> Result<serde_json::Value, BatchError> {
        let from_queue = payload["Records"][0]["eventSource"] == "aws:sqs";
        let encode = |e: serde_json::Error| BatchError(format!("cannot encode the response: {e}"));
        if from_queue {
            let batch: SqsEvent =
                serde_json::from_value(payload).map_err(|e| BatchError(format!("not an SQS event: {e}")))?;
            serde_json::to_value(self.handle_retries(batch, deadline).await).map_err(encode)
        } else {
            let batch: Event = serde_json::from_value(payload)
                .map_err(|e| BatchError(format!("not a DynamoDB stream event: {e}")))?;
            serde_json::to_value(self.handle_records(batch.records, deadline).await?).map_err(encode)
        }
    }

    /// A batch of MailRetryQueue: security mails first, one at a time, each through the
    /// same idempotency record as on the stream path. A mail SES still cannot take, and
    /// every one after it, fails its message (it comes back after the visibility timeout).
    pub async fn handle_retries(
        &self,
        event: SqsEvent,
        deadline: Option<time::OffsetDateTime>,
    ) -> SqsEventResponse {
        let budget = Budget::new(Arc::clone(&self.clock), deadline, self.limits.stop_margin);
        let mut mails: Vec<(String, Option<DeferredMail>)> = event
            .records
            .into_iter()
            .map(|message| {
                let id = message.message_id.unwrap_or_default();
                let mail = message
                    .body
                    .as_deref()
                    .and_then(|body| serde_json::from_str(body).ok());
                (id, mail)
            })
            .collect();
        // security first; the sort is stable, so the queue's order otherwise
        mails.sort_by_key(|(_, mail)| !mail.as_ref().is_some_and(|m| m.security));
        let mut response = SqsEventResponse::default();
        let mut tally = Tally::default();
        for (id, mail) in mails {
            let Some(mail) = mail else {
                tracing::error!(message_id = %id, "not a deferred mail: it will reach the DLQ");
                response.batch_item_failures.push(sqs_failure(id));
                continue;
            };
            let notice = match Notice::from_entry(&mail.entry) {
                Ok(Some(notice)) => notice,
                Ok(None) => continue,
                Err(error) => {
                    tracing::error!(message_id = %id, %error, "undecodable deferred mail: it will reach the DLQ");
                    response.batch_item_failures.push(sqs_failure(id));
                    continue;
                }
            };
            let delivery = self
                .deliver(&mail.entry, &notice, &mail.user, &budget, Path::RetryQueue)
                .await;
            let settled = matches!(
                delivery,
                Delivery::Sent | Delivery::AlreadySent | Delivery::Skipped
            );
            if !settled {
                tracing::warn!(message_id = %id, entry_id = %mail.entry.id, user_id = %mail.user, ?delivery, "deferred mail not sent yet; it comes back later");
                response.batch_item_failures.push(sqs_failure(id));
            }
            tally.count(delivery);
        }
        tracing::info!(
            sent = tally.sent,
            duplicates = tally.duplicates,
            skipped = tally.skipped,
            deferred = tally.deferred,
            "deferred mails"
        );
        response
    }

    async fn process(&self, record: &mut EventRecord, budget: &Budget) -> Result<(), RecordFailure> {
        if record.event_name != "INSERT" {
            tracing::debug!(event_id = %record.event_id, event_name = %record.event_name, "not a new entry: ignored");
            return Ok(());
        }
        let mut image = std::mem::take(&mut record.change.new_image);
        let resume = Continuation::take(&mut image).map_err(RecordFailure::Poison)?;
        let entry: ActivityEntry = serde_dynamo::from_item(image)
            .map_err(|e| RecordFailure::Poison(format!("NewImage is not an activity entry: {e}")))?;
        let started = Instant::now();
        let notice = Notice::from_entry(&entry).map_err(|e| RecordFailure::Poison(e.to_string()))?;
        let mut tally = Tally::default();
        if let Some(notice) = &notice {
            self.deliver_all(&entry, notice, resume.as_ref(), budget, &mut tally)
                .await;
        }
        tracing::info!(
            entry_id = %entry.id,
            part = resume.as_ref().map_or(0, |r| r.part),
            kind = %kind_name(entry.kind),
            correlation_id = entry.origin.correlation_id.as_deref().unwrap_or_default(),
            recipients = tally.recipients,
            sent = tally.sent,
            skipped = tally.skipped,
            duplicates = tally.duplicates,
            queued = tally.queued,
            deferred = tally.deferred,
            complete = tally.complete(),
            duration_ms = started.elapsed().as_millis() as u64,
            "activity entry mailed"
        );
        if tally.complete() {
            return Ok(());
        }
        if let Some(after) = tally.settled_through.take() {
            let next = Continuation {
                part: resume.map_or(1, |r| r.part + 1),
                after,
            };
            return self.continue_in(&entry, &next, &tally).await;
        }
        let left = match (tally.deferred, tally.unread) {
            (0, _) => "unread pages of participants".to_owned(),
            (n, false) => format!("{n} recipients"),
            (n, true) => format!("{n} recipients and unread pages of participants"),
        };
        Err(RecordFailure::Retry(format!(
            "{left} left for a redelivery: {}",
            tally.reason.as_deref().unwrap_or("the deadline is near")
        )))
    }

    /// Writes the next part; the record is done once it is written (or found written).
    async fn continue_in(
        &self,
        entry: &ActivityEntry,
        next: &Continuation,
        tally: &Tally,
    ) -> Result<(), RecordFailure> {
        let written = self.continuations.write(entry, next).await.map_err(|e| {
            RecordFailure::Retry(format!("cannot write part {} of the mailing: {e}", next.part))
        })?;
        tracing::info!(
            entry_id = %entry.id,
            part = next.part,
            after = %next.after,
            existing = written == Written::Existing,
            reason = tally.reason.as_deref().unwrap_or("the deadline is near"),
            "mailing continues in a new part"
        );
        Ok(())
    }

    async fn deliver_all(
        &self,
        entry: &ActivityEntry,
        notice: &Notice,
        resume: Option<&Continuation>,
        budget: &Budget,
        tally: &mut Tally,
    ) {
        match notice.audience() {
            Audience::User(user) => {
                self.deliver_chunk(entry, notice, vec![user], budget, tally).await;
                // one recipient: nothing to continue from
                tally.settled_through = None;
            }
            Audience::Participants(marathon) => {
                let summarized;
                let notice = match notice {
                    Notice::Marathon {
                        change: MarathonChange::Updated,
                        changes,
                        ..
                    } => match self.windows.decide(entry, &marathon, changes).await {
                        Ok(Decision::Mail(summary)) => {
                            summarized = notice.clone().with_changes(summary);
                            &summarized
                        }
                        Ok(Decision::HeldBack) => {
                            tracing::info!(entry_id = %entry.id, marathon_id = %marathon, "held back: the participants had a mail about this marathon less than a window ago; the next one lists this change");
                            return;
                        }
                        Err(error) => {
                            tally.unread = true;
                            tally.reason.get_or_insert(error);
                            return;
                        }
                    },
                    other => other,
                };
                let mut pages = self.directory.participants(&marathon, resume.map(|r| &r.after));
                while !pages.finished() {
                    if budget.exhausted() {
                        tally.unread = true;
                        break;
                    }
                    match pages.next_page().await {
                        Ok(Some(page)) => self.deliver_chunk(entry, notice, page, budget, tally).await,
                        Ok(None) => break,
                        Err(error) => {
                            tally.unread = true;
                            tally.reason.get_or_insert(error.to_string());
                            break;
                        }
                    }
                }
            }
        }
    }

    async fn deliver_chunk(
        &self,
        entry: &ActivityEntry,
        notice: &Notice,
        users: Vec<UserId>,
        budget: &Budget,
        tally: &mut Tally,
    ) {
        tally.recipients += users.len();
        let mut deliveries: Vec<(usize, UserId, Delivery)> =
            futures::stream::iter(users.into_iter().enumerate())
                .map(|(index, user)| async move {
                    let delivery = self.deliver(entry, notice, &user, budget, Path::Stream).await;
                    (index, user, delivery)
                })
                .buffer_unordered(self.limits.concurrency.max(1))
                .collect()
                .await;
        // back in read order, so the settled prefix says where a continuation starts
        deliveries.sort_unstable_by_key(|(index, ..)| *index);
        tally.count_chunk(deliveries.into_iter().map(|(_, user, delivery)| (user, delivery)));
    }

    async fn deliver(
        &self,
        entry: &ActivityEntry,
        notice: &Notice,
        user: &UserId,
        budget: &Budget,
        path: Path,
    ) -> Delivery {
        let delivery = self.deliver_now(entry, notice, user, budget).await;
        match (delivery, path) {
            (Delivery::Later(reason), Path::Stream) => {
                let mail = DeferredMail::new(entry, notice, user);
                match self
                    .retry_queue
                    .defer(&mail, mail.delay(&self.limits.retry_delays))
                    .await
                {
                    Ok(()) => {
                        tracing::warn!(entry_id = %entry.id, user_id = %user, %reason, "SES cannot take the mail now: it waits on the retry queue");
                        Delivery::Queued
                    }
                    Err(error) => {
                        budget.stop();
                        Delivery::Deferred(format!("{reason}; not queued: {error}"))
                    }
                }
            }
            // already from the retry queue: its message comes back later
            (Delivery::Later(reason), Path::RetryQueue) => Delivery::Deferred(reason),
            (delivery, _) => delivery,
        }
    }

    async fn deliver_now(
        &self,
        entry: &ActivityEntry,
        notice: &Notice,
        user: &UserId,
        budget: &Budget,
    ) -> Delivery {
        if budget.ses_blocked() {
            return Delivery::Later("SES could not take an earlier mail of this invocation".into());
        }
        if budget.exhausted() {
            return Delivery::Deferred(if budget.stopped() {
                "stopped after an earlier failure".into()
            } else {
                "the deadline is near".into()
            });
        }
        let key = format!("mail#{}#{}", entry.id, user);
        // sent or settled for good: record the key done; anything else: give it back
        let settled = self
            .idempotency
            .once(&key, &*self.clock, || async {
                match self.deliver_claimed(entry, notice, user, budget).await {
                    delivery @ (Delivery::Sent | Delivery::Skipped) => Ok(delivery),
                    delivery => Err(delivery),
                }
            })
            .await;
        match settled {
            Once::Done(delivery) | Once::Failed(delivery) => delivery,
            Once::AlreadyDone => Delivery::AlreadySent,
            Once::HeldElsewhere => Delivery::Deferred(format!("{key} is held by another invocation")),
            Once::StoreUnavailable(error) => {
                budget.stop();
                Delivery::Failed(format!("idempotency record {key}: {error}"))
            }
        }
    }

    async fn deliver_claimed(
        &self,
        entry: &ActivityEntry,
        notice: &Notice,
        user: &UserId,
        budget: &Budget,
    ) -> Delivery {
        let recipient = match notice.erased_address() {
            // a deleted account's profile has no address: the entry carries it
            Some(address) => Ok(Some(crate::recipients::Recipient {
                user_id: user.clone(),
                email: address.to_owned(),
                name: String::new(),
                language: None,
                email_verified: false,
            })),
            None => self.directory.recipient(user).await,
        };
        let recipient = match recipient {
            Ok(Some(recipient)) => recipient,
            Ok(None) => {
                tracing::info!(entry_id = %entry.id, user_id = %user, "no profile: not mailed");
                return Delivery::Skipped;
            }
            Err(error) => {
                budget.stop();
                return Delivery::Failed(error.to_string());
            }
        };
        // issue 15: an address nobody has proven to own gets no race mail (results,
        // marathon changes, points); security mails always go, verification's included
        if !recipient.email_verified && !notice.is_security() {
            tracing::info!(entry_id = %entry.id, user_id = %user, "the address is not verified: only security mails go to it");
            return Delivery::Skipped;
        }
        let Some(to) = compose::address(&recipient.email) else {
            tracing::warn!(entry_id = %entry.id, user_id = %user, "the profile's email cannot be sent to: not mailed");
            return Delivery::Skipped;
        };
        let mail = compose::compose(
            notice,
            &recipient,
            &to,
            &self.sender,
            self.language,
            self.site.as_ref(),
        );
        match send_with_retries(&*self.ses, &mail, &self.limits.backoff, budget).await {
            Ok(message_id) => {
                tracing::debug!(entry_id = %entry.id, user_id = %user, %message_id, "mailed");
                Delivery::Sent
            }
            Err(SendError::Rejected(reason)) => {
                tracing::warn!(entry_id = %entry.id, user_id = %user, %reason, "SES rejected the recipient: not mailed");
                Delivery::Skipped
            }
            Err(error @ SendError::QuotaExhausted(_)) => {
                // only later helps: the rest of this invocation waits too, without asking
                budget.block_ses();
                Delivery::Later(error.to_string())
            }
            Err(error) if error.is_transient() => {
                // SES keeps throttling or is down, or the deadline came: put off, with the
                // rest of this invocation's mails
                budget.block_ses();
                Delivery::Later(error.to_string())
            }
            Err(error) => {
                tracing::error!(entry_id = %entry.id, user_id = %user, %error, "SES refuses to send");
                budget.stop();
                Delivery::Failed(error.to_string())
            }
        }
    }
}

fn sqs_failure(id: String) -> SqsBatchItemFailure {
    let mut failure = SqsBatchItemFailure::default();
    failure.item_identifier = Some(id);
    failure
}
