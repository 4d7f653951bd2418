//! The import routes against the emulator: an organizer opens an import and uploads to
//! the presigned URL (S3 on the emulator takes it); the import reads back awaiting its dry
//! run (results-import is not running here), and cannot be committed before it. Others
//! may neither open nor read it.

use std::time::Duration;

use crate::common::*;
use domain::Role;
use http::Method;
use serde_json::json;

#[tokio::test]
async fn an_import_is_opened_uploaded_to_its_presigned_url_and_read_back() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.race_day_marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();

    let opened = world
        .call(
            "POST",
            &format!("/marathons/{id}/imports"),
            Some(&organizer),
            Some(json!({ "mode": "replace" })),
        )
        .await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    let import = &opened.body["import"];
    let import_id = import["id"].as_str().unwrap();
    assert_eq!(import["state"], "awaiting_upload");
    assert_eq!(import["mode"], "replace");
    let upload = &opened.body["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap();
    assert!(url.contains(&format!("imports/{id}/{import_id}.csv")), "{url}");
    assert!(url.contains("X-Amz-Signature="), "presigned: {url}");

    // the file goes to S3, never through the API
    let put = local::http_client::HttpClient::new()
        .request(
            Method::PUT,
            url,
            &[("content-type", "text/csv")],
            b"bib,status,chip_time\n1,FIN,2:10:00\n".to_vec(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(put.status, 200, "{}", put.text());

    let path = format!("/marathons/{id}/imports/{import_id}");
    let read = world.call("GET", &path, Some(&organizer), None).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["state"], "awaiting_upload");
    assert_eq!(
        (read.body["applied"].as_u64(), read.body["pending"].as_u64()),
        (Some(0), Some(0))
    );

    let early = world
        .call("POST", &format!("{path}/commit"), Some(&organizer), None)
        .await;
    assert_eq!(early.status, 409, "no dry run to commit yet: {:?}", early.body);

    let other = world.mint(Role::Organizer).await;
    assert_eq!(world.call("GET", &path, Some(&other), None).await.status, 403);
    let runner = world.mint(Role::Runner).await;
    let refused = world
        .call(
            "POST",
            &format!("/marathons/{id}/imports"),
            Some(&runner),
            Some(json!({})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let unknown = format!("/marathons/{id}/imports/01JD6ZQ3Q5V9Y0M3N2W8T4K7RB");
    assert_eq!(
        world.call("GET", &unknown, Some(&organizer), None).await.status,
        404
    );
    let bad_mode = world
        .call(
            "POST",
            &format!("/marathons/{id}/imports"),
            Some(&organizer),
            Some(json!({ "mode": "all" })),
        )
        .await;
    assert_eq!(bad_mode.status, 400, "{:?}", bad_mode.body);
}

#[tokio::test]
async fn an_import_waits_for_race_day() {
    let world = world().await;
    let organizer = world.mint(Role::Organizer).await;
    let marathon = world.marathon(&organizer, 10, 50).await;
    let id = marathon["id"].as_str().unwrap();
    let early = world
        .call(
            "POST",
            &format!("/marathons/{id}/imports"),
            Some(&organizer),
            Some(json!({})),
        )
        .await;
    assert_eq!(early.status, 409, "{:?}", early.body);
}
