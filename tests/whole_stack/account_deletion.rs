//! Account deletion end to end on the local stack (issue 15): a runner with an official
//! result, an entry for a marathon not run yet and a private record deletes the account
//! through the gateway; the ActivityLog stream brings the deletion to account-erasure. The
//! ranking and the public points page then show the anonymous name with the points kept,
//! the upcoming entry is cancelled (its place free), the record is gone, the old address
//! logs in like an unknown one and signs up again as a new account, and the address got
//! the confirmation mail.

use std::time::Duration;

use domain::{ANONYMOUS_NAME, Role};
use local::http_client::HttpClient;
use local::{InProcess, Stack};
use mrmrthon_e2e::{
    Accounts, call, discord_sink, eventually, mark_email_verified, start_services, with_account_erasure,
    with_login, with_notifiers, with_points_pipeline, with_record_api,
};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// A call without a token.
async fn anonymous(
    http: &HttpClient,
    api: &str,
    method: http::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let reply = http
        .request(
            method,
            &format!("{api}{path}"),
            &[("content-type", "application/json")],
            body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    (reply.status, reply.json().unwrap_or(Value::Null))
}

fn marathon(date: time::Date, name: &str) -> Value {
    json!({
        "name": name, "date": date.to_string(), "location": "Gwanghwamun", "course": "full",
        "points": 100, "capacity": 10, "registration_closes_at": format!("{date}T23:59:59Z"),
    })
}

#[tokio::test]
async fn a_deleted_runner_leaves_the_ranking_true_under_no_name() {
    let stack = &Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let invoker = with_login(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_record_api(invoker, provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;
    let invoker = with_account_erasure(invoker, provisioned, &sdk).await;
    let _sink = discord_sink(provisioned, &sdk).await;
    let invoker = with_notifiers(invoker, provisioned, &sdk).await;
    let services = start_services(stack, invoker).await;
    let (http, api) = (HttpClient::new(), services.api_url().unwrap());
    let post = http::Method::POST;

    // the organizer straight into the table (verified: results need it); the runner signs up
    let accounts = Accounts::connect(provisioned, &sdk).await;
    let (organizer_id, organizer) = accounts.user(Role::Organizer).await;
    let env = provisioned.function_env("RecordApiFunction").unwrap();
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    mark_email_verified(&dynamo, &env["USERS_TABLE"], &organizer_id).await;
    let email = format!(
        "leaving-{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let signup =
        json!({ "email": email, "password": PASSWORD, "name": "떠나는 러너", "user_type": "runner" });
    let (status, created) = anonymous(&http, &api, post.clone(), "/auth/signup", Some(signup.clone())).await;
    assert_eq!(status, 201, "{created}");
    let runner = created["id"].as_str().unwrap().to_owned();
    let credentials = json!({ "email": email, "password": PASSWORD });
    let (status, session) = anonymous(
        &http,
        &api,
        post.clone(),
        "/auth/login",
        Some(credentials.clone()),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let token = session["access_token"].as_str().unwrap().to_owned();

    // a race run today with the runner's official result, one next month, a private record
    let today = time::OffsetDateTime::now_utc().date();
    let (status, run) = call(
        &http,
        &api,
        post.clone(),
        "/marathons",
        &organizer,
        Some(marathon(today, "Seoul")),
    )
    .await;
    assert_eq!(status, 201, "{run}");
    let run = run["id"].as_str().unwrap().to_owned();
    let later = today + time::Duration::days(30);
    let (status, upcoming) = call(
        &http,
        &api,
        post.clone(),
        "/marathons",
        &organizer,
        Some(marathon(later, "Busan")),
    )
    .await;
    assert_eq!(status, 201, "{upcoming}");
    let upcoming = upcoming["id"].as_str().unwrap().to_owned();
    for id in [&run, &upcoming] {
        let (status, body) = call(
            &http,
            &api,
            post.clone(),
            &format!("/marathons/{id}/entries"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = call(
        &http,
        &api,
        http::Method::PUT,
        &format!("/marathons/{run}/results/{runner}"),
        &organizer,
        Some(json!({ "finish_time": "3:00:00" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let version = body["version"].clone();
    let record =
        json!({ "kind": "training", "date": today.to_string(), "distance_m": 10000, "duration": "0:50:00" });
    let (status, body) = call(&http, &api, post.clone(), "/me/records", &token, Some(record)).await;
    assert_eq!(status, 201, "{body}");
    let points = format!("/runners/{runner}/points");
    eventually("the result's points", async || {
        let (_, body) = anonymous(&http, &api, http::Method::GET, &points, None).await;
        (body["total"] == 100).then_some(())
    })
    .await;

    // a wrong password deletes nothing
    let delete = http::Method::DELETE;
    let (status, body) = call(
        &http,
        &api,
        delete.clone(),
        "/auth/account",
        &token,
        Some(json!({ "password": "not mine at all" })),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("https://mrmrthon.dev/problems/forbidden"))
    );
    let (status, body) = call(
        &http,
        &api,
        delete,
        "/auth/account",
        &token,
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{body}");

    // the address being erased gets the confirmation (a security mail: sent unverified too)
    let mailbox = services.mailbox.as_ref().unwrap();
    let confirmation = eventually("the deletion's confirmation", async || {
        mailbox
            .mails()
            .into_iter()
            .find(|m| m.to.iter().any(|to| to.contains(&email)) && !m.subject.contains("이메일 주소를 확인"))
    })
    .await;
    assert!(
        confirmation.subject.contains("계정이 삭제되었습니다"),
        "{}",
        confirmation.subject
    );

    // the ranking keeps the result, in its place, under no name
    let ranking = format!("/marathons/{run}/results");
    let row = eventually("the anonymous name in the ranking", async || {
        let (_, body) = anonymous(&http, &api, http::Method::GET, &ranking, None).await;
        body["items"]
            .as_array()?
            .iter()
            .find(|row| row["runner_id"] == runner.as_str() && row["runner_name"] == ANONYMOUS_NAME)
            .cloned()
    })
    .await;
    assert_eq!(row["finish_time"], "3:00:00");
    assert_eq!(
        row["version"], version,
        "no new version: nothing about the result changed"
    );
    let (status, body) = anonymous(&http, &api, http::Method::GET, &points, None).await;
    assert_eq!(
        (status, &body["name"], &body["total"]),
        (200, &json!(ANONYMOUS_NAME), &json!(100))
    );

    // the erasure goes on after the results (entries, then records): its last step done,
    // the access token (which outlives the account by minutes) finds no record of it
    eventually("the records deleted", async || {
        let (status, body) = call(&http, &api, http::Method::GET, "/me/records", &token, None).await;
        (status == 200 && body["items"].as_array().is_some_and(Vec::is_empty)).then_some(())
    })
    .await;
    // the upcoming entry is cancelled, its place free; the race run keeps its entry, nameless
    let (_, body) = anonymous(
        &http,
        &api,
        http::Method::GET,
        &format!("/marathons/{upcoming}"),
        None,
    )
    .await;
    assert_eq!(body["entry_count"], 0, "{body}");
    let (_, body) = call(
        &http,
        &api,
        http::Method::GET,
        &format!("/marathons/{run}/entries"),
        &organizer,
        None,
    )
    .await;
    let entries = body["items"].as_array().expect("the participants");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["runner_name"], ANONYMOUS_NAME);
    let (status, _) = call(
        &http,
        &api,
        post.clone(),
        &format!("/marathons/{upcoming}/entries"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 401, "a deleted account cannot register again");

    // the address: unknown to login, free for a new account
    let (status, gone) = anonymous(
        &http,
        &api,
        post.clone(),
        "/auth/login",
        Some(credentials.clone()),
    )
    .await;
    let (_, unknown) = anonymous(
        &http,
        &api,
        post.clone(),
        "/auth/login",
        Some(json!({ "email": "nobody-at-all@example.com", "password": PASSWORD })),
    )
    .await;
    assert_eq!((status, &gone), (401, &unknown));
    let (status, again) = anonymous(&http, &api, post.clone(), "/auth/signup", Some(signup)).await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["id"], runner.as_str(), "a new account");
    let (status, _) = anonymous(&http, &api, post, "/auth/login", Some(credentials)).await;
    assert_eq!(status, 200);
}
