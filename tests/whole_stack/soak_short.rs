//! A short soak in `make test` (`make soak` runs the long one and writes RELIABILITY.md):
//! 60 operations at 10% faults, a 5-second topic outage; nothing may be lost, duplicated
//! or unexpected. SOAK_* variables change it as they change `make soak`.

use std::time::Instant;

use local::Stack;
use mrmrthon_e2e::soak::{self, Config, report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_under_faults_loses_duplicates_and_invents_nothing() {
    let config = Config::from_env(Config::short()).unwrap();
    let started = Instant::now();
    let outcome = soak::run(&Stack::start().expect("the local stack starts"), &config)
        .await
        .unwrap();
    let summary = report::summary(&outcome);
    println!("{summary}\n{:?} in all: {:?}", outcome.timings, started.elapsed());
    assert_eq!(outcome.history.len(), config.operations);
    // the checker saw the effects it counts, not an empty stack
    assert!(
        outcome.figures.mail.observed >= config.operations as u64,
        "{summary}"
    );
    assert!(outcome.figures.discord.observed > 0, "{summary}");
    // the faults were there
    if config.faults > 0.0 {
        assert!(
            outcome.faults.emulator["faults"]
                .as_object()
                .is_some_and(|f| !f.is_empty()),
            "{:?}",
            outcome.faults
        );
    }
    assert!(outcome.clean(), "{summary}");
}
