//! The outage of issue 14 on the local stack, wired by template.yaml: the points topic
//! (RecordEventsTopic) is deleted for 60 seconds while an organizer records a result. The
//! Races stream mapping keeps retrying the record (template.yaml bounds it by age, not by
//! a count), nothing reaches the on-failure queue, and once the topic is back the award is
//! made, once, with no one acting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::Role;
use local::http_client::HttpClient;
use local::{HopKind, InProcess, ServiceOptions, Services, Stack};
use mrmrthon_e2e::{Accounts, call, eventually, with_points_pipeline, with_record_api};
use serde_json::json;

/// The outage of the "done when": the old mapping (5 retries) gave up after ~31 s.
const OUTAGE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_result_recorded_while_the_points_topic_is_gone_is_awarded_once_it_is_back() {
    let stack = &Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let invoker = with_record_api(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;
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
    let (runner, runner_token) = accounts.user(Role::Runner).await;
    let total = async || {
        let (status, body) = call(
            &http,
            &api,
            http::Method::GET,
            &format!("/runners/{runner}/points"),
            &organizer,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["total"].as_i64().unwrap()
    };

    // raced today: results are recorded from race day on
    let date = time::OffsetDateTime::now_utc().date();
    let marathon = json!({
        "name": "Outage Marathon", "date": date.to_string(), "location": "Yeouido", "course": "full",
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
    let (status, body) = call(
        &http,
        &api,
        http::Method::POST,
        &format!("/marathons/{marathon}/entries"),
        &runner_token,
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // the topic goes away, with its subscription (as a redeploy would bring both back)
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic =
        provisioned.function_env("OfficialRecordStreamFunction").unwrap()["RECORD_EVENTS_TOPIC"].clone();
    let subscriptions = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let subscription = subscriptions
        .subscriptions()
        .first()
        .expect("PointIncreaseSubscription")
        .clone();
    let attributes = sns
        .get_subscription_attributes()
        .subscription_arn(subscription.subscription_arn().unwrap())
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    sns.delete_topic().topic_arn(&topic).send().await.unwrap();
    let gone = Instant::now();

    let (status, body) = call(
        &http,
        &api,
        http::Method::PUT,
        &format!("/marathons/{marathon}/results/{runner}"),
        &organizer,
        Some(json!({ "finish_time": "3:00:00" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // the stream keeps retrying for the whole outage: nothing is given up on
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let failures = provisioned.url("RecordStreamFailuresQueue").unwrap();
    let failed_attempts = || {
        services
            .hops
            .recent()
            .into_iter()
            .filter(|h| {
                h.kind == HopKind::Stream && h.target == "OfficialRecordStreamFunction" && !h.outcome.is_ok()
            })
            .count()
    };
    while gone.elapsed() < OUTAGE {
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(total().await, 0, "no topic, no award");
        let depth = sqs
            .get_queue_attributes()
            .queue_url(failures)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let depth = depth
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
            .cloned();
        assert_eq!(
            depth.as_deref(),
            Some("0"),
            "the record was given up on after {:?}",
            gone.elapsed()
        );
    }
    assert!(
        failed_attempts() > 5,
        "the outage was retried more than the old 5 times"
    );

    // the topic is back (same name, same ARN) with its subscription, as one redeploy: the
    // emulator keeps refusing publishes until both exist, or a retry landing between the
    // two would publish to a topic nobody listens to yet (reconciliation's case, not this one)
    local::moto_api::set_faults(stack.endpoint(), &json!({"sns": {"seconds": 30}}))
        .await
        .unwrap();
    let created = sns
        .create_topic()
        .name(topic.rsplit(':').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(created.topic_arn(), Some(topic.as_str()));
    let mut resubscribe = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol(subscription.protocol().unwrap())
        .endpoint(subscription.endpoint().unwrap());
    for name in ["RawMessageDelivery", "FilterPolicy"] {
        if let Some(value) = attributes.get(name) {
            resubscribe = resubscribe.attributes(name, value);
        }
    }
    resubscribe.send().await.unwrap();
    local::moto_api::set_faults(stack.endpoint(), &json!({"sns": null}))
        .await
        .unwrap();

    eventually("the award after the outage", async || {
        (total().await == 100).then_some(())
    })
    .await;
    // and exactly once: the ledger applied version 1 once, whatever the retries
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(total().await, 100);
    services.stop().await;
}
