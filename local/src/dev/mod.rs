//! The `mrmrthon-local` command line:
//!
//! - `dev [--port 4566] [--invoke-port 9000] [--api-port 3000] [--sink-port 3001] [--no-reload] [--parameter K=V]...`:
//!   the whole system until Ctrl-C: the emulator (started or reused), the Discord sink,
//!   provisioning (the sink's URL as the `DiscordWebhookUrl` parameter and the gateway's
//!   origin as `SiteUrl` when the template declares them), `.local/functions.env`,
//!   `cargo lambda watch`, the site's build (`npm run watch` in web/), the gateway (the
//!   site, and the HTTP API under /api/), the event source mappings and the mailbox, with
//!   one log line per hop.
//! - `provision --endpoint URL [--stack NAME] [--parameter K=V]...`: provision a running emulator.
//! - `env`: print `.local/functions.env`.
//! - `redrive --queue DLQ_LOGICAL_ID [--endpoint URL]`: move a dead-letter queue's messages
//!   back to the queue whose RedrivePolicy names it, on the emulator;
//!   `redrive --dlq URL --to URL [--endpoint URL]`: the same by URL, also against AWS
//!   (no `--endpoint`: the standard AWS configuration).
//! - `replay --queue ON_FAILURE_QUEUE_LOGICAL_ID [--endpoint URL] [--invoke-url URL]`: replay
//!   a stream mapping's on-failure queue through the functions of the running `dev`;
//!   `replay --queue-url URL`: the same against AWS (see `replay`).
//! - `reconcile [--endpoint URL] [--invoke-url URL]`: one reconcile pass through the running
//!   `dev`'s function (see `reconcile`).
//! - `status [--endpoint URL] [--hops N]`: the running stack at a glance (see `status`).
//! - `seed [--api URL]`: a demo through the running stack's HTTP API (see `seed`).
//! - `reset`: forget the saved state, the hops and the mailbox (refused while `dev` runs).

mod build;
pub mod children;
pub mod env_file;
pub mod persist;
mod reconcile;
mod replay;
pub mod running;
pub mod seed;
pub mod status;
mod summary;
mod web;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::emulator::{self, Emulator, venv_dir};
use crate::error::{Error, Result};
use crate::esm::Checkpoints;
use crate::function_host::FunctionHost;
use crate::gateway::{Site, SiteHeaders};
use crate::hops::Hops;
use crate::invoke::WatchInvoker;
use crate::moto_api;
use crate::provision::{self, Options, Provisioned};
use crate::services::{ServiceOptions, Services};
use crate::sink::Sink;
use crate::stack::{STACK_NAME, template_path};
use crate::state::{self, Snapshot};
use crate::template::Template;
use crate::timing::Timing;
use children::Supervised;

/// The template parameter `dev` points at the Discord sink, when the template declares it.
pub const DISCORD_WEBHOOK_PARAMETER: &str = "DiscordWebhookUrl";

/// The template parameter that gives the site's public origin (links in mails and Discord
/// posts); `dev` sets it to the gateway's, `http://127.0.0.1:<api port>`, when declared.
pub const SITE_URL_PARAMETER: &str = "SiteUrl";

const USAGE: &str = "\
usage:
  mrmrthon-local dev [--port 4566] [--invoke-port 9000] [--api-port 3000] [--sink-port 3001] [--no-reload] [--parameter NAME=VALUE]...
  mrmrthon-local provision --endpoint URL [--stack NAME] [--parameter NAME=VALUE]...
  mrmrthon-local env
  mrmrthon-local redrive --queue DLQ_LOGICAL_ID [--endpoint http://127.0.0.1:4566]
  mrmrthon-local redrive --dlq URL --to URL [--endpoint URL]
  mrmrthon-local replay --queue ON_FAILURE_QUEUE_LOGICAL_ID [--endpoint http://127.0.0.1:4566] [--invoke-url http://127.0.0.1:9000]
  mrmrthon-local replay --queue-url URL
  mrmrthon-local reconcile [--endpoint http://127.0.0.1:4566] [--invoke-url http://127.0.0.1:9000]
  mrmrthon-local status [--endpoint URL] [--hops 15]
  mrmrthon-local seed [--api URL]
  mrmrthon-local reset";

/// `dev`'s ports and parameter overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevOptions {
    pub port: u16,
    pub invoke_port: u16,
    pub api_port: u16,
    pub sink_port: u16,
    /// `cargo lambda watch --ignore-changes`: no rebuild when files change.
    pub no_reload: bool,
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cli {
    Dev(DevOptions),
    Provision {
        endpoint: String,
        stack: String,
        parameters: BTreeMap<String, String>,
    },
    Env,
    Redrive {
        /// A DLQ's logical id in template.yaml (local), or its URL with `to`.
        queue: Option<String>,
        dlq: Option<String>,
        to: Option<String>,
        endpoint: Option<String>,
    },
    Replay(replay::ReplayOptions),
    /// One reconcile pass through `make dev`'s function.
    Reconcile {
        endpoint: Option<String>,
        invoke_url: Option<String>,
    },
    /// Without an endpoint: the running `dev`'s, else the default port's.
    Status {
        endpoint: Option<String>,
        hops: usize,
    },
    Seed {
        api: Option<String>,
    },
    Reset,
    Help,
}

/// Entry point of the binary.
pub async fn main(args: Vec<String>) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let command = match parse(&args) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Cli::Dev(options) => dev(options).await,
        Cli::Provision {
            endpoint,
            stack,
            parameters,
        } => provision_only(&endpoint, &stack, parameters).await,
        Cli::Env => print_env(),
        Cli::Redrive {
            queue,
            dlq,
            to,
            endpoint,
        } => redrive(queue, dlq, to, endpoint).await,
        Cli::Replay(options) => replay::run(options).await,
        Cli::Reconcile { endpoint, invoke_url } => reconcile::run(endpoint, invoke_url).await,
        Cli::Status { endpoint, hops } => print_status(endpoint, hops).await,
        Cli::Seed { api } => seed_demo(api).await,
        Cli::Reset => reset(),
        Cli::Help => {
            println!("{USAGE}");
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mrmrthon-local: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn parse(args: &[String]) -> std::result::Result<Cli, String> {
    let (command, rest) = match args.split_first() {
        None => return Ok(Cli::Help),
        Some((c, rest)) => (c.as_str(), rest),
    };
    let mut port = 4566;
    let mut invoke_port = 9000;
    let mut api_port = 3000;
    let mut sink_port = 3001;
    let mut no_reload = false;
    let mut endpoint = None;
    let mut api = None;
    let mut hops = 15;
    let (mut queue, mut dlq, mut to) = (None, None, None);
    let (mut queue_url, mut invoke_url) = (None, None);
    let mut stack = STACK_NAME.to_owned();
    let mut parameters = BTreeMap::new();
    let mut options = rest.iter();
    while let Some(option) = options.next() {
        let mut value = || {
            options
                .next()
                .cloned()
                .ok_or_else(|| format!("{option} needs a value"))
        };
        let port_value = |v: String| v.parse::<u16>().map_err(|_| format!("{option}: not a port: {v}"));
        match (command, option.as_str()) {
            ("dev", "--port") => port = port_value(value()?)?,
            ("dev", "--invoke-port") => invoke_port = port_value(value()?)?,
            ("dev", "--api-port") => api_port = port_value(value()?)?,
            ("dev", "--sink-port") => sink_port = port_value(value()?)?,
            ("dev", "--no-reload") => no_reload = true,
            ("provision" | "redrive" | "replay" | "reconcile" | "status", "--endpoint") => {
                endpoint = Some(value()?)
            }
            ("replay", "--queue") => queue = Some(value()?),
            ("replay", "--queue-url") => queue_url = Some(value()?),
            ("replay" | "reconcile", "--invoke-url") => invoke_url = Some(value()?),
            ("status", "--hops") => {
                let v = value()?;
                hops = v.parse().map_err(|_| format!("--hops: not a count: {v}"))?;
            }
            ("seed", "--api") => api = Some(value()?),
            ("redrive", "--queue") => queue = Some(value()?),
            ("redrive", "--dlq") => dlq = Some(value()?),
            ("redrive", "--to") => to = Some(value()?),
            ("provision", "--stack") => stack = value()?,
            ("dev" | "provision", "--parameter") => {
                let pair = value()?;
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--parameter takes NAME=VALUE, got {pair}"))?;
                parameters.insert(k.to_owned(), v.to_owned());
            }
            (_, "-h" | "--help") => return Ok(Cli::Help),
            _ => return Err(format!("unknown option for {command}: {option}")),
        }
    }
    match command {
        "dev" => Ok(Cli::Dev(DevOptions {
            port,
            invoke_port,
            api_port,
            sink_port,
            no_reload,
            parameters,
        })),
        "provision" => Ok(Cli::Provision {
            endpoint: endpoint.ok_or("provision needs --endpoint URL")?,
            stack,
            parameters,
        }),
        "env" => Ok(Cli::Env),
        "redrive" => match (&queue, &dlq, &to) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => Ok(Cli::Redrive {
                queue,
                dlq,
                to,
                endpoint,
            }),
            _ => Err("redrive needs --queue DLQ_LOGICAL_ID, or --dlq URL --to URL".into()),
        },
        "replay" => match (&queue, &queue_url) {
            (Some(_), None) | (None, Some(_)) => Ok(Cli::Replay(replay::ReplayOptions {
                queue,
                queue_url,
                endpoint,
                invoke_url,
            })),
            _ => Err("replay needs --queue ON_FAILURE_QUEUE_LOGICAL_ID, or --queue-url URL".into()),
        },
        "reconcile" => Ok(Cli::Reconcile { endpoint, invoke_url }),
        "status" => Ok(Cli::Status { endpoint, hops }),
        "seed" => Ok(Cli::Seed { api }),
        "reset" => Ok(Cli::Reset),
        "help" | "-h" | "--help" => Ok(Cli::Help),
        other => Err(format!("unknown command: {other}")),
    }
}

/// Moves a DLQ's messages back to their source queue.
async fn redrive(
    queue: Option<String>,
    dlq: Option<String>,
    to: Option<String>,
    endpoint: Option<String>,
) -> Result<()> {
    let (dlq, to, config) = match (queue, dlq, to) {
        (_, Some(dlq), Some(to)) => {
            let config = match &endpoint {
                Some(endpoint) => emulator::sdk_config(endpoint),
                None => {
                    aws_config::defaults(aws_config::BehaviorVersion::latest())
                        .load()
                        .await
                }
            };
            (dlq, to, config)
        }
        (Some(queue), _, _) => {
            let endpoint = endpoint.unwrap_or_else(|| "http://127.0.0.1:4566".to_owned());
            let provisioned = provision_endpoint(&endpoint, STACK_NAME, BTreeMap::new(), None).await?;
            let dlq_arn = provisioned
                .arn(&queue)
                .ok_or_else(|| Error::Redrive(format!("template.yaml has no queue {queue}")))?
                .to_owned();
            let template = Template::from_path(&template_path())?;
            // the source is the queue whose RedrivePolicy names this DLQ
            let source = template
                .resources
                .iter()
                .filter(|(_, r)| r.kind == "AWS::SQS::Queue")
                .find(|(_, r)| {
                    r.properties
                        .get("RedrivePolicy")
                        .and_then(|p| p.get("deadLetterTargetArn"))
                        .and_then(|target| provisioned.resolve(target).ok())
                        .is_some_and(|arn| arn.as_str() == Some(dlq_arn.as_str()))
                })
                .map(|(id, _)| id.clone())
                .ok_or_else(|| Error::Redrive(format!("no queue in template.yaml redrives to {queue}")))?;
            let url = |id: &str| {
                provisioned
                    .url(id)
                    .map(str::to_owned)
                    .ok_or_else(|| Error::Redrive(format!("{id} has no URL")))
            };
            (url(&queue)?, url(&source)?, emulator::sdk_config(&endpoint))
        }
        _ => return Err(Error::Redrive("name a DLQ".into())),
    };
    let sqs = aws_sdk_sqs::Client::new(&config);
    // SQS's own move task where the service has it (AWS), else a copy (the emulator)
    let moved = infra::redrive::move_back(&sqs, &dlq, &to, std::time::Duration::from_secs(5))
        .await
        .map_err(|e| Error::Redrive(e.to_string()))?;
    match moved {
        infra::redrive::Moved::ByTask { moved } => {
            println!("SQS's message move task moved {moved} messages from {dlq} to {to}")
        }
        infra::redrive::Moved::ByCopy { moved, why } => {
            println!("moved {moved} messages from {dlq} to {to} (copied: no message move task here: {why})")
        }
    }
    Ok(())
}

async fn dev(options: DevOptions) -> Result<()> {
    let DevOptions {
        port,
        invoke_port,
        api_port,
        sink_port,
        no_reload,
        mut parameters,
    } = options;
    let root = emulator::repo_root();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let hops = Hops::printing();

    let emulator = if moto_api::is_answering(&endpoint, Duration::from_millis(500)) {
        None
    } else {
        Some(
            tokio::task::spawn_blocking(move || Emulator::start(Some(port)))
                .await
                .map_err(|e| Error::Process(format!("emulator start panicked: {e}")))??,
        )
    };
    if let Some(emulator) = &emulator {
        emulator.forward_hops(hops.clone());
    }
    let emulator_line = match &emulator {
        Some(e) => format!("{endpoint} (started, pid {})", e.pid()),
        None => {
            format!("{endpoint} (already running, reused; not stopped on exit; its publishes are not logged)")
        }
    };

    // The sink first: its URL goes into the stack, as the secret the template's local
    // metadata names (`DiscordSink`) and as the `DiscordWebhookUrl` parameter if declared.
    let sink = Sink::start(sink_port, hops.clone()).await?;
    let template = Template::from_path(&template_path())?;
    if template.parameters.contains_key(DISCORD_WEBHOOK_PARAMETER) {
        parameters
            .entry(DISCORD_WEBHOOK_PARAMETER.to_owned())
            .or_insert_with(|| sink.webhook_url());
    }
    let sink_parameter = parameters.get(DISCORD_WEBHOOK_PARAMETER) == Some(&sink.webhook_url());
    default_site_url(&template, &mut parameters, api_port);

    let provisioned = provision_endpoint(&endpoint, STACK_NAME, parameters, Some(sink.webhook_url())).await?;

    // The saved state goes back before anything can read it: before the functions start
    // (they read the JWT key pair at init) and before the stream mappings are positioned.
    let state_clients = state::Clients::new(&emulator::sdk_config(&endpoint));
    let state_dir = state::state_dir();
    let saved = Snapshot::load(&state_dir)?;
    let (checkpoints, state_line) = match (&saved, emulator.is_some()) {
        (Some(snapshot), true) => {
            let checkpoints = state::restore(&state_clients, &provisioned, snapshot)
                .await
                .map_err(|e| Error::Process(format!("{e}\n(the saved state does not fit this template? `make reset` starts fresh)")))?;
            let line = format!(
                "restored {} items, {} dead-letter messages and the JWT key pair from {} (saved {})",
                snapshot.item_count(),
                snapshot.message_count(),
                relative(&root, &state::snapshot_path(&state_dir)),
                snapshot.taken_at
            );
            (checkpoints, line)
        }
        (Some(snapshot), false) => (
            snapshot.stream_checkpoints(),
            "the running emulator keeps its data (nothing restored); stream mappings resume at the saved checkpoints".to_owned(),
        ),
        (None, _) => (Checkpoints::new(), "no saved state: starting empty".to_owned()),
    };

    let env = env_file::functions_env(&provisioned, &endpoint)?;
    let env_path = env_file::path();
    env_file::write(&env_path, &env_file::render(&env)?)?;

    // Functions get their environment from the file only: cargo lambda itself would take
    // RUST_LOG=info and the like as its own settings.
    let mut watch_args: Vec<String> = vec![
        "lambda".into(),
        "watch".into(),
        "--invoke-address".into(),
        "127.0.0.1".into(),
        "--invoke-port".into(),
        invoke_port.to_string(),
        "--env-file".into(),
        env_path.display().to_string(),
    ];
    if no_reload {
        watch_args.push("--ignore-changes".into());
    }
    // Built now, with cargo's progress, so that the first request does not wait for a
    // compile; cargo lambda watch then finds the binaries up to date.
    build::functions(&root)?;
    let cargo_lambda = venv_dir().join("bin").join("cargo-lambda");
    let mut watch = Supervised::spawn("cargo lambda watch", &cargo_lambda, &watch_args, &root)?;
    let site_build = web::start(&root, no_reload)?;
    let mut site_watch = site_build.watch;

    let invoke_base = format!("http://127.0.0.1:{invoke_port}");
    let mailbox_dir = root.join(".local").join("mailbox");
    let services = Services::start(
        &endpoint,
        &provisioned,
        Arc::new(match watch.pid() {
            Some(pid) => WatchInvoker::new(&invoke_base).with_host(Arc::new(FunctionHost::new(pid))),
            None => WatchInvoker::new(&invoke_base),
        }),
        ServiceOptions {
            api_port: Some(api_port),
            site: Site::new(
                root.join("web").join("dist"),
                SiteHeaders::from_template(&template),
            ),
            mappings: true,
            mailbox_dir: Some(mailbox_dir.clone()),
            timing: Timing::dev(),
            hops: hops.clone(),
            checkpoints,
        },
    )
    .await?;

    summary::print(&summary::Summary {
        root: &root,
        emulator: &emulator_line,
        provisioned: &provisioned,
        ready_after: started.elapsed(),
        env_path: &env_path,
        invoke_base: &invoke_base,
        watch_pid: watch.pid(),
        services: &services,
        sink: &sink,
        sink_parameter,
        mailbox_dir: &mailbox_dir,
        site_build: &site_build.line,
    });

    let progress = services
        .mappings
        .as_ref()
        .map(|m| m.progress())
        .unwrap_or_default();
    let saver = persist::Saver::start(
        state_clients,
        state::Scope::of(&provisioned)?,
        progress,
        hops,
        state_dir.clone(),
        saved,
    );
    println!("  state          {state_line}");
    println!(
        "                 saved to {} every {} s once the pipeline is settled, and on Ctrl-C; `make reset` starts fresh",
        relative(&root, &state_dir),
        persist::SNAPSHOT_INTERVAL.as_secs()
    );
    let api_url = services.api_url().unwrap_or_default();
    running::Running {
        pid: std::process::id(),
        endpoint: endpoint.clone(),
        site_url: services.site_url().unwrap_or_default(),
        api_url,
        sink_url: sink.url(),
        started_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    }
    .write()?;

    // The site's watch may end (a broken vite config, say): the API goes on without it.
    enum Next {
        Stop(String, bool),
        SiteWatchEnded(String),
    }
    let (reason, functions_up) = loop {
        let next = tokio::select! {
            r = shutdown_signal() => Next::Stop(r, true),
            r = watch.exited() => Next::Stop(r, false),
            r = web::exited(site_watch.as_mut()) => Next::SiteWatchEnded(r),
        };
        match next {
            Next::Stop(reason, functions_up) => break (reason, functions_up),
            Next::SiteWatchEnded(r) => {
                println!(
                    "!! {r}: the site is no longer rebuilt on change (served as last built); restart `make dev` after fixing it"
                );
                site_watch = None;
            }
        }
    };
    println!("\nstopping ({reason})");
    let mut services = services;
    // No new requests; what is in flight drains through the mappings, then the last
    // snapshot. Without the functions nothing can drain: the last settled one stays.
    if let Some(gateway) = services.gateway.take() {
        gateway.stop().await;
    }
    if functions_up {
        tokio::select! {
            () = saver.finish() => {}
            r = shutdown_signal() => println!("{r} again: not waiting for the pipeline; the last settled snapshot is kept"),
        }
    } else {
        saver.abort();
    }
    services.stop().await;
    sink.stop().await;
    watch.stop().await;
    if let Some(site_watch) = site_watch {
        site_watch.stop().await;
    }
    drop(emulator);
    running::Running::remove();
    println!("stopped");
    Ok(())
}

/// `SiteUrl` is the gateway's origin unless given (`--parameter SiteUrl=...`), when the
/// template declares it: links in mails and posts then open the local site.
fn default_site_url(template: &Template, parameters: &mut BTreeMap<String, String>, api_port: u16) {
    if template.parameters.contains_key(SITE_URL_PARAMETER) {
        parameters
            .entry(SITE_URL_PARAMETER.to_owned())
            .or_insert_with(|| format!("http://127.0.0.1:{api_port}"));
    }
}

fn relative(root: &std::path::Path, path: &std::path::Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// The default emulator endpoint of `dev`.
pub(super) const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4566";

async fn print_status(endpoint: Option<String>, hops: usize) -> Result<()> {
    let running = running::Running::read();
    let endpoint = endpoint
        .or_else(|| {
            running
                .as_ref()
                .filter(|r| r.is_alive())
                .map(|r| r.endpoint.clone())
        })
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let text = status::report(&status::Sources {
        endpoint: &endpoint,
        running,
        hops_file: &persist::hops_path(),
        state_dir: &state::state_dir(),
        hops_shown: hops,
    })
    .await?;
    print!("{text}");
    Ok(())
}

async fn seed_demo(api: Option<String>) -> Result<()> {
    let api = match (api, running::Running::current()) {
        (Some(api), _) => api,
        (None, Some(running)) => running.api_url,
        (None, None) => {
            return Err(Error::Process(
                "`make dev` is not running (no live .local/dev.json): start it first, or pass --api URL"
                    .into(),
            ));
        }
    };
    seed::run(&api, &emulator::repo_root().join(".local").join("mailbox")).await
}

/// Forgets what `dev` keeps: the snapshot, the hop file and the mailbox.
fn reset() -> Result<()> {
    if let Some(running) = running::Running::current() {
        return Err(Error::Process(format!(
            "`make dev` is running (pid {}): stop it first (Ctrl-C), then reset",
            running.pid
        )));
    }
    let local = emulator::repo_root().join(".local");
    let mut removed = Vec::new();
    for path in [
        state::state_dir(),
        persist::hops_path(),
        local.join("mailbox"),
        running::path(),
    ] {
        let outcome = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match outcome {
            Ok(()) => removed.push(relative(&emulator::repo_root(), &path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::WriteFile { path, source }),
        }
    }
    if removed.is_empty() {
        println!("nothing to reset: no saved state");
    } else {
        println!("removed {}; the next `make dev` starts empty", removed.join(", "));
    }
    if moto_api::is_answering(DEFAULT_ENDPOINT, Duration::from_millis(500)) {
        println!(
            "note: an emulator still answers at {DEFAULT_ENDPOINT} (not started by `make dev`, which stops its own): \
             `make dev` reuses it with its data; stop it for a fresh start"
        );
    }
    Ok(())
}

async fn provision_only(endpoint: &str, stack: &str, parameters: BTreeMap<String, String>) -> Result<()> {
    if !moto_api::is_answering(endpoint, Duration::from_secs(2)) {
        return Err(Error::Process(format!(
            "no emulator answers at {endpoint} (start one with `mrmrthon-local dev`)"
        )));
    }
    let started = Instant::now();
    let provisioned = provision_endpoint(endpoint, stack, parameters, None).await?;
    println!(
        "provisioned {} on {endpoint} in {:.2} s",
        template_path().display(),
        started.elapsed().as_secs_f64()
    );
    print_resources(&provisioned);
    Ok(())
}

pub(super) async fn provision_endpoint(
    endpoint: &str,
    stack: &str,
    parameters: BTreeMap<String, String>,
    discord_webhook_url: Option<String>,
) -> Result<Provisioned> {
    let template = Template::from_path(&template_path())?;
    let options = Options {
        stack_name: stack.to_owned(),
        parameters,
        discord_webhook_url,
    };
    provision::provision(&emulator::sdk_config(endpoint), &template, &options).await
}

fn print_env() -> Result<()> {
    let path = env_file::path();
    let text = std::fs::read_to_string(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::Process(format!(
                "{} does not exist yet: `mrmrthon-local dev` writes it",
                path.display()
            ))
        } else {
            Error::ReadFile {
                path: path.clone(),
                source,
            }
        }
    })?;
    print!("{text}");
    Ok(())
}

async fn shutdown_signal() -> String {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "Ctrl-C".into();
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C".into(),
        _ = terminate.recv() => "SIGTERM".into(),
    }
}

pub(crate) fn print_resources(provisioned: &Provisioned) {
    for r in provisioned.resources().filter(|r| r.created) {
        let location = r.url.as_deref().or(r.arn.as_deref()).unwrap_or("");
        println!("    {:<24} {:<24} {location}", r.logical_id, r.kind);
    }
    if let Some(keys) = provisioned.key_pair_secrets() {
        println!(
            "    JWT key pair             secrets {} / {}",
            keys.private_key_secret, keys.public_key_secret
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn site_url_is_the_gateways_origin_unless_given_and_only_when_declared() {
        let declared =
            Template::from_yaml("Parameters:\n  SiteUrl:\n    Type: String\nResources: {}\n").unwrap();
        let mut parameters = BTreeMap::new();
        default_site_url(&declared, &mut parameters, 3100);
        assert_eq!(parameters[SITE_URL_PARAMETER], "http://127.0.0.1:3100");

        let mut given = BTreeMap::from([(SITE_URL_PARAMETER.to_owned(), "https://example.com".to_owned())]);
        default_site_url(&declared, &mut given, 3100);
        assert_eq!(given[SITE_URL_PARAMETER], "https://example.com");

        let undeclared = Template::from_yaml("Resources: {}\n").unwrap();
        let mut none = BTreeMap::new();
        default_site_url(&undeclared, &mut none, 3100);
        assert!(
            none.is_empty(),
            "an undeclared parameter would be refused by provisioning"
        );
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse(&args("dev --port 5000 --api-port 8080 --parameter A=b=c")).unwrap(),
            Cli::Dev(DevOptions {
                port: 5000,
                invoke_port: 9000,
                api_port: 8080,
                sink_port: 3001,
                no_reload: false,
                parameters: BTreeMap::from([("A".into(), "b=c".into())]),
            })
        );
        assert_eq!(
            parse(&args("provision --endpoint http://127.0.0.1:1")).unwrap(),
            Cli::Provision {
                endpoint: "http://127.0.0.1:1".into(),
                stack: STACK_NAME.into(),
                parameters: BTreeMap::new(),
            }
        );
        assert_eq!(parse(&args("env")).unwrap(), Cli::Env);
        assert!(parse(&args("provision")).is_err());
        assert!(parse(&args("dev --port x")).is_err());
        assert!(parse(&args("dev --sink-port 70000")).is_err());
        assert!(parse(&args("env --port 1")).is_err());
        assert_eq!(
            parse(&args("status --hops 3")).unwrap(),
            Cli::Status {
                endpoint: None,
                hops: 3
            }
        );
        assert!(parse(&args("status --hops many")).is_err());
        assert_eq!(
            parse(&args("replay --queue RecordStreamFailuresQueue")).unwrap(),
            Cli::Replay(replay::ReplayOptions {
                queue: Some("RecordStreamFailuresQueue".into()),
                queue_url: None,
                endpoint: None,
                invoke_url: None,
            })
        );
        assert!(matches!(
            parse(&args("replay --queue-url https://sqs.example/q")).unwrap(),
            Cli::Replay(replay::ReplayOptions {
                queue_url: Some(_),
                queue: None,
                ..
            })
        ));
        assert!(parse(&args("replay")).is_err());
        assert_eq!(
            parse(&args("reconcile --invoke-url http://127.0.0.1:9400")).unwrap(),
            Cli::Reconcile {
                endpoint: None,
                invoke_url: Some("http://127.0.0.1:9400".into())
            }
        );
        assert!(parse(&args("reconcile --queue X")).is_err());
        assert!(parse(&args("replay --queue A --queue-url B")).is_err());
        assert_eq!(
            parse(&args("seed --api http://127.0.0.1:3100")).unwrap(),
            Cli::Seed {
                api: Some("http://127.0.0.1:3100".into())
            }
        );
        assert_eq!(parse(&args("reset")).unwrap(), Cli::Reset);
        assert!(parse(&args("reset --api x")).is_err());
    }
}
