use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    infra::metrics::init("results-import");
    let function = &results_import::bootstrap().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| async move {
        // a failed run fails the invocation: S3's asynchronous invoke retries it
        function.handle(event).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
