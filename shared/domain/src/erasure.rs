//! Account deletion's Races side (issue 15): what becomes of a deleted runner's entries,
//! official results and private records. The Users side is one transaction in login
//! (`UserStore::delete_account`); this side runs from the `account.deleted` entry, in
//! account-erasure, and must be repeatable: a redelivered entry finds nothing left to do.

use async_trait::async_trait;
use time::{Date, Duration};

use crate::activity::ActivityEntry;
use crate::marathon::MarathonId;
use crate::ports::StoreError;
use crate::user::UserId;

/// How long the `account.deleted` entry, which carries the erased address for the
/// confirmation mail, stays in the activity log: past the stream's 24 hours and the
/// replay of a failure queue, not the log's 400 days.
pub const DELETION_ENTRY_TTL: Duration = Duration::days(3);

/// One of the runner's entries, as far as erasure needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    pub marathon_id: MarathonId,
    /// As the entry copied it (for the cancellation's activity entry).
    pub marathon_name: String,
    pub marathon_date: Date,
}

/// What the Races table holds of a runner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    pub entries: Vec<EntryRef>,
    /// The marathons with an official result of the runner.
    pub results: Vec<MarathonId>,
    /// The private records' ids.
    pub records: Vec<String>,
}

/// What becomes of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryFate {
    /// A marathon not run yet: the entry goes and its place is free again.
    Cancel,
    /// Race day or after: the entry is part of what happened (the organizer's roster, the
    /// result it allowed); it stays under the anonymous name.
    Anonymize,
}

/// An entry is cancelled only before race day (the day results may be recorded from),
/// the same line a runner's own cancellation keeps.
pub fn entry_fate(marathon_date: Date, today: Date) -> EntryFate {
    if marathon_date > today {
        EntryFate::Cancel
    } else {
        EntryFate::Anonymize
    }
}

/// The Races table as account deletion changes it. Every operation has one effect
/// however often it runs: a redelivery finds the work done.
#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// Everything the runner left in the Races table.
    async fn footprint(&self, runner: &UserId) -> Result<Footprint, StoreError>;

    /// Removes the entry and frees its place, with `activity` (`entry.cancelled`), only if
    /// it exists and has no official result (`Conflict` otherwise).
    async fn cancel_entry(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Puts the anonymous name on the entry, if it still exists.
    async fn anonymize_entry(&self, marathon: &MarathonId, runner: &UserId) -> Result<(), StoreError>;

    /// Puts the anonymous name on the official result and on a deleted result's tombstone,
    /// where they exist, without a new version: nothing about the result changed, so no
    /// result event, no points, no mail, no post.
    async fn anonymize_result(&self, marathon: &MarathonId, runner: &UserId) -> Result<(), StoreError>;

    /// Deletes a private record, if it still exists.
    async fn delete_record(&self, runner: &UserId, id: &str) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn only_entries_of_marathons_not_run_yet_are_cancelled() {
        let today = date!(2027 - 03 - 21);
        assert_eq!(entry_fate(date!(2027 - 03 - 22), today), EntryFate::Cancel);
        assert_eq!(entry_fate(today, today), EntryFate::Anonymize, "race day");
        assert_eq!(entry_fate(date!(2026 - 10 - 01), today), EntryFate::Anonymize);
    }
}
