//! What every `RaceStore` must do, as test bodies over `&dyn RaceStore`: the in-memory
//! store's unit tests run them (`memory::races`), and so do infra's emulator tests against
//! `DynamoRaces` (`shared/infra/tests/integration/race_contract.rs`), so the fake the
//! use-case tests rely on cannot drift from the adapter. Each body makes its own ids: the
//! emulator's table is shared by tests running in parallel. (Listings over every marathon
//! by date read the whole shared table, so they are checked on the fake alone.)

use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

use crate::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use crate::entry::Entry;
use crate::marathon::{Course, Marathon, MarathonId, MarathonStatus};
use crate::paging::{Page, PageRequest};
use crate::ports::{MarathonFilter, RaceStore, StoreError};
use crate::race::{Bib, RaceProfile, ResultStatus, Sex};
use crate::record::{Record, RecordKind};
use crate::result::{FinishTime, OfficialResult};
use crate::user::{UserId, UserName};

/// Registration is open at this time for every marathon made here.
pub const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

pub fn marathon(organizer: &UserId, date: Date, capacity: u32) -> Marathon {
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

pub fn act(actor: &UserId, kind: ActivityKind) -> ActivityEntry {
    ActivityEntry::new(actor.clone(), kind, NOW, RequestOrigin::default())
}

pub fn entry(marathon: &Marathon, runner: &UserId) -> Entry {
    Entry {
        marathon_id: marathon.id.clone(),
        runner_id: runner.clone(),
        runner_name: UserName::parse("Kim Runner").expect("a valid name"),
        marathon_name: marathon.name.clone(),
        marathon_date: marathon.date,
        registered_at: NOW,
        bib: None,
    }
}

/// A finish priced at the marathon's points plus a bonus of 5.
pub fn official(marathon: &Marathon, runner: &UserId, finish_seconds: u32, version: u64) -> OfficialResult {
    OfficialResult {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        marathon_date: marathon.date,
        runner_id: runner.clone(),
        runner_name: UserName::parse("Kim Runner").expect("a valid name"),
        finish_seconds: Some(finish_seconds),
        finish_time: Some(FinishTime::from_seconds(finish_seconds).display()),
        bonus_points: 5,
        points: marathon.points + 5,
        version,
        recorded_at: NOW,
        updated_at: NOW,
        correlation_id: None,
        status: ResultStatus::Finished,
        gun_seconds: None,
        splits: Default::default(),
        bib: None,
        category: None,
        import_id: None,
        age_grade: None,
    }
}

fn conflict<T: std::fmt::Debug>(outcome: Result<T, StoreError>) -> bool {
    matches!(outcome, Err(StoreError::Conflict))
}

async fn create(store: &dyn RaceStore, m: &Marathon) {
    store
        .create_marathon(m, &act(&m.organizer_id, ActivityKind::MarathonCreated))
        .await
        .expect("marathon created");
}

async fn register(store: &dyn RaceStore, m: &Marathon, runner: &UserId) -> Result<Option<Bib>, StoreError> {
    store
        .register(
            &entry(m, runner),
            NOW,
            &act(runner, ActivityKind::EntryRegistered),
        )
        .await
}

async fn stored(store: &dyn RaceStore, id: &MarathonId) -> Marathon {
    store.marathon(id).await.unwrap().expect("marathon exists")
}

/// Every page of a listing, following cursors to the end.
pub async fn pages<T>(
    limit: u32,
    list: impl AsyncFn(PageRequest) -> Result<Page<T>, StoreError>,
) -> Vec<Vec<T>> {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = list(PageRequest { limit, cursor }).await.expect("a page");
        pages.push(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
    }
}

/// Creation is once per id; an edit needs the version read, keeps the counts, may not
/// lower the capacity below the entries, and may not change points or date once a result
/// is counted.
pub async fn marathons_are_edited_at_their_version_and_keep_their_counts(store: &dyn RaceStore) {
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 12), 10);
    create(store, &m).await;
    assert_eq!(stored(store, &m.id).await, m);
    assert!(store.marathon(&MarathonId::generate()).await.unwrap().is_none());
    let again = store
        .create_marathon(&m, &act(&organizer, ActivityKind::MarathonCreated))
        .await;
    assert!(conflict(again), "a second create of the same id conflicts");

    let runner = UserId::generate();
    register(store, &m, &runner).await.unwrap();
    let log = || act(&organizer, ActivityKind::MarathonUpdated);
    // the editor's copy says entry_count 0: the store keeps the counted 1
    let edited = Marathon {
        name: "Seoul International Marathon".into(),
        version: 2,
        ..m.clone()
    };
    store.update_marathon(&edited, 1, &log()).await.unwrap();
    assert_eq!(
        stored(store, &m.id).await,
        Marathon {
            entry_count: 1,
            ..edited.clone()
        }
    );
    let stale = Marathon {
        version: 3,
        ..edited.clone()
    };
    assert!(
        conflict(store.update_marathon(&stale, 1, &log()).await),
        "from version 1"
    );
    let below = Marathon {
        version: 3,
        capacity: 0,
        ..edited.clone()
    };
    assert!(
        conflict(store.update_marathon(&below, 2, &log()).await),
        "capacity below the entries counted"
    );
    let unknown = Marathon {
        id: MarathonId::generate(),
        ..edited.clone()
    };
    assert!(conflict(store.update_marathon(&unknown, 1, &log()).await));
    assert!(
        store.marathon(&unknown.id).await.unwrap().is_none(),
        "nothing made up"
    );

    // a result fixes points, dnf points and date; the name may still change
    store
        .put_result(
            &official(&m, &runner, 12_000, 1),
            None,
            &act(&organizer, ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    let counted = stored(store, &m.id).await;
    assert_eq!(counted.result_count, 1);
    for (what, change) in [
        (
            "points",
            Marathon {
                points: 150,
                ..counted.clone()
            },
        ),
        (
            "dnf points",
            Marathon {
                dnf_points: 10,
                ..counted.clone()
            },
        ),
        (
            "date",
            Marathon {
                date: date!(2026 - 05 - 03),
                ..counted.clone()
            },
        ),
    ] {
        let change = Marathon { version: 3, ..change };
        assert!(
            conflict(store.update_marathon(&change, 2, &log()).await),
            "{what}"
        );
    }
    let renamed = Marathon {
        name: "Seoul Marathon 2026".into(),
        version: 3,
        ..counted.clone()
    };
    store.update_marathon(&renamed, 2, &log()).await.unwrap();
    store
        .delete_result(&m.id, &runner, 1, &act(&organizer, ActivityKind::ResultRemoved))
        .await
        .unwrap();
    let repriced = Marathon {
        points: 150,
        date: date!(2026 - 05 - 03),
        version: 4,
        ..renamed
    };
    store.update_marathon(&repriced, 3, &log()).await.unwrap();
    let now = stored(store, &m.id).await;
    assert_eq!(
        (now.points, now.date, now.result_count),
        (150, date!(2026 - 05 - 03), 0)
    );
}

/// Registration counts the entry once and gives the next bib; it is refused when the
/// marathon is full, closed (at the closing second), cancelled or unknown, or the runner
/// is registered already.
pub async fn registration_is_counted_once_and_refused_when_it_may_not_be(store: &dyn RaceStore) {
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 10 - 04), 2);
    create(store, &m).await;
    let (first, second, late) = (UserId::generate(), UserId::generate(), UserId::generate());
    assert_eq!(register(store, &m, &first).await.unwrap(), Bib::new(1));
    assert_eq!(
        store.entry(&m.id, &first).await.unwrap(),
        Some(Entry {
            bib: Bib::new(1),
            ..entry(&m, &first)
        })
    );
    assert!(conflict(register(store, &m, &first).await), "registered already");
    // the refused registration spent a number
    assert_eq!(register(store, &m, &second).await.unwrap(), Bib::new(3));
    assert!(conflict(register(store, &m, &late).await), "full");
    assert!(store.entry(&m.id, &late).await.unwrap().is_none());
    assert_eq!(stored(store, &m.id).await.entry_count, 2);

    let closing = marathon(&organizer, date!(2026 - 10 - 04), 10);
    create(store, &closing).await;
    let at_close = store
        .register(
            &entry(&closing, &late),
            closing.registration_closes_at,
            &act(&late, ActivityKind::EntryRegistered),
        )
        .await;
    assert!(
        conflict(at_close),
        "registration closes at registration_closes_at"
    );
    store
        .register(
            &entry(&closing, &late),
            closing.registration_closes_at - Duration::seconds(1),
            &act(&late, ActivityKind::EntryRegistered),
        )
        .await
        .expect("a second before the close is still open");

    let cancelled = Marathon {
        status: MarathonStatus::Cancelled,
        version: 2,
        ..marathon(&organizer, date!(2026 - 10 - 04), 10)
    };
    create(
        store,
        &Marathon {
            status: MarathonStatus::Open,
            version: 1,
            ..cancelled.clone()
        },
    )
    .await;
    store
        .update_marathon(&cancelled, 1, &act(&organizer, ActivityKind::MarathonCancelled))
        .await
        .unwrap();
    assert!(conflict(register(store, &cancelled, &late).await), "cancelled");

    let unknown = marathon(&organizer, date!(2026 - 10 - 04), 10);
    assert!(conflict(register(store, &unknown, &late).await), "unknown");
    assert!(
        store.marathon(&unknown.id).await.unwrap().is_none(),
        "nothing made up"
    );
}

/// Bibs are unique per marathon: registration skips those given by hand, the organizer
/// moves them (the old one goes free, the result follows at its version), the roster
/// lists them in order, and cancelling frees them.
pub async fn bibs_are_unique_movable_and_follow_onto_the_result(store: &dyn RaceStore) {
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 05), 10);
    create(store, &m).await;
    let (a, b, c) = (UserId::generate(), UserId::generate(), UserId::generate());
    let bib = |n| Bib::new(n).expect("a bib");
    let log = || act(&organizer, ActivityKind::EntryBibSet);
    assert_eq!(register(store, &m, &a).await.unwrap(), Some(bib(1)));
    store.set_bib(&m.id, &a, bib(2), &log()).await.unwrap();
    assert_eq!(store.bib_holder(&m.id, bib(1)).await.unwrap(), None, "freed");
    assert_eq!(store.bib_holder(&m.id, bib(2)).await.unwrap(), Some(a.clone()));
    // 2 is taken by hand: the next registration gets 3
    assert_eq!(register(store, &m, &b).await.unwrap(), Some(bib(3)));
    assert!(conflict(store.set_bib(&m.id, &b, bib(2), &log()).await), "taken");
    store
        .set_bib(&m.id, &b, bib(3), &log())
        .await
        .expect("its own bib again: nothing to do");
    assert!(matches!(
        store.set_bib(&m.id, &c, bib(9), &log()).await,
        Err(StoreError::Missing("entry"))
    ));

    store
        .put_result(
            &official(&m, &a, 12_000, 7),
            None,
            &act(&organizer, ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    store.set_bib(&m.id, &a, bib(42), &log()).await.unwrap();
    let result = store.result(&m.id, &a).await.unwrap().expect("the result");
    assert_eq!((result.bib, result.version), (Some(bib(42)), 7), "same version");
    let roster: Vec<(Bib, UserId)> = store
        .marathon_roster(&m.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.bib, r.runner_id))
        .collect();
    assert_eq!(roster, [(bib(3), b.clone()), (bib(42), a.clone())]);

    store
        .cancel_entry(&m.id, &b, &act(&b, ActivityKind::EntryCancelled))
        .await
        .unwrap();
    assert_eq!(store.bib_holder(&m.id, bib(3)).await.unwrap(), None, "freed");
}

/// Cancelling uncounts the entry; there must be one, and no official result for it.
pub async fn cancelling_uncounts_and_is_refused_with_a_result(store: &dyn RaceStore) {
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 26), 10);
    create(store, &m).await;
    let (kept, leaving) = (UserId::generate(), UserId::generate());
    register(store, &m, &kept).await.unwrap();
    register(store, &m, &leaving).await.unwrap();
    let cancel = async |runner: &UserId, marathon: &MarathonId| {
        store
            .cancel_entry(marathon, runner, &act(runner, ActivityKind::EntryCancelled))
            .await
    };
    cancel(&leaving, &m.id).await.unwrap();
    assert_eq!(stored(store, &m.id).await.entry_count, 1);
    assert!(store.entry(&m.id, &leaving).await.unwrap().is_none());
    assert!(conflict(cancel(&leaving, &m.id).await), "no entry left");
    let nowhere = MarathonId::generate();
    assert!(conflict(cancel(&leaving, &nowhere).await));
    assert!(
        store.marathon(&nowhere).await.unwrap().is_none(),
        "nothing made up"
    );

    store
        .put_result(
            &official(&m, &kept, 12_000, 1),
            None,
            &act(&organizer, ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    assert!(conflict(cancel(&kept, &m.id).await), "a result keeps its entry");
    assert!(store.entry(&m.id, &kept).await.unwrap().is_some());
    register(store, &m, &leaving)
        .await
        .expect("a cancelled runner may register again");
    assert_eq!(stored(store, &m.id).await.entry_count, 2);
}

/// A result needs the runner's entry, the points and date the marathon has, the version
/// read (None: none stored) and a version above its last deletion's tombstone; it counts
/// once, and its deletion at its version uncounts it and leaves the tombstone.
pub async fn results_are_conditional_on_entry_price_version_and_tombstone(store: &dyn RaceStore) {
    let organizer = UserId::generate();
    let m = marathon(&organizer, date!(2026 - 04 - 05), 10);
    create(store, &m).await;
    let runner = UserId::generate();
    let log = |kind| act(&organizer, kind);
    let put = async |result: &OfficialResult, expected: Option<u64>| {
        store
            .put_result(result, expected, &log(ActivityKind::ResultRecorded))
            .await
    };
    let first = official(&m, &runner, 10_687, 1_000);
    assert!(
        conflict(put(&first, None).await),
        "a result needs the runner's entry"
    );
    register(store, &m, &runner).await.unwrap();
    let repriced = OfficialResult {
        points: first.points + 20,
        ..first.clone()
    };
    assert!(conflict(put(&repriced, None).await), "priced at other points");
    let redated = OfficialResult {
        marathon_date: date!(2026 - 03 - 29),
        ..first.clone()
    };
    assert!(
        conflict(put(&redated, None).await),
        "checked against another date"
    );
    let dnf = OfficialResult {
        status: ResultStatus::Dnf,
        finish_seconds: None,
        finish_time: None,
        bonus_points: 0,
        points: 10,
        ..first.clone()
    };
    assert!(
        conflict(put(&dnf, None).await),
        "a dnf priced at dnf points the marathon lacks"
    );
    assert_eq!(stored(store, &m.id).await.result_count, 0, "nothing counted");

    put(&first, None).await.unwrap();
    assert_eq!(store.result(&m.id, &runner).await.unwrap(), Some(first.clone()));
    assert!(conflict(put(&first, None).await), "creating an existing result");
    let corrected = OfficialResult {
        finish_seconds: Some(10_600),
        version: 1_001,
        ..first.clone()
    };
    assert!(conflict(put(&corrected, Some(999)).await), "from another version");
    put(&corrected, Some(1_000)).await.unwrap();
    assert_eq!(
        stored(store, &m.id).await.result_count,
        1,
        "a correction counts nothing"
    );

    let delete = async |version| {
        store
            .delete_result(&m.id, &runner, version, &log(ActivityKind::ResultRemoved))
            .await
    };
    assert!(conflict(delete(1_000).await), "an older version");
    delete(1_001).await.unwrap();
    assert!(store.result(&m.id, &runner).await.unwrap().is_none());
    assert!(conflict(delete(1_001).await), "nothing left");
    assert_eq!(store.removed_version(&m.id, &runner).await.unwrap(), Some(1_002));
    assert_eq!(stored(store, &m.id).await.result_count, 0);
    let states = store
        .result_states(&m.id, &[UserId::generate(), runner.clone()])
        .await
        .unwrap();
    assert_eq!(
        states
            .iter()
            .map(|s| (s.current.is_some(), s.floor()))
            .collect::<Vec<_>>(),
        [(false, None), (false, Some(1_002))]
    );
    for stale in [900, 1_002] {
        let again = OfficialResult {
            version: stale,
            ..first.clone()
        };
        assert!(
            conflict(put(&again, None).await),
            "version {stale} is not above the removal"
        );
    }
    let again = OfficialResult {
        version: 1_003,
        ..first.clone()
    };
    put(&again, None).await.unwrap();
    let states = store
        .result_states(&m.id, std::slice::from_ref(&runner))
        .await
        .unwrap();
    assert_eq!(states[0].floor(), Some(1_003));
}

/// The ranking: finishers by chip time (ties by runner id), then dnf, dns and dq; read on
/// after a position, and paged with cursors.
pub async fn the_ranking_orders_finishers_then_the_unranked_and_resumes(store: &dyn RaceStore) {
    let organizer = UserId::generate();
    let m = Marathon {
        dnf_points: 10,
        ..marathon(&organizer, date!(2026 - 04 - 05), 20)
    };
    create(store, &m).await;
    let log = || act(&organizer, ActivityKind::ResultRecorded);
    let mut results = Vec::new();
    for (i, status) in [
        ResultStatus::Dq,
        ResultStatus::Finished,
        ResultStatus::Dns,
        ResultStatus::Finished,
        ResultStatus::Dnf,
        ResultStatus::Finished,
    ]
    .into_iter()
    .enumerate()
    {
        let runner = UserId::generate();
        register(store, &m, &runner).await.unwrap();
        let seconds = [0, 11_000, 0, 10_000, 0, 11_000][i];
        let result = match status {
            ResultStatus::Finished => official(&m, &runner, seconds, 1),
            other => OfficialResult {
                status: other,
                finish_seconds: None,
                finish_time: None,
                bonus_points: 0,
                points: if other == ResultStatus::Dnf { 10 } else { 0 },
                ..official(&m, &runner, 1, 1)
            },
        };
        store.put_result(&result, None, &log()).await.unwrap();
        results.push(result);
    }
    let key = |r: &OfficialResult| {
        let rank = match r.status {
            ResultStatus::Finished => 0,
            ResultStatus::Dnf => 1,
            ResultStatus::Dns => 2,
            ResultStatus::Dq => 3,
        };
        (rank, r.finish_seconds, r.runner_id.clone())
    };
    results.sort_by_key(key);
    let expected: Vec<UserId> = results.iter().map(|r| r.runner_id.clone()).collect();

    let first = store.ranking(&m.id, None, 4).await.unwrap();
    let after = first.next_cursor.clone().expect("more after a full read");
    let rest = store.ranking(&m.id, Some(&after), 4).await.unwrap();
    let read: Vec<UserId> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|row| row.result.runner_id.clone())
        .collect();
    assert_eq!(read, expected);
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next_cursor.is_none(), "a short read is the end");
    assert!(matches!(
        store.ranking(&m.id, Some(""), 4).await,
        Err(StoreError::InvalidCursor)
    ));

    let paged = pages(4, async |page| store.marathon_results(&m.id, &page).await).await;
    assert_eq!(paged.iter().map(Vec::len).collect::<Vec<_>>(), [4, 2]);
    let paged: Vec<UserId> = paged.concat().into_iter().map(|r| r.runner_id).collect();
    assert_eq!(paged, expected);
}

/// Entries by marathon (by runner id) and by runner (latest race first, with each
/// marathon's current name and date), results by runner, marathons by organizer (soonest
/// first), records by runner (newest first): every listing pages to the end with no empty
/// last page, and refuses a cursor another listing gave out.
pub async fn listings_page_in_order_and_refuse_other_listings_cursors(store: &dyn RaceStore) {
    let organizer = UserId::generate();
    let runner = UserId::generate();
    let dates = [
        date!(2026 - 04 - 05),
        date!(2026 - 10 - 04),
        date!(2026 - 07 - 12),
    ];
    let mut marathons = Vec::new();
    for date in dates {
        let m = marathon(&organizer, date, 10);
        create(store, &m).await;
        register(store, &m, &runner).await.unwrap();
        marathons.push(m);
    }
    let first = &marathons[0];
    let mut others: Vec<UserId> = (0..4).map(|_| UserId::generate()).collect();
    for other in &others {
        register(store, first, other).await.unwrap();
    }
    store
        .put_result(
            &official(first, &runner, 12_000, 1),
            None,
            &act(&organizer, ActivityKind::ResultRecorded),
        )
        .await
        .unwrap();
    // an organizer renames a marathon after the entry and the result were written
    let renamed = Marathon {
        name: "Seoul Marathon 2026".into(),
        version: 2,
        ..stored(store, &first.id).await
    };
    store
        .update_marathon(&renamed, 1, &act(&organizer, ActivityKind::MarathonUpdated))
        .await
        .unwrap();

    let by_marathon = pages(2, async |page| store.marathon_entries(&first.id, &page).await).await;
    assert_eq!(by_marathon.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    others.push(runner.clone());
    others.sort();
    let listed: Vec<UserId> = by_marathon.concat().into_iter().map(|e| e.runner_id).collect();
    assert_eq!(listed, others, "by runner id");

    let mine = pages(2, async |page| store.runner_entries(&runner, &page).await).await;
    assert_eq!(mine.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    let mine = mine.concat();
    assert_eq!(
        mine.iter().map(|e| e.marathon_date).collect::<Vec<_>>(),
        [dates[1], dates[2], dates[0]],
        "latest race first"
    );
    assert_eq!(mine[2].marathon_name, "Seoul Marathon 2026", "the current name");
    let results = store
        .runner_results(&runner, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(results.items.len(), 1);
    assert_eq!(results.items[0].marathon_name, "Seoul Marathon 2026");

    let by_organizer = pages(2, async |page| {
        store
            .list_marathons(&MarathonFilter::ByOrganizer(organizer.clone()), &page)
            .await
    })
    .await;
    assert_eq!(
        by_organizer.concat().iter().map(|m| m.date).collect::<Vec<_>>(),
        [dates[0], dates[2], dates[1]],
        "soonest first"
    );

    let entries_cursor = store
        .runner_entries(&runner, &PageRequest::first(1))
        .await
        .unwrap()
        .next_cursor
        .expect("more than one");
    let with = |cursor: &str| PageRequest {
        limit: 10,
        cursor: Some(cursor.to_owned()),
    };
    assert!(
        store
            .runner_entries(&runner, &with(&entries_cursor))
            .await
            .is_ok()
    );
    for refused in [
        store
            .runner_results(&runner, &with(&entries_cursor))
            .await
            .map(|_| ()),
        store
            .runner_entries(&organizer, &with(&entries_cursor))
            .await
            .map(|_| ()),
        store
            .marathon_entries(&first.id, &with(&entries_cursor))
            .await
            .map(|_| ()),
        store
            .runner_records(&runner, &with(&entries_cursor))
            .await
            .map(|_| ()),
        store
            .runner_entries(&runner, &with("not a cursor"))
            .await
            .map(|_| ()),
    ] {
        assert!(matches!(refused, Err(StoreError::InvalidCursor)), "{refused:?}");
    }
}

/// Records are the runner's own: created once, updated and deleted only when they exist,
/// listed newest first.
pub async fn records_are_conditional_and_newest_first(store: &dyn RaceStore) {
    let runner = UserId::generate();
    let log = || act(&runner, ActivityKind::RecordCreated);
    let mut ids = Vec::new();
    for i in 0..3u32 {
        // ULIDs made apart sort in time order
        let id = ulid::Ulid::from_parts(1_700_000_000_000 + u64::from(i), u128::from(i)).to_string();
        let record = Record {
            id: id.clone(),
            runner_id: runner.clone(),
            kind: RecordKind::Training,
            date: date!(2026 - 05 - 01),
            distance_m: 12_000,
            duration_seconds: 3_723 + i,
            notes: "tempo".into(),
            created_at: NOW,
            updated_at: NOW,
        };
        let created = log();
        store.create_record(&record, &created).await.unwrap();
        assert!(
            conflict(store.create_record(&record, &log()).await),
            "created once"
        );
        // an activity entry is written once: a write repeating one is refused whole
        let other = Record {
            id: ulid::Ulid::new().to_string(),
            ..record.clone()
        };
        assert!(
            conflict(store.create_record(&other, &created).await),
            "the entry again"
        );
        assert!(store.record(&runner, &other.id).await.unwrap().is_none());
        ids.push(id);
    }
    let listed = pages(2, async |page| store.runner_records(&runner, &page).await).await;
    assert_eq!(listed.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    let listed: Vec<String> = listed.concat().into_iter().map(|r| r.id).collect();
    ids.reverse();
    assert_eq!(listed, ids, "newest first");
    assert!(
        store
            .runner_records(&UserId::generate(), &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty(),
        "private"
    );

    let mut record = store.record(&runner, &ids[0]).await.unwrap().expect("stored");
    record.notes = "easy".into();
    store.update_record(&record, &log()).await.unwrap();
    assert_eq!(
        store.record(&runner, &ids[0]).await.unwrap(),
        Some(record.clone())
    );
    store.delete_record(&runner, &ids[0], &log()).await.unwrap();
    assert!(store.record(&runner, &ids[0]).await.unwrap().is_none());
    assert!(conflict(store.update_record(&record, &log()).await), "gone");
    assert!(
        conflict(store.delete_record(&runner, &ids[0], &log()).await),
        "gone"
    );
}

/// A race profile is the runner's (empty until given, gone when emptied), and many are
/// read at once, runners without one left out.
pub async fn race_profiles_are_kept_per_runner(store: &dyn RaceStore) {
    let (a, b) = (UserId::generate(), UserId::generate());
    let log = || act(&a, ActivityKind::RaceProfileUpdated);
    assert_eq!(store.race_profile(&a).await.unwrap(), RaceProfile::default());
    let profile = RaceProfile {
        sex: Some(Sex::Female),
        birth: None,
    };
    store.set_race_profile(&a, &profile, &log()).await.unwrap();
    assert_eq!(store.race_profile(&a).await.unwrap(), profile);
    let read = store
        .race_profiles(&[a.clone(), b.clone(), a.clone()])
        .await
        .unwrap();
    assert_eq!(read, [(a.clone(), profile)]);
    store
        .set_race_profile(&a, &RaceProfile::default(), &log())
        .await
        .unwrap();
    assert!(
        store
            .race_profiles(std::slice::from_ref(&a))
            .await
            .unwrap()
            .is_empty()
    );
}
