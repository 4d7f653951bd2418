//! Points as the pipeline leaves them in the Users table, read through the API.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::Role;

#[tokio::test]
async fn points_show_the_total_and_one_row_per_result() {
    let world = world().await;
    let runner = world.mint(Role::Runner).await;
    let organizer = world.mint(Role::Organizer).await;
    let fresh = world.call("GET", "/me/points", Some(&runner), None).await;
    assert_eq!(fresh.status, 200);
    assert_eq!(
        (
            fresh.body["total"].as_i64(),
            fresh.body["history"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );

    // what point-increase writes: awards and the total
    let client = aws_sdk_dynamodb::Client::new(&world.sdk);
    for (result, points) in [
        ("01JAAAAAAAAAAAAAAAAAAAAAAA.r", 50),
        ("01JBBBBBBBBBBBBBBBBBBBBBBB.r", 70),
    ] {
        let award = infra::dynamo::AwardItem {
            result_id: result.to_owned(),
            marathon_id: domain::marathon::MarathonId::generate(),
            points,
            version: 3,
            updated_at: time::OffsetDateTime::now_utc(),
            delta: i64::from(points),
            notified: true,
            season: None,
        };
        let item = award.to_item(&runner.id).unwrap();
        client
            .put_item()
            .table_name(&world.settings.users_table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    client
        .update_item()
        .table_name(&world.settings.users_table)
        .key("pk", AttributeValue::S(format!("USER#{}", runner.id)))
        .key("sk", AttributeValue::S("PROFILE".into()))
        .update_expression("SET total_points = :t")
        .expression_attribute_values(":t", AttributeValue::N("120".into()))
        .send()
        .await
        .unwrap();

    let mine = world.call("GET", "/me/points", Some(&runner), None).await;
    assert_eq!(mine.body["total"], 120);
    assert_eq!(mine.body["history"].as_array().unwrap().len(), 2);
    let public = world
        .call("GET", &format!("/runners/{}/points", runner.id), None, None)
        .await;
    assert_eq!(public.status, 200);
    assert_eq!(
        (public.body["total"].as_i64(), public.body["name"].as_str()),
        (Some(120), Some(runner.name.as_str()))
    );
    assert!(public.body.get("history").is_none(), "history is private");

    assert_eq!(
        world
            .call("GET", &format!("/runners/{}/points", organizer.id), None, None)
            .await
            .status,
        404
    );
    assert_eq!(
        world
            .call("GET", "/runners/01JZZZZZZZZZZZZZZZZZZZZZZZ/points", None, None)
            .await
            .status,
        404
    );
}
