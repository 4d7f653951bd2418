//! In-memory adapters of the ports, for use-case and handler tests where the logic is the
//! subject. The DynamoDB adapters have their own integration tests against the emulator;
//! `race_contract`, `points_contract` and `import_contract` hold the checks both the fake
//! and the adapter of those ports pass.

pub mod import_contract;
mod imports;
mod points;
pub mod points_contract;
pub mod race_contract;
mod races;

pub use imports::{MemoryImports, MemoryUploads};
pub use points::MemoryLedger;
pub use races::MemoryRaces;

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::activity::ActivityEntry;
use crate::lockout::{AttemptState, Reservation};
use crate::ports::{Credentials, StoreError, UserStore};
use crate::refresh::RefreshFamily;
use crate::reset::PasswordReset;
use crate::user::{Email, User, UserId};

#[derive(Default)]
struct State {
    users: HashMap<UserId, Credentials>,
    emails: HashMap<Email, UserId>,
    families: HashMap<(UserId, String), RefreshFamily>,
    resets: HashMap<UserId, PasswordReset>,
    verifications: HashMap<UserId, PasswordReset>,
    /// Deleted accounts: when (their profile reads as absent, as in DynamoDB).
    deleted: HashMap<UserId, OffsetDateTime>,
    activity: Vec<ActivityEntry>,
}

#[derive(Default)]
pub struct MemoryUsers {
    state: Mutex<State>,
}

impl MemoryUsers {
    pub fn activity(&self) -> Vec<ActivityEntry> {
        self.lock().activity.clone()
    }

    /// When the account was deleted, if it was.
    pub fn deleted_at(&self, id: &UserId) -> Option<OffsetDateTime> {
        self.lock().deleted.get(id).copied()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl UserStore for MemoryUsers {
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.emails.contains_key(&user.email) {
            return Err(StoreError::EmailTaken);
        }
        state.emails.insert(user.email.clone(), user.id.clone());
        state.users.insert(
            user.id.clone(),
            Credentials {
                user: user.clone(),
                password_hash: password_hash.to_owned(),
                attempts: AttemptState::default(),
                session_generation: 0,
                email_verified: false,
            },
        );
        state.activity.push(activity.clone());
        Ok(())
    }

    async fn credentials(&self, email: &Email) -> Result<Option<Credentials>, StoreError> {
        let state = self.lock();
        Ok(state
            .emails
            .get(email)
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn credentials_by_id(&self, id: &UserId) -> Result<Option<Credentials>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).map(|c| c.user.clone()))
    }

    async fn reserve_attempt(
        &self,
        id: &UserId,
        reservation: &Reservation,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let attempts = &mut state.users.get_mut(id).ok_or(StoreError::Conflict)?.attempts;
        let free = |until: Option<OffsetDateTime>| until.is_none_or(|until| until <= now);
        if attempts.failures != reservation.expected_failures
            || !free(attempts.next_attempt_at)
            || !free(attempts.locked_until)
        {
            return Err(StoreError::Conflict);
        }
        attempts.failures = reservation.failures;
        attempts.next_attempt_at = Some(reservation.next_attempt_at);
        Ok(())
    }

    async fn record_lock(
        &self,
        id: &UserId,
        failures: u32,
        until: OffsetDateTime,
        lock_entry: &ActivityEntry,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let attempts = &mut state.users.get_mut(id).ok_or(StoreError::Conflict)?.attempts;
        if attempts.failures != failures {
            return Ok(false);
        }
        attempts.locked_until = Some(until);
        state.activity.push(lock_entry.clone());
        Ok(true)
    }

    async fn record_login(
        &self,
        family: &RefreshFamily,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let credentials = state.users.get_mut(&family.user_id).ok_or(StoreError::Conflict)?;
        let locked = credentials.attempts.locked_until.is_some_and(|until| now < until);
        if locked || credentials.session_generation != family.generation {
            return Err(StoreError::Conflict);
        }
        credentials.attempts = AttemptState::default();
        state
            .families
            .insert((family.user_id.clone(), family.family_id.clone()), family.clone());
        state.activity.push(activity.clone());
        Ok(())
    }

    async fn change_password(
        &self,
        id: &UserId,
        password_hash: &str,
        generation: u64,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let credentials = state.users.get_mut(id).ok_or(StoreError::Conflict)?;
        if credentials.session_generation != generation {
            return Err(StoreError::Conflict);
        }
        credentials.password_hash = password_hash.to_owned();
        credentials.attempts = AttemptState::default();
        credentials.session_generation += 1;
        state.activity.push(activity.clone());
        Ok(())
    }

    async fn end_sessions(&self, id: &UserId, activity: &ActivityEntry) -> Result<(), StoreError> {
        let mut state = self.lock();
        let credentials = state.users.get_mut(id).ok_or(StoreError::Missing("user"))?;
        credentials.session_generation += 1;
        state.activity.push(activity.clone());
        Ok(())
    }

    async fn request_password_reset(
        &self,
        reset: &PasswordReset,
        not_since: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if !state.users.contains_key(&reset.user_id) {
            return Err(StoreError::Missing("user"));
        }
        if state
            .resets
            .get(&reset.user_id)
            .is_some_and(|last| last.requested_at > not_since)
        {
            return Ok(false);
        }
        state.resets.insert(reset.user_id.clone(), reset.clone());
        state.activity.push(activity.clone());
        Ok(true)
    }

    async fn password_reset(&self, id: &UserId) -> Result<Option<PasswordReset>, StoreError> {
        Ok(self.lock().resets.get(id).cloned())
    }

    async fn request_email_verification(
        &self,
        pending: &PasswordReset,
        not_since: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if !state.users.contains_key(&pending.user_id) {
            return Err(StoreError::Missing("user"));
        }
        if state
            .verifications
            .get(&pending.user_id)
            .is_some_and(|last| last.requested_at > not_since)
        {
            return Ok(false);
        }
        state
            .verifications
            .insert(pending.user_id.clone(), pending.clone());
        state.activity.push(activity.clone());
        Ok(true)
    }

    async fn email_verification(&self, id: &UserId) -> Result<Option<PasswordReset>, StoreError> {
        Ok(self.lock().verifications.get(id).cloned())
    }

    async fn complete_email_verification(
        &self,
        id: &UserId,
        token_hash: &str,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let pending = state.verifications.get_mut(id).ok_or(StoreError::Conflict)?;
        if !pending.accepts(token_hash, now) {
            return Err(StoreError::Conflict);
        }
        pending.used = true;
        state
            .users
            .get_mut(id)
            .ok_or(StoreError::Conflict)?
            .email_verified = true;
        state.activity.push(activity.clone());
        Ok(())
    }

    async fn complete_password_reset(
        &self,
        id: &UserId,
        token_hash: &str,
        password_hash: &str,
        now: OffsetDateTime,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let reset = state.resets.get_mut(id).ok_or(StoreError::Conflict)?;
        if !reset.accepts(token_hash, now) {
            return Err(StoreError::Conflict);
        }
        reset.used = true;
        let credentials = state.users.get_mut(id).ok_or(StoreError::Conflict)?;
        credentials.password_hash = password_hash.to_owned();
        credentials.attempts = AttemptState::default();
        credentials.session_generation += 1;
        state.activity.push(activity.clone());
        Ok(())
    }

    async fn delete_account(
        &self,
        account: &Credentials,
        now: OffsetDateTime,
        activity: &ActivityEntry,
        _activity_until: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let id = &account.user.id;
        let current = state.users.get(id).ok_or(StoreError::Conflict)?;
        if current.session_generation != account.session_generation {
            return Err(StoreError::Conflict);
        }
        let email = current.user.email.clone();
        state.users.remove(id);
        if state.emails.get(&email) == Some(id) {
            state.emails.remove(&email);
        }
        state.resets.remove(id);
        state.verifications.remove(id);
        for ((owner, _), family) in &mut state.families {
            if owner == id {
                family.revoked = true;
            }
        }
        state.deleted.insert(id.clone(), now);
        state.activity.push(activity.clone());
        Ok(())
    }

    async fn refresh_family(
        &self,
        user: &UserId,
        family_id: &str,
    ) -> Result<Option<RefreshFamily>, StoreError> {
        Ok(self
            .lock()
            .families
            .get(&(user.clone(), family_id.to_owned()))
            .cloned())
    }

    async fn rotate_refresh(
        &self,
        family: &RefreshFamily,
        expected_hash: &str,
        next_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let generation = state
            .users
            .get(&family.user_id)
            .map(|c| c.session_generation)
            .ok_or(StoreError::Conflict)?;
        let stored = state
            .families
            .get_mut(&(family.user_id.clone(), family.family_id.clone()))
            .ok_or(StoreError::Conflict)?;
        if stored.revoked || stored.current_hash != expected_hash || stored.generation != generation {
            return Err(StoreError::Conflict);
        }
        stored.current_hash = next_hash.to_owned();
        stored.expires_at = expires_at;
        Ok(())
    }

    async fn revoke_family(
        &self,
        user: &UserId,
        family_id: &str,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(family) = state.families.get_mut(&(user.clone(), family_id.to_owned())) {
            family.revoked = true;
        }
        state.activity.push(activity.clone());
        Ok(())
    }
}

/// The per-source counters in memory, with the DynamoDB adapter's rule: an atomic add
/// per (source, window) that answers the new count.
#[derive(Default)]
pub struct MemorySources(
    Mutex<HashMap<(crate::source_throttle::SourceKey, crate::source_throttle::Window), u64>>,
);

impl MemorySources {
    /// The count held for `source` in `window`.
    pub fn count(
        &self,
        source: &crate::source_throttle::SourceKey,
        window: crate::source_throttle::Window,
    ) -> u64 {
        let counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(&(source.clone(), window)).copied().unwrap_or(0)
    }
}

#[async_trait]
impl crate::ports::SourceAttempts for MemorySources {
    async fn reserve(
        &self,
        source: &crate::source_throttle::SourceKey,
        window: crate::source_throttle::Window,
        _expires_at: OffsetDateTime,
    ) -> Result<crate::source_throttle::SourceCounts, StoreError> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let current = counts.entry((source.clone(), window)).or_default();
        *current += 1;
        let current = *current;
        let previous = counts
            .get(&(source.clone(), window.previous()))
            .copied()
            .unwrap_or(0);
        Ok(crate::source_throttle::SourceCounts { current, previous })
    }

    async fn release(
        &self,
        reservation: &crate::source_throttle::SourceReservation,
    ) -> Result<(), StoreError> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&(reservation.source.clone(), reservation.window)) {
            *count = count.saturating_sub(1);
        }
        Ok(())
    }
}

/// A clock tests move by hand, so lockout expiry needs no sleeping.
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl crate::Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A topic in memory: keeps what was published, in order, and fails the envelopes it is
/// told to (`fail_next`), the way SNS reports one entry's failure among others.
pub struct MemoryPublisher<E> {
    published: Mutex<Vec<crate::events::Envelope<E>>>,
    failures: Mutex<std::collections::VecDeque<crate::ports::PublishError>>,
}

impl<E> Default for MemoryPublisher<E> {
    fn default() -> Self {
        Self {
            published: Mutex::new(Vec::new()),
            failures: Mutex::new(std::collections::VecDeque::new()),
        }
    }
}

impl<E: Clone> MemoryPublisher<E> {
    pub fn published(&self) -> Vec<crate::events::Envelope<E>> {
        self.published.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The next envelope published fails with `error` (calls queue up).
    pub fn fail_next(&self, error: crate::ports::PublishError) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(error);
    }
}

#[async_trait]
impl<E: crate::events::TopicEvent + Clone> crate::ports::EventPublisher<E> for MemoryPublisher<E> {
    async fn publish(
        &self,
        envelopes: &[crate::events::Envelope<E>],
    ) -> Vec<Result<(), crate::ports::PublishError>> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        envelopes
            .iter()
            .map(|envelope| match failures.pop_front() {
                Some(error) => Err(error),
                None => {
                    published.push(envelope.clone());
                    Ok(())
                }
            })
            .collect()
    }
}
