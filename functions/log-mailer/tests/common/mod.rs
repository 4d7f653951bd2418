//! The world the handler tests run in: the emulator provisioned from template.yaml, users
//! and marathons written through the real stores, stream records built from the sample
//! events in events/log-mailer/ and from items as they are stored, and the mail the
//! emulator's SES kept (GET /moto-api/data.json: `ses.RawMessage`, the MIME message as
//! sent, read with mail-parser).

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::activity::{ActivityDetails, ActivityEntry, ActivityKind, MarathonDetails, RequestOrigin};
use domain::entry::Entry;
use domain::marathon::{Course, Marathon, MarathonId, MarathonStatus};
use domain::ports::{RaceStore, UserStore};
use domain::{Email, Role, User, UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoRaces, DynamoUsers};
use log_mailer::compose::Mail;
use log_mailer::send::{Backoff, MailPort, SendError};
use log_mailer::{Limits, Mailer, Settings};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

pub struct World {
    pub stack: &'static local::Stack,
    pub sdk: aws_config::SdkConfig,
    pub settings: Settings,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub users: DynamoUsers,
    pub races: DynamoRaces,
    pub activity: ActivityLog,
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new()).to_lowercase()
}

impl World {
    pub async fn new() -> World {
        let stack = local::Stack::shared();
        let provisioned = stack.provisioned();
        let env = provisioned
            .function_env("LogMailerFunction")
            .expect("LogMailerFunction is in template.yaml");
        let settings = Settings::from_lookup(|name| env.get(name).cloned())
            .expect("template.yaml gives log-mailer its settings");
        let sdk = stack.sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let activity = ActivityLog {
            table: provisioned
                .physical_name("ActivityLogTable")
                .expect("ActivityLogTable in template.yaml")
                .to_owned(),
            retention: Duration::days(400),
        };
        let world = World {
            users: DynamoUsers::new(dynamo.clone(), &settings.users_table, activity.clone()),
            races: DynamoRaces::new(dynamo.clone(), &settings.races_table, activity.clone()),
            stack,
            sdk,
            settings,
            dynamo,
            activity,
        };
        world.verify_identity(&world.settings.sender).await;
        world
    }

    /// The emulator sends only from a verified identity (in AWS: verified once per
    /// account and region, see the report).
    pub async fn verify_identity(&self, address: &str) {
        aws_sdk_ses::Client::new(&self.sdk)
            .verify_email_identity()
            .email_address(address)
            .send()
            .await
            .expect("VerifyEmailIdentity");
    }

    /// The mailer as `main` builds it, with quick backoff so retries cost milliseconds.
    pub async fn mailer(&self, tweak: impl FnOnce(&mut Limits)) -> Mailer {
        let mut settings = self.settings.clone();
        settings.limits.backoff = Backoff {
            first: std::time::Duration::from_millis(2),
            max: std::time::Duration::from_millis(20),
            attempts: 6,
        };
        tweak(&mut settings.limits);
        Mailer::connect(&self.sdk, &settings).await
    }

    /// A user with a profile whose address is verified: signed up through the Users store
    /// (as login's signup writes it), then verified.
    pub async fn user(&self, name: &str) -> (UserId, String) {
        let (id, email) = self.unverified_user(name).await;
        self.set_verified(&id, true).await;
        (id, email)
    }

    /// Sets the profile's `email_verified` flag, as completing the mailed link does.
    pub async fn set_verified(&self, user: &UserId, verified: bool) {
        self.dynamo
            .update_item()
            .table_name(&self.settings.users_table)
            .key("pk", AttributeValue::S(format!("USER#{user}")))
            .key("sk", AttributeValue::S("PROFILE".into()))
            .update_expression("SET email_verified = :v")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":v", AttributeValue::Bool(verified))
            .send()
            .await
            .expect("set email_verified");
    }

    /// A user as signup leaves them: the address not verified yet.
    pub async fn unverified_user(&self, name: &str) -> (UserId, String) {
        let email = format!("{}@example.com", unique("runner"));
        let user = User {
            id: UserId::generate(),
            email: Email::parse(&email).unwrap(),
            name: UserName::parse(name).unwrap(),
            user_type: Role::Runner,
            created_at: OffsetDateTime::now_utc(),
        };
        let signup = ActivityEntry::new(
            user.id.clone(),
            ActivityKind::UserSignedUp,
            user.created_at,
            RequestOrigin::default(),
        );
        self.users
            .create_user(&user, "not-a-real-hash", &signup)
            .await
            .expect("create user");
        (user.id, email)
    }

    /// Overwrites one attribute of a profile (data the API would refuse, e.g. legacy rows).
    pub async fn set_profile(&self, user: &UserId, attribute: &str, value: &str) {
        self.dynamo
            .update_item()
            .table_name(&self.settings.users_table)
            .key("pk", AttributeValue::S(format!("USER#{user}")))
            .key("sk", AttributeValue::S("PROFILE".into()))
            .update_expression("SET #a = :v")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":v", AttributeValue::S(value.into()))
            .send()
            .await
            .expect("update profile");
    }

    /// A marathon with `runners` registered through the Races store (as record-api does).
    pub async fn marathon(&self, organizer: &UserId, name: &str, runners: &[UserId]) -> Marathon {
        let now = OffsetDateTime::now_utc();
        let marathon = Marathon {
            id: MarathonId::generate(),
            organizer_id: organizer.clone(),
            name: name.into(),
            date: (now + Duration::days(30)).date(),
            location: "Gwanghwamun".into(),
            course: Course::Full,
            distance_m: 42_195,
            points: 100,
            dnf_points: 0,
            capacity: 5_000,
            entry_count: 0,
            result_count: 0,
            registration_closes_at: now + Duration::days(20),
            status: MarathonStatus::Open,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let created = ActivityEntry::new(
            organizer.clone(),
            ActivityKind::MarathonCreated,
            now,
            RequestOrigin::default(),
        );
        self.races
            .create_marathon(&marathon, &created)
            .await
            .expect("create marathon");
        for runner in runners {
            self.register(&marathon, runner).await;
        }
        marathon
    }

    pub async fn register(&self, marathon: &Marathon, runner: &UserId) {
        let now = OffsetDateTime::now_utc();
        let entry = Entry {
            marathon_id: marathon.id.clone(),
            runner_id: runner.clone(),
            runner_name: UserName::parse("Runner").unwrap(),
            marathon_name: marathon.name.clone(),
            marathon_date: marathon.date,
            registered_at: now,
            bib: None,
        };
        let log = ActivityEntry::new(
            runner.clone(),
            ActivityKind::EntryRegistered,
            now,
            RequestOrigin::default(),
        );
        self.races.register(&entry, now, &log).await.expect("register");
    }

    /// Cancels the marathon as record-api does (status, version, the activity entry in
    /// the same transaction) and returns the entry, read back from the ActivityLog table.
    pub async fn cancel(&self, marathon: &Marathon) -> serde_dynamo::Item {
        self.change_marathon(marathon, ActivityKind::MarathonCancelled)
            .await
    }

    pub async fn change_marathon(&self, marathon: &Marathon, kind: ActivityKind) -> serde_dynamo::Item {
        self.edit_marathon(marathon, kind, &[], OffsetDateTime::now_utc())
            .await
    }

    /// An edit as record-api writes it, logged at `at`, naming the fields it `changes`.
    pub async fn edit_marathon(
        &self,
        marathon: &Marathon,
        kind: ActivityKind,
        changes: &[&str],
        at: OffsetDateTime,
    ) -> serde_dynamo::Item {
        let current = self
            .races
            .marathon(&marathon.id)
            .await
            .unwrap()
            .expect("marathon exists");
        let now = at;
        let changed = Marathon {
            status: if kind == ActivityKind::MarathonCancelled {
                MarathonStatus::Cancelled
            } else {
                current.status
            },
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let entry = ActivityEntry::new(
            marathon.organizer_id.clone(),
            kind,
            now,
            RequestOrigin {
                source_ip: Some("198.51.100.9".into()),
                user_agent: Some("test".into()),
                correlation_id: Some(unique("cid")),
            },
        )
        .with_details(ActivityDetails::Marathon(MarathonDetails {
            marathon_id: changed.id.clone(),
            marathon_name: changed.name.clone(),
            date: changed.date,
            changes: changes.iter().map(|c| (*c).to_owned()).collect(),
        }));
        self.races
            .update_marathon(&changed, current.version, &entry)
            .await
            .expect("update marathon");
        self.stored_entry(&entry).await
    }

    /// An activity entry as the ActivityLog table holds it.
    pub async fn stored_entry(&self, entry: &ActivityEntry) -> serde_dynamo::Item {
        let item = self
            .dynamo
            .get_item()
            .table_name(&self.activity.table)
            .key("pk", AttributeValue::S(format!("USER#{}", entry.actor)))
            .key("sk", AttributeValue::S(format!("LOG#{}", entry.id)))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .expect("the store wrote the activity entry");
        item.into()
    }

    /// The continuations written for an entry, part 1 first, as their stream images.
    pub async fn parts(&self, entry_image: &serde_dynamo::Item) -> Vec<serde_dynamo::Item> {
        let Some(serde_dynamo::AttributeValue::S(id)) = entry_image.get("id") else {
            panic!("an entry image has an id");
        };
        self.dynamo
            .query()
            .table_name(&self.activity.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("MAIL#{id}")))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// The entry's item exactly as infra's ActivityLog builds it.
    pub fn item(&self, entry: &ActivityEntry) -> serde_dynamo::Item {
        self.activity.item(entry).expect("an entry item").into()
    }

    /// Everything the emulator's SES sent so far. The dump walks every model of every
    /// service; when other tests write meanwhile it can fail (a 500), so it is read again,
    /// a bounded number of times.
    pub async fn outbox(&self) -> Vec<Sent> {
        let mut last = String::new();
        let mut dump = None;
        for _ in 0..20 {
            let endpoint = self.stack.endpoint().to_owned();
            let response =
                tokio::task::spawn_blocking(move || local::moto_api::get(&endpoint, "/moto-api/data.json"))
                    .await
                    .unwrap()
                    .expect("the emulator answers");
            if response.is_success() {
                dump = Some(serde_json::from_slice::<Value>(&response.body).expect("data.json is JSON"));
                break;
            }
            let body = String::from_utf8_lossy(&response.body);
            let title = body
                .split_once("<title>")
                .and_then(|(_, rest)| rest.split_once("</title>"))
                .map_or(body.as_ref(), |(title, _)| title);
            last = format!(
                "{}: {}",
                response.status,
                title.chars().take(300).collect::<String>()
            );
            eprintln!("data.json failed, reading it again: {last}");
            tokio::task::yield_now().await;
        }
        let dump = dump.unwrap_or_else(|| panic!("data.json kept failing: {last}"));
        dump["ses"]["RawMessage"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|m| Sent::parse(m["raw_data"].as_str().unwrap_or_default()))
            .collect()
    }

    /// What was sent to `address`.
    pub async fn mail_to(&self, address: &str) -> Vec<Sent> {
        self.outbox()
            .await
            .into_iter()
            .filter(|m| m.to.iter().any(|to| bare(to) == address))
            .collect()
    }

    /// How many mails each address got.
    pub async fn counts(&self, addresses: &[String]) -> Vec<usize> {
        let outbox = self.outbox().await;
        addresses
            .iter()
            .map(|a| {
                outbox
                    .iter()
                    .filter(|m| m.to.iter().any(|to| bare(to) == a))
                    .count()
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Sent {
    /// The From header, decoded: `"name" <address>`.
    pub source: String,
    /// The To header's mailboxes, decoded: `"name" <address>` or a bare address.
    pub to: Vec<String>,
    /// Decoded.
    pub subject: String,
    /// The HTML part.
    pub body: String,
    /// The plain-text part.
    pub text: String,
    /// The body's MIME type, e.g. `multipart/alternative`.
    pub content_type: String,
}

impl Sent {
    /// A raw message as the emulator's SendRawEmail kept it, read with a MIME parser.
    pub fn parse(raw: &str) -> Sent {
        use mail_parser::MimeHeaders;
        let message = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap_or_else(|| panic!("an unparsable mail: {raw}"));
        let mailbox = |a: &mail_parser::Addr<'_>| match a.name() {
            Some(name) => format!("\"{name}\" <{}>", a.address().unwrap_or_default()),
            None => a.address().unwrap_or_default().to_owned(),
        };
        let content_type = message
            .content_type()
            .map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()))
            .unwrap_or_default();
        Sent {
            source: message
                .from()
                .and_then(|a| a.first())
                .map(mailbox)
                .unwrap_or_default(),
            to: message
                .to()
                .map(|a| a.iter().map(mailbox).collect())
                .unwrap_or_default(),
            subject: message.subject().unwrap_or_default().to_owned(),
            body: message.body_html(0).map(|b| b.into_owned()).unwrap_or_default(),
            text: message.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
            content_type,
        }
    }
}

/// `a@b` out of `Name <a@b>`.
pub fn bare(mailbox: &str) -> &str {
    match mailbox.rsplit_once('<') {
        Some((_, rest)) => rest.trim_end_matches('>'),
        None => mailbox,
    }
}

/// The display name of `"name" <a@b>` (decoded already by `Sent::parse`).
pub fn display_name(mailbox: &str) -> String {
    let (name, _) = mailbox.rsplit_once('<').unwrap_or(("", mailbox));
    name.trim().trim_matches('"').to_owned()
}

/// A sample from events/log-mailer/.
pub fn sample(name: &str) -> Event {
    let path = format!("{}/../../events/log-mailer/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{path} is not a DynamoDB stream event: {e}"))
}

/// The sample's first record, with `image` as its new image, a fresh event id and a
/// sequence number of its own.
pub fn record(sample_name: &str, image: serde_dynamo::Item) -> EventRecord {
    let mut record = sample(sample_name).records.remove(0);
    let keys: std::collections::HashMap<String, serde_dynamo::AttributeValue> = ["pk", "sk"]
        .iter()
        .filter_map(|k| image.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    record.change.keys = keys.into();
    record.change.new_image = image;
    record.event_id = unique("event");
    record.change.sequence_number = Some(next_sequence());
    record
}

pub fn next_sequence() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("14054{:020}", NEXT.fetch_add(1, Ordering::SeqCst))
}

/// The sample's activity entry with its ids replaced (fresh entry id, given runner).
pub fn sample_entry(sample_name: &str, actor: &UserId, runner: Option<&UserId>) -> ActivityEntry {
    let image = sample(sample_name).records.remove(0).change.new_image;
    let mut entry: ActivityEntry = serde_dynamo::from_item(image).expect("the sample is an activity entry");
    entry.id = ulid::Ulid::new().to_string();
    entry.actor = actor.clone();
    entry.origin.correlation_id = Some(unique("cid"));
    if let Some(runner) = runner {
        entry.details["runner_id"] = json!(runner);
    }
    entry
}

pub fn event(records: Vec<EventRecord>) -> Event {
    let mut event = Event::default();
    event.records = records;
    event
}

pub fn lambda(event: Event, deadline: Option<OffsetDateTime>) -> lambda_runtime::LambdaEvent<Event> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = unique("request");
    context.deadline = deadline.map_or(0, |d| (d.unix_timestamp_nanos() / 1_000_000) as u64);
    lambda_runtime::LambdaEvent::new(event, context)
}

/// The sequence numbers a response names as failed.
pub fn failed(response: &aws_lambda_events::streams::DynamoDbEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().expect("never a null identifier"))
        .collect()
}

pub fn sequence(record: &EventRecord) -> String {
    record.change.sequence_number.clone().unwrap()
}

/// Wraps the real SES adapter: the first `throttle` sends fail as SES throttling does,
/// sends to `reject` fail as rejected recipients, and every call is counted.
pub struct Flaky {
    pub inner: Arc<dyn MailPort>,
    pub throttle: AtomicUsize,
    pub reject: Option<String>,
    pub calls: AtomicUsize,
    pub throttled: AtomicUsize,
    pub rejected: AtomicUsize,
    /// Moved forward one second per send, when set (a clock the deadline is read from).
    pub tick: Option<Arc<domain::memory::ManualClock>>,
}

impl Flaky {
    pub fn around(inner: Arc<dyn MailPort>) -> Flaky {
        Flaky {
            inner,
            throttle: AtomicUsize::new(0),
            reject: None,
            calls: AtomicUsize::new(0),
            throttled: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            tick: None,
        }
    }
}

#[async_trait]
impl MailPort for Flaky {
    async fn send(&self, mail: &Mail) -> Result<String, SendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(clock) = &self.tick {
            clock.advance(Duration::seconds(1));
        }
        if self
            .throttle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            self.throttled.fetch_add(1, Ordering::SeqCst);
            return Err(SendError::Throttled(
                "Throttling: Maximum sending rate exceeded.".into(),
            ));
        }
        if self.reject.as_deref().is_some_and(|r| bare(&mail.to) == r) {
            self.rejected.fetch_add(1, Ordering::SeqCst);
            return Err(SendError::Rejected(format!(
                "MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: {}",
                bare(&mail.to)
            )));
        }
        self.inner.send(mail).await
    }
}

/// MailRetryQueue in memory: what was deferred, in order; `fail` refuses every mail.
#[derive(Default)]
pub struct MemoryMailQueue {
    pub mails: std::sync::Mutex<Vec<(log_mailer::deferred::DeferredMail, std::time::Duration)>>,
    pub fail: std::sync::atomic::AtomicBool,
}

impl MemoryMailQueue {
    /// Everything deferred so far as one SQS batch (message ids m0, m1...), emptied.
    pub fn take_batch(&self) -> aws_lambda_events::event::sqs::SqsEvent {
        let mails = std::mem::take(&mut *self.mails.lock().unwrap());
        let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
        event.records = mails
            .into_iter()
            .enumerate()
            .map(|(i, (mail, _))| {
                let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
                message.message_id = Some(format!("m{i}"));
                message.body = Some(serde_json::to_string(&mail).unwrap());
                message.event_source = Some("aws:sqs".into());
                message
            })
            .collect();
        event
    }
}

#[async_trait]
impl log_mailer::deferred::MailQueue for MemoryMailQueue {
    async fn defer(
        &self,
        mail: &log_mailer::deferred::DeferredMail,
        delay: std::time::Duration,
    ) -> Result<(), String> {
        if self.fail.load(Ordering::SeqCst) {
            return Err("the retry queue is unavailable".into());
        }
        self.mails.lock().unwrap().push((mail.clone(), delay));
        Ok(())
    }
}
