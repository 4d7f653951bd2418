//! `make seed` against a stack of its own: the demo's accounts sign up through the API,
//! verify their addresses with the links the mailbox received (an unverified organizer
//! could record no result), and the past marathon's results become points through the
//! whole pipeline.

use std::sync::Arc;
use std::time::Duration;

use local::http_client::HttpClient;
use local::{InProcess, ServiceOptions, Services, Stack};
use mrmrthon_e2e::{discord_sink, with_login, with_notifiers, with_points_pipeline, with_record_api};
use serde_json::{Value, json};

#[tokio::test]
async fn the_seed_verifies_its_accounts_through_the_mailbox_and_loads_the_demo() {
    // its own emulator: the demo's addresses are fixed
    let stack = Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let sink = discord_sink(provisioned, &sdk).await;
    let invoker = with_login(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_record_api(invoker, provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;
    let invoker = with_notifiers(invoker, provisioned, &sdk).await;
    let dir = std::env::temp_dir().join(format!("mrmrthon-mailbox-{}", ulid::Ulid::new()));
    let services = Services::start(
        stack.endpoint(),
        provisioned,
        Arc::new(invoker),
        ServiceOptions::for_tests(Some(dir.clone())),
    )
    .await
    .expect("the local stack's services start");
    let api = services.api_url().unwrap();

    local::dev::seed::run(&api, &dir)
        .await
        .expect("the seed loads the demo");

    let http = HttpClient::new();
    let login = |who: &str| {
        let body = json!({ "email": local::dev::seed::email(who), "password": local::dev::seed::PASSWORD });
        let (http, url) = (&http, format!("{api}/auth/login"));
        async move {
            let reply = http
                .request(
                    http::Method::POST,
                    &url,
                    &[("content-type", "application/json")],
                    body.to_string().into_bytes(),
                    Duration::from_secs(30),
                )
                .await
                .unwrap();
            assert_eq!(reply.status, 200, "{}", reply.text());
            reply.json().unwrap()
        }
    };
    for who in ["organizer1", "organizer2", "runner01", "runner30"] {
        let session: Value = login(who).await;
        assert_eq!(session["user"]["email_verified"], json!(true), "{who}: {session}");
    }
    // the winner's points: the results were recorded (by a verified organizer) and awarded
    let winner = login("runner01").await["user"]["id"].as_str().unwrap().to_owned();
    let points = http
        .request(
            http::Method::GET,
            &format!("{api}/runners/{winner}/points"),
            &[],
            Vec::new(),
            Duration::from_secs(30),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(points["total"], json!(120), "{points}");
    // a result mail reached the winner's (verified) address
    let mailbox = services.mailbox.as_ref().unwrap();
    let winner_address = local::dev::seed::email("runner01");
    mrmrthon_e2e::eventually("the winner's result mail", async || {
        mailbox
            .mails()
            .into_iter()
            .find(|m| m.to.iter().any(|to| to.contains(&winner_address)) && m.subject.contains("공식 기록"))
    })
    .await;

    // run again: the demo is there, nothing to do (no error)
    local::dev::seed::run(&api, &dir)
        .await
        .expect("a second run finds the demo");

    sink.stop().await;
    services.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
