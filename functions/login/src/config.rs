//! Init: read the environment, load the signing key, build clients once per container.
//! Any missing piece stops the function from starting rather than failing later.

use std::sync::Arc;

use domain::SystemClock;
use domain::lockout::LockoutPolicy;
use infra::aws::ConfigError;
use infra::dynamo::{ActivityLog, DynamoUsers};
use infra::passwords::Passwords;
use infra::tokens::{TokenConfig, TokenSigner};
use time::Duration;

use crate::Auth;

/// Everything login reads from its environment (see template.yaml).
#[derive(Debug, Clone)]
pub struct Settings {
    pub users_table: String,
    pub activity_table: String,
    pub signing_key_secret: String,
    pub issuer: String,
    pub audience: String,
    pub lockout: LockoutPolicy,
    pub activity_retention: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from any source of variables: the process environment, or a map in tests.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| lookup(name).ok_or_else(|| ConfigError::Missing(name.to_owned()));
        let number = |name: &str, default: i64| match lookup(name) {
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Invalid(name.to_owned(), raw)),
            None => Ok(default),
        };
        Ok(Self {
            users_table: required("USERS_TABLE")?,
            activity_table: required("ACTIVITY_TABLE")?,
            signing_key_secret: required("SIGNING_KEY_SECRET")?,
            issuer: required("TOKEN_ISSUER")?,
            audience: required("TOKEN_AUDIENCE")?,
            lockout: LockoutPolicy {
                lock_for: Duration::seconds(number("LOCKOUT_SECONDS", 900)?),
                ..LockoutPolicy::default()
            },
            activity_retention: Duration::days(number("ACTIVITY_RETENTION_DAYS", 400)?),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] infra::secrets::SecretError),
    #[error("the signing key is unusable: {0}")]
    Key(String),
}

impl Auth {
    /// Builds the service with real adapters; the signing key comes from Secrets Manager.
    pub async fn connect(sdk: &aws_config::SdkConfig, settings: &Settings) -> Result<Self, BootError> {
        let users = DynamoUsers::new(
            aws_sdk_dynamodb::Client::new(sdk),
            &settings.users_table,
            ActivityLog {
                table: settings.activity_table.clone(),
                retention: settings.activity_retention,
            },
        );
        // The key read and the warm-up are independent: one round trip of init, not two.
        let (pem, ()) = tokio::join!(
            infra::secrets::secret_string(sdk, &settings.signing_key_secret),
            users.warm_up()
        );
        let signer = TokenSigner::from_pkcs8_pem(
            &pem?,
            TokenConfig {
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
                access_ttl: Duration::minutes(15),
            },
        )
        .map_err(|e| BootError::Key(e.to_string()))?;
        Ok(Self {
            users: Arc::new(users),
            signer,
            passwords: Passwords::default(),
            clock: Arc::new(SystemClock),
            lockout: settings.lockout,
        })
    }
}

/// The whole init: environment, SDK config, key, clients.
pub async fn bootstrap() -> Result<axum::Router, BootError> {
    let settings = Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    let auth = Auth::connect(&sdk, &settings).await?;
    Ok(crate::router(Arc::new(auth)))
}
