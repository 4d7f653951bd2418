//! The fault-injection soak (`make soak`, and a short run in `make test`): a history of
//! result operations driven through the local stack's HTTP API, with the real functions
//! in-process, while faults are injected everywhere the system can meet them; then, once
//! the system is quiet, a checker compares what the history implies with what the system
//! did: every runner's total and ledger, the Discord posts and the mailbox, counted as
//! lost, duplicated and unexpected effects (Jepsen-style). docs/DESIGN.md, "Testing layers".
//!
//! The faults, all drawn from one seed:
//! - the emulator answers a share of the functions' DynamoDB, SNS, SQS and SES calls with
//!   throttling or a 5xx, half of the 5xx (SES's aside) after handling the request: the
//!   write happened, its answer is lost (local/emulator.py's random faults, by the
//!   functions' user agent: the stack's own pollers play AWS's control plane and are left
//!   alone);
//! - the Discord stand-in answers a share of the posts with 429 or 500;
//! - functions die in the middle of a batch after committing part of it, die while idle,
//!   and get batches twice (`chaos`);
//! - the points topic is deleted for a while mid-run and brought back with its
//!   subscription as one redeploy (as tests/whole_stack/outage.rs does).

pub mod chaos;
pub mod checker;
pub mod report;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use domain::{Role, UserId};
use local::http_client::HttpClient;
use local::{InProcess, ServiceOptions, Services, Stack};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::{
    Accounts, discord_sink, mark_email_verified, with_notifiers_tuned, with_points_pipeline, with_record_api,
};

/// The functions' SDK calls carry this in their user agent; the emulator faults only them.
pub const FUNCTION_AGENT: &str = "mrmrthon-soak";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub operations: usize,
    /// The share of calls, posts and invocations faulted (0 to 1).
    pub faults: f64,
    pub seed: u64,
    pub runners: usize,
    pub marathons: usize,
    /// How long the points topic is gone (none when zero).
    pub outage: Duration,
    /// Operations in flight at once (each result's operations stay in order).
    pub workers: usize,
    /// How long the faults stay on after the last operation (less once every effect is
    /// there): the pipeline catches up under them.
    pub faulty_for: Duration,
    /// How long the system may take to become quiet and right after the last operation,
    /// the faulty time included. A message whose consumer died comes back after its
    /// queue's visibility (the consumer's timeout, up to 60 s): a bound below that after
    /// the heal would count such a late effect as lost.
    pub settle: Duration,
}

impl Config {
    /// `make soak`'s defaults.
    pub fn full() -> Config {
        Config {
            operations: 500,
            faults: 0.2,
            seed: 1,
            runners: 30,
            marathons: 6,
            outage: Duration::from_secs(60),
            workers: 8,
            faulty_for: Duration::from_secs(75),
            settle: Duration::from_secs(300),
        }
    }

    /// The run `make test` includes.
    pub fn short() -> Config {
        Config {
            operations: 60,
            faults: 0.1,
            seed: 7,
            runners: 8,
            marathons: 3,
            outage: Duration::from_secs(5),
            workers: 6,
            faulty_for: Duration::from_secs(15),
            settle: Duration::from_secs(90),
        }
    }

    /// `base` overridden by SOAK_OPS, SOAK_FAULTS, SOAK_SEED, SOAK_RUNNERS,
    /// SOAK_MARATHONS, SOAK_OUTAGE (seconds), SOAK_WORKERS, SOAK_FAULTY_FOR and SOAK_SETTLE
    /// (seconds).
    pub fn from_env(base: Config) -> Result<Config, String> {
        fn var<T: std::str::FromStr>(name: &str, value: T) -> Result<T, String> {
            match std::env::var(name) {
                Ok(raw) if !raw.trim().is_empty() => raw
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}={raw} is not a usable value")),
                _ => Ok(value),
            }
        }
        let config = Config {
            operations: var("SOAK_OPS", base.operations)?,
            faults: var("SOAK_FAULTS", base.faults)?,
            seed: var("SOAK_SEED", base.seed)?,
            runners: var("SOAK_RUNNERS", base.runners)?,
            marathons: var("SOAK_MARATHONS", base.marathons)?,
            outage: Duration::from_secs(var("SOAK_OUTAGE", base.outage.as_secs())?),
            workers: var("SOAK_WORKERS", base.workers)?,
            faulty_for: Duration::from_secs(var("SOAK_FAULTY_FOR", base.faulty_for.as_secs())?),
            settle: Duration::from_secs(var("SOAK_SETTLE", base.settle.as_secs())?),
        };
        if !(0.0..=0.5).contains(&config.faults) {
            return Err("SOAK_FAULTS is a share between 0 and 0.5".into());
        }
        if config.operations == 0 || config.operations > 7200 {
            return Err(
                "SOAK_OPS is between 1 and 7200 (finish times are 2:00:00 plus the operation's number)"
                    .into(),
            );
        }
        if config.runners == 0 || config.marathons == 0 || config.workers == 0 {
            return Err("SOAK_RUNNERS, SOAK_MARATHONS and SOAK_WORKERS are at least 1".into());
        }
        Ok(config)
    }
}

/// What an operation did to a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    Record,
    ReRecord,
    /// A new finish time, the same bonus: the points do not move.
    Correct,
    /// A new finish time and another bonus: the points move.
    Bonus,
    Delete,
}

impl OpKind {
    pub fn label(self) -> &'static str {
        match self {
            OpKind::Record => "result created",
            OpKind::ReRecord => "result re-recorded after a deletion",
            OpKind::Correct => "finish time corrected",
            OpKind::Bonus => "bonus changed",
            OpKind::Delete => "result deleted",
        }
    }
}

/// One committed operation of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub index: usize,
    pub slot: usize,
    pub kind: OpKind,
    pub correlation_id: String,
    /// The version the change wrote (a deletion's is the deleted version plus one).
    pub version: u64,
    /// What the result contributes to its runner's total after the change.
    pub contribution: i64,
    /// "H:MM:SS"; none for a deletion.
    pub finish_time: Option<String>,
    /// HTTP attempts it took to get a definite answer.
    pub attempts: u32,
}

/// A (marathon, runner) pair: one result's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub marathon: String,
    pub marathon_name: String,
    pub marathon_points: i64,
    pub runner: UserId,
    pub email: String,
}

impl Slot {
    /// As official-record-stream and point-increase name it.
    pub fn result_id(&self) -> String {
        format!("{}.{}", self.marathon, self.runner)
    }
}

/// Everything the checker needs and the report shows.
pub struct Outcome {
    pub config: Config,
    pub slots: Vec<Slot>,
    pub history: Vec<Op>,
    pub figures: checker::Figures,
    pub faults: report::FaultFigures,
    pub timings: report::Timings,
}

impl Outcome {
    pub fn clean(&self) -> bool {
        self.figures.lost() == 0 && self.figures.duplicated() == 0 && self.figures.unexpected() == 0
    }
}

/// Runs the soak on `stack` (provisioned, its tables possibly holding other tests' data:
/// the checker looks at this run's runners only).
pub async fn run(stack: &Stack, config: &Config) -> Result<Outcome, String> {
    let started = Instant::now();
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    // the functions' calls, and only theirs, carry the agent the emulator faults
    let function_sdk = sdk
        .to_builder()
        .app_name(aws_config::AppName::new(FUNCTION_AGENT).map_err(|e| e.to_string())?)
        .build();
    shorten_visibility(&sdk, provisioned).await?;

    let sink = discord_sink(provisioned, &sdk).await;
    let invoker = with_record_api(InProcess::new(), provisioned, &function_sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &function_sdk).await;
    // a mail SES cannot take waits on MailRetryQueue 1 or 2 s, not 10 or 60: the settle
    // time of a bounded run covers it
    let invoker = with_notifiers_tuned(invoker, provisioned, &function_sdk, |settings| {
        settings.limits.retry_delays = log_mailer::deferred::RetryDelays {
            security: Duration::from_secs(1),
            other: Duration::from_secs(2),
        };
    })
    .await;
    let chaos = Arc::new(chaos::Chaos::new(invoker, config.faults, config.seed));
    let mailbox_dir = std::env::temp_dir().join(format!("mrmrthon-soak-mailbox-{}", ulid::Ulid::new()));
    let services = Services::start(
        stack.endpoint(),
        provisioned,
        Arc::clone(&chaos) as Arc<dyn local::Invoker>,
        ServiceOptions::for_tests(Some(mailbox_dir.clone())),
    )
    .await
    .map_err(|e| format!("the local stack's services: {e}"))?;
    let api = services.api_url().ok_or("no gateway")?;

    let setup = Instant::now();
    let world = World::create(stack, &sdk, &api, config).await?;
    let setup = setup.elapsed();

    // faults on
    if config.faults > 0.0 {
        local::moto_api::set_faults(
            stack.endpoint(),
            &json!({"random": {
                "share": config.faults, "seed": config.seed, "agent": format!("app/{FUNCTION_AGENT}"),
                "services": ["dynamodb", "sns", "sqs", "ses"], "after": 0.5, "seconds": 3600,
            }}),
        )
        .await
        .map_err(|e| e.to_string())?;
        sink.random_faults(config.faults, config.seed.wrapping_add(1));
    }
    chaos.start();

    let driving = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let outage = (!config.outage.is_zero()).then(|| {
        let (endpoint, sdk, topic) = (
            stack.endpoint().to_owned(),
            sdk.clone(),
            provisioned
                .function_env("OfficialRecordStreamFunction")
                .map(|env| env["RECORD_EVENTS_TOPIC"].clone()),
        );
        let (length, next, third) = (config.outage, Arc::clone(&next), config.operations / 3);
        tokio::spawn(async move {
            // a third of the way in: the history is under way and goes on during it
            while next.load(std::sync::atomic::Ordering::SeqCst) < third {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            topic_outage(&endpoint, &sdk, &topic.map_err(|e| e.to_string())?, length).await
        })
    });
    let history = drive(&world, &api, config, &next).await?;
    let driven = driving.elapsed();
    if let Some(outage) = outage {
        outage.await.map_err(|e| e.to_string())??;
    }

    // Jepsen's shape: the faults stay on while the pipeline catches up (most of its work
    // happens now) for `faulty_for` at most, then they all heal and the
    // system must converge: what is still missing then was late, not lost, unless it never
    // comes. Then, until the queues are empty, and a little longer for late duplicates.
    let settling = Instant::now();
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let users_table = provisioned
        .physical_name("UsersTable")
        .ok_or("UsersTable")?
        .to_owned();
    let mailbox = services.mailbox.as_ref().ok_or("no mailbox")?;
    let mut parsed = checker::ParsedMail::default();
    let observe = async |parsed: &mut checker::ParsedMail| -> Result<checker::Figures, String> {
        let ledger = checker::read_ledger(&dynamo, &users_table, &world.slots).await?;
        parsed.read(&mailbox.mails());
        Ok(checker::check(
            &world.slots,
            &history,
            &ledger,
            &sink.posts(),
            parsed,
        ))
    };
    let mut figures = observe(&mut parsed).await?;
    while figures.lost() > 0 && settling.elapsed() < config.faulty_for.min(config.settle) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        figures = observe(&mut parsed).await?;
    }
    let (healed_after, missing_at_heal) = (settling.elapsed(), figures.lost());
    chaos.stop();
    local::moto_api::set_faults(stack.endpoint(), &json!({"random": null}))
        .await
        .map_err(|e| e.to_string())?;
    sink.random_faults(0.0, 0);
    while figures.lost() > 0 && settling.elapsed() < config.settle {
        tokio::time::sleep(Duration::from_secs(1)).await;
        figures = observe(&mut parsed).await?;
    }
    while settling.elapsed() < config.settle && report::work_in_queues(&sdk, provisioned).await? > 0 {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let settled = settling.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let counts = local::moto_api::fault_counts(stack.endpoint())
        .await
        .map_err(|e| e.to_string())?;
    let figures = observe(&mut parsed).await?;
    if let Ok(path) = std::env::var("SOAK_HOPS") {
        // the last hops, to see where something stopped
        let _ = services.hops.write_recent(std::path::Path::new(&path), 5000);
    }
    let dead_letters = report::dead_letters(&sdk, provisioned).await?;

    let faults = report::FaultFigures {
        emulator: counts,
        discord_posts: sink.posts().len(),
        discord_refused: sink
            .posts()
            .iter()
            .filter(|p| !(200..300).contains(&p.status))
            .count(),
        functions: chaos.injected(),
        outage: config.outage,
        dead_letters,
        api_attempts: history.iter().map(|op| u64::from(op.attempts)).sum(),
    };
    services.stop().await;
    sink.stop().await;
    let _ = std::fs::remove_dir_all(&mailbox_dir);
    Ok(Outcome {
        config: config.clone(),
        slots: world.slots.clone(),
        history,
        figures,
        faults,
        timings: report::Timings {
            setup,
            driven,
            healed_after,
            missing_at_heal,
            settled,
            total: started.elapsed(),
        },
    })
}

/// Each work queue hides a message for as long as its consumer may run, the least Lambda
/// allows, instead of six times that: a batch whose function died comes back in seconds,
/// so a bounded soak sees many such retries.
async fn shorten_visibility(sdk: &SdkConfig, provisioned: &local::Provisioned) -> Result<(), String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for (queue, function) in [
        ("PointIncreaseQueue", "PointIncreaseFunction"),
        ("DiscordNotifyQueue", "DiscordWebhookFunction"),
        ("MailRetryQueue", "LogMailerFunction"),
    ] {
        let url = provisioned.url(queue).ok_or(queue)?;
        let timeout = provisioned.function(function).ok_or(function)?.timeout;
        sqs.set_queue_attributes()
            .queue_url(url)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                timeout.as_secs().to_string(),
            )
            .send()
            .await
            .map_err(|e| format!("SetQueueAttributes {queue}: {e}"))?;
    }
    Ok(())
}

/// The soak's accounts and marathons.
struct World {
    organizer_token: String,
    slots: Vec<Slot>,
}

impl World {
    /// An organizer, `runners` runners (addresses verified: result mails go to verified
    /// addresses), `marathons` marathons raced today, every runner registered for each.
    async fn create(stack: &Stack, sdk: &SdkConfig, api: &str, config: &Config) -> Result<World, String> {
        let provisioned = stack.provisioned();
        let accounts = Accounts::connect(provisioned, sdk).await;
        let (_, organizer_token) = accounts.user(Role::Organizer).await;
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let users_table = provisioned.physical_name("UsersTable").ok_or("UsersTable")?;
        let mut runners = Vec::new();
        for _ in 0..config.runners {
            let (id, token) = accounts.user(Role::Runner).await;
            mark_email_verified(&dynamo, users_table, &id).await;
            let email = format!("{}@example.com", id.as_str().to_lowercase());
            runners.push((id, token, email));
        }
        let http = HttpClient::new();
        let date = time::OffsetDateTime::now_utc().date();
        // a run of its own: names the mails can be told apart by
        let run = ulid::Ulid::new().to_string()[20..].to_owned();
        let mut marathons = Vec::new();
        for m in 0..config.marathons {
            let name = format!("Soak {run} Marathon {m:02}");
            let points = 100 + 10 * m as i64;
            let body = json!({
                "name": name, "date": date.to_string(), "location": "Yeouido", "course": "full",
                "points": points, "capacity": config.runners + 1,
                "registration_closes_at": format!("{date}T23:59:59Z"),
            });
            let (status, created) = request(
                &http,
                api,
                http::Method::POST,
                "/marathons",
                &organizer_token,
                None,
                Some(body),
            )
            .await?;
            if status != 201 {
                return Err(format!("creating a marathon: {status} {created}"));
            }
            let id = created["id"].as_str().ok_or("a marathon id")?.to_owned();
            marathons.push((id, name, points));
        }
        let mut registrations = JoinSet::new();
        for (marathon, _, _) in &marathons {
            for (_, token, _) in &runners {
                let (http, api, path, token) = (
                    http.clone(),
                    api.to_owned(),
                    format!("/marathons/{marathon}/entries"),
                    token.clone(),
                );
                registrations.spawn(async move {
                    let (status, body) =
                        request(&http, &api, http::Method::POST, &path, &token, None, None).await?;
                    if status == 201 {
                        Ok(())
                    } else {
                        Err(format!("registering: {status} {body}"))
                    }
                });
                while registrations.len() >= 8 {
                    registrations
                        .join_next()
                        .await
                        .ok_or("a registration")?
                        .map_err(|e| e.to_string())??;
                }
            }
        }
        while let Some(done) = registrations.join_next().await {
            done.map_err(|e| e.to_string())??;
        }
        let mut slots = Vec::new();
        for (marathon, name, points) in &marathons {
            for (runner, _, email) in &runners {
                slots.push(Slot {
                    marathon: marathon.clone(),
                    marathon_name: name.clone(),
                    marathon_points: *points,
                    runner: runner.clone(),
                    email: email.clone(),
                });
            }
        }
        Ok(World {
            organizer_token,
            slots,
        })
    }
}

/// One JSON call through the gateway: status and body (null when none). A transport
/// failure is an error (the gateway is in this process: it does not fail).
async fn request(
    http: &HttpClient,
    api: &str,
    method: http::Method,
    path: &str,
    token: &str,
    correlation_id: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, Value), String> {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    if let Some(id) = correlation_id {
        headers.push(("x-correlation-id", id));
    }
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let reply = http
        .request(
            method,
            &format!("{api}{path}"),
            &headers,
            body,
            Duration::from_secs(90),
        )
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    Ok((reply.status, reply.json().unwrap_or(Value::Null)))
}

/// What the driver knows of a result between its operations.
#[derive(Debug, Clone, Default)]
struct SlotState {
    /// The stored version and bonus, when the result exists.
    current: Option<(u64, i64)>,
    deleted: bool,
}

/// Drives `config.operations` operations, `config.workers` at a time; a slot belongs to one
/// worker, so a result's operations are never concurrent (no 409 between them).
async fn drive(
    world: &World,
    api: &str,
    config: &Config,
    next: &Arc<std::sync::atomic::AtomicUsize>,
) -> Result<Vec<Op>, String> {
    let mut workers = JoinSet::new();
    for worker in 0..config.workers {
        let slots: Vec<usize> = (0..world.slots.len())
            .filter(|s| s % config.workers == worker)
            .collect();
        if slots.is_empty() {
            continue;
        }
        let (next, world_slots, token, api, operations, seed) = (
            Arc::clone(next),
            world.slots.clone(),
            world.organizer_token.clone(),
            api.to_owned(),
            config.operations,
            config.seed,
        );
        workers.spawn(async move {
            let mut draws = StdRng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(worker as u64));
            let mut states: BTreeMap<usize, SlotState> = BTreeMap::new();
            let http = HttpClient::new();
            let mut ops = Vec::new();
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if index >= operations {
                    return Ok::<_, String>(ops);
                }
                let slot = slots[draws.random_range(0..slots.len())];
                let state = states.entry(slot).or_default();
                let op = operate(
                    &http,
                    &api,
                    &token,
                    &world_slots[slot],
                    slot,
                    state,
                    index,
                    seed,
                    &mut draws,
                )
                .await?;
                ops.push(op);
            }
        });
    }
    let mut history = Vec::new();
    while let Some(done) = workers.join_next().await {
        history.extend(done.map_err(|e| e.to_string())??);
    }
    history.sort_by_key(|op| op.index);
    Ok(history)
}

/// One operation on a result, retried until the API gives a definite answer. A retry
/// after an answer that was lost (a 5xx: a killed function, a dependency down) may find
/// the change made: a PUT then answers 200 with the result as sent, a DELETE 404.
#[allow(clippy::too_many_arguments)]
async fn operate(
    http: &HttpClient,
    api: &str,
    token: &str,
    slot: &Slot,
    slot_index: usize,
    state: &mut SlotState,
    index: usize,
    seed: u64,
    draws: &mut StdRng,
) -> Result<Op, String> {
    let kind = match state.current {
        None if state.deleted => OpKind::ReRecord,
        None => OpKind::Record,
        Some(_) => match draws.random_range(0..10) {
            0..=3 => OpKind::Correct,
            4..=6 => OpKind::Bonus,
            _ => OpKind::Delete,
        },
    };
    let correlation_id = format!("soak-{seed}-{index}");
    let path = format!("/marathons/{}/results/{}", slot.marathon, slot.runner);
    // unique in the whole run: a mail is told from another by it
    let finish_seconds = 2 * 3600 + index as u64;
    let finish_time = format!(
        "{}:{:02}:{:02}",
        finish_seconds / 3600,
        finish_seconds / 60 % 60,
        finish_seconds % 60
    );
    let bonus = match (kind, state.current) {
        (OpKind::Correct, Some((_, bonus))) => bonus,
        (OpKind::Bonus, Some((_, bonus))) => (bonus + draws.random_range(1..=50)) % 60,
        _ => draws.random_range(0..=50),
    };
    let mut attempts = 0;
    let mut backoff = Duration::from_millis(50);
    loop {
        attempts += 1;
        if attempts > 60 {
            return Err(format!("{path}: no definite answer after 60 attempts"));
        }
        let (method, body) = if kind == OpKind::Delete {
            (http::Method::DELETE, None)
        } else {
            (
                http::Method::PUT,
                Some(json!({"finish_time": finish_time, "bonus_points": bonus})),
            )
        };
        let (status, reply) = request(http, api, method, &path, token, Some(&correlation_id), body).await?;
        let committed = match (kind, status) {
            (OpKind::Delete, 204) => true,
            (OpKind::Delete, 404) if attempts > 1 => true,
            (_, 200 | 201) if kind != OpKind::Delete => true,
            (_, 500..=599) => false,
            _ => {
                return Err(format!(
                    "{} {path} (attempt {attempts}): {status} {reply}",
                    kind.label()
                ));
            }
        };
        if !committed {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
            continue;
        }
        let (version, contribution, finish) = if kind == OpKind::Delete {
            let (stored, _) = state.current.ok_or("a deletion of no result")?;
            state.current = None;
            state.deleted = true;
            (stored + 1, 0, None)
        } else {
            let version = reply["version"]
                .as_u64()
                .ok_or_else(|| format!("no version in {reply}"))?;
            if reply["finish_time"] != json!(finish_time) {
                return Err(format!("{path}: answered {reply} for {finish_time}"));
            }
            state.current = Some((version, bonus));
            (version, slot.marathon_points + bonus, Some(finish_time.clone()))
        };
        return Ok(Op {
            index,
            slot: slot_index,
            kind,
            correlation_id,
            version,
            contribution,
            finish_time: finish,
            attempts,
        });
    }
}

/// The points topic goes away with its subscription for `length`, then both come back as
/// one redeploy (the emulator refuses publishes until both exist, as tests/whole_stack/outage.rs does).
async fn topic_outage(endpoint: &str, sdk: &SdkConfig, topic: &str, length: Duration) -> Result<(), String> {
    let sns = aws_sdk_sns::Client::new(sdk);
    let subscriptions = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let subscription = subscriptions
        .subscriptions()
        .first()
        .ok_or("the topic's subscription")?
        .clone();
    let attributes = sns
        .get_subscription_attributes()
        .subscription_arn(subscription.subscription_arn().unwrap_or_default())
        .send()
        .await
        .map_err(|e| e.to_string())?
        .attributes
        .unwrap_or_default();
    sns.delete_topic()
        .topic_arn(topic)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::sleep(length).await;
    local::moto_api::set_faults(endpoint, &json!({"sns": {"seconds": 30}}))
        .await
        .map_err(|e| e.to_string())?;
    let created = sns
        .create_topic()
        .name(topic.rsplit(':').next().unwrap_or_default())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if created.topic_arn() != Some(topic) {
        return Err(format!("the topic came back as {:?}", created.topic_arn()));
    }
    let mut resubscribe = sns
        .subscribe()
        .topic_arn(topic)
        .protocol(subscription.protocol().unwrap_or_default())
        .endpoint(subscription.endpoint().unwrap_or_default());
    for name in ["RawMessageDelivery", "FilterPolicy"] {
        if let Some(value) = attributes.get(name) {
            resubscribe = resubscribe.attributes(name, value);
        }
    }
    resubscribe.send().await.map_err(|e| e.to_string())?;
    local::moto_api::set_faults(endpoint, &json!({"sns": null}))
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}
