//! S3 triggers: every `S3` event template.yaml declares on a function (SAM: `Bucket`,
//! `Events`, `Filter`). On AWS, S3 invokes the function asynchronously; Lambda retries a
//! failed invocation twice, then drops the event. The emulator can notify a queue but not
//! run our functions, so locally each trigger is a notification to a queue of its own
//! (`<stack>-<Function>-<Event>-s3`, set on the bucket with the event's events and key
//! filter) and a poller that invokes the function with each message's body, which is the
//! S3 event itself (`{"Records": [...]}`), deletes it once the function succeeded, and
//! after a third failed attempt drops it, loudly. Nothing is named per function.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use serde_yaml::Value;

use crate::error::{Error, Result};
use crate::hops::{Hop, HopKind, Hops, Outcome};
use crate::invoke::Invoker;
use crate::provision::{Function, Provisioned};
use crate::timing::Timing;

pub const S3_EVENT: &str = "S3";
/// The first attempt and Lambda's two retries of an asynchronous invocation.
const ATTEMPTS: u32 = 3;

/// One function's S3 event, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketTrigger {
    pub function: String,
    pub event: String,
    pub bucket: String,
    pub events: Vec<String>,
    /// (name, value) of `Filter.S3Key.Rules`: prefix and suffix.
    pub rules: Vec<(String, String)>,
}

impl BucketTrigger {
    pub fn name(&self) -> String {
        format!("{}.{}", self.function, self.event)
    }
}

/// Every `S3` event of every function, intrinsics resolved.
pub fn triggers(provisioned: &Provisioned) -> Result<Vec<BucketTrigger>> {
    let mut triggers = Vec::new();
    for function in provisioned.functions() {
        for event in function.events.iter().filter(|e| e.kind == S3_EVENT) {
            let at = format!(
                "Resources.{}.Properties.Events.{}.Properties",
                function.logical_id, event.name
            );
            let properties = provisioned.resolve(&event.properties)?;
            let bucket = properties
                .get("Bucket")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Template(format!("{at}: Bucket must name a bucket of the template")))?
                .to_owned();
            let events = match properties.get("Events") {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Sequence(many)) => {
                    many.iter().filter_map(Value::as_str).map(str::to_owned).collect()
                }
                _ => {
                    return Err(Error::Template(format!(
                        "{at}: Events must be an event or a list of them"
                    )));
                }
            };
            let rules = properties
                .get("Filter")
                .and_then(|f| f.get("S3Key"))
                .and_then(|k| k.get("Rules"))
                .and_then(Value::as_sequence)
                .map(|rules| {
                    rules
                        .iter()
                        .filter_map(|r| {
                            Some((
                                r.get("Name")?.as_str()?.to_lowercase(),
                                r.get("Value")?.as_str()?.to_owned(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            triggers.push(BucketTrigger {
                function: function.logical_id.clone(),
                event: event.name.clone(),
                bucket,
                events,
                rules,
            });
        }
    }
    Ok(triggers)
}

pub(super) struct BucketMapping {
    pub trigger: BucketTrigger,
    pub function: Function,
    pub queue_url: String,
    pub invoker: Arc<dyn Invoker>,
    pub sqs: aws_sdk_sqs::Client,
    pub hops: Hops,
    pub timing: Timing,
}

/// Creates each trigger's queue and sets every bucket's notifications (one configuration
/// per bucket: S3 replaces the whole of it at each put). Returns each trigger's queue URL.
pub(super) async fn connect(
    config: &aws_config::SdkConfig,
    stack_name: &str,
    triggers: &[(BucketTrigger, Function)],
) -> Result<Vec<String>> {
    let s3 = aws_sdk_s3::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut urls = Vec::new();
    let mut per_bucket: BTreeMap<String, Vec<QueueConfiguration>> = BTreeMap::new();
    for (trigger, function) in triggers {
        let name = format!("{stack_name}-{}-{}-s3", trigger.function, trigger.event);
        // hidden while the function runs, as Lambda holds an async event
        let visibility = function.timeout.as_secs().max(1).to_string();
        let url = sqs
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility)
            .send()
            .await
            .map_err(|e| Error::aws(format!("CreateQueue {name}"), e))?
            .queue_url
            .unwrap_or_default();
        let arn = format!(
            "arn:aws:sqs:{}:{}:{name}",
            crate::emulator::REGION,
            crate::emulator::ACCOUNT_ID
        );
        let rules: Vec<FilterRule> = trigger
            .rules
            .iter()
            .map(|(rule, value)| {
                FilterRule::builder()
                    .name(FilterRuleName::from(rule.as_str()))
                    .value(value)
                    .build()
            })
            .collect();
        let mut queue = QueueConfiguration::builder()
            .id(trigger.name())
            .queue_arn(arn)
            .set_events(Some(
                trigger.events.iter().map(|e| Event::from(e.as_str())).collect(),
            ));
        if !rules.is_empty() {
            queue = queue.filter(
                NotificationConfigurationFilter::builder()
                    .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                    .build(),
            );
        }
        per_bucket.entry(trigger.bucket.clone()).or_default().push(
            queue
                .build()
                .map_err(|e| Error::Template(format!("{}: {e}", trigger.name())))?,
        );
        urls.push(url);
    }
    for (bucket, queues) in per_bucket {
        s3.put_bucket_notification_configuration()
            .bucket(&bucket)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .set_queue_configurations(Some(queues))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| Error::aws(format!("PutBucketNotificationConfiguration {bucket}"), e))?;
    }
    Ok(urls)
}

/// The emulator leaves out fields AWS always sends (who made the request, from where):
/// filled in, so functions read the event as they do on AWS.
fn as_aws_sends(mut body: serde_json::Value) -> serde_json::Value {
    if let Some(records) = body["Records"].as_array_mut() {
        for record in records.iter_mut().filter_map(|r| r.as_object_mut()) {
            record
                .entry("userIdentity")
                .or_insert_with(|| serde_json::json!({"principalId": "AWS:local"}));
            record
                .entry("requestParameters")
                .or_insert_with(|| serde_json::json!({"sourceIPAddress": "127.0.0.1"}));
            record
                .entry("responseElements")
                .or_insert_with(|| serde_json::json!({}));
        }
    }
    body
}

impl BucketMapping {
    pub async fn run(self: Arc<Self>) {
        loop {
            let wait = self.timing.queue_wait.as_secs().min(20) as i32;
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await;
            let messages = match received {
                Ok(out) => out.messages.unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(trigger = %self.trigger.name(), "ReceiveMessage: {}", aws_sdk_sqs::error::DisplayErrorContext(e));
                    Vec::new()
                }
            };
            if messages.is_empty() {
                // a short poll (under a second) pauses; a long poll has waited already
                if wait == 0 {
                    tokio::time::sleep(self.timing.queue_wait.min(Duration::from_millis(200))).await;
                }
                continue;
            }
            // S3 invokes once per event, each on its own
            for message in messages {
                self.deliver(message).await;
            }
        }
    }

    async fn deliver(&self, message: Message) {
        let body: serde_json::Value = message
            .body()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_default();
        // what S3 sends a queue when its notifications are set; Lambda never sees one
        if body.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
            self.delete(&message).await;
            return;
        }
        let body = as_aws_sends(body);
        let keys: Vec<String> = body["Records"]
            .as_array()
            .map(|records| {
                records
                    .iter()
                    .filter_map(|r| r["s3"]["object"]["key"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let started = std::time::Instant::now();
        let result = self.invoker.invoke(&self.function, body).await;
        let attempts: u32 = message
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let outcome = match &result {
            Ok(_) => {
                self.delete(&message).await;
                Outcome::Ok
            }
            Err(e) if attempts >= ATTEMPTS => {
                eprintln!(
                    "!! S3 trigger {}: {} failed {attempts} times, dropped as Lambda drops it: {e}",
                    self.trigger.name(),
                    keys.join(", ")
                );
                self.delete(&message).await;
                Outcome::Failed(e.to_string())
            }
            // back after the visibility timeout: Lambda's retry
            Err(e) => {
                eprintln!(
                    "!! S3 trigger {}: {} failed (attempt {attempts} of {ATTEMPTS}, retried after {}s): {e}",
                    self.trigger.name(),
                    keys.join(", "),
                    self.function.timeout.as_secs()
                );
                Outcome::Failed(format!("{e} (attempt {attempts} of {ATTEMPTS})"))
            }
        };
        self.hops.record(
            Hop::new(
                HopKind::Queue,
                &self.function.logical_id,
                format!("S3 {}", keys.join(", ")),
            )
            .outcome(outcome)
            .took(started.elapsed()),
        );
    }

    async fn delete(&self, message: &Message) {
        if let Some(handle) = message.receipt_handle()
            && let Err(e) = self
                .sqs
                .delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(handle)
                .send()
                .await
        {
            tracing::warn!(trigger = %self.trigger.name(), "DeleteMessage: {}", aws_sdk_sqs::error::DisplayErrorContext(e));
        }
    }
}
