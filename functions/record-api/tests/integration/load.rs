//! Correctness under concurrency and volume: capacity holds under a rush of
//! registrations; paging a large ranking returns every result once, in order.

use crate::common::*;
use domain::Role;
use futures::StreamExt;
use serde_json::json;

#[tokio::test]
async fn twenty_runners_rush_five_places() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.marathon(&organizer, 5, 50).await;
    let runners = futures::future::join_all((0..20).map(|_| world.mint(Role::Runner))).await;
    let replies = futures::future::join_all(runners.iter().map(|r| world.register(&marathon, r))).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let full = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, full),
        (5, 15),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let id = marathon["id"].as_str().unwrap();
    assert_eq!(
        world
            .call("GET", &format!("/marathons/{id}"), None, None)
            .await
            .body["entry_count"],
        5
    );
    let entries = world
        .call(
            "GET",
            &format!("/marathons/{id}/entries?limit=100"),
            Some(&organizer),
            None,
        )
        .await;
    assert_eq!(entries.body["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn paging_through_250_results_gives_each_once_in_rank_order() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.race_day_marathon(&organizer, 300, 10).await;
    let id = marathon["id"].as_str().unwrap().to_owned();
    let runners: Vec<TestUser> = futures::stream::iter(0..250)
        .map(|_| world.mint(Role::Runner))
        .buffer_unordered(16)
        .collect()
        .await;
    // distinct finish times, entered in an order unrelated to them
    let entered: Vec<u16> = futures::stream::iter(runners.iter().enumerate())
        .map(|(i, runner)| {
            let world = &world;
            let id = &id;
            let organizer = &organizer;
            async move {
                assert_eq!(world.register(&json!({ "id": id }), runner).await.status, 201);
                let seconds = 9000 + ((i * 7919) % 250) * 13;
                let path = format!("/marathons/{id}/results/{}", runner.id);
                world
                    .call(
                        "PUT",
                        &path,
                        Some(organizer),
                        Some(json!({ "finish_time": seconds })),
                    )
                    .await
                    .status
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(entered.iter().all(|s| *s == 201));

    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/marathons/{id}/results?limit=17");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = world.call("GET", &path, None, None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        rows.extend(page.body["items"].as_array().unwrap().iter().cloned());
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 15);
    assert_eq!(rows.len(), 250);
    let ranks: Vec<u64> = rows.iter().map(|r| r["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, (1..=250).collect::<Vec<_>>());
    let times: Vec<u64> = rows
        .iter()
        .map(|r| r["finish_seconds"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "fastest first");
    let mut runners_seen: Vec<&str> = rows.iter().map(|r| r["runner_id"].as_str().unwrap()).collect();
    runners_seen.sort();
    runners_seen.dedup();
    assert_eq!(runners_seen.len(), 250, "each result exactly once");
}
