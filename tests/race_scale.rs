//! Race scale on the local stack (issue 16, item 7): finishers imported from one file
//! (1,000 in `tests/whole_stack/import_race.rs`; `make bench`'s pipeline part, bench/src/pipeline.rs,
//! times the same way per runner at 5,000). The organizer opens an import, uploads the file to the presigned URL (S3 on the
//! emulator), and the bucket's trigger runs results-import's dry run: the planted errors
//! come back by line, column and reason, and nothing is written. The commit is then
//! requested twice and its first run is killed midway; committing again resumes it. Every
//! runner ends with exactly one award (total = marathon points = the ledger's sum), one
//! mail each, and Discord gets one summary post for the whole import and nothing else.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{
    Accounts, call, discord_sink, mark_email_verified, start_services, with_notifiers, with_points_pipeline,
    with_record_api, with_results_import,
};
use domain::ports::RaceStore;
use domain::{Role, UserId};
use futures::{StreamExt, stream};
use local::http_client::HttpClient;
use local::{InProcess, Stack};
use serde_json::json;

const POINTS: i64 = 100;
/// How long one stage may take: bounded, and in proportion to the race, as moto serves one
/// request at a time (a 1,000-finisher commit took about 100 s here, 5,000 about 5x that).
fn patience(finishers: usize) -> Duration {
    Duration::from_secs(240) + Duration::from_millis(300) * finishers as u32
}

async fn until<T>(what: &str, patience: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < patience,
            "gave up after {patience:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A stage's end on stderr as it happens (`--nocapture`): where a slow run spends its time.
fn stage(started: Instant, what: &str) {
    eprintln!("import_race: {:>7.1} s  {what}", started.elapsed().as_secs_f64());
}

/// The address of a recipient, `Name <a@b>` or `a@b`, in lower case.
fn mailbox_address(to: &str) -> String {
    let address = match (to.rfind('<'), to.rfind('>')) {
        (Some(open), Some(close)) if open < close => &to[open + 1..close],
        _ => to,
    };
    address.trim().to_lowercase()
}

fn hms(seconds: u32) -> String {
    format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// What one run took: from the start to the commit request, and each stage after it.
#[derive(Debug, Clone)]
pub struct RaceTimings {
    pub finishers: usize,
    /// Accounts, registrations (bibs) and the roster read.
    pub setup: Duration,
    /// From the upload's end to the dry run's report.
    pub dry_run: Duration,
    /// From the commit request to the import's `committed`.
    pub commit: Duration,
    /// From the commit request to the last runner's award.
    pub last_award: Duration,
    /// From the commit request to the last runner's mail.
    pub last_mail: Duration,
    pub total: Duration,
}

impl RaceTimings {
    /// Per second over a stage's duration.
    pub fn rate(&self, stage: Duration) -> f64 {
        self.finishers as f64 / stage.as_secs_f64().max(f64::EPSILON)
    }
}

/// The whole scenario, asserting as it goes: `finishers` finishers and three planted errors;
/// with `kill`, the first commit invocation is killed 1.5 s in and resumed.
pub async fn import_race(finishers: usize, kill: bool) -> RaceTimings {
    #[allow(non_snake_case)]
    let FINISHERS = finishers;
    let started = Instant::now();
    let stack = &Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let sink = discord_sink(provisioned, &sdk).await;
    // the first commit invocation is killed 1.5 s in, as a crashed container is
    let kill_first_commit: Arc<dyn Fn(u64) -> Option<Duration> + Send + Sync> =
        Arc::new(move |n| (kill && n == 1).then_some(Duration::from_millis(1_500)));
    let invoker = with_record_api(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;
    let invoker = with_notifiers(invoker, provisioned, &sdk).await;
    let invoker = with_results_import(invoker, provisioned, &sdk, kill_first_commit);
    let services = start_services(stack, invoker).await;
    let (http, api) = (HttpClient::new(), services.api_url().unwrap());
    let env = provisioned.function_env("RecordApiFunction").unwrap();
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);

    // the organizer, a marathon run today, and 1,002 registered runners (two rows fail)
    let accounts = Accounts::connect(provisioned, &sdk).await;
    let (organizer_id, organizer) = accounts.user(Role::Organizer).await;
    mark_email_verified(&dynamo, &env["USERS_TABLE"], &organizer_id).await;
    let date = time::OffsetDateTime::now_utc().date();
    let (status, marathon) = call(
        &http,
        &api,
        http::Method::POST,
        "/marathons",
        &organizer,
        Some(json!({
            "name": "Seoul Marathon", "date": date.to_string(), "location": "Gwanghwamun", "course": "full",
            "points": POINTS, "capacity": FINISHERS + 10, "registration_closes_at": format!("{date}T23:59:59Z"),
        })),
    )
    .await;
    assert_eq!(status, 201, "{marathon}");
    let id = marathon["id"].as_str().unwrap().to_owned();
    let registered: Vec<UserId> = stream::iter(0..FINISHERS + 2)
        .map(|_| async {
            let (runner, token) = accounts.user(Role::Runner).await;
            mark_email_verified(&dynamo, &env["USERS_TABLE"], &runner).await;
            let (status, body) = call(
                &http,
                &api,
                http::Method::POST,
                &format!("/marathons/{id}/entries"),
                &token,
                None,
            )
            .await;
            assert_eq!(status, 201, "{body}");
            runner
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let races = infra::dynamo::DynamoRaces::new(
        dynamo.clone(),
        &env["RACES_TABLE"],
        infra::dynamo::ActivityLog {
            table: env["ACTIVITY_TABLE"].clone(),
            retention: time::Duration::days(1),
        },
    );
    let marathon_id = domain::marathon::MarathonId::parse(&id).unwrap();
    let roster = races.marathon_roster(&marathon_id).await.unwrap();
    assert_eq!(roster.len(), FINISHERS + 2, "every entry has a bib");
    assert_eq!(registered.len(), roster.len());
    // the file's finishers, in bib order (the last two runners' rows are refused)
    let runners: Vec<UserId> = roster.iter().map(|r| r.runner_id.clone()).collect();
    let setup = started.elapsed();
    stage(started, &format!("{} runners registered", roster.len()));

    // the file: semicolons and a BOM as a timing system writes them; 1,000 finishers,
    // one bad time, one unknown status, one unknown bib
    let mut file = String::from("\u{feff}Place;Bib;Name;Status;Chip Time;Gun Time\n");
    let mut chip = HashMap::new();
    for (i, entry) in roster.iter().take(FINISHERS).enumerate() {
        let seconds = 2 * 3600 + 7 * 60 + i as u32 * 3;
        chip.insert(entry.runner_id.clone(), seconds);
        file.push_str(&format!(
            "{};{};\"{}\";FIN;{}.4;{}\n",
            i + 1,
            entry.bib,
            entry.runner_name.as_str(),
            hms(seconds),
            hms(seconds + 30)
        ));
    }
    let late = &roster[FINISHERS];
    file.push_str(&format!("1001;{};x;FIN;2:61:00;\n", late.bib));
    let walked = &roster[FINISHERS + 1];
    file.push_str(&format!("1002;{};y;WALKED;3:00:00;\n", walked.bib));
    file.push_str("1003;99999;nobody;FIN;3:00:00;\n");
    let (bad_time_line, bad_status_line, unknown_line) =
        (FINISHERS as u64 + 2, FINISHERS as u64 + 3, FINISHERS as u64 + 4);

    let (status, opened) = call(
        &http,
        &api,
        http::Method::POST,
        &format!("/marathons/{id}/imports"),
        &organizer,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let import = format!(
        "/marathons/{id}/imports/{}",
        opened["import"]["id"].as_str().unwrap()
    );
    let uploaded = http
        .request(
            http::Method::PUT,
            opened["upload"]["url"].as_str().unwrap(),
            &[("content-type", "text/csv")],
            file.into_bytes(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let upload_done = Instant::now();

    // the dry run: the planted errors, precisely, and a summary; nothing written
    let read = async || {
        call(&http, &api, http::Method::GET, &import, &organizer, None)
            .await
            .1
    };
    let dry = until("the dry run", patience(FINISHERS), async || {
        let view = read().await;
        (view["state"] == "validated").then_some(view)
    })
    .await;
    let dry_run = upload_done.elapsed();
    stage(started, "dry run reported");
    assert_eq!(
        dry["summary"],
        json!({"rows": finishers + 3, "valid": FINISHERS, "failed": 3, "new": FINISHERS, "corrections": 0, "unchanged": 0, "removals": 0})
    );
    assert_eq!(dry["error_count"], 3);
    let errors = dry["errors"].as_array().unwrap();
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_str()),
        (Some(bad_time_line), Some("Chip Time"))
    );
    assert!(
        errors[0]["reason"].as_str().unwrap().starts_with("bad time"),
        "{errors:?}"
    );
    assert_eq!(
        (errors[1]["line"].as_u64(), errors[1]["column"].as_str()),
        (Some(bad_status_line), Some("Status"))
    );
    assert_eq!(
        (errors[2]["line"].as_u64(), errors[2]["column"].as_str()),
        (Some(unknown_line), Some("Bib"))
    );
    assert!(
        errors[2]["reason"].as_str().unwrap().starts_with("unknown bib"),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    let (_, ranking) = call(
        &http,
        &api,
        http::Method::GET,
        &format!("/marathons/{id}/results"),
        &organizer,
        None,
    )
    .await;
    assert_eq!(ranking["items"], json!([]), "a dry run writes no result");

    // commit twice at once; the first run is killed midway, the second request's marker
    // (or the organizer's next one) resumes it
    let commit = format!("{import}/commit");
    let committed_at = Instant::now();
    let (a, b) = tokio::join!(
        call(&http, &api, http::Method::POST, &commit, &organizer, None),
        call(&http, &api, http::Method::POST, &commit, &organizer, None),
    );
    assert!([a.0, b.0].iter().all(|s| *s == 202 || *s == 200), "{a:?} {b:?}");
    let progress = until("the commit to have started", patience(FINISHERS), async || {
        let view = read().await;
        (view["applied"].as_u64() > Some(0) || view["state"] == "committed").then_some(view)
    })
    .await;
    assert!(
        progress["applied"].as_u64().unwrap() + progress["pending"].as_u64().unwrap() == FINISHERS as u64
    );
    // the killed run may leave it committing with nothing running: an organizer who sees
    // no progress for a while commits again, which resumes it (not while it moves: each
    // request is one more run of the function, queued behind the running one)
    let (mut seen, mut moved) = (progress["applied"].as_u64(), Instant::now());
    let done = until("the commit to finish", patience(FINISHERS), async || {
        let view = read().await;
        if view["state"] == "committed" {
            return Some(view);
        }
        if view["applied"].as_u64() != seen {
            (seen, moved) = (view["applied"].as_u64(), Instant::now());
        } else if moved.elapsed() > Duration::from_secs(10) {
            stage(
                started,
                &format!("no progress at {seen:?} applied: committing again"),
            );
            call(&http, &api, http::Method::POST, &commit, &organizer, None).await;
            moved = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        None
    })
    .await;
    assert_eq!(
        (
            done["applied"].as_u64(),
            done["failed"].as_u64(),
            done["pending"].as_u64()
        ),
        (Some(FINISHERS as u64), Some(3), Some(0))
    );
    let commit_time = committed_at.elapsed();
    stage(started, "import committed");
    // committing a committed import changes nothing
    let (status, again) = call(&http, &api, http::Method::POST, &commit, &organizer, None).await;
    assert_eq!((status, again["applied"].as_u64()), (200, Some(FINISHERS as u64)));

    // every award exactly once: each total is the marathon's points and the ledger's sum
    let users = &env["USERS_TABLE"];
    // Runners are read one at a time, each until it is awarded, then the next: about one
    // read per runner in all. The emulator serves one DynamoDB request at a time, so
    // reading every ledger four times a second would starve the very pipeline being
    // waited for. A total above the points fails at once.
    let mut unawarded: std::collections::VecDeque<&UserId> = runners[..FINISHERS].iter().collect();
    let mut reported = Instant::now();
    until("every award", patience(FINISHERS), async || {
        while let Some(runner) = unawarded.front() {
            let total = ledger_total(&dynamo, users, runner).await;
            assert!(
                total <= POINTS,
                "{runner} got {total} points: an award applied twice"
            );
            if total < POINTS {
                break;
            }
            unawarded.pop_front();
        }
        if reported.elapsed() > Duration::from_secs(10) {
            reported = Instant::now();
            stage(
                started,
                &format!("{} of {FINISHERS} awarded", FINISHERS - unawarded.len()),
            );
        }
        unawarded.is_empty().then_some(())
    })
    .await;
    let last_award = committed_at.elapsed();
    stage(started, "every award applied");
    let awarded: Vec<(i64, i64)> = stream::iter(&runners[..FINISHERS])
        .map(|runner| ledger(&dynamo, users, runner))
        .buffer_unordered(16)
        .collect()
        .await;
    for (total, sum) in &awarded {
        assert_eq!(
            (*total, *sum),
            (POINTS, POINTS),
            "the total is the ledger's sum, awarded once"
        );
    }
    assert_eq!(
        ledger(&dynamo, users, &late.runner_id).await,
        (0, 0),
        "a refused row awards nothing"
    );
    // the results are the file's, ranked by chip time
    for runner in runners.iter().take(3) {
        let result = races
            .result(&marathon_id, runner)
            .await
            .unwrap()
            .expect("a result");
        // "H:MM:SS.4" rounds up to the next second
        assert_eq!(result.finish_seconds, chip.get(runner).map(|s| s + 1));
        assert_eq!(result.import_id.as_deref(), opened["import"]["id"].as_str());
    }

    // one mail per runner, and one Discord post for the whole import
    let mailbox = services.mailbox.as_ref().unwrap();
    let addresses: Vec<String> = runners[..FINISHERS]
        .iter()
        .map(|r| format!("{}@example.com", r.as_str().to_lowercase()))
        .collect();
    let mut reported = Instant::now();
    let last_mail = until("a mail to every runner", patience(FINISHERS), async || {
        // one set per poll: comparing every address with every mail is 25M comparisons
        // at 5,000 runners, four times a second, on the machine running the pipeline
        let mailed: std::collections::HashSet<String> = mailbox
            .mails()
            .iter()
            .flat_map(|m| m.to.iter().map(|to| mailbox_address(to)))
            .collect();
        let unmailed = addresses.iter().filter(|a| !mailed.contains(a.as_str())).count();
        if reported.elapsed() > Duration::from_secs(10) {
            reported = Instant::now();
            stage(
                started,
                &format!("{} of {FINISHERS} mailed", FINISHERS - unmailed),
            );
        }
        (unmailed == 0).then_some(committed_at.elapsed())
    })
    .await;
    stage(started, "every runner mailed");
    let import_id = opened["import"]["id"].as_str().unwrap();
    let summary = until("the import's Discord post", patience(FINISHERS), async || {
        sink.posts()
            .into_iter()
            .find(|p| p.body.to_string().contains(import_id))
    })
    .await;
    stage(started, "the import's summary posted");
    // in the deployment's language: "1000 results imported" or "결과 1000건 등록"
    assert!(
        summary.body["content"]
            .as_str()
            .unwrap()
            .contains(&finishers.to_string()),
        "{}",
        summary.body
    );
    // let anything still in flight arrive, then count
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut per_address: HashMap<String, usize> = HashMap::new();
    for to in mailbox.mails().iter().flat_map(|m| m.to.iter()) {
        *per_address.entry(mailbox_address(to)).or_default() += 1;
    }
    for address in &addresses {
        assert_eq!(per_address.get(address), Some(&1), "one mail to {address}");
    }
    assert_eq!(sink.posts().len(), 1, "one Discord post per import, none per row");
    RaceTimings {
        finishers,
        setup,
        dry_run,
        commit: commit_time,
        last_award,
        last_mail,
        total: started.elapsed(),
    }
}

/// A runner's total (one read: the profile).
async fn ledger_total(dynamo: &aws_sdk_dynamodb::Client, users: &str, runner: &UserId) -> i64 {
    let profile = dynamo
        .get_item()
        .table_name(users)
        .set_key(Some(infra::dynamo::keys::profile_key(runner)))
        .projection_expression("total_points")
        .consistent_read(true)
        .send()
        .await
        .expect("the profile");
    profile
        .item()
        .and_then(|i| i.get("total_points"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(0)
}

/// A runner's total and the sum of their awards in the ledger.
async fn ledger(dynamo: &aws_sdk_dynamodb::Client, users: &str, runner: &UserId) -> (i64, i64) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let number = |v: Option<&AttributeValue>| {
        v.and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let profile = dynamo
        .get_item()
        .table_name(users)
        .set_key(Some(infra::dynamo::keys::profile_key(runner)))
        .consistent_read(true)
        .send()
        .await
        .expect("the profile");
    let total = number(profile.item().and_then(|i| i.get("total_points")));
    let awards = dynamo
        .query()
        .table_name(users)
        .key_condition_expression("pk = :pk AND begins_with(sk, :award)")
        .expression_attribute_values(":pk", AttributeValue::S(infra::dynamo::keys::user_pk(runner)))
        .expression_attribute_values(
            ":award",
            AttributeValue::S(infra::dynamo::keys::AWARD_PREFIX.into()),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("the awards");
    let sum = awards.items().iter().map(|i| number(i.get("points"))).sum();
    (total, sum)
}
