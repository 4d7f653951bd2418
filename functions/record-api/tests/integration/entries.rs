//! Entries against the emulator: registration rules, cancellation, listings.

use crate::common::*;
use domain::Role;
use serde_json::json;

#[tokio::test]
async fn a_runner_registers_once_and_cancels() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();

    let entry = world.register(&marathon, &runner).await;
    assert_eq!(entry.status, 201, "{:?}", entry.body);
    assert_eq!(entry.body["runner_name"], runner.name.as_str());
    let twice = world.register(&marathon, &runner).await;
    assert_eq!(twice.status, 409);
    assert!(
        twice.body["detail"]
            .as_str()
            .unwrap()
            .contains("already registered")
    );
    assert_eq!(
        world
            .call("GET", &format!("/marathons/{id}"), None, None)
            .await
            .body["entry_count"],
        1
    );

    let mine = world.call("GET", "/me/entries", Some(&runner), None).await;
    assert_eq!(mine.body["items"][0]["marathon_id"], id);

    assert_eq!(
        world
            .call(
                "DELETE",
                &format!("/marathons/{id}/entries/me"),
                Some(&runner),
                None
            )
            .await
            .status,
        204
    );
    assert_eq!(
        world
            .call(
                "DELETE",
                &format!("/marathons/{id}/entries/me"),
                Some(&runner),
                None
            )
            .await
            .status,
        404
    );
    assert_eq!(
        world
            .call("GET", &format!("/marathons/{id}"), None, None)
            .await
            .body["entry_count"],
        0
    );
    assert_eq!(
        world.call("GET", "/me/entries", Some(&runner), None).await.body["items"],
        json!([])
    );
}

#[tokio::test]
async fn registration_refuses_full_and_closed_marathons() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let small = world.marathon(&organizer, 1, 50).await;
    assert_eq!(
        world
            .register(&small, &world.mint(Role::Runner).await)
            .await
            .status,
        201
    );
    let full = world.register(&small, &world.mint(Role::Runner).await).await;
    assert_eq!(full.status, 409);
    assert!(full.body["detail"].as_str().unwrap().contains("full"));

    let mut body = marathon_body(10, 50, 30);
    body["registration_closes_at"] = json!("2020-01-01T00:00:00Z");
    let closed = world
        .call("POST", "/marathons", Some(&organizer), Some(body))
        .await
        .body;
    let late = world.register(&closed, &world.mint(Role::Runner).await).await;
    assert_eq!(late.status, 409);
    assert!(late.body["detail"].as_str().unwrap().contains("closed"));
}

#[tokio::test]
async fn entries_cannot_be_cancelled_on_race_day() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    world.register(&marathon, &runner).await;
    // move the race to today: registration must close by then too
    let today = time::OffsetDateTime::now_utc().date();
    let path = format!("/marathons/{}", marathon["id"].as_str().unwrap());
    let patch = json!({ "date": today.to_string(), "registration_closes_at": format!("{today}T00:00:00Z") });
    let edited = world
        .call_at("PATCH", &path, Some(&organizer), Some(patch), 1)
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    let reply = world
        .call("DELETE", &format!("{path}/entries/me"), Some(&runner), None)
        .await;
    assert_eq!(reply.status, 409);
}

#[tokio::test]
async fn entry_listings_show_the_marathon_as_edited() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    world.register(&marathon, &runner).await;
    let path = format!("/marathons/{}", marathon["id"].as_str().unwrap());
    let patch = json!({ "name": "Renamed Marathon", "date": "2099-04-05" });
    let edited = world
        .call_at("PATCH", &path, Some(&organizer), Some(patch), 1)
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);

    let mine = world.call("GET", "/me/entries", Some(&runner), None).await;
    let theirs = world
        .call("GET", &format!("{path}/entries"), Some(&organizer), None)
        .await;
    for listing in [mine, theirs] {
        let entry = &listing.body["items"][0];
        assert_eq!(
            (&entry["marathon_name"], &entry["marathon_date"]),
            (&json!("Renamed Marathon"), &json!("2099-04-05")),
            "{:?}",
            listing.body
        );
    }
}

#[tokio::test]
async fn the_organizer_lists_participants_with_names() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    let mut names = Vec::new();
    for _ in 0..3 {
        let runner = world.mint(Role::Runner).await;
        world.register(&marathon, &runner).await;
        names.push(runner.name);
    }
    let path = format!("/marathons/{}/entries?limit=2", marathon["id"].as_str().unwrap());
    let first = world.call("GET", &path, Some(&organizer), None).await;
    assert_eq!(first.status, 200);
    let cursor = first.body["next_cursor"].as_str().expect("a second page");
    let second = world
        .call("GET", &format!("{path}&cursor={cursor}"), Some(&organizer), None)
        .await;
    let mut listed: Vec<String> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|e| e["runner_name"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    names.sort();
    assert_eq!(listed, names);
}
