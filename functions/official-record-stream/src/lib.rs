//! official-record-stream: official-result changes on the Races stream become result events
//! on SNS. `translate` turns one stream record into an envelope; `handler` publishes a
//! batch in order, parks poison records and reports the first retryable failure by
//! sequence number.

pub mod config;
pub mod handler;
pub mod translate;

pub use handler::handle;

use domain::events::ResultEvent;
use infra::poison::PoisonQueue;
use infra::sns::SnsPublisher;

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BootError(#[from] infra::aws::ConfigError);

/// Init: the topic and the failure queue from the environment, the clients once per
/// container.
pub async fn bootstrap() -> Result<(SnsPublisher<ResultEvent>, PoisonQueue), BootError> {
    let settings = config::Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), settings.topic);
    publisher.warm_up().await;
    // its SQS client is built only if a record is ever parked
    let poison = PoisonQueue::on_demand(&sdk, settings.failures_queue, settings.function);
    Ok((publisher, poison))
}
