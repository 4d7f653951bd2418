//! Creates on the emulator what template.yaml declares, in dependency order, and
//! remembers the physical names, ARNs and URLs so that intrinsics (function environments,
//! event sources) resolve the way CloudFormation would resolve them in AWS.
//!
//! Provisioning is idempotent: running it again against a provisioned emulator finds
//! what exists and returns the same result. Resource types with no meaning on the
//! emulator (functions, HTTP APIs, alarms, policies) are recorded, not created.

mod attributes;
mod buckets;
pub(crate) mod flexible;
mod jwt_keys;
mod order;
mod provisioned;
mod queues;
mod tables;
mod topics;

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use serde_yaml::Value;

use crate::error::{Error, Result};
use crate::intrinsics::scalar_to_string;
use crate::template::Template;
use order::creation_order;

pub use jwt_keys::{PRIVATE_KEY_LABEL, PUBLIC_KEY_LABEL, generate as generate_key_pair};
pub use provisioned::{Function, KeyPairSecrets, Provisioned, Resource};

const TABLE: &str = "AWS::DynamoDB::Table";
const QUEUE: &str = "AWS::SQS::Queue";
const TOPIC: &str = "AWS::SNS::Topic";
const SUBSCRIPTION: &str = "AWS::SNS::Subscription";
pub(crate) const BUCKET: &str = "AWS::S3::Bucket";

/// Lambda's default function timeout.
const DEFAULT_FUNCTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The property that holds a resource's own name, per type; without it the local
/// physical name is `{stack}-{LogicalId}`.
const NAME_PROPERTIES: &[(&str, &str)] = &[
    (TABLE, "TableName"),
    (QUEUE, "QueueName"),
    (TOPIC, "TopicName"),
    (BUCKET, "BucketName"),
    ("AWS::Serverless::Function", "FunctionName"),
    ("AWS::Lambda::Function", "FunctionName"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub stack_name: String,
    /// Parameter values that replace the template's defaults.
    pub parameters: BTreeMap<String, String>,
    /// The Discord sink's webhook URL, stored in the secret that
    /// `Metadata.mrmrthon::local.DiscordSink` names (when the template has one).
    pub discord_webhook_url: Option<String>,
}

impl Options {
    pub fn new(stack_name: impl Into<String>) -> Options {
        Options {
            stack_name: stack_name.into(),
            parameters: BTreeMap::new(),
            discord_webhook_url: None,
        }
    }
}

/// Provisions `template` on the emulator `config` points at.
pub async fn provision(config: &SdkConfig, template: &Template, options: &Options) -> Result<Provisioned> {
    let clients = Clients::new(config);
    let mut provisioned = Provisioned {
        stack_name: options.stack_name.clone(),
        parameters: parameter_values(template, options)?,
        conditions: BTreeMap::new(),
        resources: BTreeMap::new(),
        functions: Vec::new(),
        key_pair: None,
        discord_webhook_secret: None,
        ses_identities: Vec::new(),
    };

    for name in template.conditions.keys() {
        let holds = crate::conditions::holds(template, name, &provisioned)?;
        provisioned.conditions.insert(name.clone(), holds);
    }

    // Buckets exist locally only as the sources of functions' S3 triggers (the site's
    // bucket is CloudFront's, played by the gateway).
    let notifying = notifying_buckets(template)?;
    for logical_id in creation_order(template)? {
        let declared = &template.resources[&logical_id];
        // As in CloudFormation, a resource whose condition is false does not exist.
        if let Some(condition) = &declared.condition
            && !crate::conditions::holds(template, condition, &provisioned)?
        {
            continue;
        }
        let provisionable = match declared.kind.as_str() {
            BUCKET => notifying.contains(&logical_id),
            kind => is_provisionable(kind),
        };
        let resource = if provisionable {
            let at = format!("Resources.{logical_id}.Properties");
            let properties = provisioned.resolve_at(&declared.properties, &at)?;
            let default_name = provisioned.default_name(&logical_id);
            clients
                .ensure(&logical_id, &declared.kind, &properties, default_name)
                .await?
        } else {
            let name = provisioned.own_name(&logical_id, &declared.kind, &declared.properties)?;
            Resource::not_created(&logical_id, &declared.kind, name)
        };
        provisioned.resources.insert(logical_id, resource);
    }

    for function in template.functions()? {
        let mut environment = BTreeMap::new();
        for (name, value) in &function.environment {
            let at = format!(
                "Resources.{}.Properties.Environment.Variables.{name}",
                function.logical_id
            );
            let resolved = provisioned.resolve_at(value, &at)?;
            let text = scalar_to_string(&resolved)
                .ok_or_else(|| Error::intrinsic(&at, "an environment variable must be a scalar"))?;
            environment.insert(name.clone(), text);
        }
        let timeout = match &function.timeout {
            None => DEFAULT_FUNCTION_TIMEOUT,
            Some(value) => {
                let at = format!("Resources.{}.Properties.Timeout", function.logical_id);
                let resolved = provisioned.resolve_at(value, &at)?;
                scalar_to_string(&resolved)
                    .and_then(|t| t.trim().parse::<u64>().ok())
                    .filter(|t| (1..=900).contains(t))
                    .map(std::time::Duration::from_secs)
                    .ok_or_else(|| {
                        Error::intrinsic(&at, "Timeout must be a whole number of seconds, 1 to 900")
                    })?
            }
        };
        provisioned.functions.push(Function {
            logical_id: function.logical_id,
            code_uri: function.code_uri,
            binary: function.binary,
            environment,
            timeout,
            events: function.events,
        });
    }

    if let Some(spec) = template.key_pair_parameters()? {
        let secrets = KeyPairSecrets {
            private_key_secret: provisioned.parameter_value(&spec.private_key_secret_parameter)?,
            public_key_secret: provisioned.parameter_value(&spec.public_key_secret_parameter)?,
        };
        if jwt_keys::ensure(&clients.secrets, &secrets).await? {
            tracing::info!(secret = %secrets.private_key_secret, "generated a new token signing key pair");
        }
        provisioned.key_pair = Some(secrets);
    }

    for parameter in template.ses_identity_parameters()? {
        let identity = provisioned.parameter_value(&parameter)?;
        verify_identity(&clients.ses, &identity).await?;
        provisioned.ses_identities.push(identity);
    }

    if let Some(parameter) = template.discord_sink_secret_parameter()? {
        let secret = provisioned.parameter_value(&parameter)?;
        if let Some(url) = &options.discord_webhook_url {
            jwt_keys::put(&clients.secrets, &secret, url.clone()).await?;
        }
        provisioned.discord_webhook_secret = Some(secret);
    }
    Ok(provisioned)
}

fn name_property(kind: &str) -> Option<&'static str> {
    NAME_PROPERTIES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, property)| *property)
}

fn is_provisionable(kind: &str) -> bool {
    matches!(kind, TABLE | QUEUE | TOPIC | SUBSCRIPTION)
}

/// The buckets a function's `S3` event names (`Bucket: !Ref <LogicalId>`, as SAM requires).
fn notifying_buckets(template: &Template) -> Result<std::collections::BTreeSet<String>> {
    Ok(template
        .functions()?
        .iter()
        .flat_map(|f| &f.events)
        .filter(|e| e.kind == crate::esm::bucket::S3_EVENT)
        .filter_map(
            |e| match crate::intrinsics::intrinsic(e.properties.get("Bucket")?)? {
                (name, target) if name == "Ref" => target.as_str().map(str::to_owned),
                _ => None,
            },
        )
        .collect())
}

fn parameter_values(template: &Template, options: &Options) -> Result<BTreeMap<String, String>> {
    if let Some(unknown) = options
        .parameters
        .keys()
        .find(|name| !template.parameters.contains_key(*name))
    {
        return Err(Error::Template(format!(
            "parameter override {unknown}: the template declares no such parameter"
        )));
    }
    // An override, else the template's local value (`mrmrthon::local.Parameters`: what
    // only AWS has, such as a CloudFront URL, stood in for), else its default. A parameter
    // without any has no value; referring to it fails with a message that says so.
    let local = template.local_parameters()?;
    Ok(template
        .parameters
        .keys()
        .filter_map(|name| {
            let value = options
                .parameters
                .get(name)
                .or_else(|| local.get(name))
                .cloned()
                .or_else(|| template.parameter_default(name))?;
            Some((name.clone(), value))
        })
        .collect())
}

struct Clients {
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
    secrets: aws_sdk_secretsmanager::Client,
    ses: aws_sdk_ses::Client,
    s3: aws_sdk_s3::Client,
}

impl Clients {
    fn new(config: &SdkConfig) -> Clients {
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            ses: aws_sdk_ses::Client::new(config),
            s3: aws_sdk_s3::Client::new(config),
        }
    }

    async fn ensure(
        &self,
        logical_id: &str,
        kind: &str,
        properties: &Value,
        default_name: String,
    ) -> Result<Resource> {
        let created = match kind {
            TABLE => tables::ensure(&self.dynamodb, logical_id, properties, default_name).await?,
            QUEUE => queues::ensure(&self.sqs, logical_id, properties, default_name).await?,
            TOPIC => topics::ensure_topic(&self.sns, logical_id, properties, default_name).await?,
            SUBSCRIPTION => topics::ensure_subscription(&self.sns, logical_id, properties).await?,
            BUCKET => buckets::ensure(&self.s3, properties, default_name).await?,
            other => unreachable!("{other} is not provisionable"),
        };
        Ok(Resource {
            logical_id: logical_id.to_owned(),
            kind: kind.to_owned(),
            physical_name: created.physical_name,
            arn: created.arn,
            url: created.url,
            stream_arn: created.stream_arn,
            created: created.created,
        })
    }
}

/// The emulator sends mail only from verified identities (verification is instant and
/// idempotent there): an address, or a domain.
async fn verify_identity(ses: &aws_sdk_ses::Client, identity: &str) -> Result<()> {
    if identity.contains('@') {
        ses.verify_email_identity()
            .email_address(identity)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::aws(format!("VerifyEmailIdentity {identity}"), e))
    } else {
        ses.verify_domain_identity()
            .domain(identity)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::aws(format!("VerifyDomainIdentity {identity}"), e))
    }
}

/// What a per-type `ensure` found or created.
#[derive(Debug, Default)]
struct Created {
    physical_name: String,
    arn: Option<String>,
    url: Option<String>,
    stream_arn: Option<String>,
    created: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_must_name_declared_parameters() {
        let template =
            Template::from_yaml("Parameters: { P: { Type: String, Default: d } }\nResources: {}").unwrap();
        let mut options = Options::new("s");
        assert_eq!(parameter_values(&template, &options).unwrap()["P"], "d");
        options.parameters.insert("P".into(), "o".into());
        assert_eq!(parameter_values(&template, &options).unwrap()["P"], "o");
        options.parameters.insert("Q".into(), "o".into());
        assert!(parameter_values(&template, &options).is_err());
    }

    #[test]
    fn local_values_replace_defaults_and_overrides_replace_both() {
        let template = Template::from_yaml(
            "Metadata: { 'mrmrthon::local': { Parameters: { P: local } } }\nParameters: { P: { Type: String, Default: '' }, R: { Type: String, Default: r } }\nResources: {}",
        )
        .unwrap();
        let mut options = Options::new("s");
        let values = parameter_values(&template, &options).unwrap();
        assert_eq!((values["P"].as_str(), values["R"].as_str()), ("local", "r"));
        options.parameters.insert("P".into(), "o".into());
        assert_eq!(parameter_values(&template, &options).unwrap()["P"], "o");
    }
}
