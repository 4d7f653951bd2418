//! Side by side with the Node.js peers (issue 18): the same work as three of our functions
//! written for Node.js 20 with the AWS SDK v3 (bench/node), started by the same harness
//! against the same Runtime API stub and emulator, interleaved with the Rust bootstraps.
//!
//! Per function and runtime: cold init (process start to the first `/next`) and the CPU it
//! used, the first invocation's latency on that cold process, and from a burst on one warm
//! process its peak RSS and its CPU per record or request (the whole process's CPU over the
//! burst, divided: SDK, TLS-less HTTP to the emulator, JSON and the handler, as Lambda bills
//! it, not criterion's in-memory figure).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::bootstrap::{Running, launch_with, start_function};
use crate::fixtures;
use crate::lab::{Function, HELLO, Lab, Result, release_binary, repo_root, work_dir};
use crate::runtime_api::{RuntimeApi, Signal};
use crate::stats::Summary;

/// The functions that have a Node.js peer (package names; bench/node/functions/<name>.mjs).
pub const PEERS: [&str; 3] = ["record-api", "official-record-stream", "point-increase"];

/// The goals of issue 18: Node / Rust at least this much.
pub const COLD_INIT_GOAL: f64 = 10.0;
pub const MEMORY_GOAL: f64 = 4.0;

const INIT_TIMEOUT: Duration = Duration::from_secs(30);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Rust,
    Node,
}

impl Runtime {
    fn name(self) -> &'static str {
        match self {
            Runtime::Rust => "Rust",
            Runtime::Node => "Node.js",
        }
    }
}

/// One runtime's figures for one function.
#[derive(Debug, Default)]
pub struct Side {
    /// Milliseconds from process start to the first `/next`, one per start.
    pub cold: Vec<f64>,
    /// CPU milliseconds used until then.
    pub init_cpu: Vec<f64>,
    /// Milliseconds from the first event handed out to its response, on the cold process.
    pub first: Vec<f64>,
    pub steady: Option<Result<Steady>>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Steady {
    /// Invocations measured (after one warm-up invocation) and the records or requests in them.
    pub invocations: usize,
    pub items: usize,
    /// Process CPU per record or request, nanoseconds.
    pub cpu_per_item: f64,
    pub peak_rss: u64,
    pub wall: Duration,
}

#[derive(Debug, Default)]
pub struct PeerResults {
    /// `node --version`, or why Node.js cannot run.
    pub node: Option<Result<String>>,
    pub runs: usize,
    pub burst: usize,
    /// The two hello-worlds (Rust's `lambda_runtime` one and a Node.js handler that returns
    /// a constant), started in the same rounds: each runtime's floor.
    pub hello: [Side; 2],
    pub functions: BTreeMap<&'static str, [Side; 2]>,
}

/// `node` on the harness's PATH.
fn node_binary() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| "no `node` on PATH (Node.js 20 is needed for the peers)".to_owned())
}

fn node_dir() -> PathBuf {
    repo_root().join("bench").join("node")
}

fn node_version(node: &PathBuf) -> Result<String> {
    let output = std::process::Command::new(node)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", node.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !version.starts_with("v20.") {
        return Err(format!("Node.js 20 is needed, {} is {version}", node.display()));
    }
    if !node_dir().join("node_modules/@aws-sdk/client-sns").is_dir() {
        return Err(
            "bench/node/node_modules is missing: `make bench` installs it (`npm ci` in bench/node)".into(),
        );
    }
    Ok(version)
}

/// Records (stream, queue) or requests (API) in one event of `function`'s burst.
fn items_per_event(function: &str) -> usize {
    match function {
        "official-record-stream" => fixtures::STREAM_BATCH,
        "point-increase" => fixtures::QUEUE_BATCH,
        _ => 1,
    }
}

struct Launcher<'a> {
    lab: &'a Lab,
    node: PathBuf,
}

impl Launcher<'_> {
    /// A process of `function` (None: the hello-world) in `runtime`, on a fresh stub.
    async fn start(
        &self,
        runtime: Runtime,
        function: Option<&Function>,
        purpose: &str,
    ) -> Result<(RuntimeApi, Running)> {
        match (runtime, function) {
            (Runtime::Rust, Some(function)) => start_function(self.lab, function, purpose).await,
            (Runtime::Rust, None) => {
                let api = RuntimeApi::start(HELLO)
                    .await
                    .map_err(|e| format!("cannot start the Runtime API stub: {e}"))?;
                let env = self.lab.process_env(HELLO, 128, &api.address(), &BTreeMap::new());
                let log = work_dir()
                    .join("logs")
                    .join(format!("{HELLO}.peers-{purpose}.log"));
                Ok((api, crate::bootstrap::launch(&release_binary(HELLO), &env, &log)?))
            }
            (Runtime::Node, function) => {
                let (name, env, memory) = match function {
                    Some(f) => (
                        f.package,
                        self.lab.function_env(f)?,
                        self.lab.memory_size(f.logical_id),
                    ),
                    None => ("hello", BTreeMap::new(), 128),
                };
                let api = RuntimeApi::start(name)
                    .await
                    .map_err(|e| format!("cannot start the Runtime API stub: {e}"))?;
                let mut env: BTreeMap<String, String> = self
                    .lab
                    .process_env(name, memory, &api.address(), &env)
                    .into_iter()
                    .collect();
                let root = node_dir();
                env.insert(
                    "LAMBDA_TASK_ROOT".into(),
                    root.join("functions").display().to_string(),
                );
                env.insert("_HANDLER".into(), format!("{name}.handler"));
                env.insert("AWS_EXECUTION_ENV".into(), "AWS_Lambda_nodejs20.x".into());
                let env: Vec<(String, String)> = env.into_iter().collect();
                let runtime = root.join("runtime.mjs").display().to_string();
                let log = work_dir().join("logs").join(format!("node-{name}.{purpose}.log"));
                Ok((api, launch_with(&self.node, &[runtime.as_str()], &env, &log)?))
            }
        }
    }
}

/// Waits for the outcome of the invocation in flight; an error or a failure reply fails.
async fn outcome(running: &mut Running, api: &mut RuntimeApi) -> Result<()> {
    loop {
        match running.signal(api, INVOKE_TIMEOUT).await? {
            Signal::Next(_) => {}
            Signal::InitError(body) => return Err(format!("init error: {body}")),
            Signal::Outcome { ok, body } => {
                let class = crate::rss::classify(ok, &body);
                return if class == "ok" || class.starts_with("HTTP 2") {
                    Ok(())
                } else {
                    Err(format!("{class}: {}", body.chars().take(300).collect::<String>()))
                };
            }
        }
    }
}

struct Cold {
    wall: f64,
    cpu: f64,
    first: Option<f64>,
}

/// One cold start; with an event, also its first invocation.
async fn cold_once(
    launcher: &Launcher<'_>,
    runtime: Runtime,
    function: Option<&Function>,
    event: Option<String>,
) -> Result<Cold> {
    let (mut api, mut running) = launcher.start(runtime, function, "cold").await?;
    let measured = async {
        let wall = running.first_poll(&mut api, INIT_TIMEOUT).await?;
        let cpu = running.cpu_time()?;
        let first = match event {
            Some(event) => {
                let pushed = Instant::now();
                api.push(event);
                outcome(&mut running, &mut api).await?;
                Some(pushed.elapsed().as_secs_f64() * 1000.0)
            }
            None => None,
        };
        Ok(Cold {
            wall: wall.as_secs_f64() * 1000.0,
            cpu: cpu.as_secs_f64() * 1000.0,
            first,
        })
    }
    .await;
    running.stop().await;
    measured
}

/// One warm process: a warm-up invocation, then `events` one after another.
async fn steady(
    launcher: &Launcher<'_>,
    runtime: Runtime,
    function: &Function,
    events: Vec<String>,
) -> Result<Steady> {
    let (mut api, mut running) = launcher.start(runtime, Some(function), "steady").await?;
    let measured = async {
        running.first_poll(&mut api, INIT_TIMEOUT).await?;
        let mut events = events.into_iter();
        api.push(events.next().ok_or("no events")?);
        outcome(&mut running, &mut api).await?;
        let cpu_before = running.cpu_time()?;
        let started = Instant::now();
        let mut invocations = 0;
        for event in events {
            api.push(event);
            outcome(&mut running, &mut api).await?;
            invocations += 1;
        }
        let cpu = running.cpu_time()?.saturating_sub(cpu_before);
        let items = invocations * items_per_event(function.package);
        Ok(Steady {
            invocations,
            items,
            cpu_per_item: cpu.as_nanos() as f64 / items.max(1) as f64,
            peak_rss: running.peak_rss()?,
            wall: started.elapsed(),
        })
    }
    .await;
    running.stop().await;
    measured
}

fn record(side: &mut Side, cold: Result<Cold>) {
    match cold {
        Ok(c) => {
            side.cold.push(c.wall);
            side.init_cpu.push(c.cpu);
            if let Some(first) = c.first {
                side.first.push(first);
            }
        }
        Err(e) => side.error = Some(e),
    }
}

/// `runs` rounds of cold starts (each function in Rust and in Node.js, in alternating order,
/// and both hello-worlds), then a burst of `burst` invocations per function and runtime.
pub async fn measure(lab: &Lab, functions: &[Function], runs: usize, burst: usize) -> PeerResults {
    let mut results = PeerResults {
        runs,
        burst,
        ..PeerResults::default()
    };
    let node = match node_binary().and_then(|node| node_version(&node).map(|v| (node, v))) {
        Ok((node, version)) => {
            results.node = Some(Ok(version));
            node
        }
        Err(e) => {
            results.node = Some(Err(e));
            return results;
        }
    };
    let launcher = Launcher { lab, node };
    let peers: Vec<&Function> = functions.iter().filter(|f| PEERS.contains(&f.package)).collect();
    // fresh events for every cold start, made before the rounds (tokens live 15 minutes)
    let mut cold_events: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for function in &peers {
        let side = results.functions.entry(function.package).or_default();
        match fixtures::events(lab, function, 2 * runs).await {
            Ok(events) => {
                cold_events.insert(function.package, events);
            }
            Err(e) => {
                side[0].error = Some(e.clone());
                side[1].error = Some(e);
            }
        }
    }
    for round in 0..runs {
        eprintln!("peers: cold round {}/{runs}", round + 1);
        // alternate who goes first, so that neither always follows the other's I/O
        let order = if round % 2 == 0 {
            [Runtime::Rust, Runtime::Node]
        } else {
            [Runtime::Node, Runtime::Rust]
        };
        for runtime in order {
            let cold = cold_once(&launcher, runtime, None, None).await;
            record(&mut results.hello[runtime as usize], cold);
        }
        for function in &peers {
            let Some(events) = cold_events.get_mut(function.package) else {
                continue;
            };
            for runtime in order {
                let Some(event) = events.pop() else { continue };
                let cold = cold_once(&launcher, runtime, Some(function), Some(event)).await;
                let sides = results.functions.entry(function.package).or_default();
                record(&mut sides[runtime as usize], cold);
            }
        }
    }
    for function in &peers {
        for runtime in [Runtime::Rust, Runtime::Node] {
            eprintln!("peers: {} burst of {burst}, {}", function.package, runtime.name());
            let outcome = match fixtures::events(lab, function, burst + 1).await {
                Ok(events) => steady(&launcher, runtime, function, events).await,
                Err(e) => Err(e),
            };
            let sides = results.functions.entry(function.package).or_default();
            sides[runtime as usize].steady = Some(outcome);
        }
    }
    results
}

fn median(values: &[f64]) -> Option<f64> {
    Summary::of(values).map(|s| s.median)
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// "Rust / Node" as the fraction and as how many times less Rust needs.
fn ratio(rust: f64, node: f64) -> String {
    if rust <= 0.0 || node <= 0.0 {
        return "n/a".into();
    }
    format!("{:.3} ({:.1}x less)", rust / node, node / rust)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**MISSED**" }
}

/// The figures of one side for the summary rows: (cold, init CPU, first, RSS MiB, CPU µs).
fn figures(side: &Side) -> [Option<f64>; 5] {
    let steady = side.steady.as_ref().and_then(|s| s.as_ref().ok());
    [
        median(&side.cold),
        median(&side.init_cpu),
        median(&side.first),
        steady.map(|s| mib(s.peak_rss)),
        steady.map(|s| s.cpu_per_item / 1000.0),
    ]
}

/// The section of BENCHMARKS.md.
pub fn render(w: &mut String, r: &PeerResults) {
    let _ = writeln!(w, "## Against the Node.js peers (issue 18)\n");
    let version = match &r.node {
        None => {
            let _ = writeln!(w, "Not run.\n");
            return;
        }
        Some(Err(e)) => {
            let _ = writeln!(w, "Not measured: {}\n", cell(e));
            return;
        }
        Some(Ok(version)) => version,
    };
    let _ = writeln!(
        w,
        "The same work as three of our functions, written for Node.js {version} the way a competent Node \
         developer would (bench/node: AWS SDK v3 and jose from npm, pinned by package-lock.json and \
         installed by `npm ci`; clients created at init and the same warm-up calls in init as ours), \
         run by this harness against the same Runtime API stub and emulator: \
         official-record-stream (decode a stream batch of {} records, PublishBatch to SNS), \
         point-increase (SQS batches of {} messages: award read, conditional ledger transaction, \
         total read, publish, pending delete, the messages at once) and record-api's authenticated \
         create-record (RS256 verification, validation, a two-item transaction). Node.js runs \
         `node bench/node/runtime.mjs`, a Runtime API loop doing what the managed runtime's client \
         does (load the handler module, whose top-level code is the init, then poll `/next` and \
         post responses), rather than the `aws-lambda-ric` package, whose install compiles curl \
         and aws-lambda-cpp from source (bench/node/runtime.mjs says more).\n",
        fixtures::STREAM_BATCH,
        fixtures::QUEUE_BATCH
    );
    let _ = writeln!(
        w,
        "Cold init and init CPU as in the cold init section; the first request is the latency of \
         the first event handed to that cold process (medians of {} starts per runtime, Rust and \
         Node.js alternating which goes first). Peak RSS and CPU per record or request come from \
         one warm process per runtime handling {} invocations one after another after a warm-up \
         one: VmHWM at the end, and the process's CPU time over the burst (every thread, from \
         schedstat) divided by the records or requests in it, SDK and HTTP included. Goals of \
         issue 18: Node.js / Rust ≥ {COLD_INIT_GOAL}x for cold init, ≥ {MEMORY_GOAL}x for peak RSS.\n",
        r.runs, r.burst
    );
    let _ = writeln!(
        w,
        "| function | runtime | cold init (ms) | init CPU (ms) | first request (ms) | peak RSS (MiB) | CPU per record or request (µs) |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|");
    let show =
        |v: Option<f64>, digits: usize| v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "—".into());
    let hello_rows = [("hello-world (floor)", &r.hello)];
    for (name, sides) in hello_rows
        .into_iter()
        .chain(r.functions.iter().map(|(name, sides)| (*name, sides)))
    {
        for runtime in [Runtime::Rust, Runtime::Node] {
            let side = &sides[runtime as usize];
            let [cold, cpu, first, rss, per_item] = figures(side);
            let note = side
                .error
                .as_deref()
                .map(|e| format!(" (failed: {})", cell(e)))
                .or_else(|| match &side.steady {
                    Some(Err(e)) => Some(format!(" (burst failed: {})", cell(e))),
                    _ => None,
                })
                .unwrap_or_default();
            let _ = writeln!(
                w,
                "| {name} | {}{note} | {} | {} | {} | {} | {} |",
                runtime.name(),
                show(cold, 1),
                show(cpu, 1),
                show(first, 1),
                show(rss, 2),
                show(per_item, 1)
            );
        }
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Rust / Node.js per function (below 1: Rust needs less), and the goals:\n"
    );
    let _ = writeln!(
        w,
        "| function | cold init | init CPU | first request | peak RSS | CPU per record or request | goal: cold init ≥ {COLD_INIT_GOAL}x faster | goal: ≥ {MEMORY_GOAL}x less memory |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|");
    for (name, sides) in &r.functions {
        let rust = figures(&sides[0]);
        let node = figures(&sides[1]);
        let pair = |i: usize| match (rust[i], node[i]) {
            (Some(a), Some(b)) => ratio(a, b),
            _ => "not measured".into(),
        };
        let goal = |i: usize, goal: f64| match (rust[i], node[i]) {
            (Some(a), Some(b)) if a > 0.0 => format!("{:.1}x {}", b / a, verdict(b / a >= goal)),
            _ => "not measured".into(),
        };
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            pair(0),
            pair(1),
            pair(2),
            pair(3),
            pair(4),
            goal(0, COLD_INIT_GOAL),
            goal(3, MEMORY_GOAL)
        );
    }
    let _ = writeln!(w);
    let mut bursts = Vec::new();
    for (name, sides) in &r.functions {
        for runtime in [Runtime::Rust, Runtime::Node] {
            if let Some(Ok(s)) = &sides[runtime as usize].steady {
                bursts.push(format!(
                    "{name} {}: {} invocations, {} {} in {:.1} s",
                    runtime.name(),
                    s.invocations,
                    s.items,
                    if items_per_event(name) == 1 {
                        "requests"
                    } else {
                        "records"
                    },
                    s.wall.as_secs_f64()
                ));
            }
        }
    }
    if !bursts.is_empty() {
        let _ = writeln!(w, "The bursts: {}.\n", bursts.join("; "));
    }
    let _ = writeln!(
        w,
        "As with our own cold init, the wall-clock figures include the emulator's latency for the \
         init calls (the same calls for both runtimes); the init CPU column is each process's own \
         work. On AWS the managed Node.js runtime also starts its own process and loads the SDK \
         from /var/runtime (the figures here load it from bench/node/node_modules), and both \
         runtimes pay TLS handshakes that the plain-HTTP emulator spares them.\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(cold: f64, rss: u64, cpu: f64) -> Side {
        Side {
            cold: vec![cold; 3],
            init_cpu: vec![cold / 2.0; 3],
            first: vec![cold / 4.0; 3],
            steady: Some(Ok(Steady {
                invocations: 10,
                items: 100,
                cpu_per_item: cpu,
                peak_rss: rss,
                wall: Duration::from_secs(1),
            })),
            error: None,
        }
    }

    #[test]
    fn the_section_shows_both_runtimes_the_ratios_and_the_goals() {
        let mut r = PeerResults {
            node: Some(Ok("v20.20.2".into())),
            runs: 3,
            burst: 10,
            ..PeerResults::default()
        };
        r.functions.insert(
            "point-increase",
            [side(10.0, 8 << 20, 40_000.0), side(200.0, 80 << 20, 400_000.0)],
        );
        r.functions.insert(
            "record-api",
            [side(20.0, 10 << 20, 40_000.0), side(150.0, 30 << 20, 80_000.0)],
        );
        let mut out = String::new();
        render(&mut out, &r);
        assert!(
            out.contains("| point-increase | Rust | 10.0 | 5.0 | 2.5 | 8.00 | 40.0 |"),
            "{out}"
        );
        assert!(
            out.contains("| point-increase | Node.js | 200.0 | 100.0 | 50.0 | 80.00 | 400.0 |"),
            "{out}"
        );
        // 200 / 10 = 20x faster, 80 / 8 = 10x less memory: both goals met
        assert!(out.contains("| 20.0x met | 10.0x met |"), "{out}");
        // 150 / 20 = 7.5x, 30 / 10 = 3x: both missed
        assert!(out.contains("| 7.5x **MISSED** | 3.0x **MISSED** |"), "{out}");
        assert!(out.contains("0.050 (20.0x less)"), "{out}");

        let mut out = String::new();
        render(
            &mut out,
            &PeerResults {
                node: Some(Err("no `node` on PATH".into())),
                ..PeerResults::default()
            },
        );
        assert!(out.contains("Not measured: no `node` on PATH"), "{out}");
    }
}
