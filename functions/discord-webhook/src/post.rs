//! The HTTP side: one Execute Webhook call per message, Discord's rate limits honoured
//! (shared by every message this container posts), 5xx and transport errors retried with
//! backoff, and all of it within the invocation's remaining time.
//!
//! The webhook URL is a secret (its path holds the webhook token): it has no `Display`,
//! its `Debug` is redacted, and every error text is built from `without_url()` errors and
//! scrubbed once more before it can reach a log line.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use tokio::time::Instant;

use crate::message::{WebhookMessage, fit};

/// The header that carries the correlation id (the local Discord sink reads it; Discord
/// ignores it).
pub const CORRELATION_HEADER: &str = "x-correlation-id";
/// When a 429 names no wait at all.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
/// A `retry_after` beyond this is treated as this (it never fits an invocation anyway).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// How much of a refusal's body goes into the error (Discord's JSON error is short).
const BODY_IN_ERROR: usize = 300;

/// The webhook URL. Never printed: `Debug` is redacted and there is no `Display`.
#[derive(Clone)]
pub struct WebhookUrl(Url);

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookUrl(<redacted>)")
    }
}

/// Why a webhook secret is unusable; never echoes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the webhook secret is not an http(s) URL")]
    NotAUrl,
    #[error("the webhook URL must be https (plain http only to a loopback address)")]
    Insecure,
}

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let url = Url::parse(raw.trim()).map_err(|_| UrlError::NotAUrl)?;
        match url.scheme() {
            "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(Self(url)),
            "http" if is_loopback(&url) => Ok(Self(url)),
            "http" | "https" => Err(UrlError::Insecure),
            _ => Err(UrlError::NotAUrl),
        }
    }

    /// Scrubs the URL and its path out of a text (belt and braces over `without_url`).
    fn redact(&self, text: String) -> String {
        let mut text = text.replace(self.0.as_str(), "<webhook>");
        let path = self.0.path();
        if path.len() > 1 {
            text = text.replace(path, "<webhook path>");
        }
        text
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Timeouts and retry bounds. Every wait also has to fit before the invocation's
/// deadline minus `margin`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// TCP + TLS connect.
    pub connect_timeout: Duration,
    /// One whole attempt, response body included (cut shorter when less time is left).
    pub request_timeout: Duration,
    /// Attempts of any kind per message (429s included).
    pub max_attempts: u32,
    /// Retries after a 5xx or a transport error (timeout, connection refused or reset).
    pub server_retries: u32,
    /// The first pause after a 5xx or transport error; doubled each time.
    pub backoff: Duration,
    /// Kept free before the deadline: releasing or completing the idempotency record and
    /// answering Lambda happen in it.
    pub margin: Duration,
    /// An attempt is not started (nor waited for) with less time than this left.
    pub min_attempt: Duration,
}

impl Default for RetryPolicy {
    /// Sized for the 30 s function timeout in template.yaml.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            max_attempts: 5,
            server_retries: 2,
            backoff: Duration::from_millis(250),
            margin: Duration::from_secs(2),
            min_attempt: Duration::from_millis(500),
        }
    }
}

/// A post Discord accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub attempts: u32,
    /// Time spent waiting out rate limits and backoffs.
    pub waited: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// Discord asked us to wait longer than the invocation has left.
    #[error(
        "rate limited: retry after {retry_after:.1?} does not fit in the time left ({attempts} attempts)"
    )]
    RateLimited { retry_after: Duration, attempts: u32 },
    /// 5xx or transport errors, retries exhausted (or no time left for another).
    #[error("Discord unavailable after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    /// A 4xx other than 429 (or another unexpected status): the same post will never work.
    #[error("Discord refused the message with HTTP {status}: {body}")]
    Rejected { status: u16, body: String },
    /// Not even one attempt fits before the deadline.
    #[error("no time left before the invocation deadline ({attempts} attempts)")]
    OutOfTime { attempts: u32 },
}

impl PostError {
    /// True when retrying the same message can never succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, PostError::Rejected { .. })
    }
}

/// The Discord webhook client: built once per container, no I/O until the first post.
pub struct Webhook {
    client: reqwest::Client,
    url: WebhookUrl,
    policy: RetryPolicy,
    /// No post starts before this instant (Discord's rate limit, learned from a 429 or from
    /// `X-RateLimit-Remaining: 0`); shared by concurrent messages and later invocations.
    paused_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// Builds the client (timeouts, no redirects, compiled-in roots). Opens no connection.
    pub fn new(url: WebhookUrl, policy: RetryPolicy) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mrmrthon-discord-webhook/", env!("CARGO_PKG_VERSION")));
        if let Some(tls) = infra::web_tls::public_roots() {
            builder = builder.tls_backend_preconfigured(tls);
        }
        let client = builder.build().map_err(reqwest::Error::without_url)?;
        Ok(Self {
            client,
            url,
            policy,
            paused_until: Mutex::new(None),
        })
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Whether one attempt still fits before `deadline` (minus the margin).
    pub fn has_time(&self, deadline: Instant) -> bool {
        deadline
            .checked_sub(self.policy.margin + self.policy.min_attempt)
            .is_some_and(|last| Instant::now() <= last)
    }

    /// Posts one message: 2xx is done; 429 waits `retry_after` when it fits and tries
    /// again; 5xx and transport errors are retried with backoff; anything else is refused.
    pub async fn post(
        &self,
        message: &WebhookMessage,
        correlation_id: Option<&str>,
        deadline: Instant,
    ) -> Result<Delivered, PostError> {
        let policy = &self.policy;
        let cutoff = deadline.checked_sub(policy.margin).unwrap_or_else(Instant::now);
        let (mut attempts, mut failures, mut waited) = (0u32, 0u32, Duration::ZERO);
        loop {
            if let Some(until) = self.paused_until()
                && let Some(wait) = until.checked_duration_since(Instant::now())
                && !wait.is_zero()
            {
                if until + policy.min_attempt > cutoff {
                    return Err(PostError::RateLimited {
                        retry_after: wait,
                        attempts,
                    });
                }
                tokio::time::sleep_until(until).await;
                waited += wait;
            }
            let budget = cutoff.saturating_duration_since(Instant::now());
            if budget < policy.min_attempt {
                return Err(match failures {
                    0 => PostError::OutOfTime { attempts },
                    _ => PostError::Unavailable {
                        attempts,
                        last: "no time left for another attempt".into(),
                    },
                });
            }
            attempts += 1;
            let mut request = self
                .client
                .post(self.url.0.clone())
                .timeout(budget.min(policy.request_timeout))
                .json(message);
            if let Some(id) = correlation_id {
                request = request.header(CORRELATION_HEADER, id);
            }
            let failure = match request.send().await {
                Ok(response) if response.status().is_success() => {
                    self.note_bucket(response.headers());
                    return Ok(Delivered { attempts, waited });
                }
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let headers = response.headers().clone();
                    let body = response.bytes().await.unwrap_or_default();
                    let retry_after = retry_after(&headers, &body).unwrap_or(DEFAULT_RETRY_AFTER);
                    self.pause_for(retry_after);
                    if attempts >= policy.max_attempts {
                        return Err(PostError::RateLimited {
                            retry_after,
                            attempts,
                        });
                    }
                    continue; // the pause above is waited out (or found too long) first
                }
                Ok(response) if response.status().is_server_error() => {
                    format!("HTTP {}", response.status())
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    return Err(PostError::Rejected {
                        status,
                        body: self.url.redact(fit(body, BODY_IN_ERROR)),
                    });
                }
                Err(error) => self.describe(error),
            };
            failures += 1;
            if failures > policy.server_retries || attempts >= policy.max_attempts {
                return Err(PostError::Unavailable {
                    attempts,
                    last: failure,
                });
            }
            let pause = policy.backoff.saturating_mul(1 << (failures - 1).min(10));
            if Instant::now() + pause + policy.min_attempt > cutoff {
                return Err(PostError::Unavailable {
                    attempts,
                    last: failure,
                });
            }
            tokio::time::sleep(pause).await;
            waited += pause;
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        *self.paused_until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(PoisonError::into_inner);
        *paused = Some(paused.map_or(until, |current| current.max(until)));
    }

    /// Discord says when a bucket is empty: wait for its reset instead of earning a 429.
    fn note_bucket(&self, headers: &HeaderMap) {
        let remaining = header_number(headers, "x-ratelimit-remaining");
        let reset_after = header_number(headers, "x-ratelimit-reset-after").and_then(seconds);
        if remaining == Some(0.0)
            && let Some(reset_after) = reset_after
        {
            self.pause_for(reset_after);
        }
    }

    /// A transport error as text, without the URL.
    fn describe(&self, error: reqwest::Error) -> String {
        let error = error.without_url();
        let kind = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        let mut text = format!("{kind}: {error}");
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.url.redact(text)
    }
}

/// How long a 429 asks us to wait: `retry_after` (seconds, fractional) in the JSON body,
/// else the `Retry-After` header (seconds).
pub fn retry_after(headers: &HeaderMap, body: &[u8]) -> Option<Duration> {
    let from_body = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json.get("retry_after")?.as_f64());
    from_body
        .or_else(|| header_number(headers, RETRY_AFTER.as_str()))
        .and_then(seconds)
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()
}

fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0)
        .then(|| Duration::try_from_secs_f64(value).unwrap_or(MAX_RETRY_AFTER))
        .map(|d| d.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_comes_from_the_body_then_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        let body = br#"{"message": "You are being rate limited.", "retry_after": 0.25, "global": false}"#;
        assert_eq!(retry_after(&headers, body), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&headers, b"not json"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&HeaderMap::new(), b"{}"), None);
        assert_eq!(
            retry_after(&HeaderMap::new(), br#"{"retry_after": 1e300}"#),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after(&HeaderMap::new(), br#"{"retry_after": -1}"#), None);
    }

    #[test]
    fn only_https_or_loopback_http_urls_are_accepted() {
        assert!(WebhookUrl::parse("https://discord.com/api/webhooks/1/token").is_ok());
        assert!(WebhookUrl::parse(" http://127.0.0.1:9000/webhooks/local/x\n").is_ok());
        assert!(WebhookUrl::parse("http://localhost/webhooks/x").is_ok());
        assert!(WebhookUrl::parse("http://[::1]:80/webhooks/x").is_ok());
        assert_eq!(
            WebhookUrl::parse("http://discord.com/api/webhooks/1/token").unwrap_err(),
            UrlError::Insecure
        );
        assert_eq!(WebhookUrl::parse("ftp://x/y").unwrap_err(), UrlError::NotAUrl);
        let error = WebhookUrl::parse("not a url but a secret-token").unwrap_err();
        assert!(!error.to_string().contains("secret-token"));
    }

    #[test]
    fn debug_output_never_shows_the_url() {
        let url = WebhookUrl::parse("https://discord.com/api/webhooks/1/super-secret").unwrap();
        let webhook = Webhook::new(url.clone(), RetryPolicy::default()).unwrap();
        for text in [
            format!("{url:?}"),
            format!("{webhook:?}"),
            format!("{webhook:#?}"),
        ] {
            assert!(!text.contains("super-secret"), "{text}");
            assert!(!text.contains("discord.com"), "{text}");
        }
        assert_eq!(
            url.redact("POST https://discord.com/api/webhooks/1/super-secret failed".into()),
            "POST <webhook> failed"
        );
        assert_eq!(
            url.redact("path /api/webhooks/1/super-secret".into()),
            "path <webhook path>"
        );
    }

    #[test]
    fn an_empty_bucket_pauses_later_posts_until_its_reset() {
        let url = WebhookUrl::parse("https://discord.com/api/webhooks/1/t").unwrap();
        let webhook = Webhook::new(url, RetryPolicy::default()).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("1"));
        headers.insert("x-ratelimit-reset-after", HeaderValue::from_static("1.5"));
        webhook.note_bucket(&headers);
        assert_eq!(webhook.paused_until(), None);
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        let before = Instant::now();
        webhook.note_bucket(&headers);
        let until = webhook.paused_until().expect("paused");
        assert!(until >= before + Duration::from_millis(1500));
        // a shorter pause never shortens a longer one
        webhook.pause_for(Duration::from_millis(10));
        assert_eq!(webhook.paused_until(), Some(until));
    }
}
