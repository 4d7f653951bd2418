//! The record-api under test: the real function over the emulator (tables and settings
//! from template.yaml), users minted straight into the Users table with tokens signed by
//! the stack's key, and requests sent as API Gateway v2 events through lambda_http.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::ports::UserStore;
use domain::{Clock, Email, Role, SystemClock, User, UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoUsers};
use infra::tokens::{TokenConfig, TokenSigner};
use record_api::{Api, Settings};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

pub struct World {
    pub router: Router,
    /// The function's clock; tokens are issued at its time.
    pub clock: Arc<dyn Clock>,
    pub users: DynamoUsers,
    pub signer: TokenSigner,
    pub sdk: aws_config::SdkConfig,
    pub settings: Settings,
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: UserId,
    pub token: String,
    pub role: Role,
    pub name: String,
}

/// One world per test (SDK clients must not cross the tests' runtimes); one emulator per
/// test binary.
pub async fn world() -> World {
    world_at(Arc::new(SystemClock)).await
}

/// A world whose function reads `clock`: a container whose clock is not the others'.
pub async fn world_at(clock: Arc<dyn Clock>) -> World {
    let stack = local::Stack::shared();
    let sdk = stack.sdk_config().await;
    let env = stack
        .provisioned()
        .function_env("RecordApiFunction")
        .expect("RecordApiFunction in template.yaml");
    let settings =
        Settings::from_lookup(|name| env.get(name).cloned()).expect("template gives record-api its settings");
    let mut api = Api::connect(&sdk, &settings)
        .await
        .expect("record-api starts against the emulator");
    api.clock = Arc::clone(&clock);
    let private_key_secret = &stack
        .provisioned()
        .key_pair_secrets()
        .expect("the template names a key pair")
        .private_key_secret;
    let pem = infra::secrets::secret_string(&sdk, private_key_secret)
        .await
        .expect("signing key");
    let signer = TokenSigner::from_pkcs8_pem(
        &pem,
        TokenConfig::new(settings.issuer.clone(), settings.audience.clone()),
    )
    .expect("signing key parses");
    let users = DynamoUsers::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &settings.users_table,
        ActivityLog {
            table: settings.activity_table.clone(),
            retention: time::Duration::days(1),
        },
    );
    World {
        router: record_api::router(Arc::new(api)),
        clock,
        users,
        signer,
        sdk,
        settings,
    }
}

static HASH: OnceCell<String> = OnceCell::const_new();

impl World {
    /// A user created directly in the Users table, with a valid access token.
    pub async fn mint(&self, role: Role) -> TestUser {
        let hash = HASH
            .get_or_init(|| async {
                infra::passwords::Passwords::default()
                    .hash("not used by these tests")
                    .await
                    .unwrap()
            })
            .await;
        let id = UserId::generate();
        let name = format!("{} {}", role.as_str(), &id.as_str()[20..]);
        let user = User {
            id: id.clone(),
            email: Email::parse(&format!("{}@example.com", id.as_str().to_lowercase())).unwrap(),
            name: UserName::parse(&name).unwrap(),
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
            .create_user(&user, hash, &entry)
            .await
            .expect("mint a user");
        let token = self
            .signer
            .issue_access(&id, role, self.clock.now())
            .expect("sign a token")
            .token;
        TestUser {
            id,
            token,
            role,
            name,
        }
    }

    /// The same user with a token issued at this world's time (its clock may differ).
    pub fn reissue(&self, user: &TestUser) -> TestUser {
        let token = self
            .signer
            .issue_access(&user.id, user.role, self.clock.now())
            .expect("sign a token")
            .token;
        TestUser {
            token,
            ..user.clone()
        }
    }

    /// The same user with a token whose `email_verified` claim says `verified`, as login
    /// issues them now (`mint`'s tokens carry no claim, like tokens from before verification).
    pub fn with_email_verified(&self, user: &TestUser, verified: bool) -> TestUser {
        let token = self
            .signer
            .issue_access_verified(&user.id, user.role, verified, self.clock.now())
            .expect("sign a token")
            .token;
        TestUser {
            token,
            ..user.clone()
        }
    }

    /// The kinds of `actor`'s activity entries, in the order they were written.
    pub async fn activity_kinds(&self, actor: &TestUser) -> Vec<String> {
        aws_sdk_dynamodb::Client::new(&self.sdk)
            .query()
            .table_name(&self.settings.activity_table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{}", actor.id)),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("query the activity log")
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i.get("kind")?.as_s().ok().cloned())
            .collect()
    }

    pub async fn call(&self, method: &str, path: &str, who: Option<&TestUser>, body: Option<Value>) -> Reply {
        self.send(request(method, path, who, body, &[])).await
    }

    /// A call with `If-Match` on `version` (the ETag the API gave out for it).
    pub async fn call_at(
        &self,
        method: &str,
        path: &str,
        who: Option<&TestUser>,
        body: Option<Value>,
        version: u64,
    ) -> Reply {
        let etag = format!("\"{version}\"");
        self.send(request(method, path, who, body, &[("if-match", &etag)]))
            .await
    }

    pub async fn send(&self, event: Value) -> Reply {
        call(&self.router, &event).await
    }

    /// A marathon by `organizer`, open for registration, 30 days ahead (runners may still
    /// cancel; no result can be recorded yet).
    pub async fn marathon(&self, organizer: &TestUser, capacity: u32, points: u32) -> Value {
        self.create_marathon(organizer, marathon_body(capacity, points, 30))
            .await
    }

    /// A marathon by `organizer` run today (UTC), open for registration until the end of
    /// the day: results can be recorded (they exist from race day on).
    pub async fn race_day_marathon(&self, organizer: &TestUser, capacity: u32, points: u32) -> Value {
        self.create_marathon(organizer, race_day_body(capacity, points))
            .await
    }

    async fn create_marathon(&self, organizer: &TestUser, body: Value) -> Value {
        let reply = self.call("POST", "/marathons", Some(organizer), Some(body)).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body
    }

    /// The organizer records (or corrects) the runner's official result.
    pub async fn record(
        &self,
        organizer: &TestUser,
        marathon: &Value,
        runner: &TestUser,
        finish: &str,
    ) -> Reply {
        let id = marathon["id"].as_str().unwrap();
        let path = format!("/marathons/{id}/results/{}", runner.id);
        self.call(
            "PUT",
            &path,
            Some(organizer),
            Some(serde_json::json!({ "finish_time": finish })),
        )
        .await
    }

    pub async fn register(&self, marathon: &Value, runner: &TestUser) -> Reply {
        self.call(
            "POST",
            &format!("/marathons/{}/entries", marathon["id"].as_str().unwrap()),
            Some(runner),
            None,
        )
        .await
    }
}

pub fn marathon_body(capacity: u32, points: u32, days_ahead: i64) -> Value {
    let today = time::OffsetDateTime::now_utc().date();
    let date = today + time::Duration::days(days_ahead);
    json!({
        "name": "Seoul Marathon",
        "date": date.to_string(),
        "location": "Gwanghwamun",
        "course": "full",
        "points": points,
        "capacity": capacity,
        "registration_closes_at": format!("{}T00:00:00Z", date - time::Duration::days(1)),
    })
}

/// A marathon run today (UTC) whose registration closes at the end of the day, the
/// latest the rules allow: runners register and the organizer records results the same day.
pub fn race_day_body(capacity: u32, points: u32) -> Value {
    let today = time::OffsetDateTime::now_utc().date();
    let mut body = marathon_body(capacity, points, 0);
    body["registration_closes_at"] = json!(format!("{today}T23:59:59Z"));
    body
}

/// An API Gateway HTTP API (payload 2.0) event.
pub fn request(
    method: &str,
    path: &str,
    who: Option<&TestUser>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Value {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": { "user-agent": "record-api-tests", "host": "127.0.0.1:3000" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "127",
            "http": { "method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "record-api-tests" },
            "requestId": ulid::Ulid::new().to_string(), "routeKey": "$default", "stage": "$default",
            "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 1795255200000u64
        },
        "isBase64Encoded": false
    });
    if let Some(user) = who {
        event["headers"]["authorization"] = json!(format!("Bearer {}", user.token));
    }
    if let Some(body) = body {
        event["headers"]["content-type"] = json!("application/json");
        event["body"] = json!(body.to_string());
    }
    for (name, value) in headers {
        event["headers"][*name] = json!(value);
    }
    event
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn problem_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }

    pub fn etag(&self) -> String {
        self.headers["etag"].to_str().unwrap().to_owned()
    }
}

pub async fn call(router: &Router, event: &Value) -> Reply {
    let (head, bytes) = local::router::respond(router.clone(), event)
        .await
        .expect("a valid API Gateway event, and the router is infallible");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply {
        status: head.status.as_u16(),
        headers: head.headers,
        body,
    }
}
