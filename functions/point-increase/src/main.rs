use lambda_runtime::{LambdaEvent, service_fn};

// One thread: a Lambda container serves one event at a time and gets at most about one vCPU
// (128 MB is a fraction of one); worker threads only cost init CPU (BENCHMARKS.md, lessons).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    infra::metrics::init("point-increase");
    let function = point_increase::bootstrap().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| function.handle(event.payload))).await
}
