#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    infra::telemetry::init();
    let router = record_api::bootstrap().await?;
    lambda_http::run(router).await
}
