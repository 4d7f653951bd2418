//! Race day over HTTP (issue 16): bibs at registration and by the organizer, runners'
//! private race profiles, result statuses and times, the points policy for non-finishers,
//! and the ranking with its places, category filter, search and paging.

use crate::common::*;
use domain::Role;
use serde_json::{Value, json};

async fn profile(world: &World, runner: &TestUser, sex: &str, age: i32) {
    let year = time::OffsetDateTime::now_utc().year() - age;
    let reply = world
        .call(
            "PUT",
            "/me/race-profile",
            Some(runner),
            Some(json!({ "sex": sex, "birth": year.to_string() })),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

async fn put(world: &World, organizer: &TestUser, marathon: &str, runner: &TestUser, body: Value) -> Reply {
    world
        .call(
            "PUT",
            &format!("/marathons/{marathon}/results/{}", runner.id),
            Some(organizer),
            Some(body),
        )
        .await
}

async fn ranking(world: &World, marathon: &str, query: &str) -> Value {
    let reply = world
        .call(
            "GET",
            &format!("/marathons/{marathon}/results?{query}"),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{query}: {:?}", reply.body);
    reply.body
}

/// (name's last part, rank, category, category rank, status) of each row.
fn rows(page: &Value) -> Vec<(String, Value, Value, Value, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["runner_name"].as_str().unwrap().to_owned(),
                r["rank"].clone(),
                r["category"].clone(),
                r["category_rank"].clone(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_race_with_bibs_statuses_categories_and_a_ranking_to_page_filter_and_search() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let mut body = race_day_body(20, 100);
    body["dnf_points"] = json!(10);
    let created = world
        .call("POST", "/marathons", Some(&organizer), Some(body))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["dnf_points"], 10);
    let marathon = created.body;
    let id = marathon["id"].as_str().unwrap().to_owned();

    let mut runners = Vec::new();
    for _ in 0..6 {
        runners.push(world.mint(Role::Runner).await);
    }
    let [a, b, c, d, e, f] = &runners[..] else {
        unreachable!()
    };
    profile(&world, a, "female", 42).await;
    profile(&world, b, "F", 44).await;
    profile(&world, c, "male", 26).await;
    profile(&world, e, "female", 43).await;
    // f gives only the sex: no category
    let only_sex = world
        .call("PUT", "/me/race-profile", Some(f), Some(json!({ "sex": "male" })))
        .await;
    assert_eq!(only_sex.body, json!({ "sex": "male", "birth": null }));

    // bibs in registration order
    for (i, runner) in runners.iter().enumerate() {
        let entry = world.register(&marathon, runner).await;
        assert_eq!(entry.status, 201, "{:?}", entry.body);
        assert_eq!(entry.body["bib"], i + 1);
    }

    let recorded = put(
        &world,
        &organizer,
        &id,
        a,
        json!({ "chip_time": "3:00:00", "gun_time": "3:01:30",
                "splits": [{ "label": "10K", "time": "0:42:10" }, { "label": "Half", "time": 5340 }] }),
    )
    .await;
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);
    let r = &recorded.body;
    assert_eq!(
        (
            &r["status"],
            &r["bib"],
            &r["category"],
            &r["chip_time"],
            &r["gun_time"],
            &r["pace"]
        ),
        (
            &json!("finished"),
            &json!(1),
            &json!("F40"),
            &json!("3:00:00"),
            &json!("3:01:30"),
            &json!("4:16/km")
        )
    );
    assert_eq!(
        r["splits"][1],
        json!({ "label": "Half", "time": "1:29:00", "seconds": 5340 })
    );
    // the old name of the chip time still works
    assert_eq!(
        put(&world, &organizer, &id, b, json!({ "finish_time": "2:50:00" }))
            .await
            .status,
        201
    );
    assert_eq!(
        put(&world, &organizer, &id, c, json!({ "chip_time": 10_500 }))
            .await
            .status,
        201
    );
    assert_eq!(
        put(&world, &organizer, &id, d, json!({ "chip_time": "3:05:00" }))
            .await
            .status,
        201
    );
    let dnf = put(
        &world,
        &organizer,
        &id,
        e,
        json!({ "status": "DNF", "splits": [{ "label": "30K", "time": "2:20:00" }] }),
    )
    .await;
    assert_eq!(dnf.status, 201, "{:?}", dnf.body);
    assert_eq!(
        (&dnf.body["points"], &dnf.body["chip_time"]),
        (&json!(10), &Value::Null)
    );
    let dns = put(
        &world,
        &organizer,
        &id,
        f,
        json!({ "status": "dns", "bonus_points": 5 }),
    )
    .await;
    assert_eq!((dns.status, &dns.body["points"]), (201, &json!(0)));

    let name = |u: &TestUser| u.name.clone();
    let all = ranking(&world, &id, "").await;
    assert_eq!(
        rows(&all),
        [
            (name(b), json!(1), json!("F40"), json!(1), "finished".to_owned()),
            (name(c), json!(2), json!("MSEN"), json!(1), "finished".to_owned()),
            (name(a), json!(3), json!("F40"), json!(2), "finished".to_owned()),
            (name(d), json!(4), Value::Null, Value::Null, "finished".to_owned()),
            (name(e), Value::Null, json!("F40"), Value::Null, "dnf".to_owned()),
            (name(f), Value::Null, Value::Null, Value::Null, "dns".to_owned()),
        ]
    );
    assert!(all.get("next_cursor").is_none_or(Value::is_null), "{all:?}");
    // d gave no profile, e did not finish: nothing to grade
    assert_eq!(all["items"][3]["age_grade"], Value::Null);
    assert_eq!(all["items"][4]["age_grade"], Value::Null);
    // the profile stays private: the label only
    let text = all.to_string();
    assert!(!text.contains("birth") && !text.contains("female"), "{text}");

    // one category, one row a page: the same rows and places, page after page
    let mut cursor = String::new();
    let mut seen = Vec::new();
    loop {
        let page = ranking(&world, &id, &format!("category=f40&limit=1{cursor}")).await;
        seen.extend(rows(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            (name(b), json!(1), json!("F40"), json!(1), "finished".to_owned()),
            (name(a), json!(3), json!("F40"), json!(2), "finished".to_owned()),
            (name(e), Value::Null, json!("F40"), Value::Null, "dnf".to_owned()),
        ]
    );
    // search by bib, and by part of a name in any case
    let by_bib = ranking(&world, &id, "q=0003").await;
    assert_eq!(rows(&by_bib)[0].0, name(c));
    assert_eq!(by_bib["items"].as_array().unwrap().len(), 1);
    let part = name(d)[name(d).len() - 6..].to_lowercase();
    let by_name = ranking(&world, &id, &format!("q={part}")).await;
    assert_eq!(rows(&by_name)[0].0, name(d));
    // a number that is no bib, or nothing at all: no error
    let zero = ranking(&world, &id, "q=0").await;
    assert!(
        zero["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["runner_name"].as_str().unwrap().contains('0')),
        "searched as text: {zero}"
    );
    assert_eq!(
        ranking(&world, &id, "q=%20").await["items"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let long = format!("q={}", "x".repeat(101));
    for bad in ["category=F37", "limit=0", long.as_str()] {
        let reply = world
            .call("GET", &format!("/marathons/{id}/results?{bad}"), None, None)
            .await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
    }

    // a correction to dq takes the points away; the ranking moves up behind it
    let dq = put(
        &world,
        &organizer,
        &id,
        b,
        json!({ "status": "dq", "chip_time": "2:50:00" }),
    )
    .await;
    assert_eq!(
        (dq.status, &dq.body["points"], &dq.body["status"]),
        (200, &json!(0), &json!("dq"))
    );
    let after = ranking(&world, &id, "limit=2").await;
    assert_eq!(
        rows(&after)[0],
        (name(c), json!(1), json!("MSEN"), json!(1), "finished".to_owned())
    );
    assert_eq!(
        rows(&after)[1],
        (name(a), json!(2), json!("F40"), json!(1), "finished".to_owned())
    );

    // statuses and times must agree, every field named
    for (body, fields) in [
        (
            json!({ "status": "dnf", "chip_time": "3:00:00" }),
            vec!["chip_time"],
        ),
        (json!({ "status": "walked" }), vec!["status"]),
        (
            json!({ "chip_time": "3:00:00", "finish_time": "3:00:01" }),
            vec!["finish_time"],
        ),
        (
            json!({ "chip_time": "3:00:00", "gun_time": "2:59:00" }),
            vec!["gun_time"],
        ),
        (json!({}), vec!["chip_time"]),
        (
            json!({ "chip_time": "x", "splits": [{ "label": "10K", "time": "1:00:00" }, { "label": "5K", "time": "0:30:00" }] }),
            vec!["chip_time", "splits"],
        ),
    ] {
        let reply = put(&world, &organizer, &id, d, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.body);
        let named: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{body}");
    }

    // the organizer moves a bib: unique in the marathon, and the result follows
    let bib_path = |u: &TestUser| format!("/marathons/{id}/entries/{}/bib", u.id);
    let taken = world
        .call("PUT", &bib_path(a), Some(&organizer), Some(json!({ "bib": 2 })))
        .await;
    assert_eq!(taken.status, 409, "{:?}", taken.body);
    let moved = world
        .call("PUT", &bib_path(a), Some(&organizer), Some(json!({ "bib": 500 })))
        .await;
    assert_eq!((moved.status, &moved.body["bib"]), (200, &json!(500)));
    let found = ranking(&world, &id, "q=500").await;
    assert_eq!(rows(&found)[0].0, name(a));
    let bad = world
        .call(
            "PUT",
            &bib_path(a),
            Some(&organizer),
            Some(json!({ "bib": 100_000 })),
        )
        .await;
    assert_eq!(bad.status, 400);
    let nobody = world.mint(Role::Runner).await;
    let missing = world
        .call(
            "PUT",
            &bib_path(&nobody),
            Some(&organizer),
            Some(json!({ "bib": 9 })),
        )
        .await;
    assert_eq!(missing.status, 404);

    // the dnf points are fixed now that results exist
    let fixed = world
        .call_at(
            "PATCH",
            &format!("/marathons/{id}"),
            Some(&organizer),
            Some(json!({ "dnf_points": 20 })),
            1,
        )
        .await;
    assert_eq!(fixed.status, 409, "{:?}", fixed.body);
}

#[tokio::test]
async fn a_race_profile_is_the_runners_own_and_checked() {
    let world = world().await;
    let runner = world.mint(Role::Runner).await;
    let empty = world.call("GET", "/me/race-profile", Some(&runner), None).await;
    assert_eq!(empty.body, json!({ "sex": null, "birth": null }));
    let set = world
        .call(
            "PUT",
            "/me/race-profile",
            Some(&runner),
            Some(json!({ "sex": "X", "birth": "1990-02-28" })),
        )
        .await;
    assert_eq!(set.body, json!({ "sex": "x", "birth": "1990-02-28" }));
    let read = world.call("GET", "/me/race-profile", Some(&runner), None).await;
    assert_eq!(read.body, set.body);
    let bad = world
        .call(
            "PUT",
            "/me/race-profile",
            Some(&runner),
            Some(json!({ "sex": "other", "birth": "2999" })),
        )
        .await;
    assert_eq!(bad.status, 400);
    let named: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["sex", "birth"]);
    assert!(
        world
            .activity_kinds(&runner)
            .await
            .contains(&"user.race_profile_updated".to_owned())
    );
}
