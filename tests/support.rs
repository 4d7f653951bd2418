//! Support for the end-to-end tests: the real functions as in-process handlers of the
//! local stack, and bounded waiting.
//!
//! The tests invoke functions in-process (`local::InProcess`), not through `cargo lambda
//! watch`: no compile step or port to share, and a handler's panic or error shows up in
//! the test's own output. HTTP events still go through lambda_http's own request
//! conversion (`local::router`), so a function's router sees what it sees in Lambda.

pub mod race_scale;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use local::{InProcess, Provisioned};
use serde_json::Value;

pub mod soak;

/// How long any end-to-end wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Adds the login function, configured from the stack's template environment, exactly as
/// its `main.rs` would build it in Lambda.
pub async fn with_login(invoker: InProcess, provisioned: &Provisioned, sdk: &SdkConfig) -> InProcess {
    let env = provisioned
        .function_env("LoginFunction")
        .expect("template.yaml declares LoginFunction");
    let settings = login::Settings::from_lookup(|name| env.get(name).cloned()).expect("login's settings");
    let auth = login::Auth::connect(sdk, &settings)
        .await
        .expect("login connects to the emulator");
    let router = login::router(Arc::new(auth));
    invoker.with_router("LoginFunction", router)
}

/// Adds record-api, configured from the template like login.
pub async fn with_record_api(invoker: InProcess, provisioned: &Provisioned, sdk: &SdkConfig) -> InProcess {
    let env = provisioned
        .function_env("RecordApiFunction")
        .expect("template.yaml declares RecordApiFunction");
    let settings =
        record_api::Settings::from_lookup(|name| env.get(name).cloned()).expect("record-api's settings");
    let api = record_api::Api::connect(sdk, &settings)
        .await
        .expect("record-api connects to the emulator");
    let router = record_api::router(Arc::new(api));
    invoker.with_router("RecordApiFunction", router)
}

/// Adds results-import (the bulk import's S3 trigger), configured from the template. `run`
/// wraps each invocation: a test may cut one short, as a killed function is.
pub fn with_results_import(
    invoker: InProcess,
    provisioned: &Provisioned,
    sdk: &SdkConfig,
    run: Arc<dyn Fn(u64) -> Option<Duration> + Send + Sync>,
) -> InProcess {
    let env = provisioned
        .function_env("ResultsImportFunction")
        .expect("template.yaml declares ResultsImportFunction");
    let settings = results_import::config::Settings::from_lookup(|name| env.get(name).cloned())
        .expect("results-import's settings");
    let importer = Arc::new(results_import::connect(sdk, &settings));
    let invocations = Arc::new(std::sync::atomic::AtomicU64::new(0));
    invoker.with("ResultsImportFunction", move |event: Value| {
        let (importer, run) = (Arc::clone(&importer), Arc::clone(&run));
        let n = invocations.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            let event = serde_json::from_value(event)?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
            let work = importer.objects(event, deadline);
            match run(n) {
                None => work.await?,
                // the process dies after `kill`: the invocation fails mid-way
                Some(kill) => match tokio::time::timeout(kill, work).await {
                    Ok(done) => done?,
                    Err(_) => return Err("killed".into()),
                },
            }
            Ok(Value::Null)
        }
    })
}

/// A Discord stand-in, and the webhook secret pointing at it, as `make dev` makes them.
pub async fn discord_sink(provisioned: &Provisioned, sdk: &SdkConfig) -> local::sink::Sink {
    let sink = local::sink::Sink::start(0, local::Hops::quiet())
        .await
        .expect("the sink starts");
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let secret = provisioned
        .discord_webhook_secret()
        .expect("the template names the webhook secret");
    // a stack provisioned without a sink: create the secret, or point it here
    if secrets
        .create_secret()
        .name(secret)
        .secret_string(sink.webhook_url())
        .send()
        .await
        .is_err()
    {
        secrets
            .put_secret_value()
            .secret_id(secret)
            .secret_string(sink.webhook_url())
            .send()
            .await
            .expect("the webhook secret points at the sink");
    }
    sink
}

/// Adds the points pipeline's stream and queue consumers.
pub async fn with_points_pipeline(
    invoker: InProcess,
    provisioned: &Provisioned,
    sdk: &SdkConfig,
) -> InProcess {
    let env = provisioned
        .function_env("OfficialRecordStreamFunction")
        .expect("OfficialRecordStreamFunction");
    let publisher = Arc::new(infra::sns::SnsPublisher::new(
        aws_sdk_sns::Client::new(sdk),
        env["RECORD_EVENTS_TOPIC"].clone(),
    ));
    let poison = Arc::new(infra::poison::PoisonQueue::new(
        aws_sdk_sqs::Client::new(sdk),
        env["RECORD_STREAM_FAILURES_QUEUE_URL"].clone(),
        "OfficialRecordStreamFunction",
    ));
    let env = provisioned
        .function_env("PointIncreaseFunction")
        .expect("PointIncreaseFunction");
    let points =
        Arc::new(point_increase::connect(sdk, &env["USERS_TABLE"], &env["POINTS_EVENTS_TOPIC"]).await);
    invoker
        .with("OfficialRecordStreamFunction", move |event: Value| {
            let (publisher, poison) = (Arc::clone(&publisher), Arc::clone(&poison));
            async move {
                let event = serde_json::from_value(event)?;
                let response =
                    official_record_stream::handle(event, publisher.as_ref(), poison.as_ref()).await?;
                Ok(serde_json::to_value(response)?)
            }
        })
        .with("PointIncreaseFunction", move |event: Value| {
            let points = Arc::clone(&points);
            async move {
                let event = serde_json::from_value(event)?;
                let response = points.handle(event).await?;
                Ok(serde_json::to_value(response)?)
            }
        })
}

/// Adds discord-webhook (posting to whatever URL the stack's webhook secret holds) and
/// log-mailer.
pub async fn with_notifiers(invoker: InProcess, provisioned: &Provisioned, sdk: &SdkConfig) -> InProcess {
    with_notifiers_tuned(invoker, provisioned, sdk, |_| {}).await
}

/// `with_notifiers`, log-mailer's settings changed by `tune` first.
pub async fn with_notifiers_tuned(
    invoker: InProcess,
    provisioned: &Provisioned,
    sdk: &SdkConfig,
    tune: impl FnOnce(&mut log_mailer::config::Settings),
) -> InProcess {
    let env = provisioned
        .function_env("DiscordWebhookFunction")
        .expect("DiscordWebhookFunction");
    let settings =
        discord_webhook::config::Settings::from_lookup(|name| env.get(name).cloned()).expect("its settings");
    let notifier = Arc::new(
        discord_webhook::Notifier::connect(sdk, &settings)
            .await
            .expect("discord-webhook starts"),
    );
    let env = provisioned
        .function_env("LogMailerFunction")
        .expect("LogMailerFunction");
    let mut settings =
        log_mailer::config::Settings::from_lookup(|name| env.get(name).cloned()).expect("its settings");
    tune(&mut settings);
    let mailer = Arc::new(log_mailer::Mailer::connect(sdk, &settings).await);
    invoker
        .with("DiscordWebhookFunction", move |event: Value| {
            let notifier = Arc::clone(&notifier);
            async move {
                let event = serde_json::from_value(event)?;
                let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                Ok(serde_json::to_value(notifier.process(event, deadline).await?)?)
            }
        })
        .with("LogMailerFunction", move |event: Value| {
            let mailer = Arc::clone(&mailer);
            async move {
                // the ActivityLog stream or MailRetryQueue
                let deadline = time::OffsetDateTime::now_utc() + time::Duration::seconds(60);
                Ok(mailer.handle_payload(event, Some(deadline)).await?)
            }
        })
}

/// Adds account-erasure, the ActivityLog stream's consumer of account deletions,
/// configured from the template like login.
pub async fn with_account_erasure(
    invoker: InProcess,
    provisioned: &Provisioned,
    sdk: &SdkConfig,
) -> InProcess {
    let env = provisioned
        .function_env("AccountErasureFunction")
        .expect("template.yaml declares AccountErasureFunction");
    let settings = account_erasure::config::Settings::from_lookup(|name| env.get(name).cloned())
        .expect("account-erasure's settings");
    let (eraser, poison) = account_erasure::connect(sdk, &settings);
    let (eraser, poison) = (Arc::new(eraser), Arc::new(poison));
    invoker.with("AccountErasureFunction", move |event: Value| {
        let (eraser, poison) = (Arc::clone(&eraser), Arc::clone(&poison));
        async move {
            let event = serde_json::from_value(event)?;
            let response = account_erasure::handle(event, &eraser, poison.as_ref()).await?;
            Ok(serde_json::to_value(response)?)
        }
    })
}

/// The local stack's services (gateway, mappings, Discord stand-in, mailbox) over `invoker`,
/// the mailbox in a directory of its own.
pub async fn start_services(stack: &local::Stack, invoker: InProcess) -> local::Services {
    let mailbox = std::env::temp_dir().join(format!("mrmrthon-mailbox-{}", ulid::Ulid::new()));
    local::Services::start(
        stack.endpoint(),
        stack.provisioned(),
        Arc::new(invoker),
        local::ServiceOptions::for_tests(Some(mailbox)),
    )
    .await
    .expect("the local stack's services start")
}

/// Polls `probe` every 50 ms until it yields a value; fails the test after `DEADLINE`.
pub async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "gave up after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Marks the profile's address verified, as following the mailed link does, for users the
/// tests write straight into the Users table (`create_user` leaves a new profile
/// unverified, and log-mailer sends unverified addresses security mails only). The store
/// has no other way in than the mailed token, which these users never get.
pub async fn mark_email_verified(
    dynamo: &aws_sdk_dynamodb::Client,
    users_table: &str,
    user: &domain::UserId,
) {
    dynamo
        .update_item()
        .table_name(users_table)
        .set_key(Some(infra::dynamo::keys::profile_key(user)))
        .update_expression("SET email_verified = :true")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .send()
        .await
        .expect("mark the address verified");
}

/// Accounts written straight into the Users table, with access tokens signed by the
/// stack's own key: for tests whose subject is not signup.
pub struct Accounts {
    users: infra::dynamo::DynamoUsers,
    signer: infra::tokens::TokenSigner,
}

impl Accounts {
    /// The Users table and the signing key as record-api's template environment names them.
    pub async fn connect(provisioned: &Provisioned, sdk: &SdkConfig) -> Accounts {
        let env = provisioned
            .function_env("RecordApiFunction")
            .expect("RecordApiFunction");
        let secrets = provisioned.key_pair_secrets().expect("the template's key pair");
        let pem = infra::secrets::secret_string(sdk, &secrets.private_key_secret)
            .await
            .expect("the signing key");
        let signer = infra::tokens::TokenSigner::from_pkcs8_pem(
            &pem,
            infra::tokens::TokenConfig::new(env["TOKEN_ISSUER"].clone(), env["TOKEN_AUDIENCE"].clone()),
        )
        .expect("a signer");
        let users = infra::dynamo::DynamoUsers::new(
            aws_sdk_dynamodb::Client::new(sdk),
            &env["USERS_TABLE"],
            infra::dynamo::ActivityLog {
                table: env["ACTIVITY_TABLE"].clone(),
                retention: time::Duration::days(1),
            },
        );
        Accounts { users, signer }
    }

    /// A new account of `role` named 김러너, and an access token for it.
    pub async fn user(&self, role: domain::Role) -> (domain::UserId, String) {
        use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
        use domain::ports::UserStore;
        let id = domain::UserId::generate();
        let user = domain::User {
            id: id.clone(),
            email: domain::Email::parse(&format!("{}@example.com", id.as_str().to_lowercase()))
                .expect("an address"),
            name: domain::UserName::parse("김러너").expect("a name"),
            user_type: role,
            created_at: time::OffsetDateTime::now_utc(),
        };
        let entry = ActivityEntry::new(
            id.clone(),
            ActivityKind::UserSignedUp,
            user.created_at,
            RequestOrigin::default(),
        );
        self.users
            .create_user(&user, "$argon2id$unused", &entry)
            .await
            .expect("the account is written");
        let token = self
            .signer
            .issue_access(&id, role, time::OffsetDateTime::now_utc())
            .expect("a token")
            .token;
        (id, token)
    }

    /// A new access token for an account made here, as logging in again gives one: a run
    /// longer than the token's lifetime (15 minutes) keeps calling with a fresh one.
    pub fn token(&self, id: &domain::UserId, role: domain::Role) -> String {
        self.signer
            .issue_access(id, role, time::OffsetDateTime::now_utc())
            .expect("a token")
            .token
    }
}

/// One authenticated JSON call through the gateway: its status and its body (null when
/// it has none).
pub async fn call(
    http: &local::http_client::HttpClient,
    api: &str,
    method: http::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let reply = http
        .request(method, &format!("{api}{path}"), &headers, body, DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    (reply.status, reply.json().unwrap_or(Value::Null))
}
