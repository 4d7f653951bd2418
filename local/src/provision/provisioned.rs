//! What provisioning produced: each resource's physical name, ARN, URL and stream, the
//! functions with resolved environments, and intrinsic resolution against all of it.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::{QUEUE, SUBSCRIPTION, TOPIC, name_property};
use crate::emulator::{ACCOUNT_ID, REGION};
use crate::error::{Error, Result};
use crate::intrinsics::{self, Lookup, scalar_to_string};
use crate::template::EventDef;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub logical_id: String,
    /// The CloudFormation type, e.g. `AWS::SQS::Queue`.
    pub kind: String,
    pub physical_name: String,
    pub arn: Option<String>,
    /// Queues only.
    pub url: Option<String>,
    /// Tables with a `StreamSpecification` only.
    pub stream_arn: Option<String>,
    /// False for types the emulator has no use for: they have a name (for `Ref`) but
    /// nothing was created.
    pub created: bool,
}

impl Resource {
    pub(super) fn not_created(logical_id: &str, kind: &str, physical_name: String) -> Resource {
        // Functions get the ARN CloudFormation would give them, so that a subscription or
        // a permission naming `!GetAtt SomeFunction.Arn` still resolves.
        let arn = kind
            .ends_with("::Function")
            .then(|| format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{physical_name}"));
        Resource {
            logical_id: logical_id.to_owned(),
            kind: kind.to_owned(),
            physical_name,
            arn,
            url: None,
            stream_arn: None,
            created: false,
        }
    }
}

/// A function with its environment resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    pub code_uri: Option<String>,
    pub binary: Option<String>,
    pub environment: BTreeMap<String, String>,
    /// `Timeout` resolved; Lambda's default (3 s) when the template gives none.
    pub timeout: std::time::Duration,
    /// As written in the template; `Provisioned::resolve` resolves their intrinsics.
    pub events: Vec<EventDef>,
}

/// Where the token signing key pair lives in Secrets Manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPairSecrets {
    pub private_key_secret: String,
    pub public_key_secret: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provisioned {
    pub(super) stack_name: String,
    pub(super) parameters: BTreeMap<String, String>,
    /// Every template condition, evaluated once against the parameters (CloudFormation's
    /// conditions can refer to nothing else).
    pub(super) conditions: BTreeMap<String, bool>,
    pub(super) resources: BTreeMap<String, Resource>,
    pub(super) functions: Vec<Function>,
    pub(super) key_pair: Option<KeyPairSecrets>,
    pub(super) discord_webhook_secret: Option<String>,
    pub(super) ses_identities: Vec<String>,
}

impl Function {
    /// The name `cargo lambda` serves the function under: its binary, else its logical id.
    pub fn binary_name(&self) -> &str {
        self.binary.as_deref().unwrap_or(&self.logical_id)
    }

    /// The ARN CloudFormation would give the function (for destination records).
    pub fn arn(&self, provisioned: &Provisioned) -> String {
        provisioned
            .arn(&self.logical_id)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{}",
                    self.logical_id
                )
            })
    }
}

impl Provisioned {
    pub fn stack_name(&self) -> &str {
        &self.stack_name
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.resources.get(logical_id)
    }

    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.values()
    }

    pub fn physical_name(&self, logical_id: &str) -> Option<&str> {
        self.resource(logical_id).map(|r| r.physical_name.as_str())
    }

    pub fn arn(&self, logical_id: &str) -> Option<&str> {
        self.resource(logical_id)?.arn.as_deref()
    }

    pub fn url(&self, logical_id: &str) -> Option<&str> {
        self.resource(logical_id)?.url.as_deref()
    }

    /// A parameter's value (override or default).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).map(String::as_str)
    }

    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    pub fn function(&self, logical_id: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.logical_id == logical_id)
    }

    /// The function's environment: its `Environment.Variables` over
    /// `Globals.Function.Environment.Variables`, intrinsics resolved.
    pub fn function_env(&self, logical_id: &str) -> Result<BTreeMap<String, String>> {
        self.function(logical_id)
            .map(|f| f.environment.clone())
            .ok_or_else(|| Error::UnknownFunction(logical_id.to_owned()))
    }

    pub fn key_pair_secrets(&self) -> Option<&KeyPairSecrets> {
        self.key_pair.as_ref()
    }

    /// The secret that holds the Discord webhook URL, when the template's local metadata
    /// names one (`DiscordSink`).
    pub fn discord_webhook_secret(&self) -> Option<&str> {
        self.discord_webhook_secret.as_deref()
    }

    /// The SES identities verified on the emulator (`SesIdentityParameters`).
    pub fn ses_identities(&self) -> &[String] {
        &self.ses_identities
    }

    /// Resolves the intrinsics in any template value (e.g. an event's properties)
    /// against what was provisioned.
    pub fn resolve(&self, value: &Value) -> Result<Value> {
        self.resolve_at(value, "value")
    }

    pub(super) fn resolve_at(&self, value: &Value, at: &str) -> Result<Value> {
        intrinsics::resolve(value, self, at)
    }

    pub(super) fn parameter_value(&self, name: &str) -> Result<String> {
        self.reference(name).map_err(Error::Template)
    }

    pub(super) fn default_name(&self, logical_id: &str) -> String {
        format!("{}-{logical_id}", self.stack_name)
    }

    /// The name a resource gives itself (e.g. `FunctionName`), else the local default.
    pub(super) fn own_name(&self, logical_id: &str, kind: &str, properties: &Value) -> Result<String> {
        let own = name_property(kind).and_then(|property| properties.get(property));
        match own {
            Some(value) => {
                let at = format!("Resources.{logical_id}.Properties");
                scalar_to_string(&self.resolve_at(value, &at)?)
                    .ok_or_else(|| Error::intrinsic(at, "a resource name must be a scalar"))
            }
            None => Ok(self.default_name(logical_id)),
        }
    }
}

impl Lookup for Provisioned {
    fn reference(&self, name: &str) -> std::result::Result<String, String> {
        if let Some(value) = self.pseudo_parameter(name) {
            return value;
        }
        if let Some(value) = self.parameters.get(name) {
            return Ok(value.clone());
        }
        let resource = self.resources.get(name).ok_or_else(|| {
            format!("{name} is neither a parameter with a value nor a resource provisioned before this point")
        })?;
        // What `Ref` returns depends on the type (CloudFormation's rule): a queue's URL, a
        // topic's or subscription's ARN, otherwise the physical name.
        let value = match resource.kind.as_str() {
            QUEUE => resource.url.clone(),
            TOPIC | SUBSCRIPTION => resource.arn.clone(),
            _ => Some(resource.physical_name.clone()),
        };
        value.ok_or_else(|| format!("Ref {name}: not known locally"))
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> std::result::Result<String, String> {
        let resource = self.resources.get(logical_id).ok_or_else(|| {
            format!("GetAtt {logical_id}.{attribute}: no such resource provisioned before this point")
        })?;
        let value = match attribute {
            "Arn" | "TopicArn" => resource.arn.clone(),
            "StreamArn" => resource.stream_arn.clone(),
            "QueueUrl" => resource.url.clone(),
            "QueueName" | "TopicName" | "Name" => Some(resource.physical_name.clone()),
            _ => None,
        };
        value.ok_or_else(|| {
            format!(
                "GetAtt {logical_id}.{attribute}: not known locally for {} (created on the emulator: {})",
                resource.kind, resource.created
            )
        })
    }

    fn condition(&self, name: &str) -> std::result::Result<bool, String> {
        self.conditions
            .get(name)
            .copied()
            .ok_or_else(|| format!("no condition named {name}"))
    }
}

impl Provisioned {
    fn pseudo_parameter(&self, name: &str) -> Option<std::result::Result<String, String>> {
        let value = match name {
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => ACCOUNT_ID.to_owned(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::StackId" => format!(
                "arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{}/local",
                self.stack_name
            ),
            other if other.starts_with("AWS::") => {
                return Some(Err(format!("pseudo parameter {other} is not supported locally")));
            }
            _ => return None,
        };
        Some(Ok(value))
    }
}
