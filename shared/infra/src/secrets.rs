//! Secrets Manager: read once, during init.

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret {name}: {message}")]
    Unreadable { name: String, message: String },
    #[error("secret {0} has no string value")]
    Empty(String),
}

pub async fn secret_string(config: &aws_config::SdkConfig, name: &str) -> Result<String, SecretError> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let output = client
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            name: name.to_owned(),
            message: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    output
        .secret_string
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| SecretError::Empty(name.to_owned()))
}
