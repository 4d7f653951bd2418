//! In-memory adapters of the ports, for handler tests where the logic is the subject.
//! The DynamoDB adapters have their own integration tests against the emulator.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::activity::ActivityEntry;
use crate::lockout::LockoutPolicy;
use crate::ports::{Credentials, FailedLogin, StoreError, UserStore};
use crate::refresh::RefreshFamily;
use crate::user::{Email, User, UserId};

#[derive(Default)]
struct State {
    users: HashMap<UserId, Credentials>,
    emails: HashMap<Email, UserId>,
    families: HashMap<(UserId, String), RefreshFamily>,
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
                failed_logins: 0,
                locked_until: None,
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

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).map(|c| c.user.clone()))
    }

    async fn record_failed_login(
        &self,
        id: &UserId,
        policy: &LockoutPolicy,
        now: OffsetDateTime,
        lock_entry: &ActivityEntry,
    ) -> Result<FailedLogin, StoreError> {
        let mut state = self.lock();
        let credentials = state.users.get_mut(id).ok_or(StoreError::Conflict)?;
        credentials.failed_logins += 1;
        if policy.locks_at(credentials.failed_logins) {
            credentials.failed_logins = 0;
            credentials.locked_until = Some(policy.locked_until(now));
            state.activity.push(lock_entry.clone());
            return Ok(FailedLogin::Locked);
        }
        Ok(FailedLogin::Counted(credentials.failed_logins))
    }

    async fn record_login(&self, family: &RefreshFamily, activity: &ActivityEntry) -> Result<(), StoreError> {
        let mut state = self.lock();
        let credentials = state.users.get_mut(&family.user_id).ok_or(StoreError::Conflict)?;
        credentials.failed_logins = 0;
        state
            .families
            .insert((family.user_id.clone(), family.family_id.clone()), family.clone());
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
        let stored = state
            .families
            .get_mut(&(family.user_id.clone(), family.family_id.clone()))
            .ok_or(StoreError::Conflict)?;
        if stored.revoked || stored.current_hash != expected_hash {
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
