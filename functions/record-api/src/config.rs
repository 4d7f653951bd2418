//! Init: environment, the verification key, clients once per container.

use std::sync::Arc;

use domain::SystemClock;
use infra::aws::ConfigError;
use infra::dynamo::{ActivityLog, DynamoRaces, DynamoUsers};
use infra::tokens::{TokenConfig, TokenVerifier};
use time::Duration;

use crate::Api;

/// Everything record-api reads from its environment (see template.yaml).
#[derive(Debug, Clone)]
pub struct Settings {
    pub races_table: String,
    pub users_table: String,
    pub activity_table: String,
    pub verify_key_secret: String,
    pub issuer: String,
    pub audience: String,
    pub activity_retention: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| lookup(name).ok_or_else(|| ConfigError::Missing(name.to_owned()));
        let retention = match lookup("ACTIVITY_RETENTION_DAYS") {
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|d| *d > 0)
                .ok_or_else(|| ConfigError::Invalid("ACTIVITY_RETENTION_DAYS".into(), raw))?,
            None => 400,
        };
        Ok(Self {
            races_table: required("RACES_TABLE")?,
            users_table: required("USERS_TABLE")?,
            activity_table: required("ACTIVITY_TABLE")?,
            verify_key_secret: required("VERIFY_KEY_SECRET")?,
            issuer: required("TOKEN_ISSUER")?,
            audience: required("TOKEN_AUDIENCE")?,
            activity_retention: Duration::days(retention),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] infra::secrets::SecretError),
    #[error("the verification key is unusable: {0}")]
    Key(String),
}

impl Api {
    pub async fn connect(sdk: &aws_config::SdkConfig, settings: &Settings) -> Result<Self, BootError> {
        let client = aws_sdk_dynamodb::Client::new(sdk);
        let activity = ActivityLog {
            table: settings.activity_table.clone(),
            retention: settings.activity_retention,
        };
        let users = DynamoUsers::new(client.clone(), &settings.users_table, activity.clone());
        // The key read and the warm-up are independent: one round trip of init, not two.
        let (pem, ()) = tokio::join!(
            infra::secrets::secret_string(sdk, &settings.verify_key_secret),
            users.warm_up()
        );
        let verifier = TokenVerifier::from_public_pem(
            &pem?,
            TokenConfig::new(settings.issuer.clone(), settings.audience.clone()),
        )
        .map_err(|e| BootError::Key(e.to_string()))?;
        Ok(Self {
            races: Arc::new(DynamoRaces::new(client, &settings.races_table, activity)),
            points: Arc::new(users.clone()),
            users: Arc::new(users),
            verifier,
            clock: Arc::new(SystemClock),
        })
    }
}

pub async fn bootstrap() -> Result<axum::Router, BootError> {
    let settings = Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    let api = Api::connect(&sdk, &settings).await?;
    Ok(crate::router(Arc::new(api)))
}
