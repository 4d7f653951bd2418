//! What official-record-stream reads from its environment (see template.yaml).

use infra::config::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// RECORD_EVENTS_TOPIC: the ARN result events are published to.
    pub topic: String,
    /// RECORD_STREAM_FAILURES_QUEUE_URL: the mapping's on-failure queue, where poison records are parked.
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
        Ok(Self {
            topic: env.required("RECORD_EVENTS_TOPIC")?,
            failures_queue: env.required("RECORD_STREAM_FAILURES_QUEUE_URL")?,
            function: env
                .optional("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "official-record-stream".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_template_variable() {
        let arn = "arn:aws:sns:ap-northeast-2:123456789012:record-events";
        let queue = "http://sqs/1/failures";
        let settings = Settings::from_lookup(|n| match n {
            "RECORD_EVENTS_TOPIC" => Some(arn.to_owned()),
            "RECORD_STREAM_FAILURES_QUEUE_URL" => Some(queue.to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (settings.topic.as_str(), settings.failures_queue.as_str()),
            (arn, queue)
        );
        assert_eq!(settings.function, "official-record-stream");
        let error = Settings::from_lookup(|_| Some(String::new())).unwrap_err();
        assert_eq!(error, ConfigError::Missing("RECORD_EVENTS_TOPIC".into()));
    }
}
