use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    let (eraser, poison) = account_erasure::bootstrap().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        account_erasure::handle(event.payload, &eraser, &poison)
    }))
    .await
}
