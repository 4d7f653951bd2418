//! The webhook URL is a secret: it reaches no log line, whatever happens to a post. And
//! every message gets its one line with outcome, duration, correlation id and message id.
//! (Its own test binary: the subscriber captures everything on this test's thread.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

// current_thread (the default): every task of the code under test runs on this thread,
// under the subscriber set below; the stand-in Discord runs on a thread of its own.
#[tokio::test]
async fn the_webhook_url_reaches_no_log_line_and_each_message_gets_one_line() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let discord = Discord::start();
    let notifier = notifier(&discord.url()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = common::notifier(&format!(
        "http://{}/api/webhooks/1234567890/{TOKEN}",
        closed.local_addr().unwrap()
    ))
    .await;
    drop(closed);

    let mut expected = Vec::new(); // (message id, correlation id, outcome)
    let cases = [
        (vec![], "posted", &notifier),
        (vec![Reply::Status(500); 3], "unavailable", &notifier),
        (vec![Reply::Status(400)], "rejected", &notifier),
        (vec![Reply::Hang, Reply::Status(204)], "posted", &notifier),
        (vec![], "unavailable", &unreachable),
    ];
    for (script, outcome, target) in cases {
        discord.script(script);
        let event = fresh("points-awarded.json");
        expected.push((
            event.records[0].message_id.clone().unwrap(),
            "c-01JDQ9A0REQ",
            outcome,
        ));
        target.process(event, deadline_in(20)).await.unwrap();
    }
    // rate limited beyond the time left: the last one, its pause holds the notifier
    discord.script([Reply::RateLimited(60.0)]);
    let event = fresh("points-awarded.json");
    expected.push((
        event.records[0].message_id.clone().unwrap(),
        "c-01JDQ9A0REQ",
        "rate_limited",
    ));
    notifier.process(event, deadline_in(20)).await.unwrap();
    // poison: no envelope, so no correlation id
    let mut poison = fresh("points-awarded.json");
    poison.records[0].body = Some("garbage".into());
    expected.push((poison.records[0].message_id.clone().unwrap(), "", "poison"));
    notifier.process(poison, deadline_in(20)).await.unwrap();
    tracing::info!(notifier = ?notifier, "the whole notifier, debug-printed");

    let lines = captured.lines();
    assert!(
        lines.len() > expected.len(),
        "the capture works: {} lines",
        lines.len()
    );
    for line in &lines {
        assert!(!line.contains(TOKEN), "the webhook token in a log line: {line}");
        assert!(
            !line.contains("/api/webhooks/"),
            "the webhook path in a log line: {line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("the whole notifier") && l.contains("redacted")),
        "the Debug form was logged, redacted"
    );

    let summaries: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "discord notification")
        .collect();
    assert_eq!(summaries.len(), expected.len(), "one line per message");
    for (id, correlation_id, outcome) in &expected {
        let mine: Vec<&Value> = summaries
            .iter()
            .filter(|l| l["fields"]["message_id"] == id.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "one line for {id}");
        let fields = &mine[0]["fields"];
        assert_eq!(fields["outcome"], *outcome, "{fields}");
        assert_eq!(fields["correlation_id"], *correlation_id, "{fields}");
        assert!(fields["duration_ms"].is_u64(), "{fields}");
    }
}
