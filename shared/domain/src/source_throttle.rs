//! Throttling of login attempts per source address, next to the per-account one
//! (`lockout`): one address spraying guesses over many accounts stays under every
//! account's limit, so the address needs a limit of its own.
//!
//! What it must not copy from the account's (docs/DESIGN.md, Login throttling):
//! - The reservation is an atomic increment, and whether the attempt may go on is decided
//!   from the count the increment *returns* (`SourcePolicy::judge`), never by a write
//!   conditioned on a count read before: users behind one NAT who log in at the same
//!   moment each get a count of their own instead of failing each other's condition.
//! - The count decays by window: each window has its own counter, and the previous
//!   window's weighs on the current one in proportion to how much of it still overlaps
//!   the sliding window ending now. A busy shared address recovers as its failures age,
//!   not only when an idle spell lets a TTL delete the item.
//! - A success gives back its own reservation only (`release`): it never clears the
//!   address's count, or an attacker's own account would reset it between guesses.
//!   A refused attempt gives its reservation back too: it verified nothing, so the count
//!   is what the limit is about, passwords verified and failed (and those in flight).

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourcePolicy {
    /// The sliding window the count covers.
    pub window: Duration,
    /// Attempts held (failed, or in flight) per window before the address is refused.
    pub allowed: u32,
}

impl Default for SourcePolicy {
    fn default() -> Self {
        // 30 failures in 15 minutes: far more than the typos of an office behind one
        // address, far fewer than a spray over many accounts (each account allows 3 free).
        Self {
            window: Duration::minutes(15),
            allowed: 30,
        }
    }
}

/// Where attempts come from, as counted: an IPv4 address, or an IPv6 address's /64
/// (one subscriber gets a whole /64, so counting single v6 addresses would let one
/// attacker rotate through 2^64 of them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceKey(String);

impl SourceKey {
    /// The key of the address API Gateway saw; None if it is not an IP address.
    pub fn from_ip(raw: &str) -> Option<Self> {
        let ip: IpAddr = raw.trim().parse().ok()?;
        Some(Self(match ip.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One window of the count: windows are `policy.window` long, numbered from the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window(pub i64);

impl Window {
    pub fn previous(self) -> Self {
        Self(self.0 - 1)
    }
}

/// An attempt counted in `window` for `source`: what a release gives back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceReservation {
    pub source: SourceKey,
    pub window: Window,
}

/// The counts a reservation returns: the current window's including this attempt, and
/// the previous window's (what is left of it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounts {
    pub current: u64,
    pub previous: u64,
}

/// Why the address may not try now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceThrottled {
    /// The earliest the same count would be admitted, had nothing else been reserved.
    pub retry_at: OffsetDateTime,
}

impl SourcePolicy {
    fn window_seconds(&self) -> i64 {
        self.window.whole_seconds().max(1)
    }

    pub fn window_at(&self, now: OffsetDateTime) -> Window {
        Window(now.unix_timestamp().div_euclid(self.window_seconds()))
    }

    pub fn window_start(&self, window: Window) -> OffsetDateTime {
        let start = window.0.saturating_mul(self.window_seconds());
        OffsetDateTime::from_unix_timestamp(start).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// When a window's counter may go (its TTL): once it no longer weighs on the next
    /// window, that is at the end of the next, plus a window's slack for TTL's lag.
    pub fn expires_at(&self, window: Window) -> OffsetDateTime {
        self.window_start(window) + self.window * 3
    }

    /// The count over the sliding window ending `now`: the current window's, plus the
    /// previous window's share that still overlaps (rounded up: a single failure left in
    /// the previous window still counts as one).
    pub fn weighted(&self, counts: SourceCounts, now: OffsetDateTime) -> u64 {
        let window = self.window_seconds();
        let start = self.window_start(self.window_at(now));
        let elapsed = (now - start).whole_seconds().clamp(0, window);
        let overlap = u64::try_from(window - elapsed).unwrap_or(0);
        let window = u64::try_from(window).unwrap_or(1);
        let carried = counts.previous.saturating_mul(overlap).div_ceil(window);
        counts.current.saturating_add(carried)
    }

    /// Whether the attempt whose reservation returned `counts` may go on at `now`. It is
    /// decided from the returned counts alone: concurrent attempts each see their own.
    pub fn judge(&self, counts: SourceCounts, now: OffsetDateTime) -> Result<(), SourceThrottled> {
        let allowed = u64::from(self.allowed);
        if self.weighted(counts, now) <= allowed {
            return Ok(());
        }
        let window = self.window_at(now);
        let end = self.window_start(window) + self.window;
        // Over the limit on this window's count alone: nothing frees before it ends.
        // Otherwise the previous window's share must shrink to what is left.
        let retry_at = match allowed.checked_sub(counts.current) {
            Some(room) if counts.previous > 0 => {
                let window_seconds = u64::try_from(self.window_seconds()).unwrap_or(1);
                // overlap * previous / window <= room  <=>  overlap <= room * window / previous
                let overlap = room.saturating_mul(window_seconds) / counts.previous;
                end - Duration::seconds(i64::try_from(overlap).unwrap_or(0))
            }
            _ => end,
        };
        Err(SourceThrottled {
            retry_at: retry_at.max(now),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::datetime;

    /// A window's start: 10:00 is a multiple of 15 minutes since the epoch.
    const START: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    fn policy() -> SourcePolicy {
        SourcePolicy {
            window: Duration::minutes(10),
            allowed: 5,
        }
    }

    /// The store's rule, kept in memory: an atomic add per (source, window) that
    /// answers the new count, and a release that gives one back.
    #[derive(Default)]
    struct Counter(HashMap<Window, u64>);

    impl Counter {
        fn reserve(&mut self, policy: &SourcePolicy, now: OffsetDateTime) -> (Window, SourceCounts) {
            let window = policy.window_at(now);
            let current = self.0.entry(window).or_default();
            *current += 1;
            let current = *current;
            let previous = self.0.get(&window.previous()).copied().unwrap_or(0);
            (window, SourceCounts { current, previous })
        }

        fn release(&mut self, window: Window) {
            if let Some(count) = self.0.get_mut(&window) {
                *count = count.saturating_sub(1);
            }
        }

        /// A full attempt: reserved, judged, released if refused or if it succeeds.
        fn attempt(&mut self, policy: &SourcePolicy, now: OffsetDateTime, succeeds: bool) -> bool {
            let (window, counts) = self.reserve(policy, now);
            let admitted = policy.judge(counts, now).is_ok();
            if !admitted || succeeds {
                self.release(window);
            }
            admitted
        }
    }

    #[test]
    fn ipv4_is_one_source_and_ipv6_counts_by_its_64() {
        let v4 = SourceKey::from_ip("203.0.113.7").unwrap();
        assert_eq!(v4.as_str(), "203.0.113.7");
        assert_eq!(SourceKey::from_ip("::ffff:203.0.113.7"), Some(v4));
        let a = SourceKey::from_ip("2001:db8:1:2:aaaa::1").unwrap();
        let b = SourceKey::from_ip("2001:DB8:1:2:ffff:ffff:ffff:ffff").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "2001:db8:1:2::/64");
        assert_ne!(a, SourceKey::from_ip("2001:db8:1:3::1").unwrap());
        assert_eq!(SourceKey::from_ip("not an address"), None);
        assert_eq!(SourceKey::from_ip(""), None);
    }

    #[test]
    fn windows_are_numbered_from_the_epoch() {
        let p = policy();
        let w = p.window_at(START);
        assert_eq!(p.window_start(w), START);
        assert_eq!(
            p.window_at(START + Duration::minutes(10) - Duration::seconds(1)),
            w
        );
        assert_eq!(p.window_at(START + Duration::minutes(10)), Window(w.0 + 1));
        assert_eq!(p.expires_at(w), START + Duration::minutes(30));
    }

    #[test]
    fn the_allowed_failures_pass_and_the_next_is_refused_until_the_window_ends() {
        let p = policy();
        let mut counter = Counter::default();
        for i in 0..5 {
            assert!(
                counter.attempt(&p, START + Duration::seconds(i), false),
                "attempt {i}"
            );
        }
        let now = START + Duration::minutes(1);
        let (window, counts) = counter.reserve(&p, now);
        assert_eq!(counts.current, 6);
        assert_eq!(
            p.judge(counts, now),
            Err(SourceThrottled {
                retry_at: START + Duration::minutes(10)
            })
        );
        counter.release(window);
        // the refusal gave its reservation back: the count is the five failures
        assert_eq!(counter.0[&window], 5);
    }

    #[test]
    fn a_success_gives_back_only_its_own_reservation() {
        let p = policy();
        let mut counter = Counter::default();
        // an attacker alternates guesses on others' accounts with logins to their own
        let mut guesses = 0;
        for i in 0..20 {
            let now = START + Duration::seconds(i);
            if counter.attempt(&p, now, false) {
                guesses += 1;
            }
            assert!(counter.attempt(&p, now, true) || guesses == 5);
        }
        assert_eq!(guesses, 5, "the own account's successes cleared nothing");
    }

    #[test]
    fn the_count_decays_by_window_not_only_by_ttl() {
        let p = policy();
        let mut counter = Counter::default();
        for i in 0..5 {
            assert!(counter.attempt(&p, START + Duration::seconds(i), false));
        }
        // right after the window turns, the previous one still weighs almost fully
        let next = START + Duration::minutes(10);
        assert_eq!(
            p.weighted(
                SourceCounts {
                    current: 0,
                    previous: 5
                },
                next
            ),
            5
        );
        assert!(!counter.attempt(&p, next, false));
        // halfway through, half of it: two more failures fit (2 + ceil(5 * 0.5) = 5)
        let half = START + Duration::minutes(15);
        assert!(counter.attempt(&p, half, false));
        assert!(counter.attempt(&p, half, false));
        assert!(!counter.attempt(&p, half, false));
        // a busy address that keeps failing at the allowed pace is never shut out for good:
        // each window, what has aged lets new attempts in
        let mut now = START + Duration::minutes(20);
        for _ in 0..12 {
            let admitted = (0..10).filter(|_| counter.attempt(&p, now, false)).count();
            assert!(admitted >= 1, "no attempt at all in the window from {now}");
            now += Duration::minutes(10);
        }
    }

    #[test]
    fn retry_at_is_when_the_previous_share_has_shrunk_enough() {
        let p = policy();
        let counts = SourceCounts {
            current: 3,
            previous: 4,
        };
        // at the window's start: 3 + 4 > 5; room for 2 of the previous 4: half the window left
        let verdict = p.judge(counts, START);
        assert_eq!(
            verdict,
            Err(SourceThrottled {
                retry_at: START + Duration::minutes(5)
            })
        );
        assert_eq!(p.judge(counts, START + Duration::minutes(5)), Ok(()));
        assert!(
            p.judge(counts, START + Duration::minutes(5) - Duration::seconds(1))
                .is_err()
        );
    }

    #[test]
    fn concurrent_users_behind_one_address_do_not_refuse_each_other() {
        // every attempt decides on the count its own increment returned: five people
        // logging in at the same instant get 1..=5, and all pass
        let p = policy();
        let mut counter = Counter::default();
        let reservations: Vec<_> = (0..5).map(|_| counter.reserve(&p, START)).collect();
        assert!(
            reservations
                .iter()
                .all(|(_, counts)| p.judge(*counts, START).is_ok())
        );
        for (window, _) in reservations {
            counter.release(window);
        }
        assert_eq!(counter.0[&p.window_at(START)], 0);
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let p = policy();
        let counts = SourceCounts {
            current: u64::MAX,
            previous: u64::MAX,
        };
        assert_eq!(p.weighted(counts, START + Duration::minutes(3)), u64::MAX);
        assert!(p.judge(counts, START).is_err());
    }
}
