//! What results-import reads from its environment (see template.yaml).

use infra::config::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub races_table: String,
    pub activity_table: String,
    /// How long activity entries (the mails' source) are kept, as record-api keeps them.
    pub activity_retention: time::Duration,
    /// IMPORTS_BUCKET: where the files and commit markers are.
    pub bucket: String,
    /// POINTS_EVENTS_TOPIC: the one `results.imported` summary per import goes there.
    pub topic: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            races_table: env.required("RACES_TABLE")?,
            activity_table: env.required("ACTIVITY_TABLE")?,
            activity_retention: time::Duration::days(
                env.parsed::<std::num::NonZeroU32>("ACTIVITY_RETENTION_DAYS")?
                    .map_or(400, std::num::NonZeroU32::get)
                    .into(),
            ),
            bucket: env.required("IMPORTS_BUCKET")?,
            topic: env.required("POINTS_EVENTS_TOPIC")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variables() {
        let env = [
            ("RACES_TABLE", "races"),
            ("ACTIVITY_TABLE", "activity"),
            ("ACTIVITY_RETENTION_DAYS", "30"),
            ("IMPORTS_BUCKET", "imports"),
            (
                "POINTS_EVENTS_TOPIC",
                "arn:aws:sns:ap-northeast-2:123456789012:points-events",
            ),
        ];
        let get = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let settings = Settings::from_lookup(get).unwrap();
        assert_eq!(settings.bucket, "imports");
        assert_eq!(settings.activity_retention, time::Duration::days(30));
        let error = Settings::from_lookup(|n| get(n).filter(|_| n != "IMPORTS_BUCKET")).unwrap_err();
        assert_eq!(error, ConfigError::Missing("IMPORTS_BUCKET".into()));
    }
}
