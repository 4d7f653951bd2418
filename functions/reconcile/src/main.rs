use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra::telemetry::init();
    infra::metrics::init("reconcile");
    let function = reconcile::bootstrap().await?;
    let function = &function;
    // the EventBridge schedule's event says only when: every pass does the same
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        function.handle().await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
