//! Marathons against the emulator: create, read, list, edit with If-Match, cancel.

use crate::common::*;
use domain::Role;
use serde_json::json;

#[tokio::test]
async fn an_organizer_creates_and_everyone_reads() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let created = world
        .call(
            "POST",
            "/marathons",
            Some(&organizer),
            Some(marathon_body(100, 50, 30)),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.etag(), "\"1\"");
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(created.headers["location"], format!("/marathons/{id}").as_str());
    assert_eq!(created.body["course"], "full");
    assert_eq!(created.body["distance_m"], 42195);
    assert_eq!(created.body["status"], "open");

    let read = world.call("GET", &format!("/marathons/{id}"), None, None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    let missing = world
        .call("GET", "/marathons/01JZZZZZZZZZZZZZZZZZZZZZZZ", None, None)
        .await;
    assert_eq!(
        (missing.status, missing.problem_type()),
        (404, "https://mrmrthon.dev/problems/not-found")
    );
    assert_eq!(
        world.call("GET", "/marathons/not-an-id", None, None).await.status,
        404
    );
}

#[tokio::test]
async fn invalid_marathons_name_their_fields() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let body = json!({ "name": "", "date": "tomorrow", "course": "ultra", "points": -5 });
    let reply = world
        .call("POST", "/marathons", Some(&organizer), Some(body))
        .await;
    assert_eq!(reply.status, 400);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "name",
        "date",
        "course",
        "points",
        "capacity",
        "location",
        "registration_closes_at",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
}

#[tokio::test]
async fn listing_by_organizer_upcoming_and_past_pages_through_everything() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let mut ids = Vec::new();
    for days in [10, 20, 30, -10, -20] {
        let mut body = marathon_body(10, 5, days);
        if days < 0 {
            body["registration_closes_at"] = json!("2020-01-01T00:00:00Z");
        }
        let reply = world
            .call("POST", "/marathons", Some(&organizer), Some(body))
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        ids.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    // by organizer, two at a time
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/marathons?organizer={}&limit=2", organizer.id);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = world.call("GET", &path, None, None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.sort();
    let mut got = seen.clone();
    got.sort();
    assert_eq!(got, expected, "every marathon exactly once");

    // upcoming holds the three future ones soonest first; past the two others
    let upcoming = world
        .call("GET", "/marathons?when=upcoming&limit=100", None, None)
        .await;
    let upcoming_ids: Vec<&str> = upcoming.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    let positions: Vec<usize> = ids[..3]
        .iter()
        .map(|id| upcoming_ids.iter().position(|u| u == id).expect("listed"))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "soonest first: {positions:?}"
    );
    let past = world
        .call("GET", "/marathons?when=past&limit=100", None, None)
        .await;
    let past_ids: Vec<&str> = past.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(past_ids.contains(&ids[3].as_str()) && past_ids.contains(&ids[4].as_str()));
    assert!(!past_ids.contains(&ids[0].as_str()));

    for bad in [
        "/marathons?limit=0",
        "/marathons?limit=101",
        "/marathons?when=soon",
        "/marathons?cursor=garbage",
        "/marathons?organizer=nobody",
    ] {
        let reply = world.call("GET", bad, None, None).await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
    }
}

#[tokio::test]
async fn edits_need_the_current_version() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    let path = format!("/marathons/{}", marathon["id"].as_str().unwrap());
    let patch = json!({ "points": 75, "name": "Seoul International Marathon" });

    let without = world
        .call("PATCH", &path, Some(&organizer), Some(patch.clone()))
        .await;
    assert_eq!(without.status, 428);
    let stale = world
        .call_at("PATCH", &path, Some(&organizer), Some(patch.clone()), 7)
        .await;
    assert_eq!(
        (stale.status, stale.problem_type()),
        (412, "https://mrmrthon.dev/problems/precondition-failed")
    );

    let edited = world
        .call_at("PATCH", &path, Some(&organizer), Some(patch.clone()), 1)
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(
        (edited.body["points"].as_u64(), edited.body["version"].as_u64()),
        (Some(75), Some(2))
    );
    assert_eq!(
        edited.body["location"], marathon["location"],
        "unsent fields are kept"
    );
    assert_eq!(edited.etag(), "\"2\"");
    // the same If-Match again is now stale
    let again = world
        .call_at("PATCH", &path, Some(&organizer), Some(patch), 1)
        .await;
    assert_eq!(again.status, 412);
    // `*` is a valid If-Match: whatever version is stored (it answered 428 before)
    let star = request(
        "PATCH",
        &path,
        Some(&organizer),
        Some(json!({ "capacity": 20 })),
        &[("if-match", "*")],
    );
    let star = world.send(star).await;
    assert_eq!(
        (star.status, star.body["version"].as_u64()),
        (200, Some(3)),
        "{:?}",
        star.body
    );
    // an If-Match that is not an entity-tag is refused, even when its digits would match
    let bare = request(
        "PATCH",
        &path,
        Some(&organizer),
        Some(json!({ "capacity": 21 })),
        &[("if-match", "3")],
    );
    assert_eq!(world.send(bare).await.status, 400);
}

/// The document's integers are JSON Schema's: 100.0 is the integer 100.
#[tokio::test]
async fn integral_numbers_are_integers() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let mut body = marathon_body(10, 50, 30);
    body["points"] = json!(50.0);
    body["capacity"] = json!(10.0);
    body["course"] = json!(8000.0);
    let created = world
        .call("POST", "/marathons", Some(&organizer), Some(body.clone()))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        (
            created.body["points"].as_u64(),
            created.body["distance_m"].as_u64()
        ),
        (Some(50), Some(8000))
    );
    body["points"] = json!(50.5);
    let fraction = world
        .call("POST", "/marathons", Some(&organizer), Some(body))
        .await;
    assert_eq!(
        (fraction.status, fraction.body["errors"][0]["field"].as_str()),
        (400, Some("points"))
    );
}

#[tokio::test]
async fn cancelling_keeps_the_marathon_readable_and_closes_entries() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    assert_eq!(world.register(&marathon, &runner).await.status, 201);
    let path = format!("/marathons/{}", marathon["id"].as_str().unwrap());

    let cancelled = world.call("DELETE", &path, Some(&organizer), None).await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(
        world.call("GET", &path, None, None).await.body["status"],
        "cancelled"
    );
    assert_eq!(
        world.call("DELETE", &path, Some(&organizer), None).await.status,
        409
    );

    let late = world.register(&marathon, &world.mint(Role::Runner).await).await;
    assert_eq!(late.status, 409);
    assert!(late.body["detail"].as_str().unwrap().contains("cancelled"));
    let edit = world
        .call_at("PATCH", &path, Some(&organizer), Some(json!({"points": 1})), 2)
        .await;
    assert_eq!(edit.status, 409);
}

#[tokio::test]
async fn client_mistakes_never_give_a_5xx() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let huge = json!({ "name": "x".repeat(70 * 1024) });
    let reply = world
        .call("POST", "/marathons", Some(&organizer), Some(huge))
        .await;
    assert_eq!(
        (reply.status, reply.problem_type()),
        (413, "https://mrmrthon.dev/problems/payload-too-large")
    );
    let mut malformed = request("POST", "/marathons", Some(&organizer), Some(json!({})), &[]);
    malformed["body"] = json!("{\"name\": ");
    assert_eq!(world.send(malformed).await.status, 400);
    let text = request(
        "POST",
        "/marathons",
        Some(&organizer),
        Some(json!({})),
        &[("content-type", "text/plain")],
    );
    assert_eq!(world.send(text).await.status, 415);
    assert_eq!(world.call("GET", "/nowhere", None, None).await.status, 404);
    // a path segment that is not UTF-8 once decoded names nothing: a problem, not axum's text
    let undecodable = world.call("GET", "/marathons/%FF", None, None).await;
    assert_eq!(
        (undecodable.status, undecodable.problem_type()),
        (404, "https://mrmrthon.dev/problems/not-found")
    );
    assert_eq!(
        world
            .call("PUT", "/marathons", Some(&organizer), None)
            .await
            .status,
        405
    );
    let bad_if_match = request(
        "DELETE",
        "/marathons/01JZZZZZZZZZZZZZZZZZZZZZZZ",
        Some(&organizer),
        None,
        &[("if-match", "yesterday")],
    );
    assert!(world.send(bad_if_match).await.status < 500);
}

#[tokio::test]
async fn an_edit_that_changes_nothing_writes_nothing() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    let path = format!("/marathons/{}", marathon["id"].as_str().unwrap());
    // nothing sent, or every field sent back as it is (the closing time in another offset)
    let same_instant = time::OffsetDateTime::parse(
        marathon["registration_closes_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .to_offset(time::macros::offset!(+9))
    .format(&time::format_description::well_known::Rfc3339)
    .unwrap();
    let resent = json!({
        "name": marathon["name"], "date": marathon["date"], "location": marathon["location"],
        "course": marathon["course"], "points": marathon["points"], "capacity": marathon["capacity"],
        "registration_closes_at": same_instant,
    });
    for body in [json!({}), json!({}), json!({}), resent, json!({ "points": 50 })] {
        let reply = world
            .call_at("PATCH", &path, Some(&organizer), Some(body.clone()), 1)
            .await;
        assert_eq!(reply.status, 200, "{body}: {:?}", reply.body);
        assert_eq!(reply.body, marathon, "{body}");
        assert_eq!(reply.etag(), "\"1\"");
    }
    assert_eq!(
        world.activity_kinds(&organizer).await,
        ["user.signed_up", "marathon.created"],
        "no marathon.updated entry, so no mail"
    );
    let changed = world
        .call_at(
            "PATCH",
            &path,
            Some(&organizer),
            Some(json!({ "location": "Jamsil" })),
            1,
        )
        .await;
    assert_eq!(changed.etag(), "\"2\"");
}
