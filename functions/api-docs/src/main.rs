#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    infra::telemetry::init();
    lambda_http::run(api_docs::router()).await
}
