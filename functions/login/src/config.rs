//! Init: read the environment, load the signing key, build clients once per container.
//! Any missing piece stops the function from starting rather than failing later.

use std::num::NonZeroU32;
use std::sync::Arc;

use domain::SystemClock;
use domain::lockout::LockoutPolicy;
use domain::source_throttle::SourcePolicy;
use infra::config::{ConfigError, Env};
use infra::dynamo::{ActivityLog, DynamoSources, DynamoUsers};
use infra::passwords::Passwords;
use infra::tokens::{TokenConfig, TokenSigner, TokenVerifier};
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
    /// A login's absolute lifetime (refreshing never extends it).
    pub session_lifetime: Duration,
    pub activity_retention: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    /// Reads from any source of variables: the process environment, or a map in tests.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let positive = |name: &str, default: u32| -> Result<i64, ConfigError> {
            Ok(env
                .parsed::<NonZeroU32>(name)?
                .map_or(default, NonZeroU32::get)
                .into())
        };
        Ok(Self {
            users_table: env.required("USERS_TABLE")?,
            activity_table: env.required("ACTIVITY_TABLE")?,
            signing_key_secret: env.required("SIGNING_KEY_SECRET")?,
            issuer: env.required("TOKEN_ISSUER")?,
            audience: env.required("TOKEN_AUDIENCE")?,
            lockout: LockoutPolicy {
                lock_for: Duration::seconds(positive("LOCKOUT_SECONDS", 900)?),
                ..LockoutPolicy::default()
            },
            session_lifetime: Duration::days(positive("SESSION_DAYS", 30)?),
            activity_retention: Duration::days(positive("ACTIVITY_RETENTION_DAYS", 400)?),
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
        let client = aws_sdk_dynamodb::Client::new(sdk);
        let users = DynamoUsers::new(
            client.clone(),
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
        let config = TokenConfig {
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            access_ttl: Duration::minutes(15),
        };
        let signer =
            TokenSigner::from_pkcs8_pem(&pem?, config.clone()).map_err(|e| BootError::Key(e.to_string()))?;
        // login's own authenticated routes verify with the key it signs with
        let verifier =
            TokenVerifier::from_jwks(signer.jwks(), config).map_err(|e| BootError::Key(e.to_string()))?;
        Ok(Self {
            sources: Arc::new(DynamoSources::new(client, &settings.users_table)),
            source_policy: SourcePolicy::default(),
            users: Arc::new(users),
            signer,
            verifier,
            passwords: Passwords::default(),
            clock: Arc::new(SystemClock),
            lockout: settings.lockout,
            session_lifetime: settings.session_lifetime,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variables() {
        let env = [
            ("USERS_TABLE", "users"),
            ("ACTIVITY_TABLE", "log"),
            ("SIGNING_KEY_SECRET", "mrmrthon/jwt-signing-key"),
            ("TOKEN_ISSUER", "https://auth.mrmrthon.dev"),
            ("TOKEN_AUDIENCE", "mrmrthon-api"),
            ("LOCKOUT_SECONDS", "60"),
            ("SESSION_DAYS", "7"),
            ("ACTIVITY_RETENTION_DAYS", "30"),
        ];
        let get = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let s = Settings::from_lookup(get).unwrap();
        assert_eq!(
            [
                &s.users_table,
                &s.activity_table,
                &s.signing_key_secret,
                &s.issuer,
                &s.audience
            ],
            [
                "users",
                "log",
                "mrmrthon/jwt-signing-key",
                "https://auth.mrmrthon.dev",
                "mrmrthon-api"
            ]
        );
        assert_eq!(s.lockout.lock_for, Duration::seconds(60));
        assert_eq!(s.activity_retention, Duration::days(30));
        assert_eq!(s.session_lifetime, Duration::days(7));
        // the numbers have defaults; a zero is refused, not taken as "no lockout"
        let defaults =
            Settings::from_lookup(|n| get(n).filter(|_| !n.ends_with("SECONDS") && !n.ends_with("DAYS")))
                .unwrap();
        assert_eq!(defaults.lockout.lock_for, Duration::seconds(900));
        assert_eq!(defaults.activity_retention, Duration::days(400));
        assert_eq!(defaults.session_lifetime, Duration::days(30));
        let zero = Settings::from_lookup(|n| {
            if n == "LOCKOUT_SECONDS" {
                Some("0".into())
            } else {
                get(n)
            }
        });
        assert!(matches!(zero, Err(ConfigError::Invalid(n, _)) if n == "LOCKOUT_SECONDS"));
    }
}
