//! Private records against the emulator: owner only, and no existence leak.

use crate::common::*;
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

/// The router a cold start builds (`served_routes!`, no document) and the document come
/// from one list: every documented operation reaches a handler, none the router's
/// fallbacks for an unknown route or method.
#[tokio::test]
async fn the_served_router_routes_every_documented_operation() {
    let world = world().await;
    let document = serde_json::to_value(record_api::openapi()).expect("the document serializes");
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        // any value for a path parameter: the handler, not the router, refuses it
        let concrete: String = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "01JAAAAAAAAAAAAAAAAAAAAAAA"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("an item").keys() {
            let method = method.to_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            let reply = world.call(&method, &concrete, None, None).await;
            assert_ne!(
                reply.body["detail"], "no such route",
                "{method} {path}: {reply:?}"
            );
            assert!(
                !reply.problem_type().ends_with("method-not-allowed"),
                "{method} {path}: {reply:?}"
            );
            operations += 1;
        }
    }
    assert!(operations >= 20, "only {operations} operations documented");
}
