//! Account lockout after repeated failed logins.

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account.
    pub max_failures: u32,
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_for: Duration::minutes(15),
        }
    }
}

impl LockoutPolicy {
    pub fn is_locked(&self, locked_until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
        locked_until.is_some_and(|until| now < until)
    }

    /// Whether this many consecutive failures lock the account.
    pub fn locks_at(&self, failures: u32) -> bool {
        failures >= self.max_failures
    }

    pub fn locked_until(&self, now: OffsetDateTime) -> OffsetDateTime {
        now + self.lock_for
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn locks_on_the_fifth_failure_for_fifteen_minutes() {
        let policy = LockoutPolicy::default();
        assert!(!policy.locks_at(4));
        assert!(policy.locks_at(5));
        let now = datetime!(2026-11-21 10:00 UTC);
        let until = policy.locked_until(now);
        assert!(policy.is_locked(Some(until), now + Duration::minutes(14)));
        assert!(!policy.is_locked(Some(until), now + Duration::minutes(15)));
        assert!(!policy.is_locked(None, now));
    }
}
