// One thread: a Lambda container serves one event at a time and gets at most about one vCPU
// (128 MB is a fraction of one); worker threads only cost init CPU (BENCHMARKS.md, lessons).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    infra::metrics::init("log-mailer");
    let mailer = log_mailer::bootstrap().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| mailer.handle_any(event))).await
}
