//! What point-increase reads from its environment (see template.yaml).

use infra::config::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub users_table: String,
    /// POINTS_EVENTS_TOPIC: the ARN `points.awarded` events are published to.
    pub topic: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            users_table: env.required("USERS_TABLE")?,
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
            ("USERS_TABLE", "users"),
            (
                "POINTS_EVENTS_TOPIC",
                "arn:aws:sns:ap-northeast-2:123456789012:points-events",
            ),
        ];
        let get = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let settings = Settings::from_lookup(get).unwrap();
        assert_eq!(settings.users_table, "users");
        assert_eq!(settings.topic, env[1].1);
        let error = Settings::from_lookup(|n| get(n).filter(|_| n != "POINTS_EVENTS_TOPIC")).unwrap_err();
        assert_eq!(error, ConfigError::Missing("POINTS_EVENTS_TOPIC".into()));
    }
}
