//! An organizer whose token says the address is unverified prepares marathons but records
//! and deletes no results (issue 15 item 2): results are what mint points.

use crate::common::*;
use domain::Role;
use serde_json::json;

const UNVERIFIED: &str = "https://mrmrthon.dev/problems/unverified-email";

#[tokio::test]
async fn an_unverified_organizer_prepares_a_marathon_but_records_no_result() {
    let world = world().await;
    let minted = world.mint(Role::Organizer).await;
    let unverified = world.with_email_verified(&minted, false);
    let runner = world.mint(Role::Runner).await;

    // creating and editing a marathon mints nothing: allowed
    let marathon = world.race_day_marathon(&unverified, 10, 50).await;
    let id = marathon["id"].as_str().unwrap().to_owned();
    assert_eq!(world.register(&marathon, &runner).await.status, 201);
    let edit = world
        .call_at(
            "PATCH",
            &format!("/marathons/{id}"),
            Some(&unverified),
            Some(json!({"location": "Yeouido"})),
            marathon["version"].as_u64().unwrap(),
        )
        .await;
    assert_eq!(edit.status, 200, "{:?}", edit.body);

    let refused = world.record(&unverified, &marathon, &runner, "3:00:00").await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert_eq!(refused.problem_type(), UNVERIFIED);
    assert_eq!(
        refused.headers["content-type"], "application/problem+json",
        "{:?}",
        refused.headers
    );
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("verify your email address first"),
        "{:?}",
        refused.body
    );
    let results = world
        .call("GET", &format!("/marathons/{id}/results"), None, None)
        .await;
    assert_eq!(results.body["items"], json!([]), "nothing was recorded");
    assert!(
        !world
            .activity_kinds(&unverified)
            .await
            .iter()
            .any(|k| k.starts_with("result.")),
        "a refused result leaves no activity entry"
    );

    // once verified (a new token after verifying), the same organizer records and deletes
    let verified = world.with_email_verified(&minted, true);
    assert_eq!(
        world
            .record(&verified, &marathon, &runner, "3:00:00")
            .await
            .status,
        201
    );
    let path = format!("/marathons/{id}/results/{}", runner.id);
    let delete = world.call("DELETE", &path, Some(&unverified), None).await;
    assert_eq!(delete.status, 403, "{:?}", delete.body);
    assert_eq!(delete.problem_type(), UNVERIFIED);
    let results = world
        .call("GET", &format!("/marathons/{id}/results"), None, None)
        .await;
    assert_eq!(
        results.body["items"].as_array().unwrap().len(),
        1,
        "the refused delete kept it"
    );
    assert_eq!(
        world.call("DELETE", &path, Some(&verified), None).await.status,
        204
    );
}

#[tokio::test]
async fn a_token_without_the_claim_predates_verification_and_counts_as_verified() {
    let world = world().await;
    // mint's tokens carry no email_verified claim, as tokens issued before login set it
    let organizer = world.mint(Role::Organizer).await;
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    assert_eq!(world.register(&marathon, &runner).await.status, 201);
    assert_eq!(
        world
            .record(&organizer, &marathon, &runner, "3:00:00")
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn another_organizer_is_refused_as_a_stranger_before_the_address_matters() {
    let world = world().await;
    let owner = world.mint(Role::Organizer).await;
    let other = world.mint(Role::Organizer).await;
    let other = world.with_email_verified(&other, false);
    let runner = world.mint(Role::Runner).await;
    let marathon = world.race_day_marathon(&owner, 10, 50).await;
    assert_eq!(world.register(&marathon, &runner).await.status, 201);
    let refused = world.record(&other, &marathon, &runner, "3:00:00").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.problem_type(), "https://mrmrthon.dev/problems/forbidden");
}
