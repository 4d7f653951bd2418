//! The functions' SDK configuration (its own HTTPS client, retries, timeouts, sleep) against
//! the emulator: real requests through that configuration, not the SDK's default one.

use aws_sdk_dynamodb::config::Credentials;

#[tokio::test]
async fn the_functions_config_reaches_the_emulator() {
    let stack = local::Stack::shared();
    let sdk = infra::aws::lambda_config(
        Some(local::emulator::REGION.to_owned()),
        Some(stack.endpoint().to_owned()),
        Credentials::new(
            local::emulator::ACCESS_KEY_ID,
            local::emulator::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ),
    );
    let users = stack
        .provisioned()
        .physical_name("UsersTable")
        .expect("UsersTable in template.yaml")
        .to_owned();
    let tables = aws_sdk_dynamodb::Client::new(&sdk)
        .list_tables()
        .send()
        .await
        .expect("ListTables through the functions' configuration");
    assert!(
        tables.table_names().contains(&users),
        "{:?}",
        tables.table_names()
    );
    // a signed write and read back: region, credentials and clock all in use
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let missing = client
        .get_item()
        .table_name(&users)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("USER#none".into()),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()))
        .send()
        .await
        .expect("GetItem through the functions' configuration");
    assert!(missing.item().is_none());
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_dispatch_failure_after_retries() {
    // nothing listens on 127.0.0.1:9: the connect fails, the standard retries run on the
    // configured sleep (without one the SDK refuses to retry at all, a different error)
    let sdk = infra::aws::lambda_config(
        Some(local::emulator::REGION.to_owned()),
        Some("http://127.0.0.1:9".to_owned()),
        Credentials::new("a", "b", None, None, "test"),
    );
    let error = aws_sdk_dynamodb::Client::new(&sdk)
        .list_tables()
        .send()
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(error, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)),
        "{error:?}"
    );
}
