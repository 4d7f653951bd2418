//! The points ledger, a runner's points and the season leaderboard in memory, over one
//! state, as the DynamoDB adapters (`DynamoLedger` writing, `DynamoUsers` reading) share
//! the Users table: an award applied through the ledger shows in the total, the awards
//! and its season's leaderboard at once. `points_contract` holds the checks both pass.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::events::ResultChange;
use crate::leaderboard::{
    RankCursor, Season, SeasonPoints, Standing, leaderboard_order, next_cursor, rank, season_deltas,
};
use crate::paging::{Page, PageRequest};
use crate::points::{Award, AwardChange, award_change};
use crate::ports::{LeaderboardStore, LedgerOutcome, PointsLedger, PointsStore, StoreError};
use crate::user::{PublicProfile, Role, UserId, UserName};

/// One award as the ledger keeps it, with the season whose sum counts it (None for an
/// award whose event gave no date: no season counts it).
#[derive(Debug, Clone, PartialEq)]
struct LedgerAward {
    award: Award,
    season: Option<Season>,
}

#[derive(Default)]
struct LedgerState {
    /// Runners that exist, as the profile reads (the ledger writes only their totals).
    profiles: HashMap<UserId, PublicProfile>,
    totals: HashMap<UserId, i64>,
    awards: HashMap<(UserId, String), LedgerAward>,
    /// Applied changes not yet announced, by runner, result and version, with their delta:
    /// kept per version, so a newer version cannot erase an older one's announcement.
    pending: HashMap<(UserId, String, u64), i64>,
    /// Each runner's sum per season: the leaderboard's rows (those above zero).
    seasons: HashMap<(UserId, Season), u64>,
}

/// The points ledger in memory, with the DynamoDB adapters' rules: an award moves only
/// forward in version, the total and the season sums by the difference; every applied
/// change that moved the total is pending until `mark_notified`, and a redelivery of that
/// version (even one a newer version overtook) reports it; a runner that does not exist
/// is `Missing`. It is also the `PointsStore` and `LeaderboardStore` that read them.
#[derive(Default)]
pub struct MemoryLedger {
    state: Mutex<LedgerState>,
}

impl MemoryLedger {
    /// A runner the ledger knows, with no points yet (named "Kim Runner").
    pub fn add_runner(&self, runner: &UserId) {
        self.add_profile(&PublicProfile {
            id: runner.clone(),
            name: UserName::parse("Kim Runner").expect("a valid name"),
            user_type: Role::Runner,
            deleted: false,
        });
    }

    /// A user as their profile reads (a runner, an organizer, a deleted account), with
    /// no points yet; a known one keeps its points and takes the new profile.
    pub fn add_profile(&self, profile: &PublicProfile) {
        let mut state = self.lock();
        state.totals.entry(profile.id.clone()).or_insert(0);
        state.profiles.insert(profile.id.clone(), profile.clone());
    }

    pub fn total(&self, runner: &UserId) -> Option<i64> {
        self.lock().totals.get(runner).copied()
    }

    /// The runner's sum in `season` (0 when it has none).
    pub fn season_points(&self, runner: &UserId, season: Season) -> u64 {
        self.lock()
            .seasons
            .get(&(runner.clone(), season))
            .copied()
            .unwrap_or(0)
    }

    /// Whether the award of `result_id`, at its current version, is announced, or None if
    /// there is none.
    pub fn notified(&self, runner: &UserId, result_id: &str) -> Option<bool> {
        let state = self.lock();
        let award = state.awards.get(&(runner.clone(), result_id.to_owned()))?;
        Some(
            !state
                .pending
                .contains_key(&(runner.clone(), result_id.to_owned(), award.award.version)),
        )
    }

    /// The versions of `result_id` applied but not yet announced, oldest first.
    pub fn pending(&self, runner: &UserId, result_id: &str) -> Vec<u64> {
        let mut versions: Vec<u64> = self
            .lock()
            .pending
            .keys()
            .filter(|(r, id, _)| r == runner && id == result_id)
            .map(|(_, _, version)| *version)
            .collect();
        versions.sort_unstable();
        versions
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LedgerState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl PointsLedger for MemoryLedger {
    async fn apply(&self, change: &ResultChange, now: OffsetDateTime) -> Result<LedgerOutcome, StoreError> {
        let mut state = self.lock();
        let Some(&total) = state.totals.get(&change.runner_id) else {
            return Err(StoreError::Missing("runner"));
        };
        let key = (change.runner_id.clone(), change.result_id.clone());
        let stored = state.awards.get(&key).cloned();
        let apply = match &stored {
            Some(stored) if stored.award.version == change.version => None,
            _ => match award_change(
                stored.as_ref().map(|s| (s.award.points, s.award.version)),
                change.points,
                change.version,
            ) {
                AwardChange::Stale => None,
                AwardChange::Apply { delta } => Some(delta),
            },
        };
        let Some(delta) = apply else {
            // applied before (this version, or overtaken by a newer one): only its
            // announcement can still be owed
            let pending = (key.0, key.1, change.version);
            return Ok(match state.pending.get(&pending) {
                Some(&delta) => LedgerOutcome::Unnotified { delta, total },
                None => LedgerOutcome::Unchanged,
            });
        };
        let season = change.marathon_date.map(Season::of);
        let stored_season = stored.as_ref().and_then(|s| s.season);
        for (moved, by) in season_deltas(
            stored.as_ref().map(|s| (s.season, s.award.points)),
            season,
            change.points,
        ) {
            let sum = state
                .seasons
                .entry((change.runner_id.clone(), moved))
                .or_default();
            // as the adapter: a sum never goes below zero
            *sum = sum.checked_add_signed(by).unwrap_or(0);
        }
        state.awards.insert(
            key.clone(),
            LedgerAward {
                award: Award {
                    result_id: change.result_id.clone(),
                    marathon_id: change.marathon_id.clone(),
                    points: change.points,
                    version: change.version,
                    updated_at: now,
                },
                season: season.or(stored_season),
            },
        );
        // nothing to announce when the total did not move
        if delta != 0 {
            state.pending.insert((key.0, key.1, change.version), delta);
        }
        let total = total + delta;
        state.totals.insert(change.runner_id.clone(), total);
        Ok(LedgerOutcome::Applied { delta, total })
    }

    async fn mark_notified(&self, runner: &UserId, result_id: &str, version: u64) -> Result<(), StoreError> {
        self.lock()
            .pending
            .remove(&(runner.clone(), result_id.to_owned(), version));
        Ok(())
    }
}

#[async_trait]
impl PointsStore for MemoryLedger {
    async fn total(&self, runner: &UserId) -> Result<Option<(PublicProfile, i64)>, StoreError> {
        let state = self.lock();
        Ok(state.profiles.get(runner).map(|profile| {
            let total = state.totals.get(runner).copied().unwrap_or(0);
            (profile.clone(), total)
        }))
    }

    /// In the adapter's order: by result id (its sort key).
    async fn awards(&self, runner: &UserId) -> Result<Vec<Award>, StoreError> {
        let state = self.lock();
        let mut awards: Vec<Award> = state
            .awards
            .iter()
            .filter(|((owner, _), _)| owner == runner)
            .map(|(_, stored)| stored.award.clone())
            .collect();
        awards.sort_by(|a, b| a.result_id.cmp(&b.result_id));
        Ok(awards)
    }
}

/// Cursors are short; anything much longer is not ours.
const MAX_CURSOR_LEN: usize = 512;

/// `season.points.position.rank.runner`: readable, as a fake's may be; checked as the
/// adapter checks its own.
fn encode_cursor(season: Season, at: &RankCursor) -> String {
    format!(
        "{season}.{}.{}.{}.{}",
        at.points, at.position, at.rank, at.runner_id
    )
}

fn decode_cursor(season: Season, cursor: &str) -> Result<RankCursor, StoreError> {
    let parse = || -> Option<RankCursor> {
        if cursor.len() > MAX_CURSOR_LEN {
            return None;
        }
        let mut parts = cursor.splitn(5, '.');
        let of = Season::parse(parts.next()?).ok()?;
        let points = parts.next()?.parse().ok()?;
        let position = parts.next()?.parse().ok()?;
        let rank = parts.next()?.parse().ok()?;
        let raw = parts.next()?;
        let runner_id = UserId::parse(raw).filter(|id| id.as_str() == raw)?;
        let at = RankCursor {
            points,
            runner_id,
            position,
            rank,
        };
        (of == season && (1..=at.position).contains(&at.rank) && at.points > 0).then_some(at)
    };
    parse().ok_or(StoreError::InvalidCursor)
}

#[async_trait]
impl LeaderboardStore for MemoryLedger {
    async fn leaderboard(&self, season: Season, page: &PageRequest) -> Result<Page<Standing>, StoreError> {
        let after = page
            .cursor
            .as_deref()
            .map(|c| decode_cursor(season, c))
            .transpose()?;
        let state = self.lock();
        let mut rows: Vec<SeasonPoints> = state
            .seasons
            .iter()
            .filter(|((_, of), points)| *of == season && **points > 0)
            .map(|((runner, _), points)| SeasonPoints {
                runner_id: runner.clone(),
                points: *points,
            })
            .collect();
        rows.sort_by(leaderboard_order);
        if let Some(at) = &after {
            let at = SeasonPoints {
                runner_id: at.runner_id.clone(),
                points: at.points,
            };
            rows.retain(|row| leaderboard_order(row, &at) == Ordering::Greater);
        }
        let limit = page.limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let mut standings = rank(rows, after.as_ref());
        for standing in &mut standings {
            standing.runner_name = state.profiles.get(&standing.runner_id).map(|p| p.name.clone());
        }
        let next = match next_cursor(&standings, after.as_ref()) {
            Some(cursor) if more => Some(encode_cursor(season, &cursor)),
            _ => None,
        };
        Ok(Page {
            items: standings,
            next_cursor: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::points_contract::{self as contract, PointsWorld};

    #[async_trait]
    impl PointsWorld for MemoryLedger {
        fn ledger(&self) -> &dyn PointsLedger {
            self
        }
        fn points(&self) -> &dyn PointsStore {
            self
        }
        fn board(&self) -> &dyn LeaderboardStore {
            self
        }
        async fn user(&self, name: &str, role: Role) -> UserId {
            let id = UserId::generate();
            self.add_profile(&PublicProfile {
                id: id.clone(),
                name: UserName::parse(name).unwrap(),
                user_type: role,
                deleted: false,
            });
            id
        }
    }

    macro_rules! contract_tests {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $name() {
                    contract::$name(&MemoryLedger::default()).await;
                }
            )*
        };
    }

    contract_tests!(
        a_total_starts_at_zero_and_moves_with_each_award,
        awards_are_the_runners_own_at_their_latest_version,
        the_season_board_ranks_ties_together_across_pages,
        the_board_counts_each_award_in_its_season_and_drops_zeros,
        only_this_seasons_own_cursors_are_accepted,
    );

    #[test]
    fn the_fakes_cursor_reads_back_and_refuses_what_it_did_not_issue() {
        let season = Season::parse("2026").unwrap();
        let at = RankCursor {
            points: 200,
            runner_id: UserId::generate(),
            position: 3,
            rank: 2,
        };
        assert_eq!(decode_cursor(season, &encode_cursor(season, &at)).unwrap(), at);
        let bad_rank = RankCursor {
            rank: 4,
            ..at.clone()
        };
        assert!(decode_cursor(season, &encode_cursor(season, &bad_rank)).is_err());
        let zero = RankCursor { points: 0, ..at };
        assert!(decode_cursor(season, &encode_cursor(season, &zero)).is_err());
        assert!(decode_cursor(season, &"A".repeat(600)).is_err());
    }
}
