//! Official results against the emulator: entry required, versions, ranking, deletion,
//! and each change written to the activity log in the same transaction.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::Role;
use serde_json::json;

#[tokio::test]
async fn results_are_entered_corrected_ranked_and_deleted() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();
    let (fast, slow, stranger) = (
        world.mint(Role::Runner).await,
        world.mint(Role::Runner).await,
        world.mint(Role::Runner).await,
    );
    world.register(&marathon, &fast).await;
    world.register(&marathon, &slow).await;

    let put = |runner: &TestUser, body: serde_json::Value| {
        let path = format!("/marathons/{id}/results/{}", runner.id);
        let event = request("PUT", &path, Some(&organizer), Some(body), &[]);
        world.send(event)
    };
    let first = put(&slow, json!({ "finish_time": "3:30:00" })).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(
        (
            first.body["points"].as_u64(),
            first.body["finish_seconds"].as_u64()
        ),
        (Some(50), Some(12600))
    );
    let v1 = first.body["version"].as_u64().unwrap();
    let fast_result = put(&fast, json!({ "finish_time": 9000, "bonus_points": 10 })).await;
    assert_eq!(fast_result.body["points"], 60);
    assert_eq!(fast_result.body["finish_time"], "2:30:00");

    let corrected = put(&slow, json!({ "finish_time": "3:29:59", "bonus_points": 5 })).await;
    assert_eq!(corrected.status, 200);
    assert!(
        corrected.body["version"].as_u64().unwrap() > v1,
        "every change raises the version"
    );
    assert_eq!(corrected.body["points"], 55);
    assert_eq!(corrected.body["recorded_at"], first.body["recorded_at"]);

    let unregistered = put(&stranger, json!({ "finish_time": "4:00:00" })).await;
    assert_eq!(unregistered.status, 409);
    assert!(
        unregistered.body["detail"]
            .as_str()
            .unwrap()
            .contains("not registered")
    );
    let bad = put(&fast, json!({ "finish_time": "fast", "bonus_points": -1 })).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errors"].as_array().unwrap().len(), 2);

    let ranking = world
        .call("GET", &format!("/marathons/{id}/results"), None, None)
        .await;
    assert_eq!(ranking.status, 200);
    let rows = ranking.body["items"].as_array().unwrap();
    assert_eq!(
        (rows[0]["rank"].as_u64(), rows[0]["runner_id"].as_str()),
        (Some(1), Some(fast.id.as_str()))
    );
    assert_eq!(
        (rows[1]["rank"].as_u64(), rows[1]["runner_id"].as_str()),
        (Some(2), Some(slow.id.as_str()))
    );

    let mine = world.call("GET", "/me/results", Some(&slow), None).await;
    assert_eq!(mine.body["items"][0]["finish_time"], "3:29:59");

    let stale = world
        .call_at(
            "DELETE",
            &format!("/marathons/{id}/results/{}", slow.id),
            Some(&organizer),
            None,
            1,
        )
        .await;
    assert_eq!(stale.status, 412);
    let deleted = world
        .call(
            "DELETE",
            &format!("/marathons/{id}/results/{}", slow.id),
            Some(&organizer),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        world
            .call(
                "DELETE",
                &format!("/marathons/{id}/results/{}", slow.id),
                Some(&organizer),
                None
            )
            .await
            .status,
        404
    );
    let after = world
        .call("GET", &format!("/marathons/{id}/results"), None, None)
        .await;
    assert_eq!(after.body["items"].as_array().unwrap().len(), 1);

    // re-entered after deletion: a version above every earlier one
    let again = put(&slow, json!({ "finish_time": "3:40:00" })).await;
    assert_eq!(again.status, 201);
    assert!(again.body["version"].as_u64().unwrap() > corrected.body["version"].as_u64().unwrap());
}

#[tokio::test]
async fn every_result_change_is_in_the_activity_log() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();
    world.register(&marathon, &runner).await;
    let path = format!("/marathons/{id}/results/{}", runner.id);
    world
        .call(
            "PUT",
            &path,
            Some(&organizer),
            Some(json!({ "finish_time": "3:00:00" })),
        )
        .await;
    world
        .call(
            "PUT",
            &path,
            Some(&organizer),
            Some(json!({ "finish_time": "3:00:01" })),
        )
        .await;
    world.call("DELETE", &path, Some(&organizer), None).await;

    let items = aws_sdk_dynamodb::Client::new(&world.sdk)
        .query()
        .table_name(&world.settings.activity_table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{}", organizer.id)))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let kinds: Vec<&str> = items
        .iter()
        .filter_map(|i| i.get("kind")?.as_s().ok().map(String::as_str))
        .collect();
    assert_eq!(
        kinds,
        [
            "user.signed_up",
            "marathon.created",
            "result.recorded",
            "result.corrected",
            "result.removed"
        ]
    );
    let recorded = &items[2]["details"].as_m().unwrap();
    assert_eq!(recorded["runner_id"].as_s().unwrap(), runner.id.as_str());
    assert_eq!(recorded["marathon_id"].as_s().unwrap(), id);
}

#[tokio::test]
async fn a_marathon_s_points_are_fixed_once_a_result_is_recorded() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    let path = format!("/marathons/{}", marathon["id"].as_str().unwrap());
    world.register(&marathon, &runner).await;
    let patch = |version: u64, body: serde_json::Value| {
        world.call_at("PATCH", &path, Some(&organizer), Some(body), version)
    };
    let result_path = format!("{path}/results/{}", runner.id);
    let recorded = world
        .call(
            "PUT",
            &result_path,
            Some(&organizer),
            Some(json!({ "finish_time": "4:01:00" })),
        )
        .await;
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);

    let refused = patch(1, json!({ "points": 80 })).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("points are fixed"),
        "{:?}",
        refused.body
    );
    let renamed = patch(1, json!({ "name": "Renamed", "points": 50 })).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.body["result_count"], 1);

    let version = recorded.body["version"].as_u64().unwrap();
    let removed = world
        .call_at("DELETE", &result_path, Some(&organizer), None, version)
        .await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    let repriced = patch(2, json!({ "points": 80 })).await;
    assert_eq!(repriced.status, 200, "{:?}", repriced.body);
    assert_eq!(repriced.body["points"], 80);
}

#[tokio::test]
async fn a_runner_with_an_official_result_cannot_cancel_the_entry() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();
    world.register(&marathon, &runner).await;
    let recorded = world.record(&organizer, &marathon, &runner, "3:30:00").await;
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);

    // on race day cancelling is over anyway
    let entry = format!("/marathons/{id}/entries/me");
    let race_day = world.call("DELETE", &entry, Some(&runner), None).await;
    assert_eq!(race_day.status, 409, "{:?}", race_day.body);
    assert!(
        race_day.body["detail"]
            .as_str()
            .unwrap()
            .contains("race has started")
    );

    // a container whose clock is still on the day before lets the request through to the
    // store, whose transaction refuses it: the result keeps its entry
    let yesterday = std::sync::Arc::new(domain::memory::ManualClock::new(
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
    ));
    let behind = world_at(yesterday).await;
    let refused = behind
        .call("DELETE", &entry, Some(&behind.reissue(&runner)), None)
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("official result"),
        "{:?}",
        refused.body
    );
    // the entry and the result both stay, so the organizer can still correct the result
    assert_eq!(world.call("GET", &entry, Some(&runner), None).await.status, 200);
    let corrected = world.record(&organizer, &marathon, &runner, "3:29:00").await;
    assert_eq!(corrected.status, 200, "{:?}", corrected.body);
}

#[tokio::test]
async fn results_are_recorded_from_race_day_on_and_the_date_then_stays() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let upcoming = world.marathon(&organizer, 10, 50).await;
    world.register(&upcoming, &runner).await;
    let early = world.record(&organizer, &upcoming, &runner, "3:30:00").await;
    assert_eq!(early.status, 409, "{:?}", early.body);
    assert_eq!(early.headers["content-type"], "application/problem+json");
    let reason = early.body["detail"].as_str().unwrap();
    assert!(
        reason.contains("from race day on") && reason.contains(upcoming["date"].as_str().unwrap()),
        "{reason}"
    );
    let id = upcoming["id"].as_str().unwrap();
    let ranking = world
        .call("GET", &format!("/marathons/{id}/results"), None, None)
        .await;
    assert_eq!(ranking.body["items"], json!([]), "nothing recorded");

    // run today: recorded; its date can no longer move, neither later nor earlier
    let today = world.race_day_marathon(&organizer, 10, 50).await;
    world.register(&today, &runner).await;
    let recorded = world.record(&organizer, &today, &runner, "3:30:00").await;
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);
    let path = format!("/marathons/{}", today["id"].as_str().unwrap());
    let date = time::OffsetDateTime::now_utc().date();
    for moved in [date + time::Duration::days(60), date - time::Duration::days(1)] {
        let body =
            json!({ "date": moved.to_string(), "registration_closes_at": format!("{moved}T00:00:00Z") });
        let refused = world
            .call_at("PATCH", &path, Some(&organizer), Some(body), 1)
            .await;
        assert_eq!(refused.status, 409, "{moved}: {:?}", refused.body);
        assert!(
            refused.body["detail"].as_str().unwrap().contains("date is fixed"),
            "{:?}",
            refused.body
        );
    }
    let after = world.call("GET", &path, None, None).await;
    assert_eq!(after.body["date"], today["date"]);
}

#[tokio::test]
async fn a_ranking_cursor_not_given_out_is_refused_not_a_500() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();
    for finish in ["3:00:00", "3:10:00"] {
        let runner = world.mint(Role::Runner).await;
        world.register(&marathon, &runner).await;
        let put = world.record(&organizer, &marathon, &runner, finish).await;
        assert_eq!(put.status, 201, "{:?}", put.body);
    }
    let first = world
        .call("GET", &format!("/marathons/{id}/results?limit=1"), None, None)
        .await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second = world
        .call(
            "GET",
            &format!("/marathons/{id}/results?limit=1&cursor={cursor}"),
            None,
            None,
        )
        .await;
    assert_eq!(second.body["items"][0]["rank"], 2, "{:?}", second.body);
    assert!(
        second.body.get("next_cursor").is_none_or(|c| c.is_null()),
        "{:?}",
        second.body
    );
    // garbage, forged counts, a position longer than any key: refused as a bad cursor
    use base64::Engine;
    let forge = |json: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    for bad in [
        "1.abc".to_owned(),
        forge(r#"{"o":-1}"#.to_owned()),
        forge(r#"{"o":18446744073709551616}"#.to_owned()),
        forge(format!(r#"{{"a":"{}"}}"#, "9".repeat(300))),
    ] {
        let reply = world
            .call(
                "GET",
                &format!("/marathons/{id}/results?limit=1&cursor={bad}"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
        assert!(reply.problem_type().ends_with("validation"), "{:?}", reply.body);
    }
}

#[tokio::test]
async fn a_result_sent_again_as_it_is_changes_nothing() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    world.register(&marathon, &runner).await;
    let path = format!(
        "/marathons/{}/results/{}",
        marathon["id"].as_str().unwrap(),
        runner.id
    );
    let body = json!({ "finish_time": "3:10:00", "bonus_points": 7 });
    let first = world
        .call("PUT", &path, Some(&organizer), Some(body.clone()))
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    // the same again, also as seconds and at the version read: the stored result, unchanged
    let again = [
        world
            .call("PUT", &path, Some(&organizer), Some(body.clone()))
            .await,
        world
            .call(
                "PUT",
                &path,
                Some(&organizer),
                Some(json!({ "finish_time": 11400, "bonus_points": 7 })),
            )
            .await,
        world
            .call_at(
                "PUT",
                &path,
                Some(&organizer),
                Some(body.clone()),
                first.body["version"].as_u64().unwrap(),
            )
            .await,
    ];
    for reply in &again {
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body, first.body);
        assert_eq!(reply.etag(), first.etag());
    }
    // a stale If-Match is still refused, even for the same values
    let stale = world.call_at("PUT", &path, Some(&organizer), Some(body), 1).await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    // a real change is one
    let changed = world
        .call(
            "PUT",
            &path,
            Some(&organizer),
            Some(json!({ "finish_time": "3:10:00" })),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert!(changed.body["version"].as_u64() > first.body["version"].as_u64());
    assert_eq!(
        world.activity_kinds(&organizer).await,
        [
            "user.signed_up",
            "marathon.created",
            "result.recorded",
            "result.corrected"
        ]
    );
}

#[tokio::test]
async fn a_result_recorded_again_after_a_deletion_outranks_it_with_a_clock_behind() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    world.register(&marathon, &runner).await;
    let first = world.record(&organizer, &marathon, &runner, "3:30:00").await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let removed_at = first.body["version"].as_u64().unwrap() + 1;
    let path = format!(
        "/marathons/{}/results/{}",
        marathon["id"].as_str().unwrap(),
        runner.id
    );
    assert_eq!(
        world.call("DELETE", &path, Some(&organizer), None).await.status,
        204
    );

    // another container whose clock is behind (still race day: at most 10 minutes, and
    // never before midnight UTC)
    let now = time::OffsetDateTime::now_utc();
    let since_midnight = now - now.replace_time(time::Time::MIDNIGHT);
    let behind: time::Duration = (since_midnight / 2_i32).min(time::Duration::minutes(10));
    let late = world_at(std::sync::Arc::new(domain::memory::ManualClock::new(
        now - behind,
    )))
    .await;
    let again = late
        .record(&late.reissue(&organizer), &marathon, &runner, "3:40:00")
        .await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    let version = again.body["version"].as_u64().unwrap();
    assert!(
        version > removed_at,
        "{version} must outrank the removal at {removed_at}, whatever the clock"
    );
    // the tombstone is no result: the ranking shows the new one only
    let ranking = world
        .call(
            "GET",
            &format!("/marathons/{}/results", marathon["id"].as_str().unwrap()),
            None,
            None,
        )
        .await;
    let rows = ranking.body["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["finish_time"], "3:40:00");
}
