//! The login scenarios against the emulator: real SDK calls, the real DynamoDB adapter,
//! the signing key read from Secrets Manager, settings from template.yaml.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use infra::tokens::{TokenConfig, TokenVerifier};
use login::{Auth, Settings};

async fn settings() -> (aws_config::SdkConfig, Settings) {
    let stack = local::Stack::shared();
    let env = stack
        .provisioned()
        .function_env("LoginFunction")
        .expect("LoginFunction is in template.yaml");
    let settings =
        Settings::from_lookup(|name| env.get(name).cloned()).expect("template gives login its settings");
    (stack.sdk_config().await, settings)
}

async fn dynamo_app() -> App {
    let (sdk, settings) = settings().await;
    let auth = Auth::connect(&sdk, &settings)
        .await
        .expect("login starts against the emulator");
    let config = TokenConfig {
        issuer: settings.issuer.clone(),
        audience: settings.audience.clone(),
        access_ttl: time::Duration::minutes(15),
    };
    // verify with what the function publishes, as other functions would
    let verifier =
        TokenVerifier::from_jwks(&auth.signer.jwks().clone(), config).expect("published JWKS is usable");
    with_test_clock(auth, verifier)
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            crate::common::scenarios::$name(&dynamo_app().await).await;
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
async fn twenty_concurrent_signups_with_one_email_create_one_user() {
    let app = dynamo_app().await;
    let email = unique_email("race");
    let replies = futures::future::join_all((0..20).map(|_| signup(&app.router, &email, "runner"))).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [vec![201], vec![409; 19]].concat(), "{statuses:?}");
}

#[tokio::test]
async fn the_login_is_in_the_activity_log_with_its_origin() {
    let app = dynamo_app().await;
    let (sdk, settings) = settings().await;
    let email = unique_email("audit");
    let user = signup(&app.router, &email, "runner").await.body;
    let source = random_source();
    assert_eq!(
        login_from(&app.router, &email, PASSWORD, &source).await.status,
        200
    );
    assert_eq!(login(&app.router, &email, "wrong password!").await.status, 401);

    let entries = aws_sdk_dynamodb::Client::new(&sdk)
        .query()
        .table_name(&settings.activity_table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(format!("USER#{}", user["id"].as_str().unwrap())),
        )
        .send()
        .await
        .expect("query the activity log")
        .items
        .unwrap_or_default();
    let kinds: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.get("kind")?.as_s().ok().map(String::as_str))
        .collect();
    // signup (with its verification mail) and login; the failure only counted toward the lockout
    assert_eq!(
        kinds,
        [
            "user.signed_up",
            "auth.email_verification_requested",
            "auth.login_succeeded"
        ]
    );
    let login_entry = &entries[2];
    assert_eq!(login_entry["source_ip"].as_s().unwrap(), &source);
    assert_eq!(login_entry["user_agent"].as_s().unwrap(), "curl/8.5.0");
    assert!(login_entry.contains_key("expires_at"), "retention TTL is set");
}

#[tokio::test]
async fn login_refuses_to_start_without_a_valid_key() {
    let (sdk, mut settings) = settings().await;
    settings.signing_key_secret = "mrmrthon/no-such-secret".into();
    let error = Auth::connect(&sdk, &settings)
        .await
        .err()
        .expect("a missing key stops init");
    assert!(error.to_string().contains("mrmrthon/no-such-secret"), "{error}");

    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = format!("mrmrthon/garbage-{}", ulid::Ulid::new());
    client
        .create_secret()
        .name(&name)
        .secret_string("not a key")
        .send()
        .await
        .unwrap();
    settings.signing_key_secret = name;
    let error = Auth::connect(&sdk, &settings)
        .await
        .err()
        .expect("a garbage key stops init");
    assert!(error.to_string().contains("signing key"), "{error}");
}

#[test]
fn settings_name_what_is_missing() {
    let error = Settings::from_lookup(|_| None).unwrap_err();
    assert!(error.to_string().contains("USERS_TABLE"));
}

#[tokio::test]
async fn password_reset_by_mail() {
    let app = dynamo_app().await;
    let (sdk, settings) = settings().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = settings.activity_table.clone();
    crate::common::scenarios::password_reset_by_mail(&app, |user| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let items = client
                .query()
                .table_name(&table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user}")))
                .send()
                .await
                .expect("query the activity log")
                .items
                .unwrap_or_default();
            items
                .iter()
                .filter(|e| {
                    e["kind"]
                        .as_s()
                        .is_ok_and(|k| k == "auth.password_reset_requested")
                })
                .map(|e| {
                    // the entry goes with the token (30 minutes), not after the log's 400 days
                    let expires: i64 = e["expires_at"].as_n().unwrap().parse().unwrap();
                    let at = time::OffsetDateTime::parse(
                        e["at"].as_s().unwrap(),
                        &time::format_description::well_known::Rfc3339,
                    )
                    .unwrap();
                    assert_eq!(expires - at.unix_timestamp(), 30 * 60);
                    e["details"].as_m().unwrap()["token"].as_s().unwrap().clone()
                })
                .collect()
        }
    })
    .await;
}

#[tokio::test]
async fn email_verification() {
    let app = dynamo_app().await;
    let (sdk, settings) = settings().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = settings.activity_table.clone();
    crate::common::scenarios::email_verification(&app, |user| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let items = client
                .query()
                .table_name(&table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user}")))
                .send()
                .await
                .expect("query the activity log")
                .items
                .unwrap_or_default();
            items
                .iter()
                .filter(|e| {
                    e["kind"]
                        .as_s()
                        .is_ok_and(|k| k == "auth.email_verification_requested")
                })
                .map(|e| {
                    // the entry goes with the token (30 minutes), not after the log's 400 days
                    let expires: i64 = e["expires_at"].as_n().unwrap().parse().unwrap();
                    let at = time::OffsetDateTime::parse(
                        e["at"].as_s().unwrap(),
                        &time::format_description::well_known::Rfc3339,
                    )
                    .unwrap();
                    assert_eq!(expires - at.unix_timestamp(), 24 * 3600);
                    e["details"].as_m().unwrap()["token"].as_s().unwrap().clone()
                })
                .collect()
        }
    })
    .await;
}
