//! `AWS::SQS::Queue`. CloudFormation names queue properties exactly like SQS attributes
//! (VisibilityTimeout, RedrivePolicy, FifoQueue...), so every property is passed through.

use std::collections::HashMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_yaml::Value;

use super::Created;
use super::attributes::{attributes_except, is_true};
use crate::error::{Error, Result};

/// Properties that are not queue attributes.
const NOT_ATTRIBUTES: &[&str] = &["QueueName", "Tags"];
/// Attributes SQS only accepts when the queue is created.
const CREATE_ONLY: &[&str] = &["FifoQueue"];

pub(super) async fn ensure(
    client: &Client,
    logical_id: &str,
    properties: &Value,
    default_name: String,
) -> Result<Created> {
    let name = match properties.get("QueueName").and_then(Value::as_str) {
        Some(own) => own.to_owned(),
        // CloudFormation's generated FIFO queue names end in .fifo, as SQS requires.
        None if is_true(properties.get("FifoQueue")) => format!("{default_name}.fifo"),
        None => default_name,
    };
    let attributes = attributes_except(logical_id, properties, NOT_ATTRIBUTES)?;

    let url = match existing_url(client, &name).await? {
        Some(url) => {
            // Bring an existing queue in line with the template (idempotent re-runs).
            let mutable: HashMap<QueueAttributeName, String> = attributes
                .iter()
                .filter(|(k, _)| !CREATE_ONLY.contains(&k.as_str()))
                .map(|(k, v)| (QueueAttributeName::from(k.as_str()), v.clone()))
                .collect();
            if !mutable.is_empty() {
                client
                    .set_queue_attributes()
                    .queue_url(&url)
                    .set_attributes(Some(mutable))
                    .send()
                    .await
                    .map_err(|e| Error::aws(format!("SetQueueAttributes {name}"), e))?;
            }
            url
        }
        None => client
            .create_queue()
            .queue_name(&name)
            .set_attributes(Some(
                attributes
                    .iter()
                    .map(|(k, v)| (QueueAttributeName::from(k.as_str()), v.clone()))
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| Error::aws(format!("CreateQueue {name}"), e))?
            .queue_url
            .ok_or_else(|| Error::Aws {
                action: format!("CreateQueue {name}"),
                message: "no queue URL in the response".into(),
            })?,
    };

    let arn = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| Error::aws(format!("GetQueueAttributes {name}"), e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn));
    Ok(Created {
        physical_name: name,
        arn,
        url: Some(url),
        stream_arn: None,
        created: true,
    })
}

async fn existing_url(client: &Client, name: &str) -> Result<Option<String>> {
    match client.get_queue_url().queue_name(name).send().await {
        Ok(out) => Ok(out.queue_url),
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                // Query-compatible SQS reports the legacy code for a missing queue.
                s.is_queue_does_not_exist() || s.code().is_some_and(|c| c.ends_with("NonExistentQueue"))
            }) =>
        {
            Ok(None)
        }
        Err(e) => Err(Error::aws(format!("GetQueueUrl {name}"), e)),
    }
}
