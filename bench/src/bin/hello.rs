//! The yardstick for cold init: a hello-world `lambda_runtime` function. It makes no calls
//! and loads nothing; it answers every event with a greeting.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn hello(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "message": "hello", "request_id": event.context.request_id }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(hello)).await
}
