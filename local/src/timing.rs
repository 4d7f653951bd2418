//! How often the local stack polls, and how it backs off: AWS-like for `make dev`, fast
//! for tests (a test waits for results with a deadline, never a fixed sleep, so shorter
//! intervals only make it finish sooner).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Pause after a GetRecords that returned nothing (AWS polls a shard about 4 times a second).
    pub stream_poll: Duration,
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
            queue_wait: Duration::from_secs(2),
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(30),
            mailbox_poll: Duration::from_secs(1),
        }
    }

    /// Tests: every loop turns within about 50 ms.
    pub fn fast() -> Timing {
        Timing {
            stream_poll: Duration::from_millis(50),
            queue_wait: Duration::from_millis(50),
            retry_backoff: Duration::from_millis(20),
            retry_backoff_max: Duration::from_millis(200),
            mailbox_poll: Duration::from_millis(100),
        }
    }

    /// The pause before retry number `retry` (1-based) of a stream batch.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(16));
        self.retry_backoff
            .saturating_mul(factor)
            .min(self.retry_backoff_max)
    }
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
}
