//! point-increase: applies each result event to its runner's points exactly once per
//! version (the ledger decides), and announces a changed total on `points-events`.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_lambda_events::streams::SqsEventResponse;
use domain::Clock;
use domain::events::{Envelope, PointsAwarded, PointsEvent, ResultChange, ResultEvent};
use domain::ports::{EventPublisher, LedgerOutcome, PointsLedger};
use infra::batch::{BatchError, ItemError, sqs_batch};

/// Messages of one batch handled at once: a batch of 10 costs about one round trip.
const CONCURRENCY: usize = 10;

pub struct PointIncrease {
    pub ledger: Arc<dyn PointsLedger>,
    /// points-events: nothing but `points.awarded` can be published through it.
    pub publisher: Arc<dyn EventPublisher<PointsEvent>>,
    pub clock: Arc<dyn Clock>,
}

impl PointIncrease {
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsEventResponse, BatchError> {
        sqs_batch(event, CONCURRENCY, |message| self.message(message)).await
    }

    async fn message(&self, message: SqsMessage) -> Result<(), ItemError> {
        let started = std::time::Instant::now();
        let body = message
            .body
            .as_deref()
            .ok_or_else(|| ItemError::Poison("empty body".into()))?;
        // record-events carries result events only: anything else fails to decode
        let envelope = Envelope::<ResultEvent>::parse(body).map_err(|e| ItemError::Poison(e.to_string()))?;
        let kind = envelope.kind();
        let change = envelope.event.into_change();
        let correlation = envelope.correlation_id;
        let outcome = self.ledger.apply(&change, self.clock.now()).await?;
        let announced = match outcome {
            LedgerOutcome::Applied { delta, total } | LedgerOutcome::Unnotified { delta, total }
                if delta != 0 =>
            {
                self.announce(&change, delta, total, correlation.clone()).await?;
                true
            }
            _ => false,
        };
        tracing::info!(
            kind,
            result_id = %change.result_id,
            version = change.version,
            outcome = ?outcome,
            announced,
            correlation_id = correlation.as_deref().unwrap_or("-"),
            millis = started.elapsed().as_millis() as u64,
            "points"
        );
        Ok(())
    }

    /// Publishes, then marks the award announced. If publishing fails, the message is
    /// retried and the ledger reports the version as applied but unannounced.
    async fn announce(
        &self,
        change: &ResultChange,
        delta: i64,
        total: i64,
        correlation: Option<String>,
    ) -> Result<(), ItemError> {
        let awarded = Envelope::new(
            PointsEvent::Awarded(PointsAwarded {
                runner_id: change.runner_id.clone(),
                runner_name: change.runner_name.clone(),
                marathon_id: change.marathon_id.clone(),
                marathon_name: change.marathon_name.clone(),
                result_id: change.result_id.clone(),
                delta,
                total,
                result_version: change.version,
            }),
            self.clock.now(),
            correlation,
        );
        let outcome = self
            .publisher
            .publish(std::slice::from_ref(&awarded))
            .await
            .into_iter()
            .next();
        match outcome {
            Some(Ok(())) => {}
            Some(Err(error)) => return Err(error.into()),
            None => return Err(ItemError::Retryable("the publisher gave no outcome".into())),
        }
        Ok(self
            .ledger
            .mark_notified(&change.runner_id, &change.result_id, change.version)
            .await?)
    }
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BootError(#[from] infra::aws::ConfigError);

fn required(name: &str) -> Result<String, infra::aws::ConfigError> {
    std::env::var(name).map_err(|_| infra::aws::ConfigError::Missing(name.to_owned()))
}

/// Init: clients once per container, and one call to DynamoDB and one to SNS, together, so
/// the first message pays neither TLS handshake.
pub async fn bootstrap() -> Result<PointIncrease, BootError> {
    let (table, topic) = (required("USERS_TABLE")?, required("POINTS_EVENTS_TOPIC")?);
    let sdk = infra::aws::load_config().await;
    Ok(connect(&sdk, &table, &topic).await)
}

pub async fn connect(sdk: &aws_config::SdkConfig, users_table: &str, topic: &str) -> PointIncrease {
    let ledger = infra::dynamo::DynamoLedger::new(aws_sdk_dynamodb::Client::new(sdk), users_table);
    let publisher = infra::sns::SnsPublisher::<PointsEvent>::new(aws_sdk_sns::Client::new(sdk), topic);
    tokio::join!(ledger.warm_up(), publisher.warm_up());
    PointIncrease {
        ledger: Arc::new(ledger),
        publisher: Arc::new(publisher),
        clock: Arc::new(domain::SystemClock),
    }
}
