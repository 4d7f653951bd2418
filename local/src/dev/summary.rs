//! What `make dev` prints once ready: where everything is and how to use it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{DISCORD_WEBHOOK_PARAMETER, print_resources};
use crate::esm::bucket::S3_EVENT;
use crate::esm::spec::{DYNAMODB_EVENT, SQS_EVENT};
use crate::gateway::route::HTTP_API_EVENT;
use crate::provision::Provisioned;
use crate::services::Services;
use crate::sink::Sink;

pub(super) struct Summary<'a> {
    pub root: &'a Path,
    pub emulator: &'a str,
    pub provisioned: &'a Provisioned,
    pub ready_after: Duration,
    pub env_path: &'a Path,
    pub invoke_base: &'a str,
    pub watch_pid: Option<u32>,
    pub services: &'a Services,
    pub sink: &'a Sink,
    pub sink_parameter: bool,
    pub mailbox_dir: &'a Path,
    /// How the site is built (`web::SiteBuild::line`).
    pub site_build: &'a str,
}

pub(super) fn print(s: &Summary<'_>) {
    let relative = |p: &Path| p.strip_prefix(s.root).unwrap_or(p).display().to_string();
    println!(
        "mrmrthon local stack: ready in {:.2} s (once built)",
        s.ready_after.as_secs_f64()
    );

    if let Some(gateway) = &s.services.gateway {
        println!("  site           {}", gateway.site_url());
        println!("                   web/dist, {}", s.site_build);
        println!(
            "  HTTP API       {}/  (the site's origin; /api is stripped before routing)",
            gateway.url()
        );
        println!("                   Swagger UI {}/docs", gateway.url());
        for route in gateway.routes().iter() {
            println!("                   {:<34} -> {}", route.key, route.function);
        }
        if gateway.routes().is_empty() {
            println!("                   (no HttpApi events in template.yaml yet)");
        }
    }

    println!("  emulator       {}", s.emulator);
    print_resources(s.provisioned);

    println!("  mappings");
    match &s.services.mappings {
        Some(mappings) if !mappings.lines().is_empty() => {
            for line in mappings.lines() {
                println!("                   {line}");
            }
        }
        _ => println!("                   (no DynamoDB or SQS events in template.yaml yet)"),
    }

    let sink = s.sink.url();
    println!("  Discord sink   {}", s.sink.webhook_url());
    match (s.provisioned.discord_webhook_secret(), s.sink_parameter) {
        (Some(secret), _) => {
            println!("                   (stored in secret {secret}, as the template's local metadata asks)")
        }
        (None, true) => {
            println!("                   (given to the stack as parameter {DISCORD_WEBHOOK_PARAMETER})")
        }
        (None, false) => println!(
            "                   (nothing points at it: template.yaml has neither Metadata mrmrthon::local DiscordSink nor a {DISCORD_WEBHOOK_PARAMETER} parameter)"
        ),
    }
    println!("                   posts:  curl -s {sink}/_sink/posts");
    println!(
        "                   script: curl -s -X POST {sink}/_sink/script -d '{{\"responses\":[{{\"status\":429,\"retry_after\":0.5}},{{\"status\":500,\"times\":2}}]}}'"
    );

    println!(
        "  mailbox        {}/  (one .eml per mail sent through SES)",
        relative(s.mailbox_dir)
    );
    if !s.provisioned.ses_identities().is_empty() {
        println!(
            "                   verified senders: {}",
            s.provisioned.ses_identities().join(", ")
        );
    }

    let pid = s
        .watch_pid
        .map(|p| format!(" (supervisor pid {p})"))
        .unwrap_or_default();
    println!(
        "  functions      cargo lambda watch on {}{pid}; the first call of a function compiles it",
        s.invoke_base
    );
    let port = s.invoke_base.rsplit(':').next().unwrap_or("9000");
    match sample_event(s.root, s.provisioned) {
        Some((binary, sample)) => println!(
            "  invoke         .venv/bin/cargo-lambda lambda invoke {binary} --invoke-address 127.0.0.1 --invoke-port {port} --data-file {}",
            relative(&sample)
        ),
        None => println!(
            "  invoke         .venv/bin/cargo-lambda lambda invoke <binary> --invoke-address 127.0.0.1 --invoke-port {port} --data-file events/<function>/<event>.json"
        ),
    }
    println!(
        "  env file       {} (`mrmrthon-local env` prints it)",
        relative(s.env_path)
    );

    let unsupported: Vec<String> = s
        .provisioned
        .functions()
        .iter()
        .flat_map(|f| {
            f.events
                .iter()
                // an S3 trigger is a mapping too (`esm::bucket`), listed above with the others
                .filter(|e| ![HTTP_API_EVENT, DYNAMODB_EVENT, SQS_EVENT, S3_EVENT].contains(&e.kind.as_str()))
                .map(move |e| format!("{}.{} ({})", f.logical_id, e.name, e.kind))
        })
        .collect();
    if !unsupported.is_empty() {
        println!("  not emulated   {}", unsupported.join(", "));
    }
    println!(
        "Log: one line per hop (time, kind, function or target, duration, what, outcome, cid=correlation ids)."
    );
    println!("Ctrl-C stops everything started here.");
}

/// A function with a binary and a sample event under `events/<crate folder>/`.
fn sample_event(root: &Path, provisioned: &Provisioned) -> Option<(String, PathBuf)> {
    provisioned.functions().iter().find_map(|f| {
        let binary = f.binary.as_ref()?;
        let dir = Path::new(f.code_uri.as_deref()?).file_name()?;
        let sample = first_json(&root.join("events").join(dir))?;
        Some((binary.clone(), sample))
    })
}

fn first_json(dir: &Path) -> Option<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.into_iter().next()
}
