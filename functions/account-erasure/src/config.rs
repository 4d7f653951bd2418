//! What account-erasure reads from its environment (see template.yaml).

use infra::config::{ConfigError, Env};
use time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// RACES_TABLE: entries, results and records.
    pub races_table: String,
    /// ACTIVITY_TABLE: a cancelled entry's activity entry is written with it.
    pub activity_table: String,
    /// ACTIVITY_RETENTION_DAYS: how long those entries are kept.
    pub activity_retention: Duration,
    /// ACCOUNT_ERASURE_FAILURES_QUEUE_URL: the mapping's on-failure queue, where poison
    /// records are parked.
    pub failures_queue: String,
    /// AWS_LAMBDA_FUNCTION_NAME (set by Lambda and cargo lambda): named in parked pointers.
    pub function: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let days = env
            .parsed::<std::num::NonZeroU32>("ACTIVITY_RETENTION_DAYS")?
            .map_or(400, std::num::NonZeroU32::get);
        Ok(Self {
            races_table: env.required("RACES_TABLE")?,
            activity_table: env.required("ACTIVITY_TABLE")?,
            activity_retention: Duration::days(i64::from(days)),
            failures_queue: env.required("ACCOUNT_ERASURE_FAILURES_QUEUE_URL")?,
            function: env
                .optional("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "account-erasure".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variables() {
        let settings = Settings::from_lookup(|n| match n {
            "RACES_TABLE" => Some("races".into()),
            "ACTIVITY_TABLE" => Some("log".into()),
            "ACTIVITY_RETENTION_DAYS" => Some("400".into()),
            "ACCOUNT_ERASURE_FAILURES_QUEUE_URL" => Some("http://sqs/1/failures".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(settings.races_table, "races");
        assert_eq!(settings.activity_retention, Duration::days(400));
        assert_eq!(settings.function, "account-erasure");
        let error = Settings::from_lookup(|_| Some(String::new())).unwrap_err();
        assert!(matches!(error, ConfigError::Missing(_)), "{error:?}");
    }
}
