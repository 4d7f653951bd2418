//! The functions' SDK configuration (its own HTTPS client and trust store) against the
//! emulator: a real request through that client, not the SDK's default one.

use aws_sdk_dynamodb::config::{Credentials, Region};

#[tokio::test]
async fn the_functions_http_client_reaches_the_emulator() {
    let stack = local::Stack::shared();
    let sdk = infra::aws::config_loader()
        .endpoint_url(stack.endpoint())
        .region(Region::new(local::emulator::REGION))
        .credentials_provider(Credentials::new(
            local::emulator::ACCESS_KEY_ID,
            local::emulator::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let users = stack
        .provisioned()
        .physical_name("UsersTable")
        .expect("UsersTable in template.yaml")
        .to_owned();
    let tables = aws_sdk_dynamodb::Client::new(&sdk)
        .list_tables()
        .send()
        .await
        .expect("ListTables through the functions' client");
    assert!(
        tables.table_names().contains(&users),
        "{:?}",
        tables.table_names()
    );
}
