//! Handler CPU per API request and per stream/queue record, in-process, ports in memory so
//! that I/O is excluded. `mrmrthon-bench all` runs this and reads criterion's estimates;
//! the groups and ids here are the ones `src/cpu.rs` lists.
//!
//! Budgets (docs/DESIGN.md): at most 50 µs per API request, at most 10 µs per record.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::EventRecord;
use axum::Router;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use domain::activity::ActivityEntry;
use domain::entry::Entry;
use domain::events::{Envelope, PointsAwarded, PointsEvent, ResultChange, ResultEvent};
use domain::lockout::LockoutPolicy;
use domain::marathon::{Marathon, MarathonId};
use domain::memory::MemoryUsers;
use domain::paging::{Page, PageRequest};
use domain::points::{Award, AwardChange, award_change};
use domain::ports::{MarathonFilter, PointsStore, RaceStore, StoreError, UserStore};
use domain::record::Record;
use domain::result::{OfficialResult, result_id};
use domain::{Role, SystemClock, UserId, UserName};
use http_body_util::BodyExt;
use infra::passwords::Passwords;
use infra::tokens::{TokenConfig, TokenSigner, TokenVerifier};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;

const ISSUER: &str = "https://auth.mrmrthon.dev";
const AUDIENCE: &str = "mrmrthon-api";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn sample(function: &str, file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(function)
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// What the Lambda runtime does per request, less the network: the API Gateway v2 event
/// JSON into a request, the router, the response body collected.
async fn call(router: &Router, event: &str) -> (u16, axum::body::Bytes) {
    let request = lambda_http::request::from_str(event).expect("a valid API Gateway v2 event");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("routers are infallible");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, body)
}

fn with_body(event: &str, body: &Value) -> String {
    let mut event: Value = serde_json::from_str(event).expect("a JSON event");
    event["body"] = json!(body.to_string());
    event.to_string()
}

fn login(c: &mut Criterion) {
    let rt = runtime();
    let (private_pem, _) = local::provision::generate_key_pair().expect("a key pair");
    let signer = TokenSigner::from_pkcs8_pem(&private_pem, TokenConfig::new(ISSUER, AUDIENCE)).expect("key");
    let auth = login::Auth {
        users: Arc::new(MemoryUsers::default()),
        verifier: TokenVerifier::from_jwks(signer.jwks(), TokenConfig::new(ISSUER, AUDIENCE)).expect("key"),
        signer,
        passwords: Passwords::default(),
        clock: Arc::new(SystemClock),
        lockout: LockoutPolicy::default(),
        sources: Arc::new(domain::memory::MemorySources::default()),
        source_policy: domain::source_throttle::SourcePolicy::default(),
        session_lifetime: domain::refresh::SESSION_LIFETIME,
    };
    let router = login::router(Arc::new(auth));
    let jwks = sample("login", "jwks.json");
    let invalid = with_body(
        &sample("login", "signup.json"),
        &json!({ "email": "not-an-email", "password": "short", "name": "", "user_type": "admin" }),
    );
    assert_eq!(rt.block_on(call(&router, &jwks)).0, 200);
    assert_eq!(rt.block_on(call(&router, &invalid)).0, 400);

    let mut group = c.benchmark_group("login");
    group.bench_function("jwks-get", |b| {
        b.iter(|| rt.block_on(call(&router, black_box(&jwks))))
    });
    group.bench_function("signup-invalid", |b| {
        b.iter(|| rt.block_on(call(&router, black_box(&invalid))))
    });
    // For information only (no budget): argon2id is deliberately slow.
    assert_eq!(rt.block_on(call(&router, &sample("login", "signup.json"))).0, 201);
    let login = sample("login", "login.json");
    assert_eq!(rt.block_on(call(&router, &login)).0, 200);
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.bench_function("login-argon2", |b| {
        b.iter(|| rt.block_on(call(&router, black_box(&login))))
    });
    group.finish();
}

/// record-api has no in-memory Races store: this one accepts new records and refuses the
/// rest, which the measured route never reaches.
struct StubRaces;

fn not_here() -> StoreError {
    StoreError::Unavailable("not in the bench stub".into())
}

#[async_trait]
impl RaceStore for StubRaces {
    async fn create_marathon(&self, _: &Marathon, _: &ActivityEntry) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn marathon(&self, _: &MarathonId) -> Result<Option<Marathon>, StoreError> {
        Err(not_here())
    }
    async fn list_marathons(
        &self,
        _: &MarathonFilter,
        _: &PageRequest,
    ) -> Result<Page<Marathon>, StoreError> {
        Err(not_here())
    }
    async fn update_marathon(&self, _: &Marathon, _: u64, _: &ActivityEntry) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn register(
        &self,
        _: &Entry,
        _: OffsetDateTime,
        _: &ActivityEntry,
    ) -> Result<Option<domain::race::Bib>, StoreError> {
        Err(not_here())
    }
    async fn set_bib(
        &self,
        _: &MarathonId,
        _: &UserId,
        _: domain::race::Bib,
        _: &ActivityEntry,
    ) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn bib_holder(&self, _: &MarathonId, _: domain::race::Bib) -> Result<Option<UserId>, StoreError> {
        Err(not_here())
    }
    async fn marathon_roster(&self, _: &MarathonId) -> Result<Vec<domain::entry::RosterEntry>, StoreError> {
        Err(not_here())
    }
    async fn ranking(
        &self,
        _: &MarathonId,
        _: Option<&str>,
        _: u32,
    ) -> Result<Page<domain::ports::RankedRow>, StoreError> {
        Err(not_here())
    }
    async fn race_profile(&self, _: &UserId) -> Result<domain::race::RaceProfile, StoreError> {
        Err(not_here())
    }
    async fn set_race_profile(
        &self,
        _: &UserId,
        _: &domain::race::RaceProfile,
        _: &ActivityEntry,
    ) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn race_profiles(
        &self,
        _: &[UserId],
    ) -> Result<Vec<(UserId, domain::race::RaceProfile)>, StoreError> {
        Err(not_here())
    }
    async fn cancel_entry(&self, _: &MarathonId, _: &UserId, _: &ActivityEntry) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn entry(&self, _: &MarathonId, _: &UserId) -> Result<Option<Entry>, StoreError> {
        Err(not_here())
    }
    async fn marathon_entries(&self, _: &MarathonId, _: &PageRequest) -> Result<Page<Entry>, StoreError> {
        Err(not_here())
    }
    async fn runner_entries(&self, _: &UserId, _: &PageRequest) -> Result<Page<Entry>, StoreError> {
        Err(not_here())
    }
    async fn result(&self, _: &MarathonId, _: &UserId) -> Result<Option<OfficialResult>, StoreError> {
        Err(not_here())
    }
    async fn put_result(
        &self,
        _: &OfficialResult,
        _: Option<u64>,
        _: &ActivityEntry,
    ) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn removed_version(&self, _: &MarathonId, _: &UserId) -> Result<Option<u64>, StoreError> {
        Err(not_here())
    }
    async fn delete_result(
        &self,
        _: &MarathonId,
        _: &UserId,
        _: u64,
        _: &ActivityEntry,
    ) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn marathon_results(
        &self,
        _: &MarathonId,
        _: &PageRequest,
    ) -> Result<Page<OfficialResult>, StoreError> {
        Err(not_here())
    }
    async fn runner_results(&self, _: &UserId, _: &PageRequest) -> Result<Page<OfficialResult>, StoreError> {
        Err(not_here())
    }
    async fn create_record(&self, record: &Record, activity: &ActivityEntry) -> Result<(), StoreError> {
        black_box((record, activity));
        Ok(())
    }
    async fn record(&self, _: &UserId, _: &str) -> Result<Option<Record>, StoreError> {
        Err(not_here())
    }
    async fn runner_records(&self, _: &UserId, _: &PageRequest) -> Result<Page<Record>, StoreError> {
        Err(not_here())
    }
    async fn update_record(&self, _: &Record, _: &ActivityEntry) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn delete_record(&self, _: &UserId, _: &str, _: &ActivityEntry) -> Result<(), StoreError> {
        Err(not_here())
    }
}

struct StubImports;

#[async_trait]
impl domain::import::ImportStore for StubImports {
    async fn create(&self, _: &domain::import::Import) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn get(
        &self,
        _: &MarathonId,
        _: &domain::import::ImportId,
    ) -> Result<Option<domain::import::Import>, StoreError> {
        Err(not_here())
    }
    async fn save_dry_run(&self, _: &domain::import::Import) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn begin_commit(
        &self,
        _: &MarathonId,
        _: &domain::import::ImportId,
        _: OffsetDateTime,
    ) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn progress(
        &self,
        _: &MarathonId,
        _: &domain::import::ImportId,
        _: u32,
        _: u32,
        _: OffsetDateTime,
    ) -> Result<(), StoreError> {
        Err(not_here())
    }
    async fn finish(
        &self,
        _: &MarathonId,
        _: &domain::import::ImportId,
        _: OffsetDateTime,
    ) -> Result<(), StoreError> {
        Err(not_here())
    }
}

struct StubPoints;

#[async_trait]
impl domain::ports::LeaderboardStore for StubPoints {
    async fn leaderboard(
        &self,
        _: domain::leaderboard::Season,
        _: &domain::paging::PageRequest,
    ) -> Result<domain::paging::Page<domain::leaderboard::Standing>, StoreError> {
        Err(not_here())
    }
}

#[async_trait]
impl PointsStore for StubPoints {
    async fn total(&self, _: &UserId) -> Result<Option<(domain::PublicProfile, i64)>, StoreError> {
        Err(not_here())
    }
    async fn awards(&self, _: &UserId) -> Result<Vec<Award>, StoreError> {
        Err(not_here())
    }
}

fn record_api(c: &mut Criterion) {
    let rt = runtime();
    let (private_pem, public_pem) = local::provision::generate_key_pair().expect("a key pair");
    let signer = TokenSigner::from_pkcs8_pem(&private_pem, TokenConfig::new(ISSUER, AUDIENCE)).expect("key");
    // record-api refuses the token of an account since deleted: the runner has one
    let runner = UserId::generate();
    let users = MemoryUsers::default();
    rt.block_on(users.create_user(
        &domain::User {
            id: runner.clone(),
            email: domain::Email::parse(&format!("{runner}@example.com").to_lowercase()).expect("an address"),
            name: UserName::parse("Bench Runner").expect("a name"),
            user_type: Role::Runner,
            created_at: OffsetDateTime::now_utc(),
        },
        "hash",
        &ActivityEntry::new(
            runner.clone(),
            domain::activity::ActivityKind::UserSignedUp,
            OffsetDateTime::now_utc(),
            Default::default(),
        ),
    ))
    .expect("the runner's account");
    let api = record_api::Api {
        races: Arc::new(StubRaces),
        users: Arc::new(users),
        points: Arc::new(StubPoints),
        leaderboard: Arc::new(StubPoints),
        // the routes measured here touch no import
        imports: Arc::new(StubImports),
        files: infra::s3::ImportFiles::new(
            aws_sdk_s3::Client::new(
                &aws_config::SdkConfig::builder()
                    .behavior_version(aws_config::BehaviorVersion::latest())
                    .build(),
            ),
            "bench",
        ),
        verifier: TokenVerifier::from_public_pem(&public_pem, TokenConfig::new(ISSUER, AUDIENCE))
            .expect("key"),
        clock: Arc::new(SystemClock),
    };
    let router = record_api::router(Arc::new(api));
    let token = |signer: &TokenSigner| {
        signer
            .issue_access(&runner, Role::Runner, OffsetDateTime::now_utc())
            .expect("a token")
            .token
    };
    let create_with =
        |token: &str| sample("record-api", "create-record.json").replace("RUNNER_ACCESS_TOKEN", token);
    let create = create_with(&token(&signer));
    let (status, body) = rt.block_on(call(&router, &create));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    // Tokens the container has not seen: twice as many as its verifier remembers, used in
    // turn, so that each use finds its token forgotten and verifies it in full.
    let fresh: Vec<String> = (0..2 * infra::tokens::CACHE_CAPACITY)
        .map(|_| token(&signer))
        .collect();
    let fresh_creates: Vec<String> = fresh.iter().map(|t| create_with(t)).collect();

    let verifier =
        TokenVerifier::from_public_pem(&public_pem, TokenConfig::new(ISSUER, AUDIENCE)).expect("key");
    assert!(
        verifier
            .verify_access(&fresh[0], OffsetDateTime::now_utc())
            .is_ok()
    );

    let mut group = c.benchmark_group("record-api");
    // The same runner's token on every request, as an app sends it for its 15 minutes: the
    // verifier serves it from its cache after the first request.
    group.bench_function("create-record", |b| {
        b.iter(|| rt.block_on(call(&router, black_box(&create))))
    });
    // The first request with a token in this container: RS256 verification in full.
    let mut next = fresh_creates.iter().cycle();
    group.bench_function("create-record-new-token", |b| {
        b.iter(|| rt.block_on(call(&router, black_box(next.next().expect("cycles")))))
    });
    // For information: the RS256 verification alone (a token not remembered).
    let mut next = fresh.iter().cycle();
    group.bench_function("verify-token", |b| {
        b.iter(|| verifier.verify_access(black_box(next.next().expect("cycles")), OffsetDateTime::now_utc()))
    });
    group.finish();
}

fn result_image(marathon: &MarathonId, runner: &UserId, points: u32, version: u64) -> Value {
    let now = OffsetDateTime::now_utc();
    let result = OfficialResult {
        marathon_id: marathon.clone(),
        marathon_name: "서울 마라톤 2026".into(),
        marathon_date: now.date(),
        runner_id: runner.clone(),
        runner_name: UserName::parse("김민수").expect("a name"),
        finish_seconds: Some(10_965),
        finish_time: Some("3:02:45".into()),
        bonus_points: 10,
        points,
        version,
        recorded_at: now,
        updated_at: now,
        correlation_id: Some("c0ffee00-1d2e-4f5a-8b9c-0d1e2f3a4b5c".into()),
        status: Default::default(),
        gun_seconds: None,
        splits: Default::default(),
        bib: None,
        category: None,
        import_id: None,
        age_grade: None,
    };
    let mut item: serde_dynamo::Item = serde_dynamo::to_item(&result).expect("an item");
    let s = serde_dynamo::AttributeValue::S;
    item.insert("pk".into(), s(format!("MARATHON#{marathon}")));
    item.insert("sk".into(), s(format!("RESULT#{runner}")));
    item.insert("result_id".into(), s(result_id(marathon, runner)));
    serde_json::to_value(item).expect("JSON")
}

fn official_record_stream(c: &mut Criterion) {
    let (marathon, runner) = (MarathonId::generate(), UserId::generate());
    let new = result_image(&marathon, &runner, 110, 1_795_255_300_000);
    let old = result_image(&marathon, &runner, 100, 1_795_255_200_000);
    let record: EventRecord = serde_json::from_value(json!({
        "eventID": "4f2a6c1e9b7d4e3f8a0b1c2d3e4f5a6b", "eventName": "MODIFY", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795255300.0,
            "Keys": { "pk": new["pk"].clone(), "sk": new["sk"].clone() },
            "NewImage": new, "OldImage": old,
            "SequenceNumber": "111100000000001234567", "SizeBytes": 812, "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/mrmrthon-RacesTable/stream/2026-11-22T00:00:00.000"
    }))
    .expect("a stream record");
    let envelope = official_record_stream::translate::translate(&mut record.clone()).expect("translates");
    assert!(matches!(
        envelope.map(|e| e.event),
        Some(ResultEvent::Corrected(_))
    ));

    let mut group = c.benchmark_group("official-record-stream");
    // the record's copy is setup (the handler owns its records), not measured
    group.bench_function("translate", |b| {
        b.iter_batched(
            || record.clone(),
            |mut record| {
                official_record_stream::translate::translate(black_box(&mut record))
                    .ok()
                    .flatten()
                    .map(|e| e.to_json().ok())
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// point-increase's per-record CPU: its ledger and publisher are I/O, so this is the work
/// around them: the body into an envelope, the points rule, the announcement encoded.
fn decode_award_encode(body: &str, stored: Option<(u32, u64)>) -> Option<String> {
    let envelope = Envelope::<ResultEvent>::parse(body).ok()?;
    let ResultEvent::Recorded(change) = envelope.event else {
        return None;
    };
    let AwardChange::Apply { delta } = award_change(stored, change.points, change.version) else {
        return None;
    };
    let awarded = Envelope::new(
        PointsEvent::Awarded(PointsAwarded {
            runner_id: change.runner_id,
            runner_name: change.runner_name,
            marathon_id: change.marathon_id,
            marathon_name: change.marathon_name,
            result_id: change.result_id,
            delta,
            total: 1_210 + delta,
            result_version: change.version,
            import_id: None,
        }),
        OffsetDateTime::now_utc(),
        envelope.correlation_id,
    );
    awarded.to_json().ok()
}

fn point_increase(c: &mut Criterion) {
    let (marathon, runner) = (MarathonId::generate(), UserId::generate());
    let body = Envelope::new(
        ResultEvent::Recorded(ResultChange {
            result_id: result_id(&marathon, &runner),
            marathon_id: marathon,
            marathon_name: "서울 마라톤 2026".into(),
            marathon_date: Some(time::macros::date!(2026 - 11 - 21)),
            runner_id: runner,
            runner_name: "김민수".into(),
            points: 110,
            version: 1_795_255_300_000,
            import_id: None,
        }),
        OffsetDateTime::now_utc(),
        Some("c0ffee00-1d2e-4f5a-8b9c-0d1e2f3a4b5c".into()),
    )
    .to_json()
    .expect("an envelope");
    assert!(decode_award_encode(&body, Some((100, 1))).is_some());

    let mut group = c.benchmark_group("point-increase");
    group.bench_function("decode-award-encode", |b| {
        b.iter(|| decode_award_encode(black_box(&body), Some((100, 1))))
    });
    group.finish();
}

/// discord-webhook's per-message CPU around its I/O (idempotency claim, HTTP post): the
/// body into an envelope, the Discord message built and encoded.
fn discord_render(body: &str) -> Option<String> {
    let envelope = Envelope::<PointsEvent>::parse(body).ok()?;
    let PointsEvent::Awarded(award) = envelope.event else {
        return None;
    };
    // the links a deployed webhook adds (SITE_URL)
    static SITE: std::sync::LazyLock<Option<infra::site::SiteUrl>> =
        std::sync::LazyLock::new(|| infra::site::SiteUrl::parse("https://mrmrthon.dev"));
    let message = discord_webhook::WebhookMessage::for_award(
        &award,
        envelope.occurred_at,
        Default::default(),
        SITE.as_ref(),
    );
    serde_json::to_string(&message).ok()
}

fn discord_webhook(c: &mut Criterion) {
    let event: Value = serde_json::from_str(&sample("discord-webhook", "points-awarded.json")).expect("JSON");
    let body = event["Records"][0]["body"].as_str().expect("a body").to_owned();
    assert!(discord_render(&body).is_some());

    let mut group = c.benchmark_group("discord-webhook");
    group.bench_function("decode-render-encode", |b| {
        b.iter(|| discord_render(black_box(&body)))
    });
    group.finish();
}

/// log-mailer's per-record CPU around its I/O (recipient reads, idempotency, SES): the new
/// image into an activity entry (taken from the record, as the handler does), the notice,
/// one mail composed.
fn mail_compose(mut record: EventRecord, recipient: &log_mailer::recipients::Recipient) -> Option<usize> {
    let image = std::mem::take(&mut record.change.new_image);
    let entry: ActivityEntry = serde_dynamo::from_item(image).ok()?;
    let notice = log_mailer::notice::Notice::from_entry(&entry).ok()??;
    // the links a deployed mailer adds (SITE_URL)
    static SITE: std::sync::LazyLock<Option<infra::site::SiteUrl>> =
        std::sync::LazyLock::new(|| infra::site::SiteUrl::parse("https://mrmrthon.dev"));
    let mail = log_mailer::compose::compose(
        &notice,
        recipient,
        "kim.runner@example.com",
        "no-reply@mrmrthon.dev",
        Default::default(),
        SITE.as_ref(),
    );
    Some(black_box(mail).subject.len())
}

fn log_mailer(c: &mut Criterion) {
    let event: Value = serde_json::from_str(&sample("log-mailer", "result-recorded.json")).expect("JSON");
    let record: EventRecord = serde_json::from_value(event["Records"][0].clone()).expect("a stream record");
    let recipient = log_mailer::recipients::Recipient {
        user_id: UserId::generate(),
        email: "kim.runner@example.com".into(),
        name: "김민수".into(),
        language: None,
        email_verified: true,
    };
    assert!(mail_compose(record.clone(), &recipient).is_some());

    let mut group = c.benchmark_group("log-mailer");
    // the record's copy is setup (the handler owns its records), not measured
    group.bench_function("decode-compose", |b| {
        b.iter_batched(
            || record.clone(),
            |record| mail_compose(black_box(record), &recipient),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = login, record_api, official_record_stream, point_increase, discord_webhook, log_mailer
}
criterion_main!(benches);
