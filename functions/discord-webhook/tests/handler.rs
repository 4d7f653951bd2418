//! Handler tests: the sample events in events/discord-webhook/ through the real handler,
//! posting to a stand-in Discord on 127.0.0.1, with the idempotency records in the local
//! emulator's table (started by the test).

mod common;

use std::time::Duration;

use common::*;
use discord_webhook::Outcome;
use discord_webhook::config::CLAIM_FOR;
use infra::batch::ItemError;
use lambda_runtime::{Context, LambdaEvent};

#[tokio::test]
async fn one_award_is_posted_once_with_its_embed() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let event = fresh("points-awarded.json");

    let response = notifier.process(event, deadline_in(20)).await.unwrap();

    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let posts = discord.received();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert!(post.accepted());
    assert_eq!(post.path, format!("/api/webhooks/1234567890/{TOKEN}"));
    assert_eq!(post.correlation_id.as_deref(), Some("c-01JDQ9A0REQ"));
    assert_eq!(post.body["allowed_mentions"], serde_json::json!({"parse": []}));
    let embed = &post.body["embeds"][0];
    let fields: Vec<(&str, &str)> = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("Runner", "김민수"),
            ("Marathon", "서울 마라톤 2026"),
            ("Points", "+110"),
            ("New total", "1210"),
        ]
    );
    assert_eq!(embed["timestamp"], "2026-11-21T10:15:00Z");
    assert!(post.body["content"].as_str().unwrap().contains("김민수"));
}

#[tokio::test]
async fn the_lambda_entry_point_uses_the_context_deadline() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;

    let mut context = Context::default();
    context.deadline = now_ms + 20_000;
    let event = fresh("points-awarded.json");
    let response = notifier
        .handle(LambdaEvent::new(event, context.clone()))
        .await
        .unwrap();
    assert!(failed_ids(&response).is_empty());
    assert_eq!(discord.accepted().len(), 1);

    // an invocation already out of time posts nothing and leaves the message to SQS
    context.deadline = now_ms.saturating_sub(1_000);
    let late = fresh("points-awarded.json");
    let id = late.records[0].message_id.clone().unwrap();
    let response = notifier.handle(LambdaEvent::new(late, context)).await.unwrap();
    assert_eq!(failed_ids(&response), [id]);
    assert_eq!(discord.received().len(), 1);
    let message = fresh("points-awarded.json").records.remove(0);
    let delivery = notifier.deliver(&message, tokio::time::Instant::now()).await;
    assert_eq!(delivery.outcome, Outcome::OutOfTime);
    assert!(matches!(delivery.result, Err(ItemError::Retryable(_))));
    assert_eq!(discord.received().len(), 1);
}

#[tokio::test]
async fn the_same_award_delivered_three_times_in_sequence_posts_once() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let message = fresh("points-awarded.json").records.remove(0);

    for _ in 0..3 {
        let response = notifier
            .process(batch(vec![redelivered(&message)]), deadline_in(20))
            .await
            .unwrap();
        assert!(failed_ids(&response).is_empty(), "{response:?}");
    }
    let duplicate = notifier.deliver(&redelivered(&message), deadline_in(20)).await;
    assert_eq!(duplicate.outcome, Outcome::Duplicate);
    assert_eq!(duplicate.result, Ok(()));
    assert_eq!(discord.received().len(), 1);
}

#[tokio::test]
async fn the_same_award_delivered_three_times_concurrently_posts_once() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;

    // three invocations at once, one copy each
    let message = fresh("points-awarded.json").records.remove(0);
    let copies: Vec<_> = (0..3).map(|_| redelivered(&message)).collect();
    let (a, b, c) = tokio::join!(
        notifier.process(batch(vec![copies[0].clone()]), deadline_in(20)),
        notifier.process(batch(vec![copies[1].clone()]), deadline_in(20)),
        notifier.process(batch(vec![copies[2].clone()]), deadline_in(20)),
    );
    let failed: Vec<String> = [a, b, c]
        .iter()
        .flat_map(|r| failed_ids(r.as_ref().unwrap()))
        .collect();
    assert!(failed.len() <= 2, "one of them must have posted: {failed:?}");
    // SQS redelivers the ones that found the award in progress: now already done
    let again: Vec<_> = copies
        .iter()
        .filter(|m| failed.contains(m.message_id.as_ref().unwrap()))
        .map(redelivered)
        .collect();
    let response = notifier.process(batch(again), deadline_in(20)).await.unwrap();
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    assert_eq!(discord.received().len(), 1);

    // three copies in one batch, handled concurrently by one invocation
    let other = fresh("points-awarded.json").records.remove(0);
    let copies: Vec<_> = (0..3).map(|_| redelivered(&other)).collect();
    let response = notifier
        .process(batch(copies.clone()), deadline_in(20))
        .await
        .unwrap();
    let failed = failed_ids(&response);
    assert!(failed.len() <= 2, "{failed:?}");
    let again: Vec<_> = copies
        .iter()
        .filter(|m| failed.contains(m.message_id.as_ref().unwrap()))
        .map(redelivered)
        .collect();
    for message in &again {
        let delivery = notifier.deliver(message, deadline_in(20)).await;
        assert_eq!(delivery.outcome, Outcome::Duplicate);
    }
    assert_eq!(discord.received().len(), 2);
}

#[tokio::test]
async fn a_short_rate_limit_is_waited_out_then_posted_once() {
    let discord = Discord::start();
    discord.script([Reply::RateLimited(0.2), Reply::Status(204)]);
    let notifier = notifier(&discord.url()).await;
    let message = fresh("points-awarded.json").records.remove(0);

    let delivery = notifier.deliver(&message, deadline_in(20)).await;

    assert_eq!(delivery.outcome, Outcome::Posted, "{delivery:?}");
    let received = discord.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].reply, Reply::RateLimited(0.2));
    assert_eq!(discord.accepted().len(), 1);
    let gap = received[1].at - received[0].at;
    assert!(
        gap >= Duration::from_millis(200),
        "the retry came {gap:?} after the 429"
    );
}

#[tokio::test]
async fn a_rate_limit_beyond_the_time_left_fails_the_item_without_waiting() {
    let discord = Discord::start();
    discord.script([Reply::RateLimited(60.0)]);
    let notifier = notifier(&discord.url()).await;
    let message = fresh("points-awarded.json").records.remove(0);

    let started = std::time::Instant::now();
    let delivery = notifier.deliver(&message, deadline_in(20)).await;

    assert_eq!(delivery.outcome, Outcome::RateLimited);
    assert!(
        matches!(delivery.result, Err(ItemError::Retryable(_))),
        "{delivery:?}"
    );
    // it gave up at once instead of sleeping towards the deadline
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(discord.received().len(), 1);

    // the rate limit holds back the container's next posts too, without a request
    let other = fresh("points-awarded.json").records.remove(0);
    let delivery = notifier.deliver(&other, deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::RateLimited);
    assert_eq!(discord.received().len(), 1);

    // the claim was released: a later delivery (another container) posts it
    let fresh_container = common::notifier(&discord.url()).await;
    let delivery = fresh_container
        .deliver(&redelivered(&message), deadline_in(20))
        .await;
    assert_eq!(delivery.outcome, Outcome::Posted, "{delivery:?}");
    assert_eq!(discord.accepted().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_given_back_to_sqs() {
    let discord = Discord::start();
    discord.script([Reply::Status(500), Reply::Status(204)]);
    let notifier = notifier(&discord.url()).await;
    let message = fresh("points-awarded.json").records.remove(0);

    let delivery = notifier.deliver(&message, deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::Posted, "{delivery:?}");
    let received = discord.received();
    assert_eq!(received.len(), 2);
    assert!(received[1].at - received[0].at >= common::test_policy().backoff);

    // three in a row: one try and two retries, then SQS gets it back
    discord.script([Reply::Status(502), Reply::Status(503), Reply::Status(500)]);
    let other = fresh("points-awarded.json").records.remove(0);
    let delivery = notifier.deliver(&other, deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::Unavailable);
    match &delivery.result {
        Err(ItemError::Retryable(reason)) => assert!(reason.contains("3 attempts"), "{reason}"),
        other => panic!("expected a retryable failure, got {other:?}"),
    }
    assert_eq!(discord.received().len(), 5);
    // released: the redelivery posts
    let delivery = notifier.deliver(&redelivered(&other), deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::Posted);
    assert_eq!(discord.accepted().len(), 2);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let discord = Discord::start();
    discord.script([Reply::Hang, Reply::Status(204)]);
    let notifier = notifier(&discord.url()).await;
    let message = fresh("points-awarded.json").records.remove(0);

    let delivery = notifier.deliver(&message, deadline_in(20)).await;

    assert_eq!(delivery.outcome, Outcome::Posted, "{delivery:?}");
    let received = discord.received();
    assert_eq!(received.len(), 2);
    assert!(received[1].at - received[0].at >= common::test_policy().request_timeout);
}

#[tokio::test]
async fn a_connection_error_is_retried_then_given_back_to_sqs() {
    // a port nobody listens on
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/webhooks/1/{TOKEN}", closed.local_addr().unwrap());
    drop(closed);
    let notifier = notifier(&url).await;
    let message = fresh("points-awarded.json").records.remove(0);

    let delivery = notifier.deliver(&message, deadline_in(20)).await;

    assert_eq!(delivery.outcome, Outcome::Unavailable);
    match &delivery.result {
        Err(ItemError::Retryable(reason)) => {
            assert!(reason.contains("cannot connect"), "{reason}");
            assert!(reason.contains("3 attempts"), "{reason}");
            assert!(!reason.contains(TOKEN), "{reason}");
        }
        other => panic!("expected a retryable failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_400_is_poison_and_not_retried_in_the_invocation() {
    let discord = Discord::start();
    discord.script([Reply::Status(400)]);
    let notifier = notifier(&discord.url()).await;
    let event = fresh("points-awarded.json");
    let message = event.records[0].clone();

    let delivery = notifier.deliver(&message, deadline_in(20)).await;

    assert_eq!(delivery.outcome, Outcome::Rejected);
    match &delivery.result {
        Err(ItemError::Poison(reason)) => assert!(reason.contains("HTTP 400"), "{reason}"),
        other => panic!("expected poison, got {other:?}"),
    }
    assert_eq!(discord.received().len(), 1, "no retry within the invocation");
    // Not remembered: a 4xx posted nothing, so SQS's own retries (up to maxReceiveCount)
    // and a redrive after a fix may post it; here the webhook accepts it the next time.
    let delivery = notifier.deliver(&redelivered(&message), deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::Posted);
    assert_eq!(discord.accepted().len(), 1);
}

#[tokio::test]
async fn a_poison_body_in_a_batch_of_ten_fails_only_itself() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let event = fresh("batch-with-poison.json");
    assert_eq!(event.records.len(), 10);
    let poison: Vec<String> = event
        .records
        .iter()
        .filter(|m| {
            domain::events::Envelope::<domain::events::PointsEvent>::parse(m.body.as_deref().unwrap())
                .is_err()
        })
        .map(|m| m.message_id.clone().unwrap())
        .collect();
    assert_eq!(poison.len(), 1, "the sample has one poison message");

    let response = notifier.process(event, deadline_in(20)).await.unwrap();

    assert_eq!(failed_ids(&response), poison);
    assert_eq!(discord.accepted().len(), 9);
    assert_eq!(discord.received().len(), 9);
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["batchItemFailures"][0]["itemIdentifier"], poison[0].as_str());
    // user text never mentions anyone: the sample has a runner called "@everyone"
    let posts = discord.received();
    assert!(
        posts
            .iter()
            .all(|p| p.body["allowed_mentions"] == serde_json::json!({"parse": []}))
    );
    let everyone = posts
        .iter()
        .find(|p| p.body["embeds"][0]["fields"][0]["value"] == r"\@everyone")
        .expect("the @everyone runner was posted, escaped");
    assert!(
        everyone.body["content"]
            .as_str()
            .unwrap()
            .contains(r"**\@everyone**")
    );
    // the deduction in the sample keeps its sign
    assert!(
        discord
            .received()
            .iter()
            .any(|p| p.body["embeds"][0]["fields"][2]["value"] == "-20")
    );
}

#[tokio::test]
async fn other_types_schemas_and_garbage_are_poison_without_a_post() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let message = fresh("points-awarded.json").records.remove(0);

    let mut cases = vec![
        (
            "another type",
            with_envelope(&message, |e| {
                e["type"] = "result.recorded".into();
                e["data"] = serde_json::json!({
                    "result_id": "m.r", "marathon_id": "01JDQ8Y2B4D6F8H0J2K4M6P8R0", "marathon_name": "x",
                    "runner_id": "01JDQ8ZKX3R5T7V9W1Y3Z5A7C0", "runner_name": "y", "points": 1, "version": 1
                });
            }),
        ),
        ("schema 2", with_envelope(&message, |e| e["schema"] = 2.into())),
        (
            "missing field",
            with_envelope(&message, |e| {
                e["data"].as_object_mut().unwrap().remove("total");
            }),
        ),
        (
            "unknown type",
            with_envelope(&message, |e| e["type"] = "points.exploded".into()),
        ),
    ];
    let mut garbage = redelivered(&message);
    garbage.body = Some("not json".into());
    cases.push(("garbage", garbage));
    let mut empty = redelivered(&message);
    empty.body = None;
    cases.push(("no body", empty));

    for (case, message) in &cases {
        let delivery = notifier.deliver(message, deadline_in(20)).await;
        assert_eq!(delivery.outcome, Outcome::Poison, "{case}");
        assert!(
            matches!(delivery.result, Err(ItemError::Poison(_))),
            "{case}: {delivery:?}"
        );
    }
    assert!(discord.received().is_empty());
    // the correlation id is kept for the log line whenever the envelope could be read
    let delivery = notifier.deliver(&cases[0].1, deadline_in(20)).await;
    assert_eq!(delivery.correlation_id.as_deref(), Some("c-01JDQ9A0REQ"));
}

#[tokio::test]
async fn claims_outlive_the_function_timeout_in_the_template() {
    let function = local::Stack::shared()
        .provisioned()
        .function("DiscordWebhookFunction")
        .expect("template.yaml declares DiscordWebhookFunction")
        .clone();
    let timeout = time::Duration::try_from(function.timeout).unwrap();
    // a live holder's claim never expires under it...
    assert!(CLAIM_FOR > timeout, "{CLAIM_FOR} vs {timeout}");
    // ...and the retry policy keeps its margin inside the timeout
    let policy = discord_webhook::RetryPolicy::default();
    assert!(policy.margin + policy.request_timeout < function.timeout);
    let env = &function.environment;
    assert!(env.contains_key("DISCORD_WEBHOOK_SECRET"));
    assert!(env.contains_key("IDEMPOTENCY_TABLE"));
    // the NotificationLanguage parameter's default reaches the function
    assert_eq!(env.get("NOTIFICATION_LANGUAGE").map(String::as_str), Some("ko"));
    // the site the posts link to: locally make dev's gateway (mrmrthon::local.Parameters)
    assert_eq!(
        env.get("SITE_URL").map(String::as_str),
        Some("http://127.0.0.1:3000")
    );
}

#[tokio::test]
async fn an_award_being_posted_by_another_delivery_is_left_for_a_retry() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let message = fresh("points-awarded.json").records.remove(0);
    let envelope: serde_json::Value = serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
    let key = format!(
        "discord#{}#{}",
        envelope["data"]["result_id"].as_str().unwrap(),
        envelope["data"]["result_version"]
    );
    // another invocation holds the claim right now
    let other = idempotency().await;
    assert_eq!(
        other.claim(&key, time::OffsetDateTime::now_utc()).await.unwrap(),
        infra::idempotency::Claim::Claimed
    );

    let delivery = notifier.deliver(&message, deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::InProgress);
    assert!(
        matches!(delivery.result, Err(ItemError::Retryable(_))),
        "{delivery:?}"
    );
    assert!(discord.received().is_empty());

    // the holder failed and gave it back: the redelivery posts
    other.release(&key).await.unwrap();
    let delivery = notifier.deliver(&redelivered(&message), deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::Posted);
    assert_eq!(discord.accepted().len(), 1);
}

#[tokio::test]
async fn a_korean_deployment_posts_in_korean_and_stamps_its_record_with_the_injected_clock() {
    let discord = Discord::start();
    let at = time::macros::datetime!(2031-03-01 09:00 UTC);
    let clock = std::sync::Arc::new(domain::memory::ManualClock::new(at));
    // with the site the template gives the function, as its init reads it
    let env = local::Stack::shared()
        .provisioned()
        .function_env("DiscordWebhookFunction")
        .unwrap();
    let settings = discord_webhook::Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let notifier = notifier_with(&discord.url(), clock, domain::greeting::Language::Korean)
        .await
        .with_site(settings.site);
    let event = fresh("points-awarded.json");
    let envelope: serde_json::Value =
        serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    let key = format!(
        "discord#{}#{}",
        envelope["data"]["result_id"].as_str().unwrap(),
        envelope["data"]["result_version"]
    );

    let response = notifier.process(event, deadline_in(20)).await.unwrap();

    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let posts = discord.received();
    assert_eq!(posts.len(), 1);
    let embed = &posts[0].body["embeds"][0];
    assert_eq!(embed["title"], "포인트 적립");
    assert_eq!(embed["fields"][0]["name"], "러너");
    assert!(posts[0].body["content"].as_str().unwrap().contains("누적"));
    let result_page = format!(
        "http://127.0.0.1:3000/marathons/{}/results/{}",
        envelope["data"]["marathon_id"].as_str().unwrap(),
        envelope["data"]["runner_id"].as_str().unwrap()
    );
    assert_eq!(embed["url"], result_page.as_str());
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("[기록 보기]({result_page})")),
        "{embed}"
    );
    // the record's expiry counts from the notifier's clock, not the wall clock
    let stack = local::Stack::shared();
    let table = stack
        .provisioned()
        .physical_name("IdempotencyTable")
        .unwrap()
        .to_owned();
    let item = aws_sdk_dynamodb::Client::new(&stack.sdk_config().await)
        .get_item()
        .table_name(table)
        .key("id", aws_sdk_dynamodb::types::AttributeValue::S(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the post is recorded");
    let expires = (at + discord_webhook::config::KEEP_FOR)
        .unix_timestamp()
        .to_string();
    assert_eq!(item["expires_at"].as_n().unwrap(), &expires);
}

#[tokio::test]
async fn an_imported_award_is_not_posted_and_the_import_summary_is_posted_once() {
    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let award = with_envelope(&fresh("points-awarded.json").records.remove(0), |e| {
        e["data"]["import_id"] = "01JDQ9AZIMPORT0000000000000".into();
    });
    let delivery = notifier.deliver(&award, deadline_in(20)).await;
    assert_eq!(delivery.outcome, Outcome::Imported);
    assert_eq!(delivery.result, Ok(()));
    assert!(
        discord.received().is_empty(),
        "an imported award is told by the summary"
    );

    // a fresh import id (the idempotency table outlives a test run)
    let sample = fresh("results-imported.json").records.remove(0);
    let import_id = sample.message_id.clone().unwrap();
    let summary = with_envelope(&sample, |e| e["data"]["import_id"] = import_id.into());
    for _ in 0..2 {
        let response = notifier
            .process(batch(vec![redelivered(&summary)]), deadline_in(20))
            .await
            .unwrap();
        assert!(failed_ids(&response).is_empty(), "{response:?}");
    }
    let posts = discord.received();
    assert_eq!(posts.len(), 1, "one post per import, however often delivered");
    let content = posts[0].body["content"].as_str().unwrap();
    assert!(content.contains("997"), "{content}");
    let podium = posts[0].body["embeds"][0]["fields"][0]["value"].as_str().unwrap();
    assert!(podium.starts_with("🥇 김민수 2:08:31"), "{podium}");
}
