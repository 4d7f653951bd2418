//! Representative events for each function, from events/<function>/ where they exist, made
//! usable against the emulator (real users, tokens signed with the stack's key, fresh ids).

use std::path::Path;

use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::events::{Envelope, ResultChange, ResultEvent};
use domain::marathon::MarathonId;
use domain::ports::UserStore;
use domain::result::{OfficialResult, result_id};
use domain::{Email, Role, User, UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoUsers};
use infra::tokens::{TokenConfig, TokenSigner};
use serde_json::{Value, json};

use crate::lab::{Function, Lab, Result, repo_root};

/// Makes the measured burst from the setup invocations' response payloads.
pub type MakeBurst = Box<dyn FnOnce(&[String]) -> Result<Vec<String>> + Send>;

/// Setup events go first, one at a time; `burst` then makes the measured burst.
pub struct Plan {
    pub setup: Vec<String>,
    pub burst: MakeBurst,
    pub describe: String,
}

/// Messages per SQS event, records per stream event.
pub const QUEUE_BATCH: usize = 5;
pub const STREAM_BATCH: usize = 10;

pub async fn plan(lab: &Lab, function: &Function, count: usize) -> Result<Plan> {
    match function.package {
        "login" => login(count),
        "record-api" => record_api(lab, count).await,
        "official-record-stream" => official_record_stream(count),
        "point-increase" => point_increase(lab, function, count).await,
        "discord-webhook" => discord_webhook(count),
        "log-mailer" => log_mailer(count),
        other => Err(format!("no events for {other}")),
    }
}

fn sample(function: &str, file: &str) -> Result<String> {
    let path = repo_root().join("events").join(function).join(file);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn samples(function: &str) -> Result<Vec<String>> {
    let dir = repo_root().join("events").join(function);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display())))
        .collect()
}

fn login(count: usize) -> Result<Plan> {
    let signup = sample("login", "signup.json")?;
    let jwks = sample("login", "jwks.json")?;
    let login = sample("login", "login.json")?;
    Ok(Plan {
        setup: vec![signup],
        burst: Box::new(move |_| {
            Ok((0..count)
                .map(|i| if i % 2 == 0 { jwks.clone() } else { login.clone() })
                .collect())
        }),
        describe: "one signup (setup), then JWKS GET and login alternately (each login verifies an \
                   argon2id hash and writes a refresh family)"
            .into(),
    })
}

async fn mint(users: &DynamoUsers, role: Role) -> Result<UserId> {
    let id = UserId::generate();
    let user = User {
        id: id.clone(),
        email: Email::parse(&format!("{}@example.com", id.as_str().to_lowercase()))
            .map_err(|e| format!("bench email: {e:?}"))?,
        name: UserName::parse(&format!("Bench {}", role.as_str()))
            .map_err(|e| format!("bench name: {e:?}"))?,
        user_type: role,
        created_at: time::OffsetDateTime::now_utc(),
    };
    let entry = ActivityEntry::new(
        id.clone(),
        ActivityKind::UserSignedUp,
        user.created_at,
        RequestOrigin::default(),
    );
    users
        .create_user(&user, "not a password hash: these users never log in", &entry)
        .await
        .map_err(|e| format!("cannot create a {} in the Users table: {e}", role.as_str()))?;
    Ok(id)
}

fn users_store(lab: &Lab, users_table: &str) -> DynamoUsers {
    let activity_table = lab
        .stack
        .provisioned()
        .physical_name("ActivityLogTable")
        .unwrap_or_default()
        .to_owned();
    DynamoUsers::new(
        aws_sdk_dynamodb::Client::new(&lab.sdk),
        users_table,
        ActivityLog {
            table: activity_table,
            retention: time::Duration::days(1),
        },
    )
}

fn required<'a>(env: &'a std::collections::BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    env.get(name)
        .map(String::as_str)
        .ok_or_else(|| format!("the template gives no {name}"))
}

async fn record_api(lab: &Lab, count: usize) -> Result<Plan> {
    let env = lab
        .stack
        .provisioned()
        .function_env("RecordApiFunction")
        .map_err(|e| e.to_string())?;
    let users = users_store(lab, required(&env, "USERS_TABLE")?);
    let runner = mint(&users, Role::Runner).await?;
    let organizer = mint(&users, Role::Organizer).await?;
    let signer = signer(lab, &env).await?;
    let now = time::OffsetDateTime::now_utc();
    let token = |id: &UserId, role| {
        signer
            .issue_access(id, role, now)
            .map(|t| t.token)
            .map_err(|e| format!("cannot sign a token: {e}"))
    };
    let (runner_token, organizer_token) =
        (token(&runner, Role::Runner)?, token(&organizer, Role::Organizer)?);
    // results are recorded from race day on: the sample's race is run today
    let race_date = now.date().to_string();
    let fill = move |text: &str, marathon: &str| {
        text.replace("ORGANIZER_ACCESS_TOKEN", &organizer_token)
            .replace("RACE_DATE", &race_date)
            .replace("RUNNER_ACCESS_TOKEN", &runner_token)
            .replace("MARATHON_ID", marathon)
            .replace("RUNNER_ID", runner.as_str())
    };
    let create = fill(&sample("record-api", "create-marathon.json")?, "");
    let register = sample("record-api", "register.json")?;
    let mix: Vec<String> = [
        "list-marathons.json",
        "create-record.json",
        "my-points.json",
        "put-result.json",
        "list-results.json",
        "list-entries.json",
    ]
    .iter()
    .map(|f| sample("record-api", f))
    .collect::<Result<_>>()?;
    Ok(Plan {
        setup: vec![create],
        burst: Box::new(move |replies| {
            let reply = replies.first().ok_or("no reply to create-marathon")?;
            let marathon = marathon_id(reply)?;
            let mut events = vec![fill(&register, &marathon)];
            events.extend((1..count).map(|i| fill(&mix[i % mix.len()], &marathon)));
            Ok(events)
        }),
        describe: "a marathon created (setup), the runner registers, then list marathons, create record, \
                   my points, put result, list results, list entries in turn"
            .into(),
    })
}

/// login's signer, from the stack's key pair: tokens record-api accepts.
async fn signer(lab: &Lab, env: &std::collections::BTreeMap<String, String>) -> Result<TokenSigner> {
    let secrets = lab
        .stack
        .provisioned()
        .key_pair_secrets()
        .ok_or("the template names no token key pair")?;
    let pem = infra::secrets::secret_string(&lab.sdk, &secrets.private_key_secret)
        .await
        .map_err(|e| format!("cannot read the signing key: {e}"))?;
    TokenSigner::from_pkcs8_pem(
        &pem,
        TokenConfig::new(required(env, "TOKEN_ISSUER")?, required(env, "TOKEN_AUDIENCE")?),
    )
    .map_err(|e| format!("the signing key is unusable: {e}"))
}

/// `count` POST /me/records events (events/record-api/create-record.json) of one fresh
/// runner, with a token signed now: each creates a new record.
pub async fn create_records(lab: &Lab, count: usize) -> Result<Vec<String>> {
    let env = lab
        .stack
        .provisioned()
        .function_env("RecordApiFunction")
        .map_err(|e| e.to_string())?;
    let runner = mint(&users_store(lab, required(&env, "USERS_TABLE")?), Role::Runner).await?;
    let token = signer(lab, &env)
        .await?
        .issue_access(&runner, Role::Runner, time::OffsetDateTime::now_utc())
        .map_err(|e| format!("cannot sign a token: {e}"))?
        .token;
    let event = sample("record-api", "create-record.json")?.replace("RUNNER_ACCESS_TOKEN", &token);
    Ok(vec![event; count])
}

/// `count` events of `function`'s representative burst (the peak RSS burst's events),
/// without its setup invocations: for the functions that have none.
pub async fn events(lab: &Lab, function: &Function, count: usize) -> Result<Vec<String>> {
    if function.package == "record-api" {
        return create_records(lab, count).await;
    }
    let plan = plan(lab, function, count).await?;
    if !plan.setup.is_empty() {
        return Err(format!("{} needs setup invocations", function.package));
    }
    (plan.burst)(&[])
}

/// The id in a lambda_http response to POST /marathons.
fn marathon_id(reply: &str) -> Result<String> {
    let response: Value = serde_json::from_str(reply).map_err(|e| format!("create-marathon reply: {e}"))?;
    let body: Value = response["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .ok_or_else(|| format!("create-marathon gave no JSON body: {reply}"))?;
    body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("create-marathon gave no id: {reply}"))
}

/// A Races-table result item as record-api stores it, in stream-image form.
fn result_image(marathon: &MarathonId, runner: &UserId, name: &UserName, points: u32, version: u64) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let result = OfficialResult {
        marathon_id: marathon.clone(),
        marathon_name: "서울 마라톤 2026".into(),
        marathon_date: now.date(),
        runner_id: runner.clone(),
        runner_name: name.clone(),
        finish_seconds: Some(10_800),
        finish_time: Some("3:00:00".into()),
        bonus_points: 10,
        points,
        version,
        recorded_at: now,
        updated_at: now,
        correlation_id: Some(format!("bench-{}", ulid::Ulid::new())),
        status: Default::default(),
        gun_seconds: None,
        splits: Default::default(),
        bib: None,
        category: None,
        import_id: None,
        age_grade: None,
    };
    let mut item: serde_dynamo::Item = serde_dynamo::to_item(&result).unwrap_or_default();
    let s = serde_dynamo::AttributeValue::S;
    item.insert("pk".into(), s(format!("MARATHON#{marathon}")));
    item.insert("sk".into(), s(format!("RESULT#{runner}")));
    item.insert("result_id".into(), s(result_id(marathon, runner)));
    serde_json::to_value(item).unwrap_or(Value::Null)
}

struct Stream {
    sequence: usize,
    event_name: &'static str,
    marathon: MarathonId,
    runner: UserId,
    runner_name: UserName,
    version: u64,
}

fn stream_record(r: &Stream) -> Value {
    let new = result_image(&r.marathon, &r.runner, &r.runner_name, 110, r.version);
    let mut change = json!({
        "ApproximateCreationDateTime": time::OffsetDateTime::now_utc().unix_timestamp() as f64,
        "Keys": { "pk": new["pk"].clone(), "sk": new["sk"].clone() },
        "SequenceNumber": format!("{:021}", r.sequence), "SizeBytes": 420,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "NewImage": new,
    });
    if r.event_name == "MODIFY" {
        change["OldImage"] = result_image(&r.marathon, &r.runner, &r.runner_name, 100, r.version - 1);
    }
    json!({
        "eventID": ulid::Ulid::new().to_string(), "eventName": r.event_name, "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": local::emulator::REGION, "dynamodb": change,
        "eventSourceARN": format!(
            "arn:aws:dynamodb:{}:{}:table/mrmrthon-RacesTable/stream/2026-01-01T00:00:00.000",
            local::emulator::REGION, local::emulator::ACCOUNT_ID
        ),
    })
}

fn official_record_stream(count: usize) -> Result<Plan> {
    let runner_name = UserName::parse("김민수").map_err(|e| format!("bench runner name: {e:?}"))?;
    Ok(Plan {
        setup: Vec::new(),
        burst: Box::new(move |_| {
            Ok((0..count)
                .map(|i| {
                    let marathon = MarathonId::generate();
                    let records: Vec<Value> = (0..STREAM_BATCH)
                        .map(|j| {
                            stream_record(&Stream {
                                sequence: i * STREAM_BATCH + j + 1,
                                event_name: if j % 2 == 0 { "INSERT" } else { "MODIFY" },
                                marathon: marathon.clone(),
                                runner: UserId::generate(),
                                runner_name: runner_name.clone(),
                                version: 2,
                            })
                        })
                        .collect();
                    json!({ "Records": records }).to_string()
                })
                .collect())
        }),
        describe: format!(
            "DynamoDB stream batches of {STREAM_BATCH} official-result records (INSERT and MODIFY), \
             each published to SNS"
        ),
    })
}

fn sqs_message(body: String, queue: &str) -> Value {
    json!({
        "messageId": ulid::Ulid::new().to_string(),
        "receiptHandle": format!("bench-{}", ulid::Ulid::new()),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1", "SentTimestamp": "1795255200000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795255200050"
        },
        "messageAttributes": {},
        "md5OfBody": "00000000000000000000000000000000",
        "eventSource": "aws:sqs",
        "eventSourceARN": format!(
            "arn:aws:sqs:{}:{}:{queue}", local::emulator::REGION, local::emulator::ACCOUNT_ID
        ),
        "awsRegion": local::emulator::REGION,
    })
}

/// A `result.recorded` envelope for a fresh result of `runner`.
pub fn result_recorded(runner: &UserId, points: u32) -> String {
    let marathon = MarathonId::generate();
    Envelope::new(
        ResultEvent::Recorded(ResultChange {
            result_id: result_id(&marathon, runner),
            marathon_id: marathon,
            marathon_name: "서울 마라톤 2026".into(),
            marathon_date: Some(time::macros::date!(2026 - 11 - 21)),
            runner_id: runner.clone(),
            runner_name: "김민수".into(),
            points,
            version: 1,
            import_id: None,
        }),
        time::OffsetDateTime::now_utc(),
        Some(format!("bench-{}", ulid::Ulid::new())),
    )
    .to_json()
    .expect("a fresh envelope encodes")
}

/// A runner in point-increase's Users table.
pub async fn runner(lab: &Lab, users_table: &str) -> Result<UserId> {
    mint(&users_store(lab, users_table), Role::Runner).await
}

async fn point_increase(lab: &Lab, function: &Function, count: usize) -> Result<Plan> {
    let env = lab.function_env(function)?;
    let runner = runner(lab, required(&env, "USERS_TABLE")?).await?;
    Ok(Plan {
        setup: Vec::new(),
        burst: Box::new(move |_| {
            Ok((0..count)
                .map(|_| {
                    let records: Vec<Value> = (0..QUEUE_BATCH)
                        .map(|_| sqs_message(result_recorded(&runner, 110), "mrmrthon-PointIncreaseQueue"))
                        .collect();
                    json!({ "Records": records }).to_string()
                })
                .collect())
        }),
        describe: format!(
            "SQS batches of {QUEUE_BATCH} result.recorded envelopes (fresh results of one runner): \
             ledger transaction, points.awarded publish, mark notified"
        ),
    })
}

fn discord_webhook(count: usize) -> Result<Plan> {
    let sample_event: Value = serde_json::from_str(&sample("discord-webhook", "points-awarded.json")?)
        .map_err(|e| format!("events/discord-webhook/points-awarded.json: {e}"))?;
    let template = sample_event["Records"]
        .get(0)
        .cloned()
        .ok_or("events/discord-webhook/points-awarded.json has no record")?;
    let body: Value = template["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .ok_or("events/discord-webhook/points-awarded.json: the body is not JSON")?;
    // versions above any an earlier plan in this process used (a plan's bursts stay under
    // 1,000 messages a millisecond apart)
    let base = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as u64 * 1000;
    Ok(Plan {
        setup: Vec::new(),
        burst: Box::new(move |_| {
            Ok((0..count)
                .map(|i| {
                    let records: Vec<Value> = (0..QUEUE_BATCH)
                        .map(|j| {
                            // a fresh event and result version each time, so that idempotency
                            // lets every one through to the (stand-in) Discord
                            let mut body = body.clone();
                            body["id"] = json!(ulid::Ulid::new().to_string());
                            body["data"]["result_version"] = json!(base + (i * QUEUE_BATCH + j) as u64);
                            let mut record = template.clone();
                            record["messageId"] = json!(ulid::Ulid::new().to_string());
                            record["body"] = json!(body.to_string());
                            record
                        })
                        .collect();
                    json!({ "Records": records }).to_string()
                })
                .collect())
        }),
        describe: format!(
            "SQS batches of {QUEUE_BATCH} points.awarded messages (events/discord-webhook/points-awarded.json \
             with fresh ids and versions), posted to a local Discord stand-in"
        ),
    })
}

fn log_mailer(count: usize) -> Result<Plan> {
    let all = samples("log-mailer")?;
    if all.is_empty() {
        return Err(format!(
            "no sample events in {}",
            Path::new("events/log-mailer").display()
        ));
    }
    Ok(Plan {
        setup: Vec::new(),
        burst: Box::new(move |_| Ok((0..count).map(|i| all[i % all.len()].clone()).collect())),
        describe: "events/log-mailer/*.json in turn, as they are (repeats are idempotent no-ops after the \
                   first of each)"
            .into(),
    })
}
