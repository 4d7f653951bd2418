//! Structured JSON logs, one line per event; Lambda adds the timestamp and request id.

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // try_init: tests and local tools may have installed a subscriber already.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(true)
        .without_time()
        .with_ansi(false)
        .try_init();
}
