//! Structured JSON logs, one line per event; Lambda adds the timestamp and request id.

use tracing_subscriber::filter::LevelFilter;

pub fn init() {
    let level = level(crate::config::process);
    // try_init: tests and local tools may have installed a subscriber already.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_target(false)
        .with_current_span(true)
        .without_time()
        .with_ansi(false)
        .try_init();
}

/// One level for the whole function: Lambda's `AWS_LAMBDA_LOG_LEVEL` (from the template's
/// `LoggingConfig.ApplicationLogLevel`), else `RUST_LOG` when it is a bare level, else info.
/// A level rather than `EnvFilter` directives: the filter's regex engine was about 5% of
/// every binary, and per-module levels are not something a function needs.
fn level(lookup: impl Fn(&str) -> Option<String>) -> LevelFilter {
    ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .filter_map(|name| lookup(name))
        .find_map(|value| parse(&value))
        .unwrap_or(LevelFilter::INFO)
}

fn parse(value: &str) -> Option<LevelFilter> {
    match value.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(LevelFilter::TRACE),
        "debug" => Some(LevelFilter::DEBUG),
        "info" => Some(LevelFilter::INFO),
        "warn" | "warning" => Some(LevelFilter::WARN),
        // Lambda's FATAL has no tracing level of its own
        "error" | "fatal" => Some(LevelFilter::ERROR),
        "off" => Some(LevelFilter::OFF),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level_of(env: &[(&str, &str)]) -> LevelFilter {
        level(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn lambda_level_first_then_rust_log_then_info() {
        assert_eq!(level_of(&[]), LevelFilter::INFO);
        assert_eq!(level_of(&[("RUST_LOG", "debug")]), LevelFilter::DEBUG);
        assert_eq!(
            level_of(&[("AWS_LAMBDA_LOG_LEVEL", "WARN"), ("RUST_LOG", "debug")]),
            LevelFilter::WARN
        );
        assert_eq!(level_of(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]), LevelFilter::ERROR);
        // directives we do not read fall back rather than silence the function
        assert_eq!(
            level_of(&[("RUST_LOG", "info,aws_smithy=warn")]),
            LevelFilter::INFO
        );
        assert_eq!(
            level_of(&[("AWS_LAMBDA_LOG_LEVEL", "loud"), ("RUST_LOG", "trace")]),
            LevelFilter::TRACE
        );
    }
}
