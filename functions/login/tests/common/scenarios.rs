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

pub async fn five_failures_lock_the_account_until_it_expires(app: &App) {
    let email = unique_email("lock");
    signup(&app.router, &email, "runner").await;
    let unknown = login(&app.router, &unique_email("nobody"), PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(login(&app.router, &email, "wrong password!").await.status, 401);
    }
    // locked: even the right password fails, and looks like any other failure
    let locked = login(&app.router, &email, PASSWORD).await;
    assert_eq!(locked.status, 401);
    assert_eq!(locked.body, unknown.body);
    app.clock.advance(Duration::minutes(14));
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 401);
    app.clock.advance(Duration::minutes(1));
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);
}

pub async fn a_success_resets_the_failure_count(app: &App) {
    let email = unique_email("reset");
    signup(&app.router, &email, "runner").await;
    for _ in 0..4 {
        login(&app.router, &email, "wrong password!").await;
    }
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);
    for _ in 0..4 {
        login(&app.router, &email, "wrong password!").await;
    }
    assert_eq!(login(&app.router, &email, PASSWORD).await.status, 200);
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
