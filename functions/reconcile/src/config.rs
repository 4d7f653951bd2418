//! What reconcile reads from its environment (see template.yaml).

use infra::config::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub races_table: String,
    pub users_table: String,
    /// RECORD_EVENTS_TOPIC: where official-record-stream publishes; repairs go the same way.
    pub topic: String,
    /// GRACE_SECONDS: how old a pending marker must be before a pass looks at it. The
    /// normal path takes seconds and the stream retries for hours: the default 300 keeps
    /// a pass from racing an event still on its way (one it did race is only a duplicate,
    /// which the ledger ignores).
    pub grace_seconds: u64,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            races_table: env.required("RACES_TABLE")?,
            users_table: env.required("USERS_TABLE")?,
            topic: env.required("RECORD_EVENTS_TOPIC")?,
            grace_seconds: match env.optional("GRACE_SECONDS") {
                None => 300,
                Some(text) => text
                    .parse()
                    .map_err(|_| ConfigError::Invalid("GRACE_SECONDS".into(), text))?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variables_and_defaults_the_grace() {
        let env = |grace: Option<&'static str>| {
            move |name: &str| match name {
                "RACES_TABLE" => Some("races".to_owned()),
                "USERS_TABLE" => Some("users".to_owned()),
                "RECORD_EVENTS_TOPIC" => Some("arn:aws:sns:ap-northeast-2:1:record-events".to_owned()),
                "GRACE_SECONDS" => grace.map(str::to_owned),
                _ => None,
            }
        };
        let settings = Settings::from_lookup(env(None)).unwrap();
        assert_eq!(
            (settings.races_table.as_str(), settings.users_table.as_str()),
            ("races", "users")
        );
        assert_eq!(settings.grace_seconds, 300);
        assert_eq!(Settings::from_lookup(env(Some("0"))).unwrap().grace_seconds, 0);
        assert_eq!(
            Settings::from_lookup(env(Some("soon"))).unwrap_err(),
            ConfigError::Invalid("GRACE_SECONDS".into(), "soon".into())
        );
        assert_eq!(
            Settings::from_lookup(|_| None).unwrap_err(),
            ConfigError::Missing("RACES_TABLE".into())
        );
    }
}
