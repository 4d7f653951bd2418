//! The authorization matrix: every route, called by nobody, a runner, the owning
//! organizer and another organizer. A route missing from the matrix fails the test.

use std::collections::BTreeSet;

use crate::common::*;
use domain::Role;
use serde_json::{Value, json};

struct Fixture {
    owner: TestUser,
    other: TestUser,
    runner: TestUser,
    newcomer: TestUser,
    marathon: String,
    record: String,
}

async fn fixture(world: &World) -> Fixture {
    let owner = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&owner, 10, 50).await;
    assert_eq!(world.register(&marathon, &runner).await.status, 201);
    let id = marathon["id"].as_str().unwrap().to_owned();
    let result = world
        .call(
            "PUT",
            &format!("/marathons/{id}/results/{}", runner.id),
            Some(&owner),
            Some(json!({"finish_time": "3:00:00"})),
        )
        .await;
    assert_eq!(result.status, 201);
    let record = world
        .call(
            "POST",
            "/me/records",
            Some(&runner),
            Some(json!({"kind": "race", "date": "2026-11-01", "distance_m": 5000, "duration": 1500})),
        )
        .await;
    Fixture {
        other: world.mint(Role::Organizer).await,
        newcomer: world.mint(Role::Runner).await,
        owner,
        runner,
        marathon: id,
        record: record.body["id"].as_str().unwrap().to_owned(),
    }
}

/// (method, route, expected for [anonymous, runner, owning organizer, other organizer]).
const MATRIX: &[(&str, &str, [u16; 4])] = &[
    ("POST", "/marathons", [401, 403, 201, 201]),
    ("GET", "/marathons", [200, 200, 200, 200]),
    ("GET", "/marathons/{id}", [200, 200, 200, 200]),
    ("PATCH", "/marathons/{id}", [401, 403, 200, 403]),
    ("DELETE", "/marathons/{id}", [401, 403, 200, 403]),
    ("POST", "/marathons/{id}/entries", [401, 201, 403, 403]),
    ("GET", "/marathons/{id}/entries/me", [401, 200, 403, 403]),
    ("DELETE", "/marathons/{id}/entries/me", [401, 204, 403, 403]),
    ("GET", "/marathons/{id}/entries", [401, 403, 200, 403]),
    ("GET", "/me/entries", [401, 200, 403, 403]),
    (
        "PUT",
        "/marathons/{id}/entries/{runner_id}/bib",
        [401, 403, 200, 403],
    ),
    ("GET", "/me/race-profile", [401, 200, 403, 403]),
    ("PUT", "/me/race-profile", [401, 200, 403, 403]),
    ("PUT", "/marathons/{id}/results/{runner_id}", [401, 403, 200, 403]),
    (
        "DELETE",
        "/marathons/{id}/results/{runner_id}",
        [401, 403, 204, 403],
    ),
    ("GET", "/marathons/{id}/results", [200, 200, 200, 200]),
    ("GET", "/me/results", [401, 200, 403, 403]),
    ("POST", "/me/records", [401, 201, 403, 403]),
    ("GET", "/me/records", [401, 200, 403, 403]),
    ("GET", "/me/records/{id}", [401, 200, 403, 403]),
    ("PATCH", "/me/records/{id}", [401, 200, 403, 403]),
    ("DELETE", "/me/records/{id}", [401, 204, 403, 403]),
    ("GET", "/me/points", [401, 200, 403, 403]),
    ("GET", "/runners/{id}/points", [200, 200, 200, 200]),
    ("GET", "/leaderboard", [200, 200, 200, 200]),
    ("GET", "/me/bests", [401, 200, 403, 403]),
    ("POST", "/marathons/{id}/imports", [401, 403, 201, 403]),
    // an import nobody opened: its organizer hears 404, anyone else is refused first
    ("GET", "/marathons/{id}/imports/{import_id}", [401, 403, 404, 403]),
    (
        "POST",
        "/marathons/{id}/imports/{import_id}/commit",
        [401, 403, 404, 403],
    ),
];

fn body_for(method: &str, route: &str) -> Option<Value> {
    match (method, route) {
        ("POST", "/marathons") => Some(marathon_body(10, 50, 30)),
        ("PATCH", "/marathons/{id}") => Some(json!({ "location": "Busan" })),
        ("PUT", "/marathons/{id}/entries/{runner_id}/bib") => Some(json!({ "bib": 77 })),
        ("PUT", "/me/race-profile") => Some(json!({ "sex": "female", "birth": "1984" })),
        ("POST", "/marathons/{id}/imports") => Some(json!({ "mode": "merge" })),
        ("PUT", _) => Some(json!({ "finish_time": "2:59:00" })),
        ("POST", "/me/records") => {
            Some(json!({ "kind": "training", "date": "2026-11-02", "distance_m": 8000, "duration": 2400 }))
        }
        ("PATCH", "/me/records/{id}") => Some(json!({ "notes": "edited" })),
        _ => None,
    }
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_it_should() {
    let world = world().await;
    for (method, route, expected) in MATRIX {
        let f = fixture(&world).await;
        let path = route
            .replace("/runners/{id}", &format!("/runners/{}", f.runner.id))
            .replace("/me/records/{id}", &format!("/me/records/{}", f.record))
            .replace("{id}", &f.marathon)
            .replace("{runner_id}", f.runner.id.as_str())
            .replace("{import_id}", &ulid::Ulid::new().to_string());
        // cancelling is before race day, so in a marathon still to come (the fixture's is
        // run today, to have a result)
        let cancelling = *route == "/marathons/{id}/entries/me" && *method == "DELETE";
        let path = if cancelling {
            let upcoming = world.marathon(&f.owner, 10, 50).await;
            assert_eq!(world.register(&upcoming, &f.newcomer).await.status, 201);
            path.replace(&f.marathon, upcoming["id"].as_str().unwrap())
        } else {
            path
        };
        // registering is for a runner not yet registered
        let runner = if (*route == "/marathons/{id}/entries" && *method == "POST") || cancelling {
            &f.newcomer
        } else {
            &f.runner
        };
        let callers: [Option<&TestUser>; 4] = [None, Some(runner), Some(&f.owner), Some(&f.other)];
        let names = ["anonymous", "runner", "owning organizer", "other organizer"];
        // refusals first, so a success cannot change what the others see
        let mut order: Vec<usize> = (0..4).collect();
        order.sort_by_key(|i| expected[*i] < 400);
        for i in order {
            let headers: &[(&str, &str)] = if *method == "PATCH" && route.starts_with("/marathons") {
                &[("if-match", "\"1\"")]
            } else {
                &[]
            };
            let reply = world
                .send(request(
                    method,
                    &path,
                    callers[i],
                    body_for(method, route),
                    headers,
                ))
                .await;
            assert_eq!(
                reply.status, expected[i],
                "{method} {route} as {}: {:?}",
                names[i], reply.body
            );
            if reply.status >= 400 {
                assert_eq!(
                    reply.headers["content-type"], "application/problem+json",
                    "{method} {route}"
                );
            }
            if reply.status == 401 {
                assert!(reply.headers.contains_key("www-authenticate"));
            }
        }
    }
}

/// The matrix names every documented route, and each status it expects is documented.
#[test]
fn the_matrix_covers_every_route_and_its_statuses_are_documented() {
    let document = serde_json::to_value(record_api::openapi()).unwrap();
    let routes: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let matrix: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(routes, matrix);
    for (method, route, statuses) in MATRIX {
        let responses = &document["paths"][route][method.to_lowercase()]["responses"];
        for status in statuses {
            assert!(
                responses.get(status.to_string()).is_some(),
                "{method} {route} answers {status}, which its document does not list"
            );
        }
    }
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let world = world().await;
    let runner = world.mint(Role::Runner).await;
    let tampered = TestUser {
        token: format!("{}x", runner.token),
        ..runner.clone()
    };
    for (who, header) in [
        (Some(&tampered), None),
        (None, Some("Basic dXNlcjpwYXNz")),
        (None, Some("Bearer ")),
        (None, Some("Bearer not.a.jwt")),
    ] {
        let headers: Vec<(&str, &str)> = header.map(|h| ("authorization", h)).into_iter().collect();
        let reply = world
            .send(request("GET", "/me/entries", who, None, &headers))
            .await;
        assert_eq!(reply.status, 401, "{header:?}");
        assert_eq!(reply.problem_type(), "https://mrmrthon.dev/problems/unauthorized");
    }
}
