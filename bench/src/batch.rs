//! Batch concurrency: the wall time of a 10-message point-increase batch against the
//! emulator, relative to a 1-message batch, in-process (`point_increase::connect` then
//! `.handle(SqsEvent)`), fresh results each time so that every message does the full work.

use std::time::Instant;

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::json;

use crate::fixtures::{result_recorded, runner};
use crate::lab::{Lab, Result};
use crate::stats::Summary;

#[derive(Debug)]
pub struct BatchTimes {
    /// Milliseconds per batch.
    pub single: Summary,
    pub ten: Summary,
    pub repetitions: usize,
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
    let function = point_increase::connect(&lab.sdk, &table, &topic).await;
    let runner = runner(lab, &table).await?;
    let run = async |size: usize| -> Result<f64> {
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
    run(1).await?;
    run(10).await?;
    let (mut single, mut ten) = (Vec::new(), Vec::new());
    for _ in 0..repetitions {
        single.push(run(1).await?);
        ten.push(run(10).await?);
    }
    match (Summary::of(&single), Summary::of(&ten)) {
        (Some(single), Some(ten)) => Ok(BatchTimes {
            single,
            ten,
            repetitions,
        }),
        _ => Err("no batch measured".into()),
    }
}
