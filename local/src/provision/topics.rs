//! `AWS::SNS::Topic` and `AWS::SNS::Subscription`. Only SQS subscriptions mean something
//! on the emulator (it delivers to its own queues); other protocols are recorded as not
//! created, for the local stack to handle in its own way.

use std::collections::HashMap;

use aws_sdk_sns::Client;
use serde_yaml::Value;

use super::Created;
use super::attributes::{attributes_except, is_true};
use crate::error::{Error, Result};

/// Topic properties that are not topic attributes (or that the emulator has no use for).
const NOT_TOPIC_ATTRIBUTES: &[&str] = &[
    "TopicName",
    "Tags",
    "Subscription",
    "DataProtectionPolicy",
    "DeliveryStatusLogging",
];
/// Subscription properties that are arguments of Subscribe rather than attributes.
const NOT_SUBSCRIPTION_ATTRIBUTES: &[&str] = &["TopicArn", "Protocol", "Endpoint", "Region"];

pub(super) async fn ensure_topic(
    client: &Client,
    logical_id: &str,
    properties: &Value,
    default_name: String,
) -> Result<Created> {
    let name = match properties.get("TopicName").and_then(Value::as_str) {
        Some(own) => own.to_owned(),
        None if is_true(properties.get("FifoTopic")) => format!("{default_name}.fifo"),
        None => default_name,
    };
    let attributes: HashMap<String, String> =
        attributes_except(logical_id, properties, NOT_TOPIC_ATTRIBUTES)?
            .into_iter()
            .collect();
    // CreateTopic returns the existing topic when the name is taken: idempotent as is.
    let arn = client
        .create_topic()
        .name(&name)
        .set_attributes((!attributes.is_empty()).then_some(attributes))
        .send()
        .await
        .map_err(|e| Error::aws(format!("CreateTopic {name}"), e))?
        .topic_arn
        .ok_or_else(|| Error::Aws {
            action: format!("CreateTopic {name}"),
            message: "no topic ARN in the response".into(),
        })?;

    // Inline `Subscription: [{Endpoint, Protocol}]`.
    if let Some(inline) = properties.get("Subscription").and_then(Value::as_sequence) {
        for (i, subscription) in inline.iter().enumerate() {
            let protocol = subscription.get("Protocol").and_then(Value::as_str);
            let endpoint = subscription.get("Endpoint").and_then(Value::as_str);
            match (protocol, endpoint) {
                (Some("sqs"), Some(endpoint)) => {
                    subscribe(client, &arn, "sqs", endpoint).await?;
                }
                (Some(_), Some(_)) => {}
                _ => {
                    return Err(Error::Template(format!(
                        "Resources.{logical_id}.Properties.Subscription[{i}] needs Protocol and Endpoint"
                    )));
                }
            }
        }
    }

    Ok(Created {
        physical_name: name,
        arn: Some(arn),
        url: None,
        stream_arn: None,
        created: true,
    })
}

pub(super) async fn ensure_subscription(
    client: &Client,
    logical_id: &str,
    properties: &Value,
) -> Result<Created> {
    let required = |name: &str| {
        properties
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Template(format!("Resources.{logical_id}.Properties.{name} is required")))
    };
    let topic_arn = required("TopicArn")?;
    let protocol = required("Protocol")?;
    let endpoint = required("Endpoint")?;
    if protocol != "sqs" {
        return Ok(Created {
            physical_name: format!("{topic_arn}:{logical_id}"),
            ..Created::default()
        });
    }

    // Subscribe returns the existing subscription for the same topic, protocol and
    // endpoint, without touching its attributes; so attributes are always set after.
    let arn = subscribe(client, topic_arn, protocol, endpoint).await?;
    let mut attributes: Vec<(String, String)> =
        attributes_except(logical_id, properties, NOT_SUBSCRIPTION_ATTRIBUTES)?
            .into_iter()
            .collect();
    // The filter policy is validated against the scope in force: set the scope first.
    attributes.sort_by_key(|(name, _)| name != "FilterPolicyScope");
    for (name, value) in attributes {
        client
            .set_subscription_attributes()
            .subscription_arn(&arn)
            .attribute_name(&name)
            .attribute_value(value)
            .send()
            .await
            .map_err(|e| Error::aws(format!("SetSubscriptionAttributes {name} on {logical_id}"), e))?;
    }
    Ok(Created {
        physical_name: arn.clone(),
        arn: Some(arn),
        url: None,
        stream_arn: None,
        created: true,
    })
}

async fn subscribe(client: &Client, topic_arn: &str, protocol: &str, endpoint: &str) -> Result<String> {
    let action = || format!("Subscribe {protocol} {endpoint} to {topic_arn}");
    client
        .subscribe()
        .topic_arn(topic_arn)
        .protocol(protocol)
        .endpoint(endpoint)
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| Error::aws(action(), e))?
        .subscription_arn
        .ok_or_else(|| Error::Aws {
            action: action(),
            message: "no subscription ARN in the response".into(),
        })
}
