// One thread: a Lambda container serves one event at a time and gets at most about one vCPU
// (128 MB is a fraction of one); worker threads only cost init CPU (BENCHMARKS.md, lessons).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    infra::telemetry::init();
    infra::metrics::init("record-api");
    let router = record_api::bootstrap().await?;
    lambda_http::run(infra::metrics::flushed_per_request(router)).await
}
