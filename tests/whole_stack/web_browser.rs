//! The web site in a real browser, on the local stack: Debian's headless Chromium driven
//! through its own ChromeDriver (WebDriver, `fantoccini`), the site built into `web/dist`
//! and served by the local gateway with the API under `/api` on the same origin, every
//! function in-process and the whole pipeline behind the tables.
//!
//! One walkthrough, as two people in two browsers: an organizer and a runner sign up and
//! sign in, the organizer creates a marathon, the runner registers, the organizer's first
//! try at recording the result is refused (the address is not verified yet), the
//! organizer opens the verification link from the mail, records the result, and once the
//! pipeline has run the runner's points page and the public ranking show it; then the
//! organizer imports a timing system's file on the import page (uploaded from the browser
//! to the presigned URL, its dry run's errors shown, committed) and the ranking shows the
//! corrected time. Every page visited is checked with axe-core (no serious or critical
//! violation) and photographed in Korean and English at desktop and phone widths
//! (`target/screenshots/`, or `docs/screenshots/` with `UPDATE_SCREENSHOTS=1`).
//!
//! Needs `web/dist` (`make web`) and `/usr/bin/chromium` with `/usr/bin/chromedriver`
//! (`make browser`); `make test` provides both.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use local::{InProcess, Stack};
use mrmrthon_e2e::{
    discord_sink, eventually, start_services, with_account_erasure, with_login, with_notifiers,
    with_points_pipeline, with_record_api, with_results_import,
};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(20);
const PIPELINE: Duration = Duration::from_secs(45);
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// ChromeDriver on a free loopback port, in a process group of its own with the browsers
/// it starts: the whole group is killed when dropped, so a failed test leaves no Chromium.
struct Driver {
    url: String,
    child: tokio::process::Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(group) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .status();
        }
    }
}

impl Driver {
    async fn start() -> Driver {
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        assert!(
            Path::new(&binary).exists(),
            "{binary} is missing: `make browser` installs Debian's chromium and chromium-driver"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = tokio::process::Command::new(&binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            // the site's datetime inputs are in the browser's zone: make it UTC, like the API's dates
            .env("TZ", "UTC")
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} does not start: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let http = local::http_client::HttpClient::new();
        let started = Instant::now();
        loop {
            let status = http
                .request(
                    http::Method::GET,
                    &format!("{url}/status"),
                    &[],
                    Vec::new(),
                    Duration::from_secs(2),
                )
                .await;
            if let Ok(reply) = status
                && reply.json().is_some_and(|v| v["value"]["ready"] == json!(true))
            {
                break;
            }
            assert!(started.elapsed() < WAIT, "chromedriver never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { url, child }
    }

    /// A new browser: its own profile, so its own cookies.
    async fn browser(&self, origin: &str) -> Browser {
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
                         format!("--window-size={},{}", DESKTOP.0, DESKTOP.1)],
                "prefs": { "intl.accept_languages": "ko-KR,ko" },
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("chromium does not start under chromedriver: {e}"));
        Browser {
            client,
            origin: origin.to_owned(),
            driver: self.url.clone(),
        }
    }
}

struct Browser {
    client: Client,
    origin: String,
    driver: String,
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.origin))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        self.heading().await;
    }

    /// The page's one heading, once the app has rendered it.
    async fn heading(&self) -> String {
        self.until("a heading", WAIT, async |b| b.text("h1").await).await
    }

    /// The text of the first element matching `css`, read in one script so that a
    /// re-render between finding and reading cannot leave a stale reference.
    async fn text(&self, css: &str) -> Option<String> {
        let text = self
            .client
            .execute(
                "const el = document.querySelector(arguments[0]); return el ? el.textContent : null;",
                vec![json!(css)],
            )
            .await
            .ok()?;
        text.as_str().map(str::to_owned)
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
    }

    /// Sets a form field the way typing does for the app (input and change events), which
    /// also works for date and select inputs whose typing is locale-dependent.
    async fn fill(&self, name: &str, value: &str) {
        self.set(&format!("[name=\"{name}\"]"), value).await;
    }

    async fn set(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                r#"const [css, value] = arguments;
                   const el = document.querySelector(css);
                   const proto = Object.getPrototypeOf(el);
                   Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
                   el.dispatchEvent(new Event('input', { bubbles: true }));
                   el.dispatchEvent(new Event('change', { bubbles: true }));"#,
                vec![json!(css), json!(value)],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot fill {css}: {e}"));
    }

    async fn submit(&self) {
        self.click("form button[type=submit]").await;
    }

    async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    async fn body_text(&self) -> String {
        self.text("body").await.unwrap_or_default()
    }

    /// Waits until `probe` answers something.
    async fn until<T>(&self, what: &str, limit: Duration, probe: impl AsyncFn(&Self) -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(found) = probe(self).await {
                return found;
            }
            if started.elapsed() >= limit {
                panic!("{what}: not after {limit:?}; {}", self.diagnosis().await);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// What the page shows, what it fetched and what it logged: for a failure's message.
    async fn diagnosis(&self) -> String {
        let requests = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => `${e.name} ${Math.round(e.duration)}ms ${e.responseStatus ?? ''}`).join('\\n');",
                vec![],
            )
            .await
            .unwrap_or_default();
        let id = self.client.session_id().await.unwrap().unwrap();
        let log = local::http_client::HttpClient::new()
            .request(
                http::Method::POST,
                &format!("{}/session/{id}/se/log", self.driver),
                &[("content-type", "application/json")],
                br#"{"type":"browser"}"#.to_vec(),
                Duration::from_secs(5),
            )
            .await
            .map(|r| r.text());
        format!(
            "the page says:\n{}\nits requests:\n{}\nits console: {}",
            self.body_text().await,
            requests.as_str().unwrap_or_default(),
            log.unwrap_or_else(|e| e.to_string())
        )
    }

    async fn current_path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        url.path().to_owned()
    }

    /// Once the page has loaded what it shows (nothing marked busy, no loading line).
    async fn settled(&self) {
        self.until("the page to finish loading", WAIT, async |b| {
            let busy = b
                .client
                .execute(
                    "return document.querySelector('[aria-busy=\"true\"]') !== null \
                     || /불러오는 중|Loading/.test(document.body.textContent);",
                    vec![],
                )
                .await
                .ok()?;
            (busy == json!(false)).then_some(())
        })
        .await;
    }

    /// axe-core on the rendered page: no serious or critical violation.
    async fn accessible(&self, page: &str) {
        let source = std::fs::read_to_string(repo().join("web/node_modules/axe-core/axe.min.js"))
            .expect("web/node_modules/axe-core (npm ci in web/)");
        // WebDriver scripts are not subject to the page's CSP
        self.client
            .execute(&source, vec![])
            .await
            .expect("axe-core loads");
        let report = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, { resultTypes: ['violations'] })
                      .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                          help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }))))
                      .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));"#,
                vec![],
            )
            .await
            .expect("axe-core runs");
        let serious: Vec<&Value> = report
            .as_array()
            .expect("a list of violations")
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "{page}: axe-core finds serious or critical violations:\n{}",
            serde_json::to_string_pretty(&serious).unwrap()
        );
    }

    async fn language(&self, lang: &str) {
        self.click(&format!("button[data-lang=\"{lang}\"]")).await;
        let lang = lang.to_owned();
        self.until("the page in the chosen language", WAIT, async |b| {
            let html = b.client.find(Locator::Css("html")).await.ok()?;
            (html.attr("lang").await.ok()?.as_deref() == Some(lang.as_str())).then_some(())
        })
        .await;
    }

    /// Screenshots of the page as it is, in both languages at both widths, and the
    /// accessibility check in each.
    async fn document(&self, page: &str) {
        for lang in ["ko", "en"] {
            self.language(lang).await;
            for (width_name, (w, h)) in [("desktop", DESKTOP), ("phone", PHONE)] {
                self.client.set_window_size(w, h).await.unwrap();
                self.heading().await;
                self.accessible(&format!("{page} ({lang}, {width_name})")).await;
                let png = self.client.screenshot().await.expect("a screenshot");
                let dir = screenshots();
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(format!("{page}-{lang}-{width_name}.png")), png).unwrap();
            }
        }
        self.client.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
        self.language("ko").await;
    }

    async fn sign_up_and_in(&self, email: &str, name: &str, role: &str) {
        self.goto("/signup").await;
        self.fill("email", email).await;
        self.fill("password", PASSWORD).await;
        self.fill("name", name).await;
        self.fill("user_type", role).await;
        self.submit().await;
        self.until("the account exists", WAIT, async |b| {
            (b.current_path().await != "/signup").then_some(())
        })
        .await;
        self.goto("/login").await;
        self.fill("email", email).await;
        self.fill("password", PASSWORD).await;
        self.submit().await;
        let greeting = match role {
            "organizer" => "주최자님 환영합니다",
            _ => "개인 사용자님 환영합니다",
        };
        self.until("the greeting", WAIT, async |b| {
            b.body_text().await.contains(greeting).then_some(())
        })
        .await;
    }
}

fn screenshots() -> PathBuf {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        repo().join("docs/screenshots")
    } else {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target"))
            .join("screenshots")
    }
}

#[tokio::test]
async fn a_race_through_the_site() {
    let site = repo().join("web/dist");
    assert!(
        site.join("index.html").exists(),
        "{} has no build: `make web` builds the site",
        site.display()
    );
    let stack = Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let sink = discord_sink(provisioned, &sdk).await;
    let invoker = with_login(InProcess::new(), provisioned, &sdk).await;
    let invoker = with_record_api(invoker, provisioned, &sdk).await;
    let invoker = with_points_pipeline(invoker, provisioned, &sdk).await;
    let invoker = with_notifiers(invoker, provisioned, &sdk).await;
    let invoker = with_account_erasure(invoker, provisioned, &sdk).await;
    let invoker = with_results_import(invoker, provisioned, &sdk, Arc::new(|_| None));
    let services = start_services(&stack, invoker).await;
    let origin = services
        .site_url()
        .expect("the gateway serves the site")
        .trim_end_matches('/')
        .to_owned();

    let driver = Driver::start().await;
    let organizer = driver.browser(&origin).await;
    let runner = driver.browser(&origin).await;
    let suffix = ulid::Ulid::new().to_string().to_lowercase();

    // the public home page, before anyone signs in
    organizer.goto("/").await;
    organizer.document("home").await;

    let organizer_email = format!("lee.{suffix}@example.com");
    organizer
        .sign_up_and_in(&organizer_email, "이주최", "organizer")
        .await;
    runner
        .sign_up_and_in(&format!("kim.{suffix}@example.com"), "김러너", "runner")
        .await;

    // the organizer creates a marathon run today: results are recorded from race day on,
    // and registration stays open until the end of race day (UTC; the browser runs in UTC)
    let date = time::OffsetDateTime::now_utc().date();
    organizer.goto("/organizer/marathons/new").await;
    organizer.fill("name", "브라우저 마라톤").await;
    organizer.fill("date", &date.to_string()).await;
    organizer.fill("location", "광화문").await;
    organizer.fill("course", "full").await;
    organizer.fill("points", "100").await;
    organizer.fill("capacity", "500").await;
    organizer
        .fill("registration_closes_at", &format!("{date}T23:59"))
        .await;
    organizer.submit().await;
    let marathon = organizer
        .until("the new marathon's page", WAIT, async |b| {
            let path = b.current_path().await;
            let id = path.strip_prefix("/organizer/marathons/")?;
            (id.len() == 26).then(|| id.to_owned())
        })
        .await;

    // the runner gives a race profile on /account (private: the ranking shows the
    // category it gives, nothing more)
    runner.goto("/account").await;
    runner.fill("sex", "female").await;
    runner.fill("birth", "1984").await;
    runner
        .click("section[aria-labelledby=race-heading] button[type=submit]")
        .await;
    runner
        .until("the race profile saved", WAIT, async |b| {
            b.text("section[aria-labelledby=race-heading] [role=status]")
                .await
                .filter(|t| !t.is_empty())
                .map(|_| ())
        })
        .await;

    // the runner registers on the public marathon page
    runner.goto(&format!("/marathons/{marathon}")).await;
    runner.document("marathon").await;
    runner.click("button[data-action=register]").await;
    runner
        .until("registered", WAIT, async |b| {
            b.client
                .find(Locator::Css("button[data-action=register]"))
                .await
                .is_err()
                .then_some(())
        })
        .await;

    // the organizer sees the participant; a result from an address not verified yet is
    // refused, and the form says why
    let organizer_page = format!("/organizer/marathons/{marathon}");
    organizer.goto(&organizer_page).await;
    let row = organizer.wait_for("tr[data-runner-id]").await;
    let runner_id = row.attr("data-runner-id").await.unwrap().expect("a runner id");
    let row_css = format!("tr[data-runner-id=\"{runner_id}\"]");
    organizer.fill_in(&row_css, "finish_time", "3:12:45").await;
    organizer.click(&format!("{row_css} button[type=submit]")).await;
    organizer
        .until(
            "the unverified-email problem in the row's alert",
            WAIT,
            async |b| {
                let alert = b.text(&format!("{row_css} [role=alert]")).await?;
                alert.contains("이메일 주소를 먼저 인증하세요").then_some(())
            },
        )
        .await;

    // the organizer opens the link signup mailed; the page posts its token
    let mailbox = services
        .mailbox
        .as_ref()
        .expect("the tests' services keep a mailbox");
    let token = eventually("the organizer's verification mail", async || {
        mailbox
            .mails()
            .into_iter()
            .rev()
            .filter(|m| m.to.iter().any(|to| to.contains(&organizer_email)))
            .find_map(|m| {
                let raw = std::fs::read(&m.path).ok()?;
                local::mailbox::links::link_token(&raw, "verify-email")
            })
    })
    .await;
    organizer.goto(&format!("/verify-email?token={token}")).await;
    organizer
        .until("the address verified", WAIT, async |b| {
            b.body_text()
                .await
                .contains("이메일 주소가 인증되었습니다")
                .then_some(())
        })
        .await;
    organizer.document("verify-email").await;

    // a new page load refreshes the session: its access token says email_verified: true
    organizer.goto(&organizer_page).await;
    organizer.wait_for(&row_css).await;
    organizer.document("organizer-marathon").await;
    organizer.fill_in(&row_css, "finish_time", "3:12:45").await;
    organizer.fill_in(&row_css, "bonus_points", "10").await;
    organizer.click(&format!("{row_css} button[type=submit]")).await;

    // once the pipeline has run: the runner's points, and the public ranking
    // the pipeline is asynchronous: wait for it through the public API, not by reloading
    let http = local::http_client::HttpClient::new();
    let public_total = format!("{origin}/api/runners/{runner_id}/points");
    let started = Instant::now();
    loop {
        let reply = http
            .request(http::Method::GET, &public_total, &[], Vec::new(), WAIT)
            .await
            .expect("the public total answers");
        if reply.json().is_some_and(|v| v["total"] == json!(110)) {
            break;
        }
        assert!(
            started.elapsed() < PIPELINE,
            "no points after {PIPELINE:?}: {}",
            reply.text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    runner.goto("/me/points").await;
    runner
        .until("the runner's points", WAIT, async |b| {
            (b.text("[data-total]").await?.trim() == "110").then_some(())
        })
        .await;
    runner.document("my-points").await;

    let spectator = driver.browser(&origin).await;
    spectator.goto(&format!("/marathons/{marathon}/results")).await;
    spectator
        .until("the result in the public ranking", WAIT, async |b| {
            b.client.find(Locator::Css(&row_css)).await.ok().map(|_| ())
        })
        .await;
    // the row shows the bib given at registration, the status and the category
    let age = time::OffsetDateTime::now_utc().year() - 1984;
    let category = domain::race::Category::new(domain::race::Sex::Female, age).label();
    let row_text = spectator.text(&row_css).await.unwrap_or_default();
    assert!(row_text.contains(&category), "{category} in {row_text:?}");
    let status = spectator
        .client
        .execute(
            "return document.querySelector(arguments[0]).dataset.status;",
            vec![json!(row_css)],
        )
        .await
        .unwrap();
    assert_eq!(status, json!("finished"));
    spectator.document("results").await;
    spectator.goto(&format!("/runners/{runner_id}")).await;
    spectator
        .until("the runner's public total", WAIT, async |b| {
            (b.text("[data-total]").await?.trim() == "110").then_some(())
        })
        .await;
    // the season's leaderboard (the marathon is run today: this year's season) has the
    // runner with the result's points, and the runner's bests the official time
    let season = time::OffsetDateTime::now_utc().year();
    spectator.goto(&format!("/leaderboard?season={season}")).await;
    let standing = format!("tr[data-runner-id=\"{runner_id}\"] [data-points]");
    spectator
        .until("the runner on the season's leaderboard", WAIT, async |b| {
            (b.text(&standing).await?.trim() == "110").then_some(())
        })
        .await;
    runner.goto("/me/records").await;
    runner
        .until("the official time among the runner's bests", WAIT, async |b| {
            (b.text("[data-best-time]").await?.trim() == "3:12:45").then_some(())
        })
        .await;

    // the organizer imports the timing system's file on the import page (linked from the
    // marathon's page): the browser PUTs it straight to the presigned URL on the bucket's
    // origin (the CSP's connect-src and the bucket's CORS allow it), the dry run names the
    // unknown bib's line, the commit corrects the runner's time, and the ranking shows it
    organizer.goto(&organizer_page).await;
    let bib = organizer
        .until("the runner's bib on the organizer's page", WAIT, async |b| {
            let text = b.text(&format!("{row_css} th p.muted")).await?;
            text.split_whitespace().last()?.parse::<u32>().ok()
        })
        .await;
    organizer
        .click(&format!("a[href=\"/organizer/marathons/{marathon}/import\"]"))
        .await;
    organizer.wait_for("input[name=\"file\"]").await;
    organizer.settled().await;
    organizer.document("organizer-import").await;
    let csv = std::env::temp_dir().join(format!("mrmrthon-results-{suffix}.csv"));
    std::fs::write(
        &csv,
        format!("\u{feff}Place;Bib;Name;Status;Chip Time;Gun Time\n1;{bib};김러너;FIN;3:10:04.2;3:10:40\n2;99999;nobody;FIN;3:20:00;\n"),
    )
    .unwrap();
    organizer
        .wait_for("input[name=\"file\"]")
        .await
        .send_keys(csv.to_str().unwrap())
        .await
        .expect("the file chosen");
    organizer.submit().await;
    organizer
        .until("the dry run's report", PIPELINE, async |b| {
            let corrections = b.text("[data-summary=corrections]").await?;
            let error = b.text("tr[data-line=\"3\"]").await?;
            (corrections.trim() == "1" && error.contains("unknown bib")).then_some(())
        })
        .await;
    assert_eq!(
        organizer
            .text("[data-summary=failed]")
            .await
            .as_deref()
            .map(str::trim),
        Some("1")
    );
    organizer.document("organizer-import-report").await;
    organizer.click("button[data-action=commit-import]").await;
    organizer
        .until("the import committed", PIPELINE, async |b| {
            b.client
                .find(Locator::Css("a[data-action=ranking]"))
                .await
                .ok()
                .map(|_| ())
        })
        .await;
    organizer.click("a[data-action=ranking]").await;
    organizer
        .until("the imported time in the ranking", PIPELINE, async |b| {
            (b.current_path().await == format!("/marathons/{marathon}/results")).then_some(())?;
            b.text(&row_css).await?.contains("3:10:05").then_some(())
        })
        .await;
    std::fs::remove_file(&csv).ok();

    // every other page of the site, as the one who would see it, passes axe-core too
    for (browser, path) in [
        (&spectator, format!("/marathons/{marathon}/results/{runner_id}")),
        (&spectator, "/signup".to_owned()),
        (&spectator, "/login".to_owned()),
        (&spectator, "/forgot-password".to_owned()),
        (&spectator, "/reset-password?token=not-a-mailed-token".to_owned()),
        (&spectator, "/no/such/page".to_owned()),
        (&spectator, format!("/leaderboard?season={season}")),
        (&runner, "/me/entries".to_owned()),
        (&runner, "/me/results".to_owned()),
        (&runner, "/me/records".to_owned()),
        (&runner, "/account".to_owned()),
        (&organizer, "/organizer".to_owned()),
        (&organizer, "/organizer/marathons/new".to_owned()),
        (&organizer, "/account".to_owned()),
    ] {
        browser.goto(&path).await;
        browser.settled().await;
        browser.accessible(&path).await;
    }

    // the runner deletes the account on /account (the password, then the confirmation
    // dialog): signed out, and the ranking keeps the result under the anonymous name
    runner.goto("/account").await;
    runner
        .set("[data-form=delete-account] [name=\"password\"]", PASSWORD)
        .await;
    runner.click("button[data-action=delete-account]").await;
    runner
        .until("the confirmation dialog", WAIT, async |b| {
            b.client.accept_alert().await.ok()
        })
        .await;
    runner
        .until("signed out, on the start page", WAIT, async |b| {
            (b.current_path().await == "/").then_some(())
        })
        .await;
    let ranking = format!("/marathons/{marathon}/results");
    spectator
        .until("the anonymous name in the ranking", PIPELINE, async |b| {
            b.goto(&ranking).await;
            b.text(&row_css)
                .await?
                .contains(domain::ANONYMOUS_NAME)
                .then_some(())
        })
        .await;

    for browser in [organizer, runner, spectator] {
        browser.client.close().await.unwrap();
    }
    let post = eventually("the Discord post", async || sink.posts().into_iter().next()).await;
    assert!(
        post.body
            .to_string()
            .contains(&format!("/marathons/{marathon}/results/{runner_id}")),
        "the post links to the result's page: {}",
        post.body
    );
    sink.stop().await;
    services.stop().await;
    drop(stack);
}

impl Browser {
    /// `fill` for a field inside one element (a participant's row, say).
    async fn fill_in(&self, scope: &str, name: &str, value: &str) {
        self.set(&format!("{scope} [name=\"{name}\"]"), value).await;
    }
}
