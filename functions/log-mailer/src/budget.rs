//! The invocation's time budget: Lambda's deadline minus a margin that covers the work
//! already started (one recipient's reads, writes and send, each under its own timeout).
//! Work checks it before it starts anything; a stop (a fatal error) ends it early too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use domain::Clock;
use time::{Duration, OffsetDateTime};

pub struct Budget {
    clock: Arc<dyn Clock>,
    /// None: no deadline known (a test, or a context without one).
    deadline: Option<OffsetDateTime>,
    margin: Duration,
    stopped: AtomicBool,
    /// SES could not take a mail (throttling that did not pass, the daily quota, an
    /// outage): the rest of this invocation's mails are put off without asking it.
    ses_blocked: AtomicBool,
}

/// Lambda's deadline (milliseconds since the epoch, 0 when unknown).
pub fn deadline_of(context: &lambda_runtime::Context) -> Option<OffsetDateTime> {
    infra::deadline::invocation_deadline(context.deadline, OffsetDateTime::now_utc())
}

impl Budget {
    /// The margin is at most a quarter of the time left now, so a short timeout (a local
    /// invoke, a template change) still leaves time to work.
    pub fn new(clock: Arc<dyn Clock>, deadline: Option<OffsetDateTime>, margin: std::time::Duration) -> Self {
        let mut margin = Duration::try_from(margin).unwrap_or(Duration::ZERO);
        if let Some(deadline) = deadline {
            let quarter = ((deadline - clock.now()) / 4_i32).max(Duration::ZERO);
            margin = margin.min(quarter);
        }
        Self {
            clock,
            deadline,
            margin,
            stopped: AtomicBool::new(false),
            ses_blocked: AtomicBool::new(false),
        }
    }

    /// Time left before the margin; None when unbounded.
    fn usable(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline - self.clock.now() - self.margin)
    }

    /// True once nothing new should start: the margin is reached, or `stop` was called.
    pub fn exhausted(&self) -> bool {
        self.stopped.load(Ordering::SeqCst) || self.usable().is_some_and(|left| left <= Duration::ZERO)
    }

    /// Whether waiting `wait` still leaves time to act after it.
    pub fn allows(&self, wait: std::time::Duration) -> bool {
        !self.stopped.load(Ordering::SeqCst)
            && self
                .usable()
                .is_none_or(|left| left > Duration::try_from(wait).unwrap_or(Duration::MAX))
    }

    /// Nothing new starts from now on (a failure that dooms the record).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    pub fn block_ses(&self) {
        self.ses_blocked.store(true, Ordering::SeqCst);
    }

    pub fn ses_blocked(&self) -> bool {
        self.ses_blocked.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::memory::ManualClock;
    use time::macros::datetime;

    #[test]
    fn the_margin_ends_the_budget_before_the_deadline() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-21 10:00:00 UTC)));
        let budget = Budget::new(
            clock.clone(),
            Some(datetime!(2026-11-21 10:01:00 UTC)),
            std::time::Duration::from_secs(10),
        );
        assert!(!budget.exhausted());
        assert!(budget.allows(std::time::Duration::from_secs(49)));
        assert!(!budget.allows(std::time::Duration::from_secs(50)));
        clock.advance(Duration::seconds(50));
        assert!(budget.exhausted());
    }

    #[test]
    fn a_short_invocation_keeps_three_quarters_of_its_time() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-21 10:00:00 UTC)));
        let budget = Budget::new(
            clock.clone(),
            Some(datetime!(2026-11-21 10:00:08 UTC)),
            std::time::Duration::from_secs(10),
        );
        assert!(budget.allows(std::time::Duration::from_millis(5_900)));
        assert!(!budget.allows(std::time::Duration::from_secs(6)));
        clock.advance(Duration::seconds(6));
        assert!(budget.exhausted());
    }

    #[test]
    fn no_deadline_means_unbounded_until_stopped() {
        let budget = Budget::new(
            Arc::new(domain::SystemClock),
            None,
            std::time::Duration::from_secs(10),
        );
        assert!(!budget.exhausted());
        assert!(budget.allows(std::time::Duration::from_secs(3600)));
        budget.stop();
        assert!(budget.exhausted());
        assert!(!budget.allows(std::time::Duration::ZERO));
    }

    #[test]
    fn lambda_deadlines_are_milliseconds() {
        let mut context = lambda_runtime::Context::default();
        assert_eq!(deadline_of(&context), None);
        context.deadline = 1_795_262_400_250;
        assert_eq!(deadline_of(&context), Some(datetime!(2026-11-21 12:00:00.25 UTC)));
    }
}
