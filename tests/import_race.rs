//! Race scale on the local stack (issue 16, item 7): 1,000 finishers imported from one
//! file, their dry run, a commit requested twice and killed midway, then every award
//! exactly once, one mail per runner and one Discord post (`race_scale::import_race`).

use mrmrthon_e2e::race_scale::import_race;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_finishers_imported_awarded_mailed_and_summarized_once() {
    // IMPORT_RACE_FINISHERS: a smaller run while working on it
    let finishers = std::env::var("IMPORT_RACE_FINISHERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let t = import_race(finishers, true).await;
    eprintln!(
        "import_race: setup {:?}, dry run {:?} ({:.0} rows/s), commit {:?} ({:.0} rows/s), last award {:?} ({:.0}/s), last mail {:?}, total {:?}",
        t.setup,
        t.dry_run,
        t.rate(t.dry_run),
        t.commit,
        t.rate(t.commit),
        t.last_award,
        t.rate(t.last_award),
        t.last_mail,
        t.total
    );
}
