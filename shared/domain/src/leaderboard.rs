//! The season leaderboard and personal bests, as rules over values.
//!
//! A season is a calendar year: an award belongs to the season of its marathon's date.
//! The points ledger keeps, per runner and season, the sum of the points of the awards of
//! that season (`season_deltas` says how an award's change moves those sums); the
//! leaderboard ranks runners by that sum, most first, ties sharing a rank
//! (competition ranking, "1224") and ordered by runner id so pages are stable.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::marathon::{Course, MarathonId};
use crate::record::RecordKind;
use crate::user::{UserId, UserName};
use crate::validation::FieldError;

/// A calendar year, the unit of the leaderboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Season(u16);

impl Season {
    pub const MIN: u16 = 1900;
    pub const MAX: u16 = 9999;

    /// Exactly four digits, 1900 to 9999 (`?season=2026`).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        raw.parse::<u16>()
            .ok()
            .filter(|year| raw.len() == 4 && (Self::MIN..=Self::MAX).contains(year))
            .map(Self)
            .ok_or_else(|| FieldError::new("season", "must be a year, YYYY (1900 to 9999)"))
    }

    /// The season of a race run on `date`.
    pub fn of(date: Date) -> Self {
        // dates come from marathons, which the domain keeps within four-digit years
        Self(date.year().clamp(i32::from(Self::MIN), i32::from(Self::MAX)) as u16)
    }

    pub fn year(self) -> u16 {
        self.0
    }

    /// The year a stored number names, if it is one.
    pub fn from_year(year: u16) -> Option<Self> {
        (Self::MIN..=Self::MAX).contains(&year).then_some(Self(year))
    }
}

impl fmt::Display for Season {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// How replacing an award moves the season sums: the award as stored (its season, when
/// the ledger knew it, and its points) becomes `points` in `season` (or, for an event
/// that does not say, in the stored award's season). One entry per season whose sum
/// moves, none when nothing moves. An award stored without a season (written before
/// seasons existed) was never counted, so it takes nothing away.
pub fn season_deltas(
    stored: Option<(Option<Season>, u32)>,
    season: Option<Season>,
    points: u32,
) -> Vec<(Season, i64)> {
    let mut deltas: Vec<(Season, i64)> = Vec::with_capacity(2);
    let mut add = |season: Season, delta: i64| match deltas.iter_mut().find(|(s, _)| *s == season) {
        Some((_, sum)) => *sum += delta,
        None => deltas.push((season, delta)),
    };
    let old_season = stored.and_then(|(season, _)| season);
    if let Some((Some(old), old_points)) = stored {
        add(old, -i64::from(old_points));
    }
    if let Some(new) = season.or(old_season) {
        add(new, i64::from(points));
    }
    deltas.retain(|(_, delta)| *delta != 0);
    deltas
}

/// One runner's points in a season, as the leaderboard holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonPoints {
    pub runner_id: UserId,
    pub points: u64,
}

/// Leaderboard order: most points first, then runner id (ids are ULIDs: text order).
pub fn leaderboard_order(a: &SeasonPoints, b: &SeasonPoints) -> Ordering {
    b.points
        .cmp(&a.points)
        .then_with(|| a.runner_id.as_str().cmp(b.runner_id.as_str()))
}

/// Where a page ends: its last row, and that row's position and rank, so the next page
/// ranks on without counting what came before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankCursor {
    pub points: u64,
    pub runner_id: UserId,
    /// 1-based place in the order.
    pub position: u64,
    pub rank: u64,
}

/// A ranked row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub rank: u64,
    pub runner_id: UserId,
    pub points: u64,
    /// The runner's current name, filled by the store (none once the profile is gone).
    pub runner_name: Option<UserName>,
}

/// The top `limit` rows after `after` of several lists each already in leaderboard
/// order (the shards of a season), and whether any row is left behind them: a list that
/// said it has more (`more`), or a row not taken.
pub fn merge_top(lists: Vec<Vec<SeasonPoints>>, more: bool, limit: usize) -> (Vec<SeasonPoints>, bool) {
    let mut all: Vec<SeasonPoints> = lists.into_iter().flatten().collect();
    all.sort_by(leaderboard_order);
    let left = more || all.len() > limit;
    all.truncate(limit);
    (all, left)
}

/// Ranks rows in leaderboard order that follow `after` (or start the season): equal
/// points share the rank of the first of them, the next different total takes its
/// position ("1224").
pub fn rank(rows: Vec<SeasonPoints>, after: Option<&RankCursor>) -> Vec<Standing> {
    let (mut position, mut last) = match after {
        Some(c) => (c.position, Some((c.points, c.rank))),
        None => (0, None),
    };
    rows.into_iter()
        .map(|row| {
            position += 1;
            let rank = match last {
                Some((points, rank)) if points == row.points => rank,
                _ => position,
            };
            last = Some((row.points, rank));
            Standing {
                rank,
                runner_id: row.runner_id,
                points: row.points,
                runner_name: None,
            }
        })
        .collect()
}

/// The cursor a page of `standings` that followed `after` ends with.
pub fn next_cursor(standings: &[Standing], after: Option<&RankCursor>) -> Option<RankCursor> {
    let last = standings.last()?;
    Some(RankCursor {
        points: last.points,
        runner_id: last.runner_id.clone(),
        position: after.map_or(0, |c| c.position) + standings.len() as u64,
        rank: last.rank,
    })
}

/// Where a time was run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerformanceSource {
    /// An official result (a finish) of a marathon.
    Official {
        marathon_id: MarathonId,
        marathon_name: String,
    },
    /// One of the runner's private records.
    Record { record_id: String, kind: RecordKind },
}

/// A time over a distance, from a result or a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performance {
    pub distance_m: u32,
    pub seconds: u32,
    pub date: Date,
    pub source: PerformanceSource,
}

impl Performance {
    /// The course the distance is: a classic one when it is exactly its length.
    pub fn course(&self) -> Course {
        course_of(self.distance_m)
    }
}

/// `Course` for a distance in metres: full, half, 10k and 5k by their exact lengths.
pub fn course_of(distance_m: u32) -> Course {
    [Course::Full, Course::Half, Course::TenK, Course::FiveK]
        .into_iter()
        .find(|course| course.metres() == distance_m)
        .unwrap_or(Course::Metres(distance_m))
}

/// The best time per distance, shortest distance first: the fastest; of equal times the
/// earlier, and on the same day an official result before a private record.
pub fn personal_bests(performances: impl IntoIterator<Item = Performance>) -> Vec<Performance> {
    let better = |a: &Performance, b: &Performance| {
        let official = |p: &Performance| !matches!(p.source, PerformanceSource::Official { .. });
        (a.seconds, a.date, official(a)) < (b.seconds, b.date, official(b))
    };
    let mut bests: Vec<Performance> = Vec::new();
    for performance in performances {
        match bests.iter_mut().find(|b| b.distance_m == performance.distance_m) {
            Some(best) if better(&performance, best) => *best = performance,
            Some(_) => {}
            None => bests.push(performance),
        }
    }
    bests.sort_by_key(|b| b.distance_m);
    bests
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn runner(n: u8) -> UserId {
        UserId::parse(&format!("01J{:0>23}", n)).unwrap()
    }

    fn row(n: u8, points: u64) -> SeasonPoints {
        SeasonPoints {
            runner_id: runner(n),
            points,
        }
    }

    #[test]
    fn a_season_is_a_four_digit_year() {
        assert_eq!(Season::parse("2026").unwrap().year(), 2026);
        assert_eq!(Season::parse(" 2026 ").unwrap().to_string(), "2026");
        for bad in ["", "26", "02026", "1899", "20x6", "-2026", "2026.0"] {
            assert_eq!(Season::parse(bad).unwrap_err().field, "season", "{bad}");
        }
        assert_eq!(Season::of(date!(2027 - 03 - 21)).year(), 2027);
        assert_eq!(Season::from_year(1899), None);
    }

    #[test]
    fn an_awards_change_moves_its_seasons_sum_by_the_difference() {
        let (y26, y27) = (Season(2026), Season(2027));
        assert_eq!(season_deltas(None, Some(y26), 110), [(y26, 110)]);
        assert_eq!(
            season_deltas(Some((Some(y26), 110)), Some(y26), 100),
            [(y26, -10)]
        );
        // a removal (0 points) takes it all back; an event without a date keeps the season
        assert_eq!(season_deltas(Some((Some(y26), 110)), None, 0), [(y26, -110)]);
        assert_eq!(season_deltas(Some((Some(y26), 110)), None, 120), [(y26, 10)]);
        // the same contribution again moves nothing; nor does a dateless first award
        assert!(season_deltas(Some((Some(y26), 110)), Some(y26), 110).is_empty());
        assert!(season_deltas(None, None, 110).is_empty());
        assert!(season_deltas(None, Some(y26), 0).is_empty());
        // a result entered again after its marathon moved to another year
        assert_eq!(
            season_deltas(Some((Some(y26), 50)), Some(y27), 70),
            [(y26, -50), (y27, 70)]
        );
        // an award from before seasons was never counted: only the new points count
        assert_eq!(season_deltas(Some((None, 50)), Some(y27), 70), [(y27, 70)]);
    }

    #[test]
    fn ties_share_a_rank_and_the_next_total_takes_its_place_across_pages() {
        let rows = vec![row(1, 300), row(2, 200), row(3, 200), row(4, 200), row(5, 100)];
        let ranks = |s: &[Standing]| s.iter().map(|s| s.rank).collect::<Vec<_>>();
        let all = rank(rows.clone(), None);
        assert_eq!(ranks(&all), [1, 2, 2, 2, 5]);
        // the same ranks when the tie is cut by a page boundary
        let first = rank(rows[..3].to_vec(), None);
        let cursor = next_cursor(&first, None).unwrap();
        assert_eq!((cursor.position, cursor.rank, cursor.points), (3, 2, 200));
        let second = rank(rows[3..].to_vec(), Some(&cursor));
        assert_eq!(ranks(&second), [2, 5]);
        assert_eq!(next_cursor(&second, Some(&cursor)).unwrap().position, 5);
        assert_eq!(next_cursor(&[], None), None);
    }

    #[test]
    fn shards_merge_into_one_order_and_say_when_more_is_left() {
        let lists = vec![
            vec![row(3, 500), row(1, 100)],
            vec![row(2, 500), row(4, 300)],
            vec![],
        ];
        let (top, more) = merge_top(lists.clone(), false, 3);
        let ids: Vec<_> = top.iter().map(|r| r.runner_id.clone()).collect();
        assert_eq!(ids, [runner(2), runner(3), runner(4)]);
        assert!(more, "a row was left behind");
        let (all, more) = merge_top(lists.clone(), false, 10);
        assert_eq!((all.len(), more), (4, false));
        assert!(merge_top(lists, true, 10).1, "a shard said it had more");
    }

    #[test]
    fn the_best_per_distance_is_the_fastest_then_the_earliest_then_official() {
        let official = |seconds, date| Performance {
            distance_m: 42_195,
            seconds,
            date,
            source: PerformanceSource::Official {
                marathon_id: MarathonId::parse("01JAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
                marathon_name: "Seoul".into(),
            },
        };
        let record = |distance_m, seconds, date| Performance {
            distance_m,
            seconds,
            date,
            source: PerformanceSource::Record {
                record_id: "r".into(),
                kind: RecordKind::Training,
            },
        };
        let bests = personal_bests([
            official(11_000, date!(2026 - 03 - 01)),
            record(42_195, 10_900, date!(2026 - 05 - 01)),
            record(10_000, 2_700, date!(2026 - 04 - 01)),
            record(10_000, 2_600, date!(2026 - 06 - 01)),
            official(10_900, date!(2026 - 05 - 01)),
            record(42_195, 10_900, date!(2026 - 04 - 30)),
        ]);
        assert_eq!(bests.len(), 2);
        assert_eq!((bests[0].course(), bests[0].seconds), (Course::TenK, 2_600));
        // 10,900 s three times: the earliest day wins, a record run the day before
        assert_eq!(bests[1].course(), Course::Full);
        assert_eq!((bests[1].seconds, bests[1].date), (10_900, date!(2026 - 04 - 30)));
        // on the same day and time, the official result
        let same_day = personal_bests([
            record(42_195, 10_900, date!(2026 - 05 - 01)),
            official(10_900, date!(2026 - 05 - 01)),
        ]);
        assert!(matches!(same_day[0].source, PerformanceSource::Official { .. }));
        assert_eq!(course_of(8_000), Course::Metres(8_000));
        assert_eq!(course_of(21_098), Course::Half);
    }
}
