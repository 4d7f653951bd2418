//! The local stack's data across restarts of `make dev`: a snapshot of every table of the
//! template, the messages waiting in the dead-letter and on-failure queues, and the JWT
//! key pair, kept as one JSON file under `.local/state/`.
//!
//! Why the stack keeps its own state rather than moto's recorder
//! (`MOTO_ENABLE_RECORDING`, `/moto-api/recorder/replay-recording`): the recorder logs
//! every HTTP request and replays them all on start. Replaying re-creates the resources
//! provisioning creates (conflicts), re-runs every `ReceiveMessage`/`DeleteMessage`
//! against messages that no longer exist, re-emits every stream record (so each result
//! would run through the pipeline, award points and post to Discord a second time), and
//! the log only grows. A snapshot made with real SDK calls (Scan, ReceiveMessage,
//! GetSecretValue) is the data itself: it is written back with BatchWriteItem and
//! SendMessage after provisioning, and the stream mappings are then positioned after the
//! records the restore produced (`restore` returns those checkpoints), so restored
//! items do not go through the pipeline again.
//!
//! A snapshot is only taken when the pipeline is settled (see `settled_snapshot`): no
//! stream record read and unfinished, no message on a work queue, and no pipeline hop or stream
//! record between just before and just after the scan. Otherwise an item could be saved
//! whose stream record was never processed, and the restore would skip its effects.
//! Work queues are therefore empty in every snapshot; DLQs and on-failure queues, which
//! nothing consumes, are saved message by message.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::emulator::repo_root;
use crate::error::{Error, Result};
use crate::esm::{Checkpoints, Progress, mapping_specs};
use crate::hops::Hops;
use crate::provision::Provisioned;

/// The snapshot file's format; a file of another version is refused, not misread.
pub const FORMAT: u32 = 1;
const TABLE: &str = "AWS::DynamoDB::Table";
const QUEUE: &str = "AWS::SQS::Queue";
/// BatchWriteItem takes at most 25 puts.
const BATCH_WRITE_LIMIT: usize = 25;
/// Unprocessed items of a BatchWriteItem are retried this many times.
const BATCH_WRITE_ATTEMPTS: u32 = 10;
/// While a DLQ is read, its messages are hidden this long (and shown again right after).
const READ_VISIBILITY_SECONDS: i32 = 5;

/// `<repo>/.local/state`.
pub fn state_dir() -> PathBuf {
    repo_root().join(".local").join("state")
}

/// `<dir>/snapshot.json`.
pub fn snapshot_path(dir: &Path) -> PathBuf {
    dir.join("snapshot.json")
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    /// RFC 3339, when the scan ended.
    pub taken_at: String,
    /// Logical id -> items in DynamoDB JSON (`{"pk": {"S": "..."}}`).
    pub tables: BTreeMap<String, Vec<Value>>,
    /// Logical id of a DLQ or on-failure queue -> its messages.
    pub queues: BTreeMap<String, Vec<SavedMessage>>,
    /// Secret name -> value (the JWT key pair, so tokens stay valid).
    pub secrets: BTreeMap<String, String>,
    /// Where each stream shard's mapping stood when the snapshot was taken. Used when
    /// `make dev` finds the same emulator still running (same stream ARNs): the mappings
    /// resume there, so records written while it was stopped are processed, and records
    /// processed before are not processed again.
    #[serde(default)]
    pub checkpoints: Vec<SavedCheckpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCheckpoint {
    pub stream_arn: String,
    pub shard_id: String,
    pub sequence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedMessage {
    pub body: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, SavedAttribute>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedAttribute {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// Base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

impl Snapshot {
    pub fn item_count(&self) -> usize {
        self.tables.values().map(Vec::len).sum()
    }

    pub fn message_count(&self) -> usize {
        self.queues.values().map(Vec::len).sum()
    }

    /// The saved checkpoints, as the stream mappings take them.
    pub fn stream_checkpoints(&self) -> Checkpoints {
        self.checkpoints
            .iter()
            .map(|c| ((c.stream_arn.clone(), c.shard_id.clone()), c.sequence.clone()))
            .collect()
    }

    /// The file's content; what is compared to tell whether anything changed.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::Process(format!("cannot encode the snapshot: {e}")))
    }

    /// Writes the snapshot atomically (a temporary file renamed over the old one), so a
    /// kill in the middle leaves the previous snapshot whole.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let write = |path: &Path, source| Error::WriteFile {
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| write(dir, e))?;
        let path = snapshot_path(dir);
        let temporary = dir.join("snapshot.json.tmp");
        std::fs::write(&temporary, self.to_json()?).map_err(|e| write(&temporary, e))?;
        std::fs::rename(&temporary, &path).map_err(|e| write(&path, e))
    }

    /// The saved snapshot, None when there is none.
    pub fn load(dir: &Path) -> Result<Option<Snapshot>> {
        let path = snapshot_path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::ReadFile { path, source }),
        };
        let snapshot: Snapshot = serde_json::from_str(&text).map_err(|e| {
            Error::Process(format!(
                "{} is not a snapshot ({e}); `make reset` starts fresh",
                path.display()
            ))
        })?;
        if snapshot.format != FORMAT {
            return Err(Error::Process(format!(
                "{} has format {}, this stack reads {FORMAT}; `make reset` starts fresh",
                path.display(),
                snapshot.format
            )));
        }
        Ok(Some(snapshot))
    }
}

/// What a snapshot reads, derived from the provisioned template.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Logical id -> physical table name.
    tables: BTreeMap<String, String>,
    /// Logical id -> URL of the queues nothing consumes (DLQs, on-failure queues).
    kept_queues: BTreeMap<String, String>,
    /// URLs of the queues an event source mapping consumes; empty when settled.
    work_queues: Vec<String>,
    secrets: Vec<String>,
}

impl Scope {
    pub fn of(provisioned: &Provisioned) -> Result<Scope> {
        let consumed: HashSet<String> = mapping_specs(provisioned)?
            .into_iter()
            .filter(|spec| !spec.is_stream())
            .map(|spec| spec.source_arn)
            .collect();
        let mut scope = Scope {
            tables: BTreeMap::new(),
            kept_queues: BTreeMap::new(),
            work_queues: Vec::new(),
            secrets: Vec::new(),
        };
        for resource in provisioned.resources().filter(|r| r.created) {
            match resource.kind.as_str() {
                TABLE => {
                    scope
                        .tables
                        .insert(resource.logical_id.clone(), resource.physical_name.clone());
                }
                QUEUE => {
                    let Some(url) = resource.url.clone() else { continue };
                    if resource.arn.as_ref().is_some_and(|arn| consumed.contains(arn)) {
                        scope.work_queues.push(url);
                    } else {
                        scope.kept_queues.insert(resource.logical_id.clone(), url);
                    }
                }
                _ => {}
            }
        }
        if let Some(keys) = provisioned.key_pair_secrets() {
            scope.secrets = vec![keys.private_key_secret.clone(), keys.public_key_secret.clone()];
        }
        Ok(scope)
    }
}

/// The SDK clients a snapshot and a restore use.
#[derive(Clone)]
pub struct Clients {
    dynamodb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    sqs: aws_sdk_sqs::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Clients {
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
        }
    }
}

/// Reads everything in `scope` as it is now, settled or not.
pub async fn take(clients: &Clients, scope: &Scope) -> Result<Snapshot> {
    let mut snapshot = Snapshot {
        format: FORMAT,
        ..Snapshot::default()
    };
    for (logical_id, table) in &scope.tables {
        snapshot
            .tables
            .insert(logical_id.clone(), scan(&clients.dynamodb, table).await?);
    }
    for (logical_id, url) in &scope.kept_queues {
        // Usually empty: then no ReceiveMessage, which would count as a receive.
        let depth = queue_depth(&clients.sqs, url).await?;
        let messages = if depth.visible + depth.in_flight + depth.delayed == 0 {
            Vec::new()
        } else {
            peek_messages(&clients.sqs, url).await?
        };
        snapshot.queues.insert(logical_id.clone(), messages);
    }
    for name in &scope.secrets {
        let value = clients
            .secrets
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| Error::aws(format!("GetSecretValue {name}"), e))?;
        if let Some(text) = value.secret_string {
            snapshot.secrets.insert(name.clone(), text);
        }
    }
    snapshot.taken_at = now_rfc3339();
    Ok(snapshot)
}

/// A snapshot of a settled pipeline, or None when work was under way before, during or
/// right after the scan (the caller tries again later). Settled means: no stream record
/// read and not yet done, nothing on a work queue (visible, in flight or delayed), and
/// between just before the scan and the stream pollers' first reads after it, no record
/// matched and no pipeline hop recorded. HTTP hops do not count: a request's writes that
/// start work appear as stream records (the HTTP functions publish nothing), and a
/// client polling the API must not keep the snapshot from ever being taken. `wait`
/// bounds the wait for those reads.
pub async fn settled_snapshot(
    clients: &Clients,
    scope: &Scope,
    progress: &Progress,
    hops: &Hops,
    wait: Duration,
) -> Result<Option<Snapshot>> {
    if progress.unprocessed() > 0 || work_queued(clients, scope).await? > 0 {
        return Ok(None);
    }
    let (matched, hop_count) = (progress.matched(), hops.pipeline_count());
    let snapshot = take(clients, scope).await?;
    // Whatever was written before this mark is read by the pollers' next calls.
    let marks = progress.poll_marks();
    let deadline = Instant::now() + wait;
    while !progress.polled_since(&marks) {
        if Instant::now() > deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Read before the checks: if nothing new was matched, these records are all done.
    let checkpoints = progress.checkpoints();
    let quiet = progress.matched() == matched
        && progress.unprocessed() == 0
        && hops.pipeline_count() == hop_count
        && work_queued(clients, scope).await? == 0;
    Ok(quiet.then(|| Snapshot {
        checkpoints: checkpoints
            .into_iter()
            .map(|((stream_arn, shard_id), sequence)| SavedCheckpoint {
                stream_arn,
                shard_id,
                sequence,
            })
            .collect(),
        ..snapshot
    }))
}

/// Messages on the work queues: visible, in flight and delayed.
pub async fn work_queued(clients: &Clients, scope: &Scope) -> Result<u64> {
    let mut total = 0;
    for url in &scope.work_queues {
        let depth = queue_depth(&clients.sqs, url).await?;
        total += depth.visible + depth.in_flight + depth.delayed;
    }
    Ok(total)
}

/// One queue's approximate counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

pub async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Depth> {
    let output = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .map_err(|e| Error::aws(format!("GetQueueAttributes {url}"), e))?;
    let attributes = output.attributes.unwrap_or_default();
    let count = |name: QueueAttributeName| {
        attributes
            .get(&name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(Depth {
        visible: count(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
    })
}

/// Writes `snapshot` back into a freshly provisioned emulator, then reads every stream
/// of the template to its end: the returned checkpoints position the stream mappings
/// after the records the restore itself produced.
pub async fn restore(
    clients: &Clients,
    provisioned: &Provisioned,
    snapshot: &Snapshot,
) -> Result<Checkpoints> {
    let scope = Scope::of(provisioned)?;
    for (logical_id, items) in &snapshot.tables {
        let Some(table) = scope.tables.get(logical_id) else {
            eprintln!(
                "   state: table {logical_id} is no longer in template.yaml; its items are not restored"
            );
            continue;
        };
        write_items(&clients.dynamodb, table, items)
            .await
            .map_err(|e| Error::Process(format!("restoring table {logical_id}: {e}")))?;
    }
    for (logical_id, messages) in &snapshot.queues {
        let Some(url) = scope.kept_queues.get(logical_id) else {
            eprintln!(
                "   state: queue {logical_id} is no longer a DLQ or on-failure queue of template.yaml; its messages are not restored"
            );
            continue;
        };
        for message in messages {
            send_message(&clients.sqs, url, message).await?;
        }
    }
    for (name, value) in &snapshot.secrets {
        if !scope.secrets.contains(name) {
            continue;
        }
        clients
            .secrets
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .map_err(|e| Error::aws(format!("PutSecretValue {name}"), e))?;
    }
    stream_ends(&clients.streams, provisioned).await
}

/// The last sequence number of every shard of every stream of the template.
pub async fn stream_ends(
    streams: &aws_sdk_dynamodbstreams::Client,
    provisioned: &Provisioned,
) -> Result<Checkpoints> {
    let mut checkpoints = Checkpoints::new();
    for arn in provisioned.resources().filter_map(|r| r.stream_arn.clone()) {
        let described = streams
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .map_err(|e| Error::aws(format!("DescribeStream {arn}"), e))?;
        let shards = described
            .stream_description
            .map(|d| d.shards.unwrap_or_default())
            .unwrap_or_default();
        for shard in shards {
            let Some(shard_id) = shard.shard_id else { continue };
            let action = || format!("reading {arn} {shard_id} to its end");
            let mut iterator = streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&shard_id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| Error::aws(action(), e))?
                .shard_iterator;
            let mut last = None;
            while let Some(current) = iterator {
                let output = streams
                    .get_records()
                    .shard_iterator(current)
                    .limit(1000)
                    .send()
                    .await
                    .map_err(|e| Error::aws(action(), e))?;
                let records = output.records.unwrap_or_default();
                if records.is_empty() {
                    break;
                }
                if let Some(sequence) = records
                    .last()
                    .and_then(|r| r.dynamodb.as_ref())
                    .and_then(|d| d.sequence_number.clone())
                {
                    last = Some(sequence);
                }
                iterator = output.next_shard_iterator;
            }
            if let Some(sequence) = last {
                checkpoints.insert((arn.clone(), shard_id), sequence);
            }
        }
    }
    Ok(checkpoints)
}

async fn scan(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = dynamodb
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| Error::aws(format!("Scan {table}"), e))?;
        for item in output.items.unwrap_or_default() {
            items.push(item_to_json(&item));
        }
        start = output.last_evaluated_key.filter(|k| !k.is_empty());
        if start.is_none() {
            return Ok(items);
        }
    }
}

async fn write_items(dynamodb: &aws_sdk_dynamodb::Client, table: &str, items: &[Value]) -> Result<()> {
    for chunk in items.chunks(BATCH_WRITE_LIMIT) {
        let mut requests = Vec::with_capacity(chunk.len());
        for item in chunk {
            let item = item_from_json(item).map_err(Error::Process)?;
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| Error::Process(format!("an item for {table}: {e}")))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        let mut attempts = 0;
        while !requests.is_empty() {
            attempts += 1;
            if attempts > BATCH_WRITE_ATTEMPTS {
                return Err(Error::Process(format!(
                    "{} items for {table} stayed unprocessed after {BATCH_WRITE_ATTEMPTS} attempts",
                    requests.len()
                )));
            }
            let output = dynamodb
                .batch_write_item()
                .request_items(table, std::mem::take(&mut requests))
                .send()
                .await
                .map_err(|e| Error::aws(format!("BatchWriteItem {table}"), e))?;
            requests = output
                .unprocessed_items
                .and_then(|mut u| u.remove(table))
                .unwrap_or_default();
        }
    }
    Ok(())
}

/// Every message of a queue nothing consumes, left on the queue: received with a short
/// visibility timeout, then made visible again at once.
async fn peek_messages(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Vec<SavedMessage>> {
    let mut saved = Vec::new();
    let mut seen = HashSet::new();
    let mut handles = Vec::new();
    let result = async {
        loop {
            let output = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(READ_VISIBILITY_SECONDS)
                .wait_time_seconds(0)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| Error::aws(format!("ReceiveMessage {url}"), e))?;
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(());
            }
            for message in messages {
                if let Some(handle) = message.receipt_handle.clone() {
                    handles.push(handle);
                }
                if !seen.insert(message.message_id.clone().unwrap_or_default()) {
                    continue;
                }
                let attributes = message
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, value)| {
                        (
                            name,
                            SavedAttribute {
                                data_type: value.data_type,
                                string_value: value.string_value,
                                binary_value: value.binary_value.map(|b| BASE64.encode(b.as_ref())),
                            },
                        )
                    })
                    .collect();
                saved.push(SavedMessage {
                    body: message.body.unwrap_or_default(),
                    attributes,
                });
            }
        }
    }
    .await;
    // Visible again whatever happened above: a snapshot must not hide a DLQ's messages.
    for handle in handles {
        let _ = sqs
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(handle)
            .visibility_timeout(0)
            .send()
            .await;
    }
    result.map(|()| saved)
}

async fn send_message(sqs: &aws_sdk_sqs::Client, url: &str, message: &SavedMessage) -> Result<()> {
    let mut request = sqs.send_message().queue_url(url).message_body(&message.body);
    for (name, attribute) in &message.attributes {
        let binary = match &attribute.binary_value {
            Some(text) => Some(aws_sdk_sqs::primitives::Blob::new(BASE64.decode(text).map_err(
                |e| Error::Process(format!("message attribute {name}: not base64: {e}")),
            )?)),
            None => None,
        };
        let value = MessageAttributeValue::builder()
            .data_type(&attribute.data_type)
            .set_string_value(attribute.string_value.clone())
            .set_binary_value(binary)
            .build()
            .map_err(|e| Error::Process(format!("message attribute {name}: {e}")))?;
        request = request.message_attributes(name, value);
    }
    request
        .send()
        .await
        .map(|_| ())
        .map_err(|e| Error::aws(format!("SendMessage {url}"), e))
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// An item in DynamoDB JSON, the format of the AWS CLI and of stream records.
pub fn item_to_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    let map: Map<String, Value> = item
        .iter()
        .map(|(k, v)| (k.clone(), attribute_to_json(v)))
        .collect();
    Value::Object(map)
}

fn attribute_to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": BASE64.encode(b.as_ref()) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => {
            json!({ "BS": v.iter().map(|b| BASE64.encode(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::L(v) => json!({ "L": v.iter().map(attribute_to_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_to_json(m) }),
        // A type newer than this code: keep its debug form so the loss is visible.
        other => json!({ "S": format!("{other:?}") }),
    }
}

/// The inverse of `item_to_json`; a clear message for anything else.
pub fn item_from_json(
    value: &Value,
) -> std::result::Result<std::collections::HashMap<String, AttributeValue>, String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("an item must be a JSON object, got {value}"))?;
    object
        .iter()
        .map(|(k, v)| {
            attribute_from_json(v)
                .map(|a| (k.clone(), a))
                .map_err(|e| format!("{k}: {e}"))
        })
        .collect()
}

fn attribute_from_json(value: &Value) -> std::result::Result<AttributeValue, String> {
    let object = value.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
        format!("an attribute must be an object with one type key like {{\"S\": \"...\"}}, got {value}")
    })?;
    let (kind, inner) = object.iter().next().ok_or("empty attribute")?;
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{kind} needs a string, got {v}"))
    };
    let list = |v: &Value| {
        v.as_array()
            .cloned()
            .ok_or_else(|| format!("{kind} needs an array, got {v}"))
    };
    let blob = |v: &Value| {
        let t = text(v)?;
        BASE64
            .decode(t)
            .map(Blob::new)
            .map_err(|e| format!("{kind}: not base64: {e}"))
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text(inner)?),
        "N" => AttributeValue::N(text(inner)?),
        "B" => AttributeValue::B(blob(inner)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL needs true or false")?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(
            list(inner)?
                .iter()
                .map(text)
                .collect::<std::result::Result<_, _>>()?,
        ),
        "NS" => AttributeValue::Ns(
            list(inner)?
                .iter()
                .map(text)
                .collect::<std::result::Result<_, _>>()?,
        ),
        "BS" => AttributeValue::Bs(
            list(inner)?
                .iter()
                .map(blob)
                .collect::<std::result::Result<_, _>>()?,
        ),
        "L" => AttributeValue::L(
            list(inner)?
                .iter()
                .map(attribute_from_json)
                .collect::<std::result::Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(item_from_json(inner)?),
        other => return Err(format!("unknown attribute type {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_through_dynamodb_json() {
        let item = std::collections::HashMap::from([
            ("pk".to_owned(), AttributeValue::S("USER#1".into())),
            ("n".to_owned(), AttributeValue::N("42".into())),
            ("b".to_owned(), AttributeValue::B(Blob::new(vec![0, 1, 255]))),
            ("ok".to_owned(), AttributeValue::Bool(true)),
            ("none".to_owned(), AttributeValue::Null(true)),
            (
                "tags".to_owned(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            (
                "nested".to_owned(),
                AttributeValue::M(std::collections::HashMap::from([(
                    "l".to_owned(),
                    AttributeValue::L(vec![
                        AttributeValue::N("1".into()),
                        AttributeValue::S("김".into()),
                    ]),
                )])),
            ),
        ]);
        let json = item_to_json(&item);
        assert_eq!(json["pk"], json!({"S": "USER#1"}));
        assert_eq!(item_from_json(&json).unwrap(), item);
    }

    #[test]
    fn malformed_items_are_errors_not_panics() {
        assert!(item_from_json(&json!([])).is_err());
        assert!(item_from_json(&json!({"a": "plain"})).is_err());
        assert!(item_from_json(&json!({"a": {"S": 1}})).is_err());
        assert!(item_from_json(&json!({"a": {"X": "1"}})).is_err());
        assert!(item_from_json(&json!({"a": {"B": "***"}})).is_err());
        assert!(item_from_json(&json!({"a": {"S": "x", "N": "1"}})).is_err());
    }

    #[test]
    fn a_snapshot_of_another_format_is_refused() {
        let dir = std::env::temp_dir().join(format!("mrmrthon-state-{}", std::process::id()));
        let snapshot = Snapshot {
            format: FORMAT + 1,
            ..Snapshot::default()
        };
        snapshot.save(&dir).unwrap();
        let error = Snapshot::load(&dir).unwrap_err().to_string();
        assert!(error.contains("make reset"), "{error}");
        std::fs::write(snapshot_path(&dir), "not json").unwrap();
        assert!(Snapshot::load(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(Snapshot::load(&dir).unwrap(), None);
    }
}
