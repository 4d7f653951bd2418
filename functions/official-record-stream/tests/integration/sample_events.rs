//! events/official-record-stream/result-changes.json (the batch `cargo lambda invoke
//! official-record-stream --data-file` sends) decoded as Lambda delivers it and run through
//! the translation; what comes out is what events/point-increase/ says arrives downstream.

use aws_lambda_events::event::dynamodb::Event;
use serde_json::Value;

fn sample(path: &str) -> String {
    let path = format!("{}/../../events/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn insert_modify_remove_of_result_items_become_the_point_increase_samples() {
    let mut event: Event =
        serde_json::from_str(&sample("official-record-stream/result-changes.json")).expect("a stream event");
    let published: Vec<Value> = event
        .records
        .iter_mut()
        .map(|record| {
            let envelope = official_record_stream::translate::translate(record)
                .expect("a decodable result item")
                .expect("every sample record is a result change");
            serde_json::to_value(&envelope).unwrap()
        })
        .collect();
    let kinds: Vec<&str> = published.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["result.recorded", "result.corrected", "result.removed"]);

    // the queue delivers them raw (RawMessageDelivery: true): the bodies are the envelopes
    let downstream: Value = serde_json::from_str(&sample("point-increase/result-events.json")).unwrap();
    let bodies: Vec<Value> = downstream["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| serde_json::from_str(m["body"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(bodies.len(), published.len());
    for (ours, theirs) in published.iter().zip(&bodies) {
        // the id is new at each publish; everything else is the record's
        for field in ["type", "schema", "occurred_at", "correlation_id", "data"] {
            assert_eq!(ours[field], theirs[field], "{field} of {}", ours["type"]);
        }
    }
    // a removal contributes nothing, one version above the removed item's
    assert_eq!(published[2]["data"]["points"], 0);
    assert_eq!(published[2]["data"]["version"], 1_795_250_000_001_u64);
}
