//! Cold init: from process start to the function's first `GET .../invocation/next`, with
//! its SDK config, clients, secrets and warm-up calls against the emulator. Interleaved
//! with the hello-world yardstick so that machine noise hits both alike.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::bootstrap::launch;
use crate::lab::{Function, HELLO, Lab, Result, release_binary, work_dir};
use crate::runtime_api::RuntimeApi;

/// A bootstrap that has not asked for work after this long is counted as failed.
const INIT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct ColdStart {
    /// Milliseconds, one per start.
    pub samples: Vec<f64>,
    /// CPU milliseconds the process used until it asked for work, one per start.
    pub cpu: Vec<f64>,
    /// The hello-world starts that ran right before this function's, one per start.
    pub paired_hello: Vec<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct ColdStarts {
    pub hello: Vec<f64>,
    pub hello_cpu: Vec<f64>,
    pub functions: BTreeMap<&'static str, ColdStart>,
    /// The init calls' round trips to the emulator from a warm client (milliseconds, one
    /// per round): how much of an init's wall time is the emulator's.
    pub emulator: BTreeMap<&'static str, Vec<f64>>,
    pub emulator_error: Option<String>,
}

/// `runs` rounds; in each, every function is started once, right after a hello-world start.
pub async fn measure(lab: &Lab, functions: &[Function], runs: usize) -> ColdStarts {
    let mut result = ColdStarts::default();
    let hello_binary = release_binary(HELLO);
    let no_env = BTreeMap::new();
    let mut envs = BTreeMap::new();
    for function in functions {
        match lab.function_env(function) {
            Ok(env) => {
                envs.insert(function.package, env);
            }
            Err(e) => {
                result.functions.entry(function.package).or_default().error = Some(e);
            }
        }
    }
    let probe = envs.get("login").and_then(|env| {
        Some((
            env.get("USERS_TABLE")?.clone(),
            env.get("SIGNING_KEY_SECRET")?.clone(),
        ))
    });
    let topic = envs
        .get("official-record-stream")
        .and_then(|env| env.get("RECORD_EVENTS_TOPIC").cloned());
    for round in 1..=runs {
        eprintln!("cold init: round {round}/{runs}");
        if let Some((table, secret)) = &probe {
            match round_trips(lab, table, secret, topic.as_deref()).await {
                Ok(calls) => {
                    for (call, ms) in calls {
                        result.emulator.entry(call).or_default().push(ms);
                    }
                }
                Err(e) => result.emulator_error = Some(e),
            }
        }
        for function in functions {
            let Some(env) = envs.get(function.package) else {
                continue;
            };
            let entry = result.functions.entry(function.package).or_default();
            if entry.error.is_some() && entry.samples.is_empty() {
                continue; // it never started: no point trying again every round
            }
            let hello = start_once(lab, HELLO, &hello_binary, 128, &no_env).await;
            let measured = start_once(
                lab,
                function.package,
                &release_binary(function.package),
                lab.memory_size(function.logical_id),
                env,
            )
            .await;
            match (hello, measured) {
                (Ok(h), Ok(f)) => {
                    result.hello.push(h.wall);
                    result.hello_cpu.push(h.cpu);
                    entry.paired_hello.push(h.wall);
                    entry.samples.push(f.wall);
                    entry.cpu.push(f.cpu);
                }
                (Err(e), _) => {
                    entry.error = Some(format!("hello-world did not start: {e}"));
                }
                (Ok(h), Err(e)) => {
                    result.hello.push(h.wall);
                    result.hello_cpu.push(h.cpu);
                    entry.error = Some(e);
                }
            }
        }
    }
    result
}

/// The calls functions make in init, timed against the emulator: a GetItem of a missing
/// key (the DynamoDB warm-up), a GetSecretValue (login's signing key) and, when the topic
/// is known, a GetTopicAttributes (the SNS warm-up).
async fn round_trips(
    lab: &Lab,
    table: &str,
    secret: &str,
    topic: Option<&str>,
) -> Result<Vec<(&'static str, f64)>> {
    let dynamo = aws_sdk_dynamodb::Client::new(&lab.sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(&lab.sdk);
    let key = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    let started = Instant::now();
    dynamo
        .get_item()
        .table_name(table)
        .key("pk", key("WARMUP"))
        .key("sk", key("WARMUP"))
        .send()
        .await
        .map_err(|e| format!("GetItem: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    let get_item = started.elapsed();
    let started = Instant::now();
    secrets
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .map_err(|e| {
            format!(
                "GetSecretValue: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    let get_secret = started.elapsed();
    let mut calls = vec![
        ("DynamoDB GetItem (the warm-up)", get_item.as_secs_f64() * 1000.0),
        (
            "Secrets Manager GetSecretValue",
            get_secret.as_secs_f64() * 1000.0,
        ),
    ];
    if let Some(topic) = topic {
        let sns = aws_sdk_sns::Client::new(&lab.sdk);
        let started = Instant::now();
        sns.get_topic_attributes()
            .topic_arn(topic)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "GetTopicAttributes: {}",
                    aws_sdk_sns::error::DisplayErrorContext(e)
                )
            })?;
        calls.push((
            "SNS GetTopicAttributes (the warm-up)",
            started.elapsed().as_secs_f64() * 1000.0,
        ));
    }
    Ok(calls)
}

/// One cold start: wall and CPU milliseconds until the first request for work.
struct Start {
    wall: f64,
    cpu: f64,
}

async fn start_once(
    lab: &Lab,
    name: &str,
    binary: &Path,
    memory: u64,
    function_env: &BTreeMap<String, String>,
) -> Result<Start> {
    let mut api = RuntimeApi::start(name)
        .await
        .map_err(|e| format!("cannot start the Runtime API stub: {e}"))?;
    let env = lab.process_env(name, memory, &api.address(), function_env);
    let log = work_dir().join("logs").join(format!("{name}.cold.log"));
    let mut running = launch(binary, &env, &log)?;
    let outcome = match running.first_poll(&mut api, INIT_TIMEOUT).await {
        Ok(wall) => running.cpu_time().map(|cpu| Start {
            wall: wall.as_secs_f64() * 1000.0,
            cpu: cpu.as_secs_f64() * 1000.0,
        }),
        Err(e) => Err(e),
    };
    running.stop().await;
    outcome
}
