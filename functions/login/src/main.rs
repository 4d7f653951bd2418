// One thread: a Lambda container serves one event at a time and gets at most about one vCPU
// (128 MB is a fraction of one); worker threads only cost init CPU (BENCHMARKS.md, lessons).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    infra::telemetry::init();
    let router = login::bootstrap().await?;
    lambda_http::run(router).await
}
