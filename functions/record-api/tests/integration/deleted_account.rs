//! A deleted account's access token against the emulator: it lives until it expires,
//! but writes nothing in the account's name (docs/DESIGN.md, Account deletion).

use crate::common::*;
use domain::Role;
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::ports::UserStore;
use serde_json::json;

/// Deletes the account as login does (the Users side: the profile keeps only its
/// anonymous public part).
async fn delete(world: &World, user: &TestUser) {
    let account = world
        .users
        .credentials_by_id(&user.id)
        .await
        .unwrap()
        .expect("the account exists");
    let now = world.clock.now();
    let entry = ActivityEntry::new(
        user.id.clone(),
        ActivityKind::AccountDeleted,
        now,
        RequestOrigin::default(),
    );
    world
        .users
        .delete_account(&account, now, &entry, now + time::Duration::days(3))
        .await
        .expect("delete the account");
}

fn assert_refused(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: {:?}", reply.body);
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{what}"
    );
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no longer exists"),
        "{what}: {:?}",
        reply.body
    );
}

#[tokio::test]
async fn a_deleted_accounts_token_writes_nothing() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();
    assert_eq!(world.register(&marathon, &runner).await.status, 201);
    let record =
        json!({ "kind": "training", "date": "2026-11-20", "distance_m": 5000, "duration": "0:25:00" });
    let created = world
        .call("POST", "/me/records", Some(&runner), Some(record.clone()))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let path = format!("/me/records/{}", created.body["id"].as_str().unwrap());

    delete(&world, &runner).await;
    // the token is still valid: only the account behind it is gone
    let writes = [
        ("POST", "/me/records".to_owned(), Some(record)),
        (
            "PATCH",
            path.clone(),
            Some(json!({ "notes": "after my deletion" })),
        ),
        (
            "PUT",
            "/me/race-profile".to_owned(),
            Some(json!({ "sex": "female", "birth": "1990" })),
        ),
        ("DELETE", format!("/marathons/{id}/entries/me"), None),
        ("POST", format!("/marathons/{id}/entries"), None),
    ];
    for (method, path, body) in writes {
        let reply = world.call(method, &path, Some(&runner), body).await;
        assert_refused(&reply, &format!("{method} {path}"));
    }
    // nothing was written: one record, unchanged; no race profile
    let records = world.call("GET", "/me/records", Some(&runner), None).await;
    assert_eq!(records.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        world.call("GET", &path, Some(&runner), None).await.body,
        created.body
    );
    let profile = world.call("GET", "/me/race-profile", Some(&runner), None).await;
    assert_eq!(
        (&profile.body["sex"], &profile.body["birth"]),
        (&json!(null), &json!(null)),
        "{:?}",
        profile.body
    );
    let kinds = world.activity_kinds(&runner).await;
    assert!(
        !kinds
            .iter()
            .any(|k| k == "record.updated" || k == "user.race_profile_updated"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_live_accounts_writes_still_pass() {
    // the check reads the profile's public attributes only (record-api's IAM allows no
    // more): a live account passes it
    let world = world().await;
    let runner = world.mint(Role::Runner).await;
    let profile = world
        .call(
            "PUT",
            "/me/race-profile",
            Some(&runner),
            Some(json!({ "sex": "female", "birth": "1990" })),
        )
        .await;
    assert_eq!(profile.status, 200, "{:?}", profile.body);
    assert_eq!(profile.body["sex"], "female");
}
