//! The season leaderboard and personal bests through the API, against the emulator:
//! awards applied by the real ledger (as point-increase applies them), then read back
//! ranked and paged; bests from official results and private records.

use crate::common::*;
use domain::Role;
use domain::events::ResultChange;
use domain::marathon::MarathonId;
use domain::ports::PointsLedger;
use infra::dynamo::DynamoLedger;
use serde_json::json;

#[tokio::test]
async fn a_seasons_standings_are_ranked_with_ties_and_paged() {
    let world = world().await;
    let ledger = DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&world.sdk),
        &world.settings.users_table,
    );
    // a season of its own (other tests award this year's)
    let year = 1950 + (ulid::Ulid::new().random() % 1000) as i32;
    let date = time::Date::from_calendar_date(year, time::Month::April, 5).unwrap();
    let mut runners = Vec::new();
    for points in [120, 300, 120, 50] {
        let runner = world.mint(Role::Runner).await;
        let marathon = MarathonId::generate();
        let change = ResultChange {
            result_id: domain::result::result_id(&marathon, &runner.id),
            marathon_id: marathon,
            marathon_name: "Spring".into(),
            marathon_date: Some(date),
            runner_id: runner.id.clone(),
            runner_name: runner.name.clone(),
            points,
            version: 1,
            import_id: None,
        };
        ledger
            .apply(&change, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        runners.push((runner, points));
    }
    // expected: 300, then the two 120s by id (sharing rank 2), then 50 at rank 4
    let mut tied: Vec<_> = runners
        .iter()
        .filter(|(_, p)| *p == 120)
        .map(|(r, _)| r.id.to_string())
        .collect();
    tied.sort();
    let expected = [
        (1, runners[1].0.id.to_string(), 300),
        (2, tied[0].clone(), 120),
        (2, tied[1].clone(), 120),
        (4, runners[3].0.id.to_string(), 50),
    ];
    let mut seen = Vec::new();
    let mut path = format!("/leaderboard?season={year}&limit=3");
    let mut pages = 0;
    loop {
        let reply = world.call("GET", &path, None, None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["season"], year);
        pages += 1;
        for row in reply.body["items"].as_array().unwrap() {
            let name = runners
                .iter()
                .find(|(r, _)| r.id.to_string() == row["runner_id"])
                .map(|(r, _)| r.name.clone());
            assert_eq!(row["name"].as_str(), name.as_deref());
            seen.push((
                row["rank"].as_u64().unwrap(),
                row["runner_id"].as_str().unwrap().to_owned(),
                row["points"].as_u64().unwrap(),
            ));
        }
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/leaderboard?season={year}&limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 2, "a page of 3 and the last page of 1");

    // a cursor is its season's own; a season is a year
    let first = world
        .call("GET", &format!("/leaderboard?season={year}&limit=1"), None, None)
        .await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let other = world
        .call(
            "GET",
            &format!("/leaderboard?season={}&cursor={cursor}", year + 1),
            None,
            None,
        )
        .await;
    assert_eq!(
        (other.status, other.body["errors"][0]["field"].as_str()),
        (400, Some("cursor"))
    );
    for bad in ["26", "20266", "year", "1899"] {
        let reply = world
            .call("GET", &format!("/leaderboard?season={bad}"), None, None)
            .await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.body["errors"][0]["field"], "season", "{bad}");
    }
    // no season: this year's
    let now = world.call("GET", "/leaderboard", None, None).await;
    assert_eq!(now.status, 200);
    assert_eq!(now.body["season"], time::OffsetDateTime::now_utc().year());
    // an empty season has no rows and no cursor
    let empty = world.call("GET", "/leaderboard?season=1900", None, None).await;
    assert_eq!(
        (
            empty.body["items"].as_array().map(Vec::len),
            empty.body["next_cursor"].is_null()
        ),
        (Some(0), true)
    );
}

#[tokio::test]
async fn bests_are_the_fastest_per_distance_of_results_and_records() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let empty = world.call("GET", "/me/bests", Some(&runner), None).await;
    assert_eq!(
        (empty.status, empty.body["items"].as_array().map(Vec::len)),
        (200, Some(0))
    );

    let marathon = world.race_day_marathon(&organizer, 10, 100).await;
    assert_eq!(world.register(&marathon, &runner).await.status, 201);
    assert_eq!(
        world
            .record(&organizer, &marathon, &runner, "3:05:00")
            .await
            .status,
        201
    );
    for (distance, duration, kind) in [
        (42_195, "3:10:00", "race"),
        (10_000, "0:45:10", "training"),
        (10_000, "0:44:59", "race"),
    ] {
        let reply = world
            .call(
                "POST",
                "/me/records",
                Some(&runner),
                Some(
                    json!({"kind": kind, "date": "2026-06-01", "distance_m": distance, "duration": duration}),
                ),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    let bests = world.call("GET", "/me/bests", Some(&runner), None).await;
    assert_eq!(bests.status, 200, "{:?}", bests.body);
    let items = bests.body["items"].as_array().unwrap();
    let summary: Vec<_> = items
        .iter()
        .map(|b| {
            (
                b["course"].clone(),
                b["time"].as_str().unwrap(),
                b["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!("10k"), "0:44:59", "record"),
            (json!("full"), "3:05:00", "official"),
        ]
    );
    assert_eq!(items[1]["marathon_id"], marathon["id"]);
    assert_eq!(items[0]["record_kind"], "race");

    // a runner's own only; organizers have none
    let other = world.mint(Role::Runner).await;
    let theirs = world.call("GET", "/me/bests", Some(&other), None).await;
    assert_eq!(theirs.body["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        world
            .call("GET", "/me/bests", Some(&organizer), None)
            .await
            .status,
        403
    );
    assert_eq!(world.call("GET", "/me/bests", None, None).await.status, 401);
}
