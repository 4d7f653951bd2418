//! Mails SES cannot take now are put off, never dropped. When SES keeps throttling after
//! the in-invocation retries, says the daily quota is spent, or is down, each mail left
//! (the one that failed, and every later recipient of the invocation, without asking SES
//! again) goes to MailRetryQueue as a `DeferredMail`: the entry and the recipient. The
//! stream record then counts as done, so the ActivityLog shard does not wait hours for
//! SES (a daily quota comes back within 24 hours, past the stream's 6 hours of retries).
//!
//! log-mailer consumes that queue too (`Mailer::handle_retries`): security mails (lockout,
//! token reuse) first, through the same idempotency records as the stream path, so each
//! mail is sent once whichever path sends it. A mail SES still cannot take fails its
//! message, which comes back after the queue's visibility timeout (6 minutes); its
//! maxReceiveCount (300, about 30 hours) outlasts a spent daily quota, and past that the
//! message waits on MailRetryDLQ for `make redrive`.
//!
//! Security mails come back sooner (`delay`), so once SES takes mails again they go first.

use std::time::Duration;

use async_trait::async_trait;
use domain::UserId;
use domain::activity::ActivityEntry;
use serde::{Deserialize, Serialize};

use crate::notice::Notice;

/// One mail put off: what the entry says, to whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeferredMail {
    pub entry: ActivityEntry,
    pub user: UserId,
    /// A security notice (lockout, token reuse): sent before the others.
    pub security: bool,
}

impl DeferredMail {
    pub fn new(entry: &ActivityEntry, notice: &Notice, user: &UserId) -> Self {
        Self {
            entry: entry.clone(),
            user: user.clone(),
            security: notice.is_security(),
        }
    }

    /// How long the queue hides it first: security mails come back first.
    pub fn delay(&self, delays: &RetryDelays) -> Duration {
        if self.security {
            delays.security
        } else {
            delays.other
        }
    }
}

/// How long a deferred mail waits before its first retry (SQS's DelaySeconds, at most 15
/// minutes); later retries come after the queue's visibility timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryDelays {
    pub security: Duration,
    pub other: Duration,
}

impl Default for RetryDelays {
    /// Throttling passes in seconds and a quota in hours: a minute is neither hammering
    /// SES nor late; security mails come back first.
    fn default() -> Self {
        Self {
            security: Duration::from_secs(10),
            other: Duration::from_secs(60),
        }
    }
}

/// Where deferred mails go.
#[async_trait]
pub trait MailQueue: Send + Sync {
    async fn defer(&self, mail: &DeferredMail, delay: Duration) -> Result<(), String>;
}

/// MailRetryQueue (MAIL_RETRY_QUEUE_URL).
#[derive(Debug, Clone)]
pub struct SqsMailQueue {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsMailQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            sqs,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl MailQueue for SqsMailQueue {
    async fn defer(&self, mail: &DeferredMail, delay: Duration) -> Result<(), String> {
        let body =
            serde_json::to_string(mail).map_err(|e| format!("cannot encode the deferred mail: {e}"))?;
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "SendMessage to the mail retry queue: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::activity::{ActivityDetails, ActivityKind, LockDetails, RequestOrigin};

    #[test]
    fn a_deferred_mail_survives_its_trip_through_the_queue_and_security_comes_back_first() {
        let user = UserId::generate();
        let entry = ActivityEntry::new(
            user.clone(),
            ActivityKind::AccountLocked,
            time::OffsetDateTime::UNIX_EPOCH,
            RequestOrigin::default(),
        )
        .with_details(ActivityDetails::Locked(LockDetails {
            locked_until: Some(900),
        }));
        let notice = Notice::from_entry(&entry).unwrap().unwrap();
        let mail = DeferredMail::new(&entry, &notice, &user);
        assert!(mail.security);
        let back: DeferredMail = serde_json::from_str(&serde_json::to_string(&mail).unwrap()).unwrap();
        assert_eq!(back, mail);
        assert_eq!(Notice::from_entry(&back.entry).unwrap(), Some(notice));
        let ordinary = DeferredMail {
            security: false,
            ..mail.clone()
        };
        let delays = RetryDelays::default();
        assert!(mail.delay(&delays) < ordinary.delay(&delays));
    }
}
