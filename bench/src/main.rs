//! mrmrthon-bench: measures every function against the budgets in docs/DESIGN.md and writes
//! BENCHMARKS.md. `make bench` runs `cargo run --release -p mrmrthon-bench -- all`.

mod batch;
mod bootstrap;
mod builder;
mod cold_start;
mod cost;
mod cpu;
mod fixtures;
mod host;
mod lab;
mod peers;
mod pipeline;
mod report;
mod rss;
mod runtime_api;
mod size;
mod stats;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use lab::{FUNCTIONS, Function, Lab, release_binary, repo_root};
use report::{Machine, Results};

const USAGE: &str = "\
usage: mrmrthon-bench all [options]
       mrmrthon-bench web [--loads N] [--runners N] [--out PATH]
       mrmrthon-bench pipeline [--finishers N] [--pipeline-drain S] [--out PATH]

all: builds release binaries, measures cold init, binary size, peak RSS, handler CPU and
batch concurrency of every function, then the web part, and writes BENCHMARKS.md.
web: only the web part (the first page's JavaScript, gzipped; the results page in headless
Chromium on a throttled phone profile); replaces just its section of BENCHMARKS.md. It
builds web/ with `npm run build` when web/dist is older than web/src (`make web` first
installs web/node_modules).
pipeline (or import): only the pipeline at race scale: N finishers (default 5,000)
registered, then imported in one file on the local stack; from the commit request, each
result's write, award and mail and the import's Discord summary; replaces its section.

options:
  --runs N          cold starts per function (default 25, at least 20 for the report)
  --burst N         invocations per function for peak RSS (default 200)
  --batch-reps N    repetitions of each point-increase batch size (default 15)
  --only A,B        only these functions (package names)
  --no-build        measure the binaries already in target/release
  --no-arm64        skip `cargo lambda build --arm64`
  --no-criterion    skip the handler CPU benches
  --out PATH        where to write the report (default: <workspace>/BENCHMARKS.md)
  --bootstrap-env K=V
                    add K=V to every bootstrap's environment (repeatable; for diagnosis,
                    e.g. MALLOC_ARENA_MAX=1)
  --bin-dir PATH    measure the binaries in PATH instead of target/release (implies
                    --no-build; for trying the harness on debug builds, not for figures)
  --no-web          skip the web part
  --no-peers        skip the Node.js peers
  --peer-runs N     cold starts per function and runtime for the Node.js peers (default 10)
  --peer-burst N    invocations per function and runtime for the peers' RSS and CPU (default 50)
  --no-cost         skip the cost of a race
  --no-pipeline     skip the pipeline at race scale
  --finishers N     finishers imported by the pipeline part (default 5000)
  --pipeline-drain S
                    seconds the pipeline's results may take after the commit request
                    (default 900)
  --cost-results N  results each pipeline stage handles for the cost (default 50)
  --loads N         web: cold loads of the results page (default 5)
  --runners N       web: results in the seeded marathon (default 200)
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    All,
    Web,
    Pipeline,
}

struct Options {
    command: Command,
    /// The web part's options; None with --no-web.
    web: Option<web::Options>,
    runs: usize,
    burst: usize,
    batch_reps: usize,
    only: Option<Vec<String>>,
    build: bool,
    arm64: bool,
    criterion: bool,
    out: PathBuf,
    bin_dir: Option<PathBuf>,
    bootstrap_env: Vec<(String, String)>,
    /// The Node.js peers' cold starts and burst; None with --no-peers.
    peers: Option<(usize, usize)>,
    /// Results per stage for the cost part; None with --no-cost.
    cost: Option<usize>,
    /// The pipeline at race scale; None with --no-pipeline.
    pipeline: Option<pipeline::Options>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        command: Command::All,
        web: Some(web::Options::default()),
        runs: 25,
        burst: 200,
        batch_reps: 15,
        only: None,
        build: true,
        arm64: true,
        criterion: true,
        out: repo_root().join("BENCHMARKS.md"),
        bin_dir: None,
        bootstrap_env: Vec::new(),
        peers: Some((10, 50)),
        cost: Some(50),
        pipeline: Some(pipeline::Options::default()),
    };
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some("all") => {}
        Some("web") => options.command = Command::Web,
        // `import`: the name issue 16's race-scale part had; it is this part now
        Some("pipeline" | "import") => options.command = Command::Pipeline,
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command".into()),
    }
    let number = |name: &str, value: Option<&String>| -> Result<usize, String> {
        value
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name} needs a positive number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => options.runs = number("--runs", args.next())?,
            "--burst" => options.burst = number("--burst", args.next())?,
            "--batch-reps" => options.batch_reps = number("--batch-reps", args.next())?,
            "--only" => {
                let list = args.next().ok_or("--only needs a list of functions")?;
                let names: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
                for name in &names {
                    if !FUNCTIONS.iter().any(|f| f.package == name) {
                        return Err(format!("unknown function {name:?}"));
                    }
                }
                options.only = Some(names);
            }
            "--no-build" => options.build = false,
            "--no-arm64" => options.arm64 = false,
            "--no-criterion" => options.criterion = false,
            "--no-web" if options.command == Command::All => options.web = None,
            "--no-peers" => options.peers = None,
            "--no-cost" => options.cost = None,
            "--no-pipeline" => options.pipeline = None,
            "--finishers" => {
                let n = number("--finishers", args.next())?;
                options.pipeline.get_or_insert_default().finishers = n;
            }
            "--pipeline-drain" => {
                let n = number("--pipeline-drain", args.next())?;
                options.pipeline.get_or_insert_default().drain = std::time::Duration::from_secs(n as u64);
            }
            "--cost-results" => options.cost = Some(number("--cost-results", args.next())?),
            "--peer-runs" => {
                let n = number("--peer-runs", args.next())?;
                options.peers.get_or_insert((10, 50)).0 = n;
            }
            "--peer-burst" => {
                let n = number("--peer-burst", args.next())?;
                options.peers.get_or_insert((10, 50)).1 = n;
            }
            "--loads" => {
                let n = number("--loads", args.next())?;
                options.web.get_or_insert_default().loads = n;
            }
            "--runners" => {
                let n = number("--runners", args.next())?;
                options.web.get_or_insert_default().runners = n;
            }
            "--out" => options.out = PathBuf::from(args.next().ok_or("--out needs a path")?),
            "--bootstrap-env" => {
                let pair = args.next().ok_or("--bootstrap-env needs K=V")?;
                let (key, value) = pair
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| format!("--bootstrap-env needs K=V, not {pair:?}"))?;
                options.bootstrap_env.push((key.to_owned(), value.to_owned()));
            }
            "--bin-dir" => {
                options.bin_dir = Some(PathBuf::from(args.next().ok_or("--bin-dir needs a path")?));
                options.build = false;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("mrmrthon-bench: {e}\n");
            }
            eprint!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mrmrthon-bench: cannot start a tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = args.join(" ");
    let outcome = match options.command {
        Command::All => runtime.block_on(all(options, command)),
        Command::Web => runtime.block_on(web_only(options, command)),
        Command::Pipeline => runtime.block_on(pipeline_only(options, command)),
    };
    match outcome {
        Ok(path) => {
            eprintln!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mrmrthon-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn all(options: Options, args: String) -> Result<PathBuf, String> {
    if let Some(dir) = &options.bin_dir {
        let _ = lab::BIN_DIR.set(std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?);
    }
    let started = now();
    let load_before = loadavg();
    let functions: Vec<Function> = FUNCTIONS
        .into_iter()
        .filter(|f| {
            options
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| o == f.package))
        })
        .collect();
    let mut results = Results {
        command: format!("cargo run --release -p mrmrthon-bench -- {args}"),
        runs: options.runs,
        burst_size: options.burst,
        ..Results::default()
    };
    if options.runs < 20 {
        results.skipped.push(format!(
            "cold init ran {} starts per function, fewer than the 20 asked for",
            options.runs
        ));
    }

    // 1. Builds (all CPU-heavy work first, so that it does not disturb the measurements).
    let mut built = Vec::new();
    for function in &functions {
        if options.build
            && let Err(e) = builder::release(function.package)
        {
            results
                .not_built
                .insert(function.package, format!("the release build failed: {e}"));
            continue;
        }
        if !release_binary(function.package).is_file() {
            results
                .not_built
                .insert(function.package, "no release binary in target/release".into());
            continue;
        }
        built.push(*function);
    }
    if !release_binary(lab::HELLO).is_file() {
        return Err(format!(
            "{} is missing: build it first with `cargo build --release -p mrmrthon-bench`",
            release_binary(lab::HELLO).display()
        ));
    }
    let arm64_blocker = if options.arm64 {
        size::arm64_unavailable()
    } else {
        Some("skipped (--no-arm64)".into())
    };
    for function in &built {
        let arm64 = match &arm64_blocker {
            Some(why) => Err(why.clone()),
            None => size::arm64(function.package),
        };
        results.sizes.insert(
            function.package,
            size::Size {
                x86_64: size::x86_64(function.package),
                arm64,
            },
        );
    }
    let criterion_ready = if options.criterion {
        eprintln!("compiling the criterion benches");
        builder::run_niced(
            "cargo",
            &["bench", "-p", "mrmrthon-bench", "--bench", "handlers", "--no-run"],
            "criterion-build.log",
            None,
        )
    } else {
        Err("skipped (--no-criterion)".into())
    };

    // 2. Measurements against the emulator.
    let mut lab = Lab::start().await?;
    lab.extra_env = options.bootstrap_env.clone();
    // A bootstrap that exits without ever asking for work (an empty `fn main() {}`) is a
    // function not built yet, not a failed measurement.
    let mut measured = Vec::new();
    for function in built {
        match probe(&lab, &function).await {
            Ok(()) => measured.push(function),
            Err(e) => {
                results.not_built.insert(function.package, e);
                results.sizes.remove(function.package);
            }
        }
    }
    let lab_cpu = host::CpuTimes::read();
    results.cold = cold_start::measure(&lab, &measured, options.runs).await;
    for function in &measured {
        eprintln!("peak RSS: {} ({} invocations)", function.package, options.burst);
        results.bursts.insert(
            function.package,
            rss::measure(&lab, function, options.burst).await,
        );
    }
    if measured.iter().any(|f| f.package == "point-increase") {
        eprintln!("batch concurrency: point-increase");
        results.batch = Some(batch::measure(&lab, options.batch_reps).await);
    }
    if let Some((runs, burst)) = options.peers {
        results.peers = Some(peers::measure(&lab, &measured, runs, burst).await);
    } else {
        results.skipped.push("the Node.js peers (--no-peers)".into());
    }
    if let Some(results_per_stage) = options.cost {
        let stages: Vec<Function> = cost::stages()
            .into_iter()
            .filter(|f| measured.iter().any(|m| m.package == f.package))
            .collect();
        results.costs = Some(cost::measure(&lab, &stages, results_per_stage).await);
    } else {
        results.skipped.push("the cost of a race (--no-cost)".into());
    }
    if let Some(pipeline_options) = &options.pipeline {
        eprintln!("pipeline at race scale: {} finishers", pipeline_options.finishers);
        results.pipeline = Some(pipeline::measure(&lab.stack, pipeline_options).await);
    } else {
        results
            .skipped
            .push("the pipeline at race scale (--no-pipeline)".into());
    }
    drop(lab);
    let steal_lab = host::steal_text(lab_cpu, host::CpuTimes::read());

    // 3. Handler CPU, with the emulator gone.
    let mut steal_cpu = "not measured".to_owned();
    match criterion_ready {
        Ok(_) => {
            let before = host::CpuTimes::read();
            let ran = cpu::run_benches();
            steal_cpu = host::steal_text(before, host::CpuTimes::read());
            for case in cpu::CASES {
                let estimate = match &ran {
                    Ok(()) => cpu::estimate(&case),
                    Err(e) => Err(e.clone()),
                };
                results.cpu.insert(case.id, estimate);
            }
        }
        Err(e) => {
            for case in cpu::CASES {
                results.cpu.insert(case.id, Err(e.clone()));
            }
        }
    }

    // 4. The web part last: the browser and the seeded stack on a machine left quiet.
    if let Some(web_options) = &options.web {
        let measured = web::measure(web_options).await;
        results.web = Some(web::render(&measured, &results.command, &now()));
    } else {
        results.skipped.push("the web part (--no-web)".into());
    }

    let machine = Machine {
        uname: command_output("uname", &["-a"]).unwrap_or_else(|| "unknown".into()),
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        cpu: cpu_model(),
        rustc: command_output("rustc", &["-V"]).unwrap_or_else(|| "unknown".into()),
        load_before,
        load_after: loadavg(),
        steal_lab,
        steal_cpu,
        started,
        finished: now(),
    };
    let text = report::render(&machine, &results);
    std::fs::write(&options.out, text).map_err(|e| format!("cannot write {}: {e}", options.out.display()))?;
    Ok(options.out)
}

/// `web`: measures the web part and replaces its section of the report (the rest of the
/// report stays as the last `all` wrote it).
async fn web_only(options: Options, args: String) -> Result<PathBuf, String> {
    let web_options = options.web.unwrap_or_default();
    let command = format!("cargo run --release -p mrmrthon-bench -- {args}");
    let (started, load_before) = (now(), loadavg());
    let measured = web::measure(&web_options).await;
    let when = format!(
        "{started} (load average before: {load_before}; after: {}; {} cores)",
        loadavg(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    let section = web::render(&measured, &command, &when);
    let existing = std::fs::read_to_string(&options.out).unwrap_or_default();
    std::fs::write(&options.out, web::splice(&existing, &section))
        .map_err(|e| format!("cannot write {}: {e}", options.out.display()))?;
    match (&measured.bundle, &measured.phone) {
        (Ok(_), Ok(_)) => Ok(options.out),
        (Err(e), _) | (_, Err(e)) => Err(format!("wrote {}, but: {e}", options.out.display())),
    }
}

/// `pipeline`: the pipeline at race scale on a stack of its own; replaces its section.
async fn pipeline_only(options: Options, args: String) -> Result<PathBuf, String> {
    let pipeline_options = options.pipeline.unwrap_or_default();
    let command = format!("cargo run --release -p mrmrthon-bench -- {args}");
    let (started, load_before) = (now(), loadavg());
    let stack = tokio::task::spawn_blocking(local::Stack::start)
        .await
        .map_err(|e| format!("the emulator start panicked: {e}"))?
        .map_err(|e| format!("the local stack cannot start: {e}"))?;
    let measured = pipeline::measure(&stack, &pipeline_options).await;
    drop(stack);
    let mut section = String::new();
    pipeline::render(&mut section, &measured);
    // the run's own where and when: the rest of the report came from another run
    let when = format!(
        "Measured on its own by `{command}` from {started} to {} (load average before: \
         {load_before}; after: {}; {} cores).\n\n",
        now(),
        loadavg(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    let section = section.replacen("\n\n", &format!("\n\n{when}"), 1);
    let existing = std::fs::read_to_string(&options.out).unwrap_or_default();
    std::fs::write(&options.out, pipeline::splice(&existing, &section))
        .map_err(|e| format!("cannot write {}: {e}", options.out.display()))?;
    measured.map(|_| options.out.clone())
}

/// One start: does this binary reach the Runtime API at all?
async fn probe(lab: &Lab, function: &Function) -> Result<(), String> {
    let (mut api, mut running) = bootstrap::start_function(lab, function, "probe").await?;
    let outcome = running
        .first_poll(&mut api, std::time::Duration::from_secs(30))
        .await;
    running.stop().await;
    outcome
        .map(|_| ())
        .map_err(|e| format!("the bootstrap never asked the Runtime API for work: {e}"))
}

fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.to_string())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_parse_and_bad_ones_are_refused() {
        let o = parse(&args(&[
            "all",
            "--runs",
            "21",
            "--only",
            "login,point-increase",
            "--no-arm64",
        ]))
        .unwrap();
        assert_eq!(o.runs, 21);
        assert_eq!(o.only.unwrap(), ["login", "point-increase"]);
        assert!(!o.arm64 && o.build && o.criterion);
        assert!(parse(&args(&["all", "--runs", "0"])).is_err());
        assert!(parse(&args(&["all", "--runs"])).is_err());
        assert!(parse(&args(&["all", "--only", "nope"])).is_err());
        assert!(parse(&args(&["nope"])).is_err());
        assert!(parse(&args(&[])).is_err());
        assert!(o.web.is_some());
        let o = parse(&args(&["all", "--no-web"])).unwrap();
        assert!(o.web.is_none());
        let o = parse(&args(&["web", "--loads", "3", "--runners", "50"])).unwrap();
        assert_eq!(o.command, Command::Web);
        let web = o.web.unwrap();
        assert_eq!((web.loads, web.runners), (3, 50));
        assert!(parse(&args(&["web", "--loads", "0"])).is_err());
        let o = parse(&args(&[
            "pipeline",
            "--finishers",
            "800",
            "--pipeline-drain",
            "600",
        ]))
        .unwrap();
        assert_eq!(o.command, Command::Pipeline);
        let pipeline = o.pipeline.unwrap();
        assert_eq!((pipeline.finishers, pipeline.drain.as_secs()), (800, 600));
        assert_eq!(parse(&args(&["import"])).unwrap().command, Command::Pipeline);
        assert!(parse(&args(&["pipeline", "--finishers", "0"])).is_err());
    }
}
