//! `mrmrthon-local seed`: a demo through the running stack's HTTP API, so the pipeline
//! runs as it would for real users (streams, points, Discord posts, mail): two
//! organizers, 30 runners (Korean and English names), three marathons (one past with
//! results, two upcoming with entries), private records, and the points the results
//! award. A second run finds the demo organizer's marathons and stops there.
//!
//! Each account verifies its address as a person would: the seed reads the link signup
//! mailed out of `make dev`'s mailbox (`.local/mailbox/`) and posts its token (an
//! unverified organizer may not record results; unverified runners get security mails
//! only). Against a stack whose mailbox it cannot read, it stops and says so.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use http::Method;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};
use crate::http_client::{HttpClient, HttpResponse};
use crate::mailbox::links;

pub const PASSWORD: &str = "demo password 2026";
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long the seed waits for the pipeline to award the past marathon's points.
const POINTS_WAIT: Duration = Duration::from_secs(90);
/// How long the seed waits for an account's verification mail to reach the mailbox.
const MAIL_WAIT: Duration = Duration::from_secs(60);

/// The first this many runners get private records.
const RUNNERS_WITH_RECORDS: usize = 12;
const ORGANIZERS: [(&str, &str); 2] = [("organizer1", "박조직"), ("organizer2", "Olivia Park")];
const RUNNERS: [&str; 30] = [
    "김민준",
    "이서연",
    "박지호",
    "최수아",
    "정도윤",
    "강하은",
    "조예준",
    "윤지우",
    "장서준",
    "임하윤",
    "한지민",
    "오세훈",
    "서유나",
    "신동현",
    "권나래",
    "Emma Wilson",
    "Liam Carter",
    "Olivia Brown",
    "Noah Kim",
    "Ava Martinez",
    "James Lee",
    "Sophia Chen",
    "Lucas Green",
    "Mia Johnson",
    "Ethan Wright",
    "Isabella Cho",
    "Mason Hall",
    "Amelia Scott",
    "Logan Young",
    "Harper Adams",
];

pub fn email(who: &str) -> String {
    format!("demo-{who}@example.com")
}

fn runner_handle(i: usize) -> String {
    format!("runner{:02}", i + 1)
}

/// A signed-in demo user.
#[derive(Debug, Clone)]
struct User {
    id: String,
    token: String,
    email_verified: bool,
}

struct Api {
    base: String,
    http: HttpClient,
    /// Where `make dev` writes the mails SES sends.
    mailbox: PathBuf,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Result<HttpResponse> {
        let url = format!("{}{path}", self.base);
        let authorization = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![
            ("content-type", "application/json"),
            ("x-correlation-id", "seed"),
            ("accept-language", "ko"),
        ];
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        headers.extend_from_slice(extra);
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.http
            .request(method.clone(), &url, &headers, body, TIMEOUT)
            .await
            .map_err(|e| {
                Error::Process(format!(
                    "{e} (is `make dev` running? its API URL is in .local/dev.json)"
                ))
            })
    }

    /// A call that must answer one of `ok`; otherwise the status and body as the error.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        ok: &[u16],
    ) -> Result<Value> {
        self.expect_with(method, path, token, body, &[], ok).await
    }

    async fn expect_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
        ok: &[u16],
    ) -> Result<Value> {
        let response = self.call(method.clone(), path, token, body, extra).await?;
        if ok.contains(&response.status) {
            Ok(response.json().unwrap_or(Value::Null))
        } else {
            Err(Error::Process(format!(
                "{method} {path} answered {}: {}",
                response.status,
                response.text()
            )))
        }
    }

    /// Signs up (or finds the account already there), then logs in.
    async fn user(&self, handle: &str, name: &str, user_type: &str) -> Result<(User, bool)> {
        let signup = self
            .call(
                Method::POST,
                "/auth/signup",
                None,
                Some(json!({ "email": email(handle), "password": PASSWORD, "name": name, "user_type": user_type })),
                &[],
            )
            .await?;
        let existed = match signup.status {
            201 => false,
            409 => true,
            other => {
                return Err(Error::Process(format!(
                    "signing up {}: {other} {}",
                    email(handle),
                    signup.text()
                )));
            }
        };
        Ok((self.login(handle).await?, existed))
    }

    async fn login(&self, handle: &str) -> Result<User> {
        let login = self
            .expect(
                Method::POST,
                "/auth/login",
                None,
                Some(json!({ "email": email(handle), "password": PASSWORD })),
                &[200, 201],
            )
            .await
            .map_err(|e| {
                Error::Process(format!(
                    "{e}\n(an account {} exists with another password? `make reset` starts fresh)",
                    email(handle)
                ))
            })?;
        let field = |path: &[&str]| {
            path.iter()
                .try_fold(&login, |v, k| v.get(*k))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::Process(format!("the login answer has no {}: {login}", path.join("."))))
        };
        Ok(User {
            id: field(&["user", "id"])?,
            token: field(&["access_token"])?,
            email_verified: login["user"]["email_verified"].as_bool().unwrap_or(false),
        })
    }

    /// Verifies the account's address with the newest link mailed to it, as its owner
    /// would, then logs in again so the access token says so. A link already used or
    /// expired (an earlier seed's) gets a new one sent.
    async fn verify(&self, handle: &str, user: User) -> Result<User> {
        if user.email_verified {
            return Ok(user);
        }
        let address = email(handle);
        let deadline = Instant::now() + MAIL_WAIT;
        let mut tried = HashSet::new();
        let mut resent = false;
        loop {
            let token = links::newest_link_token(&self.mailbox, &address, "verify-email")
                .filter(|t| !tried.contains(t));
            if let Some(token) = token {
                let response = self
                    .call(
                        Method::POST,
                        "/auth/verify-email",
                        None,
                        Some(json!({ "token": token })),
                        &[],
                    )
                    .await?;
                match response.status {
                    204 => return self.login(handle).await,
                    400 if !resent => {
                        tried.insert(token);
                        self.expect(
                            Method::POST,
                            "/auth/verify-email/resend",
                            Some(&user.token),
                            None,
                            &[202],
                        )
                        .await?;
                        resent = true;
                    }
                    400 => {
                        tried.insert(token);
                    }
                    other => {
                        return Err(Error::Process(format!(
                            "verifying {address}: {other} {}",
                            response.text()
                        )));
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(Error::Process(format!(
                    "no usable verification mail to {address} in {} after {} s: the seed verifies \
                     its accounts with the links make dev's mailbox receives; against another \
                     stack, verify them with the links mailed to them and seed again",
                    self.mailbox.display(),
                    MAIL_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Runs the seed against the API at `api_url`, reading mail from `mailbox`, and prints
/// what it made.
pub async fn run(api_url: &str, mailbox: &Path) -> Result<()> {
    let api = Api {
        base: api_url.trim_end_matches('/').to_owned(),
        http: HttpClient::new(),
        mailbox: mailbox.to_owned(),
    };
    let started = Instant::now();
    println!("seeding the demo through {}", api.base);
    let (organizer, existed) = api.user(ORGANIZERS[0].0, ORGANIZERS[0].1, "organizer").await?;
    if existed {
        let listed = api
            .expect(
                Method::GET,
                &format!("/marathons?organizer={}", organizer.id),
                None,
                None,
                &[200],
            )
            .await?;
        let count = listed["items"].as_array().map_or(0, Vec::len);
        if count > 0 {
            // The private records are the last step: with them, the earlier ones are done.
            let (last, _) = api
                .user(
                    &runner_handle(RUNNERS_WITH_RECORDS - 1),
                    RUNNERS[RUNNERS_WITH_RECORDS - 1],
                    "runner",
                )
                .await?;
            let records = api
                .expect(Method::GET, "/me/records", Some(&last.token), None, &[200])
                .await?;
            if records["items"].as_array().is_some_and(|r| !r.is_empty()) {
                println!(
                    "the demo is already loaded ({count} marathons by {}); nothing to do",
                    email(ORGANIZERS[0].0)
                );
                print_accounts();
                return Ok(());
            }
            return Err(Error::Process(
                "a partial demo is loaded (an earlier seed stopped midway): for a clean one, stop make dev, `make reset`, start it again and seed".into(),
            ));
        }
        println!("demo users exist but have no marathons: loading the rest");
    }
    let (organizer2, _) = api.user(ORGANIZERS[1].0, ORGANIZERS[1].1, "organizer").await?;
    let mut runners = Vec::new();
    for (i, name) in RUNNERS.iter().enumerate() {
        runners.push(api.user(&runner_handle(i), name, "runner").await?.0);
    }
    println!("  {} users signed up", runners.len() + 2);
    // after every signup, so the mails have been on their way meanwhile
    let organizer = api.verify(ORGANIZERS[0].0, organizer).await?;
    let organizer2 = api.verify(ORGANIZERS[1].0, organizer2).await?;
    let mut verified = Vec::new();
    for (i, runner) in runners.into_iter().enumerate() {
        verified.push(api.verify(&runner_handle(i), runner).await?);
    }
    let runners = verified;
    println!(
        "  {} addresses verified with the links in {}",
        runners.len() + 2,
        api.mailbox.display()
    );

    let today = OffsetDateTime::now_utc().date();
    let day = |offset: i64| -> Result<Date> {
        today
            .checked_add(time::Duration::days(offset))
            .ok_or_else(|| Error::Process("a demo date is out of range".into()))
    };
    let closes = |offset: i64| -> Result<String> { Ok(format!("{}T00:00:00Z", day(offset)?)) };

    // The past marathon: created upcoming (registration must be open to enter), then
    // moved into the past, then its results recorded.
    let past = create_marathon(
        &api,
        &organizer,
        json!({ "name": "춘천 마라톤 (데모)", "date": day(60)?.to_string(), "location": "춘천 공지천", "course": "full",
                "points": 100, "capacity": 500, "registration_closes_at": closes(30)? }),
    )
    .await?;
    for runner in &runners[..24] {
        enter(&api, &past, runner).await?;
    }
    let etag = format!("\"{}\"", past["version"].as_u64().unwrap_or(1));
    let past_id = id_of(&past)?;
    api.expect_with(
        Method::PATCH,
        &format!("/marathons/{past_id}"),
        Some(&organizer.token),
        Some(json!({ "date": day(-30)?.to_string(), "registration_closes_at": closes(-45)? })),
        &[("if-match", &etag)],
        &[200],
    )
    .await?;
    for (place, runner) in runners[..20].iter().enumerate() {
        let seconds = 2 * 3600 + 35 * 60 + place as u64 * 397;
        let finish = format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
        let mut body = json!({ "finish_time": finish });
        if let Some(bonus) = [20, 10, 5].get(place) {
            body["bonus_points"] = json!(bonus);
        }
        api.expect(
            Method::PUT,
            &format!("/marathons/{past_id}/results/{}", runner.id),
            Some(&organizer.token),
            Some(body),
            &[200, 201],
        )
        .await?;
    }
    println!("  past marathon 춘천 마라톤 (데모): 24 entries, 20 results");

    let half = create_marathon(
        &api,
        &organizer2,
        json!({ "name": "Seoul Spring Half (demo)", "date": day(45)?.to_string(), "location": "Yeouido Park", "course": "half",
                "points": 50, "capacity": 300, "registration_closes_at": closes(30)? }),
    )
    .await?;
    for runner in &runners[4..20] {
        enter(&api, &half, runner).await?;
    }
    let night = create_marathon(
        &api,
        &organizer,
        json!({ "name": "한강 10K 나이트런 (데모)", "date": day(90)?.to_string(), "location": "반포 한강공원", "course": "10k",
                "points": 30, "capacity": 1000, "registration_closes_at": closes(80)? }),
    )
    .await?;
    for runner in &runners[14..] {
        enter(&api, &night, runner).await?;
    }
    println!(
        "  upcoming: Seoul Spring Half (demo) with 16 entries, 한강 10K 나이트런 (데모) with 16 entries"
    );

    for (i, runner) in runners[..RUNNERS_WITH_RECORDS].iter().enumerate() {
        // durations in seconds: 50-61 min for the 10 km, 1:40-1:56 for the half
        let records = [
            json!({ "kind": "training", "date": day(-(i as i64) - 3)?.to_string(), "distance_m": 10_000 + i * 500,
                    "duration": 3000 + i * 60, "notes": "한강 주로 템포런" }),
            json!({ "kind": "race", "date": day(-(i as i64) - 60)?.to_string(), "distance_m": 21_098,
                    "duration": 6000 + i * 90, "notes": "spring half, negative split" }),
        ];
        for record in records {
            api.expect(
                Method::POST,
                "/me/records",
                Some(&runner.token),
                Some(record),
                &[201],
            )
            .await?;
        }
    }
    println!(
        "  {} private records (2 each for {RUNNERS_WITH_RECORDS} runners)",
        2 * RUNNERS_WITH_RECORDS
    );

    // The winner's points come through the stream, SNS and the queue: wait for them so
    // that the demo is whole when this returns.
    let winner = &runners[0];
    let deadline = Instant::now() + POINTS_WAIT;
    loop {
        let points = api
            .expect(
                Method::GET,
                &format!("/runners/{}/points", winner.id),
                None,
                None,
                &[200, 404],
            )
            .await?;
        let total = points["total"].as_u64().unwrap_or(0);
        if total >= 120 {
            println!(
                "  points awarded through the pipeline ({} has {total})",
                email(&runner_handle(0))
            );
            break;
        }
        if Instant::now() > deadline {
            println!(
                "  !! the points have not arrived after {} s (the winner has {total}); see `make status`",
                POINTS_WAIT.as_secs()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    print_accounts();
    Ok(())
}

async fn create_marathon(api: &Api, organizer: &User, body: Value) -> Result<Value> {
    api.expect(
        Method::POST,
        "/marathons",
        Some(&organizer.token),
        Some(body),
        &[201],
    )
    .await
}

async fn enter(api: &Api, marathon: &Value, runner: &User) -> Result<()> {
    let id = id_of(marathon)?;
    api.expect(
        Method::POST,
        &format!("/marathons/{id}/entries"),
        Some(&runner.token),
        None,
        &[200, 201],
    )
    .await
    .map(|_| ())
}

fn id_of(marathon: &Value) -> Result<String> {
    marathon["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Process(format!("a created marathon has no id: {marathon}")))
}

fn print_accounts() {
    println!("\ndemo accounts (password for all: {PASSWORD})");
    for (handle, name) in ORGANIZERS {
        println!("  organizer  {:<34} {name}", email(handle));
    }
    for (i, name) in RUNNERS.iter().enumerate() {
        if i < 3 || i == RUNNERS.len() - 1 {
            println!("  runner     {:<34} {name}", email(&runner_handle(i)));
        } else if i == 3 {
            println!(
                "  ...        demo-runner04 .. demo-runner{:02}@example.com",
                RUNNERS.len() - 1
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_accounts_are_distinct_and_named() {
        let mut emails: Vec<String> = ORGANIZERS.iter().map(|(h, _)| email(h)).collect();
        emails.extend((0..RUNNERS.len()).map(|i| email(&runner_handle(i))));
        let count = emails.len();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), count);
        assert_eq!(email(&runner_handle(0)), "demo-runner01@example.com");
        assert!(RUNNERS.iter().any(|n| !n.is_ascii()) && RUNNERS.iter().any(|n| n.is_ascii()));
        assert!(PASSWORD.chars().count() >= 10, "the signup policy's minimum");
    }
}
