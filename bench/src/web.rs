//! The site's budgets (issue 19): the JavaScript the first page loads, gzipped as Vite
//! reports it, against 100 kB; and the marathon results page on a slow phone, in Debian's
//! headless Chromium through ChromeDriver with the CPU and the network throttled, served
//! by the local stack's gateway (the site at the root, the API under /api, login and
//! record-api in-process) with a ranking seeded through the API.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use fantoccini::{Client, ClientBuilder};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::{StreamExt, TryStreamExt};
use http::Method;
use local::http_client::HttpClient;
use local::{InProcess, ServiceOptions, Services};
use serde_json::{Value, json};

use crate::lab::{Result, repo_root};
use crate::stats::Summary;

/// "First page's JavaScript <= 100 KB gzipped", in Vite's units (kB = 1000 bytes).
pub const JS_BUDGET_BYTES: u64 = 100_000;
/// What "usable on a slow phone" means here: the first ranking row painted within 3 s of
/// navigation start on the profile below (the RAIL/Core Web Vitals "good" LCP is 2.5 s on
/// a faster profile; 3 s on a 4x-throttled CPU and slow 4G is the bar we set).
pub const FIRST_ROW_BUDGET_MS: f64 = 3000.0;

/// The slow phone: Lighthouse's "slow 4G" figures and 4x CPU slowdown, as DevTools
/// applies them per request (no latency multiplier), at a 390x844 phone viewport.
pub const LATENCY_MS: u32 = 150;
pub const DOWN_BYTES_PER_S: u32 = 1_600_000 / 8;
pub const UP_BYTES_PER_S: u32 = 750_000 / 8;
pub const CPU_SLOWDOWN: u32 = 4;
pub const PHONE: (u32, u32) = (390, 844);

/// How long one page may take before the load counts as failed.
const PAGE_LIMIT: Duration = Duration::from_secs(60);
const HTTP_LIMIT: Duration = Duration::from_secs(30);
/// Parallel API writes while seeding (the in-process functions share 2 cores with argon2).
const SEED_CONCURRENCY: usize = 8;
const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone)]
pub struct Options {
    pub loads: usize,
    pub runners: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            loads: 5,
            runners: 200,
        }
    }
}

/// One file of the first page, as Vite reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub path: String,
    pub raw: u64,
    pub gzip: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// The module script and its modulepreload links.
    pub scripts: Vec<Asset>,
    pub styles: Vec<Asset>,
    /// Scripts in dist/assets the first page does not load (chunks loaded on demand).
    pub later: Vec<Asset>,
    /// How the build was obtained (fresh `npm run build`, or the existing web/dist).
    pub build: String,
}

impl Bundle {
    pub fn js_gzip(&self) -> u64 {
        self.scripts.iter().map(|a| a.gzip).sum()
    }
    pub fn js_raw(&self) -> u64 {
        self.scripts.iter().map(|a| a.raw).sum()
    }
}

/// One cold load of the results page. Milliseconds from navigation start (the page's
/// `performance.now()`).
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// The first `tr[data-runner-id]` inserted (MutationObserver callback).
    pub first_row_inserted: f64,
    /// The next animation frame after that: the frame that paints it.
    pub first_row_painted: f64,
    pub row_in_viewport: bool,
    pub rows: u64,
    pub fcp: Option<f64>,
    pub lcp: Option<f64>,
    pub lcp_element: Option<String>,
    pub dom_content_loaded: f64,
    pub load_event: f64,
    /// Requests and bytes over the (throttled) wire, from Resource Timing.
    pub requests: u64,
    pub transferred: u64,
    /// A fixed JavaScript loop timed in the loaded page with the throttling on.
    pub calibration_ms: f64,
    /// What the page fetched, in order: (path, start, end, bytes over the wire).
    pub fetched: Vec<(String, f64, f64, u64)>,
}

#[derive(Debug, Clone, Default)]
pub struct Phone {
    pub loads: Vec<Load>,
    pub runners: usize,
    pub seeding: Duration,
    pub chromium: String,
    /// The same loop without the CPU throttling, in the first load's page.
    pub calibration_unthrottled_ms: Option<f64>,
    /// Failed loads, with why.
    pub failures: Vec<String>,
}

pub struct WebResults {
    pub bundle: Result<Bundle>,
    pub phone: Result<Phone>,
}

/// Both measurements; neither failing stops the other.
pub async fn measure(options: &Options) -> WebResults {
    let web = repo_root().join("web");
    let built = ensure_built(&web);
    let bundle = built.clone().and_then(|build| {
        let mut bundle = bundle(&web.join("dist"))?;
        bundle.build = build;
        Ok(bundle)
    });
    let phone = match built {
        Ok(_) => phone(options).await,
        Err(e) => Err(e),
    };
    WebResults { bundle, phone }
}

// ---------------------------------------------------------------------------------------
// The JavaScript budget

/// Builds the site when web/dist is missing or older than its sources; says which.
fn ensure_built(web: &Path) -> Result<String> {
    let index = web.join("dist/index.html");
    let built_at = std::fs::metadata(&index).and_then(|m| m.modified()).ok();
    let mut newest = SystemTime::UNIX_EPOCH;
    for source in ["src", "index.html", "public", "package.json", "vite.config.ts"] {
        newest = newest.max(newest_mtime(&web.join(source)));
    }
    if built_at.is_some_and(|built| built >= newest) {
        return Ok("web/dist as it was built, newer than its sources".into());
    }
    if !web.join("node_modules").is_dir() {
        return Err("web/dist is missing or older than web/src, and web/node_modules is missing: run `make web` first".into());
    }
    eprintln!("building the site (npm run build in web/)");
    let log = crate::builder::run_niced("npm", &["--prefix", "web", "run", "build"], "web-build.log", None)?;
    if !index.is_file() {
        return Err(format!(
            "npm run build left no web/dist/index.html; see {}",
            log.display()
        ));
    }
    Ok("built by this run (`npm run build` in web/)".into())
}

fn newest_mtime(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    let own = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !meta.is_dir() {
        return own;
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| newest_mtime(&entry.path()))
        .fold(own, SystemTime::max)
}

/// The first page's scripts and styles from `dist/index.html`, measured.
pub fn bundle(dist: &Path) -> Result<Bundle> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|e| format!("{}: {e}", index.display()))?;
    let (scripts, styles) = first_page(&html);
    if scripts.is_empty() {
        return Err(format!("{} loads no module script", index.display()));
    }
    let measure = |href: &String| -> Result<Asset> {
        let file = local_file(dist, href)?;
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(Asset {
            path: href.clone(),
            raw: bytes.len() as u64,
            gzip: gzip_size(&bytes),
        })
    };
    let scripts: Vec<Asset> = scripts.iter().map(measure).collect::<Result<_>>()?;
    let mut later = Vec::new();
    let assets = dist.join("assets");
    let mut names: Vec<String> = std::fs::read_dir(&assets)
        .map_err(|e| format!("{}: {e}", assets.display()))?
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".js"))
        .collect();
    names.sort();
    for name in names {
        let href = format!("/assets/{name}");
        if !scripts
            .iter()
            .any(|a| local_file(dist, &a.path).ok() == local_file(dist, &href).ok())
        {
            later.push(measure(&href)?);
        }
    }
    Ok(Bundle {
        scripts,
        styles: styles.iter().map(measure).collect::<Result<_>>()?,
        later,
        build: String::new(),
    })
}

/// A same-origin URL of index.html as a file of dist/.
fn local_file(dist: &Path, href: &str) -> Result<PathBuf> {
    let path = href.split(['?', '#']).next().unwrap_or_default();
    if path.contains("://") || path.starts_with("//") {
        return Err(format!("{href} is not on the site's origin"));
    }
    let relative = path.trim_start_matches("./").trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return Err(format!("{href} leaves web/dist"));
    }
    Ok(dist.join(relative))
}

/// The bytes gzip-compressed at the default level (6), as Vite's size report does.
pub fn gzip_size(bytes: &[u8]) -> u64 {
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().map(|v| v.len() as u64).unwrap_or(0)
}

/// What the first page loads: (module scripts and modulepreload links, stylesheets), in
/// document order, without repeats.
///
/// Vite writes index.html itself, with only these tags in a fixed form; a tag scanner is
/// enough for that, where an HTML5 parser would be a large dependency for three tags.
pub fn first_page(html: &str) -> (Vec<String>, Vec<String>) {
    let mut scripts: Vec<String> = Vec::new();
    let mut styles: Vec<String> = Vec::new();
    let push = |list: &mut Vec<String>, url: Option<&String>| {
        if let Some(url) = url
            && !list.contains(url)
        {
            list.push(url.clone());
        }
    };
    for (name, attrs) in start_tags(html) {
        let get = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let rel: Vec<String> = get("rel")
            .map(|r| r.split_ascii_whitespace().map(str::to_ascii_lowercase).collect())
            .unwrap_or_default();
        match name.as_str() {
            "script" if get("type").is_some_and(|t| t.eq_ignore_ascii_case("module")) => {
                push(&mut scripts, get("src"))
            }
            "link" if rel.iter().any(|r| r == "modulepreload") => push(&mut scripts, get("href")),
            "link" if rel.iter().any(|r| r == "stylesheet") => push(&mut styles, get("href")),
            _ => {}
        }
    }
    (scripts, styles)
}

type Tag = (String, Vec<(String, String)>);

/// Start tags with their attributes (names lower-cased, valueless ones as ""), skipping
/// comments.
fn start_tags(html: &str) -> Vec<Tag> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let name_end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        let mut attrs = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() {
                break;
            }
            if let Some(after) = rest.strip_prefix('>') {
                rest = after;
                break;
            }
            let key_end = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
                .unwrap_or(rest.len())
                .max(1);
            let key = rest[..key_end].to_ascii_lowercase();
            rest = rest[key_end..].trim_start();
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                let (v, remaining) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let body = &after[1..];
                        let end = body.find(q).unwrap_or(body.len());
                        (&body[..end], body.get(end + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = after
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .unwrap_or(after.len());
                        (&after[..end], &after[end..])
                    }
                };
                value = v.to_owned();
                rest = remaining;
            }
            attrs.push((key, value));
        }
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            tags.push((name, attrs));
        }
    }
    tags
}

// ---------------------------------------------------------------------------------------
// The results page on a slow phone

async fn phone(options: &Options) -> Result<Phone> {
    let stack = tokio::task::spawn_blocking(local::Stack::start)
        .await
        .map_err(|e| format!("the emulator start panicked: {e}"))?
        .map_err(|e| format!("the local stack cannot start: {e}"))?;
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let invoker = with_functions(provisioned, &sdk).await?;
    let site = local::gateway::Site::repository().map_err(|e| format!("the site's headers: {e}"))?;
    // Only the gateway: the ranking is read from the results table, no pipeline needed.
    let services = Services::start(
        stack.endpoint(),
        provisioned,
        Arc::new(invoker),
        ServiceOptions {
            site,
            mappings: false,
            mailbox_dir: None,
            ..ServiceOptions::for_tests(None)
        },
    )
    .await
    .map_err(|e| format!("the local stack's gateway does not start: {e}"))?;
    let outcome = async {
        let api = services.api_url().ok_or("no gateway")?;
        let origin = services.site_url().ok_or("no gateway")?;
        let origin = origin.trim_end_matches('/').to_owned();
        eprintln!(
            "web: seeding a marathon with {} results through the API",
            options.runners
        );
        let seeding = Instant::now();
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let users = Users {
            dynamo: &dynamo,
            table: provisioned
                .physical_name("UsersTable")
                .ok_or("the template declares no UsersTable")?,
        };
        let marathon = seed(&api, &users, options.runners).await?;
        let seeding = seeding.elapsed();
        let driver = Driver::start().await?;
        let mut phone = Phone {
            runners: options.runners,
            seeding,
            chromium: command_output("/usr/bin/chromium", &["--version"]).unwrap_or_else(|| "unknown".into()),
            ..Phone::default()
        };
        let url = format!("{origin}/marathons/{marathon}/results");
        for n in 0..options.loads {
            eprintln!("web: cold load {} of {} of {url}", n + 1, options.loads);
            match driver.cold_load(&url, n == 0).await {
                Ok((load, unthrottled)) => {
                    if unthrottled.is_some() {
                        phone.calibration_unthrottled_ms = unthrottled;
                    }
                    phone.loads.push(load);
                }
                Err(e) => phone.failures.push(e),
            }
        }
        driver.stop().await;
        Ok(phone)
    }
    .await;
    services.stop().await;
    drop(stack);
    outcome
}

async fn with_functions(provisioned: &local::Provisioned, sdk: &aws_config::SdkConfig) -> Result<InProcess> {
    let env = provisioned
        .function_env("LoginFunction")
        .map_err(|e| format!("LoginFunction: {e}"))?;
    let settings = login::Settings::from_lookup(|name| env.get(name).cloned())
        .map_err(|e| format!("login's settings: {e}"))?;
    let auth = login::Auth::connect(sdk, &settings)
        .await
        .map_err(|e| format!("login does not connect to the emulator: {e}"))?;
    let login = login::router(Arc::new(auth));
    let env = provisioned
        .function_env("RecordApiFunction")
        .map_err(|e| format!("RecordApiFunction: {e}"))?;
    let settings = record_api::Settings::from_lookup(|name| env.get(name).cloned())
        .map_err(|e| format!("record-api's settings: {e}"))?;
    let api = record_api::Api::connect(sdk, &settings)
        .await
        .map_err(|e| format!("record-api does not connect to the emulator: {e}"))?;
    let records = record_api::router(Arc::new(api));
    Ok(InProcess::new()
        .with_router("LoginFunction", login)
        .with_router("RecordApiFunction", records))
}

/// One JSON call; anything but `expect` is an error with the answer.
async fn call(
    http: &HttpClient,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Value,
    expect: u16,
) -> Result<Value> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("authorization", b.as_str()));
    }
    let reply = http
        .request(
            method.clone(),
            url,
            &headers,
            body.to_string().into_bytes(),
            HTTP_LIMIT,
        )
        .await?;
    if reply.status != expect {
        return Err(format!("{method} {url}: {} {}", reply.status, reply.text()));
    }
    Ok(reply.json().unwrap_or(Value::Null))
}

/// Where the bench marks an address verified: the Users table of the stack it started.
struct Users<'a> {
    dynamo: &'a aws_sdk_dynamodb::Client,
    table: &'a str,
}

impl Users<'_> {
    /// As following the mailed link does (no mail goes out here: the pipeline is off, and
    /// an unverified organizer may record no result).
    async fn mark_email_verified(&self, id: &str) -> Result<()> {
        let id = domain::UserId::parse(id).ok_or("signup answered no user id")?;
        self.dynamo
            .update_item()
            .table_name(self.table)
            .set_key(Some(infra::dynamo::keys::profile_key(&id)))
            .update_expression("SET email_verified = :true")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "cannot mark {id} verified: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })
    }
}

/// A new account, signed in: (its id, an access token). With `verify`, its address is
/// verified before the login, so the token says so.
async fn account(
    http: &HttpClient,
    api: &str,
    email: &str,
    name: &str,
    role: &str,
    verify: Option<&Users<'_>>,
) -> Result<(String, String)> {
    let body = json!({ "email": email, "password": PASSWORD, "name": name, "user_type": role });
    let user = call(http, Method::POST, &format!("{api}/auth/signup"), None, body, 201).await?;
    if let Some(users) = verify {
        users
            .mark_email_verified(user["id"].as_str().ok_or("signup answered no user id")?)
            .await?;
    }
    let body = json!({ "email": email, "password": PASSWORD });
    let session = call(http, Method::POST, &format!("{api}/auth/login"), None, body, 200).await?;
    let id = session["user"]["id"].as_str().ok_or("login answers no user id")?;
    let token = session["access_token"]
        .as_str()
        .ok_or("login answers no access token")?;
    Ok((id.to_owned(), token.to_owned()))
}

/// The race, held today (results are accepted from race day on): registration closes at
/// the end of today (UTC), `runners` register and each gets a result. Returns its id.
async fn seed(api: &str, users: &Users<'_>, runners: usize) -> Result<String> {
    let http = HttpClient::new();
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let now = time::OffsetDateTime::now_utc();
    let closes = now.replace_time(time::macros::time!(23:59:59));
    if closes - now < time::Duration::minutes(10) {
        return Err("too close to midnight UTC for a race held today: run again after 00:00 UTC".into());
    }
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| e.to_string())
    };
    let (_, organizer) = account(
        &http,
        api,
        &format!("organizer.{suffix}@example.com"),
        "벤치 주최자",
        "organizer",
        Some(users),
    )
    .await?;
    let marathon = call(
        &http,
        Method::POST,
        &format!("{api}/marathons"),
        Some(&organizer),
        json!({
            "name": "느린 전화 마라톤",
            "date": now.date().to_string(),
            "location": "광화문",
            "course": "full",
            "points": 100,
            "capacity": runners,
            "registration_closes_at": rfc3339(closes)?,
        }),
        201,
    )
    .await?;
    let id = marathon["id"]
        .as_str()
        .ok_or("the marathon has no id")?
        .to_owned();
    let registered: Vec<(usize, String)> = futures::stream::iter(0..runners)
        .map(|n| {
            let (http, id, suffix) = (&http, &id, &suffix);
            async move {
                let (runner, token) = account(
                    http,
                    api,
                    &format!("runner{n}.{suffix}@example.com"),
                    &format!("러너 {n:03}"),
                    "runner",
                    None,
                )
                .await?;
                call(
                    http,
                    Method::POST,
                    &format!("{api}/marathons/{id}/entries"),
                    Some(&token),
                    json!({}),
                    201,
                )
                .await?;
                Ok::<_, String>((n, runner))
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect()
        .await?;
    futures::stream::iter(registered)
        .map(|(n, runner)| {
            let (http, id, organizer) = (&http, &id, &organizer);
            async move {
                // 2:30:00 and on, 37 s apart: distinct times, a ranking in a known order.
                let seconds = 2 * 3600 + 30 * 60 + 37 * n;
                let finish = format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
                call(
                    http,
                    Method::PUT,
                    &format!("{api}/marathons/{id}/results/{runner}"),
                    Some(organizer),
                    json!({ "finish_time": finish, "bonus_points": 0 }),
                    201,
                )
                .await
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(id)
}

/// Runs at the start of every document the browser loads (DevTools injects it; the page's
/// CSP does not apply): the time the first ranking row is inserted and the frame that
/// paints it, and the largest contentful paint.
const OBSERVER: &str = r#"
(() => {
  const bench = window.__mrmrthonBench = { inserted: null, painted: null, inViewport: null, lcp: null, lcpElement: null };
  const observer = new MutationObserver(() => {
    if (bench.inserted !== null) return;
    const row = document.querySelector('tr[data-runner-id]');
    if (!row) return;
    bench.inserted = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => {
      bench.painted = performance.now();
      const rect = row.getBoundingClientRect();
      bench.inViewport = rect.top < innerHeight && rect.bottom > 0;
    });
  });
  observer.observe(document, { childList: true, subtree: true });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        bench.lcp = e.startTime;
        bench.lcpElement = e.element ? e.element.tagName.toLowerCase() : null;
      }
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  } catch (e) { bench.lcpError = String(e); }
})();
"#;

/// The same busy loop for the throttled and the unthrottled CPU: their ratio shows the
/// slowdown really applied to the page's renderer.
const CALIBRATION: &str = r#"
const t0 = performance.now();
let x = 0;
for (let i = 0; i < 20000000; i++) { x = (x + i * 7) % 1000003; }
return [performance.now() - t0, x];
"#;

const READ: &str = r#"
const b = window.__mrmrthonBench || {};
const nav = performance.getEntriesByType('navigation')[0];
const fcp = performance.getEntriesByName('first-contentful-paint')[0];
const resources = performance.getEntriesByType('resource');
return {
  inserted: b.inserted, painted: b.painted, inViewport: b.inViewport,
  lcp: b.lcp, lcpElement: b.lcpElement, lcpError: b.lcpError || null,
  rows: document.querySelectorAll('tr[data-runner-id]').length,
  fcp: fcp ? fcp.startTime : null,
  dcl: nav ? nav.domContentLoadedEventEnd : null,
  load: nav ? nav.loadEventEnd : null,
  requests: resources.length + 1,
  transferred: resources.reduce((sum, r) => sum + (r.transferSize || 0), nav ? nav.transferSize : 0),
  fetched: [nav, ...resources].filter(Boolean).map((r) => {
    const url = new URL(r.name);
    return [url.pathname + url.search, r.startTime, r.responseEnd, r.transferSize || 0];
  }),
};
"#;

/// ChromeDriver on a free loopback port; killed when dropped.
struct Driver {
    url: String,
    http: HttpClient,
    child: tokio::process::Child,
}

impl Driver {
    async fn start() -> Result<Driver> {
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        if !Path::new(&binary).exists() {
            return Err(format!(
                "{binary} is missing: `make browser` installs Debian's chromium and chromium-driver"
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let child = tokio::process::Command::new(&binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{binary} does not start: {e}"))?;
        let driver = Driver {
            url: format!("http://127.0.0.1:{port}"),
            http: HttpClient::new(),
            child,
        };
        let started = Instant::now();
        loop {
            let status = driver
                .http
                .get(&format!("{}/status", driver.url), Duration::from_secs(2))
                .await;
            if let Ok(reply) = status
                && reply.json().is_some_and(|v| v["value"]["ready"] == json!(true))
            {
                return Ok(driver);
            }
            if started.elapsed() > HTTP_LIMIT {
                return Err("chromedriver never became ready".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// ChromeDriver's own shutdown: killed instead, it leaves its last browser's
    /// temporary profile in /tmp.
    async fn stop(mut self) {
        let _ = self
            .http
            .get(&format!("{}/shutdown", self.url), Duration::from_secs(5))
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }

    /// A new browser (its own empty profile: nothing cached, no cookie), throttled.
    async fn browser(&self) -> Result<Client> {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": binary,
                // the machine's network is closed: no background traffic, no sandbox as root
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--lang=ko-KR",
                         format!("--window-size={},{}", PHONE.0, PHONE.1)],
                "prefs": { "intl.accept_languages": "ko-KR,ko" },
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .map_err(|e| format!("chromium does not start under chromedriver: {e}"))
    }

    /// A DevTools command to the session's page, through ChromeDriver's own endpoint.
    async fn cdp(&self, client: &Client, cmd: &str, params: Value) -> Result<Value> {
        let session = client
            .session_id()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no WebDriver session")?;
        let reply = self
            .http
            .post_json(
                &format!("{}/session/{session}/goog/cdp/execute", self.url),
                &json!({ "cmd": cmd, "params": params }),
                HTTP_LIMIT,
            )
            .await?;
        if reply.status != 200 {
            return Err(format!("{cmd}: {} {}", reply.status, reply.text()));
        }
        Ok(reply.json().map(|v| v["value"].clone()).unwrap_or(Value::Null))
    }

    /// One load in a new browser; with `calibrate`, the unthrottled loop time too.
    async fn cold_load(&self, url: &str, calibrate: bool) -> Result<(Load, Option<f64>)> {
        let client = self.browser().await?;
        let outcome = self.measure_in(&client, url, calibrate).await;
        let _ = client.close().await;
        outcome
    }

    async fn measure_in(&self, client: &Client, url: &str, calibrate: bool) -> Result<(Load, Option<f64>)> {
        self.cdp(client, "Network.enable", json!({})).await?;
        self.cdp(
            client,
            "Network.setCacheDisabled",
            json!({ "cacheDisabled": true }),
        )
        .await?;
        self.cdp(
            client,
            "Network.emulateNetworkConditions",
            json!({
                "offline": false,
                "latency": LATENCY_MS,
                "downloadThroughput": DOWN_BYTES_PER_S,
                "uploadThroughput": UP_BYTES_PER_S,
            }),
        )
        .await?;
        self.cdp(
            client,
            "Emulation.setCPUThrottlingRate",
            json!({ "rate": CPU_SLOWDOWN }),
        )
        .await?;
        self.cdp(
            client,
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": PHONE.0, "height": PHONE.1, "deviceScaleFactor": 3, "mobile": true }),
        )
        .await?;
        self.cdp(
            client,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": OBSERVER }),
        )
        .await?;
        client.goto(url).await.map_err(|e| format!("{url}: {e}"))?;
        let started = Instant::now();
        let mut seen = loop {
            let read = client
                .execute(READ, vec![])
                .await
                .map_err(|e| format!("reading the page: {e}"))?;
            if read["painted"].is_number() {
                break read;
            }
            if started.elapsed() > PAGE_LIMIT {
                return Err(format!("no ranking row painted within {PAGE_LIMIT:?}: {read}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // LCP settles once nothing larger paints: read it again after a quiet second.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(again) = client.execute(READ, vec![]).await {
            seen = again;
        }
        let throttled = calibration(client).await?;
        let unthrottled = if calibrate {
            self.cdp(client, "Emulation.setCPUThrottlingRate", json!({ "rate": 1 }))
                .await?;
            Some(calibration(client).await?)
        } else {
            None
        };
        let number = |key: &str| seen[key].as_f64();
        let load = Load {
            first_row_inserted: number("inserted").ok_or("no insertion time")?,
            first_row_painted: number("painted").ok_or("no paint time")?,
            row_in_viewport: seen["inViewport"] == json!(true),
            rows: seen["rows"].as_u64().unwrap_or(0),
            fcp: number("fcp"),
            lcp: number("lcp"),
            lcp_element: seen["lcpElement"].as_str().map(str::to_owned),
            dom_content_loaded: number("dcl").unwrap_or(f64::NAN),
            load_event: number("load").unwrap_or(f64::NAN),
            requests: seen["requests"].as_u64().unwrap_or(0),
            transferred: seen["transferred"].as_f64().unwrap_or(0.0) as u64,
            calibration_ms: throttled,
            fetched: seen["fetched"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|r| {
                            (
                                r[0].as_str().unwrap_or_default().to_owned(),
                                r[1].as_f64().unwrap_or(f64::NAN),
                                r[2].as_f64().unwrap_or(f64::NAN),
                                r[3].as_u64().unwrap_or(0),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        Ok((load, unthrottled))
    }
}

async fn calibration(client: &Client) -> Result<f64> {
    let reply = client
        .execute(CALIBRATION, vec![])
        .await
        .map_err(|e| format!("the calibration loop: {e}"))?;
    reply[0]
        .as_f64()
        .ok_or_else(|| format!("the calibration loop answered {reply}"))
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

// ---------------------------------------------------------------------------------------
// The report's section

/// Between these, BENCHMARKS.md holds the web section: `web` alone replaces just that.
pub const BEGIN: &str = "<!-- web part: generated by `mrmrthon-bench web` or `all` -->";
pub const END: &str = "<!-- end of the web part -->";

fn kb(bytes: u64) -> String {
    format!("{:.2} kB", bytes as f64 / 1000.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**MISSED**" }
}

/// The section, markers included.
pub fn render(r: &WebResults, command: &str, when: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "{BEGIN}");
    let _ = writeln!(w, "## Web (issue 19)\n");
    let _ = writeln!(w, "Measured by `{command}` at {when}.\n");
    let _ = writeln!(w, "### First page's JavaScript\n");
    match &r.bundle {
        Err(e) => {
            let _ = writeln!(w, "Not measured: {e}\n");
        }
        Ok(b) => {
            let _ = writeln!(
                w,
                "What web/dist/index.html loads before anything renders ({}): its module script and \
                 modulepreload links, and its stylesheet, each gzip-compressed at the default level \
                 (flate2, zlib's level 6 as `gzip -6`; kB = 1000 bytes). Vite 8's own build report \
                 (its native reporter) prints about 2% more for the same files. {}\n",
                b.build,
                if b.later.is_empty() {
                    "No other script is in dist/assets: later pages load no more JavaScript.".to_owned()
                } else {
                    format!(
                        "{} more script(s) in dist/assets load on demand, {} gzipped in all (not part of the first page).",
                        b.later.len(),
                        kb(b.later.iter().map(|a| a.gzip).sum())
                    )
                }
            );
            let _ = writeln!(w, "| file | kind | raw | gzip |");
            let _ = writeln!(w, "|---|---|---|---|");
            for (kind, list) in [("JavaScript", &b.scripts), ("CSS", &b.styles)] {
                for a in list {
                    let _ = writeln!(w, "| `{}` | {kind} | {} | {} |", a.path, kb(a.raw), kb(a.gzip));
                }
            }
            let css: u64 = b.styles.iter().map(|a| a.gzip).sum();
            let _ = writeln!(
                w,
                "\n**JavaScript: {} gzipped ({} raw), budget ≤ {}: {}.** CSS: {} gzipped.\n",
                kb(b.js_gzip()),
                kb(b.js_raw()),
                kb(JS_BUDGET_BYTES),
                verdict(b.js_gzip() <= JS_BUDGET_BYTES),
                kb(css)
            );
        }
    }
    let _ = writeln!(w, "### The results page on a slow phone\n");
    match &r.phone {
        Err(e) => {
            let _ = writeln!(w, "Not measured: {e}\n");
        }
        Ok(p) => phone_section(w, p, r.bundle.as_ref().ok()),
    }
    let _ = writeln!(w, "{END}");
    out
}

fn phone_section(w: &mut String, p: &Phone, bundle: Option<&Bundle>) {
    use std::fmt::Write;
    let _ = writeln!(
        w,
        "`/marathons/{{id}}/results` of a marathon with {} results (seeded through the API in \
         {:.0} s: {} sign-ups and sign-ins, registrations and recorded results), served by the local \
         stack's gateway (site at the root, API under /api, login and record-api in-process on the \
         emulator). {}, headless, a new browser with an empty profile for each load, through \
         ChromeDriver and its DevTools endpoint:\n",
        p.runners,
        p.seeding.as_secs_f64(),
        p.runners + 1,
        p.chromium,
    );
    let _ = writeln!(
        w,
        "- phone viewport {}x{} (device scale 3, mobile), `Emulation.setCPUThrottlingRate` {}x;",
        PHONE.0, PHONE.1, CPU_SLOWDOWN
    );
    let _ = writeln!(
        w,
        "- slow 4G: `Network.emulateNetworkConditions` latency {} ms per request, {} kB/s down \
         ({:.1} Mbit/s), {} kB/s up ({:.0} kbit/s); `Network.setCacheDisabled`;",
        LATENCY_MS,
        DOWN_BYTES_PER_S / 1000,
        f64::from(DOWN_BYTES_PER_S) * 8.0 / 1e6,
        f64::from(UP_BYTES_PER_S) / 1000.0,
        f64::from(UP_BYTES_PER_S) * 8.0 / 1e3
    );
    let _ = writeln!(
        w,
        "- times from navigation start, read in the page (`performance.now()`): \"first row \
         painted\" is the animation frame after a MutationObserver (injected with \
         `Page.addScriptToEvaluateOnNewDocument`) saw the first `tr[data-runner-id]`; LCP is the \
         last `largest-contentful-paint` entry a second later.\n"
    );
    let first: Vec<f64> = p.loads.iter().map(|l| l.first_row_painted).collect();
    let metric = |name: &str, values: Vec<f64>, w: &mut String| {
        if let Some(s) = Summary::of(&values) {
            let _ = writeln!(
                w,
                "| {name} | {} | {:.0} | {:.0} | {:.0} |",
                s.n, s.median, s.min, s.max
            );
        }
    };
    let _ = writeln!(w, "| from navigation start (ms) | loads | median | min | max |");
    let _ = writeln!(w, "|---|---|---|---|---|");
    metric(
        "first contentful paint",
        p.loads.iter().filter_map(|l| l.fcp).collect(),
        w,
    );
    metric(
        "DOMContentLoaded",
        p.loads.iter().map(|l| l.dom_content_loaded).collect(),
        w,
    );
    metric("load event", p.loads.iter().map(|l| l.load_event).collect(), w);
    metric(
        "first row inserted",
        p.loads.iter().map(|l| l.first_row_inserted).collect(),
        w,
    );
    metric("**first row painted**", first.clone(), w);
    metric(
        "largest contentful paint",
        p.loads.iter().filter_map(|l| l.lcp).collect(),
        w,
    );
    let _ = writeln!(w);
    if let Some(s) = Summary::of(&first) {
        let _ = writeln!(
            w,
            "**First ranking row painted: median {:.0} ms, max {:.0} ms; budget ≤ {:.0} ms (our \
             bar for \"usable on a slow phone\"): {}.**\n",
            s.median,
            s.max,
            FIRST_ROW_BUDGET_MS,
            verdict(s.max <= FIRST_ROW_BUDGET_MS)
        );
    }
    if let Some(l) = p.loads.first() {
        let mut elements: Vec<&str> = p.loads.iter().filter_map(|l| l.lcp_element.as_deref()).collect();
        elements.sort_unstable();
        elements.dedup();
        let _ = writeln!(
            w,
            "Each load: {} requests, {} over the wire (Resource Timing transfer sizes), {} ranking \
             rows on the first page, the first row {} the viewport; LCP element: {}.",
            l.requests,
            kb(l.transferred),
            l.rows,
            if p.loads.iter().all(|l| l.row_in_viewport) {
                "inside"
            } else {
                "not always inside"
            },
            if elements.is_empty() {
                "none reported".to_owned()
            } else {
                elements.join(", ")
            }
        );
    }
    if let Some(s) = Summary::of(&first)
        && let Some(lcp) = Summary::of(&p.loads.iter().filter_map(|l| l.lcp).collect::<Vec<_>>())
        && lcp.median < s.median
    {
        let _ = writeln!(
            w,
            "LCP comes before the first row: the largest element is painted with the page's frame, \
             before the ranking arrives (a row's cells are smaller), so the first row, not LCP, is \
             the figure the budget judges."
        );
    }
    let throttled: Vec<f64> = p.loads.iter().map(|l| l.calibration_ms).collect();
    if let (Some(t), Some(u)) = (Summary::of(&throttled), p.calibration_unthrottled_ms) {
        let _ = writeln!(
            w,
            "The CPU throttling reached the page: a fixed JavaScript loop took {:.0} ms in the \
             loaded page throttled (median of the loads) and {u:.0} ms once the throttling was \
             lifted, {:.1}x. (Chrome's throttler suspends the renderer for {} times the CPU time \
             it used; the wall-clock ratio also moves with whatever else ran on this machine's \
             cores during either run.)",
            t.median,
            t.median / u,
            CPU_SLOWDOWN - 1,
        );
    }
    if let Some(b) = bundle {
        let saved = b.js_raw().saturating_sub(b.js_gzip())
            + b.styles.iter().map(|a| a.raw.saturating_sub(a.gzip)).sum::<u64>();
        let _ = writeln!(
            w,
            "The local gateway serves the files uncompressed, where CloudFront compresses them: \
             on AWS the first page moves {} less, about {:.0} ms less at this download rate; \
             these figures are pessimistic by that much.",
            kb(saved),
            saved as f64 / f64::from(DOWN_BYTES_PER_S) * 1000.0
        );
    }
    // The load with the median first row, request by request: where the time goes.
    let mut by_first: Vec<&Load> = p.loads.iter().collect();
    by_first.sort_by(|a, b| a.first_row_painted.total_cmp(&b.first_row_painted));
    if let Some(median) = by_first.get(by_first.len() / 2)
        && !median.fetched.is_empty()
    {
        let _ = writeln!(
            w,
            "\nThe median load ({:.0} ms to the first row), request by request (ms from navigation \
             start; the API calls are the session refresh, the marathon and the first page of 50 \
             results):\n",
            median.first_row_painted
        );
        let _ = writeln!(w, "| request | start | end | over the wire |");
        let _ = writeln!(w, "|---|---|---|---|");
        for (path, start, end, bytes) in &median.fetched {
            let _ = writeln!(
                w,
                "| `{}` | {start:.0} | {end:.0} | {} |",
                shorten(path),
                kb(*bytes)
            );
        }
    }
    for failure in &p.failures {
        let _ = writeln!(w, "\nA load failed: {}", failure.replace('\n', " "));
    }
    let _ = writeln!(w);
}

/// A path with the marathon's and runners' ids shortened, for the table.
fn shorten(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.len() == 26 && part.chars().all(|c| c.is_ascii_alphanumeric()) {
                "{id}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `existing` with its web section replaced by `section`, or the section put before
/// "## Not measured" (else at the end) when it has none.
pub fn splice(existing: &str, section: &str) -> String {
    if let (Some(begin), Some(end)) = (existing.find(BEGIN), existing.find(END))
        && begin < end
    {
        let after = &existing[end + END.len()..];
        return format!("{}{}{}", &existing[..begin], section.trim_end(), after);
    }
    match existing.find("\n## Not measured") {
        Some(at) => format!("{}{section}{}", &existing[..at + 1], &existing[at..]),
        None => format!("{}\n{section}", existing.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VITE: &str = r#"<!doctype html>
<html lang="ko">
  <head>
    <meta charset="utf-8" />
    <!-- <script type="module" src="/assets/commented.js"></script> -->
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <script type="module" crossorigin src="/assets/index-DLKfInmv.js"></script>
    <link rel="modulepreload" crossorigin href="/assets/vendor-Ab12.js">
    <link rel=modulepreload href='./assets/i18n-Cd34.js'>
    <link rel="modulepreload" crossorigin href="/assets/vendor-Ab12.js">
    <script src="/legacy.js"></script>
    <link rel="stylesheet" crossorigin href="/assets/style-Ccf3V0OR.css">
  </head>
  <body><div id="app"></div></body>
</html>"#;

    #[test]
    fn the_first_page_is_its_module_script_preloads_and_styles() {
        let (scripts, styles) = first_page(VITE);
        assert_eq!(
            scripts,
            [
                "/assets/index-DLKfInmv.js",
                "/assets/vendor-Ab12.js",
                "./assets/i18n-Cd34.js"
            ]
        );
        assert_eq!(styles, ["/assets/style-Ccf3V0OR.css"]);
        let (scripts, styles) = first_page("<html><body>nothing</body></html>");
        assert!(scripts.is_empty() && styles.is_empty());
    }

    #[test]
    fn urls_map_into_dist_and_never_out_of_it() {
        let dist = Path::new("/site/dist");
        assert_eq!(
            local_file(dist, "/assets/a.js?v=1").unwrap(),
            dist.join("assets/a.js")
        );
        assert_eq!(
            local_file(dist, "./assets/a.js").unwrap(),
            dist.join("assets/a.js")
        );
        assert!(local_file(dist, "https://cdn.example.com/a.js").is_err());
        assert!(local_file(dist, "//cdn.example.com/a.js").is_err());
        assert!(local_file(dist, "/../secret.js").is_err());
    }

    #[test]
    fn gzip_size_is_the_size_of_a_real_gzip_stream() {
        use std::io::Read;
        let text = "const rows = results.map((r) => r.runner_id);\n".repeat(500);
        let size = gzip_size(text.as_bytes());
        // repetitive text compresses far below its size, yet a gzip stream has a header
        assert!(size > 20 && size < text.len() as u64 / 10, "{size}");
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        std::io::Write::write_all(&mut encoder, text.as_bytes()).unwrap();
        let stream = encoder.finish().unwrap();
        assert_eq!(stream.len() as u64, size);
        let mut back = String::new();
        flate2::read::GzDecoder::new(&stream[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
        // an empty file is still a header and a trailer
        assert_eq!(gzip_size(b""), 20);
    }

    #[test]
    fn the_bundle_is_measured_from_the_files_index_html_names() {
        let dist = std::env::temp_dir().join(format!("mrmrthon-bench-web-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(dist.join("assets")).unwrap();
        std::fs::write(
            dist.join("index.html"),
            r#"<script type="module" src="/assets/a.js"></script><link rel="modulepreload" href="/assets/b.js"><link rel="stylesheet" href="/assets/s.css">"#,
        )
        .unwrap();
        std::fs::write(dist.join("assets/a.js"), "export const a = 1;\n".repeat(100)).unwrap();
        std::fs::write(dist.join("assets/b.js"), "export const b = 2;\n").unwrap();
        std::fs::write(dist.join("assets/s.css"), "body { margin: 0 }\n").unwrap();
        let b = bundle(&dist).unwrap();
        assert_eq!(b.js_raw(), 2000 + 20);
        assert_eq!(
            b.scripts[0].gzip,
            gzip_size("export const a = 1;\n".repeat(100).as_bytes())
        );
        assert_eq!(b.js_gzip(), b.scripts[0].gzip + b.scripts[1].gzip);
        assert_eq!(b.styles.len(), 1);
        assert!(b.later.is_empty());
        std::fs::write(dist.join("assets/lazy.js"), "export const c = 3;\n").unwrap();
        let b = bundle(&dist).unwrap();
        assert_eq!(b.later.len(), 1);
        assert_eq!(b.later[0].path, "/assets/lazy.js");
        assert_eq!(b.scripts.len(), 2);
        std::fs::remove_file(dist.join("assets/b.js")).unwrap();
        assert!(bundle(&dist).unwrap_err().contains("b.js"));
        std::fs::remove_dir_all(&dist).unwrap();
    }

    #[test]
    fn the_section_replaces_its_old_self_or_goes_before_not_measured() {
        let section = format!("{BEGIN}\n## Web (issue 19)\nnew\n{END}\n");
        let fresh = "# Benchmarks\n\n## Batch\n\nx\n\n## Not measured\n\nnone\n";
        let once = splice(fresh, &section);
        assert!(once.contains("x\n\n<!-- web part"), "{once}");
        assert!(once.contains(&format!("{END}\n\n## Not measured")), "{once}");
        let twice = splice(&once, &section.replace("new", "newer"));
        assert_eq!(twice, once.replace("new\n", "newer\n"));
        assert_eq!(twice.matches(BEGIN).count(), 1);
        assert!(splice("# B\n", &section).ends_with(&section));
    }

    #[test]
    fn the_section_states_figures_budgets_and_verdicts() {
        let load = |first: f64| Load {
            first_row_inserted: first - 10.0,
            first_row_painted: first,
            row_in_viewport: true,
            rows: 50,
            fcp: Some(900.0),
            lcp: Some(first),
            lcp_element: Some("td".into()),
            dom_content_loaded: 800.0,
            load_event: 850.0,
            requests: 5,
            transferred: 90_000,
            calibration_ms: 400.0,
            fetched: vec![(
                "/marathons/01M8NKFAPR4RAE9T9Z4DDJQ45Z/results".into(),
                0.0,
                300.0,
                1200,
            )],
        };
        let results = WebResults {
            bundle: Ok(Bundle {
                scripts: vec![Asset {
                    path: "/assets/index.js".into(),
                    raw: 72_899,
                    gzip: 24_030,
                }],
                styles: vec![],
                later: vec![],
                build: "as built".into(),
            }),
            phone: Ok(Phone {
                loads: vec![load(1500.0), load(3500.0), load(1400.0)],
                runners: 200,
                calibration_unthrottled_ms: Some(100.0),
                ..Phone::default()
            }),
        };
        let text = render(&results, "cargo run", "now");
        assert!(
            text.contains("**JavaScript: 24.03 kB gzipped (72.90 kB raw), budget ≤ 100.00 kB: met.**"),
            "{text}"
        );
        assert!(
            text.contains("median 1500 ms, max 3500 ms; budget ≤ 3000 ms"),
            "{text}"
        );
        assert!(text.contains("**MISSED**"), "{text}");
        assert!(text.contains("4.0x"), "{text}");
        assert!(
            text.contains("| `/marathons/{id}/results` | 0 | 300 | 1.20 kB |"),
            "{text}"
        );
        let failed = WebResults {
            bundle: Err("no dist".into()),
            phone: Err("no chromium".into()),
        };
        let text = render(&failed, "cargo run", "now");
        assert!(text.contains("Not measured: no dist") && text.contains("Not measured: no chromium"));
    }
}
