//! The Discord sink over HTTP, the mailbox against the emulator's SES, and the publish
//! hops the emulator announces (no mocks; bounded waits only).

use std::time::{Duration, Instant};

use local::http_client::HttpClient;
use local::sink::{Scripted, Sink};
use local::{Emulator, HopKind, Hops, Timing, sdk_config};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(10);

async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "gave up after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_sink_records_posts_and_answers_as_scripted_then_as_discord() {
    let hops = Hops::quiet();
    let sink = Sink::start(0, hops.clone()).await.unwrap();
    let http = HttpClient::new();
    let webhook = sink.webhook_url();
    assert!(webhook.starts_with("http://127.0.0.1:"), "{webhook}");
    let message = json!({"content": "김러너 +100 points", "embeds": [{"title": "Seoul Marathon"}]});

    // Scripted through the control API: a rate limit, then two server errors.
    let scripted = http
        .post_json(
            &format!("{}/_sink/script", sink.url()),
            &json!({"responses": [{"status": 429, "retry_after": 0.5}, {"status": 503, "times": 2}]}),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(scripted.json(), Some(json!({"queued": 2})));

    let limited = http.post_json(&webhook, &message, TIMEOUT).await.unwrap();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(limited.header("x-ratelimit-reset-after"), Some("0.500"));
    assert_eq!(limited.json().unwrap()["retry_after"], 0.5);
    for _ in 0..2 {
        let unavailable = http
            .request(
                http::Method::POST,
                &webhook,
                &[
                    ("content-type", "application/json"),
                    ("x-correlation-id", "cid-9"),
                ],
                message.to_string().into_bytes(),
                TIMEOUT,
            )
            .await
            .unwrap();
        assert_eq!(unavailable.status, 503);
    }
    // The script is used up: Discord's own answers again.
    assert_eq!(
        http.post_json(&webhook, &message, TIMEOUT).await.unwrap().status,
        204
    );
    let waited = http
        .post_json(&format!("{webhook}?wait=true"), &message, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(waited.status, 200);
    assert_eq!(waited.json().unwrap()["content"], "김러너 +100 points");
    let empty = http
        .post_json(&webhook, &json!({"content": ""}), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        (empty.status, empty.json().unwrap()["code"].clone()),
        (400, json!(50006))
    );
    let not_json = http
        .request(http::Method::POST, &webhook, &[], b"content=hi".to_vec(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        (not_json.status, not_json.json().unwrap()["code"].clone()),
        (400, json!(50109))
    );

    let listed = http
        .get(&format!("{}/_sink/posts", sink.url()), TIMEOUT)
        .await
        .unwrap()
        .json()
        .unwrap();
    let statuses: Vec<u64> = listed["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [429, 503, 503, 204, 200, 400, 400]);
    assert_eq!(listed["posts"][1]["correlation_id"], "cid-9");
    assert_eq!(listed["posts"][0]["body"], message);
    assert_eq!(sink.posts().len(), 7);

    // The Rust side scripts too, and hops say what happened.
    sink.script(vec![Scripted::status(404)]);
    assert_eq!(
        http.post_json(&webhook, &message, TIMEOUT).await.unwrap().status,
        404
    );
    let discord_hops: Vec<_> = hops
        .recent()
        .into_iter()
        .filter(|h| h.kind == HopKind::Discord)
        .collect();
    assert_eq!(discord_hops.len(), 8);
    assert!(
        discord_hops[1].to_string().contains("cid=cid-9"),
        "{}",
        discord_hops[1]
    );
    assert!(!discord_hops[0].outcome.is_ok());
    assert!(discord_hops[3].outcome.is_ok());

    let bad_script = http
        .post_json(
            &format!("{}/_sink/script", sink.url()),
            &json!({"responses": [{"status": 42}]}),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(bad_script.status, 400);
    sink.stop().await;
}

#[tokio::test]
async fn sent_mail_becomes_eml_files_and_publishes_become_hops() {
    let emulator = Emulator::start(None).expect("the emulator starts");
    let hops = Hops::quiet();
    emulator.forward_hops(hops.clone());
    let config = sdk_config(emulator.endpoint());
    let ses = aws_sdk_ses::Client::new(&config);
    ses.verify_email_identity()
        .email_address("no-reply@mrmrthon.dev")
        .send()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("mrmrthon-mailbox-{}", ulid::Ulid::new()));
    let mailbox =
        local::mailbox::Mailbox::start(emulator.endpoint(), dir.clone(), hops.clone(), Timing::fast())
            .await
            .unwrap();

    use aws_sdk_ses::types::{Body, Content, Destination, Message, RawMessage};
    let text = |t: &str| Content::builder().data(t).build().unwrap();
    ses.send_email()
        .source("마라톤 <no-reply@mrmrthon.dev>")
        .destination(
            Destination::builder()
                .to_addresses("kim@example.com")
                .cc_addresses("coach@example.com")
                .build(),
        )
        .message(
            Message::builder()
                .subject(text("결과가 기록되었습니다"))
                .body(
                    Body::builder()
                        .text(text("3:59:59"))
                        .html(text("<p>3:59:59</p>"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    ses.send_raw_email()
        .raw_message(
            RawMessage::builder()
                .data(aws_sdk_ses::primitives::Blob::new(
                    "From: no-reply@mrmrthon.dev\r\nTo: lee@example.com\r\nSubject: raw one\r\nX-Correlation-Id: cid-mail\r\n\r\nhello\r\n",
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let mails = eventually("two .eml files", async || {
        let mails = mailbox.mails();
        (mails.len() == 2).then_some(mails)
    })
    .await;
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).collect();
    assert_eq!(files.len(), 2);

    let html = mails.iter().find(|m| m.to == ["kim@example.com"]).unwrap();
    assert_eq!(html.subject, "결과가 기록되었습니다");
    let eml = std::fs::read_to_string(&html.path).unwrap();
    assert!(html.path.extension().is_some_and(|e| e == "eml"));
    assert!(eml.contains("To: <kim@example.com>\r\n"), "{eml}");
    assert!(eml.contains("Cc: <coach@example.com>\r\n"), "{eml}");
    assert!(eml.to_ascii_lowercase().contains("subject: =?utf-8?b?"), "{eml}");
    assert!(
        eml.contains("Content-Type: text/html; charset=\"utf-8\""),
        "the emulator keeps the HTML part: {eml}"
    );
    assert!(eml.ends_with("\r\n\r\n<p>3:59:59</p>\r\n"), "{eml}");

    let raw = mails.iter().find(|m| m.subject == "raw one").unwrap();
    assert!(
        std::fs::read_to_string(&raw.path)
            .unwrap()
            .contains("X-Correlation-Id: cid-mail")
    );
    let mail_hops: Vec<_> = hops
        .recent()
        .into_iter()
        .filter(|h| h.kind == HopKind::Mail)
        .collect();
    assert_eq!(mail_hops.len(), 2);
    assert!(mail_hops.iter().any(|h| h.correlation_ids == ["cid-mail"]));

    // A mailbox started again on the same folder writes nothing twice.
    mailbox.stop().await;
    let again =
        local::mailbox::Mailbox::start(emulator.endpoint(), dir.clone(), Hops::quiet(), Timing::fast())
            .await
            .unwrap();
    assert!(again.mails().is_empty());
    again.stop().await;
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();

    // Publishes are announced by the emulator and become hops with their correlation id.
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns
        .create_topic()
        .name("announced")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    sns.publish()
        .topic_arn(&topic)
        .message(json!({"type": "points.awarded", "correlation_id": "cid-pub"}).to_string())
        .send()
        .await
        .unwrap();
    let publish = eventually("the publish hop", async || {
        hops.recent().into_iter().find(|h| h.kind == HopKind::Publish)
    })
    .await;
    assert_eq!(publish.target, "announced");
    assert_eq!(publish.correlation_ids, ["cid-pub"]);
    assert!(
        publish.detail.contains("to 0 subscriptions"),
        "{}",
        publish.detail
    );
}

#[tokio::test]
async fn posts_that_are_not_objects_are_refused_like_discord() {
    let sink = Sink::start(0, Hops::quiet()).await.unwrap();
    let reply = HttpClient::new()
        .post_json(&sink.webhook_url(), &Value::Array(vec![]), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(reply.status, 400);
    assert_eq!(sink.posts()[0].body, json!([]));
    sink.stop().await;
}

#[tokio::test]
async fn random_faults_answer_a_seeded_share_of_posts_with_429_or_500() {
    let sink = Sink::start(0, Hops::quiet()).await.unwrap();
    let http = HttpClient::new();
    let message = json!({"content": "김러너 +100 points"});
    let statuses = async |sink: &Sink| {
        let mut statuses = Vec::new();
        for _ in 0..200 {
            let reply = http
                .post_json(&sink.webhook_url(), &message, TIMEOUT)
                .await
                .unwrap();
            if reply.status == 429 {
                let after = reply.json().unwrap()["retry_after"].as_f64().unwrap();
                assert!((0.1..0.5).contains(&after), "{after}");
            }
            statuses.push(reply.status);
        }
        statuses
    };
    let set = http
        .post_json(
            &format!("{}/_sink/faults", sink.url()),
            &json!({"share": 0.3, "seed": 11}),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(set.status, 200);
    let first = statuses(&sink).await;
    let failed = first.iter().filter(|s| **s != 204).count();
    assert!((35..=85).contains(&failed), "{failed} of 200 failed at 30%");
    assert!(first.contains(&429) && first.contains(&500), "{first:?}");
    assert!(first.iter().all(|s| [204, 429, 500].contains(s)), "{first:?}");
    // the same seed draws the same answers
    sink.random_faults(0.3, 11);
    assert_eq!(statuses(&sink).await, first);
    // a share of 0 ends it; a share above 1 is refused
    sink.random_faults(0.0, 11);
    assert!(statuses(&sink).await.iter().all(|s| *s == 204));
    let refused = http
        .post_json(
            &format!("{}/_sink/faults", sink.url()),
            &json!({"share": 2}),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 400);
    sink.stop().await;
}
