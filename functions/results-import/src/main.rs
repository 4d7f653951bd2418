use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    infra::metrics::init("results-import");
    let function = results_import::bootstrap().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| function.handle(event))).await
}
