//! The repository's template.yaml provisioned on a real emulator (no mocks).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::encoding::PublicKeyX509Der;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::KeyPair as _;
use aws_sdk_dynamodb::types::{KeyType, StreamViewType, TimeToLiveStatus};
use local::provision::{Options, PRIVATE_KEY_LABEL, PUBLIC_KEY_LABEL};
use local::stack::{STACK_NAME, provision_blocking, template_path};
use local::{Stack, pem};

#[tokio::test]
async fn provisioning_again_changes_nothing() {
    let stack = Stack::shared();
    let secrets = aws_sdk_secretsmanager::Client::new(&stack.sdk_config().await);
    let keys = stack
        .provisioned()
        .key_pair_secrets()
        .expect("the template declares a key pair");
    let private_before = secret(&secrets, &keys.private_key_secret).await;

    for _ in 0..2 {
        let again = provision_blocking(stack.endpoint(), &template_path(), Options::new(STACK_NAME))
            .expect("provisioning an already provisioned emulator succeeds");
        assert_eq!(&again, stack.provisioned());
    }
    // The key pair is generated once and then kept (tokens stay valid across runs).
    assert_eq!(secret(&secrets, &keys.private_key_secret).await, private_before);
}

#[tokio::test]
async fn tables_have_the_keys_stream_and_ttl_the_template_declares() {
    let stack = Stack::shared();
    let dynamodb = aws_sdk_dynamodb::Client::new(&stack.sdk_config().await);

    for (logical_id, stream) in [
        ("UsersTable", None),
        ("ActivityLogTable", Some(StreamViewType::NewImage)),
    ] {
        let name = stack.provisioned().physical_name(logical_id).unwrap();
        assert_eq!(name, format!("mrmrthon-{logical_id}"));
        let table = dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let keys: Vec<(&str, &KeyType)> = table
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name(), k.key_type()))
            .collect();
        assert_eq!(
            keys,
            [("pk", &KeyType::Hash), ("sk", &KeyType::Range)],
            "{logical_id}"
        );
        assert_eq!(
            table.stream_specification().and_then(|s| s.stream_view_type()),
            stream.as_ref(),
            "{logical_id}"
        );
        let resource = stack.provisioned().resource(logical_id).unwrap();
        assert_eq!(resource.arn.as_deref(), table.table_arn());
        assert_eq!(resource.stream_arn.as_deref(), table.latest_stream_arn());
        assert_eq!(resource.stream_arn.is_some(), stream.is_some());

        let ttl = dynamodb
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .unwrap()
            .time_to_live_description
            .unwrap();
        assert_eq!(
            ttl.time_to_live_status(),
            Some(&TimeToLiveStatus::Enabled),
            "{logical_id}"
        );
        assert_eq!(ttl.attribute_name(), Some("expires_at"), "{logical_id}");
    }
}

#[tokio::test]
async fn jwt_key_pair_secrets_hold_a_matching_rsa_pair() {
    let stack = Stack::shared();
    let keys = stack.provisioned().key_pair_secrets().unwrap();
    assert_eq!(keys.private_key_secret, "mrmrthon/jwt-signing-key");
    assert_eq!(keys.public_key_secret, "mrmrthon/jwt-verify-key");
    let secrets = aws_sdk_secretsmanager::Client::new(&stack.sdk_config().await);

    let (label, private_der) = pem::decode(&secret(&secrets, &keys.private_key_secret).await).unwrap();
    assert_eq!(label, PRIVATE_KEY_LABEL);
    let pair = KeyPair::from_pkcs8(&private_der).expect("a PKCS#8 RSA private key");
    assert_eq!(pair.public_modulus_len(), 256, "RSA 2048");

    let (label, public_der) = pem::decode(&secret(&secrets, &keys.public_key_secret).await).unwrap();
    assert_eq!(label, PUBLIC_KEY_LABEL);
    let derived: PublicKeyX509Der<'static> = pair.public_key().as_der().unwrap();
    assert_eq!(
        derived.as_ref(),
        public_der.as_slice(),
        "the public key belongs to the private key"
    );
}

#[test]
fn login_function_environment_is_resolved() {
    let provisioned = Stack::shared().provisioned();
    let env = provisioned.function_env("LoginFunction").unwrap();
    assert_eq!(
        env["USERS_TABLE"],
        provisioned.physical_name("UsersTable").unwrap()
    );
    assert_eq!(env["USERS_TABLE"], "mrmrthon-UsersTable");
    assert_eq!(env["ACTIVITY_TABLE"], "mrmrthon-ActivityLogTable");
    assert_eq!(env["SIGNING_KEY_SECRET"], "mrmrthon/jwt-signing-key");
    assert_eq!(env["LOCKOUT_SECONDS"], "900");
    assert_eq!(
        env["RUST_LOG"], "info",
        "Globals.Function.Environment applies too"
    );

    let login = provisioned.function("LoginFunction").unwrap();
    assert_eq!(login.binary.as_deref(), Some("login"));
    assert_eq!(login.code_uri.as_deref(), Some("functions/login"));
    assert!(
        login
            .events
            .iter()
            .any(|e| e.kind == "HttpApi" && e.properties["Path"] == "/auth/login")
    );
    assert!(provisioned.function_env("NoSuchFunction").is_err());
}

#[test]
fn resources_without_emulator_meaning_are_recorded_not_created() {
    let provisioned = Stack::shared().provisioned();
    let api = provisioned.resource("HttpApi").unwrap();
    assert!(!api.created);
    assert_eq!(api.physical_name, "mrmrthon-HttpApi");
}

async fn secret(client: &aws_sdk_secretsmanager::Client, name: &str) -> String {
    client
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("secret {name}: {e:?}"))
        .secret_string
        .unwrap()
}

/// `make dev` serves every function from one environment file: the template's
/// environments must agree wherever two functions name the same variable.
#[tokio::test]
async fn every_functions_environment_fits_in_make_devs_one_env_file() {
    let stack = Stack::shared();
    let env = local::dev::env_file::functions_env(stack.provisioned(), stack.endpoint())
        .unwrap_or_else(|e| panic!("make dev could not start: {e}"));
    for function in stack.provisioned().functions() {
        for (name, value) in &function.environment {
            assert_eq!(env.get(name), Some(value), "{}: {name}", function.logical_id);
        }
    }
}
