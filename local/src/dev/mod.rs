//! The `mrmrthon-local` command line:
//!
//! - `dev [--port 4566] [--invoke-port 9000] [--parameter K=V]...`: emulator (started or
//!   reused), provisioning, `.local/functions.env`, then `cargo lambda watch` until Ctrl-C.
//! - `provision --endpoint URL [--stack NAME] [--parameter K=V]...`: provision a running emulator.
//! - `env`: print `.local/functions.env`.

mod children;
pub mod env_file;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::emulator::{self, Emulator, venv_dir};
use crate::error::{Error, Result};
use crate::moto_api;
use crate::provision::{self, Options, Provisioned};
use crate::stack::{STACK_NAME, template_path};
use crate::template::Template;
use children::Supervised;

const USAGE: &str = "\
usage:
  mrmrthon-local dev [--port 4566] [--invoke-port 9000] [--parameter NAME=VALUE]...
  mrmrthon-local provision --endpoint URL [--stack NAME] [--parameter NAME=VALUE]...
  mrmrthon-local env";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cli {
    Dev {
        port: u16,
        invoke_port: u16,
        parameters: BTreeMap<String, String>,
    },
    Provision {
        endpoint: String,
        stack: String,
        parameters: BTreeMap<String, String>,
    },
    Env,
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
        Cli::Dev {
            port,
            invoke_port,
            parameters,
        } => dev(port, invoke_port, parameters).await,
        Cli::Provision {
            endpoint,
            stack,
            parameters,
        } => provision_only(&endpoint, &stack, parameters).await,
        Cli::Env => print_env(),
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
    let mut endpoint = None;
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
            ("provision", "--endpoint") => endpoint = Some(value()?),
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
        "dev" => Ok(Cli::Dev {
            port,
            invoke_port,
            parameters,
        }),
        "provision" => Ok(Cli::Provision {
            endpoint: endpoint.ok_or("provision needs --endpoint URL")?,
            stack,
            parameters,
        }),
        "env" => Ok(Cli::Env),
        "help" | "-h" | "--help" => Ok(Cli::Help),
        other => Err(format!("unknown command: {other}")),
    }
}

async fn dev(port: u16, invoke_port: u16, parameters: BTreeMap<String, String>) -> Result<()> {
    let root = emulator::repo_root();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let emulator = if moto_api::is_answering(&endpoint, Duration::from_millis(500)) {
        None
    } else {
        Some(
            tokio::task::spawn_blocking(move || Emulator::start(Some(port)))
                .await
                .map_err(|e| Error::Process(format!("emulator start panicked: {e}")))??,
        )
    };
    let emulator_line = match &emulator {
        Some(e) => format!("{endpoint} (started, pid {})", e.pid()),
        None => format!("{endpoint} (already running, reused; not stopped on exit)"),
    };

    let provisioned = provision_endpoint(&endpoint, STACK_NAME, parameters).await?;
    let ready_after = started.elapsed();
    let env = env_file::functions_env(&provisioned, &endpoint)?;
    let env_path = env_file::path();
    env_file::write(&env_path, &env_file::render(&env)?)?;

    // Functions get their environment from the file only: cargo lambda itself would take
    // RUST_LOG=info and the like as its own settings.
    let watch_args: Vec<String> = vec![
        "lambda".into(),
        "watch".into(),
        "--invoke-address".into(),
        "127.0.0.1".into(),
        "--invoke-port".into(),
        invoke_port.to_string(),
        "--env-file".into(),
        env_path.display().to_string(),
    ];
    let cargo_lambda = venv_dir().join("bin").join("cargo-lambda");
    let mut watch = Supervised::spawn("cargo lambda watch", &cargo_lambda, &watch_args, &root)?;

    print_summary(&Summary {
        root: &root,
        emulator: &emulator_line,
        provisioned: &provisioned,
        ready_after,
        env_path: &env_path,
        invoke_port,
        watch_pid: watch.pid(),
    });

    let reason = tokio::select! {
        r = shutdown_signal() => r,
        r = watch.exited() => r,
    };
    println!("\nstopping ({reason})");
    watch.stop().await;
    drop(emulator);
    Ok(())
}

async fn provision_only(endpoint: &str, stack: &str, parameters: BTreeMap<String, String>) -> Result<()> {
    if !moto_api::is_answering(endpoint, Duration::from_secs(2)) {
        return Err(Error::Process(format!(
            "no emulator answers at {endpoint} (start one with `mrmrthon-local dev`)"
        )));
    }
    let started = Instant::now();
    let provisioned = provision_endpoint(endpoint, stack, parameters).await?;
    println!(
        "provisioned {} on {endpoint} in {:.2} s",
        template_path().display(),
        started.elapsed().as_secs_f64()
    );
    print_resources(&provisioned);
    Ok(())
}

async fn provision_endpoint(
    endpoint: &str,
    stack: &str,
    parameters: BTreeMap<String, String>,
) -> Result<Provisioned> {
    let template = Template::from_path(&template_path())?;
    let options = Options {
        stack_name: stack.to_owned(),
        parameters,
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

struct Summary<'a> {
    root: &'a Path,
    emulator: &'a str,
    provisioned: &'a Provisioned,
    ready_after: Duration,
    env_path: &'a Path,
    invoke_port: u16,
    watch_pid: Option<u32>,
}

fn print_summary(s: &Summary<'_>) {
    let base = format!("http://127.0.0.1:{}", s.invoke_port);
    println!("mrmrthon local stack");
    println!("  emulator      {}", s.emulator);
    println!(
        "  provisioned   from template.yaml in {:.2} s (emulator start included)",
        s.ready_after.as_secs_f64()
    );
    print_resources(s.provisioned);
    println!(
        "  env file      {} (`mrmrthon-local env` prints it)",
        s.env_path.display()
    );
    let pid = s
        .watch_pid
        .map(|p| format!(" (supervisor pid {p})"))
        .unwrap_or_default();
    println!("  cargo lambda  watch on {base}{pid}");
    for function in s.provisioned.functions() {
        let Some(binary) = &function.binary else { continue };
        println!(
            "  {:<13} {base}/lambda-url/{binary}/   (HTTP handlers)",
            function.logical_id
        );
    }
    if let Some((binary, sample)) = s.provisioned.functions().iter().find_map(|f| {
        let binary = f.binary.as_ref()?;
        let dir = Path::new(f.code_uri.as_deref()?).file_name()?;
        let sample = first_json(&s.root.join("events").join(dir))?;
        Some((binary.clone(), sample))
    }) {
        let sample = sample.strip_prefix(s.root).unwrap_or(&sample);
        println!(
            "  invoke        cargo lambda invoke {binary} --invoke-address 127.0.0.1 --invoke-port {} --data-file {}",
            s.invoke_port,
            sample.display()
        );
    } else {
        println!(
            "  invoke        cargo lambda invoke <binary> --invoke-address 127.0.0.1 --invoke-port {} --data-file events/<function>/<event>.json",
            s.invoke_port
        );
    }
    println!("Ctrl-C stops everything started here.");
}

fn print_resources(provisioned: &Provisioned) {
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

fn first_json(dir: &Path) -> Option<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse(&args("dev --port 5000 --parameter A=b=c")).unwrap(),
            Cli::Dev {
                port: 5000,
                invoke_port: 9000,
                parameters: BTreeMap::from([("A".into(), "b=c".into())]),
            }
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
        assert!(parse(&args("env --port 1")).is_err());
    }
}
