//! Init: environment, the verification key, clients once per container.

use std::num::NonZeroU32;
use std::sync::Arc;

use domain::SystemClock;
use infra::config::{ConfigError, Env};
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
    /// IMPORTS_BUCKET: the results files and commit markers (bulk import).
    pub imports_bucket: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let retention = env
            .parsed::<NonZeroU32>("ACTIVITY_RETENTION_DAYS")?
            .map_or(400, NonZeroU32::get);
        Ok(Self {
            races_table: env.required("RACES_TABLE")?,
            users_table: env.required("USERS_TABLE")?,
            activity_table: env.required("ACTIVITY_TABLE")?,
            verify_key_secret: env.required("VERIFY_KEY_SECRET")?,
            issuer: env.required("TOKEN_ISSUER")?,
            audience: env.required("TOKEN_AUDIENCE")?,
            imports_bucket: env.required("IMPORTS_BUCKET")?,
            activity_retention: Duration::days(retention.into()),
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
            imports: Arc::new(infra::dynamo::DynamoImports::new(
                client.clone(),
                &settings.races_table,
            )),
            // its S3 client is built at the first import request, not at cold start
            files: infra::s3::ImportFiles::on_demand(sdk, &settings.imports_bucket),
            races: Arc::new(DynamoRaces::new(client, &settings.races_table, activity)),
            points: Arc::new(users.clone()),
            leaderboard: Arc::new(users.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variables() {
        let env = [
            ("RACES_TABLE", "races"),
            ("USERS_TABLE", "users"),
            ("ACTIVITY_TABLE", "log"),
            ("VERIFY_KEY_SECRET", "mrmrthon/jwt-verify-key"),
            ("TOKEN_ISSUER", "https://auth.mrmrthon.dev"),
            ("TOKEN_AUDIENCE", "mrmrthon-api"),
            ("ACTIVITY_RETENTION_DAYS", "30"),
            ("IMPORTS_BUCKET", "mrmrthon-imports"),
        ];
        let get = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let s = Settings::from_lookup(get).unwrap();
        assert_eq!(
            [
                &s.races_table,
                &s.users_table,
                &s.activity_table,
                &s.verify_key_secret,
                &s.issuer,
                &s.audience
            ],
            [
                "races",
                "users",
                "log",
                "mrmrthon/jwt-verify-key",
                "https://auth.mrmrthon.dev",
                "mrmrthon-api"
            ]
        );
        assert_eq!(s.activity_retention, Duration::days(30));
        let blank = Settings::from_lookup(|n| {
            if n == "RACES_TABLE" {
                Some(" ".into())
            } else {
                get(n)
            }
        });
        assert!(matches!(blank, Err(ConfigError::Missing(n)) if n == "RACES_TABLE"));
    }
}
