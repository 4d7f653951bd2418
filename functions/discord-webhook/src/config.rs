//! Init: the environment, the webhook URL from Secrets Manager, clients once per container.
//! A missing or unusable piece stops the function from starting rather than failing later.
//! The URL is never logged: errors name the secret, never its value.

use std::sync::Arc;

use domain::greeting::Language;
use infra::config::{ConfigError, Env};
use infra::idempotency::Idempotency;
use infra::site::SiteUrl;
use time::Duration;

use crate::Notifier;
use crate::post::{RetryPolicy, UrlError, Webhook, WebhookUrl};

/// A posted award stays remembered this long: beyond the queue's retention (4 days) and
/// the DLQ's (14 days), so even a late redrive cannot post twice.
pub const KEEP_FOR: Duration = Duration::days(15);
/// A claim outlives any invocation holding it (the function times out after 30 s), so it
/// never expires under a live holder; a dead holder's claim is free again well before
/// SQS redelivers (visibility timeout 180 s).
pub const CLAIM_FOR: Duration = Duration::seconds(90);

/// Everything discord-webhook reads from its environment (see template.yaml). Holds the
/// secret's name, not its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Name of the Secrets Manager secret whose SecretString is the webhook URL.
    pub webhook_secret: String,
    pub idempotency_table: String,
    /// NOTIFICATION_LANGUAGE (`ko` or `en`, Korean when unset): the posts' language.
    pub language: Language,
    /// SITE_URL: the web app whose pages the posts link to; unset or blank, no links.
    pub site: Option<SiteUrl>,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            webhook_secret: env.required("DISCORD_WEBHOOK_SECRET")?,
            idempotency_table: env.required("IDEMPOTENCY_TABLE")?,
            language: env
                .parse_with("NOTIFICATION_LANGUAGE", Language::from_tag)?
                .unwrap_or_default(),
            site: SiteUrl::from_env(&env)?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] infra::secrets::SecretError),
    #[error("secret {secret}: {error}")]
    Url { secret: String, error: UrlError },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl Notifier {
    /// The real adapters: the URL from Secrets Manager, the idempotency table on DynamoDB.
    pub async fn connect(sdk: &aws_config::SdkConfig, settings: &Settings) -> Result<Self, BootError> {
        let client = aws_sdk_dynamodb::Client::new(sdk);
        // The URL read and the warm-up are independent: one round trip of init, not two.
        let (raw, ()) = tokio::join!(
            infra::secrets::secret_string(sdk, &settings.webhook_secret),
            warm_up(&client, &settings.idempotency_table)
        );
        let url = WebhookUrl::parse(&raw?).map_err(|error| BootError::Url {
            secret: settings.webhook_secret.clone(),
            error,
        })?;
        // No call to Discord here: its first TLS handshake is paid by the first post.
        let webhook =
            Webhook::new(url, RetryPolicy::default()).map_err(|e| BootError::Client(e.to_string()))?;
        let idempotency = Idempotency::new(client, &settings.idempotency_table, KEEP_FOR, CLAIM_FOR);
        Ok(Notifier::new(
            webhook,
            idempotency,
            Arc::new(domain::SystemClock),
            settings.language,
        )
        .with_site(settings.site.clone()))
    }
}

/// Pays DynamoDB's connection and TLS handshake during init, not in the first message.
async fn warm_up(client: &aws_sdk_dynamodb::Client, table: &str) {
    let probe = client
        .get_item()
        .table_name(table)
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S("discord#warm-up".into()),
        )
        .send()
        .await;
    if let Err(error) = probe {
        tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(error), "warm-up read failed");
    }
}

/// The whole init: environment, SDK config, secret, clients.
pub async fn bootstrap() -> Result<Notifier, BootError> {
    let settings = Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    Notifier::connect(&sdk, &settings).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variables() {
        let env = [
            ("DISCORD_WEBHOOK_SECRET", "mrmrthon/discord-webhook-url"),
            ("IDEMPOTENCY_TABLE", "mrmrthon-IdempotencyTable"),
            ("NOTIFICATION_LANGUAGE", "en"),
            ("SITE_URL", "https://mrmrthon.dev"),
        ];
        let get = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let settings = Settings::from_lookup(get).unwrap();
        assert_eq!(settings.webhook_secret, "mrmrthon/discord-webhook-url");
        assert_eq!(settings.idempotency_table, "mrmrthon-IdempotencyTable");
        assert_eq!(settings.language, Language::English);
        assert_eq!(
            settings.site.as_ref().map(SiteUrl::as_str),
            Some("https://mrmrthon.dev")
        );
        let linkless = Settings::from_lookup(|n| get(n).filter(|_| n != "SITE_URL")).unwrap();
        assert_eq!(linkless.site, None, "no SITE_URL: posts without links");
        let broken = Settings::from_lookup(|n| {
            if n == "SITE_URL" {
                Some("https://mrmrthon.dev/app".into())
            } else {
                get(n)
            }
        });
        assert!(matches!(broken, Err(ConfigError::Invalid(n, _)) if n == "SITE_URL"));
        let korean = Settings::from_lookup(|n| get(n).filter(|_| n != "NOTIFICATION_LANGUAGE"));
        assert_eq!(korean.unwrap().language, Language::Korean);
        let french = Settings::from_lookup(|n| {
            if n == "NOTIFICATION_LANGUAGE" {
                Some("fr".into())
            } else {
                get(n)
            }
        });
        assert!(matches!(french, Err(ConfigError::Invalid(n, _)) if n == "NOTIFICATION_LANGUAGE"));
        let error = Settings::from_lookup(|n| get(n).filter(|_| n != "IDEMPOTENCY_TABLE")).unwrap_err();
        assert_eq!(error, ConfigError::Missing("IDEMPOTENCY_TABLE".into()));
    }
}
