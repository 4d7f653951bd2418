//! The pipeline at race scale (issue 18), through concurrent PUTs (the bulk import's own
//! part is another's): on the local stack as `make dev` wires it (the gateway, the stream
//! and queue mappings with template.yaml's batch sizes and windows, the Discord stand-in and
//! the mailbox; the functions in this process), N runners registered to one marathon, then
//! their N official results PUT at once by the organizer (a bounded number in flight).
//! Measured: each stage's throughput, and per result the time from its PUT to its Discord
//! post and to its mail, both bounded in time: what has not arrived by the deadline is
//! counted as such, not waited for.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use domain::Role;
use futures::StreamExt;
use local::http_client::HttpClient;
use local::{InProcess, ServiceOptions, Services};
use mrmrthon_e2e::{
    Accounts, discord_sink, mark_email_verified, with_notifiers, with_points_pipeline, with_record_api,
};
use serde_json::json;

use crate::lab::{Lab, Result};

#[derive(Debug, Clone)]
pub struct Options {
    pub results: usize,
    /// PUTs in flight at once.
    pub concurrency: usize,
    /// How long the results may take to come out at the far end, after the last PUT.
    pub drain: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            results: 5_000,
            concurrency: 50,
            drain: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default)]
pub struct Pipeline {
    pub results: usize,
    pub concurrency: usize,
    pub setup: Duration,
    /// Seconds from the first PUT to each one's answer, and the answers' statuses.
    pub put_latency: Vec<f64>,
    pub put_statuses: HashMap<u16, usize>,
    pub put_span: Duration,
    /// Seconds from each result's PUT to its Discord post, and to its mail.
    pub to_discord: Vec<f64>,
    pub to_mail: Vec<f64>,
    /// Seconds from the first PUT to the last post and mail seen.
    pub discord_span: Duration,
    pub mail_span: Duration,
    pub waited: Duration,
    pub drain: Duration,
}

/// RFC 3339 (the sink's `at`) to system time.
fn parse_at(at: &str) -> Option<SystemTime> {
    let t = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(t.unix_timestamp_nanos()).ok()?))
}

pub async fn measure(lab: &Lab, options: &Options) -> Result<Pipeline> {
    let stack = &lab.stack;
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let sink = discord_sink(provisioned, &sdk).await;
    let invoker = with_record_api(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;
    let invoker = with_notifiers(invoker, provisioned, &sdk).await;
    let mailbox_dir = std::env::temp_dir().join(format!("mrmrthon-bench-mailbox-{}", ulid::Ulid::new()));
    let services = Services::start(
        stack.endpoint(),
        provisioned,
        Arc::new(invoker),
        ServiceOptions::for_tests(Some(mailbox_dir.clone())),
    )
    .await
    .map_err(|e| format!("the local stack's services do not start: {e}"))?;
    let outcome = run(lab, options, &services, &sink).await;
    services.stop().await;
    let _ = std::fs::remove_dir_all(&mailbox_dir);
    outcome
}

async fn run(
    lab: &Lab,
    options: &Options,
    services: &Services,
    sink: &local::sink::Sink,
) -> Result<Pipeline> {
    let provisioned = lab.stack.provisioned();
    let sdk = lab.stack.sdk_config().await;
    let api = services.api_url().ok_or("no gateway")?;
    let http = HttpClient::new();
    let timeout = Duration::from_secs(60);
    let call = |method: http::Method,
                path: String,
                token: String,
                body: Option<serde_json::Value>,
                correlation: String| {
        let (http, api) = (&http, &api);
        async move {
            let auth = format!("Bearer {token}");
            let headers = [
                ("content-type", "application/json"),
                ("authorization", auth.as_str()),
                ("x-correlation-id", correlation.as_str()),
            ];
            let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
            http.request(method, &format!("{api}{path}"), &headers, body, timeout)
                .await
        }
    };

    // setup: an organizer, a marathon for everyone, N verified runners registered
    let started = Instant::now();
    let accounts = Accounts::connect(provisioned, &sdk).await;
    let env = provisioned
        .function_env("RecordApiFunction")
        .map_err(|e| e.to_string())?;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let (_, organizer) = accounts.user(Role::Organizer).await;
    let date = time::OffsetDateTime::now_utc().date();
    let marathon = json!({
        "name": "Seoul Marathon (bench)", "date": date.to_string(), "location": "Gwanghwamun", "course": "full",
        "points": 100, "capacity": options.results, "registration_closes_at": format!("{date}T23:59:59Z"),
    });
    let created = call(
        http::Method::POST,
        "/marathons".into(),
        organizer.clone(),
        Some(marathon),
        "bench-setup".into(),
    )
    .await?;
    if created.status != 201 {
        return Err(format!(
            "creating the marathon: {} {}",
            created.status,
            created.text()
        ));
    }
    let marathon_id = created
        .json()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .ok_or("no marathon id")?;
    eprintln!("pipeline: registering {} runners", options.results);
    let runners: Vec<(domain::UserId, String)> = futures::stream::iter(0..options.results)
        .map(|_| {
            let (accounts, dynamo, env, call, marathon_id) = (&accounts, &dynamo, &env, &call, &marathon_id);
            async move {
                let (runner, token) = accounts.user(Role::Runner).await;
                mark_email_verified(dynamo, &env["USERS_TABLE"], &runner).await;
                let registered = call(
                    http::Method::POST,
                    format!("/marathons/{marathon_id}/entries"),
                    token.clone(),
                    None,
                    "bench-setup".into(),
                )
                .await?;
                if registered.status != 201 {
                    return Err(format!(
                        "registering: {} {}",
                        registered.status,
                        registered.text()
                    ));
                }
                Ok((runner, token))
            }
        })
        .buffer_unordered(options.concurrency)
        .collect::<Vec<Result<_>>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let setup = started.elapsed();
    // what setup caused (sign-up mails, nothing on Discord) is not the results'
    let mails_before: std::collections::HashSet<std::path::PathBuf> = services
        .mailbox
        .as_ref()
        .map(|m| m.mails().into_iter().map(|m| m.path).collect())
        .unwrap_or_default();
    sink.clear();

    // the race: every result PUT, `concurrency` in flight
    eprintln!(
        "pipeline: {} results PUT, {} at once",
        options.results, options.concurrency
    );
    let first_put = SystemTime::now();
    let clock = Instant::now();
    let sent: Vec<(String, SystemTime, Result<u16>, f64)> = futures::stream::iter(runners.iter())
        .map(|(runner, _)| {
            let (call, marathon_id, organizer) = (&call, &marathon_id, &organizer);
            async move {
                let correlation = format!("bench-{runner}");
                let at = SystemTime::now();
                let began = Instant::now();
                let reply = call(
                    http::Method::PUT,
                    format!("/marathons/{marathon_id}/results/{runner}"),
                    organizer.clone(),
                    Some(json!({ "finish_time": "3:00:00" })),
                    correlation.clone(),
                )
                .await
                .map(|r| r.status);
                (correlation, at, reply, began.elapsed().as_secs_f64())
            }
        })
        .buffer_unordered(options.concurrency)
        .collect()
        .await;
    let put_span = clock.elapsed();
    let mut pipeline = Pipeline {
        results: options.results,
        concurrency: options.concurrency,
        setup,
        put_span,
        drain: options.drain,
        ..Pipeline::default()
    };
    let mut put_at: HashMap<String, SystemTime> = HashMap::new();
    for (correlation, at, reply, seconds) in sent {
        let status = reply.unwrap_or(0);
        *pipeline.put_statuses.entry(status).or_default() += 1;
        pipeline.put_latency.push(seconds);
        if status == 201 || status == 200 {
            put_at.insert(correlation, at);
        }
    }
    let emails: HashMap<String, String> = runners
        .iter()
        .map(|(runner, _)| {
            (
                format!("{}@example.com", runner.as_str().to_lowercase()),
                format!("bench-{runner}"),
            )
        })
        .collect();

    // the far end: every Discord post and mail, until all are in or the drain runs out
    eprintln!("pipeline: waiting for {} Discord posts and mails", put_at.len());
    let waiting = Instant::now();
    loop {
        let posts = sink
            .posts()
            .into_iter()
            .filter(|p| p.correlation_id.as_ref().is_some_and(|c| put_at.contains_key(c)))
            .count();
        let mails = services
            .mailbox
            .as_ref()
            .map(|m| {
                m.mails()
                    .into_iter()
                    .filter(|m| !mails_before.contains(&m.path))
                    .count()
            })
            .unwrap_or(0);
        if (posts >= put_at.len() && mails >= put_at.len()) || waiting.elapsed() >= options.drain {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    pipeline.waited = waiting.elapsed();
    let since = |t: SystemTime, from: SystemTime| t.duration_since(from).unwrap_or_default().as_secs_f64();
    let mut last_post = first_put;
    let mut posted = std::collections::HashSet::new();
    for post in sink.posts() {
        let (Some(correlation), Some(at)) = (post.correlation_id.as_ref(), parse_at(&post.at)) else {
            continue;
        };
        if let Some(put) = put_at.get(correlation)
            && posted.insert(correlation.clone())
        {
            pipeline.to_discord.push(since(at, *put));
            last_post = last_post.max(at);
        }
    }
    let mut last_mail = first_put;
    let mut mailed = std::collections::HashSet::new();
    for mail in services.mailbox.as_ref().map(|m| m.mails()).unwrap_or_default() {
        if mails_before.contains(&mail.path) {
            continue;
        }
        let Some(correlation) = mail.to.iter().find_map(|to| {
            emails
                .iter()
                .find(|(address, _)| to.contains(address.as_str()))
                .map(|(_, c)| c.clone())
        }) else {
            continue;
        };
        let Ok(at) = std::fs::metadata(&mail.path).and_then(|m| m.modified()) else {
            continue;
        };
        if let Some(put) = put_at.get(&correlation)
            && mailed.insert(correlation)
        {
            pipeline.to_mail.push(since(at, *put));
            last_mail = last_mail.max(at);
        }
    }
    pipeline.discord_span = last_post.duration_since(first_put).unwrap_or_default();
    pipeline.mail_span = last_mail.duration_since(first_put).unwrap_or_default();
    Ok(pipeline)
}

fn rate(n: usize, span: Duration) -> String {
    if span.is_zero() || n == 0 {
        "—".into()
    } else {
        format!("{:.1}/s", n as f64 / span.as_secs_f64())
    }
}

fn seconds(values: &[f64]) -> (String, String, String) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| -> String {
        if sorted.is_empty() {
            return "—".into();
        }
        let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        format!("{:.2}", sorted[i])
    };
    (q(0.5), q(0.99), q(1.0))
}

pub fn render(w: &mut String, r: &Result<Pipeline>) {
    let _ = writeln!(w, "## The pipeline at race scale (issue 18)\n");
    let p = match r {
        Err(e) => {
            let _ = writeln!(w, "Not measured: {}\n", crate::report::cell(e));
            return;
        }
        Ok(p) => p,
    };
    let _ = writeln!(
        w,
        "The local stack as `make dev` wires it (gateway, the stream and queue mappings with \
         template.yaml's batch sizes and windows, a Discord stand-in, the mailbox reading the \
         emulator's SES; the functions in the bench's process), {} runners registered to one \
         marathon (setup: {:.0} s, not measured), then their {} official results PUT by the \
         organizer through the gateway, {} at once. Each result's way is followed by its \
         correlation id to its Discord post and by its runner's address to its mail; waiting \
         stopped when all had arrived or {} s after the last PUT. The bulk import's own \
         5,000-finisher part belongs to the import work.\n",
        p.results,
        p.setup.as_secs_f64(),
        p.results,
        p.concurrency,
        p.drain.as_secs()
    );
    let statuses: Vec<String> = {
        let mut s: Vec<_> = p.put_statuses.iter().collect();
        s.sort();
        s.into_iter().map(|(k, v)| format!("{k}: {v}")).collect()
    };
    let (put50, put99, putmax) = seconds(&p.put_latency);
    let (d50, d99, dmax) = seconds(&p.to_discord);
    let (m50, m99, mmax) = seconds(&p.to_mail);
    let _ = writeln!(w, "| stage | done | throughput | p50 (s) | p99 (s) | max (s) |");
    let _ = writeln!(w, "|---|---|---|---|---|---|");
    let _ = writeln!(
        w,
        "| PUT answered (statuses {}) | {} | {} over {:.1} s | {put50} | {put99} | {putmax} |",
        statuses.join(", "),
        p.put_latency.len(),
        rate(p.put_latency.len(), p.put_span),
        p.put_span.as_secs_f64()
    );
    let _ = writeln!(
        w,
        "| PUT to its Discord post | {} of {} | {} over {:.1} s | {d50} | {d99} | {dmax} |",
        p.to_discord.len(),
        p.results,
        rate(p.to_discord.len(), p.discord_span),
        p.discord_span.as_secs_f64()
    );
    let _ = writeln!(
        w,
        "| PUT to its mail | {} of {} | {} over {:.1} s | {m50} | {m99} | {mmax} |",
        p.to_mail.len(),
        p.results,
        rate(p.to_mail.len(), p.mail_span),
        p.mail_span.as_secs_f64()
    );
    let _ = writeln!(
        w,
        "\nThroughput is results done over the time from the first PUT to the last one done. \
         **The emulator's share**: it serializes DynamoDB requests (one lock in \
         local/emulator.py) and every result costs some fifteen DynamoDB calls along the way \
         (the cost section counts them), so these rates are the emulator's ceiling, not the \
         functions': on AWS, DynamoDB serves them in parallel and each stage scales out \
         (the stream's shards, the queues' concurrent batches). The mailbox polls the \
         emulator's SES, so a mail's time is when it was fetched, up to one poll late.\n"
    );
}
