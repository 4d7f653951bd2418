//! One stream record -> one result event (or nothing). The image is the stored item
//! (`infra::dynamo::races::ResultItem`, the writer's own type); the event is the contract
//! (`ResultChange`); the one is made from the other here, field by field.

use aws_lambda_events::event::dynamodb::EventRecord;
use domain::events::{Envelope, ResultChange, ResultEvent};
use infra::batch::ItemError;
use infra::dynamo::races::ResultItem;
use time::OffsetDateTime;

/// Takes the image out of the record (the handler owns it and needs only its sequence
/// number afterwards): no copy of the item.
fn decode(image: &mut serde_dynamo::Item, which: &str) -> Result<ResultItem, ItemError> {
    let item: ResultItem = serde_dynamo::from_item(std::mem::take(image))
        .map_err(|e| ItemError::Poison(format!("undecodable {which} image: {e}")))?;
    if item.result_id.is_empty() {
        return Err(ItemError::Poison(format!(
            "undecodable {which} image: empty result_id"
        )));
    }
    Ok(item)
}

/// The `version` attribute of an image (a DynamoDB number), without decoding the rest.
fn stored_version(image: &serde_dynamo::Item) -> Result<u64, ItemError> {
    match image.get("version") {
        Some(serde_dynamo::AttributeValue::N(n)) => n
            .parse()
            .map_err(|_| ItemError::Poison(format!("undecodable old image: version {n:?}"))),
        _ => Err(ItemError::Poison(
            "undecodable old image: no numeric version".into(),
        )),
    }
}

fn change(stored: ResultItem, points: u32, version: u64) -> ResultChange {
    ResultChange {
        result_id: stored.result_id,
        marathon_id: stored.marathon_id,
        marathon_name: stored.marathon_name,
        marathon_date: Some(stored.marathon_date),
        runner_id: stored.runner_id,
        runner_name: stored.runner_name.as_str().to_owned(),
        points,
        version,
        // set by an import on the result it wrote (a removal is announced on its own)
        import_id: stored.import_id,
    }
}

/// INSERT -> recorded, MODIFY -> corrected, REMOVE -> removed (contribution 0, one version
/// above the last). Records that are not official results, and updates that changed
/// nothing (the emulator emits those; AWS does not), produce no event.
pub fn translate(record: &mut EventRecord) -> Result<Option<Envelope<ResultEvent>>, ItemError> {
    let is_result = record
        .change
        .keys
        .get("sk")
        .and_then(|sk| match sk {
            serde_dynamo::AttributeValue::S(sk) => Some(infra::dynamo::keys::is_result_sk(sk)),
            _ => None,
        })
        .unwrap_or(false);
    if !is_result {
        return Ok(None);
    }
    let occurred_at =
        OffsetDateTime::from_unix_timestamp(record.change.approximate_creation_date_time.timestamp())
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let (event, correlation) = match record.event_name.as_str() {
        "INSERT" => {
            let new = decode(&mut record.change.new_image, "new")?;
            let (points, version, correlation) = (new.points, new.version, new.correlation_id.clone());
            (ResultEvent::Recorded(change(new, points, version)), correlation)
        }
        "MODIFY" => {
            let new = decode(&mut record.change.new_image, "new")?;
            // only the old version matters here: no need to decode the whole old image
            if new.version == stored_version(&record.change.old_image)? {
                return Ok(None);
            }
            let (points, version, correlation) = (new.points, new.version, new.correlation_id.clone());
            (ResultEvent::Corrected(change(new, points, version)), correlation)
        }
        "REMOVE" => {
            let old = decode(&mut record.change.old_image, "old")?;
            let (version, correlation) = (old.version + 1, old.correlation_id.clone());
            let mut removed = change(old, 0, version);
            removed.import_id = None;
            (ResultEvent::Removed(removed), correlation)
        }
        other => return Err(ItemError::Poison(format!("unknown event name {other:?}"))),
    };
    debug_assert!(!event.change().result_id.is_empty());
    Ok(Some(Envelope::new(event, occurred_at, correlation)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        name: &str,
        sk: &str,
        old: Option<serde_json::Value>,
        new: Option<serde_json::Value>,
    ) -> EventRecord {
        let mut change = serde_json::json!({
            "ApproximateCreationDateTime": 1795255200.0,
            "Keys": { "pk": { "S": "MARATHON#01JAAAAAAAAAAAAAAAAAAAAAAA" }, "sk": { "S": sk } },
            "SequenceNumber": "100",
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        });
        if let Some(old) = old {
            change["OldImage"] = old;
        }
        if let Some(new) = new {
            change["NewImage"] = new;
        }
        serde_json::from_value(serde_json::json!({
            "eventID": "1", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": change,
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/races/stream/x"
        }))
        .unwrap()
    }

    fn image(version: u64, points: u32) -> serde_json::Value {
        serde_json::json!({
            "pk": { "S": "MARATHON#01JAAAAAAAAAAAAAAAAAAAAAAA" }, "sk": { "S": "RESULT#01JBBBBBBBBBBBBBBBBBBBBBBB" },
            "result_id": { "S": "01JAAAAAAAAAAAAAAAAAAAAAAA.01JBBBBBBBBBBBBBBBBBBBBBBB" },
            "marathon_id": { "S": "01JAAAAAAAAAAAAAAAAAAAAAAA" }, "marathon_name": { "S": "Seoul" }, "marathon_date": { "S": "2027-03-21" },
            "runner_id": { "S": "01JBBBBBBBBBBBBBBBBBBBBBBB" }, "runner_name": { "S": "Kim" },
            "finish_seconds": { "N": "10800" }, "finish_time": { "S": "3:00:00" }, "bonus_points": { "N": "10" },
            "points": { "N": points.to_string() }, "version": { "N": version.to_string() },
            "recorded_at": { "S": "2026-11-21T10:00:00Z" }, "updated_at": { "S": "2026-11-21T10:00:00Z" },
            "correlation_id": { "S": "req-1" }
        })
    }

    fn data(envelope: &Envelope<ResultEvent>) -> (&'static str, u32, u64) {
        let c = envelope.event.change();
        (envelope.kind(), c.points, c.version)
    }

    #[test]
    fn insert_modify_remove_become_recorded_corrected_removed() {
        let insert = translate(&mut record("INSERT", "RESULT#x", None, Some(image(1, 110))))
            .unwrap()
            .unwrap();
        assert_eq!(data(&insert), ("result.recorded", 110, 1));
        // the season leaderboard's year travels with every event
        assert_eq!(
            insert.event.change().marathon_date,
            Some(time::macros::date!(2027 - 03 - 21))
        );
        assert_eq!(insert.correlation_id.as_deref(), Some("req-1"));
        let modify = translate(&mut record(
            "MODIFY",
            "RESULT#x",
            Some(image(1, 110)),
            Some(image(2, 100)),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(data(&modify), ("result.corrected", 100, 2));
        let remove = translate(&mut record("REMOVE", "RESULT#x", Some(image(2, 100)), None))
            .unwrap()
            .unwrap();
        assert_eq!(data(&remove), ("result.removed", 0, 3));
    }

    #[test]
    fn other_items_and_no_op_updates_produce_nothing() {
        assert!(
            translate(&mut record("INSERT", "ENTRY#x", None, Some(image(1, 1))))
                .unwrap()
                .is_none()
        );
        assert!(
            translate(&mut record(
                "MODIFY",
                "RESULT#x",
                Some(image(2, 5)),
                Some(image(2, 5))
            ))
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn undecodable_images_are_poison() {
        let broken = serde_json::json!({ "sk": { "S": "RESULT#x" } });
        assert!(matches!(
            translate(&mut record("INSERT", "RESULT#x", None, Some(broken.clone()))),
            Err(ItemError::Poison(_))
        ));
        // a complete result without its id, or with a broken field beside its id
        let mut no_id = image(1, 110);
        no_id.as_object_mut().unwrap().remove("result_id");
        let mut bad_points = image(1, 110);
        bad_points["points"] = serde_json::json!({ "S": "many" });
        for new in [no_id, bad_points] {
            assert!(matches!(
                translate(&mut record("INSERT", "RESULT#x", None, Some(new))),
                Err(ItemError::Poison(reason)) if reason.starts_with("undecodable new image")
            ));
        }
        // a MODIFY whose old image has no usable version
        let mut old = image(1, 110);
        old["version"] = serde_json::json!({ "S": "one" });
        for old in [old, broken] {
            assert!(matches!(
                translate(&mut record("MODIFY", "RESULT#x", Some(old), Some(image(2, 110)))),
                Err(ItemError::Poison(_))
            ));
        }
    }
}
