//! The emulator's lifecycle and the stdin lifeline of the Python helpers (no mocks).

use std::io::BufRead;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use local::emulator::{repo_root, venv_dir};
use local::{Emulator, Error, moto_api};

#[test]
fn dropping_the_emulator_stops_it() {
    let emulator = Emulator::start(None).unwrap();
    let endpoint = emulator.endpoint().to_owned();
    let pid = emulator.pid();
    assert!(endpoint.starts_with("http://127.0.0.1:"));
    assert!(moto_api::is_answering(&endpoint, Duration::from_secs(2)));
    drop(emulator);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the launcher is gone"
    );
    assert!(!moto_api::is_answering(&endpoint, Duration::from_millis(200)));
}

#[test]
fn a_taken_port_is_reported() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    match Emulator::start(Some(port)) {
        Err(Error::EmulatorExited { output, .. }) => {
            assert!(
                output.contains(&format!("cannot listen on 127.0.0.1:{port}")),
                "{output}"
            )
        }
        other => panic!("expected EmulatorExited, got {other:?}"),
    }
}

/// The launcher's contract: it lives exactly as long as its stdin is open, so it dies
/// with whatever process spawned it, even one that crashed.
#[test]
fn the_launcher_exits_when_its_stdin_closes() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(venv_dir().join("bin/python"))
        .arg(repo_root().join("local/emulator.py"))
        .args(["--port", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("emulator ready on http://127.0.0.1:{port}"));

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the launcher still runs 10 s after stdin closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn a_missing_virtualenv_says_how_to_get_one() {
    let message = Error::ToolsMissing(venv_dir()).to_string();
    assert!(
        message.ends_with("run `make tools` (or `make test`) first"),
        "{message}"
    );
}

/// local/supervise.py (which runs `cargo lambda watch` for `mrmrthon-local dev`) stops
/// its command when its stdin closes, the same lifeline as the emulator's.
#[test]
fn the_supervisor_stops_its_command_when_its_stdin_closes() {
    let mut supervisor = Command::new(venv_dir().join("bin/python"))
        .arg(repo_root().join("local/supervise.py"))
        .args(["--", "sleep", "300"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = supervisor.id();
    let children = format!("/proc/{pid}/task/{pid}/children");
    let sleeper: u32 = wait_for(|| {
        std::fs::read_to_string(&children)
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse().ok())
    });

    drop(supervisor.stdin.take());
    let status = wait_for(|| supervisor.try_wait().unwrap());
    assert!(status.success(), "{status}");
    assert!(
        !Path::new(&format!("/proc/{sleeper}")).exists(),
        "the command is gone"
    );
}

/// Polls `probe` until it yields a value; fails the test after 10 s.
fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up after 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The random faults of `POST /_mrmrthon/faults` (`{"random": …}`): a seeded share of the
/// calls made with the named user agent is answered with throttling or a 5xx in each
/// protocol's own shape, before it is handled; other callers are left alone.
#[tokio::test]
async fn random_faults_answer_a_share_of_one_callers_calls_with_throttling_or_5xx() {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    use aws_sdk_dynamodb::types::{AttributeDefinition, AttributeValue, KeySchemaElement, KeyType};
    let emulator = Emulator::start(None).unwrap();
    let clean = local::sdk_config(emulator.endpoint());
    let faulty = clean
        .to_builder()
        .app_name(aws_config::AppName::new("faulty-caller").unwrap())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let dynamo = aws_sdk_dynamodb::Client::new(&clean);
    dynamo
        .create_table()
        .table_name("t")
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    moto_api::set_faults(
        emulator.endpoint(),
        &serde_json::json!({"random": {"share": 0.5, "seed": 3, "agent": "app/faulty-caller"}}),
    )
    .await
    .unwrap();

    let (faulty_dynamo, faulty_sns) = (
        aws_sdk_dynamodb::Client::new(&faulty),
        aws_sdk_sns::Client::new(&faulty),
    );
    let mut codes = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..40 {
        let got = faulty_dynamo
            .get_item()
            .table_name("t")
            .key("id", AttributeValue::S("x".into()))
            .send()
            .await;
        let code = got.map_or_else(|e| e.code().unwrap_or("?").to_owned(), |_| "ok".to_owned());
        *codes.entry(format!("dynamodb {code}")).or_default() += 1;
        let listed = faulty_sns.list_topics().send().await;
        let code = listed.map_or_else(|e| e.code().unwrap_or("?").to_owned(), |_| "ok".to_owned());
        *codes.entry(format!("sns {code}")).or_default() += 1;
        // the caller without that user agent is never faulted
        dynamo
            .get_item()
            .table_name("t")
            .key("id", AttributeValue::S("x".into()))
            .send()
            .await
            .unwrap();
    }
    for code in [
        "dynamodb ok",
        "dynamodb ProvisionedThroughputExceededException",
        "sns ok",
        "sns Throttling",
    ] {
        assert!(codes.contains_key(code), "{code} never seen: {codes:?}");
    }
    assert!(
        codes
            .keys()
            .any(|c| c.ends_with("InternalServerError") || c.ends_with("ServiceUnavailable")),
        "{codes:?}"
    );
    assert!(
        codes.keys().all(|c| c.ends_with(" ok")
            || [
                "ProvisionedThroughputExceededException",
                "Throttling",
                "InternalServerError",
                "InternalError",
                "ServiceUnavailable"
            ]
            .iter()
            .any(|known| c.ends_with(known))),
        "{codes:?}"
    );
    let counts = moto_api::fault_counts(emulator.endpoint()).await.unwrap();
    assert_eq!(counts["calls"]["dynamodb"], 40, "{counts}");
    assert_eq!(counts["calls"]["sns"], 40, "{counts}");
    let faulted: u64 = counts["faults"]["dynamodb"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(u64::from(40 - codes["dynamodb ok"]), faulted, "{counts}");
}

/// A 5xx answered after the request was handled (`"after"`): the write happened, the
/// caller saw a failure. TransactWriteItems stays idempotent by its ClientRequestToken, as
/// on AWS, so the SDK's retry of a transaction that succeeded succeeds without applying it
/// twice.
#[tokio::test]
async fn faults_after_handling_keep_the_write_and_transactions_stay_idempotent_by_token() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, KeySchemaElement, KeyType, Put, TransactWriteItem,
    };
    let emulator = Emulator::start(None).unwrap();
    let clean = local::sdk_config(emulator.endpoint());
    let dynamo = aws_sdk_dynamodb::Client::new(&clean);
    dynamo
        .create_table()
        .table_name("t")
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let put_new = |id: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name("t")
                    .item("id", AttributeValue::S(id.into()))
                    .condition_expression("attribute_not_exists(id)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let transact = |id: &str, token: &str| {
        dynamo
            .transact_write_items()
            .transact_items(put_new(id))
            .client_request_token(token)
            .send()
    };
    transact("a", "token-1").await.unwrap();
    transact("a", "token-1")
        .await
        .expect("the same token: the same success");
    assert!(
        transact("a", "token-2").await.is_err(),
        "a new token: the condition fails"
    );

    moto_api::set_faults(
        emulator.endpoint(),
        &serde_json::json!({"random": {"share": 1.0, "after": 1.0, "seed": 5, "agent": "app/faulty-caller"}}),
    )
    .await
    .unwrap();
    let faulty = clean
        .to_builder()
        .app_name(aws_config::AppName::new("faulty-caller").unwrap())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let faulty = aws_sdk_dynamodb::Client::new(&faulty);
    for i in 0..20 {
        let put = faulty
            .put_item()
            .table_name("t")
            .item("id", AttributeValue::S(format!("p{i}")))
            .send()
            .await;
        assert!(put.is_err(), "every call is faulted");
    }
    let counts = moto_api::fault_counts(emulator.endpoint()).await.unwrap();
    let after = ["500 after", "503 after"]
        .iter()
        .map(|k| counts["faults"]["dynamodb"][k].as_u64().unwrap_or(0))
        .sum::<u64>();
    let stored = dynamo.scan().table_name("t").send().await.unwrap().count() as u64;
    assert!(after > 0, "{counts}");
    // "a" and each write faulted after it was handled
    assert_eq!(stored, 1 + after, "{counts}");
}
