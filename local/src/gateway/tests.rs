//! The gateway over real HTTP: the API under `/api/`, the site (a fixture `dist` in a temp
//! folder) everywhere else.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Method;
use serde_json::{Value, json};

use super::*;
use crate::http_client::{HttpClient, HttpResponse};
use crate::invoke::InProcess;

const TIMEOUT: Duration = Duration::from_secs(10);
const INDEX: &str = "<!doctype html><html lang=\"en\"><head><title>mrmrthon</title></head><body><div id=\"app\"></div></body></html>\n";
const SCRIPT: &str = "console.log('app');\n";
const SECRET: &str = "secret = \"outside the site\"\n";

/// A temp folder with `dist/` (index.html, hashed assets, a favicon) and, beside it, a file
/// the site must never serve.
struct Fixture {
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let root = std::env::temp_dir().join(format!("mrmrthon-site-{}", ulid::Ulid::new()));
        let dist = root.join("dist");
        std::fs::create_dir_all(dist.join("assets")).unwrap();
        std::fs::write(dist.join("index.html"), INDEX).unwrap();
        std::fs::write(dist.join("assets").join("index-1a2b3c.js"), SCRIPT).unwrap();
        std::fs::write(dist.join("assets").join("index-4d5e6f.css"), "body{margin:0}\n").unwrap();
        std::fs::write(
            dist.join("favicon.svg"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
        )
        .unwrap();
        std::fs::write(root.join("secret.toml"), SECRET).unwrap();
        Fixture { root }
    }

    fn dist(&self) -> PathBuf {
        self.root.join("dist")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A gateway with one route, `GET /marathons/{id}`, whose function echoes what it received
/// and counts its calls, and the site in `dist`.
async fn gateway(dist: PathBuf) -> (Gateway, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let invoker = InProcess::new().with("Read", move |event: Value| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            Ok(json!({
                "statusCode": 200,
                "headers": {"content-type": "application/json"},
                "body": json!({
                    "rawPath": event["rawPath"],
                    "httpPath": event["requestContext"]["http"]["path"],
                    "routeKey": event["routeKey"],
                    "id": event["pathParameters"]["id"],
                })
                .to_string(),
            }))
        }
    });
    let function = Function {
        logical_id: "Read".into(),
        code_uri: None,
        binary: None,
        environment: BTreeMap::new(),
        timeout: Duration::from_secs(3),
        events: Vec::new(),
    };
    let routes = Routes::new(vec![
        Route::new(Some("GET"), Some("/marathons/{id}"), "Read").unwrap(),
    ]);
    let gateway = Gateway::serve(
        0,
        routes,
        &[function],
        Arc::new(invoker),
        Hops::quiet(),
        Site::new(dist, SiteHeaders::default()),
    )
    .await
    .unwrap();
    (gateway, calls)
}

async fn send(method: Method, url: &str) -> HttpResponse {
    HttpClient::new()
        .request(method.clone(), url, &[], Vec::new(), TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

async fn get(url: &str) -> HttpResponse {
    send(Method::GET, url).await
}

fn assert_site_headers(response: &HttpResponse, what: &str) {
    assert_eq!(
        response.header("content-security-policy"),
        Some(site::CONTENT_SECURITY_POLICY),
        "{what}"
    );
    assert_eq!(
        response.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        response.header("referrer-policy"),
        Some("strict-origin-when-cross-origin"),
        "{what}"
    );
    assert_eq!(response.header("x-frame-options"), Some("DENY"), "{what}");
}

#[tokio::test]
async fn the_api_is_under_api_with_the_prefix_stripped_and_without_the_sites_headers() {
    let fixture = Fixture::new();
    let (gateway, calls) = gateway(fixture.dist()).await;
    let api = gateway.url();
    assert!(api.ends_with("/api"), "{api}");

    let routed = get(&format!("{api}/marathons/m-7")).await;
    assert_eq!(routed.status, 200, "{}", routed.text());
    assert_eq!(
        routed.json().unwrap(),
        json!({"rawPath": "/marathons/m-7", "httpPath": "/marathons/m-7",
               "routeKey": "GET /marathons/{id}", "id": "m-7"})
    );
    assert!(routed.header("x-correlation-id").is_some());
    assert!(routed.header("apigw-requestid").is_some());
    for header in ["content-security-policy", "x-frame-options", "referrer-policy"] {
        assert_eq!(
            routed.header(header),
            None,
            "{header} is the site's, not the API's"
        );
    }

    let unknown = get(&format!("{api}/nowhere")).await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (404, Some(json!({"message": "Not Found"})))
    );
    assert_eq!(unknown.header("content-security-policy"), None);
    // A route of the API with a method it does not have is the API's 404, not the site's 405.
    let wrong_method = send(Method::POST, &format!("{api}/marathons/m-7")).await;
    assert_eq!(
        (wrong_method.status, wrong_method.json()),
        (404, Some(json!({"message": "Not Found"})))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The API's path at the root is the site's: a deep link, answered index.html.
    let root = get(&format!("{}/marathons/m-7", gateway.origin())).await;
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), INDEX);
    assert_site_headers(&root, "a root path");
    // `/api` alone is not under `/api/` (CloudFront's `/api/*` behaviour): a site path.
    let bare = get(&format!("{}/api", gateway.origin())).await;
    assert_eq!((bare.status, bare.text().as_str()), (200, INDEX));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "no root path reached the function"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn the_site_serves_files_and_answers_deep_links_with_index_html() {
    let fixture = Fixture::new();
    let (gateway, _) = gateway(fixture.dist()).await;
    let site = gateway.site_url();
    assert!(site.ends_with('/') && !site.ends_with("/api/"), "{site}");

    for path in [
        "",
        "index.html",
        "marathons/01J9ZQ/results/r-1",
        "me/points",
        "assets",
    ] {
        let page = get(&format!("{site}{path}")).await;
        assert_eq!(page.status, 200, "/{path}");
        assert_eq!(page.text(), INDEX, "/{path}: index.html, never a listing");
        assert_eq!(page.header("content-type"), Some("text/html"), "/{path}");
        assert_eq!(page.header("cache-control"), Some("no-cache"), "/{path}");
        assert_site_headers(&page, &format!("/{path}"));
    }

    let script = get(&format!("{site}assets/index-1a2b3c.js")).await;
    assert_eq!((script.status, script.text().as_str()), (200, SCRIPT));
    assert_eq!(script.header("content-type"), Some("text/javascript"));
    assert_eq!(
        script.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_site_headers(&script, "an asset");
    let style = get(&format!("{site}assets/index-4d5e6f.css")).await;
    assert_eq!(style.header("content-type"), Some("text/css"));
    let icon = get(&format!("{site}favicon.svg")).await;
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
    assert_eq!(icon.header("cache-control"), Some("no-cache"));

    let head = send(Method::HEAD, &format!("{site}marathons/7")).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    for missing in ["assets/index-000000.js", "robots.txt", "marathons/7/photo.jpg"] {
        let response = get(&format!("{site}{missing}")).await;
        assert_eq!(response.status, 404, "/{missing}");
        assert_ne!(response.text(), INDEX, "/{missing}");
        assert_eq!(response.header("cache-control"), Some("no-cache"), "/{missing}");
        assert_site_headers(&response, &format!("/{missing}"));
    }

    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let refused = send(method.clone(), &format!("{site}marathons/7")).await;
        assert_eq!(refused.status, 405, "{method}");
        assert_eq!(refused.header("allow"), Some("GET, HEAD"));
        assert_site_headers(&refused, "405");
    }
    gateway.stop().await;
}

#[tokio::test]
async fn no_path_leaves_the_sites_folder() {
    let fixture = Fixture::new();
    let (gateway, _) = gateway(fixture.dist()).await;
    let origin = gateway.origin();
    for path in [
        "/..%2fsecret.toml",
        "/assets/../../secret.toml",
        "/assets/..%2f..%2fsecret.toml",
        "/%2e%2e/secret.toml",
        "/..%2f..%2fCargo.toml",
        "/assets/../../Cargo.toml",
        "/..%5csecret.toml",
        "/..%2f..%2fetc%2fpasswd",
    ] {
        let response = get(&format!("{origin}{path}")).await;
        assert_eq!(response.status, 404, "{path}: {}", response.text());
        assert!(!response.text().contains("secret"), "{path}");
        assert!(!response.text().contains("[package]"), "{path}");
    }
    gateway.stop().await;
}

#[tokio::test]
async fn without_a_built_site_the_site_says_it_is_being_built_and_the_api_answers() {
    let fixture = Fixture::new();
    let (gateway, calls) = gateway(fixture.root.join("not-built-yet")).await;
    for path in ["/", "/marathons/7", "/assets/index-1a2b3c.js"] {
        let page = get(&format!("{}{path}", gateway.origin())).await;
        assert_eq!(page.status, 503, "{path}");
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(page.header("cache-control"), Some("no-store"));
        assert!(page.text().contains("The site is being built"), "{}", page.text());
        assert!(page.text().contains("make dev"));
        assert_site_headers(&page, path);
    }
    let routed = get(&format!("{}/marathons/m-1", gateway.url())).await;
    assert_eq!(routed.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    gateway.stop().await;
}
