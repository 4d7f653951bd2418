//! Sending: the SES port, its SendRawEmail (SES v1) adapter, what each SES error means
//! for us, and retries with backoff inside the invocation's budget. Raw, because SendEmail
//! builds the MIME itself and the emulator's SendEmail keeps only the HTML body: with the
//! message built here (compose's multipart/alternative) SES and the local mailbox both see
//! exactly what a recipient gets.
//!
//! - Throttling ("Maximum sending rate exceeded") and transient failures: retried here
//!   with exponential backoff and jitter while the budget allows, then the record fails
//!   and the stream brings it back later.
//! - "Daily message quota exceeded" (also code Throttling): no point retrying now.
//! - A rejected recipient (MessageRejected, an invalid address): skipped, never retried.
//! - A rejected sender or a paused account: configuration, not the recipient's fault; the
//!   record fails so the mail is not lost, and the alarm on the failure queue tells us.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ses::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ses::operation::send_raw_email::SendRawEmailError;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use domain::Clock;

use crate::budget::Budget;
use crate::compose::Mail;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The sending rate was exceeded: wait and try again.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The daily quota is used up: only later helps.
    #[error("daily sending quota exhausted: {0}")]
    QuotaExhausted(String),
    /// This recipient cannot be mailed (invalid, or not allowed in the SES sandbox).
    #[error("recipient rejected: {0}")]
    Rejected(String),
    /// The sender or the account cannot send (unverified identity, sending paused...).
    #[error("sending refused: {0}")]
    Refused(String),
    /// Network, timeouts, 5xx: worth another try.
    #[error("SES unavailable: {0}")]
    Unavailable(String),
}

impl SendError {
    /// Worth retrying within this invocation.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Throttled(_) | Self::Unavailable(_))
    }
}

/// The port: one message out, its SES message id back.
#[async_trait]
pub trait MailPort: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<String, SendError>;
}

/// The real adapter: SES v1 SendRawEmail of the composed MIME message, dated by `clock`.
#[derive(Clone)]
pub struct Ses {
    client: aws_sdk_ses::Client,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Ses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ses").finish_non_exhaustive()
    }
}

impl Ses {
    pub fn new(client: aws_sdk_ses::Client, clock: Arc<dyn Clock>) -> Self {
        Self { client, clock }
    }
}

#[async_trait]
impl MailPort for Ses {
    async fn send(&self, mail: &Mail) -> Result<String, SendError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.to_mime(self.clock.now())))
            .build()
            .map_err(|e| SendError::Refused(format!("cannot build the message: {e}")))?;
        self.client
            .send_raw_email()
            .source(&mail.sender)
            // the envelope names the checked address alone, whatever the headers say
            .destinations(&mail.to)
            .raw_message(raw)
            .send()
            .await
            .map(|output| output.message_id().to_owned())
            .map_err(|error| classify_sdk(&error, &mail.sender))
    }
}

fn classify_sdk(error: &SdkError<SendRawEmailError>, sender: &str) -> SendError {
    match error.as_service_error() {
        Some(service) => classify(service, sender),
        // no answer from SES (connection, timeout) or an unreadable one
        None => SendError::Unavailable(DisplayErrorContext(error).to_string()),
    }
}

/// What an SES error answer means, from its code and message.
pub fn classify(error: &impl ProvideErrorMetadata, sender: &str) -> SendError {
    let code = error.code().unwrap_or_default();
    let message = error.message().unwrap_or_default().to_owned();
    let described = format!("{code}: {message}");
    match code {
        "Throttling" | "ThrottlingException" | "TooManyRequestsException" => {
            if message.to_ascii_lowercase().contains("daily message quota") {
                SendError::QuotaExhausted(described)
            } else {
                SendError::Throttled(described)
            }
        }
        // SES names the identities that failed its check: when ours is among them the
        // sender is the problem, and skipping the recipient would lose the mail.
        "MessageRejected" if names_sender(&message, sender) => SendError::Refused(described),
        "MessageRejected" | "InvalidParameterValue" => SendError::Rejected(described),
        "MailFromDomainNotVerifiedException"
        | "MailFromDomainNotVerified"
        | "ConfigurationSetDoesNotExist"
        | "ConfigurationSetDoesNotExistException"
        | "ConfigurationSetSendingPausedException"
        | "ConfigurationSetSendingPaused"
        | "AccountSendingPausedException"
        | "AccountSendingPaused"
        | "AccessDenied"
        | "AccessDeniedException" => SendError::Refused(described),
        _ => SendError::Unavailable(described),
    }
}

fn names_sender(message: &str, sender: &str) -> bool {
    !sender.is_empty()
        && message
            .to_ascii_lowercase()
            .contains(&sender.to_ascii_lowercase())
}

/// Exponential backoff with jitter: attempt n waits a random time in
/// [d/2, d] where d = min(first * 2^n, max).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// Sends per mail, the first one included.
    pub attempts: u32,
}

impl Default for Backoff {
    /// SES counts its rate per second: waits from 0.1 s to 2 s, six sends in all
    /// (about 4 s of waiting at most), then the stream's retry takes over.
    fn default() -> Self {
        Self {
            first: Duration::from_millis(100),
            max: Duration::from_secs(2),
            attempts: 6,
        }
    }
}

impl Backoff {
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .first
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        // std's randomly keyed hasher: random enough to spread retries, no extra crate
        let jitter = if spread == 0 {
            0
        } else {
            RandomState::new().hash_one(retry) % (spread + 1)
        };
        half + Duration::from_micros(jitter)
    }
}

/// Sends `mail`, retrying transient failures while `backoff` and `budget` allow.
pub async fn send_with_retries(
    port: &dyn MailPort,
    mail: &Mail,
    backoff: &Backoff,
    budget: &Budget,
) -> Result<String, SendError> {
    let mut retry = 0;
    loop {
        match port.send(mail).await {
            Ok(id) => return Ok(id),
            Err(error) if error.is_transient() && retry + 1 < backoff.attempts.max(1) => {
                let wait = backoff.delay(retry);
                if !budget.allows(wait) {
                    return Err(error);
                }
                tracing::debug!(%error, retry, wait_ms = wait.as_millis() as u64, "SES send failed; retrying");
                tokio::time::sleep(wait).await;
                retry += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ses::error::ErrorMetadata;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SENDER: &str = "no-reply@mrmrthon.dev";

    fn error(code: &str, message: &str) -> SendRawEmailError {
        SendRawEmailError::generic(ErrorMetadata::builder().code(code).message(message).build())
    }

    #[test]
    fn ses_errors_are_classified() {
        let cases = [
            (
                "Throttling",
                "Maximum sending rate exceeded.",
                SendError::Throttled(String::new()),
            ),
            (
                "Throttling",
                "Daily message quota exceeded.",
                SendError::QuotaExhausted(String::new()),
            ),
            (
                "MessageRejected",
                "Email address is not verified. The following identities failed the check in region US-EAST-1: kim@example.com",
                SendError::Rejected(String::new()),
            ),
            (
                "MessageRejected",
                "Email address is not verified. The following identities failed the check in region US-EAST-1: No-Reply@mrmrthon.dev",
                SendError::Refused(String::new()),
            ),
            // the emulator's wording
            (
                "MessageRejected",
                "Email address not verified no-reply@mrmrthon.dev",
                SendError::Refused(String::new()),
            ),
            (
                "InvalidParameterValue",
                "Missing domain",
                SendError::Rejected(String::new()),
            ),
            (
                "AccountSendingPausedException",
                "paused",
                SendError::Refused(String::new()),
            ),
            (
                "ServiceUnavailable",
                "try later",
                SendError::Unavailable(String::new()),
            ),
        ];
        for (code, message, expected) in cases {
            let got = classify(&error(code, message), SENDER);
            assert_eq!(
                std::mem::discriminant(&got),
                std::mem::discriminant(&expected),
                "{code} {message}: {got:?}"
            );
            assert!(got.to_string().contains(message), "{got}");
        }
    }

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let backoff = Backoff::default();
        for retry in 0..10 {
            let d = backoff.delay(retry);
            let ceiling = (Duration::from_millis(100) * 2u32.pow(retry)).min(Duration::from_secs(2));
            assert!(d >= ceiling / 2 && d <= ceiling, "retry {retry}: {d:?}");
        }
        let zero = Backoff {
            first: Duration::ZERO,
            ..backoff
        };
        assert_eq!(zero.delay(3), Duration::ZERO);
    }

    struct Scripted {
        answers: std::sync::Mutex<Vec<Result<String, SendError>>>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl MailPort for Scripted {
        async fn send(&self, _: &Mail) -> Result<String, SendError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.answers.lock().unwrap().remove(0)
        }
    }

    fn mail() -> Mail {
        Mail {
            sender: SENDER.into(),
            to: "kim@example.com".into(),
            to_name: "Kim".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "<p>h</p>".into(),
        }
    }

    fn quick() -> Backoff {
        Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(2),
            attempts: 4,
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_and_others_are_not() {
        let budget = Budget::new(Arc::new(domain::SystemClock), None, Duration::ZERO);
        let throttled = || Err(SendError::Throttled("Maximum sending rate exceeded.".into()));
        let port = Scripted {
            answers: std::sync::Mutex::new(vec![
                throttled(),
                Err(SendError::Unavailable("timeout".into())),
                Ok("m-1".into()),
            ]),
            calls: AtomicUsize::new(0),
        };
        assert_eq!(
            send_with_retries(&port, &mail(), &quick(), &budget).await,
            Ok("m-1".into())
        );
        assert_eq!(port.calls.load(Ordering::SeqCst), 3);

        let port = Scripted {
            answers: std::sync::Mutex::new((0..4).map(|_| throttled()).collect()),
            calls: AtomicUsize::new(0),
        };
        assert!(matches!(
            send_with_retries(&port, &mail(), &quick(), &budget).await,
            Err(SendError::Throttled(_))
        ));
        assert_eq!(port.calls.load(Ordering::SeqCst), 4, "attempts are bounded");

        let port = Scripted {
            answers: std::sync::Mutex::new(vec![Err(SendError::Rejected("bad".into()))]),
            calls: AtomicUsize::new(0),
        };
        assert!(matches!(
            send_with_retries(&port, &mail(), &quick(), &budget).await,
            Err(SendError::Rejected(_))
        ));
        assert_eq!(port.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn no_retry_waits_past_the_budget() {
        let clock = Arc::new(domain::memory::ManualClock::new(time::OffsetDateTime::now_utc()));
        let deadline = domain::Clock::now(&*clock) + time::Duration::milliseconds(1);
        let budget = Budget::new(clock, Some(deadline), Duration::ZERO);
        let port = Scripted {
            answers: std::sync::Mutex::new(vec![Err(SendError::Throttled("rate".into()))]),
            calls: AtomicUsize::new(0),
        };
        let slow = Backoff {
            first: Duration::from_secs(1),
            ..quick()
        };
        assert!(matches!(
            send_with_retries(&port, &mail(), &slow, &budget).await,
            Err(SendError::Throttled(_))
        ));
        assert_eq!(port.calls.load(Ordering::SeqCst), 1);
    }
}
