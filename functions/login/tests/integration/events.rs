//! Handler tests: the sample events in events/login/ through lambda_http and the router,
//! with the user store in memory. The same scenarios run against DynamoDB in `dynamo.rs`.

use std::sync::Arc;

use crate::common::*;
use domain::memory::MemoryUsers;
use serde_json::{Value, json};

fn memory_app() -> App {
    let (private_pem, public_pem) = key_pair();
    app(Arc::new(MemoryUsers::default()), &private_pem, &public_pem)
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            crate::common::scenarios::$name(&memory_app()).await;
        }
    )*};
}

scenarios!(
    signup_creates_a_user_without_the_hash,
    duplicate_email_conflicts_case_insensitively,
    signup_names_every_bad_field,
    login_greets_each_role_and_issues_tokens,
    unknown_email_and_wrong_password_look_identical,
    failures_are_delayed_then_locked_and_the_owner_gets_in_after,
    a_success_resets_the_failure_count,
    concurrent_guesses_verify_at_most_the_allowed_number,
    guesses_sprayed_from_one_address_are_throttled,
    users_behind_one_address_do_not_refuse_each_other,
    user_type_takes_the_original_codes_and_answers_the_words,
    changing_the_password_ends_every_session,
    logout_everywhere_ends_every_session,
    deleting_the_account_frees_the_address_and_ends_everything,
    refreshing_never_extends_a_session_past_its_lifetime,
    refresh_rotates_the_token,
    refresh_answers_the_signed_in_user,
    reusing_a_rotated_token_revokes_the_family,
    logout_revokes_the_family,
    garbage_refresh_tokens_are_refused,
    login_sets_the_refresh_cookie,
    refresh_from_the_cookie_rotates_it,
    the_cookie_without_the_csrf_header_is_refused_and_left_alone,
    a_cross_origin_cookie_request_is_refused,
    the_body_form_still_works_and_wins_over_the_cookie,
    logout_with_the_cookie_clears_it_and_revokes_the_family,
    an_old_cookie_after_rotation_is_refused_and_cleared,
    no_token_at_all_is_unauthorized,
);

#[tokio::test]
async fn the_sample_events_work_as_they_are() {
    let app = memory_app();
    let signup = call(&app.router, &event("signup.json")).await;
    assert_eq!(signup.status, 201, "{:?}", signup.body);
    let login = call(&app.router, &event("login.json")).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.body["message"], "개인 사용자님 환영합니다");
    let organizer = call(&app.router, &event("signup-organizer.json")).await;
    assert_eq!(organizer.body["user_type"], "organizer");
}

#[tokio::test]
async fn jwks_publishes_the_verification_key() {
    let app = memory_app();
    let reply = call(&app.router, &event("jwks.json")).await;
    assert_eq!(reply.status, 200);
    let key = &reply.body["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert!(key["n"].as_str().is_some_and(|n| n.len() > 300));
    assert!(!reply.body.to_string().contains("\"d\""), "no private parts");
}

#[tokio::test]
async fn a_login_is_recorded_with_its_origin() {
    let (private_pem, public_pem) = key_pair();
    let users = Arc::new(MemoryUsers::default());
    let app = app(users.clone(), &private_pem, &public_pem);
    call(&app.router, &event("signup.json")).await;
    call(&app.router, &event("login.json")).await;
    let entries = users.activity();
    let login = entries
        .iter()
        .find(|e| e.kind == domain::activity::ActivityKind::LoginSucceeded)
        .expect("a login entry");
    assert_eq!(login.origin.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(login.origin.user_agent.as_deref(), Some("curl/8.5.0"));
    // failures only count; they are not logged as activity
    call(
        &app.router,
        &with_body(
            event("login.json"),
            &json!({"email": "kim.runner@example.com", "password": "nope nope nope"}),
        ),
    )
    .await;
    assert_eq!(users.activity().len(), entries.len());
}

#[tokio::test]
async fn client_mistakes_are_problem_json_4xx() {
    let app = memory_app();
    let mut malformed = event("signup.json");
    malformed["body"] = Value::String("{\"email\": ".into());
    let reply = call(&app.router, &malformed).await;
    assert_eq!(
        (reply.status, reply.problem_type()),
        (400, "https://mrmrthon.dev/problems/malformed-json")
    );

    let wrong_type = with_body(event("login.json"), &json!({ "email": 42, "password": "x" }));
    let reply = call(&app.router, &wrong_type).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["errors"][0]["field"], "email");

    let huge = with_body(event("signup.json"), &json!({ "name": "x".repeat(70 * 1024) }));
    let reply = call(&app.router, &huge).await;
    assert_eq!(
        (reply.status, reply.problem_type()),
        (413, "https://mrmrthon.dev/problems/payload-too-large")
    );

    let text = with_header(event("login.json"), "content-type", "text/plain");
    assert_eq!(call(&app.router, &text).await.status, 415);

    let mut unknown = event("jwks.json");
    unknown["rawPath"] = json!("/auth/nowhere");
    unknown["requestContext"]["http"]["path"] = json!("/auth/nowhere");
    let reply = call(&app.router, &unknown).await;
    assert_eq!(
        (reply.status, reply.headers["content-type"].to_str().unwrap()),
        (404, "application/problem+json")
    );

    let mut wrong_method = event("jwks.json");
    wrong_method["requestContext"]["http"]["method"] = json!("DELETE");
    assert_eq!(call(&app.router, &wrong_method).await.status, 405);
}

#[tokio::test]
async fn a_lock_is_logged_once_and_a_password_change_once_for_their_mails() {
    use domain::activity::ActivityKind;
    let (private_pem, public_pem) = key_pair();
    let users = Arc::new(MemoryUsers::default());
    let app = app(users.clone(), &private_pem, &public_pem);
    let count = |kind| users.activity().iter().filter(|e| e.kind == kind).count();
    let (email, _) = crate::common::scenarios::new_session(&app, "mails").await;
    // guesses until the lock, each waiting out its delay, then more refused during it
    for failures in 1..=app.lockout.lock_after {
        assert_eq!(login(&app.router, &email, "wrong password!").await.status, 401);
        if failures < app.lockout.lock_after {
            app.clock.advance(app.lockout.delay_after(failures));
        }
    }
    for _ in 0..5 {
        assert_eq!(login(&app.router, &email, "wrong password!").await.status, 401);
    }
    assert_eq!(count(ActivityKind::AccountLocked), 1, "one lock, one mail");
    let lock = users
        .activity()
        .into_iter()
        .find(|e| e.kind == ActivityKind::AccountLocked)
        .unwrap();
    assert_eq!(
        lock.details["locked_until"],
        (domain::Clock::now(app.clock.as_ref()) + app.lockout.lock_for).unix_timestamp()
    );

    app.clock.advance(app.lockout.lock_for);
    let fresh = login(&app.router, &email, PASSWORD).await;
    assert_eq!(fresh.status, 200, "the lock is over");
    let access = fresh.body["access_token"].as_str().unwrap();
    let changed = change_password(&app.router, access, PASSWORD, "a brand new passphrase").await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    assert_eq!(count(ActivityKind::PasswordChanged), 1);
    assert_eq!(logout_all(&app.router, access).await.status, 204);
    assert_eq!(count(ActivityKind::LoggedOutEverywhere), 1);
}

#[tokio::test]
async fn password_reset_by_mail() {
    let (private_pem, public_pem) = key_pair();
    let users = Arc::new(MemoryUsers::default());
    let app = app(users.clone(), &private_pem, &public_pem);
    crate::common::scenarios::password_reset_by_mail(&app, |user| {
        let users = users.clone();
        async move {
            users
                .activity()
                .into_iter()
                .filter(|e| {
                    e.kind == domain::activity::ActivityKind::PasswordResetRequested
                        && e.actor.as_str() == user
                })
                .map(|e| e.details["token"].as_str().unwrap().to_owned())
                .collect()
        }
    })
    .await;
}

#[tokio::test]
async fn email_verification() {
    let (private_pem, public_pem) = key_pair();
    let users = Arc::new(MemoryUsers::default());
    let app = app(users.clone(), &private_pem, &public_pem);
    crate::common::scenarios::email_verification(&app, |user| {
        let users = users.clone();
        async move {
            users
                .activity()
                .into_iter()
                .filter(|e| {
                    e.kind == domain::activity::ActivityKind::EmailVerificationRequested
                        && e.actor.as_str() == user
                })
                .map(|e| e.details["token"].as_str().unwrap().to_owned())
                .collect()
        }
    })
    .await;
}
