//! Adapters and Lambda helpers shared by the functions: AWS clients, DynamoDB stores,
//! secrets, password hashing, tokens, HTTP problem+json and telemetry.

pub mod aws;
pub mod batch;
pub mod deadline;
pub mod dynamo;
pub mod http;
pub mod idempotency;
pub mod passwords;
pub mod redrive;
pub mod secrets;
pub mod sns;
pub mod telemetry;
pub mod tokens;
pub mod web_tls;
