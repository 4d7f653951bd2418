//! Handler tests from events/record-api/: each sample, with its placeholders filled in
//! (ids, tokens and the race date of this run), through lambda_http and the router.

use crate::common::*;
use domain::Role;
use serde_json::Value;

fn sample(name: &str, fill: &[(&str, &str)]) -> Value {
    let path = format!("{}/../../events/record-api/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (placeholder, value) in fill {
        text = text.replace(placeholder, value);
    }
    serde_json::from_str(&text).expect("sample events are JSON")
}

#[tokio::test]
async fn the_samples_walk_through_a_race() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let mut fill = vec![
        ("ORGANIZER_ACCESS_TOKEN", organizer.token.clone()),
        ("RUNNER_ACCESS_TOKEN", runner.token.clone()),
        ("RUNNER_ID", runner.id.to_string()),
        // results are recorded from race day on: the sample's race is run today
        ("RACE_DATE", time::OffsetDateTime::now_utc().date().to_string()),
    ];
    let filled = |name: &str, fill: &Vec<(&str, String)>| {
        let pairs: Vec<(&str, &str)> = fill.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sample(name, &pairs)
    };

    let created = world.send(filled("create-marathon.json", &fill)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["name"], "서울 마라톤");
    fill.push(("MARATHON_ID", created.body["id"].as_str().unwrap().to_owned()));

    let listed = world.send(filled("list-marathons.json", &fill)).await;
    assert_eq!(listed.status, 200);
    assert!(listed.body["items"].as_array().is_some());

    assert_eq!(world.send(filled("register.json", &fill)).await.status, 201);
    let entries = world.send(filled("list-entries.json", &fill)).await;
    assert_eq!(entries.body["items"][0]["runner_id"], runner.id.as_str());

    let result = world.send(filled("put-result.json", &fill)).await;
    assert_eq!(result.status, 201, "{:?}", result.body);
    assert_eq!(result.body["points"], 110);
    let ranking = world.send(filled("list-results.json", &fill)).await;
    assert_eq!(ranking.body["items"][0]["rank"], 1);
    // The sample's x-correlation-id is stored with the result for the pipeline, and shown
    // to nobody: the public ranking and the organizer's answer are response types.
    assert_eq!(
        ranking.body["items"][0]["finish_time"],
        result.body["finish_time"]
    );
    assert!(
        ranking.body["items"][0].get("correlation_id").is_none(),
        "{}",
        ranking.body
    );
    assert!(result.body.get("correlation_id").is_none(), "{}", result.body);

    // race day (issue 16): the runner's profile, a bib by hand, a result with times and
    // splits, the category's ranking, then a dnf
    let profile = world.send(filled("put-race-profile.json", &fill)).await;
    assert_eq!(profile.status, 200, "{:?}", profile.body);
    let bib = world.send(filled("set-bib.json", &fill)).await;
    assert_eq!(
        (bib.status, &bib.body["bib"]),
        (200, &serde_json::json!(42)),
        "{:?}",
        bib.body
    );
    let splits = world.send(filled("put-result-splits.json", &fill)).await;
    assert_eq!(splits.status, 200, "{:?}", splits.body);
    assert_eq!(splits.body["splits"].as_array().map(Vec::len), Some(2));
    // the sample's runner is born 1984-05-17: her band on today's race
    let age = domain::race::Birth::Date(time::macros::date!(1984 - 05 - 17))
        .age_on(time::OffsetDateTime::now_utc().date());
    let category = domain::race::Category::new(domain::race::Sex::Female, age).label();
    assert_eq!(splits.body["category"], category.as_str());
    let by_category = world.send(filled("list-results-category.json", &fill)).await;
    // the sample filters on F40: her row when that is her band, no row otherwise
    let items = by_category.body["items"].as_array().unwrap();
    if category == "F40" {
        assert_eq!(
            (&items[0]["bib"], &items[0]["category_rank"]),
            (&serde_json::json!(42), &serde_json::json!(1))
        );
    } else {
        assert!(items.is_empty(), "{items:?}");
    }
    let dnf = world.send(filled("put-result-dnf.json", &fill)).await;
    assert_eq!(dnf.status, 200, "{:?}", dnf.body);
    assert_eq!(
        (&dnf.body["status"], &dnf.body["points"]),
        (&serde_json::json!("dnf"), &serde_json::json!(0))
    );

    let record = world.send(filled("create-record.json", &fill)).await;
    assert_eq!(record.status, 201, "{:?}", record.body);
    let points = world.send(filled("my-points.json", &fill)).await;
    assert_eq!(points.status, 200);
    assert!(points.body["total"].is_i64());

    // the season's leaderboard and the runner's bests (the result is this year's; the
    // ledger's awards come from point-increase, so the board need not have it yet)
    fill.push(("RACE_YEAR", time::OffsetDateTime::now_utc().year().to_string()));
    let board = world.send(filled("leaderboard.json", &fill)).await;
    assert_eq!(board.status, 200, "{:?}", board.body);
    assert_eq!(board.body["season"], time::OffsetDateTime::now_utc().year());
    assert!(
        board.body["items"]
            .as_array()
            .is_some_and(|rows| rows.len() <= 10)
    );
    let bests = world.send(filled("my-bests.json", &fill)).await;
    assert_eq!(bests.status, 200, "{:?}", bests.body);
    // the sample record's distance; the only official result is a DNF by now (the dnf
    // sample above), and a race not finished has no time to count
    let courses: Vec<_> = bests.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["source"].as_str().unwrap().to_owned(), b["time"].clone()))
        .collect();
    assert!(
        courses.iter().any(|(source, _)| source == "record"),
        "{courses:?}"
    );
    assert!(
        !courses.iter().any(|(source, _)| source == "official"),
        "{courses:?}"
    );
}
