//! results-import: the bulk results import (issue 16). Triggered by the imports bucket:
//! an uploaded file (`imports/<marathon>/<import>.csv`) gets its dry run (every row
//! validated against the roster, what would change counted, nothing written to results);
//! a commit marker (`imports/<marathon>/<import>.commit`, written by record-api's commit
//! route, or by this function to continue past its deadline) applies the validated file.
//!
//! `file` reads the CSV; `run` holds the dry run and the commit; `config` init.

pub mod config;
pub mod file;
pub mod run;

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::s3::S3Event;
use domain::events::PointsEvent;
use domain::import::{ImportObject, parse_object_key};
use infra::dynamo::{ActivityLog, DynamoImports, DynamoRaces};
use infra::s3::ImportFiles;
use infra::sns::SnsPublisher;
use lambda_runtime::LambdaEvent;
use tokio::time::Instant;

pub use run::Importer;

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Config(#[from] infra::config::ConfigError),
}

pub async fn bootstrap() -> Result<Importer, BootError> {
    let settings = config::Settings::from_env()?;
    let sdk = infra::aws::load_config().await;
    Ok(connect(&sdk, &settings))
}

pub fn connect(sdk: &aws_config::SdkConfig, settings: &config::Settings) -> Importer {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let activity = ActivityLog {
        table: settings.activity_table.clone(),
        retention: settings.activity_retention,
    };
    Importer {
        races: Arc::new(DynamoRaces::new(dynamo.clone(), &settings.races_table, activity)),
        imports: Arc::new(DynamoImports::new(dynamo, &settings.races_table)),
        files: ImportFiles::new(aws_sdk_s3::Client::new(sdk), &settings.bucket),
        publisher: Arc::new(SnsPublisher::<PointsEvent>::new(
            aws_sdk_sns::Client::new(sdk),
            &settings.topic,
        )),
        clock: Arc::new(domain::SystemClock),
        concurrency: run::CONCURRENCY,
    }
}

/// S3 writes keys URL-encoded in its events ("+" for a space); ours never need it, but a
/// key is read as S3 means it.
fn object_key(raw: &str) -> String {
    let raw = raw.replace('+', " ");
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = raw.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Importer {
    /// The Lambda entry point: each object the event names, in order. An error fails the
    /// invocation, which Lambda retries (S3 invokes asynchronously); every step is safe
    /// to repeat.
    pub async fn handle(&self, event: LambdaEvent<S3Event>) -> Result<(), run::RunError> {
        let left = infra::deadline::time_left(event.context.deadline, time::OffsetDateTime::now_utc())
            .unwrap_or(Duration::from_secs(60));
        let result = self.objects(event.payload, Instant::now() + left).await;
        infra::metrics::flush();
        result
    }

    /// The objects of an event, with an explicit deadline (in-process invokers and tests).
    pub async fn objects(&self, event: S3Event, deadline: Instant) -> Result<(), run::RunError> {
        for record in event.records {
            let Some(raw) = record.s3.object.key.as_deref() else {
                continue;
            };
            let key = object_key(raw);
            match parse_object_key(&key) {
                Some((marathon, import, ImportObject::File)) => self.dry_run(&marathon, &import).await?,
                Some((marathon, import, ImportObject::Commit)) => {
                    self.commit(&marathon, &import, deadline).await?
                }
                None => tracing::warn!(key, "not an import's object: ignored"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_url_decoded() {
        assert_eq!(object_key("imports/a/b.csv"), "imports/a/b.csv");
        assert_eq!(object_key("imports/a+b/%41.csv"), "imports/a b/A.csv");
        assert_eq!(object_key("100%"), "100%");
    }
}
