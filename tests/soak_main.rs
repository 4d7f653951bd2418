//! `make soak`: the fault-injection soak on a stack of its own, its report written to
//! RELIABILITY.md (SOAK_REPORT for another path). Exits 1 when anything was lost,
//! duplicated or unexpected. Options: SOAK_OPS, SOAK_FAULTS, SOAK_SEED, SOAK_RUNNERS,
//! SOAK_MARATHONS, SOAK_OUTAGE, SOAK_WORKERS, SOAK_SETTLE (tests/soak/mod.rs).

use local::Stack;
use mrmrthon_e2e::soak::{self, Config, report};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let config = match Config::from_env(Config::full()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    eprintln!(
        "soak: {} operations, {:.0}% faults, seed {}, topic outage {:?}",
        config.operations,
        config.faults * 100.0,
        config.seed,
        config.outage
    );
    let stack = match Stack::start() {
        Ok(stack) => stack,
        Err(e) => {
            eprintln!("soak: the local stack cannot start: {e}");
            std::process::exit(2);
        }
    };
    let outcome = match soak::run(&stack, &config).await {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    let command = format!(
        "make soak SOAK_OPS={} SOAK_FAULTS={} SOAK_SEED={} SOAK_RUNNERS={} SOAK_MARATHONS={} SOAK_OUTAGE={} SOAK_WORKERS={}",
        config.operations,
        config.faults,
        config.seed,
        config.runners,
        config.marathons,
        config.outage.as_secs(),
        config.workers
    );
    let path = std::env::var("SOAK_REPORT").unwrap_or_else(|_| {
        local::emulator::repo_root()
            .join("RELIABILITY.md")
            .to_string_lossy()
            .into_owned()
    });
    if let Err(e) = std::fs::write(&path, report::markdown(&outcome, &command)) {
        eprintln!("soak: cannot write {path}: {e}");
        std::process::exit(2);
    }
    println!("{}", report::summary(&outcome));
    println!(
        "written to {path} in {:.0} s",
        outcome.timings.total.as_secs_f64()
    );
    if !outcome.clean() {
        std::process::exit(1);
    }
}
