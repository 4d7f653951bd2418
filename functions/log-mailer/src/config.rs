//! Init: read the environment, build the clients once per container (with timeouts that
//! fit the handler's stop margin), pay the first TLS handshake before the first record.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_ses::config::retry::RetryConfig;
use domain::SystemClock;
use domain::greeting::Language;
use infra::config::{ConfigError, Env};
use infra::dynamo::ActivityLog;
use infra::idempotency::Idempotency;
use infra::poison::PoisonQueue;
use infra::site::SiteUrl;

use crate::continuation::Continuations;
use crate::deferred::SqsMailQueue;
use crate::handler::{Limits, Mailer};
use crate::recipients::Directory;
use crate::send::Ses;
use crate::window::MailWindows;

/// A completed mail suppresses repeats this long: beyond any redelivery (the mapping's
/// MaximumRecordAgeInSeconds is 6 hours, a stream keeps records 24 hours).
const KEEP_SENT_FOR: time::Duration = time::Duration::days(7);
/// A claim whose holder died blocks others this long: about the function's timeout.
const CLAIM_FOR: time::Duration = time::Duration::seconds(65);
/// Per DynamoDB call, retries included.
const DYNAMO_TIMEOUT: Duration = Duration::from_secs(2);
/// Per SendRawEmail attempt; the handler retries, not the SDK.
const SES_TIMEOUT: Duration = Duration::from_secs(4);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_CONCURRENCY: usize = 50;
/// How long a continuation item stays: its stream record is read within 24 hours.
const KEEP_PARTS_FOR: time::Duration = time::Duration::days(2);

/// Marathon edits mailed at most once per marathon in this long, unless configured.
const DEFAULT_MAIL_WINDOW: time::Duration = time::Duration::hours(1);

/// Everything log-mailer reads from its environment (see template.yaml).
#[derive(Debug, Clone)]
pub struct Settings {
    pub users_table: String,
    pub races_table: String,
    pub idempotency_table: String,
    /// ACTIVITY_TABLE: where continuations of a long mailing are written.
    pub activity_table: String,
    /// MAIL_SENDER: a bare address, verified in SES.
    pub sender: String,
    /// NOTIFICATION_LANGUAGE (`ko` or `en`, Korean when unset): the language a mail
    /// starts with when the profile names none.
    pub language: Language,
    /// SITE_URL: the web app whose pages mails link to; unset or blank, mails have no links.
    pub site: Option<SiteUrl>,
    /// MARATHON_MAIL_WINDOW_SECONDS (1 hour when unset): participants get at most one mail
    /// about a marathon's edits per window (`window`).
    pub mail_window: time::Duration,
    /// MAILER_STREAM_FAILURES_QUEUE_URL: the mapping's on-failure queue, where poison records are parked.
    pub failures_queue: String,
    /// MAIL_RETRY_QUEUE_URL: where mails SES cannot take now wait (`deferred`).
    pub retry_queue: String,
    /// AWS_LAMBDA_FUNCTION_NAME (set by Lambda and cargo lambda): named in parked pointers.
    pub function: String,
    pub limits: Limits,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let mut limits = Limits::default();
        let concurrency = |raw: &str| {
            raw.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
        };
        if let Some(n) = env.parse_with("MAIL_CONCURRENCY", concurrency)? {
            limits.concurrency = n;
        }
        Ok(Self {
            users_table: env.required("USERS_TABLE")?,
            races_table: env.required("RACES_TABLE")?,
            idempotency_table: env.required("IDEMPOTENCY_TABLE")?,
            activity_table: env.required("ACTIVITY_TABLE")?,
            sender: env.required_with("MAIL_SENDER", crate::compose::address)?,
            language: env
                .parse_with("NOTIFICATION_LANGUAGE", Language::from_tag)?
                .unwrap_or_default(),
            site: SiteUrl::from_env(&env)?,
            mail_window: env
                .parse_with("MARATHON_MAIL_WINDOW_SECONDS", |raw: &str| {
                    raw.parse::<u32>().ok().filter(|s| *s > 0)
                })?
                .map_or(DEFAULT_MAIL_WINDOW, |s| time::Duration::seconds(s.into())),
            failures_queue: env.required("MAILER_STREAM_FAILURES_QUEUE_URL")?,
            retry_queue: env.required("MAIL_RETRY_QUEUE_URL")?,
            function: env
                .optional("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "log-mailer".into()),
            limits,
        })
    }
}

impl Mailer {
    /// The mailer with real adapters: DynamoDB and SES clients built from `sdk`.
    pub async fn connect(sdk: &aws_config::SdkConfig, settings: &Settings) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(CONNECT_TIMEOUT)
                        .operation_timeout(DYNAMO_TIMEOUT)
                        .build(),
                )
                .build(),
        );
        let ses = aws_sdk_ses::Client::from_conf(
            aws_sdk_ses::config::Builder::from(sdk)
                .timeout_config(
                    aws_sdk_ses::config::timeout::TimeoutConfig::builder()
                        .connect_timeout(CONNECT_TIMEOUT)
                        .operation_timeout(SES_TIMEOUT)
                        .build(),
                )
                // one attempt per call: `send::send_with_retries` retries within the budget
                .retry_config(RetryConfig::standard().with_max_attempts(1))
                .build(),
        );
        let directory = Directory::new(
            dynamo.clone(),
            &settings.users_table,
            &settings.races_table,
            settings.limits.page_size,
        );
        directory.warm_up().await;
        let clock: Arc<dyn domain::Clock> = Arc::new(SystemClock);
        Self {
            directory,
            idempotency: Idempotency::new(
                dynamo.clone(),
                &settings.idempotency_table,
                KEEP_SENT_FOR,
                CLAIM_FOR,
            ),
            windows: MailWindows::new(dynamo.clone(), &settings.idempotency_table, settings.mail_window),
            continuations: Continuations::new(
                dynamo,
                ActivityLog {
                    table: settings.activity_table.clone(),
                    retention: KEEP_PARTS_FOR,
                },
            ),
            ses: Arc::new(Ses::new(ses, clock.clone())),
            poison: Arc::new(PoisonQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &settings.failures_queue,
                &settings.function,
            )),
            retry_queue: Arc::new(SqsMailQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &settings.retry_queue,
            )),
            sender: settings.sender.clone(),
            language: settings.language,
            site: settings.site.clone(),
            clock,
            limits: settings.limits,
        }
    }
}

/// The whole init: environment, SDK config, clients.
pub async fn bootstrap() -> Result<Mailer, ConfigError> {
    let settings = Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    Ok(Mailer::connect(&sdk, &settings).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("USERS_TABLE", "users"),
            ("RACES_TABLE", "races"),
            ("IDEMPOTENCY_TABLE", "idem"),
            ("ACTIVITY_TABLE", "log"),
            ("MAIL_SENDER", "No-Reply@mrmrthon.dev"),
            ("NOTIFICATION_LANGUAGE", "en"),
            ("SITE_URL", "https://mrmrthon.dev/"),
            ("MAILER_STREAM_FAILURES_QUEUE_URL", "http://sqs/1/failures"),
            ("MAIL_RETRY_QUEUE_URL", "http://sqs/1/mail-retry"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        env
    }

    fn settings(env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn reads_the_template_variables() {
        let s = settings(&env(&[])).unwrap();
        assert_eq!(
            (
                s.users_table.as_str(),
                s.races_table.as_str(),
                s.idempotency_table.as_str(),
                s.activity_table.as_str()
            ),
            ("users", "races", "idem", "log")
        );
        assert_eq!(s.sender, "no-reply@mrmrthon.dev");
        assert_eq!(s.language, Language::English);
        assert_eq!(s.limits, Limits::default());
        assert_eq!(s.site.as_ref().map(SiteUrl::as_str), Some("https://mrmrthon.dev"));
        let mut blank = env(&[("SITE_URL", " ")]);
        assert_eq!(settings(&blank).unwrap().site, None, "blank: no links");
        blank.remove("SITE_URL");
        assert_eq!(settings(&blank).unwrap().site, None, "unset: no links");
        let mut unset = env(&[]);
        unset.remove("NOTIFICATION_LANGUAGE");
        assert_eq!(settings(&unset).unwrap().language, Language::Korean);
        let s = settings(&env(&[("MAIL_CONCURRENCY", "4")])).unwrap();
        assert_eq!(s.limits.concurrency, 4);
    }

    #[test]
    fn refuses_a_missing_or_unusable_value() {
        let mut missing = env(&[]);
        missing.remove("IDEMPOTENCY_TABLE");
        assert!(matches!(settings(&missing), Err(ConfigError::Missing(n)) if n == "IDEMPOTENCY_TABLE"));
        for bad in [
            "Mrmrthon <no-reply@mrmrthon.dev>",
            "no-reply@mrmrthon.dev\r\nBcc: x@y.z",
            "발신@mrmrthon.dev",
        ] {
            assert!(
                matches!(settings(&env(&[("MAIL_SENDER", bad)])), Err(ConfigError::Invalid(n, _)) if n == "MAIL_SENDER"),
                "{bad}"
            );
        }
        assert!(
            matches!(settings(&env(&[("NOTIFICATION_LANGUAGE", "fr")])), Err(ConfigError::Invalid(n, _)) if n == "NOTIFICATION_LANGUAGE")
        );
        assert!(
            matches!(settings(&env(&[("SITE_URL", "mrmrthon.dev/app")])), Err(ConfigError::Invalid(n, _)) if n == "SITE_URL")
        );
        for bad in ["0", "51", "many"] {
            assert!(settings(&env(&[("MAIL_CONCURRENCY", bad)])).is_err(), "{bad}");
        }
    }
}
