//! `mrmrthon-local status` against a real emulator provisioned from template.yaml: queue
//! roles and depths, table item counts, the pipeline's verdict and the last hops.

use local::dev::status::{Sources, report};
use local::stack::{STACK_NAME, template_path};
use local::{Emulator, Options, Template, provision, sdk_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_depths_counts_and_hops() {
    let emulator = tokio::task::spawn_blocking(|| Emulator::start(None))
        .await
        .unwrap()
        .expect("the emulator starts (run `make tools` first)");
    let template = Template::from_path(&template_path()).unwrap();
    let config = sdk_config(emulator.endpoint());
    let provisioned = provision(&config, &template, &Options::new(STACK_NAME))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("mrmrthon-status-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hops_file = dir.join("hops.txt");
    std::fs::write(
        &hops_file,
        "old hop\n12:00:00.000  http  RecordApiFunction  PUT -> 201  ok\n",
    )
    .unwrap();
    let sources = Sources {
        endpoint: emulator.endpoint(),
        running: None,
        hops_file: &hops_file,
        state_dir: &dir.join("state"),
        hops_shown: 1,
    };

    let quiet = report(&sources).await.unwrap();
    assert!(quiet.contains("make dev       not running"), "{quiet}");
    assert!(quiet.contains("pipeline       quiet: nothing waiting"), "{quiet}");
    assert!(quiet.contains("saved state    none"), "{quiet}");
    assert!(quiet.contains("RecordApiFunction  PUT -> 201"), "{quiet}");
    assert!(!quiet.contains("old hop"), "only the last hop: {quiet}");

    let sqs = aws_sdk_sqs::Client::new(&config);
    sqs.send_message()
        .queue_url(provisioned.url("PointIncreaseDLQ").unwrap())
        .message_body("{}")
        .send()
        .await
        .unwrap();
    aws_sdk_dynamodb::Client::new(&config)
        .put_item()
        .table_name(provisioned.physical_name("UsersTable").unwrap())
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S("USER#1".into()))
        .item("sk", aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()))
        .send()
        .await
        .unwrap();
    let text = report(&sources).await.unwrap();
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}: {text}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let dlq = row("mrmrthon-PointIncreaseDLQ");
    assert_eq!(dlq[1..5], ["dead-letter", "1", "0", "0"], "{text}");
    assert!(text.contains("make redrive QUEUE=PointIncreaseDLQ"), "{text}");
    assert_eq!(row("mrmrthon-PointIncreaseQueue")[1], "work", "{text}");
    assert_eq!(
        row("mrmrthon-RecordStreamFailuresQueue")[1],
        "on-failure",
        "{text}"
    );
    assert_eq!(row("mrmrthon-UsersTable")[1], "1", "{text}");
    assert_eq!(row("mrmrthon-RacesTable")[1], "0", "{text}");
    assert!(text.contains("quiet, but 1 message(s) wait"), "{text}");

    sqs.send_message()
        .queue_url(provisioned.url("PointIncreaseQueue").unwrap())
        .message_body("{}")
        .send()
        .await
        .unwrap();
    let busy = report(&sources).await.unwrap();
    assert!(busy.contains("busy: 1 message(s) on work queues"), "{busy}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn status_without_an_emulator_says_so() {
    let dir = std::env::temp_dir().join(format!("mrmrthon-status-none-{}", std::process::id()));
    // Port 1 on loopback: nothing listens there.
    let text = report(&Sources {
        endpoint: "http://127.0.0.1:1",
        running: None,
        hops_file: &dir.join("hops.txt"),
        state_dir: &dir,
        hops_shown: 5,
    })
    .await
    .unwrap();
    assert!(text.contains("does not answer"), "{text}");
    assert!(text.contains("last hops      none recorded"), "{text}");
}
