//! The Races adapter against the emulator: real SDK calls on the table template.yaml
//! declares. Tests share one emulator and run in parallel, so each makes its own ids.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::entry::Entry;
use domain::marathon::{Course, Marathon, MarathonId, MarathonStatus};
use domain::paging::{Page, PageRequest};
use domain::ports::{MarathonFilter, RaceStore, StoreError};
use domain::record::{Record, RecordKind};
use domain::result::{OfficialResult, result_id};
use domain::{UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoRaces};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use tokio::task::JoinSet;

struct Fixture {
    races: DynamoRaces,
    client: Client,
    table: String,
    activity_table: String,
}

async fn fixture() -> Fixture {
    let stack = local::Stack::shared();
    let names = stack.provisioned();
    let table = names
        .physical_name("RacesTable")
        .expect("RacesTable is in template.yaml")
        .to_owned();
    let activity_table = names
        .physical_name("ActivityLogTable")
        .expect("ActivityLogTable is in template.yaml")
        .to_owned();
    let client = Client::new(&stack.sdk_config().await);
    let activity = ActivityLog {
        table: activity_table.clone(),
        retention: Duration::days(30),
    };
    Fixture {
        races: DynamoRaces::new(client.clone(), table.clone(), activity),
        client,
        table,
        activity_table,
    }
}

/// Registration is open at this time for every fixture marathon.
const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn marathon(organizer: &UserId, date: Date, capacity: u32) -> Marathon {
    Marathon {
        id: MarathonId::generate(),
        organizer_id: organizer.clone(),
        name: "Seoul Marathon".into(),
        date,
        location: "Seoul".into(),
        course: Course::Full,
        distance_m: Course::Full.metres(),
        points: 100,
        dnf_points: 0,
        capacity,
        entry_count: 0,
        result_count: 0,
        registration_closes_at: datetime!(2026-09-01 0:00 UTC),
        status: MarathonStatus::Open,
        version: 1,
        created_at: NOW,
        updated_at: NOW,
    }
}

fn act(actor: &UserId, kind: ActivityKind) -> ActivityEntry {
    ActivityEntry::new(actor.clone(), kind, NOW, RequestOrigin::default())
}

fn entry(marathon: &Marathon, runner: &UserId) -> Entry {
    Entry {
        marathon_id: marathon.id.clone(),
        runner_id: runner.clone(),
        runner_name: UserName::parse("Kim Runner").unwrap(),
        marathon_name: marathon.name.clone(),
        marathon_date: marathon.date,
        registered_at: NOW,
        bib: None,
    }
}

fn official(marathon: &Marathon, runner: &UserId, finish_seconds: u32, version: u64) -> OfficialResult {
    OfficialResult {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        marathon_date: marathon.date,
        runner_id: runner.clone(),
        runner_name: UserName::parse("Kim Runner").unwrap(),
        finish_seconds: Some(finish_seconds),
        finish_time: Some(domain::result::FinishTime::from_seconds(finish_seconds).display()),
        bonus_points: 5,
        points: marathon.points + 5,
        version,
        recorded_at: NOW,
        updated_at: NOW,
        correlation_id: Some("races-test".into()),
        status: Default::default(),
        gun_seconds: None,
        splits: Default::default(),
        bib: None,
        category: None,
        import_id: None,
        age_grade: None,
    }
}

fn record(runner: &UserId, id: String) -> Record {
    Record {
        id,
        runner_id: runner.clone(),
        kind: RecordKind::Training,
        date: date!(2026 - 05 - 01),
        distance_m: 12_000,
        duration_seconds: 3_723,
        notes: "tempo".into(),
        created_at: NOW,
        updated_at: NOW,
    }
}

/// Creates a marathon, logged as its organizer's.
async fn create(fx: &Fixture, m: &Marathon) {
    let log = act(&m.organizer_id, ActivityKind::MarathonCreated);
    fx.races.create_marathon(m, &log).await.expect("marathon created");
}

async fn register(fx: &Fixture, m: &Marathon, runner: &UserId) -> Result<(), StoreError> {
    fx.races
        .register(
            &entry(m, runner),
            NOW,
            &act(runner, ActivityKind::EntryRegistered),
        )
        .await
        .map(|_| ())
}

async fn stored(fx: &Fixture, m: &MarathonId) -> Marathon {
    fx.races.marathon(m).await.unwrap().expect("marathon exists")
}

/// Every page of a listing, following cursors to the end.
async fn pages<T>(limit: u32, list: impl AsyncFn(PageRequest) -> Result<Page<T>, StoreError>) -> Vec<Vec<T>> {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = list(PageRequest { limit, cursor }).await.expect("page");
        pages.push(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
        assert!(pages.len() < 1000, "paging does not end");
    }
}

fn sizes<T>(pages: &[Vec<T>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

/// The kinds of the actor's activity entries, sorted.
async fn activity_kinds(fx: &Fixture, actor: &UserId) -> Vec<String> {
    let output = fx
        .client
        .query()
        .table_name(&fx.activity_table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{actor}")))
        .send()
        .await
        .unwrap();
    let mut kinds: Vec<String> = output
        .items()
        .iter()
        .map(|item| item["kind"].as_s().unwrap().clone())
        .collect();
    kinds.sort();
    kinds
}

fn kinds(list: &[&str]) -> Vec<String> {
    let mut kinds: Vec<String> = list.iter().map(|k| (*k).to_owned()).collect();
    kinds.sort();
    kinds
}

async fn raw_item(fx: &Fixture, pk: String, sk: String) -> Option<HashMap<String, AttributeValue>> {
    fx.client
        .get_item()
        .table_name(&fx.table)
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn unit<T>(page: Page<T>) -> Page<()> {
    page.map(|_| ())
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict))
}

#[tokio::test]
async fn marathons_are_created_read_and_updated_at_their_version() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 10 - 04), 10);
    create(&fx, &m).await;
    assert_eq!(stored(&fx, &m.id).await, m);
    assert!(
        fx.races
            .marathon(&MarathonId::generate())
            .await
            .unwrap()
            .is_none()
    );
    let again = fx
        .races
        .create_marathon(&m, &act(&organizer, ActivityKind::MarathonCreated))
        .await;
    assert!(is_conflict(again), "a second create of the same id conflicts");

    // a registration changes the count but not the version
    register(&fx, &m, &UserId::generate()).await.unwrap();
    let mut edited = m.clone();
    edited.name = "Seoul International Marathon".into();
    edited.date = date!(2026 - 10 - 11);
    edited.course = Course::Metres(30_000);
    edited.version = 2;
    // the editor's copy still says entry_count 0: the store must keep the counted 1
    fx.races
        .update_marathon(&edited, 1, &act(&organizer, ActivityKind::MarathonUpdated))
        .await
        .unwrap();
    let now = stored(&fx, &m.id).await;
    assert_eq!(
        now,
        Marathon {
            entry_count: 1,
            result_count: 0,
            ..edited.clone()
        }
    );

    let stale = fx
        .races
        .update_marathon(
            &Marathon {
                version: 3,
                ..edited.clone()
            },
            1,
            &act(&organizer, ActivityKind::MarathonUpdated),
        )
        .await;
    assert!(
        is_conflict(stale),
        "an edit from version 1 after version 2 conflicts"
    );
    let below_count = fx
        .races
        .update_marathon(
            &Marathon {
                version: 3,
                capacity: 0,
                ..edited.clone()
            },
            2,
            &act(&organizer, ActivityKind::MarathonUpdated),
        )
        .await;
    assert!(
        is_conflict(below_count),
        "capacity below the entries already counted conflicts"
    );
    assert_eq!(stored(&fx, &m.id).await.version, 2);

    // the organizer listing follows the new date (gsi1sk was rewritten)
    let listed = fx
        .races
        .list_marathons(
            &MarathonFilter::ByOrganizer(organizer.clone()),
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|m| m.date).collect::<Vec<_>>(),
        [date!(2026 - 10 - 11)]
    );
    // failed writes logged nothing
    assert_eq!(
        activity_kinds(&fx, &organizer).await,
        kinds(&["marathon.created", "marathon.updated"])
    );
}

#[tokio::test]
async fn a_registration_is_counted_once() {
    let fx = fixture().await;
    let m = marathon(&UserId::generate(), date!(2026 - 10 - 04), 10);
    create(&fx, &m).await;
    let runner = UserId::generate();
    register(&fx, &m, &runner).await.unwrap();
    assert_eq!(
        fx.races.entry(&m.id, &runner).await.unwrap(),
        Some(Entry {
            bib: domain::race::Bib::new(1),
            ..entry(&m, &runner)
        })
    );
    assert!(
        is_conflict(register(&fx, &m, &runner).await),
        "a second registration conflicts"
    );
    assert_eq!(stored(&fx, &m.id).await.entry_count, 1);
    assert_eq!(activity_kinds(&fx, &runner).await, kinds(&["entry.registered"]));
}

#[tokio::test]
async fn registration_is_refused_when_full_closed_cancelled_or_unknown() {
    let fx = fixture().await;
    let organizer = UserId::generate();

    let full = marathon(&organizer, date!(2026 - 10 - 04), 1);
    create(&fx, &full).await;
    register(&fx, &full, &UserId::generate()).await.unwrap();
    let late = UserId::generate();
    assert!(is_conflict(register(&fx, &full, &late).await), "full");
    assert_eq!(stored(&fx, &full.id).await.entry_count, 1);
    assert!(fx.races.entry(&full.id, &late).await.unwrap().is_none());

    let closed = marathon(&organizer, date!(2026 - 10 - 04), 10);
    create(&fx, &closed).await;
    let after_close = closed.registration_closes_at;
    let refused = fx
        .races
        .register(
            &entry(&closed, &late),
            after_close,
            &act(&late, ActivityKind::EntryRegistered),
        )
        .await;
    assert!(
        is_conflict(refused),
        "registration closes at registration_closes_at"
    );
    let before_close = after_close - Duration::seconds(1);
    fx.races
        .register(
            &entry(&closed, &late),
            before_close,
            &act(&late, ActivityKind::EntryRegistered),
        )
        .await
        .expect("a second before the close is still open");

    let cancelled = marathon(&organizer, date!(2026 - 10 - 04), 10);
    create(&fx, &cancelled).await;
    let status = Marathon {
        status: MarathonStatus::Cancelled,
        version: 2,
        ..cancelled.clone()
    };
    fx.races
        .update_marathon(&status, 1, &act(&organizer, ActivityKind::MarathonCancelled))
        .await
        .unwrap();
    assert!(
        is_conflict(register(&fx, &cancelled, &UserId::generate()).await),
        "cancelled"
    );

    let unknown = marathon(&organizer, date!(2026 - 10 - 04), 10);
    assert!(
        is_conflict(register(&fx, &unknown, &UserId::generate()).await),
        "unknown"
    );
    assert!(
        fx.races.marathon(&unknown.id).await.unwrap().is_none(),
        "no marathon made up"
    );
    // only the one registration that went through was logged for this runner
    assert_eq!(activity_kinds(&fx, &late).await, kinds(&["entry.registered"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_registrations_fill_exactly_five_places() {
    let fx = fixture().await;
    let m = marathon(&UserId::generate(), date!(2026 - 10 - 04), 5);
    create(&fx, &m).await;
    let races = Arc::new(fx.races.clone());
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let (races, entry) = (races.clone(), entry(&m, &UserId::generate()));
        tasks.spawn(async move {
            let log = act(&entry.runner_id, ActivityKind::EntryRegistered);
            races.register(&entry, NOW, &log).await
        });
    }
    let (mut accepted, mut refused) = (0, 0);
    let mut bibs = std::collections::BTreeSet::new();
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            Ok(bib) => {
                accepted += 1;
                assert!(bibs.insert(bib.expect("a bib")), "bibs are unique");
            }
            Err(StoreError::Conflict) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((accepted, refused), (5, 15));
    assert_eq!(stored(&fx, &m.id).await.entry_count, 5);
    let listed = fx
        .races
        .marathon_entries(&m.id, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 5);
}

#[tokio::test]
async fn cancelling_an_entry_uncounts_it() {
    let fx = fixture().await;
    let m = marathon(&UserId::generate(), date!(2026 - 10 - 04), 10);
    create(&fx, &m).await;
    let (first, second) = (UserId::generate(), UserId::generate());
    register(&fx, &m, &first).await.unwrap();
    register(&fx, &m, &second).await.unwrap();
    assert_eq!(stored(&fx, &m.id).await.entry_count, 2);

    let cancel = |runner: UserId| {
        let (races, id) = (&fx.races, m.id.clone());
        async move {
            races
                .cancel_entry(&id, &runner, &act(&runner, ActivityKind::EntryCancelled))
                .await
        }
    };
    cancel(first.clone()).await.unwrap();
    assert_eq!(stored(&fx, &m.id).await.entry_count, 1);
    assert!(fx.races.entry(&m.id, &first).await.unwrap().is_none());
    assert!(
        is_conflict(cancel(first.clone()).await),
        "no entry left to cancel"
    );
    assert_eq!(stored(&fx, &m.id).await.entry_count, 1);

    let nowhere = MarathonId::generate();
    let unknown = fx
        .races
        .cancel_entry(&nowhere, &first, &act(&first, ActivityKind::EntryCancelled))
        .await;
    assert!(is_conflict(unknown));
    assert!(
        fx.races.marathon(&nowhere).await.unwrap().is_none(),
        "no marathon made up"
    );

    register(&fx, &m, &first)
        .await
        .expect("a cancelled runner may register again");
    assert_eq!(stored(&fx, &m.id).await.entry_count, 2);
    assert_eq!(
        activity_kinds(&fx, &first).await,
        kinds(&["entry.registered", "entry.cancelled", "entry.registered"])
    );
}

#[tokio::test]
async fn results_need_an_entry_and_the_version_read() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 05), 10);
    create(&fx, &m).await;
    let runner = UserId::generate();
    let log = |kind| act(&organizer, kind);

    let first = official(&m, &runner, 10_687, 1_000);
    let unregistered = fx
        .races
        .put_result(&first, None, &log(ActivityKind::ResultRecorded))
        .await;
    assert!(is_conflict(unregistered), "a result needs the runner's entry");
    register(&fx, &m, &runner).await.unwrap();

    fx.races
        .put_result(&first, None, &log(ActivityKind::ResultRecorded))
        .await
        .unwrap();
    assert_eq!(
        fx.races.result(&m.id, &runner).await.unwrap(),
        Some(first.clone())
    );
    let twice = fx
        .races
        .put_result(&first, None, &log(ActivityKind::ResultRecorded))
        .await;
    assert!(is_conflict(twice), "creating an existing result conflicts");

    // what the result stream and the points pipeline read from the raw item
    let raw = raw_item(&fx, format!("MARATHON#{}", m.id), format!("RESULT#{runner}"))
        .await
        .unwrap();
    assert_eq!(raw["result_id"].as_s().unwrap(), &result_id(&m.id, &runner));
    assert_eq!(raw["runner_id"].as_s().unwrap(), runner.as_str());
    assert_eq!(raw["marathon_id"].as_s().unwrap(), m.id.as_str());
    assert_eq!(raw["points"].as_n().unwrap(), "105");
    assert_eq!(raw["version"].as_n().unwrap(), "1000");
    assert_eq!(raw["gsi3sk"].as_s().unwrap(), &format!("010687#{runner}"));

    let corrected = OfficialResult {
        finish_seconds: Some(10_600),
        finish_time: Some("2:56:40".into()),
        version: 1_001,
        ..first.clone()
    };
    let stale = fx
        .races
        .put_result(&corrected, Some(999), &log(ActivityKind::ResultCorrected))
        .await;
    assert!(is_conflict(stale), "a correction from another version conflicts");
    fx.races
        .put_result(&corrected, Some(1_000), &log(ActivityKind::ResultCorrected))
        .await
        .unwrap();
    assert_eq!(
        fx.races.result(&m.id, &runner).await.unwrap(),
        Some(corrected.clone())
    );

    let delete = async |version| {
        let removed = log(ActivityKind::ResultRemoved);
        fx.races.delete_result(&m.id, &runner, version, &removed).await
    };
    assert!(
        is_conflict(delete(1_000).await),
        "deleting an older version conflicts"
    );
    delete(1_001).await.unwrap();
    assert!(fx.races.result(&m.id, &runner).await.unwrap().is_none());
    assert!(is_conflict(delete(1_001).await), "nothing left to delete");
    assert_eq!(
        activity_kinds(&fx, &organizer).await,
        kinds(&[
            "marathon.created",
            "result.recorded",
            "result.corrected",
            "result.removed"
        ])
    );
}

#[tokio::test]
async fn a_marathon_s_points_are_fixed_while_it_has_results() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 12), 10);
    create(&fx, &m).await;
    let runner = UserId::generate();
    register(&fx, &m, &runner).await.unwrap();
    let log = |kind| act(&organizer, kind);
    let edit = async |version: u64, points: u32, name: &str| {
        let edited = Marathon {
            points,
            name: name.into(),
            version: version + 1,
            ..stored(&fx, &m.id).await
        };
        fx.races
            .update_marathon(&edited, version, &log(ActivityKind::MarathonUpdated))
            .await
    };

    // priced at points the marathon no longer has: refused, nothing counted
    let mut stale = official(&m, &runner, 12_000, 1);
    stale.points += 20;
    let refused = fx
        .races
        .put_result(&stale, None, &log(ActivityKind::ResultRecorded))
        .await;
    assert!(is_conflict(refused), "a result priced at other points conflicts");
    assert_eq!(stored(&fx, &m.id).await.result_count, 0);

    let result = official(&m, &runner, 12_000, 1);
    fx.races
        .put_result(&result, None, &log(ActivityKind::ResultRecorded))
        .await
        .unwrap();
    assert_eq!(stored(&fx, &m.id).await.result_count, 1);
    // even an editor who read the marathon before the result cannot change its points
    assert!(is_conflict(edit(1, 150, "Seoul Marathon").await));
    edit(1, 100, "Seoul Marathon 2026").await.unwrap();
    let corrected = OfficialResult {
        bonus_points: 9,
        points: 109,
        version: 2,
        ..result
    };
    fx.races
        .put_result(&corrected, Some(1), &log(ActivityKind::ResultCorrected))
        .await
        .unwrap();
    assert_eq!(
        stored(&fx, &m.id).await.result_count,
        1,
        "a correction counts nothing"
    );

    fx.races
        .delete_result(&m.id, &runner, 2, &log(ActivityKind::ResultRemoved))
        .await
        .unwrap();
    assert_eq!(stored(&fx, &m.id).await.result_count, 0);
    edit(2, 150, "Seoul Marathon 2026").await.unwrap();
    assert_eq!(stored(&fx, &m.id).await.points, 150);
}

#[tokio::test]
async fn a_marathon_s_date_is_fixed_while_it_has_results() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 19), 10);
    create(&fx, &m).await;
    let runner = UserId::generate();
    register(&fx, &m, &runner).await.unwrap();
    let log = |kind| act(&organizer, kind);
    let move_to = async |version: u64, date: Date| {
        let edited = Marathon {
            date,
            version: version + 1,
            ..stored(&fx, &m.id).await
        };
        fx.races
            .update_marathon(&edited, version, &log(ActivityKind::MarathonUpdated))
            .await
    };

    // checked against a date the marathon no longer has: refused, nothing counted
    let mut stale = official(&m, &runner, 12_000, 1);
    stale.marathon_date = date!(2026 - 04 - 12);
    let refused = fx
        .races
        .put_result(&stale, None, &log(ActivityKind::ResultRecorded))
        .await;
    assert!(
        is_conflict(refused),
        "a result checked against another date conflicts"
    );
    assert_eq!(stored(&fx, &m.id).await.result_count, 0);

    fx.races
        .put_result(
            &official(&m, &runner, 12_000, 1),
            None,
            &log(ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    // even an editor who read the marathon before the result cannot move its date
    assert!(is_conflict(move_to(1, date!(2026 - 05 - 03)).await));
    assert_eq!(stored(&fx, &m.id).await.date, m.date);

    fx.races
        .delete_result(&m.id, &runner, 1, &log(ActivityKind::ResultRemoved))
        .await
        .unwrap();
    move_to(1, date!(2026 - 05 - 03)).await.unwrap();
    assert_eq!(stored(&fx, &m.id).await.date, date!(2026 - 05 - 03));
}

#[tokio::test]
async fn an_entry_with_a_result_cannot_be_cancelled_inside_the_transaction() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 26), 10);
    create(&fx, &m).await;
    let runner = UserId::generate();
    register(&fx, &m, &runner).await.unwrap();
    fx.races
        .put_result(
            &official(&m, &runner, 12_000, 1),
            None,
            &act(&organizer, ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    // whatever the caller checked before, the store keeps an entry that has a result
    let cancel = fx
        .races
        .cancel_entry(&m.id, &runner, &act(&runner, ActivityKind::EntryCancelled))
        .await;
    assert!(is_conflict(cancel));
    assert!(fx.races.entry(&m.id, &runner).await.unwrap().is_some());
    assert_eq!(stored(&fx, &m.id).await.entry_count, 1);
    assert_eq!(
        activity_kinds(&fx, &runner).await,
        kinds(&["entry.registered"]),
        "no activity entry for a cancellation that did not happen"
    );
}

#[tokio::test]
async fn a_deleted_result_leaves_a_tombstone_a_new_one_must_outrank() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 05 - 10), 10);
    create(&fx, &m).await;
    let runner = UserId::generate();
    register(&fx, &m, &runner).await.unwrap();
    let log = |kind| act(&organizer, kind);
    assert_eq!(fx.races.removed_version(&m.id, &runner).await.unwrap(), None);
    fx.races
        .put_result(
            &official(&m, &runner, 12_000, 500),
            None,
            &log(ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    fx.races
        .delete_result(&m.id, &runner, 500, &log(ActivityKind::ResultRemoved))
        .await
        .unwrap();
    // the removal's version, as the pipeline numbers it
    assert_eq!(fx.races.removed_version(&m.id, &runner).await.unwrap(), Some(501));
    assert!(fx.races.result(&m.id, &runner).await.unwrap().is_none());
    let ranking = fx
        .races
        .marathon_results(&m.id, &PageRequest::first(10))
        .await
        .unwrap();
    assert!(ranking.items.is_empty(), "a tombstone is no result");

    // a writer whose clock is behind would number it at or below the removal: refused
    for stale in [400, 501] {
        let refused = fx
            .races
            .put_result(
                &official(&m, &runner, 12_100, stale),
                None,
                &log(ActivityKind::ResultRecorded),
            )
            .await;
        assert!(is_conflict(refused), "version {stale}");
    }
    assert_eq!(stored(&fx, &m.id).await.result_count, 0, "nothing counted");
    fx.races
        .put_result(
            &official(&m, &runner, 12_100, 502),
            None,
            &log(ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    // the tombstone stays, and a second deletion moves it up
    fx.races
        .delete_result(&m.id, &runner, 502, &log(ActivityKind::ResultRemoved))
        .await
        .unwrap();
    assert_eq!(fx.races.removed_version(&m.id, &runner).await.unwrap(), Some(503));
}

#[tokio::test]
async fn results_and_tombstones_wait_in_the_pending_index_until_acknowledged_at_their_version() {
    let fx = fixture().await;
    let users = local::Stack::shared()
        .provisioned()
        .physical_name("UsersTable")
        .unwrap()
        .to_owned();
    let pending = infra::dynamo::pending::DynamoPending::new(fx.client.clone(), &fx.table, users);
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 05 - 10), 10);
    create(&fx, &m).await;
    let (kept, removed) = (UserId::generate(), UserId::generate());
    let log = |kind| act(&organizer, kind);
    for runner in [&kept, &removed] {
        register(&fx, &m, runner).await.unwrap();
        fx.races
            .put_result(
                &official(&m, runner, 12_000, 7),
                None,
                &log(ActivityKind::ResultRecorded),
            )
            .await
            .unwrap();
    }
    fx.races
        .delete_result(&m.id, &removed, 7, &log(ActivityKind::ResultRemoved))
        .await
        .unwrap();
    let mine = async |until: i64| {
        let mut items: Vec<_> = pending
            .due(until)
            .await
            .unwrap()
            .into_iter()
            .filter(|i| i.marathon_id == m.id)
            .collect();
        items.sort_by(|a, b| a.sk.cmp(&b.sk));
        items
    };
    assert!(mine(NOW.unix_timestamp() - 1).await.is_empty(), "written at NOW");
    let due = mine(NOW.unix_timestamp()).await;
    // the deleted result left the index with it; its tombstone entered it
    assert_eq!(due.len(), 2, "{due:?}");
    let (removal, result) = (&due[0], &due[1]);
    assert!(removal.is_removal() && !result.is_removal());
    assert_eq!(
        (removal.runner_id.clone(), removal.version, removal.points),
        (removed.clone(), 8, 0),
        "the removal's version, no points"
    );
    assert_eq!(
        (removal.marathon_name.as_str(), removal.runner_name.as_str()),
        ("Seoul Marathon", "Kim Runner"),
        "the names its event carries"
    );
    assert_eq!(removal.result_id, result_id(&m.id, &removed));
    assert_eq!(
        (result.runner_id.clone(), result.version, result.points),
        (kept.clone(), 7, 105)
    );
    assert_eq!(result.correlation_id.as_deref(), Some("races-test"));
    assert_eq!(
        pending.applied_version(&kept, &result.result_id).await.unwrap(),
        None
    );

    // a correction since the pass read version 7: acknowledging 7 leaves 8's marker
    fx.races
        .put_result(
            &official(&m, &kept, 11_900, 8),
            Some(7),
            &log(ActivityKind::ResultCorrected),
        )
        .await
        .unwrap();
    assert!(!pending.acknowledge(result).await.unwrap());
    assert!(pending.acknowledge(removal).await.unwrap());
    let due = mine(NOW.unix_timestamp()).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!((due[0].runner_id.clone(), due[0].version), (kept.clone(), 8));
    assert!(pending.acknowledge(&due[0]).await.unwrap());
    assert!(mine(NOW.unix_timestamp()).await.is_empty());
    // the result itself is untouched
    assert_eq!(fx.races.result(&m.id, &kept).await.unwrap().unwrap().version, 8);
}

/// Runs `jobs` with at most 16 in flight.
async fn bounded<T: Send + 'static>(jobs: Vec<impl Future<Output = T> + Send + 'static>) -> Vec<T> {
    let mut running = JoinSet::new();
    let mut done = Vec::new();
    for job in jobs {
        if running.len() == 16 {
            done.push(running.join_next().await.unwrap().unwrap());
        }
        running.spawn(job);
    }
    while let Some(outcome) = running.join_next().await {
        done.push(outcome.unwrap());
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marathon_results_page_through_250_in_rank_order() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 05), 250);
    create(&fx, &m).await;
    let races = Arc::new(fx.races.clone());
    // few distinct times, so many ties: the runner id must break them
    let expected: Vec<OfficialResult> = (0..250u32)
        .map(|i| official(&m, &UserId::generate(), 9_000 + (i * 7_919) % 40, 1))
        .collect();
    // The emulator copies whole tables in every transaction, so 250 registrations through
    // the store would double this test's time: the entries (only their keys matter to
    // put_result) go in by batch.
    let keys: Vec<_> = expected
        .iter()
        .map(|r| (format!("MARATHON#{}", m.id), format!("ENTRY#{}", r.runner_id)))
        .collect();
    put_keys(&fx, keys).await;
    let jobs = expected
        .iter()
        .map(|result| {
            let (races, result, organizer) = (races.clone(), result.clone(), organizer.clone());
            async move {
                let log = act(&organizer, ActivityKind::ResultRecorded);
                races.put_result(&result, None, &log).await
            }
        })
        .collect();
    for outcome in bounded(jobs).await {
        outcome.expect("recorded");
    }
    let mut ranked = expected.clone();
    ranked.sort_by(|a, b| (a.finish_seconds, &a.runner_id).cmp(&(b.finish_seconds, &b.runner_id)));

    let by_50 = pages(50, async |page| fx.races.marathon_results(&m.id, &page).await).await;
    assert_eq!(
        sizes(&by_50),
        [50, 50, 50, 50, 50],
        "no empty page after the last one"
    );
    assert_eq!(by_50.concat(), ranked);
    let by_100 = pages(100, async |page| fx.races.marathon_results(&m.id, &page).await).await;
    assert_eq!(sizes(&by_100), [100, 100, 50]);
    let ids: HashSet<_> = by_100.concat().into_iter().map(|r| r.runner_id).collect();
    assert_eq!(ids.len(), 250);
}

/// Bare items with just these keys, 25 per BatchWriteItem.
async fn put_keys(fx: &Fixture, keys: Vec<(String, String)>) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    for chunk in keys.chunks(25) {
        let requests = chunk
            .iter()
            .map(|(pk, sk)| {
                let put = PutRequest::builder()
                    .item("pk", AttributeValue::S(pk.clone()))
                    .item("sk", AttributeValue::S(sk.clone()))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        let output = fx
            .client
            .batch_write_item()
            .request_items(&fx.table, requests)
            .send()
            .await
            .unwrap();
        assert!(
            output.unprocessed_items().is_none_or(|u| u.is_empty()),
            "the emulator never throttles"
        );
    }
}

#[tokio::test]
async fn entries_and_results_list_by_marathon_and_by_runner() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let runner = UserId::generate();
    let dates = [
        date!(2026 - 03 - 01),
        date!(2026 - 05 - 01),
        date!(2026 - 04 - 01),
    ];
    let mut marathons = Vec::new();
    for date in dates {
        let m = marathon(&organizer, date, 10);
        create(&fx, &m).await;
        register(&fx, &m, &runner).await.unwrap();
        let result = official(&m, &runner, 10_000, 1);
        fx.races
            .put_result(&result, None, &act(&organizer, ActivityKind::ResultRecorded))
            .await
            .unwrap();
        marathons.push(m);
    }
    let newest_first = [
        date!(2026 - 05 - 01),
        date!(2026 - 04 - 01),
        date!(2026 - 03 - 01),
    ];

    let entries = pages(2, async |page| fx.races.runner_entries(&runner, &page).await).await;
    assert_eq!(sizes(&entries), [2, 1]);
    assert_eq!(
        entries
            .concat()
            .iter()
            .map(|e| e.marathon_date)
            .collect::<Vec<_>>(),
        newest_first
    );
    let results = pages(2, async |page| fx.races.runner_results(&runner, &page).await).await;
    assert_eq!(sizes(&results), [2, 1]);
    assert_eq!(
        results
            .concat()
            .iter()
            .map(|r| r.marathon_date)
            .collect::<Vec<_>>(),
        newest_first
    );

    // a marathon's entries, in runner id order
    let m = &marathons[0];
    let mut runners = vec![runner.clone()];
    for _ in 0..4 {
        let other = UserId::generate();
        register(&fx, m, &other).await.unwrap();
        runners.push(other);
    }
    runners.sort();
    let listed = pages(2, async |page| fx.races.marathon_entries(&m.id, &page).await).await;
    assert_eq!(sizes(&listed), [2, 2, 1]);
    assert_eq!(
        listed
            .concat()
            .into_iter()
            .map(|e| e.runner_id)
            .collect::<Vec<_>>(),
        runners
    );
    // entries do not show up among results and the other way round
    let ranked = fx
        .races
        .marathon_results(&m.id, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(ranked.items.len(), 1);
    // Exactly one full page. The partition goes on past the entries (META, RESULT#...),
    // so DynamoDB stops with a last evaluated key: a cursor from it would lead to an
    // empty page.
    let whole = pages(5, async |page| fx.races.marathon_entries(&m.id, &page).await).await;
    assert_eq!(sizes(&whole), [5]);
}

#[tokio::test]
async fn a_runner_s_listings_show_a_marathon_s_name_and_date_as_edited() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let runner = UserId::generate();
    let edited_one = marathon(&organizer, date!(2026 - 06 - 07), 10);
    let untouched = marathon(&organizer, date!(2026 - 06 - 14), 10);
    for m in [&edited_one, &untouched] {
        create(&fx, m).await;
        register(&fx, m, &runner).await.unwrap();
        fx.races
            .put_result(
                &official(m, &runner, 11_000, 1),
                None,
                &act(&organizer, ActivityKind::ResultRecorded),
            )
            .await
            .unwrap();
    }
    let mut edited = edited_one.clone();
    edited.name = "Seoul Marathon (new course)".into();
    // (the date is fixed once a result is recorded: only the name moves here)
    edited.version = 2;
    fx.races
        .update_marathon(&edited, 1, &act(&organizer, ActivityKind::MarathonUpdated))
        .await
        .unwrap();

    let labels = |id: &MarathonId, name: &str, date: Date| (id.clone(), name.to_owned(), date);
    let expected = HashSet::from([
        labels(&edited.id, "Seoul Marathon (new course)", date!(2026 - 06 - 07)),
        labels(&untouched.id, "Seoul Marathon", date!(2026 - 06 - 14)),
    ]);
    let page = PageRequest::first(10);
    let entries = fx.races.runner_entries(&runner, &page).await.unwrap().items;
    let results = fx.races.runner_results(&runner, &page).await.unwrap().items;
    let of_entries: HashSet<_> = entries
        .iter()
        .map(|e| labels(&e.marathon_id, &e.marathon_name, e.marathon_date))
        .collect();
    let of_results: HashSet<_> = results
        .iter()
        .map(|r| labels(&r.marathon_id, &r.marathon_name, r.marathon_date))
        .collect();
    assert_eq!((of_entries, of_results), (expected.clone(), expected));
}

#[tokio::test]
async fn marathons_list_by_organizer_and_by_date() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    // Upcoming and Past share one partition with every other test's marathons: this test
    // alone uses the year 9000, so what follows `today` there is only its own.
    let today = date!(9000 - 06 - 01);
    let dates = [
        date!(9000 - 01 - 10),
        date!(9000 - 08 - 01),
        date!(9000 - 03 - 10),
        today,
        date!(9000 - 05 - 31),
        date!(9000 - 07 - 01),
    ];
    let mut created = Vec::new();
    for date in dates {
        let m = marathon(&organizer, date, 10);
        create(&fx, &m).await;
        created.push(m);
    }
    let mut ascending = created.clone();
    ascending.sort_by_key(|m| m.date);

    let mine = pages(4, async |page| {
        fx.races
            .list_marathons(&MarathonFilter::ByOrganizer(organizer.clone()), &page)
            .await
    })
    .await;
    assert_eq!(sizes(&mine), [4, 2]);
    assert_eq!(mine.concat(), ascending);

    let upcoming = pages(2, async |page| {
        fx.races
            .list_marathons(&MarathonFilter::Upcoming { today }, &page)
            .await
    })
    .await;
    assert_eq!(sizes(&upcoming), [2, 1]);
    let upcoming_dates: Vec<Date> = upcoming.concat().iter().map(|m| m.date).collect();
    assert_eq!(
        upcoming_dates,
        [today, date!(9000 - 07 - 01), date!(9000 - 08 - 01)]
    );

    // Past: most recent first, so this test's three come first, then older ones from
    // other tests; follow two pages of two and look at the first three
    let mut past = Vec::new();
    let mut cursor = None;
    for _ in 0..2 {
        let page = fx
            .races
            .list_marathons(&MarathonFilter::Past { today }, &PageRequest { limit: 2, cursor })
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2);
        past.extend(page.items);
        cursor = page.next_cursor;
    }
    let past_dates: Vec<Date> = past.iter().take(3).map(|m| m.date).collect();
    assert_eq!(
        past_dates,
        [
            date!(9000 - 05 - 31),
            date!(9000 - 03 - 10),
            date!(9000 - 01 - 10)
        ]
    );
    assert!(past[3].date < date!(9000 - 01 - 01));
}

#[tokio::test]
async fn records_are_private_newest_first_and_conditional() {
    let fx = fixture().await;
    let runner = UserId::generate();
    let log = |kind| act(&runner, kind);
    // ULIDs from increasing milliseconds: their text order is their age
    let ids: Vec<String> = (0..5u64)
        .map(|i| ulid::Ulid::from_parts(1_780_000_000_000 + i, 7).to_string())
        .collect();
    for id in &ids {
        fx.races
            .create_record(&record(&runner, id.clone()), &log(ActivityKind::RecordCreated))
            .await
            .unwrap();
    }
    let again = fx
        .races
        .create_record(
            &record(&runner, ids[0].clone()),
            &log(ActivityKind::RecordCreated),
        )
        .await;
    assert!(is_conflict(again));

    let listed = pages(2, async |page| fx.races.runner_records(&runner, &page).await).await;
    assert_eq!(sizes(&listed), [2, 2, 1]);
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(
        listed.concat().into_iter().map(|r| r.id).collect::<Vec<_>>(),
        newest_first
    );
    let stranger = fx
        .races
        .runner_records(&UserId::generate(), &PageRequest::first(10))
        .await
        .unwrap();
    assert!(stranger.items.is_empty() && stranger.next_cursor.is_none());

    let mut edited = record(&runner, ids[1].clone());
    edited.notes = "intervals".into();
    edited.kind = RecordKind::Race;
    fx.races
        .update_record(&edited, &log(ActivityKind::RecordUpdated))
        .await
        .unwrap();
    assert_eq!(
        fx.races.record(&runner, &ids[1]).await.unwrap(),
        Some(edited.clone())
    );

    fx.races
        .delete_record(&runner, &ids[1], &log(ActivityKind::RecordDeleted))
        .await
        .unwrap();
    assert!(fx.races.record(&runner, &ids[1]).await.unwrap().is_none());
    assert!(is_conflict(
        fx.races
            .update_record(&edited, &log(ActivityKind::RecordUpdated))
            .await
    ));
    assert!(is_conflict(
        fx.races
            .delete_record(&runner, &ids[1], &log(ActivityKind::RecordDeleted))
            .await
    ));
    let mut expected = vec!["record.created"; 5];
    expected.extend(["record.updated", "record.deleted"]);
    assert_eq!(activity_kinds(&fx, &runner).await, kinds(&expected));
}

#[tokio::test]
async fn cursors_are_refused_unless_issued_by_the_same_listing() {
    let fx = fixture().await;
    let organizer = UserId::generate();
    let runner = UserId::generate();
    let (a, b) = (
        marathon(&organizer, date!(2026 - 04 - 05), 10),
        marathon(&organizer, date!(2026 - 04 - 12), 10),
    );
    // with b, two marathons on or after `today` below, whatever other tests create
    create(&fx, &marathon(&organizer, date!(2026 - 12 - 31), 10)).await;
    for m in [&a, &b] {
        create(&fx, m).await;
        for _ in 0..2 {
            let other = UserId::generate();
            register(&fx, m, &other).await.unwrap();
            fx.races
                .put_result(
                    &official(m, &other, 10_000, 1),
                    None,
                    &act(&organizer, ActivityKind::ResultRecorded),
                )
                .await
                .unwrap();
        }
        register(&fx, m, &runner).await.unwrap();
        fx.races
            .put_result(
                &official(m, &runner, 11_000, 1),
                None,
                &act(&organizer, ActivityKind::ResultRecorded),
            )
            .await
            .unwrap();
    }
    let first = PageRequest::first(1);
    let cursor = |page: Result<Page<()>, StoreError>| page.unwrap().next_cursor.expect("more than one item");
    let ranking_a = cursor(fx.races.marathon_results(&a.id, &first).await.map(unit));
    let entries_a = cursor(fx.races.marathon_entries(&a.id, &first).await.map(unit));
    let runner_entries = cursor(fx.races.runner_entries(&runner, &first).await.map(unit));
    let today = date!(2026 - 04 - 10);
    let upcoming = cursor(
        fx.races
            .list_marathons(&MarathonFilter::Upcoming { today }, &first)
            .await
            .map(unit),
    );

    let with = |cursor: &str| PageRequest {
        limit: 10,
        cursor: Some(cursor.to_owned()),
    };
    // a cursor works where it was issued
    assert!(fx.races.marathon_results(&a.id, &with(&ranking_a)).await.is_ok());
    assert!(
        fx.races
            .runner_entries(&runner, &with(&runner_entries))
            .await
            .is_ok()
    );

    let invalid = |outcome: Result<Page<()>, StoreError>| matches!(outcome, Err(StoreError::InvalidCursor));
    let garbage = [
        "%%%".to_owned(),
        URL_SAFE_NO_PAD.encode("{not json"),
        URL_SAFE_NO_PAD.encode(r#"{"pk":"MARATHON#x","sk":"ENTRY#y"}"#),
    ];
    for bad in &garbage {
        assert!(
            invalid(fx.races.marathon_results(&a.id, &with(bad)).await.map(unit)),
            "{bad}"
        );
        assert!(
            invalid(fx.races.runner_records(&runner, &with(bad)).await.map(unit)),
            "{bad}"
        );
    }
    // another index, another partition of the same index, another prefix, another range
    assert!(invalid(
        fx.races
            .marathon_entries(&a.id, &with(&ranking_a))
            .await
            .map(unit)
    ));
    assert!(invalid(
        fx.races
            .marathon_results(&b.id, &with(&ranking_a))
            .await
            .map(unit)
    ));
    assert!(invalid(
        fx.races
            .marathon_entries(&b.id, &with(&entries_a))
            .await
            .map(unit)
    ));
    assert!(invalid(
        fx.races
            .runner_results(&runner, &with(&runner_entries))
            .await
            .map(unit)
    ));
    assert!(invalid(
        fx.races
            .list_marathons(&MarathonFilter::Past { today }, &with(&upcoming))
            .await
            .map(unit)
    ));
    let organizer_listing = MarathonFilter::ByOrganizer(organizer.clone());
    assert!(invalid(
        fx.races
            .list_marathons(&organizer_listing, &with(&upcoming))
            .await
            .map(unit)
    ));
}
