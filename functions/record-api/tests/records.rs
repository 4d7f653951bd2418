//! Private records against the emulator: owner only, and no existence leak.

mod common;

use common::*;
use domain::Role;
use serde_json::json;

#[tokio::test]
async fn a_runner_keeps_private_records() {
    let world = world().await;
    let runner = world.mint(Role::Runner).await;
    let other = world.mint(Role::Runner).await;
    let body = json!({ "kind": "training", "date": "2026-11-20", "distance_m": 12000, "duration": "1:02:03", "notes": "tempo" });
    let created = world.call("POST", "/me/records", Some(&runner), Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(created.body["duration_seconds"], 3723);
    let path = format!("/me/records/{id}");

    assert_eq!(
        world.call("GET", &path, Some(&runner), None).await.body,
        created.body
    );
    // another runner sees exactly what a made-up id shows
    let foreign = world.call("GET", &path, Some(&other), None).await;
    let made_up = world
        .call(
            "GET",
            "/me/records/01JZZZZZZZZZZZZZZZZZZZZZZZ",
            Some(&other),
            None,
        )
        .await;
    assert_eq!((foreign.status, &foreign.body), (404, &made_up.body));
    assert_eq!(
        world
            .call("PATCH", &path, Some(&other), Some(json!({ "notes": "mine now" })))
            .await
            .status,
        404
    );
    assert_eq!(world.call("DELETE", &path, Some(&other), None).await.status, 404);

    let edited = world
        .call(
            "PATCH",
            &path,
            Some(&runner),
            Some(json!({ "notes": "easy", "kind": "race" })),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(
        (edited.body["notes"].as_str(), edited.body["kind"].as_str()),
        (Some("easy"), Some("race"))
    );
    assert_eq!(edited.body["distance_m"], 12000);
    let bad = world
        .call("PATCH", &path, Some(&runner), Some(json!({ "distance_m": 0 })))
        .await;
    assert_eq!(
        (bad.status, bad.body["errors"][0]["field"].as_str()),
        (400, Some("distance_m"))
    );

    for n in 0..3 {
        let body = json!({ "kind": "race", "date": "2026-10-0".to_owned() + &(n + 1).to_string(), "distance_m": 5000, "duration": 1500 });
        assert_eq!(
            world
                .call("POST", "/me/records", Some(&runner), Some(body))
                .await
                .status,
            201
        );
    }
    let list = world
        .call("GET", "/me/records?limit=10", Some(&runner), None)
        .await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(
        world.call("GET", "/me/records", Some(&other), None).await.body["items"],
        json!([])
    );

    assert_eq!(world.call("DELETE", &path, Some(&runner), None).await.status, 204);
    assert_eq!(world.call("GET", &path, Some(&runner), None).await.status, 404);
}
