use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    let (publisher, poison) = official_record_stream::bootstrap().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        official_record_stream::handle(event.payload, &publisher, &poison)
    }))
    .await
}
