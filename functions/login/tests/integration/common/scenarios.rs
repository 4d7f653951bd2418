//! The login behaviours, each a function over an `App`, run against both stores.

use domain::Clock;
use serde_json::json;
use time::Duration;

use super::*;

pub async fn signup_creates_a_user_without_the_hash(app: &App) {
    let email = unique_email("Signup");
    let reply = signup(&app.router, &format!("  {email} "), "runner").await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["email"], email.to_lowercase());
    assert_eq!(reply.body["user_type"], "runner");
    assert_eq!(reply.body["name"], "김러너");
    assert!(domain::UserId::parse(reply.body["id"].as_str().unwrap()).is_some());
    let text = reply.body.to_string();
    assert!(!text.contains("argon2") && !text.contains("password"), "{text}");
}

pub async fn duplicate_email_conflicts_case_insensitively(app: &App) {
    let email = unique_email("dup");
    assert_eq!(signup(&app.router, &email, "runner").await.status, 201);
    let again = signup(&app.router, &email.to_uppercase(), "organizer").await;
    assert_eq!(again.status, 409);
    assert_eq!(again.problem_type(), "https://mrmrthon.dev/problems/conflict");
    assert_eq!(again.headers["content-type"], "application/problem+json");
}

pub async fn signup_names_every_bad_field(app: &App) {
    let body = json!({ "email": "not-an-email", "password": "short", "user_type": "admin" });
    let reply = call(&app.router, &with_body(event("signup.json"), &body)).await;
    assert_eq!(reply.status, 400);
    let mut fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["email", "name", "password", "user_type"]);
}

pub async fn login_greets_each_role_and_issues_tokens(app: &App) {
    for (role, korean, english) in [
        ("runner", "개인 사용자님 환영합니다", "Welcome, runner"),
        ("organizer", "주최자님 환영합니다", "Welcome, organizer"),
    ] {
        let email = unique_email(role);
        let user = signup(&app.router, &email, role).await.body;
        let reply = login(&app.router, &email, PASSWORD).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["message"], korean);
        assert_eq!(reply.body["token_type"], "Bearer");
        assert_eq!(reply.body["expires_in"], 900);
        assert_eq!(reply.body["user"]["id"], user["id"]);
        assert_eq!(reply.headers["cache-control"], "no-store");
        let claims = app
            .verifier
            .verify_access(reply.body["access_token"].as_str().unwrap(), app.clock.now())
            .expect("a valid access token");
        assert_eq!(claims.sub.as_str(), user["id"].as_str().unwrap());
        assert_eq!(claims.role.as_str(), role);

        let body = json!({ "email": email, "password": PASSWORD });
        let english_event = with_header(
            with_body(event("login.json"), &body),
            "accept-language",
            "en-GB,en;q=0.9",
        );
        assert_eq!(call(&app.router, &english_event).await.body["message"], english);
    }
}

pub async fn unknown_email_and_wrong_password_look_identical(app: &App) {
    let email = unique_email("same");
    signup(&app.router, &email, "runner").await;
    let wrong = login(&app.router, &email, "wrong password!").await;
    let unknown = login(&app.router, &unique_email("nobody"), PASSWORD).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.headers["content-type"], unknown.headers["content-type"]);
}

pub async fn failures_are_delayed_then_locked_and_the_owner_gets_in_after(app: &App) {
    let email = unique_email("lock");
    signup(&app.router, &email, "runner").await;
    let unknown = login(&app.router, &unique_email("nobody"), PASSWORD).await;
    // the free attempts, then one more (admitted: no delay after the third failure)
    for _ in 0..=app.lockout.free_attempts {
        assert_eq!(login(&app.router, &email, "wrong password!").await.status, 401);
    }
    // a delay applies now: even the right password is refused, looking like any failure
    let delayed = login(&app.router, &email, PASSWORD).await;
    assert_eq!(delayed.status, 401);
    assert_eq!(delayed.body, unknown.body);
    app.clock
        .advance(app.lockout.delay_after(app.lockout.free_attempts + 1));
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);

    // sustained failures, each waiting out its delay, lock the account
    let mut failures = 0;
    while failures < app.lockout.lock_after {
        assert_eq!(login(&app.router, &email, "wrong password!").await.status, 401);
        failures += 1;
        if failures < app.lockout.lock_after {
            app.clock.advance(app.lockout.delay_after(failures));
        }
    }
    app.clock.advance(app.lockout.lock_for - Duration::seconds(1));
    assert_eq!(
        login(&app.router, &email, PASSWORD).await.status,
        401,
        "still locked"
    );
    app.clock.advance(Duration::seconds(1));
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);
}

pub async fn a_success_resets_the_failure_count(app: &App) {
    let email = unique_email("reset");
    signup(&app.router, &email, "runner").await;
    for _ in 0..app.lockout.free_attempts {
        login(&app.router, &email, "wrong password!").await;
    }
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);
    for _ in 0..app.lockout.free_attempts {
        login(&app.router, &email, "wrong password!").await;
    }
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);
}

/// 50 wrong guesses at once: each is reserved before its verification, so no more than
/// the free attempts and the one that starts the first delay are ever verified.
pub async fn concurrent_guesses_verify_at_most_the_allowed_number(app: &App) {
    let email = unique_email("burst");
    signup(&app.router, &email, "runner").await;
    let before = app.passwords.verifications();
    let runs = app.passwords.runs();
    let replies = futures::future::join_all((0..50).map(|i| {
        let router = app.router.clone();
        let email = email.clone();
        async move { login(&router, &email, &format!("guess number {i}")).await }
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == 401));
    assert!(
        replies.iter().all(|r| r.body == replies[0].body),
        "one body for every refusal"
    );
    // every attempt cost one argon2 run, the refused ones against the dummy hash: a
    // refusal takes as long as a verification
    assert_eq!(app.passwords.runs() - runs, 50);
    let verified = app.passwords.verifications() - before;
    let allowed = u64::from(app.lockout.free_attempts) + 1;
    assert!(
        (1..=allowed).contains(&verified),
        "{verified} verifications, at most {allowed} allowed"
    );
    // the owner is refused while a delay the burst earned holds (racing attempts lose on
    // one reading, so fewer than `allowed` may have been reserved: maybe no delay), and
    // gets in once it is over
    let delay = app.lockout.delay_after(verified as u32);
    if delay > Duration::ZERO {
        assert_eq!(login(&app.router, &email, PASSWORD).await.status, 401);
        app.clock.advance(delay);
    }
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);
}

/// 50 wrong guesses at once from one address, each on an account of its own (so no
/// account's limit applies): the address's count admits `allowed` of them to argon2 and
/// refuses the rest unverified (but after the same work), with the body of any failure.
/// The accounts' owners are not locked out from elsewhere; the address recovers by window.
pub async fn guesses_sprayed_from_one_address_are_throttled(app: &App) {
    let source = random_source();
    let emails: Vec<String> = (0..50).map(|i| unique_email(&format!("spray{i}"))).collect();
    futures::future::join_all(emails.iter().map(|email| signup(&app.router, email, "runner"))).await;
    let unknown = login(&app.router, &unique_email("nobody"), PASSWORD).await;
    let (verified, runs) = (app.passwords.verifications(), app.passwords.runs());
    let replies = futures::future::join_all(emails.iter().map(|email| {
        let router = app.router.clone();
        let source = source.clone();
        async move { login_from(&router, email, "a wrong guess", &source).await }
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == 401 && r.body == unknown.body));
    let allowed = u64::from(app.source_policy.allowed);
    assert_eq!(app.passwords.verifications() - verified, allowed);
    assert_eq!(
        app.passwords.runs() - runs,
        50,
        "refusals cost a verification's time"
    );

    // the right password from that address is refused too, like any failure
    let refused = login_from(&app.router, &emails[0], PASSWORD, &source).await;
    assert_eq!((refused.status, &refused.body), (401, &unknown.body));
    // the owners, elsewhere, get in: the refused guesses touched no account
    for email in &emails {
        assert_eq!(login(&app.router, email, PASSWORD).await.status, 200, "{email}");
    }
    // once the window and the next have passed, the address's failures no longer weigh
    app.clock.advance(app.source_policy.window * 2);
    assert_eq!(
        login_from(&app.router, &emails[1], PASSWORD, &source)
            .await
            .status,
        200
    );
}

/// People behind one NAT: their logins at the same moment each get a count of their own
/// (no condition on a count read), and a success gives back its own reservation only,
/// neither piling up nor clearing the address's failures.
pub async fn users_behind_one_address_do_not_refuse_each_other(app: &App) {
    let source = random_source();
    let emails: Vec<String> = (0..20).map(|i| unique_email(&format!("nat{i}"))).collect();
    futures::future::join_all(emails.iter().map(|email| signup(&app.router, email, "runner"))).await;
    let allowed = app.source_policy.allowed;
    let fail = |n: u32| {
        let source = source.clone();
        async move {
            for _ in 0..n {
                let reply = login_from(&app.router, &unique_email("typo"), "a typo", &source).await;
                assert_eq!(reply.status, 401);
            }
        }
    };
    fail(5).await;
    for round in 0..2 {
        let replies = futures::future::join_all(emails.iter().map(|email| {
            let router = app.router.clone();
            let source = source.clone();
            async move { login_from(&router, email, PASSWORD, &source).await }
        }))
        .await;
        let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![200; 20], "round {round}");
    }
    // 40 successes later the count is still the 5 failures: the last free place admits
    // a success, the next failure fills it, and then even the right password is refused
    fail(allowed - 5 - 1).await;
    assert_eq!(
        login_from(&app.router, &emails[0], PASSWORD, &source)
            .await
            .status,
        200
    );
    fail(1).await;
    assert_eq!(
        login_from(&app.router, &emails[0], PASSWORD, &source)
            .await
            .status,
        401
    );
    // from elsewhere the same account is fine
    assert_eq!(login(&app.router, &emails[0], PASSWORD).await.status, 200);
}

pub async fn user_type_takes_the_original_codes_and_answers_the_words(app: &App) {
    for (code, word) in [(0, "runner"), (1, "organizer")] {
        let body =
            json!({ "email": unique_email("code"), "password": PASSWORD, "name": "김", "user_type": code });
        let reply = call(&app.router, &with_body(event("signup.json"), &body)).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        assert_eq!(reply.body["user_type"], word);
    }
    for bad in [json!(2), json!(-1), json!(0.5), json!("1"), json!(true)] {
        let body =
            json!({ "email": unique_email("code"), "password": PASSWORD, "name": "김", "user_type": bad });
        let reply = call(&app.router, &with_body(event("signup.json"), &body)).await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
        assert_eq!(reply.body["errors"][0]["field"], "user_type", "{bad}");
    }
}

/// Signs up and logs in; answers (email, login reply).
pub async fn new_session(app: &App, tag: &str) -> (String, Reply) {
    let email = unique_email(tag);
    signup(&app.router, &email, "runner").await;
    let reply = login(&app.router, &email, PASSWORD).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    (email, reply)
}

fn tokens(reply: &Reply) -> (String, String) {
    (
        reply.body["access_token"].as_str().unwrap().to_owned(),
        reply.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

pub async fn changing_the_password_ends_every_session(app: &App) {
    let (email, first) = new_session(app, "change").await;
    let (access, refresh_one) = tokens(&first);
    let (_, refresh_two) = tokens(&login(&app.router, &email, PASSWORD).await);
    let new_password = "a brand new passphrase";

    let wrong = change_password(&app.router, &access, "not my password", new_password).await;
    assert_eq!(wrong.status, 403, "{:?}", wrong.body);
    assert_eq!(wrong.headers["content-type"], "application/problem+json");
    let short = change_password(&app.router, &access, PASSWORD, "short").await;
    assert_eq!(short.status, 400);
    assert_eq!(short.body["errors"][0]["field"], "new_password");
    let anonymous = call(
        &app.router,
        &with_body(
            event("password.json"),
            &json!({ "current_password": PASSWORD, "new_password": new_password }),
        ),
    )
    .await;
    assert_eq!(anonymous.status, 401);

    let changed = change_password(&app.router, &access, PASSWORD, new_password).await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    assert_clears_the_cookie(&changed);
    for token in [&refresh_one, &refresh_two] {
        assert_eq!(
            refresh(&app.router, token).await.status,
            401,
            "every family ended"
        );
    }
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 401);
    let again = login(&app.router, &email, new_password).await;
    assert_eq!(again.status, 200);
    let (_, fresh) = tokens(&again);
    assert_eq!(
        refresh(&app.router, &fresh).await.status,
        200,
        "a new login lives"
    );
}

pub async fn deleting_the_account_frees_the_address_and_ends_everything(app: &App) {
    let (email, first) = new_session(app, "delete").await;
    let (access, refresh_one) = tokens(&first);
    let (_, refresh_two) = tokens(&login(&app.router, &email, PASSWORD).await);
    let old_id = first.body["user"]["id"].clone();

    let anonymous = call(&app.router, &event("delete-account.json")).await;
    assert_eq!(anonymous.status, 401, "no token");
    let wrong = delete_account(&app.router, &access, "not my password").await;
    assert_eq!(wrong.status, 403, "{:?}", wrong.body);
    assert_eq!(wrong.headers["content-type"], "application/problem+json");
    let missing = call(
        &app.router,
        &with_header(
            with_body(event("delete-account.json"), &json!({})),
            "authorization",
            &format!("Bearer {access}"),
        ),
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["errors"][0]["field"], "password");
    // the wrong guess counted: the account is still there and logs in
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);

    let deleted = delete_account(&app.router, &access, PASSWORD).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    assert_clears_the_cookie(&deleted);
    for token in [&refresh_one, &refresh_two] {
        assert_eq!(
            refresh(&app.router, token).await.status,
            401,
            "every family ended"
        );
    }
    // the old address logs in like an unknown one
    let gone = login(&app.router, &email, PASSWORD).await;
    let unknown = login(&app.router, &unique_email("never"), PASSWORD).await;
    assert_eq!((gone.status, &gone.body), (401, &unknown.body));
    // the access token outlives the account by minutes; it can do nothing with it
    assert_eq!(delete_account(&app.router, &access, PASSWORD).await.status, 401);
    assert_eq!(logout_all(&app.router, &access).await.status, 401);
    assert_eq!(
        change_password(&app.router, &access, PASSWORD, "another passphrase")
            .await
            .status,
        401
    );
    // no reset link for it either (202 as for any address, but nothing to confirm)
    assert_eq!(reset_request(app, &email).await.status, 202);

    // the address is free: a new account, another id
    let again = signup(&app.router, &email, "runner").await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_ne!(again.body["id"], old_id);
    let back = login(&app.router, &email, PASSWORD).await;
    assert_eq!(back.status, 200);
    assert_eq!(back.body["user"]["id"], again.body["id"]);
}

pub async fn logout_everywhere_ends_every_session(app: &App) {
    let (email, first) = new_session(app, "everywhere").await;
    let (access, refresh_one) = tokens(&first);
    let (_, refresh_two) = tokens(&login(&app.router, &email, PASSWORD).await);
    let rotated = refresh(&app.router, &refresh_two).await;
    let (_, refresh_two) = tokens(&rotated);

    assert_eq!(call(&app.router, &event("logout-all.json")).await.status, 401);
    let reply = logout_all(&app.router, &access).await;
    assert_eq!(reply.status, 204, "{:?}", reply.body);
    assert_clears_the_cookie(&reply);
    for token in [&refresh_one, &refresh_two] {
        assert_eq!(refresh(&app.router, token).await.status, 401);
    }
    let (_, fresh) = tokens(&login(&app.router, &email, PASSWORD).await);
    assert_eq!(refresh(&app.router, &fresh).await.status, 200);
}

pub async fn refreshing_never_extends_a_session_past_its_lifetime(app: &App) {
    let (_, reply) = new_session(app, "lifetime").await;
    let (_, mut token) = tokens(&reply);
    // rotating every 13 days keeps each token fresh, but not the login
    for _ in 0..2 {
        app.clock.advance(Duration::days(13));
        let reply = refresh(&app.router, &token).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        token = tokens(&reply).1;
    }
    app.clock.advance(Duration::days(4) + Duration::seconds(1));
    let expired = refresh(&app.router, &token).await;
    assert_eq!(expired.status, 401, "30 days after login the session is over");
}

async fn logged_in(app: &App) -> String {
    let email = unique_email("refresh");
    signup(&app.router, &email, "organizer").await;
    let reply = login(&app.router, &email, PASSWORD).await;
    assert_eq!(reply.status, 200);
    reply.body["refresh_token"].as_str().unwrap().to_owned()
}

pub async fn refresh_rotates_the_token(app: &App) {
    let first = logged_in(app).await;
    let reply = refresh(&app.router, &first).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let second = reply.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let claims = app
        .verifier
        .verify_access(reply.body["access_token"].as_str().unwrap(), app.clock.now())
        .unwrap();
    assert_eq!(claims.role.as_str(), "organizer");
    let third = refresh(&app.router, &second).await;
    assert_eq!(third.status, 200);
}

/// A reloaded page has only the refresh cookie: the refresh tells it who is signed in, as
/// the login did, the tokens staying where they were (older clients read only those).
pub async fn refresh_answers_the_signed_in_user(app: &App) {
    let (email, session) = new_session(app, "whoami").await;
    let (_, token) = tokens(&session);
    let by_body = refresh(&app.router, &token).await;
    assert_eq!(by_body.status, 200, "{:?}", by_body.body);
    assert_eq!(by_body.body["user"], session.body["user"], "the login's User");
    let answered_email = by_body.body["user"]["email"].as_str().unwrap();
    assert!(
        answered_email.eq_ignore_ascii_case(&email),
        "{answered_email} is {email}"
    );
    assert_eq!(by_body.body["user"]["name"], "김러너");
    assert_eq!(by_body.body["user"]["user_type"], "runner");
    assert_eq!(by_body.body["user"]["email_verified"], false);
    assert!(by_body.body["user"].get("password_hash").is_none());
    assert_eq!(by_body.body["token_type"], "Bearer");
    assert!(by_body.body["expires_in"].as_u64().is_some_and(|s| s > 0));
    let claims = app
        .verifier
        .verify_access(by_body.body["access_token"].as_str().unwrap(), app.clock.now())
        .unwrap();
    assert_eq!(
        claims.sub.to_string(),
        session.body["user"]["id"].as_str().unwrap()
    );
    // the cookie form, as the site sends it after a reload
    let by_cookie = call(
        &app.router,
        &bodiless("refresh.json", &[&cookie_of(&cookie_token(&by_body))], &[CSRF]),
    )
    .await;
    assert_eq!(by_cookie.status, 200, "{:?}", by_cookie.body);
    assert_eq!(by_cookie.body["user"], session.body["user"]);
    assert!(
        by_cookie.body.get("message").is_none(),
        "no greeting: nobody signed in anew"
    );
}

pub async fn reusing_a_rotated_token_revokes_the_family(app: &App) {
    let first = logged_in(app).await;
    let second = refresh(&app.router, &first).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let replay = refresh(&app.router, &first).await;
    assert_eq!(replay.status, 401);
    assert_eq!(
        replay.problem_type(),
        "https://mrmrthon.dev/problems/unauthorized"
    );
    // the legitimate holder's newer token died with the family
    assert_eq!(refresh(&app.router, &second).await.status, 401);
}

pub async fn logout_revokes_the_family(app: &App) {
    let token = logged_in(app).await;
    assert_eq!(logout(&app.router, &token).await.status, 204);
    assert_eq!(refresh(&app.router, &token).await.status, 401);
    // logging out twice is harmless
    assert_eq!(logout(&app.router, &token).await.status, 204);
}

pub async fn garbage_refresh_tokens_are_refused(app: &App) {
    for token in [
        "",
        "nonsense",
        "01J0000000000000000000000A.01J0000000000000000000000A.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        let reply = refresh(&app.router, token).await;
        assert_eq!(reply.status, 401, "{token:?}");
    }
    let missing = call(&app.router, &with_body(event("refresh.json"), &json!({}))).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["errors"][0]["field"], "refresh_token");
}

/// Logs a new organizer in; answers the login reply.
async fn fresh_login(app: &App) -> Reply {
    let email = unique_email("cookie");
    signup(&app.router, &email, "organizer").await;
    let reply = login(&app.router, &email, PASSWORD).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply
}

/// The refresh token a reply sets in the cookie, checked to be the body's.
fn cookie_token(reply: &Reply) -> String {
    let cookie = set_cookie(reply).unwrap_or_else(|| panic!("no Set-Cookie: {:?}", reply.headers));
    assert_eq!(
        cookie.value(),
        reply.body["refresh_token"],
        "the cookie holds the body's token"
    );
    cookie.value().to_owned()
}

pub async fn login_sets_the_refresh_cookie(app: &App) {
    let reply = fresh_login(app).await;
    let cookie = set_cookie(&reply).expect("login sets the cookie");
    assert_eq!(cookie.value(), reply.body["refresh_token"]);
    assert_eq!(cookie.path(), Some("/api/auth"));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.same_site(), Some(cookie::SameSite::Strict));
    assert_eq!(cookie.max_age(), Some(domain::refresh::REFRESH_TTL));
    assert_eq!(
        cookie.max_age().map(|age| age.whole_seconds()),
        Some(14 * 24 * 3600)
    );
    assert_eq!(reply.headers["cache-control"], "no-store");
}

pub async fn refresh_from_the_cookie_rotates_it(app: &App) {
    let first = cookie_token(&fresh_login(app).await);
    let reply = call(
        &app.router,
        &bodiless("refresh.json", &[&cookie_of(&first), "lang=ko"], &[CSRF]),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let second = cookie_token(&reply);
    assert_ne!(second, first);
    assert_eq!(
        set_cookie(&reply).unwrap().max_age(),
        Some(domain::refresh::REFRESH_TTL)
    );
    let claims = app
        .verifier
        .verify_access(reply.body["access_token"].as_str().unwrap(), app.clock.now())
        .unwrap();
    assert_eq!(claims.role.as_str(), "organizer");
    // an empty body with a JSON Content-Type, and a browser's same-origin Origin, do too
    let mut empty = with_header(
        bodiless("refresh.json", &[&cookie_of(&second)], &[CSRF]),
        "content-type",
        "application/json",
    );
    empty["body"] = json!("");
    let empty = with_header(empty, "origin", "http://127.0.0.1:3000");
    let third = call(&app.router, &empty).await;
    assert_eq!(third.status, 200, "{:?}", third.body);
    assert_ne!(cookie_token(&third), second);
}

pub async fn the_cookie_without_the_csrf_header_is_refused_and_left_alone(app: &App) {
    let token = cookie_token(&fresh_login(app).await);
    for (sample, headers) in [
        ("refresh.json", vec![]),
        ("logout.json", vec![]),
        ("refresh.json", vec![("x-requested-with", "XMLHttpRequest")]),
    ] {
        let reply = call(&app.router, &bodiless(sample, &[&cookie_of(&token)], &headers)).await;
        assert_eq!(reply.status, 403, "{sample} {headers:?}: {:?}", reply.body);
        assert_eq!(reply.problem_type(), "https://mrmrthon.dev/problems/forbidden");
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap()
                .contains("X-Requested-With: mrmrthon"),
            "{:?}",
            reply.body
        );
        assert!(set_cookie(&reply).is_none(), "a refused request changes nothing");
    }
    // neither rotated nor revoked: it still works, once
    let reply = call(
        &app.router,
        &bodiless("refresh.json", &[&cookie_of(&token)], &[CSRF]),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

pub async fn a_cross_origin_cookie_request_is_refused(app: &App) {
    let token = cookie_token(&fresh_login(app).await);
    for (sample, origin) in [
        ("refresh.json", "https://evil.example"),
        ("logout.json", "https://evil.example"),
        ("refresh.json", "http://127.0.0.1:5173"),
        ("refresh.json", "null"),
    ] {
        let request = bodiless(sample, &[&cookie_of(&token)], &[CSRF, ("origin", origin)]);
        let reply = call(&app.router, &request).await;
        assert_eq!(reply.status, 403, "{sample} from {origin}: {:?}", reply.body);
        assert!(
            reply.body["detail"].as_str().unwrap().contains("Origin"),
            "{:?}",
            reply.body
        );
        assert!(set_cookie(&reply).is_none());
    }
    // behind a proxy that tells the viewer's host, a same-site Origin passes
    let request = bodiless(
        "refresh.json",
        &[&cookie_of(&token)],
        &[
            CSRF,
            ("origin", "https://site.example"),
            ("host", "abc.execute-api.eu-west-1.amazonaws.com"),
            ("x-forwarded-host", "site.example"),
        ],
    );
    assert_eq!(call(&app.router, &request).await.status, 200);
}

pub async fn the_body_form_still_works_and_wins_over_the_cookie(app: &App) {
    let login_reply = fresh_login(app).await;
    let first = cookie_token(&login_reply);
    // a body token needs no header; a stale cookie next to it is ignored, not refused
    let mut request = with_body(event("refresh.json"), &json!({ "refresh_token": first }));
    request["cookies"] = json!([cookie_of("stale")]);
    let reply = call(&app.router, &request).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let second = cookie_token(&reply);
    assert_ne!(second, first);
    // and a body token wins over a good cookie: the body's is the one rotated
    let newer = refresh(&app.router, &second).await;
    let newer_token = cookie_token(&newer);
    let mut both = with_body(event("refresh.json"), &json!({ "refresh_token": second }));
    both["cookies"] = json!([cookie_of(&newer_token)]);
    let reused = call(&app.router, &both).await;
    assert_eq!(reused.status, 401, "the body's token, already used, was judged");
    assert_clears_the_cookie(&reused);
}

pub async fn logout_with_the_cookie_clears_it_and_revokes_the_family(app: &App) {
    let token = cookie_token(&fresh_login(app).await);
    let reply = call(
        &app.router,
        &bodiless("logout.json", &[&cookie_of(&token)], &[CSRF]),
    )
    .await;
    assert_eq!(reply.status, 204, "{:?}", reply.body);
    assert_clears_the_cookie(&reply);
    let after = refresh(&app.router, &token).await;
    assert_eq!(after.status, 401);
    assert_clears_the_cookie(&after);
    // the body form clears it too
    let other = cookie_token(&fresh_login(app).await);
    let reply = logout(&app.router, &other).await;
    assert_eq!(reply.status, 204);
    assert_clears_the_cookie(&reply);
}

pub async fn an_old_cookie_after_rotation_is_refused_and_cleared(app: &App) {
    let old = cookie_token(&fresh_login(app).await);
    let rotated = call(
        &app.router,
        &bodiless("refresh.json", &[&cookie_of(&old)], &[CSRF]),
    )
    .await;
    let new = cookie_token(&rotated);
    let replay = call(
        &app.router,
        &bodiless("refresh.json", &[&cookie_of(&old)], &[CSRF]),
    )
    .await;
    assert_eq!(replay.status, 401, "{:?}", replay.body);
    assert_eq!(
        replay.problem_type(),
        "https://mrmrthon.dev/problems/unauthorized"
    );
    assert_clears_the_cookie(&replay);
    // reuse revoked the family: the newer cookie is dead too
    let newer = call(
        &app.router,
        &bodiless("refresh.json", &[&cookie_of(&new)], &[CSRF]),
    )
    .await;
    assert_eq!(newer.status, 401);
    assert_clears_the_cookie(&newer);
}

pub async fn no_token_at_all_is_unauthorized(app: &App) {
    for sample in ["refresh.json", "logout.json"] {
        let reply = call(&app.router, &bodiless(sample, &[], &[CSRF])).await;
        assert_eq!(reply.status, 401, "{sample}: {:?}", reply.body);
        assert_eq!(reply.problem_type(), "https://mrmrthon.dev/problems/unauthorized");
        assert_clears_the_cookie(&reply);
        // a JSON null is no body either (the document's optional body admits it)
        let null = call(&app.router, &with_body(event(sample), &serde_json::Value::Null)).await;
        assert_eq!(null.status, 401, "{sample}: {:?}", null.body);
        // a body without the field still names it, whatever the cookie
        let missing = call(&app.router, &with_body(event(sample), &json!({}))).await;
        assert_eq!(missing.status, 400, "{sample}");
        assert_eq!(missing.body["errors"][0]["field"], "refresh_token");
    }
}

pub async fn reset_request(app: &App, email: &str) -> Reply {
    call(
        &app.router,
        &with_body(event("password-reset.json"), &json!({ "email": email })),
    )
    .await
}

pub async fn reset_confirm(app: &App, token: &str, new_password: &str) -> Reply {
    call(
        &app.router,
        &with_body(
            event("password-reset-confirm.json"),
            &json!({ "token": token, "new_password": new_password }),
        ),
    )
    .await
}

/// The reset flow; `mailed(user id)` answers the tokens the log handed to the mailer for
/// that user, oldest first (read from the store the app runs on).
pub async fn password_reset_by_mail<F, Fut>(app: &App, mailed: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let email = unique_email("reset-mail");
    let user = signup(&app.router, &email, "runner").await.body;
    let user_id = user["id"].as_str().unwrap().to_owned();
    let session = login(&app.router, &email, PASSWORD).await;
    let (_, old_refresh) = tokens(&session);

    // known and unknown addresses: the same answer
    let known = reset_request(app, &email).await;
    let unknown = reset_request(app, &unique_email("nobody")).await;
    assert_eq!(known.status, 202, "{:?}", known.body);
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));
    assert_eq!(reset_request(app, "not an address").await.status, 202);
    let missing = call(&app.router, &with_body(event("password-reset.json"), &json!({}))).await;
    assert_eq!(missing.status, 400);
    // a second request right away is answered alike but mails nothing
    assert_eq!(reset_request(app, &email).await.status, 202);
    let mailed_tokens = mailed(user_id.clone()).await;
    assert_eq!(mailed_tokens.len(), 1, "one mail a minute at most");
    let token = mailed_tokens[0].clone();
    assert!(token.starts_with(&user_id));

    let new_password = "reset to something new";
    let garbage = reset_confirm(app, &format!("{user_id}.{}", "x".repeat(43)), new_password).await;
    assert_eq!(garbage.status, 400);
    assert_eq!(garbage.body["errors"][0]["field"], "token");
    let weak = reset_confirm(app, &token, "short").await;
    assert_eq!(weak.body["errors"][0]["field"], "new_password");

    let done = reset_confirm(app, &token, new_password).await;
    assert_eq!(done.status, 204, "{:?}", done.body);
    assert_eq!(
        refresh(&app.router, &old_refresh).await.status,
        401,
        "sessions ended"
    );
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 401);
    assert_eq!(login(&app.router, &email, new_password).await.status, 200);
    let again = reset_confirm(app, &token, "yet another passphrase").await;
    assert_eq!(again.status, 400, "single use");

    // a new link after a minute; it dies 30 minutes later
    app.clock.advance(Duration::minutes(2));
    assert_eq!(reset_request(app, &email).await.status, 202);
    let mailed_tokens = mailed(user_id).await;
    assert_eq!(mailed_tokens.len(), 2);
    app.clock.advance(Duration::minutes(30));
    let late = reset_confirm(app, &mailed_tokens[1], "too late passphrase").await;
    assert_eq!(late.status, 400);
    assert_eq!(login(&app.router, &email, new_password).await.status, 200);
}

/// Email verification; `mailed(user id)` answers the verification tokens the log handed
/// to the mailer for that user, oldest first.
pub async fn email_verification<F, Fut>(app: &App, mailed: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let email = unique_email("verify");
    let created = signup(&app.router, &email, "organizer").await;
    assert_eq!(created.body["email_verified"], false);
    let user_id = created.body["id"].as_str().unwrap().to_owned();
    let tokens_mailed = mailed(user_id.clone()).await;
    assert_eq!(tokens_mailed.len(), 1, "signup mails a link");

    let session = login(&app.router, &email, PASSWORD).await;
    assert_eq!(session.body["user"]["email_verified"], false);
    let (_, before) = tokens(&session);
    let access = session.body["access_token"].as_str().unwrap().to_owned();
    let claims = app.verifier.verify_access(&access, app.clock.now()).unwrap();
    assert_eq!(claims.email_verified, Some(false), "record-api reads it here");

    let resend = |access: String| async move {
        call(
            &app.router,
            &with_header(
                event("verify-email-resend.json"),
                "authorization",
                &format!("Bearer {access}"),
            ),
        )
        .await
    };
    let soon = resend(access.clone()).await;
    assert_eq!(
        (soon.status, &soon.body["sent"]),
        (202, &json!(false)),
        "{:?}",
        soon.body
    );
    app.clock.advance(Duration::minutes(2));
    let later = resend(access.clone()).await;
    assert_eq!(later.body["sent"], true);
    let tokens_mailed = mailed(user_id).await;
    assert_eq!(tokens_mailed.len(), 2);

    let verify = |token: String| async move {
        call(
            &app.router,
            &with_body(event("verify-email.json"), &json!({ "token": token })),
        )
        .await
    };
    // the newer link replaced the first
    assert_eq!(verify(tokens_mailed[0].clone()).await.status, 400);
    let done = verify(tokens_mailed[1].clone()).await;
    assert_eq!(done.status, 204, "{:?}", done.body);
    let again = verify(tokens_mailed[1].clone()).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["errors"][0]["field"], "token");
    // a session from before the verification learns it at its next refresh
    let refreshed = refresh(&app.router, &before).await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_eq!(refreshed.body["user"]["email_verified"], true);
    assert_eq!(refreshed.body["user"]["id"], created.body["id"]);

    let session = login(&app.router, &email, PASSWORD).await;
    assert_eq!(session.body["user"]["email_verified"], true);
    let access = session.body["access_token"].as_str().unwrap().to_owned();
    let claims = app.verifier.verify_access(&access, app.clock.now()).unwrap();
    assert_eq!(claims.email_verified, Some(true));
    assert_eq!(resend(access).await.status, 409);
}
