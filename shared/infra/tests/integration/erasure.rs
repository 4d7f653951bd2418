//! Account deletion's Races side (`ErasureStore` on `DynamoRaces`) against the emulator:
//! what a deleted runner left is found by the runner's keys, results and tombstones take
//! the anonymous name at their version, entries are cancelled (uncounted) or anonymized,
//! records deleted; every step a second time changes nothing.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::entry::Entry;
use domain::erasure::ErasureStore;
use domain::marathon::{Course, Marathon, MarathonId, MarathonStatus};
use domain::ports::{RaceStore, StoreError};
use domain::record::{Record, RecordKind};
use domain::result::OfficialResult;
use domain::{ANONYMOUS_NAME, UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoRaces, keys};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

struct Fixture {
    races: DynamoRaces,
    client: Client,
    table: String,
}

async fn fixture() -> Fixture {
    let stack = local::Stack::shared();
    let names = stack.provisioned();
    let table = names.physical_name("RacesTable").unwrap().to_owned();
    let activity = ActivityLog {
        table: names.physical_name("ActivityLogTable").unwrap().to_owned(),
        retention: Duration::days(30),
    };
    let client = Client::new(&stack.sdk_config().await);
    Fixture {
        races: DynamoRaces::new(client.clone(), table.clone(), activity),
        client,
        table,
    }
}

fn act(actor: &UserId, kind: ActivityKind) -> ActivityEntry {
    ActivityEntry::new(actor.clone(), kind, NOW, RequestOrigin::default())
}

fn name() -> UserName {
    UserName::parse("Kim Runner").unwrap()
}

async fn marathon(fx: &Fixture, date: Date) -> Marathon {
    let organizer = UserId::generate();
    let m = Marathon {
        id: MarathonId::generate(),
        organizer_id: organizer.clone(),
        name: "Seoul Marathon".into(),
        date,
        location: "Seoul".into(),
        course: Course::Full,
        distance_m: Course::Full.metres(),
        points: 100,
        dnf_points: 0,
        capacity: 10,
        entry_count: 0,
        result_count: 0,
        registration_closes_at: datetime!(2026-09-01 0:00 UTC),
        status: MarathonStatus::Open,
        version: 1,
        created_at: NOW,
        updated_at: NOW,
    };
    fx.races
        .create_marathon(&m, &act(&organizer, ActivityKind::MarathonCreated))
        .await
        .unwrap();
    m
}

async fn register(fx: &Fixture, m: &Marathon, runner: &UserId) {
    let entry = Entry {
        marathon_id: m.id.clone(),
        runner_id: runner.clone(),
        runner_name: name(),
        marathon_name: m.name.clone(),
        marathon_date: m.date,
        registered_at: NOW,
        bib: None,
    };
    fx.races
        .register(&entry, NOW, &act(runner, ActivityKind::EntryRegistered))
        .await
        .unwrap();
}

async fn record_result(fx: &Fixture, m: &Marathon, runner: &UserId, version: u64) {
    let result = OfficialResult {
        marathon_id: m.id.clone(),
        marathon_name: m.name.clone(),
        marathon_date: m.date,
        runner_id: runner.clone(),
        runner_name: name(),
        finish_seconds: Some(10_800),
        finish_time: Some("3:00:00".into()),
        bonus_points: 0,
        points: m.points,
        version,
        recorded_at: NOW,
        updated_at: NOW,
        correlation_id: None,
        status: Default::default(),
        gun_seconds: None,
        splits: Default::default(),
        bib: None,
        category: None,
        import_id: None,
        age_grade: None,
    };
    fx.races
        .put_result(&result, None, &act(&m.organizer_id, ActivityKind::ResultRecorded))
        .await
        .unwrap();
}

async fn raw(fx: &Fixture, key: HashMap<String, AttributeValue>) -> Option<HashMap<String, AttributeValue>> {
    fx.client
        .get_item()
        .table_name(&fx.table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn runner_name(item: &HashMap<String, AttributeValue>) -> &str {
    item["runner_name"].as_s().unwrap()
}

#[tokio::test]
async fn a_deleted_runner_is_found_by_its_keys_and_erased_once() {
    let fx = fixture().await;
    let runner = UserId::generate();
    let (run, removed, upcoming) = (
        marathon(&fx, date!(2026 - 05 - 10)).await,
        marathon(&fx, date!(2026 - 05 - 20)).await,
        marathon(&fx, date!(2026 - 07 - 01)).await,
    );
    for m in [&run, &removed, &upcoming] {
        register(&fx, m, &runner).await;
    }
    record_result(&fx, &run, &runner, 700).await;
    record_result(&fx, &removed, &runner, 800).await;
    fx.races
        .delete_result(
            &removed.id,
            &runner,
            800,
            &act(&removed.organizer_id, ActivityKind::ResultRemoved),
        )
        .await
        .unwrap();
    for n in 0..2 {
        let record = Record {
            id: ulid::Ulid::new().to_string(),
            runner_id: runner.clone(),
            kind: RecordKind::Training,
            date: date!(2026 - 05 - 01),
            distance_m: 10_000 + n,
            duration_seconds: 3_000,
            notes: "private".into(),
            created_at: NOW,
            updated_at: NOW,
        };
        fx.races
            .create_record(&record, &act(&runner, ActivityKind::RecordCreated))
            .await
            .unwrap();
    }

    let footprint = fx.races.footprint(&runner).await.unwrap();
    let mut entries: Vec<_> = footprint
        .entries
        .iter()
        .map(|e| (e.marathon_id.clone(), e.marathon_date, e.marathon_name.as_str()))
        .collect();
    entries.sort_by_key(|e| e.1);
    assert_eq!(
        entries,
        [
            (run.id.clone(), run.date, "Seoul Marathon"),
            (removed.id.clone(), removed.date, "Seoul Marathon"),
            (upcoming.id.clone(), upcoming.date, "Seoul Marathon"),
        ]
    );
    assert_eq!(
        footprint.results,
        std::slice::from_ref(&run.id),
        "a deleted result is no result"
    );
    assert_eq!(footprint.records.len(), 2);
    let other = fx.races.footprint(&UserId::generate()).await.unwrap();
    assert!(other.entries.is_empty() && other.results.is_empty() && other.records.is_empty());

    // twice: the second pass changes nothing
    for _ in 0..2 {
        for marathon in [&run.id, &removed.id] {
            fx.races.anonymize_result(marathon, &runner).await.unwrap();
        }
        fx.races.anonymize_entry(&run.id, &runner).await.unwrap();
        for record in &footprint.records {
            ErasureStore::delete_record(&fx.races, &runner, record)
                .await
                .unwrap();
        }
    }
    let result = fx.races.result(&run.id, &runner).await.unwrap().unwrap();
    assert_eq!(
        (result.runner_name.as_str(), result.version),
        (ANONYMOUS_NAME, 700)
    );
    let tombstone = raw(&fx, keys::tombstone_key(&removed.id, &runner)).await.unwrap();
    assert_eq!(runner_name(&tombstone), ANONYMOUS_NAME);
    assert!(
        raw(&fx, keys::result_key(&removed.id, &runner)).await.is_none(),
        "anonymizing never brings a deleted result back"
    );
    let entry = fx.races.entry(&run.id, &runner).await.unwrap().unwrap();
    assert_eq!(entry.runner_name.as_str(), ANONYMOUS_NAME);
    let ranking = fx
        .races
        .marathon_results(&run.id, &domain::paging::PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        ranking.items[0].runner_name.as_str(),
        ANONYMOUS_NAME,
        "in the ranking index too"
    );
    assert!(fx.races.footprint(&runner).await.unwrap().records.is_empty());

    // the upcoming entry goes and its place is free; an entry with a result cannot
    let cancel = |m: &Marathon| {
        let log = act(&runner, ActivityKind::EntryCancelled);
        let id = m.id.clone();
        let races = fx.races.clone();
        let runner = runner.clone();
        async move { ErasureStore::cancel_entry(&races, &id, &runner, &log).await }
    };
    cancel(&upcoming).await.unwrap();
    assert!(
        matches!(cancel(&upcoming).await, Err(StoreError::Conflict)),
        "once"
    );
    assert_eq!(
        fx.races
            .marathon(&upcoming.id)
            .await
            .unwrap()
            .unwrap()
            .entry_count,
        0
    );
    assert!(matches!(cancel(&run).await, Err(StoreError::Conflict)));
    assert!(fx.races.entry(&run.id, &runner).await.unwrap().is_some());
    // anonymizing an entry that is gone makes none
    fx.races.anonymize_entry(&upcoming.id, &runner).await.unwrap();
    assert!(fx.races.entry(&upcoming.id, &runner).await.unwrap().is_none());
}
