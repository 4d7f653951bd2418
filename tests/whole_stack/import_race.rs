//! Race scale on the local stack (issue 16, item 7): finishers imported from one file,
//! their dry run, a commit requested twice and killed midway, then every award exactly
//! once, one mail per runner and one Discord post (`race_scale::import_race`). 1,000
//! finishers unless IMPORT_RACE_FINISHERS says otherwise: `make race-scale` runs the
//! 1,000; `make test` runs 100, which its time budget allows (moto serves one DynamoDB
//! request at a time, so the whole pipeline runs at a few awards a second here).

use mrmrthon_e2e::race_scale::import_race;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finishers_imported_from_one_file_are_awarded_mailed_and_summarized_once() {
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
