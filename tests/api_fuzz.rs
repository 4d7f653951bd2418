//! `make api-fuzz`: schemathesis against the whole HTTP API on the local stack.
//!
//! Starts an emulator provisioned from template.yaml and the local gateway on a loopback
//! port, with login, record-api and api-docs running in this process (their real routers,
//! through lambda_http, as in the end-to-end tests). Signs up a runner and an organizer,
//! marks their addresses verified in the Users table (no mail goes out here: the pipeline
//! behind the tables is off; an unverified organizer could record no result), logs them
//! in, gives them a marathon, an entry, a result and a record so that paths name
//! things that exist, then runs schemathesis with every check twice, once with each
//! account's access token, on the document the stack serves at /api/openapi.json, against
//! the API's base URL (/api on the gateway's origin, as the document's `servers` says). Exits
//! non-zero when a run finds a failure; everything stops with the process.
//!
//! Usage: api-fuzz <schemathesis executable> <config file>   (see the Makefile)

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use local::http_client::{HttpClient, HttpResponse};
use local::{InProcess, ServiceOptions, Services, Stack};
use mrmrthon_e2e::{mark_email_verified, with_login, with_record_api};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery";

struct Account {
    id: String,
    token: String,
}

async fn send(
    http: &HttpClient,
    method: http::Method,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> HttpResponse {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    let response = http
        .request(
            method.clone(),
            url,
            &headers,
            body.to_string().into_bytes(),
            TIMEOUT,
        )
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    assert!(
        response.status < 300,
        "setting up: {method} {url} answered {}: {}",
        response.status,
        response.text()
    );
    response
}

async fn account(http: &HttpClient, api: &str, verify: &impl AsyncFn(&str), role: &str) -> Account {
    let email = format!(
        "fuzz.{role}.{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let body =
        json!({ "email": email, "password": PASSWORD, "name": format!("fuzz {role}"), "user_type": role });
    let user = send(
        http,
        http::Method::POST,
        &format!("{api}/auth/signup"),
        None,
        body,
    )
    .await
    .json()
    .expect("a user");
    let id = user["id"].as_str().expect("id");
    // before the login, so the access token says email_verified: true
    verify(id).await;
    let session = send(
        http,
        http::Method::POST,
        &format!("{api}/auth/login"),
        None,
        json!({ "email": email, "password": PASSWORD }),
    )
    .await
    .json()
    .expect("a session");
    Account {
        id: id.to_owned(),
        token: session["access_token"].as_str().expect("access_token").to_owned(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(schemathesis), Some(config)) = (args.next(), args.next()) else {
        eprintln!("usage: api-fuzz <schemathesis executable> <config file>");
        return ExitCode::from(2);
    };

    let stack = Stack::start().unwrap_or_else(|e| panic!("the local stack cannot start: {e}"));
    let sdk = stack.sdk_config().await;
    let invoker = with_login(InProcess::new(), stack.provisioned(), &sdk).await;
    let invoker = with_record_api(invoker, stack.provisioned(), &sdk)
        .await
        .with_router("ApiDocsFunction", api_docs::router());
    // The gateway only: the pipeline behind the tables is not what this run is about.
    let options = ServiceOptions {
        mappings: false,
        ..ServiceOptions::for_tests(None)
    };
    let services = Services::start(stack.endpoint(), stack.provisioned(), Arc::new(invoker), options)
        .await
        .expect("the gateway starts");
    let api = services.api_url().expect("a gateway");
    let http = HttpClient::new();

    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let users_table = stack
        .provisioned()
        .physical_name("UsersTable")
        .expect("template.yaml declares UsersTable")
        .to_owned();
    let verify = async |id: &str| {
        let id = domain::UserId::parse(id).expect("a user id");
        mark_email_verified(&dynamo, &users_table, &id).await;
    };
    let organizer = account(&http, &api, &verify, "organizer").await;
    let runner = account(&http, &api, &verify, "runner").await;
    // Run today (UTC), registration open to the end of the day: results are recorded from
    // race day on, so the result routes have a result to read, correct and delete (entries
    // can no longer be cancelled on race day: that route answers its documented 409).
    let today = time::OffsetDateTime::now_utc().date();
    let marathon = send(
        &http,
        http::Method::POST,
        &format!("{api}/marathons"),
        Some(&organizer.token),
        json!({
            "name": "Fuzz Marathon", "date": today.to_string(), "location": "Loopback",
            "course": "full", "points": 100, "capacity": 1000,
            "registration_closes_at": format!("{today}T23:59:59Z"),
        }),
    )
    .await
    .json()
    .expect("a marathon");
    let marathon_id = marathon["id"].as_str().expect("id").to_owned();
    send(
        &http,
        http::Method::POST,
        &format!("{api}/marathons/{marathon_id}/entries"),
        Some(&runner.token),
        json!({}),
    )
    .await;
    send(
        &http,
        http::Method::PUT,
        &format!("{api}/marathons/{marathon_id}/results/{}", runner.id),
        Some(&organizer.token),
        json!({ "finish_time": "3:01:02" }),
    )
    .await;
    // A record to list; the record routes' ids come from the records schemathesis creates
    // (the stateful phase follows their Location).
    send(
        &http,
        http::Method::POST,
        &format!("{api}/me/records"),
        Some(&runner.token),
        json!({ "kind": "training", "date": "2026-11-20", "distance_m": 10000, "duration": "0:50:00" }),
    )
    .await;

    let mut failed = Vec::new();
    for (role, account) in [("runner", &runner), ("organizer", &organizer)] {
        println!("\n== schemathesis as the {role} ==\n");
        let status = tokio::process::Command::new(&schemathesis)
            .arg("--config-file")
            .arg(&config)
            .arg("run")
            .arg(format!("{api}/openapi.json"))
            .arg("--url")
            .arg(&api)
            .args(["--checks", "all"])
            .arg("--header")
            .arg(format!("Authorization: Bearer {}", account.token))
            // read by the config file's parameters
            .env("FUZZ_MARATHON_ID", &marathon_id)
            .env("FUZZ_RUNNER_ID", &runner.id)
            .env("FUZZ_ORGANIZER_ID", &organizer.id)
            .kill_on_drop(true)
            .status()
            .await
            .unwrap_or_else(|e| panic!("{schemathesis} does not run: {e}"));
        if !status.success() {
            failed.push(role);
        }
    }
    services.stop().await;
    drop(stack);
    if failed.is_empty() {
        println!("\nschemathesis: no failures as runner or organizer");
        ExitCode::SUCCESS
    } else {
        eprintln!("\nschemathesis found failures as: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
