//! The points pipeline end to end on the local stack: HTTP through the gateway to
//! record-api, the Races stream mapping to official-record-stream, SNS to SQS to
//! point-increase, all wired by template.yaml, the functions in-process. One test walks
//! the scenarios in order: the stream mappings of a stack are shared by everything in it.

use std::time::Duration;

use domain::{Role, UserId};
use local::http_client::{HttpClient, HttpResponse};
use local::sink::Scripted;
use local::{HopKind, InProcess, Stack};
use mrmrthon_e2e::{
    Accounts, discord_sink, eventually, mark_email_verified, start_services, with_notifiers,
    with_points_pipeline, with_record_api,
};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

struct Client {
    http: HttpClient,
    api: String,
    correlation: String,
}

impl Client {
    async fn send(
        &self,
        method: http::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> HttpResponse {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("content-type", "application/json"),
            ("x-correlation-id", self.correlation.as_str()),
        ];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.http
            .request(method, &format!("{}{path}", self.api), &headers, body, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    async fn total(&self, runner: &UserId) -> i64 {
        let reply = self
            .send(
                http::Method::GET,
                &format!("/runners/{runner}/points"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json().unwrap()["total"].as_i64().unwrap()
    }

    async fn total_becomes(&self, runner: &UserId, expected: i64) {
        eventually(&format!("a total of {expected}"), async || {
            (self.total(runner).await == expected).then_some(())
        })
        .await;
    }
}

/// A user straight into the Users table, with an access token signed by the stack's key.
#[tokio::test]
async fn results_become_points() {
    let stack = &Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let sink = discord_sink(provisioned, &sdk).await;
    let invoker = with_record_api(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;
    let invoker = with_notifiers(invoker, provisioned, &sdk).await;
    let services = start_services(stack, invoker).await;
    let client = Client {
        http: HttpClient::new(),
        api: services.api_url().unwrap(),
        correlation: format!("e2e-{}", ulid::Ulid::new()),
    };

    let accounts = Accounts::connect(provisioned, &sdk).await;
    let env = provisioned.function_env("RecordApiFunction").unwrap();
    let (organizer_id, organizer) = accounts.user(Role::Organizer).await;
    let (runner, runner_token) = accounts.user(Role::Runner).await;
    // as if both had followed their verification links: the runner's result mail goes to
    // verified addresses only
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    for id in [&organizer_id, &runner] {
        mark_email_verified(&dynamo, &env["USERS_TABLE"], id).await;
    }
    let runner_email = format!("{}@example.com", runner.as_str().to_lowercase());

    // run today (UTC): results are recorded from race day on, and registration may stay
    // open until the end of it
    let date = time::OffsetDateTime::now_utc().date();
    let marathon = json!({
        "name": "Seoul Marathon", "date": date.to_string(), "location": "Gwanghwamun", "course": "full",
        "points": 100, "capacity": 10, "registration_closes_at": format!("{date}T23:59:59Z"),
    });
    let created = client
        .send(http::Method::POST, "/marathons", Some(&organizer), Some(marathon))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json().unwrap()["id"].as_str().unwrap().to_owned();
    let registered = client
        .send(
            http::Method::POST,
            &format!("/marathons/{id}/entries"),
            Some(&runner_token),
            None,
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let result = format!("/marathons/{id}/results/{runner}");

    // recording a result raises the runner's total by the marathon's points
    let recorded = client
        .send(
            http::Method::PUT,
            &result,
            Some(&organizer),
            Some(json!({ "finish_time": "3:00:00" })),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text());
    client.total_becomes(&runner, 100).await;
    // one Discord post for the award, and a mail to the runner
    let first = eventually("the Discord post", async || sink.posts().into_iter().next()).await;
    let text = first.body.to_string();
    assert!(text.contains("+100") && text.contains("Seoul Marathon"), "{text}");
    assert_eq!(first.body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(first.correlation_id.as_deref(), Some(client.correlation.as_str()));
    let mailbox = services.mailbox.as_ref().unwrap();
    eventually("the runner's mail", async || {
        mailbox
            .mails()
            .into_iter()
            .find(|m| m.to.iter().any(|to| to.contains(&runner_email)))
    })
    .await;

    // Discord rate-limits the next post: it is waited out and posted once
    sink.script(vec![Scripted::rate_limited(0.3), Scripted::status(204)]);

    // correcting only the finish time changes nothing
    client
        .send(
            http::Method::PUT,
            &result,
            Some(&organizer),
            Some(json!({ "finish_time": "2:59:00" })),
        )
        .await;
    // changing the bonus applies exactly the difference
    client
        .send(
            http::Method::PUT,
            &result,
            Some(&organizer),
            Some(json!({ "finish_time": "2:59:00", "bonus_points": 15 })),
        )
        .await;
    client.total_becomes(&runner, 115).await;
    // a status change is a correction like any other: a dnf (this marathon gives no dnf
    // points) takes the points back once, the finish again gives them back once
    let dnf = client
        .send(
            http::Method::PUT,
            &result,
            Some(&organizer),
            Some(json!({ "status": "dnf" })),
        )
        .await;
    assert_eq!(dnf.status, 200, "{}", dnf.text());
    client.total_becomes(&runner, 0).await;
    let finish = client
        .send(
            http::Method::PUT,
            &result,
            Some(&organizer),
            Some(json!({ "status": "finished", "chip_time": "2:59:00", "bonus_points": 15 })),
        )
        .await;
    assert_eq!(finish.status, 200, "{}", finish.text());
    client.total_becomes(&runner, 115).await;
    // deleting the result takes the points back; its events follow the DELETE request
    let deleting = Client {
        http: HttpClient::new(),
        api: client.api.clone(),
        correlation: format!("e2e-delete-{}", ulid::Ulid::new()),
    };
    assert_eq!(
        deleting
            .send(http::Method::DELETE, &result, Some(&organizer), None)
            .await
            .status,
        204
    );
    client.total_becomes(&runner, 0).await;
    // +100, +15 (after the 429), -115 (dnf), +115 (finished again), -115 (deleted); the
    // finish-time-only correction posted nothing
    let accepted = || {
        sink.posts()
            .into_iter()
            .filter(|p| p.status < 300)
            .collect::<Vec<_>>()
    };
    let posts = eventually("five accepted Discord posts", async || {
        let posts = accepted();
        (posts.len() >= 5).then_some(posts)
    })
    .await;
    let deltas: Vec<String> = posts.iter().map(|p| p.body.to_string()).collect();
    assert!(
        deltas[1].contains("+15")
            && deltas[2].contains("-115")
            && deltas[3].contains("+115")
            && deltas[4].contains("-115"),
        "{deltas:#?}"
    );
    assert_eq!(
        posts[4].correlation_id.as_deref(),
        Some(deleting.correlation.as_str()),
        "the removal's post follows the DELETE, not the last PUT"
    );
    // the rate-limited attempt came first, and the retry waited as Discord asked
    let attempts: Vec<_> = sink
        .posts()
        .into_iter()
        .filter(|p| p.body.to_string().contains("+15"))
        .collect();
    assert_eq!(attempts.iter().map(|p| p.status).collect::<Vec<_>>(), [429, 204]);

    let me = client
        .send(http::Method::GET, "/me/points", Some(&runner_token), None)
        .await
        .json()
        .unwrap();
    assert_eq!(me["history"][0]["points"], 0, "{me}");

    // the request's correlation id reached the stream and queue hops
    let hops = services.hops.recent();
    for kind in [HopKind::Stream, HopKind::Queue] {
        assert!(
            hops.iter()
                .any(|h| h.kind == kind && h.correlation_ids.contains(&client.correlation)),
            "no {kind:?} hop carried {}: {hops:#?}",
            client.correlation
        );
    }
    assert_eq!(accepted().len(), 5, "no duplicate posts");
    services.stop().await;
    sink.stop().await;
}
