//! Batch concurrency: the wall time of a 10-message point-increase batch against the
//! emulator, relative to a 1-message batch, in-process (`point_increase::connect` then
//! `.handle(SqsEvent)`), fresh results each time so that every message does the full work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use domain::UserId;
use domain::events::{Envelope, PointsEvent, ResultChange};
use domain::ports::{EventPublisher, LedgerOutcome, PointsLedger, PublishError, StoreError};
use point_increase::PointIncrease;
use serde_json::json;
use time::OffsetDateTime;

use crate::fixtures::{result_recorded, runner};
use crate::lab::{Lab, Result};
use crate::stats::Summary;

#[derive(Debug)]
pub struct BatchTimes {
    /// Milliseconds per batch.
    pub single: Summary,
    pub ten: Summary,
    pub repetitions: usize,
    /// The most ledger calls the handler had outstanding at once during a 10-message batch.
    pub peak_in_flight: usize,
    /// The same handler over ports that take `SIMULATED_LATENCY` per call and serve
    /// concurrently (what the emulator does not): 1-message and 10-message batches.
    pub simulated: (Summary, Summary),
}

/// Per call of the simulated ports: a DynamoDB or SNS round trip of the order seen on AWS.
pub const SIMULATED_LATENCY: Duration = Duration::from_millis(20);

/// Counts the handler's outstanding calls.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl InFlight {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    fn take_peak(&self) -> usize {
        self.peak.swap(0, Ordering::SeqCst)
    }
}

/// The real ledger, with its calls counted.
struct CountedLedger {
    inner: Arc<dyn PointsLedger>,
    flight: Arc<InFlight>,
}

#[async_trait]
impl PointsLedger for CountedLedger {
    async fn apply(
        &self,
        change: &ResultChange,
        now: OffsetDateTime,
    ) -> std::result::Result<LedgerOutcome, StoreError> {
        self.flight.enter();
        let outcome = self.inner.apply(change, now).await;
        self.flight.leave();
        outcome
    }

    async fn mark_notified(
        &self,
        runner: &UserId,
        result_id: &str,
        version: u64,
    ) -> std::result::Result<(), StoreError> {
        self.flight.enter();
        let outcome = self.inner.mark_notified(runner, result_id, version).await;
        self.flight.leave();
        outcome
    }
}

/// Ports that only wait: every call takes `SIMULATED_LATENCY`, any number at once.
struct SlowLedger;

#[async_trait]
impl PointsLedger for SlowLedger {
    async fn apply(
        &self,
        change: &ResultChange,
        _: OffsetDateTime,
    ) -> std::result::Result<LedgerOutcome, StoreError> {
        tokio::time::sleep(SIMULATED_LATENCY).await;
        let delta = i64::from(change.points);
        Ok(LedgerOutcome::Applied { delta, total: delta })
    }

    async fn mark_notified(&self, _: &UserId, _: &str, _: u64) -> std::result::Result<(), StoreError> {
        tokio::time::sleep(SIMULATED_LATENCY).await;
        Ok(())
    }
}

struct SlowPublisher;

#[async_trait]
impl EventPublisher<PointsEvent> for SlowPublisher {
    async fn publish(
        &self,
        envelopes: &[Envelope<PointsEvent>],
    ) -> Vec<std::result::Result<(), PublishError>> {
        tokio::time::sleep(SIMULATED_LATENCY).await;
        envelopes.iter().map(|_| Ok(())).collect()
    }
}

impl BatchTimes {
    pub fn ratio(&self) -> f64 {
        self.ten.median / self.single.median
    }
}

fn event(bodies: Vec<String>) -> Result<SqsEvent> {
    let records: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            json!({
                "messageId": ulid::Ulid::new().to_string(),
                "receiptHandle": "bench",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "awsRegion": local::emulator::REGION,
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).map_err(|e| format!("an SQS event: {e}"))
}

pub async fn measure(lab: &Lab, repetitions: usize) -> Result<BatchTimes> {
    let env = lab
        .stack
        .provisioned()
        .function_env("PointIncreaseFunction")
        .map_err(|e| e.to_string())?;
    let (table, topic) = match (env.get("USERS_TABLE"), env.get("POINTS_EVENTS_TOPIC")) {
        (Some(t), Some(p)) => (t.clone(), p.clone()),
        _ => return Err("PointIncreaseFunction has no USERS_TABLE or POINTS_EVENTS_TOPIC".into()),
    };
    let real = point_increase::connect(&lab.sdk, &table, &topic).await;
    let flight = Arc::new(InFlight::default());
    let counted = PointIncrease {
        ledger: Arc::new(CountedLedger {
            inner: real.ledger.clone(),
            flight: flight.clone(),
        }),
        publisher: real.publisher.clone(),
        clock: real.clock.clone(),
    };
    let simulated = PointIncrease {
        ledger: Arc::new(SlowLedger),
        publisher: Arc::new(SlowPublisher),
        clock: real.clock.clone(),
    };
    let runner = runner(lab, &table).await?;
    let run = async |function: &PointIncrease, size: usize| -> Result<f64> {
        let event = event((0..size).map(|_| result_recorded(&runner, 110)).collect())?;
        let started = Instant::now();
        let response = function
            .handle(event)
            .await
            .map_err(|e| format!("the batch failed: {e}"))?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        if !response.batch_item_failures.is_empty() {
            return Err(format!(
                "{} of {size} messages failed",
                response.batch_item_failures.len()
            ));
        }
        Ok(elapsed)
    };
    // warm-up: connections, the runner's first award
    run(&counted, 1).await?;
    run(&counted, 10).await?;
    let (mut single, mut ten, mut peak_in_flight) = (Vec::new(), Vec::new(), 0);
    for _ in 0..repetitions {
        single.push(run(&counted, 1).await?);
        flight.take_peak();
        ten.push(run(&counted, 10).await?);
        peak_in_flight = peak_in_flight.max(flight.take_peak());
    }
    let (mut sim_single, mut sim_ten) = (Vec::new(), Vec::new());
    for _ in 0..repetitions {
        sim_single.push(run(&simulated, 1).await?);
        sim_ten.push(run(&simulated, 10).await?);
    }
    let summaries = [&single, &ten, &sim_single, &sim_ten].map(|s| Summary::of(s));
    match summaries {
        [Some(single), Some(ten), Some(s1), Some(s10)] => Ok(BatchTimes {
            single,
            ten,
            repetitions,
            peak_in_flight,
            simulated: (s1, s10),
        }),
        _ => Err("no batch measured".into()),
    }
}
