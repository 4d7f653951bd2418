#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    infra::metrics::init("log-mailer");
    let mailer = log_mailer::bootstrap().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| mailer.handle_any(event))).await
}
