//! What official-record-stream reads from its environment (see template.yaml).

use infra::config::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// RECORD_EVENTS_TOPIC: the ARN result events are published to.
    pub topic: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(infra::config::process)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            topic: env.required("RECORD_EVENTS_TOPIC")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variable() {
        let arn = "arn:aws:sns:ap-northeast-2:123456789012:record-events";
        let settings = Settings::from_lookup(|n| (n == "RECORD_EVENTS_TOPIC").then(|| arn.to_owned()));
        assert_eq!(settings.unwrap().topic, arn);
        let error = Settings::from_lookup(|_| Some(String::new())).unwrap_err();
        assert_eq!(error, ConfigError::Missing("RECORD_EVENTS_TOPIC".into()));
    }
}
