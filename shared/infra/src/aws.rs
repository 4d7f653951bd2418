//! The one SDK configuration per container. Endpoints come from the standard
//! `AWS_ENDPOINT_URL` variables, so the local emulator needs no special code path.

pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(String),
    #[error("environment variable {0} has an invalid value {1:?}")]
    Invalid(String, String),
}
