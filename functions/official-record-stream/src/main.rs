use lambda_runtime::{LambdaEvent, service_fn};

// One thread: a Lambda container serves one event at a time and gets at most about one vCPU
// (128 MB is a fraction of one); worker threads only cost init CPU (BENCHMARKS.md, lessons).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    let (publisher, poison) = official_record_stream::bootstrap().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        official_record_stream::handle(event.payload, &publisher, &poison)
    }))
    .await
}
