//! Bibs, statuses, the ranking read and race profiles in the Races adapter, against the
//! emulator (issue 16). Each test makes its own ids on the shared emulator.

use aws_sdk_dynamodb::Client;
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::entry::{Entry, RosterEntry};
use domain::marathon::{Course, Marathon, MarathonId, MarathonStatus};
use domain::ports::{RaceStore, StoreError};
use domain::race::{Bib, Birth, Category, RaceProfile, ResultFields, ResultStatus, Sex, Splits};
use domain::result::{FinishTime, OfficialResult, ResultRunner};
use domain::{UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoRaces};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

async fn races() -> DynamoRaces {
    let stack = local::Stack::shared();
    let names = stack.provisioned();
    let table = names.physical_name("RacesTable").expect("RacesTable").to_owned();
    let activity = ActivityLog {
        table: names
            .physical_name("ActivityLogTable")
            .expect("ActivityLogTable")
            .to_owned(),
        retention: Duration::days(30),
    };
    DynamoRaces::new(Client::new(&stack.sdk_config().await), table, activity)
}

fn act(actor: &UserId, kind: ActivityKind) -> ActivityEntry {
    ActivityEntry::new(actor.clone(), kind, NOW, RequestOrigin::default())
}

async fn marathon(races: &DynamoRaces, dnf_points: u32) -> Marathon {
    let m = Marathon {
        id: MarathonId::generate(),
        organizer_id: UserId::generate(),
        name: "Seoul Marathon".into(),
        date: date!(2026 - 10 - 04),
        location: "Seoul".into(),
        course: Course::Full,
        distance_m: Course::Full.metres(),
        points: 100,
        dnf_points,
        capacity: 100,
        entry_count: 0,
        result_count: 0,
        registration_closes_at: datetime!(2026-09-01 0:00 UTC),
        status: MarathonStatus::Open,
        version: 1,
        created_at: NOW,
        updated_at: NOW,
    };
    races
        .create_marathon(&m, &act(&m.organizer_id, ActivityKind::MarathonCreated))
        .await
        .unwrap();
    m
}

fn entry(m: &Marathon, runner: &UserId, name: &str) -> Entry {
    Entry {
        marathon_id: m.id.clone(),
        runner_id: runner.clone(),
        runner_name: UserName::parse(name).unwrap(),
        marathon_name: m.name.clone(),
        marathon_date: m.date,
        registered_at: NOW,
        bib: None,
    }
}

async fn register(races: &DynamoRaces, m: &Marathon, name: &str) -> (UserId, Option<Bib>) {
    let runner = UserId::generate();
    let bib = races
        .register(
            &entry(m, &runner, name),
            NOW,
            &act(&runner, ActivityKind::EntryRegistered),
        )
        .await
        .unwrap();
    (runner, bib)
}

fn bib(n: u32) -> Bib {
    Bib::new(n).unwrap()
}

async fn set_bib(races: &DynamoRaces, m: &Marathon, runner: &UserId, n: u32) -> Result<(), StoreError> {
    races
        .set_bib(
            &m.id,
            runner,
            bib(n),
            &act(&m.organizer_id, ActivityKind::EntryBibSet),
        )
        .await
}

#[tokio::test]
async fn bibs_are_given_in_order_unique_per_marathon_and_the_organizer_may_move_them() {
    let races = races().await;
    let m = marathon(&races, 0).await;
    let (r1, b1) = register(&races, &m, "One").await;
    let (r2, b2) = register(&races, &m, "Two").await;
    let (r3, b3) = register(&races, &m, "Three").await;
    assert_eq!([b1, b2, b3], [Some(bib(1)), Some(bib(2)), Some(bib(3))]);
    // another marathon counts from 1 on its own
    let other = marathon(&races, 0).await;
    assert_eq!(register(&races, &other, "Elsewhere").await.1, Some(bib(1)));

    set_bib(&races, &m, &r3, 10).await.unwrap();
    assert!(
        matches!(set_bib(&races, &m, &r1, 10).await, Err(StoreError::Conflict)),
        "10 is taken"
    );
    assert_eq!(races.bib_holder(&m.id, bib(10)).await.unwrap(), Some(r3.clone()));
    // 3 went free with the move, and can be given again
    assert_eq!(races.bib_holder(&m.id, bib(3)).await.unwrap(), None);
    set_bib(&races, &m, &r1, 3).await.unwrap();
    set_bib(&races, &m, &r2, 4).await.unwrap();
    // the next registration skips 4, which the organizer gave by hand
    let (r4, b4) = register(&races, &m, "Four").await;
    assert_eq!(b4, Some(bib(5)));
    assert!(matches!(
        set_bib(&races, &m, &UserId::generate(), 20).await,
        Err(StoreError::Missing("entry"))
    ));

    let roster = races.marathon_roster(&m.id).await.unwrap();
    let as_rows = |rows: &[(u32, &UserId, &str)]| {
        rows.iter()
            .map(|(n, id, name)| RosterEntry {
                bib: bib(*n),
                runner_id: (*id).clone(),
                runner_name: UserName::parse(name).unwrap(),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        roster,
        as_rows(&[
            (3, &r1, "One"),
            (4, &r2, "Two"),
            (5, &r4, "Four"),
            (10, &r3, "Three")
        ])
    );

    // a cancelled entry frees its bib
    races
        .cancel_entry(&m.id, &r4, &act(&r4, ActivityKind::EntryCancelled))
        .await
        .unwrap();
    assert_eq!(races.bib_holder(&m.id, bib(5)).await.unwrap(), None);
    assert_eq!(races.entry(&m.id, &r3).await.unwrap().unwrap().bib, Some(bib(10)));
}

fn result(
    m: &Marathon,
    runner: &UserId,
    bib_number: Option<u32>,
    fields: ResultFields,
    category: Option<&str>,
) -> OfficialResult {
    OfficialResult::build(
        m,
        ResultRunner {
            id: runner.clone(),
            name: UserName::parse("Runner").unwrap(),
            bib: bib_number.map(bib),
            category: category.map(|c| Category::parse(c).unwrap()),
        },
        fields,
        0,
        None,
        None,
        NOW,
        None,
    )
}

fn finished(hms: &str) -> ResultFields {
    ResultFields::finished(FinishTime::parse_str(hms).unwrap())
}

fn status(status: ResultStatus) -> ResultFields {
    ResultFields::new(status, None, None, Splits::default()).unwrap()
}

#[tokio::test]
async fn the_ranking_lists_finishers_by_chip_time_then_dnf_dns_dq_and_resumes_after_a_position() {
    let races = races().await;
    let m = marathon(&races, 0).await;
    let mut runners = Vec::new();
    for (name, fields) in [
        ("dq", status(ResultStatus::Dq)),
        ("slow", finished("3:10:00")),
        ("dnf", status(ResultStatus::Dnf)),
        ("fast", finished("2:50:00")),
        ("dns", status(ResultStatus::Dns)),
    ] {
        let (runner, b) = register(&races, &m, name).await;
        let r = result(&m, &runner, b.map(Bib::number), fields, Some("F40"));
        races
            .put_result(&r, None, &act(&m.organizer_id, ActivityKind::ResultRecorded))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        runners.push((name, runner));
    }
    let page = races.ranking(&m.id, None, 10).await.unwrap();
    let statuses: Vec<_> = page
        .items
        .iter()
        .map(|row| (row.result.status, row.result.finish_time.clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (ResultStatus::Finished, Some("2:50:00".to_owned())),
            (ResultStatus::Finished, Some("3:10:00".to_owned())),
            (ResultStatus::Dnf, None),
            (ResultStatus::Dns, None),
            (ResultStatus::Dq, None),
        ]
    );
    assert_eq!(page.next_cursor, None);
    // points follow the policy: no dnf points on this marathon, none for dns or dq
    assert_eq!(
        page.items.iter().map(|r| r.result.points).collect::<Vec<_>>(),
        [100, 100, 0, 0, 0]
    );
    assert_eq!(
        page.items[0].result.category.map(Category::label).as_deref(),
        Some("F40")
    );
    // two at a time, each read going on after the last position
    let first = races.ranking(&m.id, None, 2).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let after = first.next_cursor.expect("more after two");
    let rest = races.ranking(&m.id, Some(&after), 10).await.unwrap();
    assert_eq!(rest.items.len(), 3);
    assert_eq!(rest.items[0].result.status, ResultStatus::Dnf);
    assert!(matches!(
        races.ranking(&m.id, Some(""), 10).await,
        Err(StoreError::InvalidCursor)
    ));
}

#[tokio::test]
async fn a_dnf_is_priced_by_the_marathons_dnf_points_and_a_stale_price_is_refused() {
    let races = races().await;
    let m = marathon(&races, 20).await;
    let (runner, _) = register(&races, &m, "Kim").await;
    let log = act(&m.organizer_id, ActivityKind::ResultRecorded);
    // priced against dnf points the marathon no longer has
    let stale = Marathon {
        dnf_points: 10,
        ..m.clone()
    };
    let wrong = result(&stale, &runner, None, status(ResultStatus::Dnf), None);
    assert!(matches!(
        races.put_result(&wrong, None, &log).await,
        Err(StoreError::Conflict)
    ));
    let dnf = result(&m, &runner, None, status(ResultStatus::Dnf), None);
    assert_eq!(dnf.points, 20);
    races.put_result(&dnf, None, &log).await.unwrap();
    let stored = races.result(&m.id, &runner).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.points, stored.finish_seconds),
        (ResultStatus::Dnf, 20, None)
    );
    // corrected to a finish: a new version with the finisher's points
    let finish = OfficialResult::build(
        &m,
        ResultRunner {
            id: runner.clone(),
            name: stored.runner_name.clone(),
            bib: None,
            category: None,
        },
        finished("3:30:00"),
        0,
        Some(&stored),
        Some(stored.version),
        NOW + Duration::minutes(1),
        None,
    );
    races
        .put_result(
            &finish,
            Some(stored.version),
            &act(&m.organizer_id, ActivityKind::ResultCorrected),
        )
        .await
        .unwrap();
    let corrected = races.result(&m.id, &runner).await.unwrap().unwrap();
    assert_eq!(
        (corrected.status, corrected.points),
        (ResultStatus::Finished, 100)
    );
    assert!(corrected.version > stored.version);
}

#[tokio::test]
async fn a_new_bib_follows_onto_the_result_at_the_same_version() {
    let races = races().await;
    let m = marathon(&races, 0).await;
    let (runner, b) = register(&races, &m, "Kim").await;
    let r = result(&m, &runner, b.map(Bib::number), finished("3:00:00"), None);
    races
        .put_result(&r, None, &act(&m.organizer_id, ActivityKind::ResultRecorded))
        .await
        .unwrap();
    set_bib(&races, &m, &runner, 777).await.unwrap();
    let stored = races.result(&m.id, &runner).await.unwrap().unwrap();
    assert_eq!((stored.bib, stored.version), (Some(bib(777)), r.version));
}

#[tokio::test]
async fn race_profiles_are_kept_per_runner_and_read_in_batches() {
    let races = races().await;
    let (kim, lee, nobody) = (UserId::generate(), UserId::generate(), UserId::generate());
    assert_eq!(races.race_profile(&kim).await.unwrap(), RaceProfile::default());
    let profile = RaceProfile {
        sex: Some(Sex::Female),
        birth: Some(Birth::Date(date!(1984 - 05 - 17))),
    };
    races
        .set_race_profile(&kim, &profile, &act(&kim, ActivityKind::RaceProfileUpdated))
        .await
        .unwrap();
    let year_only = RaceProfile {
        sex: None,
        birth: Some(Birth::Year(1990)),
    };
    races
        .set_race_profile(&lee, &year_only, &act(&lee, ActivityKind::RaceProfileUpdated))
        .await
        .unwrap();
    assert_eq!(races.race_profile(&kim).await.unwrap(), profile);
    let mut batch = races
        .race_profiles(&[kim.clone(), lee.clone(), nobody.clone(), kim.clone()])
        .await
        .unwrap();
    batch.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![(kim.clone(), profile), (lee.clone(), year_only)];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(batch, expected);
    // cleared: nothing kept
    races
        .set_race_profile(
            &kim,
            &RaceProfile::default(),
            &act(&kim, ActivityKind::RaceProfileUpdated),
        )
        .await
        .unwrap();
    assert_eq!(races.race_profile(&kim).await.unwrap(), RaceProfile::default());
}
