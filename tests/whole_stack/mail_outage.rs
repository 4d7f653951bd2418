//! SES's daily quota spent while mails are due, on the local stack wired by template.yaml:
//! the emulator answers every SendRawEmail with `Throttling: Daily message quota
//! exceeded.` for a while (local/emulator.py's fault hook). The ActivityLog stream's
//! records are not held: log-mailer puts the mails on MailRetryQueue, consumes them from
//! there once SES takes mail again, and each recipient gets exactly one mail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::activity::{ActivityDetails, ActivityEntry, ActivityKind, LockDetails, RequestOrigin};
use domain::ports::UserStore;
use domain::{Email, Role, User, UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoUsers};
use local::{HopKind, InProcess, Stack};
use mrmrthon_e2e::{eventually, start_services};
use serde_json::{Value, json};

/// How long SES refuses mail.
const QUOTA_SPENT_FOR: Duration = Duration::from_secs(6);

async fn user(users: &DynamoUsers, name: &str) -> (UserId, String) {
    let id = UserId::generate();
    let email = format!("{}@example.com", id.as_str().to_lowercase());
    let user = User {
        id: id.clone(),
        email: Email::parse(&email).unwrap(),
        name: UserName::parse(name).unwrap(),
        user_type: Role::Runner,
        created_at: time::OffsetDateTime::now_utc(),
    };
    let signup = ActivityEntry::new(
        id.clone(),
        ActivityKind::UserSignedUp,
        user.created_at,
        RequestOrigin::default(),
    );
    users
        .create_user(&user, "$argon2id$unused", &signup)
        .await
        .unwrap();
    (id, email)
}

/// The result-recorded sample of events/log-mailer, for `runner`.
fn result_entry(runner: &UserId) -> ActivityEntry {
    let path = local::emulator::repo_root().join("events/log-mailer/result-recorded.json");
    let sample: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let image = sample.records.into_iter().next().unwrap().change.new_image;
    let mut entry: ActivityEntry = serde_dynamo::from_item(image).unwrap();
    entry.id = ulid::Ulid::new().to_string();
    entry.details["runner_id"] = json!(runner);
    entry
}

#[tokio::test]
async fn mails_due_while_the_ses_quota_is_spent_are_sent_once_when_it_is_back() {
    let stack = &Stack::start().expect("the local stack starts");
    let sdk = stack.sdk_config().await;
    let provisioned = stack.provisioned();
    let env = provisioned.function_env("LogMailerFunction").unwrap();
    let mut settings = log_mailer::Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    // the queue's first delays, shortened: the fault is over by then
    settings.limits.retry_delays = log_mailer::deferred::RetryDelays {
        security: QUOTA_SPENT_FOR + Duration::from_secs(1),
        other: QUOTA_SPENT_FOR + Duration::from_secs(3),
    };
    let mailer = Arc::new(log_mailer::Mailer::connect(&sdk, &settings).await);
    let invoker = InProcess::new().with("LogMailerFunction", move |event: Value| {
        let mailer = Arc::clone(&mailer);
        async move {
            let deadline = time::OffsetDateTime::now_utc() + time::Duration::seconds(60);
            Ok(mailer.handle_payload(event, Some(deadline)).await?)
        }
    });
    let services = start_services(stack, invoker).await;
    let mailbox = services.mailbox.as_ref().unwrap();

    let activity = ActivityLog {
        table: provisioned.physical_name("ActivityLogTable").unwrap().to_owned(),
        retention: time::Duration::days(1),
    };
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let users = DynamoUsers::new(dynamo.clone(), &settings.users_table, activity.clone());
    let (runner, runner_email) = user(&users, "Runner Quota").await;
    let (locked, locked_email) = user(&users, "Runner Locked").await;
    // the result mail goes to verified addresses only (the lock mail to any)
    mrmrthon_e2e::mark_email_verified(&dynamo, &settings.users_table, &runner).await;

    // the quota is spent; a result and a lockout are logged meanwhile
    local::moto_api::set_faults(
        stack.endpoint(),
        &json!({"ses": {"code": "Throttling", "message": "Daily message quota exceeded.", "seconds": QUOTA_SPENT_FOR.as_secs()}}),
    )
    .await
    .unwrap();
    let spent = Instant::now();
    let lock = ActivityEntry::new(
        locked.clone(),
        ActivityKind::AccountLocked,
        time::OffsetDateTime::now_utc(),
        RequestOrigin::default(),
    )
    .with_details(ActivityDetails::Locked(LockDetails {
        locked_until: Some(time::OffsetDateTime::now_utc().unix_timestamp() + 900),
    }));
    for entry in [result_entry(&runner), lock] {
        dynamo
            .put_item()
            .table_name(&activity.table)
            .set_item(Some(activity.item(&entry).unwrap()))
            .send()
            .await
            .unwrap();
    }

    let to = |email: &str| {
        mailbox
            .mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to.contains(email)))
            .count()
    };
    eventually("both mails, once the quota is back", async || {
        (to(&runner_email) >= 1 && to(&locked_email) >= 1).then_some(())
    })
    .await;
    assert!(
        spent.elapsed() >= QUOTA_SPENT_FOR,
        "a mail went out while SES refused mail ({:?})",
        spent.elapsed()
    );
    // they came through MailRetryQueue, and nothing reached a dead end
    assert!(
        services
            .hops
            .recent()
            .iter()
            .any(|h| h.kind == HopKind::Queue && h.target == "LogMailerFunction" && h.outcome.is_ok()),
        "no mail came from the retry queue"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((to(&runner_email), to(&locked_email)), (1, 1), "each mail once");
    services.stop().await;
}
