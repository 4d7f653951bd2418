//! Reconciliation on the local stack, wired by template.yaml, the functions in-process:
//! a result and a removal whose events were lost (the Races stream's records consumed
//! but nothing published, as a record that aged out of the stream or a discarded
//! on-failure pointer leaves things) are repaired by one reconcile pass through the
//! normal path (record-events -> point-increase): the totals become right, once, and the
//! next pass repairs nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use domain::{Role, UserId};
use local::http_client::HttpClient;
use local::{InProcess, ServiceOptions, Services, Stack};
use mrmrthon_e2e::{Accounts, call, eventually, with_points_pipeline, with_record_api};
use reconcile::Report;
use serde_json::{Value, json};

#[tokio::test]
async fn results_and_removals_whose_events_were_lost_are_repaired_by_one_pass_once() {
    let stack = &Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let invoker = with_record_api(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;

    // official-record-stream, which loses every event while `lose` is set: the record is
    // taken off the stream, nothing reaches the topic
    let env = provisioned.function_env("OfficialRecordStreamFunction").unwrap();
    let publisher = Arc::new(infra::sns::SnsPublisher::new(
        aws_sdk_sns::Client::new(&sdk),
        env["RECORD_EVENTS_TOPIC"].clone(),
    ));
    let poison = Arc::new(infra::poison::PoisonQueue::new(
        aws_sdk_sqs::Client::new(&sdk),
        env["RECORD_STREAM_FAILURES_QUEUE_URL"].clone(),
        "OfficialRecordStreamFunction",
    ));
    let (lose, lost) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let invoker = invoker.with("OfficialRecordStreamFunction", {
        let (lose, lost) = (lose.clone(), lost.clone());
        move |event: Value| {
            let (publisher, poison) = (publisher.clone(), poison.clone());
            let (lose, lost) = (lose.clone(), lost.clone());
            async move {
                if lose.load(Ordering::SeqCst) {
                    let records = event["Records"].as_array().map_or(0, Vec::len);
                    lost.fetch_add(records, Ordering::SeqCst);
                    return Ok(json!({ "batchItemFailures": [] }));
                }
                let event = serde_json::from_value(event)?;
                let response =
                    official_record_stream::handle(event, publisher.as_ref(), poison.as_ref()).await?;
                Ok(serde_json::to_value(response)?)
            }
        }
    });
    let services = Services::start(
        stack.endpoint(),
        provisioned,
        Arc::new(invoker),
        ServiceOptions::for_tests(None),
    )
    .await
    .expect("the local stack's services start");
    let (http, api) = (HttpClient::new(), services.api_url().unwrap());

    let accounts = Accounts::connect(provisioned, &sdk).await;
    let (_, organizer) = accounts.user(Role::Organizer).await;
    let (kept, kept_token) = accounts.user(Role::Runner).await;
    let (lost_runner, lost_token) = accounts.user(Role::Runner).await;
    let total = async |runner: &UserId| {
        let path = format!("/runners/{runner}/points");
        let (status, body) = call(&http, &api, http::Method::GET, &path, &organizer, None).await;
        assert_eq!(status, 200, "{body}");
        body["total"].as_i64().unwrap()
    };

    let date = time::OffsetDateTime::now_utc().date();
    let marathon = json!({
        "name": "Reconcile Marathon", "date": date.to_string(), "location": "Yeouido", "course": "full",
        "points": 100, "capacity": 10, "registration_closes_at": format!("{date}T23:59:59Z"),
    });
    let (status, created) = call(
        &http,
        &api,
        http::Method::POST,
        "/marathons",
        &organizer,
        Some(marathon),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let marathon = created["id"].as_str().unwrap().to_owned();
    for token in [&kept_token, &lost_token] {
        let path = format!("/marathons/{marathon}/entries");
        let (status, body) = call(&http, &api, http::Method::POST, &path, token, None).await;
        assert_eq!(status, 201, "{body}");
    }
    let result = |runner: &UserId| format!("/marathons/{marathon}/results/{runner}");
    let finish = Some(json!({ "finish_time": "3:00:00" }));

    // the normal path
    let (status, body) = call(
        &http,
        &api,
        http::Method::PUT,
        &result(&kept),
        &organizer,
        finish.clone(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    eventually("the normal award", async || {
        (total(&kept).await == 100).then_some(())
    })
    .await;

    // a result and a removal whose events are lost
    lose.store(true, Ordering::SeqCst);
    let (status, body) = call(
        &http,
        &api,
        http::Method::PUT,
        &result(&lost_runner),
        &organizer,
        finish,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        &http,
        &api,
        http::Method::DELETE,
        &result(&kept),
        &organizer,
        None,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    // the recording, the deletion's correlation stamp and the removal
    eventually("the stream's records consumed", async || {
        (lost.load(Ordering::SeqCst) >= 3).then_some(())
    })
    .await;
    lose.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((total(&kept).await, total(&lost_runner).await), (100, 0), "lost");

    // no grace: the markers are seconds old here
    let env = provisioned.function_env("ReconcileFunction").unwrap();
    let settings = reconcile::config::Settings::from_lookup(|name| match name {
        "GRACE_SECONDS" => Some("0".into()),
        _ => env.get(name).cloned(),
    })
    .unwrap();
    let function = reconcile::connect(&sdk, &settings);
    let report = function.handle().await.unwrap();
    assert_eq!(
        report,
        Report {
            checked: 2,
            repaired: 2,
            acknowledged: 0
        },
        "the lost result and the lost removal; the normal recording was deleted with its marker"
    );
    eventually("the repaired totals", async || {
        (total(&kept).await == 0 && total(&lost_runner).await == 100).then_some(())
    })
    .await;

    // both are in the ledger now: the next pass only takes them out of the index
    let report = function.handle().await.unwrap();
    assert_eq!(
        report,
        Report {
            checked: 2,
            repaired: 0,
            acknowledged: 2
        }
    );
    assert_eq!(
        function.handle().await.unwrap(),
        Report::default(),
        "the index is empty"
    );
    // and once: nothing more arrives
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((total(&kept).await, total(&lost_runner).await), (0, 100));
    services.stop().await;
}
