//! How often the local stack polls, and how it backs off: AWS-like for `make dev`, fast
//! for tests (a test waits for results with a deadline, never a fixed sleep, so shorter
//! intervals only make it finish sooner). Idle, the tests' stacks poll little: moto spends
//! a few milliseconds of Python on every request, and make test runs several stacks at
//! once on two cores, so idle polling was CPU the tests themselves waited for.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Pause after a GetRecords that returned nothing (AWS polls a shard about 4 times a second).
    pub stream_poll: Duration,
    /// An idle shard's pause doubles from `stream_poll` after each empty read up to this;
    /// the first read that returns records brings it back.
    pub stream_idle_max: Duration,
    /// SQS: one second or more is a long poll of that many whole seconds; less is a short
    /// poll followed by this pause when the queue was empty.
    pub queue_wait: Duration,
    /// First pause before retrying a failed stream batch; doubles per attempt.
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    /// How often the mailbox looks for new mail.
    pub mailbox_poll: Duration,
}

impl Timing {
    /// `make dev`.
    pub fn dev() -> Timing {
        Timing {
            stream_poll: Duration::from_millis(250),
            stream_idle_max: Duration::from_millis(250),
            queue_wait: Duration::from_secs(2),
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(30),
            mailbox_poll: Duration::from_secs(1),
        }
    }

    /// Tests: a busy shard is read every 50 ms, an idle one at AWS's rate; a queue is long
    /// polled for a second (moto answers at once when a message comes, and waits on a
    /// condition, not a loop); backoffs are short.
    pub fn fast() -> Timing {
        Timing {
            stream_poll: Duration::from_millis(50),
            stream_idle_max: Duration::from_millis(250),
            queue_wait: Duration::from_secs(1),
            retry_backoff: Duration::from_millis(20),
            retry_backoff_max: Duration::from_millis(200),
            mailbox_poll: Duration::from_millis(250),
        }
    }

    /// The pause after `empty` reads in a row that returned nothing (1-based).
    pub fn stream_idle(&self, empty: u32) -> Duration {
        doubled(
            self.stream_poll,
            empty,
            self.stream_idle_max.max(self.stream_poll),
        )
    }

    /// The pause before retry number `retry` (1-based) of a stream batch.
    pub fn backoff(&self, retry: u32) -> Duration {
        doubled(self.retry_backoff, retry, self.retry_backoff_max)
    }
}

/// `first`, doubled for each of the `n - 1` times after the first, at most `cap`.
fn doubled(first: Duration, n: u32, cap: Duration) -> Duration {
    first
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1).min(16)))
        .min(cap)
}

impl Default for Timing {
    fn default() -> Self {
        Timing::dev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let t = Timing::dev();
        assert_eq!(t.backoff(1), Duration::from_secs(1));
        assert_eq!(t.backoff(3), Duration::from_secs(4));
        assert_eq!(t.backoff(40), Duration::from_secs(30));
    }

    #[test]
    fn an_idle_shard_is_read_less_often_in_tests_and_at_one_rate_in_dev() {
        let fast = Timing::fast();
        let ms = |n| fast.stream_idle(n).as_millis();
        assert_eq!([ms(1), ms(2), ms(3), ms(4), ms(50)], [50, 100, 200, 250, 250]);
        let dev = Timing::dev();
        assert_eq!(dev.stream_idle(1), dev.stream_idle(9));
        assert_eq!(dev.stream_idle(1), Duration::from_millis(250));
    }
}
