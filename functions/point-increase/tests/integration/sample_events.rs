//! events/point-increase/result-events.json (the batch `cargo lambda invoke point-increase
//! --data-file` sends) decoded as Lambda delivers it: SQS messages whose bodies are result
//! envelopes, delivered raw from the record-events topic (RawMessageDelivery: true).

use aws_lambda_events::event::sqs::SqsEvent;
use domain::events::{Envelope, ResultEvent};

#[test]
fn every_sample_message_is_a_result_envelope_with_its_type_attribute() {
    let path = format!(
        "{}/../../events/point-increase/result-events.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let event: SqsEvent = serde_json::from_str(&raw).expect("an SQS event");
    let mut seen = Vec::new();
    for message in &event.records {
        let envelope =
            Envelope::<ResultEvent>::parse(message.body.as_deref().expect("a body")).expect("an envelope");
        // SNS passes the publisher's attributes along with a raw delivery
        let attribute = message.message_attributes["type"].string_value.as_deref();
        assert_eq!(attribute, Some(envelope.kind()));
        let change = envelope.event.change();
        assert!(envelope.correlation_id.is_some());
        seen.push((
            envelope.kind(),
            change.runner_name.clone(),
            change.points,
            change.version,
        ));
    }
    assert_eq!(
        seen,
        [
            ("result.recorded", "김러너".to_owned(), 150, 1_795_317_247_512),
            ("result.corrected", "김러너".to_owned(), 150, 1_795_317_902_204),
            ("result.removed", "Lee Runner".to_owned(), 0, 1_795_250_000_001),
        ]
    );
}
