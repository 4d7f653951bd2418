//! Throttling of password guesses per account: a few free attempts, then progressive
//! delays, and a lock only after sustained failures.
//!
//! Every attempt is *reserved* before the password is verified: the reservation counts it
//! as a failure in advance and sets when the next attempt may come, with a condition on the
//! count it read, so concurrent attempts cannot all pass on one reading (`Reservation`).
//! A success then clears the count; a failure that reaches a multiple of `lock_after`
//! locks the account for `lock_for` (one lock, and one mail, per lock period).

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures allowed without any delay.
    pub free_attempts: u32,
    /// The delay after the first failure beyond the free ones; doubles with each further one.
    pub first_delay: Duration,
    /// Delays never grow beyond this.
    pub max_delay: Duration,
    /// Every this many consecutive failures lock the account.
    pub lock_after: u32,
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_attempts: 3,
            first_delay: Duration::seconds(1),
            max_delay: Duration::minutes(5),
            lock_after: 10,
            lock_for: Duration::minutes(15),
        }
    }
}

/// What the store says about an account's recent attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttemptState {
    /// Consecutive failures (attempts reserved and not cleared by a success).
    pub failures: u32,
    /// No attempt before this (a delay or a lock).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Set when a failure locked the account: a success before it ends clears nothing.
    pub locked_until: Option<OffsetDateTime>,
}

/// An attempt the store must record, conditionally, before the password is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// The count read; the store refuses the reservation if it moved meanwhile.
    pub expected_failures: u32,
    /// The count once reserved: this attempt counts as failed until it succeeds.
    pub failures: u32,
    pub next_attempt_at: OffsetDateTime,
    /// Whether this attempt, if it fails, locks the account (and until when).
    pub locks_until: Option<OffsetDateTime>,
}

/// Why an attempt may not be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_at: OffsetDateTime,
}

impl LockoutPolicy {
    /// Whether the `failures`-th consecutive failure locks the account.
    pub fn locks_at(&self, failures: u32) -> bool {
        failures > 0 && self.lock_after > 0 && failures.is_multiple_of(self.lock_after)
    }

    /// How long to wait after the `failures`-th consecutive failure.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if self.locks_at(failures) {
            return self.lock_for;
        }
        if failures <= self.free_attempts {
            return Duration::ZERO;
        }
        // 2^(n-1) past the free attempts; the exponent is capped before it can overflow
        let doublings = (failures - self.free_attempts - 1).min(30);
        let delay = self.first_delay * 2_i32.pow(doublings);
        delay.min(self.max_delay)
    }

    /// Whether an attempt may be made at `now`, and if so the reservation that records it.
    pub fn admit(&self, state: AttemptState, now: OffsetDateTime) -> Result<Reservation, Throttled> {
        let blocked_until = [state.next_attempt_at, state.locked_until]
            .into_iter()
            .flatten()
            .filter(|&until| now < until)
            .max();
        if let Some(retry_at) = blocked_until {
            return Err(Throttled { retry_at });
        }
        let failures = state.failures.saturating_add(1);
        let delay = self.delay_after(failures);
        let locks = self.locks_at(failures);
        Ok(Reservation {
            expected_failures: state.failures,
            failures,
            next_attempt_at: now + delay,
            locks_until: locks.then_some(now + delay),
        })
    }

    pub fn is_locked(&self, locked_until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
        locked_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    #[test]
    fn the_schedule_is_free_then_doubling_then_a_lock() {
        let policy = LockoutPolicy::default();
        let delays: Vec<i64> = (1..=12).map(|n| policy.delay_after(n).whole_seconds()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 16, 32, 900, 128, 256]);
        // capped, and locked again only after another full run of failures
        assert_eq!(policy.delay_after(15), Duration::minutes(5));
        assert_eq!(policy.delay_after(20), Duration::minutes(15));
        assert_eq!(policy.delay_after(u32::MAX - 1), Duration::minutes(5));
    }

    /// Plays attempts over a fake clock: each attempt waits until it is admitted, then
    /// fails. Answers the admission times, in seconds from the start.
    fn play(policy: &LockoutPolicy, attempts: u32) -> Vec<i64> {
        let mut state = AttemptState::default();
        let mut now = NOW;
        let mut times = Vec::new();
        for _ in 0..attempts {
            let reservation = match policy.admit(state, now) {
                Ok(r) => r,
                Err(Throttled { retry_at }) => {
                    assert!(retry_at > now);
                    // one second early is still refused
                    assert!(policy.admit(state, retry_at - Duration::seconds(1)).is_err());
                    now = retry_at;
                    policy.admit(state, now).expect("admitted once the delay is over")
                }
            };
            times.push((now - NOW).whole_seconds());
            state = AttemptState {
                failures: reservation.failures,
                next_attempt_at: Some(reservation.next_attempt_at),
                locked_until: reservation.locks_until.or(state.locked_until),
            };
        }
        times
    }

    #[test]
    fn sustained_guessing_is_slow() {
        let policy = LockoutPolicy::default();
        let times = play(&policy, 11);
        assert_eq!(times, [0, 0, 0, 0, 1, 3, 7, 15, 31, 63, 963]);
        // 30 guesses take well over an hour, not seconds
        assert_eq!(*play(&policy, 30).last().unwrap(), 7047);
    }

    #[test]
    fn a_reservation_expects_the_count_it_read_and_only_the_tenth_failure_locks() {
        let policy = LockoutPolicy::default();
        let r = policy
            .admit(
                AttemptState {
                    failures: 9,
                    ..Default::default()
                },
                NOW,
            )
            .unwrap();
        assert_eq!((r.expected_failures, r.failures), (9, 10));
        assert_eq!(r.locks_until, Some(NOW + Duration::minutes(15)));
        assert_eq!(r.next_attempt_at, NOW + Duration::minutes(15));
        let r = policy
            .admit(
                AttemptState {
                    failures: 10,
                    ..Default::default()
                },
                NOW,
            )
            .unwrap();
        assert_eq!(r.locks_until, None);
    }

    #[test]
    fn a_lock_refuses_even_when_the_delay_is_over() {
        let policy = LockoutPolicy::default();
        let state = AttemptState {
            failures: 0,
            next_attempt_at: None,
            locked_until: Some(NOW + Duration::minutes(1)),
        };
        assert_eq!(
            policy.admit(state, NOW),
            Err(Throttled {
                retry_at: NOW + Duration::minutes(1)
            })
        );
        assert!(policy.admit(state, NOW + Duration::minutes(1)).is_ok());
        assert!(policy.is_locked(state.locked_until, NOW));
        assert!(!policy.is_locked(state.locked_until, NOW + Duration::minutes(1)));
    }
}
