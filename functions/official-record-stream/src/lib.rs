//! official-record-stream: official-result changes on the Races stream become result events
//! on SNS. `translate` turns one stream record into an envelope; `handler` publishes a
//! batch in order and reports the first failure by sequence number.

pub mod config;
pub mod handler;
pub mod translate;

pub use handler::handle;

use domain::events::ResultEvent;
use infra::sns::SnsPublisher;

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BootError(#[from] infra::aws::ConfigError);

/// Init: the topic from the environment, the SNS client once per container.
pub async fn bootstrap() -> Result<SnsPublisher<ResultEvent>, BootError> {
    let topic = config::Settings::from_env()?.topic;
    let sdk = infra::aws::load_config().await;
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), topic);
    publisher.warm_up().await;
    Ok(publisher)
}
