//! The invocation deadline Lambda gives (`Lambda-Runtime-Deadline-Ms`, milliseconds since
//! the epoch). `cargo lambda watch` sends its timeout instead (600000, a date in 1970):
//! no real deadline is that small, so such a value is read as milliseconds from now.

use time::OffsetDateTime;

/// Anything below this (September 2001) cannot be an epoch deadline.
const EPOCH_FLOOR_MS: u64 = 1_000_000_000_000;

/// The deadline as a point in time; None when the runtime gave none (0).
pub fn invocation_deadline(deadline_ms: u64, now: OffsetDateTime) -> Option<OffsetDateTime> {
    match deadline_ms {
        0 => None,
        relative if relative < EPOCH_FLOOR_MS => Some(now + time::Duration::milliseconds(relative as i64)),
        absolute => OffsetDateTime::from_unix_timestamp_nanos(i128::from(absolute) * 1_000_000).ok(),
    }
}

/// Time left until the deadline (zero once passed); None without a deadline.
pub fn time_left(deadline_ms: u64, now: OffsetDateTime) -> Option<std::time::Duration> {
    invocation_deadline(deadline_ms, now).map(|deadline| (deadline - now).try_into().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    #[test]
    fn lambda_deadlines_are_epoch_milliseconds() {
        let deadline_ms = (NOW.unix_timestamp() as u64 + 30) * 1000;
        assert_eq!(
            time_left(deadline_ms, NOW),
            Some(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            time_left(deadline_ms - 60_000, NOW),
            Some(std::time::Duration::ZERO)
        );
    }

    #[test]
    fn cargo_lambda_watch_sends_a_timeout_not_a_date() {
        assert_eq!(time_left(600_000, NOW), Some(std::time::Duration::from_secs(600)));
        assert_eq!(time_left(0, NOW), None);
    }
}
