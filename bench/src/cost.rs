//! What a race costs on AWS (issue 18): every function's release bootstrap handles
//! per-result events with its AWS calls going through a counting proxy in front of the
//! emulator, so that the requests (DynamoDB read and write units from the items actually
//! sent and returned, SNS publishes, SQS requests, SES mails) are those the code makes; the
//! invocations' durations are measured alongside. The bill follows from the price list
//! below, at the template's memory sizes and batch sizes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::bootstrap::{Running, launch};
use crate::fixtures;
use crate::lab::{FUNCTIONS, Function, Lab, Result, release_binary, work_dir};
use crate::runtime_api::{RuntimeApi, Signal};
use crate::stats::Summary;

/// The public us-east-1 list prices this report uses (USD), as AWS published them; the bench
/// does not fetch them. Change them here, with the date.
pub const PRICES_AS_OF: &str =
    "2025-06 (AWS's public pricing pages, us-east-1; DynamoDB on-demand after its November 2024 cut)";
/// Lambda, arm64 (the template's architecture): per request and per GB-second.
pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
pub const LAMBDA_ARM64_GB_SECOND: f64 = 0.000_013_333_4;
/// API Gateway HTTP API, per request (first 300 million a month).
pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
/// DynamoDB on-demand: per write and read request unit; storage per GB-month. Lambda's
/// reads of the tables' streams are free.
pub const DYNAMODB_WRU: f64 = 0.625 / 1e6;
pub const DYNAMODB_RRU: f64 = 0.125 / 1e6;
pub const DYNAMODB_GB_MONTH: f64 = 0.25;
/// SNS standard topics: per publish (each 64 KB; an entry of PublishBatch is one); deliveries
/// to SQS are free.
pub const SNS_PUBLISH: f64 = 0.50 / 1e6;
/// SQS standard queues: per request (each 64 KB).
pub const SQS_REQUEST: f64 = 0.40 / 1e6;
/// SES: per mail sent.
pub const SES_MAIL: f64 = 0.10 / 1000.0;
/// Secrets Manager: per secret-month; CloudWatch: per standard alarm-month.
pub const SECRET_MONTH: f64 = 0.40;
pub const ALARM_MONTH: f64 = 0.10;
/// The original architecture's always-on parts: Fargate (Linux/x86) per vCPU-hour and
/// GB-hour, RDS db.t4g.micro (single-AZ) per hour and gp3 storage per GB-month, an
/// Application Load Balancer per hour and LCU-hour, a NAT gateway per hour, a public IPv4
/// address per hour.
pub const FARGATE_VCPU_HOUR: f64 = 0.040_48;
pub const FARGATE_GB_HOUR: f64 = 0.004_445;
pub const RDS_T4G_MICRO_HOUR: f64 = 0.016;
pub const RDS_GB_MONTH: f64 = 0.115;
pub const ALB_HOUR: f64 = 0.0225;
pub const ALB_LCU_HOUR: f64 = 0.008;
pub const NAT_HOUR: f64 = 0.045;
pub const IPV4_HOUR: f64 = 0.005;
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The race of issue 18, and a month of results.
pub const RACE: f64 = 5_000.0;
pub const MILLION: f64 = 1_000_000.0;

/// Lambda's SQS pollers long-poll every queue with a function attached even when it is
/// empty: about 5 pollers x 3 twenty-second ReceiveMessage calls a minute.
pub const EMPTY_RECEIVES_PER_QUEUE_MONTH: f64 = 5.0 * 3.0 * 60.0 * HOURS_PER_MONTH;

/// What the proxy counted.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Calls by `service operation`.
    pub calls: BTreeMap<String, u64>,
    pub wru: f64,
    pub rru: f64,
    pub sns_publishes: f64,
    pub sqs_requests: f64,
    pub ses_mails: f64,
    /// Bytes of items written (DynamoDB's item size), for storage.
    pub bytes_written: f64,
}

struct ProxyState {
    upstream: String,
    client:
        hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    tally: Mutex<Tally>,
}

/// A counting HTTP proxy in front of the emulator; bootstraps get its URL as
/// `AWS_ENDPOINT_URL`.
pub struct Proxy {
    url: String,
    state: Arc<ProxyState>,
    server: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            tally: Mutex::new(Tally::default()),
        });
        let app = Router::new().fallback(forward).with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Proxy { url, state, server })
    }

    /// What was counted since the last call.
    pub fn take(&self) -> Tally {
        self.state
            .tally
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut upstream = http::Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{path}", state.upstream));
    for (name, value) in &parts.headers {
        upstream = upstream.header(name, value);
    }
    let Ok(upstream) = upstream.body(Full::new(body.clone())) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let response = match state.client.request(upstream).await {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let (reply, reply_body) = response.into_parts();
    let reply_body = reply_body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if reply.status.is_success()
        && let Ok(mut tally) = state.tally.lock()
    {
        count(&mut tally, &parts.headers, path, &body, &reply_body);
    }
    let mut out = Response::new(Body::from(reply_body));
    *out.status_mut() = reply.status;
    *out.headers_mut() = reply.headers;
    out
}

/// The service from the SigV4 credential scope (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
fn service(headers: &http::HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned()
}

/// The operation: JSON protocols name it in `X-Amz-Target`, query protocols in `Action=`,
/// SES v2 in its path.
fn operation(headers: &http::HeaderMap, path: &str, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let text = String::from_utf8_lossy(body);
    if let Some(action) = text.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
        return action.to_owned();
    }
    if path.contains("/outbound-emails") {
        return "SendEmail".into();
    }
    path.to_owned()
}

fn count(tally: &mut Tally, headers: &http::HeaderMap, path: &str, body: &[u8], reply: &[u8]) {
    let service = service(headers);
    let op = operation(headers, path, body);
    *tally.calls.entry(format!("{service} {op}")).or_default() += 1;
    match service.as_str() {
        "dynamodb" => {
            let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let response: Value = serde_json::from_slice(reply).unwrap_or(Value::Null);
            let (wru, rru, bytes) = dynamodb_units(&op, &request, &response);
            tally.wru += wru;
            tally.rru += rru;
            tally.bytes_written += bytes;
        }
        "sns" => {
            let text = String::from_utf8_lossy(body);
            tally.sns_publishes += match op.as_str() {
                // each entry is billed as one publish
                "PublishBatch" => text
                    .split('&')
                    .filter(|p| p.starts_with("PublishBatchRequestEntries.member.") && p.contains(".Id="))
                    .count() as f64,
                _ => 1.0,
            };
        }
        "sqs" => tally.sqs_requests += 1.0,
        "ses" if op.starts_with("Send") => tally.ses_mails += 1.0,
        _ => {}
    }
}

/// DynamoDB's size of an item (attribute names and values), in bytes.
pub fn item_size(item: &Value) -> f64 {
    item.as_object()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| name.len() as f64 + value_size(value))
                .sum()
        })
        .unwrap_or(0.0)
}

fn value_size(value: &Value) -> f64 {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0.0;
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0.0, |s| s.len() as f64),
        // about one byte per two significant digits, plus one
        "N" => inner.as_str().map_or(1.0, |n| {
            (n.trim_start_matches('-').len() as f64 / 2.0).ceil() + 1.0
        }),
        "B" => inner.as_str().map_or(0.0, |b| b.len() as f64 * 3.0 / 4.0),
        "BOOL" | "NULL" => 1.0,
        "M" => 3.0 + item_size(inner),
        "L" => {
            3.0 + inner
                .as_array()
                .map_or(0.0, |l| l.iter().map(|v| 1.0 + value_size(v)).sum())
        }
        "SS" | "NS" | "BS" => inner.as_array().map_or(0.0, |l| {
            l.iter().map(|v| v.as_str().map_or(0.0, |s| s.len() as f64)).sum()
        }),
        _ => 0.0,
    }
}

fn write_units(size: f64) -> f64 {
    (size / 1024.0).ceil().max(1.0)
}

fn read_units(size: f64, consistent: bool) -> f64 {
    let units = (size / 4096.0).ceil().max(1.0);
    if consistent { units } else { units / 2.0 }
}

/// (write units, read units, bytes written) of one call, from the request and the reply:
/// writes by the item sent (an update or delete by the item returned, else one unit: our
/// items are well under 1 KB), transactions twice, reads by the items returned.
pub fn dynamodb_units(op: &str, request: &Value, response: &Value) -> (f64, f64, f64) {
    let consistent = request["ConsistentRead"].as_bool().unwrap_or(false);
    match op {
        "PutItem" => {
            let size = item_size(&request["Item"]);
            (write_units(size), 0.0, size)
        }
        "UpdateItem" | "DeleteItem" => (write_units(item_size(&response["Attributes"])), 0.0, 0.0),
        "GetItem" => (0.0, read_units(item_size(&response["Item"]), consistent), 0.0),
        "Query" | "Scan" => {
            let size: f64 = response["Items"]
                .as_array()
                .map_or(0.0, |items| items.iter().map(item_size).sum());
            (0.0, read_units(size, consistent), 0.0)
        }
        "BatchGetItem" => {
            let reads: f64 = response["Responses"].as_object().map_or(0.0, |tables| {
                tables
                    .values()
                    .flat_map(|items| items.as_array().cloned().unwrap_or_default())
                    .map(|item| read_units(item_size(&item), consistent))
                    .sum()
            });
            (0.0, reads, 0.0)
        }
        "TransactGetItems" => {
            let reads: f64 = response["Responses"].as_array().map_or(0.0, |items| {
                items
                    .iter()
                    .map(|r| 2.0 * read_units(item_size(&r["Item"]), true))
                    .sum()
            });
            (0.0, reads, 0.0)
        }
        "TransactWriteItems" => {
            let (mut wru, mut rru, mut bytes) = (0.0, 0.0, 0.0);
            for item in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(put) = item.get("Put") {
                    let size = item_size(&put["Item"]);
                    wru += 2.0 * write_units(size);
                    bytes += size;
                } else if item.get("ConditionCheck").is_some() {
                    rru += 2.0;
                } else {
                    wru += 2.0;
                }
            }
            (wru, rru, bytes)
        }
        "BatchWriteItem" => {
            let (mut wru, mut bytes) = (0.0, 0.0);
            for requests in request["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|t| t.values())
            {
                for r in requests.as_array().into_iter().flatten() {
                    if let Some(put) = r.get("PutRequest") {
                        let size = item_size(&put["Item"]);
                        wru += write_units(size);
                        bytes += size;
                    } else {
                        wru += 1.0;
                    }
                }
            }
            (wru, 0.0, bytes)
        }
        _ => (0.0, 0.0, 0.0),
    }
}

/// One stage of the pipeline, measured on its own bootstrap.
#[derive(Debug)]
pub struct Stage {
    pub function: &'static str,
    pub memory_mb: u64,
    /// The template's batch size for its trigger (1 for the API).
    pub batch_size: f64,
    /// What the stage is given per result, in words.
    pub per_result: &'static str,
    /// Results handled, invocations, and each invocation's wall time (ms).
    pub results: usize,
    pub durations: Vec<f64>,
    pub tally: Tally,
}

impl Stage {
    fn per_result(&self, value: f64) -> f64 {
        value / self.results.max(1) as f64
    }

    /// Billed milliseconds per result: each invocation's duration rounded up to 1 ms,
    /// shared among the results it handled.
    fn billed_ms_per_result(&self) -> f64 {
        let records_per_invocation = self.results as f64 / self.durations.len().max(1) as f64;
        Summary::of(&self.durations).map_or(0.0, |s| s.median.ceil() / records_per_invocation)
    }

    fn lambda_per_result(&self) -> (f64, f64) {
        let requests = LAMBDA_REQUEST / self.batch_size;
        let duration =
            self.memory_mb as f64 / 1024.0 * self.billed_ms_per_result() / 1000.0 * LAMBDA_ARM64_GB_SECOND;
        (requests, duration)
    }
}

#[derive(Debug, Default)]
pub struct Costs {
    pub stages: Vec<Stage>,
    pub errors: Vec<String>,
    /// The template's alarms, secrets and queues with a function attached.
    pub alarms: usize,
    pub secrets: usize,
    pub polled_queues: usize,
}

/// Template counts for the fixed monthly part.
fn template_counts() -> (usize, usize, usize) {
    let text = std::fs::read_to_string(local::stack::template_path()).unwrap_or_default();
    let alarms = text.matches("Type: AWS::CloudWatch::Alarm").count();
    let secrets = text.matches("SecretName:\n").count();
    // SQS event sources of functions (not redrive or failure destinations)
    let polled = text.matches("\n          Type: SQS\n").count();
    (alarms, secrets, polled)
}

const INIT_TIMEOUT: Duration = Duration::from_secs(30);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

async fn start(lab: &Lab, proxy: &Proxy, function: &Function) -> Result<(RuntimeApi, Running)> {
    let env = lab.function_env(function)?;
    let api = RuntimeApi::start(function.package)
        .await
        .map_err(|e| format!("cannot start the Runtime API stub: {e}"))?;
    let mut env: BTreeMap<String, String> = lab
        .process_env(
            function.package,
            lab.memory_size(function.logical_id),
            &api.address(),
            &env,
        )
        .into_iter()
        .collect();
    env.insert("AWS_ENDPOINT_URL".into(), proxy.url.clone());
    let env: Vec<(String, String)> = env.into_iter().collect();
    let log = work_dir()
        .join("logs")
        .join(format!("{}.cost.log", function.package));
    Ok((api, launch(&release_binary(function.package), &env, &log)?))
}

/// Hands `event` out and waits for its response; returns it (ms and payload).
async fn invoke(running: &mut Running, api: &mut RuntimeApi, event: String) -> Result<(f64, String)> {
    let pushed = Instant::now();
    api.push(event);
    loop {
        match running.signal(api, INVOKE_TIMEOUT).await? {
            Signal::Next(_) => {}
            Signal::InitError(body) => return Err(format!("init error: {body}")),
            Signal::Outcome { ok, body } => {
                let class = crate::rss::classify(ok, &body);
                if class != "ok" && !class.starts_with("HTTP 2") {
                    return Err(format!("{class}: {}", body.chars().take(300).collect::<String>()));
                }
                return Ok((pushed.elapsed().as_secs_f64() * 1000.0, body));
            }
        }
    }
}

/// `count` fresh result.recorded activity entries of a runner in the Users table
/// (events/log-mailer/result-recorded.json with new ids), one per event.
async fn mail_events(lab: &Lab, count: usize) -> Result<Vec<String>> {
    let path = crate::lab::repo_root().join("events/log-mailer/result-recorded.json");
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let env = lab
        .stack
        .provisioned()
        .function_env("PointIncreaseFunction")
        .map_err(|e| e.to_string())?;
    let table = env.get("USERS_TABLE").ok_or("no USERS_TABLE")?;
    let runner = fixtures::runner(lab, table).await?;
    // mail about results goes to verified addresses only
    aws_sdk_dynamodb::Client::new(&lab.sdk)
        .update_item()
        .table_name(table)
        .set_key(Some(infra::dynamo::keys::profile_key(&runner)))
        .update_expression("SET email_verified = :yes")
        .expression_attribute_values(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot mark the runner's address verified: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(e)
            )
        })?;
    Ok((0..count)
        .map(|i| {
            let mut record = sample["Records"][0].clone();
            let id = ulid::Ulid::new().to_string();
            let image = &mut record["dynamodb"]["NewImage"];
            image["sk"] = json!({ "S": format!("LOG#{id}") });
            image["id"] = json!({ "S": id });
            image["details"]["M"]["runner_id"] = json!({ "S": runner.as_str() });
            image["details"]["M"]["version"] = json!({ "N": (1_795_317_247_512u64 + i as u64).to_string() });
            record["dynamodb"]["Keys"]["sk"] = image["sk"].clone();
            record["eventID"] = json!(ulid::Ulid::new().to_string());
            json!({ "Records": [record] }).to_string()
        })
        .collect())
}

/// The stages of one result's way: its PUT, its stream record, its points, its Discord
/// post and its mail. Each given `results` results' worth of events.
pub async fn measure(lab: &Lab, functions: &[Function], results: usize) -> Costs {
    let (alarms, secrets, polled_queues) = template_counts();
    let mut costs = Costs {
        alarms,
        secrets,
        polled_queues,
        ..Costs::default()
    };
    let proxy = match Proxy::start(lab.stack.endpoint()).await {
        Ok(proxy) => proxy,
        Err(e) => {
            costs.errors.push(format!("the counting proxy cannot start: {e}"));
            return costs;
        }
    };
    for function in functions {
        eprintln!("cost: {}", function.package);
        match stage(lab, &proxy, function, results).await {
            Ok(stage) => costs.stages.push(stage),
            Err(e) => costs.errors.push(format!("{}: {e}", function.package)),
        }
    }
    costs
}

async fn stage(lab: &Lab, proxy: &Proxy, function: &Function, results: usize) -> Result<Stage> {
    // record-api: the fixture's marathon created and the runner registered (not counted),
    // then the runner's official result recorded again and again (each a new version)
    let mut plan = None;
    let (events, per_event, batch_size, per_result): (Vec<String>, usize, f64, &'static str) =
        match function.package {
            "record-api" => {
                plan = Some(fixtures::plan(lab, function, 6 * results + 1).await?);
                (
                    Vec::new(),
                    1,
                    1.0,
                    "PUT of the official result (API Gateway, then record-api)",
                )
            }
            "official-record-stream" => (
                fixtures::events(lab, function, results.div_ceil(fixtures::STREAM_BATCH)).await?,
                fixtures::STREAM_BATCH,
                25.0,
                "its Races stream record, published to record-events",
            ),
            "point-increase" | "discord-webhook" => (
                fixtures::events(lab, function, results.div_ceil(fixtures::QUEUE_BATCH)).await?,
                fixtures::QUEUE_BATCH,
                10.0,
                if function.package == "point-increase" {
                    "its result.recorded message: ledger, points.awarded publish"
                } else {
                    "its points.awarded message: idempotency claim, Discord post"
                },
            ),
            "log-mailer" => (
                mail_events(lab, results).await?,
                1,
                10.0,
                "its activity entry (Activity stream): the runner's mail",
            ),
            other => return Err(format!("no cost stage for {other}")),
        };
    let (mut api, mut running) = start(lab, proxy, function).await?;
    let measured = async {
        running.first_poll(&mut api, INIT_TIMEOUT).await?;
        let events = match plan {
            Some(plan) => {
                let mut replies = Vec::new();
                for event in plan.setup {
                    replies.push(invoke(&mut running, &mut api, event).await?.1);
                }
                let mut all = (plan.burst)(&replies)?.into_iter();
                let register = all.next().ok_or("no registration")?;
                invoke(&mut running, &mut api, register).await?;
                // each PUT a different finish time: the first records the result, each
                // next one corrects it (a new version); the same body again changes nothing
                let puts: Vec<String> = all
                    .filter(|e| e.contains("\"routeKey\": \"PUT /marathons/{id}/results/{runner_id}\""))
                    .take(results)
                    .enumerate()
                    .map(|(i, e)| e.replace("3:12:45", &format!("3:{:02}:{:02}", 12 + i / 60, i % 60)))
                    .collect();
                if puts.is_empty() {
                    return Err("the record-api fixture has no put-result event".to_owned());
                }
                puts
            }
            None => events,
        };
        proxy.take(); // init's and setup's calls are not per result
        let mut durations = Vec::new();
        let mut handled = 0;
        for event in events {
            durations.push(invoke(&mut running, &mut api, event).await?.0);
            handled += per_event;
        }
        Ok(Stage {
            function: function.package,
            memory_mb: lab.memory_size(function.logical_id),
            batch_size,
            per_result,
            results: handled,
            durations,
            tally: proxy.take(),
        })
    }
    .await;
    running.stop().await;
    measured
}

fn usd(value: f64) -> String {
    if value >= 100.0 {
        format!("${value:.0}")
    } else if value >= 0.01 {
        format!("${value:.2}")
    } else if value > 0.0 {
        format!("${value:.4}")
    } else {
        "$0".into()
    }
}

/// The original architecture's monthly floor: (line, monthly USD).
pub fn original_floor() -> Vec<(String, f64)> {
    let fargate = 2.0 * (0.25 * FARGATE_VCPU_HOUR + 0.5 * FARGATE_GB_HOUR) * HOURS_PER_MONTH;
    vec![
        (
            "ECS on Fargate: 2 always-on tasks (API and worker) of 0.25 vCPU, 0.5 GB".into(),
            fargate,
        ),
        (
            "RDS: one db.t4g.micro, single-AZ, 20 GB gp3".into(),
            RDS_T4G_MICRO_HOUR * HOURS_PER_MONTH + 20.0 * RDS_GB_MONTH,
        ),
        (
            "Application Load Balancer: the hour and 1 LCU".into(),
            (ALB_HOUR + ALB_LCU_HOUR) * HOURS_PER_MONTH,
        ),
        (
            "NAT gateway (one AZ; traffic extra)".into(),
            NAT_HOUR * HOURS_PER_MONTH,
        ),
        (
            "public IPv4: the ALB's two and the NAT's".into(),
            3.0 * IPV4_HOUR * HOURS_PER_MONTH,
        ),
    ]
}

pub fn render(w: &mut String, c: &Costs) {
    let _ = writeln!(w, "## What a race costs (issue 18)\n");
    if c.stages.is_empty() {
        let _ = writeln!(w, "Not measured: {}\n", c.errors.join("; "));
        return;
    }
    let _ = writeln!(
        w,
        "Each function's release bootstrap handled per-result events with its AWS calls going \
         through a counting proxy in front of the emulator: the requests below are the ones the \
         code made, and DynamoDB's units follow from the items it sent and got back (writes: 1 \
         unit per started KB of the item, twice in a transaction; reads: 1 per started 4 KB, half \
         when eventually consistent; an update or delete whose item is not returned counts 1). \
         Invocation durations are the medians measured there, against the emulator, which is \
         slower than DynamoDB and SNS (pessimistic), and are shared among the records of an \
         invocation; Lambda bills them rounded up to the millisecond, at the template's memory \
         size, arm64. Batch sizes are the template's (the stream 25, the queues 10), assuming \
         full batches at race volume.\n"
    );
    let _ = writeln!(
        w,
        "Prices, us-east-1, list prices as of {PRICES_AS_OF} (the table in bench/src/cost.rs):\n"
    );
    let _ = writeln!(w, "| item | price |\n|---|---|");
    for (item, price) in [
        (
            "Lambda request",
            format!("${:.2} per million", LAMBDA_REQUEST * 1e6),
        ),
        (
            "Lambda duration, arm64",
            format!("${LAMBDA_ARM64_GB_SECOND} per GB-second"),
        ),
        (
            "API Gateway HTTP API",
            format!("${:.2} per million requests", HTTP_API_REQUEST * 1e6),
        ),
        (
            "DynamoDB on-demand writes",
            format!("${:.3} per million write units", DYNAMODB_WRU * 1e6),
        ),
        (
            "DynamoDB on-demand reads",
            format!("${:.3} per million read units", DYNAMODB_RRU * 1e6),
        ),
        ("DynamoDB storage", format!("${DYNAMODB_GB_MONTH} per GB-month")),
        ("SNS publish", format!("${:.2} per million", SNS_PUBLISH * 1e6)),
        ("SQS request", format!("${:.2} per million", SQS_REQUEST * 1e6)),
        ("SES mail", format!("${:.2} per thousand", SES_MAIL * 1000.0)),
        (
            "Secrets Manager secret; CloudWatch alarm",
            format!("${SECRET_MONTH} per month; ${ALARM_MONTH} per month"),
        ),
    ] {
        let _ = writeln!(w, "| {item} | {price} |");
    }
    let _ = writeln!(w);

    let _ = writeln!(
        w,
        "Per result, by stage (measured over the results shown; calls are the proxy's count):\n"
    );
    let _ = writeln!(
        w,
        "| stage | per result | results | memory | median invocation | billed ms per result | DynamoDB WRU | RRU | SNS | SQS | SES | calls counted |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut per_result = PerResult::default();
    for s in &c.stages {
        let (requests, duration) = s.lambda_per_result();
        per_result.lambda_requests += requests;
        per_result.lambda_duration += duration;
        per_result.wru += s.per_result(s.tally.wru);
        per_result.rru += s.per_result(s.tally.rru);
        per_result.sns += s.per_result(s.tally.sns_publishes);
        per_result.sqs += s.per_result(s.tally.sqs_requests);
        per_result.ses += s.per_result(s.tally.ses_mails);
        per_result.bytes += s.per_result(s.tally.bytes_written);
        let calls: Vec<String> = s.tally.calls.iter().map(|(k, v)| format!("{k} x{v}")).collect();
        let median = Summary::of(&s.durations).map_or(0.0, |m| m.median);
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} MB | {median:.1} ms | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            s.function,
            s.per_result,
            s.results,
            s.memory_mb,
            s.billed_ms_per_result(),
            s.per_result(s.tally.wru),
            s.per_result(s.tally.rru),
            s.per_result(s.tally.sns_publishes),
            s.per_result(s.tally.sqs_requests),
            s.per_result(s.tally.ses_mails),
            calls.join(", ")
        );
    }
    // SQS: Lambda's pollers receive and delete each batch of the two queues a result
    // crosses (point-increase's and discord-webhook's): 2 requests per batch of 10 each
    let queue_batches = c
        .stages
        .iter()
        .filter(|s| s.function == "point-increase" || s.function == "discord-webhook")
        .count() as f64;
    per_result.sqs += queue_batches * 2.0 / 10.0;
    let _ = writeln!(w);
    for e in &c.errors {
        let _ = writeln!(w, "Not measured: {}\n", crate::report::cell(e));
    }

    let lines = per_result.lines();
    let per_result_total: f64 = lines.iter().map(|(_, v, _)| v).sum();
    let fixed = c.secrets as f64 * SECRET_MONTH
        + c.alarms as f64 * ALARM_MONTH
        + c.polled_queues as f64 * EMPTY_RECEIVES_PER_QUEUE_MONTH * SQS_REQUEST;
    let _ = writeln!(
        w,
        "| cost item | formula | per 1,000 results | a race of {RACE:.0} | 1M results |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|");
    for (item, value, formula) in &lines {
        let _ = writeln!(
            w,
            "| {item} | {formula} | {} | {} | {} |",
            usd(value * 1000.0),
            usd(value * RACE),
            usd(value * MILLION)
        );
    }
    let storage_gb = per_result.bytes / 1e9;
    let _ = writeln!(
        w,
        "| **per-result total** | sum of the above | {} | **{}** | **{}** |",
        usd(per_result_total * 1000.0),
        usd(per_result_total * RACE),
        usd(per_result_total * MILLION)
    );
    let _ = writeln!(
        w,
        "| DynamoDB storage, a month | {:.0} bytes written per result x results x {DYNAMODB_GB_MONTH} per GB | | {} | {} |",
        per_result.bytes,
        usd(storage_gb * RACE * DYNAMODB_GB_MONTH),
        usd(storage_gb * MILLION * DYNAMODB_GB_MONTH)
    );
    let _ = writeln!(
        w,
        "| fixed, a month | {} secrets x {SECRET_MONTH} + {} alarms x {ALARM_MONTH} + {} polled queues x {:.0} empty receives x SQS | | {} | {} |",
        c.secrets,
        c.alarms,
        c.polled_queues,
        EMPTY_RECEIVES_PER_QUEUE_MONTH,
        usd(fixed),
        usd(fixed)
    );
    let month_race = per_result_total * RACE + storage_gb * RACE * DYNAMODB_GB_MONTH + fixed;
    let month_million = per_result_total * MILLION + storage_gb * MILLION * DYNAMODB_GB_MONTH + fixed;
    let _ = writeln!(
        w,
        "| **a month with it** | | | **{}** | **{}** |\n",
        usd(month_race),
        usd(month_million)
    );

    let floor = original_floor();
    let floor_total: f64 = floor.iter().map(|(_, v)| v).sum();
    let _ = writeln!(
        w,
        "The original architecture's monthly floor for the same month, whatever the traffic: its \
         always-on parts at the smallest sizes that serve at all (the original README is not in \
         this repository; these sizes are our assumption of a floor, not its bill), {} hours a \
         month:\n",
        HOURS_PER_MONTH
    );
    let _ = writeln!(w, "| always-on part | formula | a month |\n|---|---|---|");
    let formulas = [
        format!("2 x (0.25 x {FARGATE_VCPU_HOUR} + 0.5 x {FARGATE_GB_HOUR}) x hours"),
        format!("{RDS_T4G_MICRO_HOUR} x hours + 20 x {RDS_GB_MONTH}"),
        format!("({ALB_HOUR} + {ALB_LCU_HOUR}) x hours"),
        format!("{NAT_HOUR} x hours"),
        format!("3 x {IPV4_HOUR} x hours"),
    ];
    for ((item, value), formula) in floor.iter().zip(formulas) {
        let _ = writeln!(w, "| {item} | {formula} | {} |", usd(*value));
    }
    let _ = writeln!(w, "| **floor** | | **{}** |\n", usd(floor_total));
    let _ = writeln!(
        w,
        "**A month with one {RACE:.0}-finisher race: {} here against the original's floor of {} \
         (before its own per-request costs); a month of 1M results: {}.** Not counted on either \
         side: CloudWatch Logs ingestion, data transfer out, and the free tiers.\n",
        usd(month_race),
        usd(floor_total),
        usd(month_million)
    );
}

#[derive(Debug, Default)]
struct PerResult {
    lambda_requests: f64,
    lambda_duration: f64,
    wru: f64,
    rru: f64,
    sns: f64,
    sqs: f64,
    ses: f64,
    bytes: f64,
}

impl PerResult {
    /// (item, USD per result, formula).
    fn lines(&self) -> Vec<(String, f64, String)> {
        vec![
            ("API Gateway".into(), HTTP_API_REQUEST, "1 request x price".into()),
            (
                "Lambda requests".into(),
                self.lambda_requests,
                "sum over stages of 1 / batch size x price".into(),
            ),
            (
                "Lambda duration".into(),
                self.lambda_duration,
                "sum over stages of memory GB x billed s per result x price".into(),
            ),
            (
                "DynamoDB writes".into(),
                self.wru * DYNAMODB_WRU,
                format!("{:.2} WRU x price", self.wru),
            ),
            (
                "DynamoDB reads".into(),
                self.rru * DYNAMODB_RRU,
                format!("{:.2} RRU x price", self.rru),
            ),
            (
                "SNS".into(),
                self.sns * SNS_PUBLISH,
                format!("{:.2} publishes x price", self.sns),
            ),
            (
                "SQS".into(),
                self.sqs * SQS_REQUEST,
                format!(
                    "{:.2} requests (sent, plus a receive and a delete per batch of 10 on 2 queues) x price",
                    self.sqs
                ),
            ),
            (
                "SES".into(),
                self.ses * SES_MAIL,
                format!("{:.2} mails x price", self.ses),
            ),
        ]
    }
}

/// The functions of the pipeline, in a result's order.
pub fn stages() -> Vec<Function> {
    [
        "record-api",
        "official-record-stream",
        "point-increase",
        "discord-webhook",
        "log-mailer",
    ]
    .iter()
    .filter_map(|name| FUNCTIONS.iter().find(|f| f.package == *name).copied())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamodb_units_follow_the_items() {
        let small = json!({ "pk": { "S": "USER#1" }, "n": { "N": "12345" }, "ok": { "BOOL": true } });
        // 2 + 6 + 1 + (3 + 1) + 2 + 1 = 16 bytes
        assert_eq!(item_size(&small), 16.0);
        let big = json!({ "pk": { "S": "x".repeat(1500) } });
        assert_eq!(
            dynamodb_units("PutItem", &json!({ "Item": small }), &Value::Null),
            (1.0, 0.0, 16.0)
        );
        assert_eq!(
            dynamodb_units("PutItem", &json!({ "Item": big }), &Value::Null).0,
            2.0
        );
        let transaction = json!({ "TransactItems": [
            { "Put": { "Item": small } }, { "Update": {} }, { "ConditionCheck": {} }
        ]});
        assert_eq!(
            dynamodb_units("TransactWriteItems", &transaction, &Value::Null),
            (4.0, 2.0, 16.0)
        );
        let got = json!({ "Item": small });
        assert_eq!(
            dynamodb_units("GetItem", &json!({ "ConsistentRead": true }), &got),
            (0.0, 1.0, 0.0)
        );
        assert_eq!(dynamodb_units("GetItem", &json!({}), &got), (0.0, 0.5, 0.0));
        assert_eq!(dynamodb_units("GetItem", &json!({}), &json!({})), (0.0, 0.5, 0.0));
    }

    #[test]
    fn the_original_floor_is_the_sum_of_its_parts() {
        let total: f64 = original_floor().iter().map(|(_, v)| v).sum();
        // Fargate 18.02 + RDS 13.98 + ALB 22.27 + NAT 32.85 + IPv4 10.95
        assert!((total - 98.07).abs() < 0.05, "{total}");
    }

    #[test]
    fn operations_are_named_by_target_action_or_path() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261130/us-east-1/sns/aws4_request, SignedHeaders=host"
                .parse()
                .unwrap(),
        );
        assert_eq!(service(&headers), "sns");
        assert_eq!(
            operation(&headers, "/", b"Action=PublishBatch&Version=2010-03-31"),
            "PublishBatch"
        );
        let mut tally = Tally::default();
        count(
            &mut tally,
            &headers,
            "/",
            b"Action=PublishBatch&PublishBatchRequestEntries.member.1.Id=0&PublishBatchRequestEntries.member.2.Id=1",
            b"",
        );
        assert_eq!(tally.sns_publishes, 2.0);
        headers.insert("x-amz-target", "DynamoDB_20120810.GetItem".parse().unwrap());
        assert_eq!(operation(&headers, "/", b"{}"), "GetItem");
    }
}
