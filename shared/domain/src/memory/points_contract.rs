//! What the points ports must do together, as test bodies over a `PointsWorld`: the
//! ledger that writes awards, and the `PointsStore` and `LeaderboardStore` that read what
//! it wrote. `MemoryLedger`'s unit tests run them (`memory::points`), and so do infra's
//! emulator tests against `DynamoLedger` and `DynamoUsers` over one Users table
//! (`shared/infra/tests/integration/points_contract.rs`). Each body makes its own runners
//! and seasons (a year picked at random, far from today's): the emulator's table is
//! shared by tests running in parallel, and a season's board reads all of it.

use async_trait::async_trait;
use time::macros::datetime;
use time::{Date, Month, OffsetDateTime};

use crate::events::ResultChange;
use crate::leaderboard::{Season, Standing};
use crate::marathon::MarathonId;
use crate::paging::PageRequest;
use crate::ports::{LeaderboardStore, LedgerOutcome, PointsLedger, PointsStore, StoreError};
use crate::user::{Role, UserId, UserName};

/// When every change here is applied.
pub const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

/// The ports under test, over one state, and a way to make a user they know.
#[async_trait]
pub trait PointsWorld: Send + Sync {
    fn ledger(&self) -> &dyn PointsLedger;
    fn points(&self) -> &dyn PointsStore;
    fn board(&self) -> &dyn LeaderboardStore;
    /// A new user (an account: a profile without points yet).
    async fn user(&self, name: &str, role: Role) -> UserId;
}

/// A season of its own: a year from 3000 on, apart from the other emulator tests' (1950
/// to 2949).
pub fn fresh_season() -> Season {
    let year = 3000 + (ulid::Ulid::new().random() % 6000) as u16;
    Season::from_year(year).expect("a four-digit year")
}

pub fn day_in(season: Season) -> Date {
    Date::from_calendar_date(i32::from(season.year()), Month::May, 10).expect("a real date")
}

/// `points` for `result_id` at `version`, run in `season` (None: an event without a date).
pub fn change(
    runner: &UserId,
    result_id: &str,
    season: Option<Season>,
    points: u32,
    version: u64,
) -> ResultChange {
    ResultChange {
        result_id: result_id.to_owned(),
        marathon_id: MarathonId::parse("01JAAAAAAAAAAAAAAAAAAAAAAA").expect("a marathon id"),
        marathon_name: "Seoul Marathon".into(),
        marathon_date: season.map(day_in),
        runner_id: runner.clone(),
        runner_name: "Kim Runner".into(),
        points,
        version,
        import_id: None,
    }
}

async fn apply(w: &dyn PointsWorld, change: &ResultChange) -> LedgerOutcome {
    w.ledger().apply(change, NOW).await.expect("applied")
}

/// The whole board of `season`, `limit` rows a page: (rank, runner, points, name).
pub async fn whole_board(
    w: &dyn PointsWorld,
    season: Season,
    limit: u32,
) -> Vec<(u64, UserId, u64, Option<String>)> {
    let mut rows = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = w
            .board()
            .leaderboard(season, &PageRequest { limit, cursor })
            .await
            .expect("a page");
        assert!(page.items.len() <= limit as usize, "a page is at most its limit");
        rows.extend(page.items.into_iter().map(|s: Standing| {
            (
                s.rank,
                s.runner_id,
                s.points,
                s.runner_name.map(|n| n.as_str().to_owned()),
            )
        }));
        cursor = page.next_cursor;
        if cursor.is_none() {
            return rows;
        }
    }
    panic!("the board never ended");
}

pub async fn a_total_starts_at_zero_and_moves_with_each_award(w: &dyn PointsWorld) {
    let runner = w.user("Kim Runner", Role::Runner).await;
    let (profile, total) = w.points().total(&runner).await.unwrap().expect("a runner");
    assert_eq!((profile.id.clone(), total), (runner.clone(), 0));
    assert_eq!(profile.name, UserName::parse("Kim Runner").unwrap());
    assert_eq!((profile.user_type, profile.deleted), (Role::Runner, false));
    assert!(w.points().total(&UserId::generate()).await.unwrap().is_none());

    let season = Some(fresh_season());
    let first = change(&runner, "r1", season, 105, 1);
    assert_eq!(
        apply(w, &first).await,
        LedgerOutcome::Applied {
            delta: 105,
            total: 105
        }
    );
    assert_eq!(w.points().total(&runner).await.unwrap().unwrap().1, 105);
    // a redelivery before the announcement went out owes it; after, nothing
    assert_eq!(
        apply(w, &first).await,
        LedgerOutcome::Unnotified {
            delta: 105,
            total: 105
        }
    );
    w.ledger().mark_notified(&runner, "r1", 1).await.unwrap();
    assert_eq!(apply(w, &first).await, LedgerOutcome::Unchanged);
    // a correction moves the total by the difference; the older version then nothing
    assert_eq!(
        apply(w, &change(&runner, "r1", season, 95, 2)).await,
        LedgerOutcome::Applied {
            delta: -10,
            total: 95
        }
    );
    assert_eq!(apply(w, &first).await, LedgerOutcome::Unchanged);
    // another result adds; a removal takes its points back
    assert_eq!(
        apply(w, &change(&runner, "r2", season, 50, 1)).await,
        LedgerOutcome::Applied {
            delta: 50,
            total: 145
        }
    );
    assert_eq!(
        apply(w, &change(&runner, "r1", None, 0, 3)).await,
        LedgerOutcome::Applied {
            delta: -95,
            total: 50
        }
    );
    assert_eq!(w.points().total(&runner).await.unwrap().unwrap().1, 50);
    // no award for someone who does not exist
    let ghost = change(&UserId::generate(), "r1", season, 10, 1);
    assert!(matches!(
        w.ledger().apply(&ghost, NOW).await,
        Err(StoreError::Missing("runner"))
    ));
}

pub async fn awards_are_the_runners_own_at_their_latest_version(w: &dyn PointsWorld) {
    let (mine, theirs) = (
        w.user("Kim Runner", Role::Runner).await,
        w.user("Lee Runner", Role::Runner).await,
    );
    assert!(w.points().awards(&mine).await.unwrap().is_empty());
    let season = Some(fresh_season());
    apply(w, &change(&mine, "a", season, 100, 1)).await;
    apply(w, &change(&mine, "a", season, 110, 2)).await;
    apply(w, &change(&mine, "b", season, 50, 1)).await;
    apply(w, &change(&theirs, "c", season, 70, 1)).await;
    let mut awards = w.points().awards(&mine).await.unwrap();
    awards.sort_by(|a, b| a.result_id.cmp(&b.result_id));
    let seen: Vec<(&str, u32, u64, OffsetDateTime)> = awards
        .iter()
        .map(|a| (a.result_id.as_str(), a.points, a.version, a.updated_at))
        .collect();
    assert_eq!(seen, [("a", 110, 2, NOW), ("b", 50, 1, NOW)]);
    assert_eq!(awards[0].marathon_id.as_str(), "01JAAAAAAAAAAAAAAAAAAAAAAA");
    let theirs = w.points().awards(&theirs).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!((theirs[0].result_id.as_str(), theirs[0].points), ("c", 70));
    assert!(w.points().awards(&UserId::generate()).await.unwrap().is_empty());
}

pub async fn the_season_board_ranks_ties_together_across_pages(w: &dyn PointsWorld) {
    let season = fresh_season();
    let mut tied = Vec::new();
    let first = w.user("First Runner", Role::Runner).await;
    apply(w, &change(&first, "x", Some(season), 300, 1)).await;
    for name in ["Tied One", "Tied Two", "Tied Three"] {
        let runner = w.user(name, Role::Runner).await;
        apply(w, &change(&runner, "x", Some(season), 200, 1)).await;
        tied.push((runner, name));
    }
    let last = w.user("Last Runner", Role::Runner).await;
    apply(w, &change(&last, "x", Some(season), 100, 1)).await;
    // ties in runner id order
    tied.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let named = |s: &str| Some(s.to_owned());
    let mut expected = vec![(1, first, 300, named("First Runner"))];
    expected.extend(tied.into_iter().map(|(r, n)| (2, r, 200, named(n))));
    expected.push((5, last, 100, named("Last Runner")));
    // the same ranks whether a page boundary cuts the tie or not
    for limit in [1, 2, 3, 10] {
        assert_eq!(whole_board(w, season, limit).await, expected, "limit {limit}");
    }
    let page = w
        .board()
        .leaderboard(
            season,
            &PageRequest {
                limit: 2,
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.next_cursor.is_some(), "a full page with more after it");
    let all = w
        .board()
        .leaderboard(
            season,
            &PageRequest {
                limit: 10,
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((all.items.len(), all.next_cursor), (5, None));
}

pub async fn the_board_counts_each_award_in_its_season_and_drops_zeros(w: &dyn PointsWorld) {
    let season = fresh_season();
    let next = Season::from_year(season.year() + 1).expect("a year");
    let (a, b, c) = (
        w.user("Kim Runner", Role::Runner).await,
        w.user("Lee Runner", Role::Runner).await,
        w.user("Park Runner", Role::Runner).await,
    );
    apply(w, &change(&a, "x", Some(season), 100, 1)).await;
    apply(w, &change(&a, "y", Some(next), 50, 1)).await;
    apply(w, &change(&b, "z", Some(season), 120, 1)).await;
    let board = |season| async move {
        whole_board(w, season, 10)
            .await
            .into_iter()
            .map(|(rank, runner, points, _)| (rank, runner, points))
            .collect::<Vec<_>>()
    };
    assert_eq!(board(season).await, [(1, b.clone(), 120), (2, a.clone(), 100)]);
    assert_eq!(board(next).await, [(1, a.clone(), 50)]);
    // the marathon moved to the next year: its award leaves one season for the other
    apply(w, &change(&a, "x", Some(next), 70, 2)).await;
    assert_eq!(board(season).await, [(1, b.clone(), 120)]);
    assert_eq!(board(next).await, [(1, a.clone(), 120)]);
    // a removal without a date takes the points from the award's own season; at zero
    // the runner leaves the board
    apply(w, &change(&b, "z", None, 0, 2)).await;
    assert!(board(season).await.is_empty());
    // an award without a date counts in the total, in no season
    apply(w, &change(&c, "w", None, 40, 1)).await;
    assert_eq!(w.points().total(&c).await.unwrap().unwrap().1, 40);
    assert_eq!(board(next).await, [(1, a, 120)]);
    assert!(board(season).await.is_empty());
}

pub async fn only_this_seasons_own_cursors_are_accepted(w: &dyn PointsWorld) {
    let season = fresh_season();
    for points in [30, 20, 10] {
        let runner = w.user("Kim Runner", Role::Runner).await;
        apply(w, &change(&runner, "x", Some(season), points, 1)).await;
    }
    let first = w
        .board()
        .leaderboard(
            season,
            &PageRequest {
                limit: 1,
                cursor: None,
            },
        )
        .await
        .unwrap();
    let cursor = first.next_cursor.expect("more after the first row");
    let again = PageRequest {
        limit: 1,
        cursor: Some(cursor.clone()),
    };
    let second = w.board().leaderboard(season, &again).await.unwrap();
    assert_eq!(
        (second.items[0].rank, second.items[0].points),
        (2, 20),
        "resumes after the first row"
    );
    let other = Season::from_year(season.year() - 1).expect("a year");
    assert!(matches!(
        w.board().leaderboard(other, &again).await,
        Err(StoreError::InvalidCursor)
    ));
    for forged in ["", "not a cursor", "2026.10.1.1.01JAAAAAAAAAAAAAAAAAAAAAAA"] {
        let page = PageRequest {
            limit: 1,
            cursor: Some(forged.to_owned()),
        };
        assert!(
            matches!(
                w.board().leaderboard(season, &page).await,
                Err(StoreError::InvalidCursor)
            ),
            "{forged:?}"
        );
    }
}
