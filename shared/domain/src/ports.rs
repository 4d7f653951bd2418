//! Ports: what the functions need from storage, as traits. Adapters live in infra
//! (DynamoDB) and in `memory` (for use-case and handler tests).

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::activity::ActivityEntry;
use crate::entry::{Entry, RosterEntry};
use crate::events::{Envelope, ResultChange, TopicEvent};
use crate::lockout::{AttemptState, Reservation};
use crate::marathon::{Marathon, MarathonId};
use crate::paging::{Page, PageRequest};
use crate::points::Award;
use crate::race::{Bib, RaceProfile};
use crate::record::Record;
use crate::refresh::RefreshFamily;
use crate::reset::PasswordReset;
use crate::result::OfficialResult;
use crate::source_throttle::{SourceCounts, SourceKey, SourceReservation, Window};
use crate::user::{Email, PublicProfile, User, UserId};
use time::Date;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("email already registered")]
    EmailTaken,
    /// A condition on the stored state no longer held (someone else changed it first).
    #[error("conflicting concurrent change")]
    Conflict,
    /// Throttling, timeouts, service errors: worth retrying.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A paging cursor we did not issue (or that belongs to another query).
    #[error("invalid cursor")]
    InvalidCursor,
    /// Something the change refers to does not exist (a runner, a marathon).
    #[error("missing {0}")]
    Missing(&'static str),
    /// Data we cannot read back: a bug or a corrupted item.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// A user with what login needs to decide.
#[derive(Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub attempts: AttemptState,
    /// Moves on when every session of the account ends (`RefreshFamily::generation`).
    pub session_generation: u64,
    /// Whether the owner proved the address (accounts from before verification count
    /// as verified).
    pub email_verified: bool,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password_hash", &REDACTED)
            .field("attempts", &self.attempts)
            .field("session_generation", &self.session_generation)
            .field("email_verified", &self.email_verified)
            .finish()
    }
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the profile and claims the email in one transaction.
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    async fn credentials(&self, email: &Email) -> Result<Option<Credentials>, StoreError>;

    /// The same, by id (for an authenticated caller, and for refresh).
    async fn credentials_by_id(&self, id: &UserId) -> Result<Option<Credentials>, StoreError>;

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    /// Records an attempt before its password is verified, only if the failure count is
    /// still `reservation.expected_failures` and no delay or lock applies at `now`;
    /// `Conflict` otherwise (the attempt is refused unverified).
    async fn reserve_attempt(
        &self,
        id: &UserId,
        reservation: &Reservation,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// The reserved attempt failed and locks the account until `until`: sets the lock and
    /// writes `lock_entry`, only if the count is still `failures` (a success in between
    /// cleared it: no lock). Whether it locked.
    async fn record_lock(
        &self,
        id: &UserId,
        failures: u32,
        until: OffsetDateTime,
        lock_entry: &ActivityEntry,
    ) -> Result<bool, StoreError>;

    /// Clears the failures, starts a refresh family and logs the login, together, only if
    /// the account is not locked at `now` and its session generation is still the
    /// family's; `Conflict` otherwise.
    async fn record_login(
        &self,
        family: &RefreshFamily,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Sets a new password hash, clears the failures and moves the session generation on
    /// (every refresh family ends), with `activity`; only if the generation is still
    /// `generation` (`Conflict` otherwise).
    async fn change_password(
        &self,
        id: &UserId,
        password_hash: &str,
        generation: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Moves the session generation on (every refresh family ends), with `activity`.
    async fn end_sessions(&self, id: &UserId, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Stores `reset` in place of any earlier one, with `activity` (which carries the token
    /// to the mailer and is kept only until `reset.expires_at`), unless the last one was
    /// asked for after `not_since`. Whether it was stored (false: too soon, nothing done).
    async fn request_password_reset(
        &self,
        reset: &PasswordReset,
        not_since: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<bool, StoreError>;

    async fn password_reset(&self, id: &UserId) -> Result<Option<PasswordReset>, StoreError>;

    /// As `request_password_reset`, for the address verification token (its own item).
    async fn request_email_verification(
        &self,
        pending: &PasswordReset,
        not_since: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<bool, StoreError>;

    async fn email_verification(&self, id: &UserId) -> Result<Option<PasswordReset>, StoreError>;

    /// Marks the verification used and the address verified, with `activity`; only if the
    /// stored one is unused, has `token_hash` and has not expired at `now` (`Conflict`).
    async fn complete_email_verification(
        &self,
        id: &UserId,
        token_hash: &str,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Marks the reset used and sets the new password, clearing failures and locks and
    /// ending every session, with `activity`; only if the stored reset is still unused, has
    /// `token_hash` and has not expired at `now` (`Conflict` otherwise: single use).
    async fn complete_password_reset(
        &self,
        id: &UserId,
        token_hash: &str,
        password_hash: &str,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Deletes the account (docs/DESIGN.md, Account deletion), with `activity` (kept only
    /// until `activity_until`: it carries the address), in one transaction: the address's
    /// claim, the password hash, the failures and the pending reset and verification go,
    /// every session ends, and the profile keeps its id, role, points and awards under the
    /// anonymous name with `deleted_at`. Only if the account is not deleted yet and its
    /// session generation is still `account.session_generation` (`Conflict` otherwise).
    /// Afterwards the account reads as absent (`credentials*`, `user`).
    async fn delete_account(
        &self,
        account: &Credentials,
        now: OffsetDateTime,
        activity: &ActivityEntry,
        activity_until: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn refresh_family(
        &self,
        user: &UserId,
        family_id: &str,
    ) -> Result<Option<RefreshFamily>, StoreError>;

    /// Moves the family to `next_hash` only if it is still at `expected_hash`, not revoked,
    /// and the account's session generation is still the family's; `Conflict` otherwise
    /// (a concurrent use of the same token, or the sessions ended meanwhile).
    async fn rotate_refresh(
        &self,
        family: &RefreshFamily,
        expected_hash: &str,
        next_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn revoke_family(
        &self,
        user: &UserId,
        family_id: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;
}

/// Login attempts counted per source address and window (`source_throttle`).
#[async_trait]
pub trait SourceAttempts: Send + Sync {
    /// Adds one attempt to `source`'s count in `window` atomically (the counter kept
    /// until `expires_at`) and answers the count that add returned, with the previous
    /// window's count. Nothing is conditioned on a count read before.
    async fn reserve(
        &self,
        source: &SourceKey,
        window: Window,
        expires_at: OffsetDateTime,
    ) -> Result<SourceCounts, StoreError>;

    /// Gives back one reservation (a success's or a refusal's): never below zero, and
    /// nothing once the counter is gone.
    async fn release(&self, reservation: &SourceReservation) -> Result<(), StoreError>;
}

/// Which marathons to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarathonFilter {
    /// Race date on or after `today`, soonest first.
    Upcoming { today: Date },
    /// Race date before `today`, most recent first.
    Past { today: Date },
    /// One organizer's marathons, soonest first.
    ByOrganizer(UserId),
}

/// The Races table: marathons, entries, official results and private records.
/// Every mutation takes the activity entry that describes it and writes both together.
/// A runner's result as a writer needs it: the current one, or else the version its last
/// deletion left (a new result is numbered above it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultState {
    pub current: Option<OfficialResult>,
    pub removed_version: Option<u64>,
}

impl ResultState {
    /// The version a new write must be above (`OfficialResult::build`'s floor).
    pub fn floor(&self) -> Option<u64> {
        self.current.as_ref().map(|c| c.version).or(self.removed_version)
    }
}

/// A mutation whose precondition no longer holds returns `StoreError::Conflict`; the caller
/// re-reads to tell the user why.
#[async_trait]
pub trait RaceStore: Send + Sync {
    async fn create_marathon(&self, marathon: &Marathon, activity: &ActivityEntry) -> Result<(), StoreError>;

    async fn marathon(&self, id: &MarathonId) -> Result<Option<Marathon>, StoreError>;

    async fn list_marathons(
        &self,
        filter: &MarathonFilter,
        page: &PageRequest,
    ) -> Result<Page<Marathon>, StoreError>;

    /// Replaces the marathon's fields (status included) only if its stored version is
    /// `expected_version`; `marathon.version` is the new version.
    async fn update_marathon(
        &self,
        marathon: &Marathon,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Adds the entry and counts it, only if the marathon is open, not full, registration
    /// has not closed at `now`, and the runner is not registered yet. The entry gets the
    /// marathon's next bib not taken (`entry.bib` is ignored), which is returned; None once
    /// the numbers run out (`Bib::MAX`).
    async fn register(
        &self,
        entry: &Entry,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<Option<Bib>, StoreError>;

    /// Gives the runner's entry `bib` (freeing the one it had), and puts it on the
    /// runner's result if there is one; `Conflict` if another entry of the marathon has
    /// it or the entry changed meanwhile, `Missing("entry")` without an entry.
    async fn set_bib(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        bib: Bib,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Who holds `bib` in the marathon.
    async fn bib_holder(&self, marathon: &MarathonId, bib: Bib) -> Result<Option<UserId>, StoreError>;

    /// Every entry of the marathon that has a bib, by bib: what a results file's rows
    /// are matched against. Reads the whole partition's entries (a few thousand items).
    async fn marathon_roster(&self, marathon: &MarathonId) -> Result<Vec<RosterEntry>, StoreError>;

    /// Removes the entry and uncounts it; `Conflict` if there is no such entry or the runner
    /// has an official result for the marathon (checked in the same transaction).
    async fn cancel_entry(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    async fn entry(&self, marathon: &MarathonId, runner: &UserId) -> Result<Option<Entry>, StoreError>;

    async fn marathon_entries(
        &self,
        marathon: &MarathonId,
        page: &PageRequest,
    ) -> Result<Page<Entry>, StoreError>;

    /// With each marathon's current name and date.
    async fn runner_entries(&self, runner: &UserId, page: &PageRequest) -> Result<Page<Entry>, StoreError>;

    async fn result(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
    ) -> Result<Option<OfficialResult>, StoreError>;

    /// Creates (`expected_version` None) or replaces the result, only if the runner's entry
    /// exists and the stored version is still `expected_version`. A new result (None) must
    /// also be newer than the tombstone of a deleted one (`removed_version`).
    async fn put_result(
        &self,
        result: &OfficialResult,
        expected_version: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// The version the last deletion of this result had (the tombstone it left, never shown
    /// in rankings or reads), so a result recorded again gets a higher one whatever the
    /// clock says.
    async fn removed_version(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
    ) -> Result<Option<u64>, StoreError>;

    /// `result` and, where there is none, `removed_version`, for many runners of a
    /// marathon at once (in `runners`' order): what a bulk import reads before writing a
    /// chunk of rows. DynamoDB answers it with BatchGetItem, 100 keys a request.
    async fn result_states(
        &self,
        marathon: &MarathonId,
        runners: &[UserId],
    ) -> Result<Vec<ResultState>, StoreError> {
        let mut states = Vec::with_capacity(runners.len());
        for runner in runners {
            let current = self.result(marathon, runner).await?;
            let removed_version = match current {
                Some(_) => None,
                None => self.removed_version(marathon, runner).await?,
            };
            states.push(ResultState {
                current,
                removed_version,
            });
        }
        Ok(states)
    }

    /// Deletes the result at `expected_version`, leaving a tombstone at the version after it
    /// (the version the points pipeline gives the removal).
    async fn delete_result(
        &self,
        marathon: &MarathonId,
        runner: &UserId,
        expected_version: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Ranked by finish time (fastest first; ties by runner id).
    async fn marathon_results(
        &self,
        marathon: &MarathonId,
        page: &PageRequest,
    ) -> Result<Page<OfficialResult>, StoreError>;

    /// Up to `limit` results of the marathon in ranking order (finishers by chip time, ties
    /// by runner id; then dnf, dns, dq), after the row at `after` (a `RankedRow::position`
    /// this store gave out; any text is safe, it only bounds the read). `next_cursor` is the
    /// last row's position when there may be more.
    async fn ranking(
        &self,
        marathon: &MarathonId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<RankedRow>, StoreError>;

    /// The runner's race profile (empty when never given).
    async fn race_profile(&self, runner: &UserId) -> Result<RaceProfile, StoreError>;

    async fn set_race_profile(
        &self,
        runner: &UserId,
        profile: &RaceProfile,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Several runners' profiles (BatchGetItem); runners without one are left out.
    async fn race_profiles(&self, runners: &[UserId]) -> Result<Vec<(UserId, RaceProfile)>, StoreError>;

    /// With each marathon's current name and date.
    async fn runner_results(
        &self,
        runner: &UserId,
        page: &PageRequest,
    ) -> Result<Page<OfficialResult>, StoreError>;

    async fn create_record(&self, record: &Record, activity: &ActivityEntry) -> Result<(), StoreError>;

    async fn record(&self, runner: &UserId, id: &str) -> Result<Option<Record>, StoreError>;

    /// Newest first.
    async fn runner_records(&self, runner: &UserId, page: &PageRequest) -> Result<Page<Record>, StoreError>;

    async fn update_record(&self, record: &Record, activity: &ActivityEntry) -> Result<(), StoreError>;

    async fn delete_record(
        &self,
        runner: &UserId,
        id: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;
}

/// One row of a ranking read and where it sits: the position orders the ranking and
/// resumes a read after it.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedRow {
    pub position: String,
    pub result: OfficialResult,
}

/// Points as point-increase left them in the Users table.
#[async_trait]
pub trait PointsStore: Send + Sync {
    /// The runner's total and public profile (a deleted account's keeps its total under
    /// the anonymous name), or None when there is no such user.
    async fn total(&self, runner: &UserId) -> Result<Option<(PublicProfile, i64)>, StoreError>;

    /// Every result's current contribution.
    async fn awards(&self, runner: &UserId) -> Result<Vec<Award>, StoreError>;
}

/// What applying a result change did to the runner's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerOutcome {
    /// The award moved to this version and the total by `delta` (0 when only the finish
    /// time changed).
    Applied { delta: i64, total: i64 },
    /// This exact version was applied before but its notification never went out (the
    /// earlier attempt failed after the write), even if a newer version was applied since:
    /// notify now. `total` is the runner's total as it is now.
    Unnotified { delta: i64, total: i64 },
    /// A duplicate or an older version: no effect.
    Unchanged,
}

/// Awards and totals in the Users table (see docs/DESIGN.md, points semantics).
#[async_trait]
pub trait PointsLedger: Send + Sync {
    /// Sets the result's award to `change.points` at `change.version` and moves the total
    /// by the difference, atomically, only if the stored award is older.
    async fn apply(&self, change: &ResultChange, now: OffsetDateTime) -> Result<LedgerOutcome, StoreError>;

    /// Records that the change at `version` has been announced (its pending announcement
    /// is gone; a newer version's stays).
    async fn mark_notified(&self, runner: &UserId, result_id: &str, version: u64) -> Result<(), StoreError>;
}

/// The season leaderboard, as the points ledger maintains it.
#[async_trait]
pub trait LeaderboardStore: Send + Sync {
    /// The season's runners with points, most first, ranked (ties share a rank), with
    /// their current names; a page after `page.cursor`, which only this season's pages
    /// issue (another is `InvalidCursor`).
    async fn leaderboard(
        &self,
        season: crate::leaderboard::Season,
        page: &PageRequest,
    ) -> Result<Page<crate::leaderboard::Standing>, StoreError>;
}

/// Why a publish failed: worth retrying, or never going to work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("publish failed, retryable: {0}")]
    Retryable(String),
    #[error("publish refused: {0}")]
    Rejected(String),
}

/// A topic events are published to, typed by the events it carries
/// (`EventPublisher<ResultEvent>`, `EventPublisher<PointsEvent>`).
#[async_trait]
pub trait EventPublisher<E: TopicEvent>: Send + Sync {
    /// Publishes in order; one outcome per envelope, in the same order.
    async fn publish(&self, envelopes: &[Envelope<E>]) -> Vec<Result<(), PublishError>>;
}
