//! The Races table in memory (`RaceStore`), with the DynamoDB adapter's rules
//! (`infra::dynamo::races`): every conditional write succeeds or fails as its transaction
//! would (`Conflict`, `Missing("entry")`), and nothing of a failed write stays, except
//! what the adapter also keeps (a bib number reserved by a refused registration is spent);
//! listings are ordered by the same sort keys and page with cursors that only their own
//! listing accepts. `race_contract` runs the same checks over both.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use crate::activity::ActivityEntry;
use crate::entry::{Entry, RosterEntry};
use crate::marathon::{Marathon, MarathonId, MarathonLabel, MarathonStatus};
use crate::paging::{MAX_LIMIT, Page, PageRequest};
use crate::ports::{MarathonFilter, RaceStore, RankedRow, StoreError};
use crate::race::{Bib, RaceProfile, ResultStatus};
use crate::record::Record;
use crate::result::OfficialResult;
use crate::user::UserId;

/// Bibs tried per registration when the organizer has taken the next ones by hand (as the
/// adapter's `BIB_ATTEMPTS`).
const BIB_ATTEMPTS: usize = 20;
/// Longer than any ranking position: not one of ours (the adapter's `MAX_POSITION_LEN`).
const MAX_POSITION_LEN: usize = 200;

/// A marathon with what its item holds beside the `Marathon` fields.
#[derive(Clone)]
struct MarathonItem {
    marathon: Marathon,
    /// The counter of bibs handed out at registration.
    bib_seq: u32,
}

#[derive(Default)]
struct State {
    marathons: HashMap<MarathonId, MarathonItem>,
    entries: HashMap<(MarathonId, UserId), Entry>,
    bibs: HashMap<(MarathonId, Bib), UserId>,
    results: HashMap<(MarathonId, UserId), OfficialResult>,
    /// The version each deleted result's removal had.
    tombstones: HashMap<(MarathonId, UserId), u64>,
    profiles: HashMap<UserId, RaceProfile>,
    records: HashMap<(UserId, String), Record>,
    activity: Vec<ActivityEntry>,
    /// Every entry's key in the activity log (its actor and id): one is written once.
    logged: HashSet<(UserId, String)>,
}

#[derive(Default)]
pub struct MemoryRaces {
    state: Mutex<State>,
}

impl MemoryRaces {
    /// Every activity entry written with a change, in order (failed changes write none).
    pub fn activity(&self) -> Vec<ActivityEntry> {
        self.lock().activity.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `YYYY-MM-DD`, as the adapter's sort keys lead with it (text order is date order).
fn iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Which part of a partition a listing reads, as the adapter's `SortCondition`.
enum Sort {
    All,
    AtLeast(String),
    Below(String),
}

impl Sort {
    fn holds(&self, key: &str) -> bool {
        match self {
            Self::All => true,
            Self::AtLeast(bound) => key >= bound.as_str(),
            Self::Below(bound) => key < bound.as_str(),
        }
    }
}

/// One listing: its partition (what its cursors must name), its part of it and its order.
struct Listing {
    partition: String,
    sort: Sort,
    forward: bool,
}

/// A cursor names its listing's partition and the sort key of the last item given.
const CURSOR_SEPARATOR: char = '\u{1f}';

impl Listing {
    fn new(partition: String, sort: Sort, forward: bool) -> Self {
        Self {
            partition,
            sort,
            forward,
        }
    }

    /// The page after `request.cursor` of `items` (each with its sort key, unique in the
    /// partition): `InvalidCursor` for a cursor of another listing, and a next cursor only
    /// when an item follows (the adapter reads one more than asked).
    fn page<T>(&self, items: Vec<(String, T)>, request: &PageRequest) -> Result<Page<T>, StoreError> {
        let after = match request.cursor.as_deref() {
            None => None,
            Some(cursor) => {
                let (partition, key) = cursor
                    .split_once(CURSOR_SEPARATOR)
                    .ok_or(StoreError::InvalidCursor)?;
                if partition != self.partition || key.is_empty() || !self.sort.holds(key) {
                    return Err(StoreError::InvalidCursor);
                }
                Some(key.to_owned())
            }
        };
        let mut items: Vec<(String, T)> = items
            .into_iter()
            .filter(|(key, _)| self.sort.holds(key))
            .filter(|(key, _)| match &after {
                None => true,
                Some(after) if self.forward => key > after,
                Some(after) => key < after,
            })
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        if !self.forward {
            items.reverse();
        }
        let limit = request.limit.clamp(1, MAX_LIMIT) as usize;
        let next_cursor = (items.len() > limit)
            .then(|| format!("{}{CURSOR_SEPARATOR}{}", self.partition, items[limit - 1].0));
        items.truncate(limit);
        Ok(Page {
            items: items.into_iter().map(|(_, item)| item).collect(),
            next_cursor,
        })
    }
}

impl State {
    /// The marathon's current name and date on each item (marathons are never deleted).
    fn relabel<T: MarathonLabel>(&self, items: &mut [T]) {
        for item in items {
            if let Some(m) = self.marathons.get(item.marathon_id()) {
                item.relabel(&m.marathon.name, m.marathon.date);
            }
        }
    }

    /// `Conflict` if the change's activity entry is in the log already: the adapter
    /// writes each entry on the condition that it is not, in the change's transaction.
    fn unlogged(&self, activity: &ActivityEntry) -> Result<(), StoreError> {
        if self
            .logged
            .contains(&(activity.actor.clone(), activity.id.clone()))
        {
            Err(StoreError::Conflict)
        } else {
            Ok(())
        }
    }

    fn log(&mut self, activity: &ActivityEntry) {
        self.logged.insert((activity.actor.clone(), activity.id.clone()));
        self.activity.push(activity.clone());
    }
}

/// Whether the marathon's points still are those `result` was priced with (the adapter's
/// condition on a new result's count): a finish by its points, a dnf by its dnf points,
/// the others by none; and its date the one the result was checked against.
fn priced_alike(marathon: &Marathon, result: &OfficialResult) -> bool {
    let price = match result.status {
        ResultStatus::Finished => marathon.points == result.points.saturating_sub(result.bonus_points),
        ResultStatus::Dnf => marathon.dnf_points == result.points,
        ResultStatus::Dns | ResultStatus::Dq => true,
    };
    price && marathon.date == result.marathon_date
}

#[async_trait]
impl RaceStore for MemoryRaces {
    async fn create_marathon(&self, marathon: &Marathon, activity: &ActivityEntry) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.marathons.contains_key(&marathon.id) {
            return Err(StoreError::Conflict);
        }
        state.unlogged(activity)?;
        state.marathons.insert(
            marathon.id.clone(),
            MarathonItem {
                marathon: marathon.clone(),
                bib_seq: 0,
            },
        );
        state.log(activity);
        Ok(())
    }

    async fn marathon(&self, id: &MarathonId) -> Result<Option<Marathon>, StoreError> {
        Ok(self.lock().marathons.get(id).map(|m| m.marathon.clone()))
    }

    async fn list_marathons(
        &self,
        filter: &MarathonFilter,
        page: &PageRequest,
    ) -> Result<Page<Marathon>, StoreError> {
        let state = self.lock();
        let listing = match filter {
            MarathonFilter::Upcoming { today } => {
                Listing::new("MARATHON".into(), Sort::AtLeast(iso(*today)), true)
            }
            MarathonFilter::Past { today } => {
                Listing::new("MARATHON".into(), Sort::Below(iso(*today)), false)
            }
            MarathonFilter::ByOrganizer(organizer) => {
                Listing::new(format!("ORGANIZER#{organizer}"), Sort::All, true)
            }
        };
        let items = state
            .marathons
            .values()
            .map(|m| &m.marathon)
            .filter(|m| match filter {
                MarathonFilter::ByOrganizer(organizer) => &m.organizer_id == organizer,
                _ => true,
            })
            .map(|m| (format!("{}#{}", iso(m.date), m.id), m.clone()))
            .collect();
        listing.page(items, page)
    }

    async fn update_marathon(
        &self,
        marathon: &Marathon,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.unlogged(activity)?;
        let stored = &mut state
            .marathons
            .get_mut(&marathon.id)
            .ok_or(StoreError::Conflict)?
            .marathon;
        // the version read; no lower capacity than the entries counted since; and points,
        // dnf points and date fixed once a result is counted
        let fixed_alike = stored.points == marathon.points
            && stored.dnf_points == marathon.dnf_points
            && stored.date == marathon.date;
        if stored.version != expected_version
            || stored.entry_count > marathon.capacity
            || !(fixed_alike || stored.result_count == 0)
        {
            return Err(StoreError::Conflict);
        }
        // an edit never overwrites who owns it, when it was made, or the counts
        *stored = Marathon {
            id: stored.id.clone(),
            organizer_id: stored.organizer_id.clone(),
            created_at: stored.created_at,
            entry_count: stored.entry_count,
            result_count: stored.result_count,
            ..marathon.clone()
        };
        state.log(activity);
        Ok(())
    }

    async fn register(
        &self,
        entry: &Entry,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<Option<Bib>, StoreError> {
        let mut state = self.lock();
        let key = (entry.marathon_id.clone(), entry.runner_id.clone());
        for _ in 0..BIB_ATTEMPTS {
            // the number is reserved on its own: a registration refused after it leaves a gap
            let item = state
                .marathons
                .get_mut(&entry.marathon_id)
                .ok_or(StoreError::Conflict)?;
            item.bib_seq += 1;
            let bib = Bib::new(item.bib_seq);
            let m = &item.marathon;
            // the adapter compares whole seconds
            let open = m.status == MarathonStatus::Open
                && m.entry_count < m.capacity
                && m.registration_closes_at.unix_timestamp() > now.unix_timestamp();
            let registered = state.entries.contains_key(&key);
            let bib_taken = bib.is_some_and(|b| state.bibs.contains_key(&(entry.marathon_id.clone(), b)));
            if !open || registered {
                return Err(StoreError::Conflict);
            }
            state.unlogged(activity)?;
            if bib_taken {
                // the organizer gave that number to someone by hand: take the next
                continue;
            }
            if let Some(item) = state.marathons.get_mut(&entry.marathon_id) {
                item.marathon.entry_count += 1;
            }
            if let Some(bib) = bib {
                state
                    .bibs
                    .insert((entry.marathon_id.clone(), bib), entry.runner_id.clone());
            }
            state.entries.insert(key, Entry { bib, ..entry.clone() });
            state.log(activity);
            return Ok(bib);
        }
        Err(StoreError::Conflict)
    }

    async fn set_bib(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        bib: Bib,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = (marathon.clone(), runner.clone());
        let old = state.entries.get(&key).ok_or(StoreError::Missing("entry"))?.bib;
        if old == Some(bib) {
            return Ok(());
        }
        if state.bibs.contains_key(&(marathon.clone(), bib)) {
            return Err(StoreError::Conflict);
        }
        state.unlogged(activity)?;
        if let Some(old) = old {
            if state.bibs.get(&(marathon.clone(), old)) != Some(runner) {
                return Err(StoreError::Conflict);
            }
            state.bibs.remove(&(marathon.clone(), old));
        }
        state.bibs.insert((marathon.clone(), bib), runner.clone());
        if let Some(entry) = state.entries.get_mut(&key) {
            entry.bib = Some(bib);
        }
        // a result shows its runner's bib, at the same version
        if let Some(result) = state.results.get_mut(&key) {
            result.bib = Some(bib);
        }
        state.log(activity);
        Ok(())
    }

    async fn bib_holder(&self, marathon: &MarathonId, bib: Bib) -> Result<Option<UserId>, StoreError> {
        Ok(self.lock().bibs.get(&(marathon.clone(), bib)).cloned())
    }

    async fn marathon_roster(&self, marathon: &MarathonId) -> Result<Vec<RosterEntry>, StoreError> {
        let state = self.lock();
        let mut roster: Vec<RosterEntry> = state
            .entries
            .values()
            .filter(|e| &e.marathon_id == marathon)
            .filter_map(|e| {
                Some(RosterEntry {
                    bib: e.bib?,
                    runner_id: e.runner_id.clone(),
                    runner_name: e.runner_name.clone(),
                })
            })
            .collect();
        roster.sort_by_key(|r| r.bib);
        Ok(roster)
    }

    async fn cancel_entry(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = (marathon.clone(), runner.clone());
        let Some(entry) = state.entries.get(&key) else {
            return Err(StoreError::Conflict);
        };
        let bib = entry.bib;
        // a runner with an official result keeps the entry (a result needs its entry)
        let counted = state
            .marathons
            .get(marathon)
            .is_some_and(|m| m.marathon.entry_count > 0);
        if state.results.contains_key(&key) || !counted {
            return Err(StoreError::Conflict);
        }
        if let Some(bib) = bib
            && state.bibs.get(&(marathon.clone(), bib)) != Some(runner)
        {
            return Err(StoreError::Conflict);
        }
        state.unlogged(activity)?;
        state.entries.remove(&key);
        if let Some(bib) = bib {
            state.bibs.remove(&(marathon.clone(), bib));
        }
        if let Some(item) = state.marathons.get_mut(marathon) {
            item.marathon.entry_count -= 1;
        }
        state.log(activity);
        Ok(())
    }

    async fn entry(&self, marathon: &MarathonId, runner: &UserId) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .lock()
            .entries
            .get(&(marathon.clone(), runner.clone()))
            .cloned())
    }

    async fn marathon_entries(
        &self,
        marathon: &MarathonId,
        page: &PageRequest,
    ) -> Result<Page<Entry>, StoreError> {
        let state = self.lock();
        let items = state
            .entries
            .values()
            .filter(|e| &e.marathon_id == marathon)
            .map(|e| (format!("ENTRY#{}", e.runner_id), e.clone()))
            .collect();
        Listing::new(format!("MARATHON#{marathon}"), Sort::All, true).page(items, page)
    }

    async fn runner_entries(&self, runner: &UserId, page: &PageRequest) -> Result<Page<Entry>, StoreError> {
        let state = self.lock();
        let items = state
            .entries
            .values()
            .filter(|e| &e.runner_id == runner)
            .map(|e| {
                (
                    format!("ENTRY#{}#{}", iso(e.marathon_date), e.marathon_id),
                    e.clone(),
                )
            })
            .collect();
        let mut entries =
            Listing::new(format!("RUNNER#{runner}#ENTRY"), Sort::All, false).page(items, page)?;
        state.relabel(&mut entries.items);
        Ok(entries)
    }

    async fn result(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
    ) -> Result<Option<OfficialResult>, StoreError> {
        Ok(self
            .lock()
            .results
            .get(&(marathon.clone(), runner.clone()))
            .cloned())
    }

    async fn put_result(
        &self,
        result: &OfficialResult,
        expected_version: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = (result.marathon_id.clone(), result.runner_id.clone());
        if !state.entries.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        state.unlogged(activity)?;
        let stored = state.results.get(&key).map(|r| r.version);
        match expected_version {
            None => {
                let marathon = state
                    .marathons
                    .get(&result.marathon_id)
                    .ok_or(StoreError::Conflict)?;
                let newer = state
                    .tombstones
                    .get(&key)
                    .is_none_or(|removed| *removed < result.version);
                if stored.is_some() || !priced_alike(&marathon.marathon, result) || !newer {
                    return Err(StoreError::Conflict);
                }
                if let Some(item) = state.marathons.get_mut(&result.marathon_id) {
                    item.marathon.result_count += 1;
                }
            }
            // points cannot have changed: this result's count has fixed them
            Some(expected) if stored == Some(expected) => {}
            Some(_) => return Err(StoreError::Conflict),
        }
        state.results.insert(key, result.clone());
        state.log(activity);
        Ok(())
    }

    async fn removed_version(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self
            .lock()
            .tombstones
            .get(&(marathon.clone(), runner.clone()))
            .copied())
    }

    async fn delete_result(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = (marathon.clone(), runner.clone());
        // the removal's version, as the points pipeline numbers it
        let removed = expected_version + 1;
        let at_version = state
            .results
            .get(&key)
            .is_some_and(|r| r.version == expected_version);
        let newer = state.tombstones.get(&key).is_none_or(|v| *v < removed);
        if !at_version || !newer || !state.marathons.contains_key(marathon) {
            return Err(StoreError::Conflict);
        }
        state.unlogged(activity)?;
        state.results.remove(&key);
        if let Some(item) = state.marathons.get_mut(marathon) {
            item.marathon.result_count = item.marathon.result_count.saturating_sub(1);
        }
        state.tombstones.insert(key, removed);
        state.log(activity);
        Ok(())
    }

    async fn marathon_results(
        &self,
        marathon: &MarathonId,
        page: &PageRequest,
    ) -> Result<Page<OfficialResult>, StoreError> {
        let state = self.lock();
        let items = state
            .results
            .values()
            .filter(|r| &r.marathon_id == marathon)
            .map(|r| (r.rank_position(), r.clone()))
            .collect();
        Listing::new(format!("RANK#{marathon}"), Sort::All, true).page(items, page)
    }

    async fn ranking(
        &self,
        marathon: &MarathonId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<RankedRow>, StoreError> {
        if after.is_some_and(|a| a.is_empty() || a.len() > MAX_POSITION_LEN) {
            return Err(StoreError::InvalidCursor);
        }
        let state = self.lock();
        let mut rows: Vec<RankedRow> = state
            .results
            .values()
            .filter(|r| &r.marathon_id == marathon)
            .map(|r| RankedRow {
                position: r.rank_position(),
                result: r.clone(),
            })
            .filter(|row| after.is_none_or(|after| row.position.as_str() > after))
            .collect();
        rows.sort_by(|a, b| a.position.cmp(&b.position));
        let limit = limit.clamp(1, 1000) as usize;
        // a query that stops at its limit reports where it stopped, even when nothing
        // follows (DynamoDB's LastEvaluatedKey)
        let full = rows.len() >= limit;
        rows.truncate(limit);
        Ok(Page {
            next_cursor: full.then(|| rows.last().map(|r| r.position.clone())).flatten(),
            items: rows,
        })
    }

    async fn race_profile(&self, runner: &UserId) -> Result<RaceProfile, StoreError> {
        Ok(self.lock().profiles.get(runner).copied().unwrap_or_default())
    }

    async fn set_race_profile(
        &self,
        runner: &UserId,
        profile: &RaceProfile,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.unlogged(activity)?;
        if *profile == RaceProfile::default() {
            // nothing left to keep
            state.profiles.remove(runner);
        } else {
            state.profiles.insert(runner.clone(), *profile);
        }
        state.log(activity);
        Ok(())
    }

    async fn race_profiles(&self, runners: &[UserId]) -> Result<Vec<(UserId, RaceProfile)>, StoreError> {
        let state = self.lock();
        let mut ids: Vec<&UserId> = runners.iter().collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids
            .into_iter()
            .filter_map(|id| state.profiles.get(id).map(|p| (id.clone(), *p)))
            .collect())
    }

    async fn runner_results(
        &self,
        runner: &UserId,
        page: &PageRequest,
    ) -> Result<Page<OfficialResult>, StoreError> {
        let state = self.lock();
        let items = state
            .results
            .values()
            .filter(|r| &r.runner_id == runner)
            .map(|r| {
                (
                    format!("RESULT#{}#{}", iso(r.marathon_date), r.marathon_id),
                    r.clone(),
                )
            })
            .collect();
        let mut results =
            Listing::new(format!("RUNNER#{runner}#RESULT"), Sort::All, false).page(items, page)?;
        state.relabel(&mut results.items);
        Ok(results)
    }

    async fn create_record(&self, record: &Record, activity: &ActivityEntry) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = (record.runner_id.clone(), record.id.clone());
        if state.records.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        state.unlogged(activity)?;
        state.records.insert(key, record.clone());
        state.log(activity);
        Ok(())
    }

    async fn record(&self, runner: &UserId, id: &str) -> Result<Option<Record>, StoreError> {
        Ok(self.lock().records.get(&(runner.clone(), id.to_owned())).cloned())
    }

    async fn runner_records(&self, runner: &UserId, page: &PageRequest) -> Result<Page<Record>, StoreError> {
        let state = self.lock();
        // record ids are ULIDs: descending key order is newest first
        let items = state
            .records
            .values()
            .filter(|r| &r.runner_id == runner)
            .map(|r| (format!("RECORD#{}", r.id), r.clone()))
            .collect();
        Listing::new(format!("RUNNER#{runner}#RECORD"), Sort::All, false).page(items, page)
    }

    async fn update_record(&self, record: &Record, activity: &ActivityEntry) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.unlogged(activity)?;
        let stored = state
            .records
            .get_mut(&(record.runner_id.clone(), record.id.clone()))
            .ok_or(StoreError::Conflict)?;
        *stored = record.clone();
        state.log(activity);
        Ok(())
    }

    async fn delete_record(
        &self,
        runner: &UserId,
        id: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.unlogged(activity)?;
        state
            .records
            .remove(&(runner.clone(), id.to_owned()))
            .ok_or(StoreError::Conflict)?;
        state.log(activity);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::ActivityKind;
    use crate::memory::race_contract::{self as contract, act, marathon, pages};
    use time::macros::date;

    macro_rules! contract_tests {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $name() {
                    contract::$name(&MemoryRaces::default()).await;
                }
            )*
        };
    }

    contract_tests!(
        marathons_are_edited_at_their_version_and_keep_their_counts,
        registration_is_counted_once_and_refused_when_it_may_not_be,
        bibs_are_unique_movable_and_follow_onto_the_result,
        cancelling_uncounts_and_is_refused_with_a_result,
        results_are_conditional_on_entry_price_version_and_tombstone,
        the_ranking_orders_finishers_then_the_unranked_and_resumes,
        listings_page_in_order_and_refuse_other_listings_cursors,
        records_are_conditional_and_newest_first,
        race_profiles_are_kept_per_runner,
    );

    #[tokio::test]
    async fn marathons_list_upcoming_soonest_first_and_past_latest_first() {
        let store = MemoryRaces::default();
        let organizer = UserId::generate();
        let dates = [
            date!(2026 - 05 - 31),
            date!(2026 - 06 - 01),
            date!(2026 - 03 - 01),
            date!(2026 - 09 - 20),
        ];
        for date in dates {
            let m = marathon(&organizer, date, 10);
            store
                .create_marathon(&m, &act(&organizer, ActivityKind::MarathonCreated))
                .await
                .unwrap();
        }
        let today = date!(2026 - 06 - 01);
        let listed = async |filter: MarathonFilter| -> Vec<Date> {
            pages(1, async |page| store.list_marathons(&filter, &page).await)
                .await
                .concat()
                .into_iter()
                .map(|m| m.date)
                .collect()
        };
        assert_eq!(
            listed(MarathonFilter::Upcoming { today }).await,
            [dates[1], dates[3]],
            "today counts as upcoming"
        );
        assert_eq!(listed(MarathonFilter::Past { today }).await, [dates[0], dates[2]]);
        // a past listing's cursor lies outside the upcoming one
        let past = store
            .list_marathons(&MarathonFilter::Past { today }, &PageRequest::first(1))
            .await
            .unwrap();
        let cursor = PageRequest {
            limit: 1,
            cursor: past.next_cursor,
        };
        assert!(matches!(
            store
                .list_marathons(&MarathonFilter::Upcoming { today }, &cursor)
                .await,
            Err(StoreError::InvalidCursor)
        ));
    }

    #[tokio::test]
    async fn changes_are_logged_and_refused_ones_are_not() {
        let store = MemoryRaces::default();
        let organizer = UserId::generate();
        let m = marathon(&organizer, date!(2026 - 10 - 04), 1);
        let runner = UserId::generate();
        store
            .create_marathon(&m, &act(&organizer, ActivityKind::MarathonCreated))
            .await
            .unwrap();
        let register = async || {
            store
                .register(
                    &contract::entry(&m, &runner),
                    contract::NOW,
                    &act(&runner, ActivityKind::EntryRegistered),
                )
                .await
        };
        register().await.unwrap();
        assert!(register().await.is_err());
        let kinds: Vec<ActivityKind> = store.activity().into_iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [ActivityKind::MarathonCreated, ActivityKind::EntryRegistered]
        );
    }

    #[tokio::test]
    async fn registration_gives_no_bib_once_the_numbers_run_out_and_skips_twenty_taken_at_most() {
        let store = MemoryRaces::default();
        let organizer = UserId::generate();
        let m = marathon(&organizer, date!(2026 - 10 - 04), 100);
        store
            .create_marathon(&m, &act(&organizer, ActivityKind::MarathonCreated))
            .await
            .unwrap();
        let register = async |runner: &UserId| {
            store
                .register(
                    &contract::entry(&m, runner),
                    contract::NOW,
                    &act(runner, ActivityKind::EntryRegistered),
                )
                .await
        };
        // the next twenty numbers given by hand: the registration gives up
        let holder = UserId::generate();
        register(&holder).await.unwrap();
        {
            let mut state = store.lock();
            for n in 2..=21 {
                state
                    .bibs
                    .insert((m.id.clone(), Bib::new(n).unwrap()), holder.clone());
            }
        }
        assert!(matches!(
            register(&UserId::generate()).await,
            Err(StoreError::Conflict)
        ));
        store.lock().marathons.get_mut(&m.id).unwrap().bib_seq = Bib::MAX;
        assert_eq!(
            register(&UserId::generate()).await.unwrap(),
            None,
            "past Bib::MAX"
        );
    }
}
