use lambda_runtime::service_fn;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    infra::metrics::init("discord-webhook");
    let notifier = discord_webhook::bootstrap().await?;
    lambda_runtime::run(service_fn(|event| notifier.handle(event))).await
}
