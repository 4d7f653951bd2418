//! Adapters and Lambda helpers shared by the functions: AWS clients, DynamoDB stores,
//! secrets, password hashing, tokens, HTTP problem+json, telemetry and the environment
//! reader (`config`).

pub mod aws;
pub mod batch;
pub mod config;
pub mod deadline;
pub mod dynamo;
pub mod http;
pub mod idempotency;
pub mod metrics;
pub mod passwords;
pub mod poison;
pub mod redrive;
#[cfg(feature = "s3")]
pub mod s3;
pub mod secrets;
pub mod site;
pub mod sns;
pub mod telemetry;
pub mod tokens;
pub mod web_tls;
