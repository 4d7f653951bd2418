#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    infra::telemetry::init();
    infra::metrics::init("record-api");
    let router = record_api::bootstrap().await?;
    lambda_http::run(infra::metrics::flushed_per_request(router)).await
}
