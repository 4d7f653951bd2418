//! template.yaml as data: parameters, globals, resources and metadata. Intrinsic
//! functions are kept exactly as written (see `intrinsics` for resolving them), so this
//! module knows nothing about any particular resource or function.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use crate::error::{Error, Result};
use crate::intrinsics::scalar_to_string;

pub const SERVERLESS_FUNCTION: &str = "AWS::Serverless::Function";
pub const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";

#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: BTreeMap<String, Parameter>,
    pub resources: BTreeMap<String, Resource>,
    /// `Conditions` as written (see `conditions`).
    pub conditions: BTreeMap<String, Value>,
    /// `Globals` as written (SAM); only `Globals.Function.Environment` matters locally.
    pub globals: Value,
    /// The top-level `Metadata` section.
    pub metadata: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub default: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub properties: Value,
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    depends_on: Value,
    /// The template condition that decides whether the resource exists.
    #[serde(default)]
    pub condition: Option<String>,
}

impl Resource {
    /// `DependsOn`, which CloudFormation allows as one name or a list of names.
    pub fn depends_on(&self) -> Vec<String> {
        match &self.depends_on {
            Value::String(s) => vec![s.clone()],
            Value::Sequence(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A property by name (`Value::Null` when absent).
    pub fn property(&self, name: &str) -> &Value {
        self.properties.get(name).unwrap_or(&Value::Null)
    }

    pub fn is_function(&self) -> bool {
        self.kind == SERVERLESS_FUNCTION || self.kind == LAMBDA_FUNCTION
    }
}

/// A function as the template declares it; intrinsics unresolved.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub logical_id: String,
    pub code_uri: Option<String>,
    /// `Metadata.BuildProperties.Binary`: the cargo binary `cargo lambda` builds and serves.
    pub binary: Option<String>,
    /// Globals' variables with the function's own on top (SAM's merge rule).
    pub environment: BTreeMap<String, Value>,
    /// `Timeout` (seconds), the function's own or `Globals.Function.Timeout`; intrinsics
    /// unresolved. None means Lambda's default of 3 seconds.
    pub timeout: Option<Value>,
    pub events: Vec<EventDef>,
}

/// One entry of a function's `Events`: its name, `Type` (HttpApi, DynamoDB, SQS, ...) and
/// `Properties` as written, for the later parts of the local stack to interpret.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDef {
    pub name: String,
    pub kind: String,
    pub properties: Value,
}

/// `Metadata: mrmrthon::local: JwtKeyPair:` names the parameters whose values are the
/// Secrets Manager names of the token signing key pair.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPairParameters {
    pub private_key_secret_parameter: String,
    pub public_key_secret_parameter: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTemplate {
    #[serde(default)]
    parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    resources: BTreeMap<String, Resource>,
    #[serde(default)]
    conditions: BTreeMap<String, Value>,
    #[serde(default)]
    globals: Value,
    #[serde(default)]
    metadata: Value,
}

const LOCAL_METADATA: &str = "mrmrthon::local";

impl Template {
    pub fn from_path(path: &Path) -> Result<Template> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        Template::from_yaml(&text).map_err(|e| Error::Template(format!("{}: {e}", path.display())))
    }

    pub fn from_yaml(text: &str) -> Result<Template> {
        let raw: RawTemplate = serde_yaml::from_str(text).map_err(|e| Error::Template(e.to_string()))?;
        Ok(Template {
            parameters: raw.parameters,
            resources: raw.resources,
            conditions: raw.conditions,
            globals: raw.globals,
            metadata: raw.metadata,
        })
    }

    /// A parameter's default as a string (how CloudFormation passes every parameter).
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        self.parameters
            .get(name)?
            .default
            .as_ref()
            .and_then(scalar_to_string)
    }

    /// The `HttpApi` routes, as (upper-case method, path), the template gives `function`
    /// (a logical id), or every function when None.
    pub fn http_routes(&self, function: Option<&str>) -> Result<BTreeSet<(String, String)>> {
        let mut routes = BTreeSet::new();
        for f in self.functions()? {
            if function.is_some_and(|id| id != f.logical_id) {
                continue;
            }
            for event in f.events.iter().filter(|e| e.kind == "HttpApi") {
                let text = |key: &str| {
                    event.properties.get(key).and_then(Value::as_str).ok_or_else(|| {
                        Error::Template(format!("{}.Events.{} has no {key}", f.logical_id, event.name))
                    })
                };
                routes.insert((text("Method")?.to_uppercase(), text("Path")?.to_owned()));
            }
        }
        Ok(routes)
    }

    pub fn functions(&self) -> Result<Vec<FunctionDef>> {
        let globals_function = self.globals.get("Function");
        let globals_env = variables(globals_function.and_then(|f| f.get("Environment")));
        let globals_timeout = globals_function.and_then(|f| f.get("Timeout")).cloned();
        self.resources
            .iter()
            .filter(|(_, r)| r.is_function())
            .map(|(id, r)| {
                let mut environment = if r.kind == SERVERLESS_FUNCTION {
                    globals_env.clone()
                } else {
                    BTreeMap::new()
                };
                environment.extend(variables(r.properties.get("Environment")));
                let timeout = match (r.properties.get("Timeout"), r.kind == SERVERLESS_FUNCTION) {
                    (Some(own), _) => Some(own.clone()),
                    (None, true) => globals_timeout.clone(),
                    (None, false) => None,
                };
                Ok(FunctionDef {
                    logical_id: id.clone(),
                    code_uri: r.property("CodeUri").as_str().map(str::to_owned),
                    binary: r
                        .metadata
                        .get("BuildProperties")
                        .and_then(|b| b.get("Binary"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    environment,
                    timeout,
                    events: events(id, r.property("Events"))?,
                })
            })
            .collect()
    }

    pub fn key_pair_parameters(&self) -> Result<Option<KeyPairParameters>> {
        let Some(spec) = self
            .metadata
            .get(LOCAL_METADATA)
            .and_then(|m| m.get("JwtKeyPair"))
        else {
            return Ok(None);
        };
        let spec: KeyPairParameters = serde_yaml::from_value(spec.clone())
            .map_err(|e| Error::Template(format!("Metadata.{LOCAL_METADATA}.JwtKeyPair: {e}")))?;
        for name in [
            &spec.private_key_secret_parameter,
            &spec.public_key_secret_parameter,
        ] {
            if !self.parameters.contains_key(name) {
                return Err(Error::Template(format!(
                    "Metadata.{LOCAL_METADATA}.JwtKeyPair names parameter {name}, which the template does not declare"
                )));
            }
        }
        Ok(Some(spec))
    }

    /// `Metadata: mrmrthon::local: DiscordSink: WebhookUrlSecretParameter: P`: the local
    /// stack stores the Discord sink's webhook URL in the secret parameter P names.
    pub fn discord_sink_secret_parameter(&self) -> Result<Option<String>> {
        let Some(spec) = self
            .metadata
            .get(LOCAL_METADATA)
            .and_then(|m| m.get("DiscordSink"))
        else {
            return Ok(None);
        };
        let name = spec
            .get("WebhookUrlSecretParameter")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::Template(format!(
                    "Metadata.{LOCAL_METADATA}.DiscordSink needs WebhookUrlSecretParameter: <parameter name>"
                ))
            })?;
        self.declared("DiscordSink", name).map(Some)
    }

    /// `Metadata: mrmrthon::local: SesIdentityParameters: [P, ...]`: parameters whose values
    /// are SES identities (addresses or domains) to verify on the emulator, which refuses
    /// to send from an unverified one.
    pub fn ses_identity_parameters(&self) -> Result<Vec<String>> {
        let Some(list) = self
            .metadata
            .get(LOCAL_METADATA)
            .and_then(|m| m.get("SesIdentityParameters"))
        else {
            return Ok(Vec::new());
        };
        let names = list.as_sequence().ok_or_else(|| {
            Error::Template(format!(
                "Metadata.{LOCAL_METADATA}.SesIdentityParameters must be a list"
            ))
        })?;
        names
            .iter()
            .map(|n| {
                let name = n.as_str().ok_or_else(|| {
                    Error::Template(format!(
                        "Metadata.{LOCAL_METADATA}.SesIdentityParameters: {n:?} is not a parameter name"
                    ))
                })?;
                self.declared("SesIdentityParameters", name)
            })
            .collect()
    }

    /// `Metadata: mrmrthon::local: Parameters: {P: value}`: the values the local stack
    /// gives parameters whose default means something only AWS has (an override wins).
    pub fn local_parameters(&self) -> Result<BTreeMap<String, String>> {
        let Some(values) = self
            .metadata
            .get(LOCAL_METADATA)
            .and_then(|m| m.get("Parameters"))
        else {
            return Ok(BTreeMap::new());
        };
        let values = values.as_mapping().ok_or_else(|| {
            Error::Template(format!(
                "Metadata.{LOCAL_METADATA}.Parameters must map parameter names to values"
            ))
        })?;
        values
            .iter()
            .map(|(name, value)| {
                let name = name.as_str().unwrap_or_default();
                let value = scalar_to_string(value).ok_or_else(|| {
                    Error::Template(format!(
                        "Metadata.{LOCAL_METADATA}.Parameters.{name} must be a scalar"
                    ))
                })?;
                Ok((self.declared("Parameters", name)?, value))
            })
            .collect()
    }

    fn declared(&self, key: &str, name: &str) -> Result<String> {
        if self.parameters.contains_key(name) {
            Ok(name.to_owned())
        } else {
            Err(Error::Template(format!(
                "Metadata.{LOCAL_METADATA}.{key} names parameter {name}, which the template does not declare"
            )))
        }
    }
}

fn variables(environment: Option<&Value>) -> BTreeMap<String, Value> {
    environment
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
        .map(|vars| {
            vars.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn events(function: &str, events: &Value) -> Result<Vec<EventDef>> {
    let empty = Mapping::new();
    let events = match events {
        Value::Null => &empty,
        Value::Mapping(m) => m,
        _ => {
            return Err(Error::Template(format!(
                "{function}.Properties.Events must be a mapping"
            )));
        }
    };
    events
        .iter()
        .map(|(name, event)| {
            let name = name.as_str().unwrap_or_default().to_owned();
            let kind = event
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Template(format!("{function}.Properties.Events.{name} has no Type")))?
                .to_owned();
            Ok(EventDef {
                name,
                kind,
                properties: event.get("Properties").cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// The operations an OpenAPI document names, in `Template::http_routes`' form, so the
/// document and the template's routes can be compared.
pub fn openapi_routes(document: &serde_json::Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().into_iter().flatten();
    paths
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(method, _)| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  Name: { Type: String, Default: hello }
  Count: { Type: Number, Default: 3 }
  NoDefault: { Type: String }
Globals:
  Function:
    Timeout: 10
    Environment:
      Variables: { RUST_LOG: info, SHARED: global }
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: fn-bin } }
    Properties:
      CodeUri: functions/fn
      Environment:
        Variables: { SHARED: own, TABLE: !Ref T }
      Events:
        Api: { Type: HttpApi, Properties: { Method: GET, Path: /x } }
  T:
    Type: AWS::DynamoDB::Table
    DependsOn: [Fn]
"#;

    #[test]
    fn http_routes_compare_with_an_openapi_documents_operations() {
        let t = Template::from_yaml(TEMPLATE).unwrap();
        let route = ("GET".to_owned(), "/x".to_owned());
        assert_eq!(t.http_routes(None).unwrap(), BTreeSet::from([route.clone()]));
        assert_eq!(
            t.http_routes(Some("Fn")).unwrap(),
            BTreeSet::from([route.clone()])
        );
        assert!(t.http_routes(Some("Other")).unwrap().is_empty());
        let document = serde_json::json!({ "paths": { "/x": { "get": {} } } });
        assert_eq!(openapi_routes(&document), BTreeSet::from([route]));
        let broken = Template::from_yaml(&TEMPLATE.replace("Method: GET, ", "")).unwrap();
        assert!(
            broken.http_routes(None).is_err(),
            "a route without a method is an error"
        );
    }

    #[test]
    fn reads_functions_with_globals_merged() {
        let t = Template::from_yaml(TEMPLATE).unwrap();
        let f = &t.functions().unwrap()[0];
        assert_eq!(f.logical_id, "Fn");
        assert_eq!(f.code_uri.as_deref(), Some("functions/fn"));
        assert_eq!(f.binary.as_deref(), Some("fn-bin"));
        assert_eq!(f.environment["RUST_LOG"], Value::from("info"));
        assert_eq!(f.environment["SHARED"], Value::from("own"));
        assert!(matches!(f.environment["TABLE"], Value::Tagged(_)));
        assert_eq!(f.events[0].name, "Api");
        assert_eq!(f.events[0].kind, "HttpApi");
        assert_eq!(f.events[0].properties["Path"], Value::from("/x"));
        assert_eq!(
            f.timeout,
            Some(Value::from(10)),
            "Globals.Function.Timeout applies"
        );
    }

    #[test]
    fn parameter_defaults_are_strings() {
        let t = Template::from_yaml(TEMPLATE).unwrap();
        assert_eq!(t.parameter_default("Name").as_deref(), Some("hello"));
        assert_eq!(t.parameter_default("Count").as_deref(), Some("3"));
        assert_eq!(t.parameter_default("NoDefault"), None);
        assert_eq!(t.resources["T"].depends_on(), vec!["Fn".to_owned()]);
    }

    #[test]
    fn local_metadata_names_declared_parameters() {
        let t = Template::from_yaml(
            "Metadata: { mrmrthon::local: { DiscordSink: { WebhookUrlSecretParameter: Hook }, SesIdentityParameters: [Sender] } }\nParameters: { Hook: { Type: String }, Sender: { Type: String } }\nResources: {}",
        )
        .unwrap();
        assert_eq!(
            t.discord_sink_secret_parameter().unwrap().as_deref(),
            Some("Hook")
        );
        assert_eq!(t.ses_identity_parameters().unwrap(), ["Sender"]);
        let t = Template::from_yaml(
            "Metadata: { mrmrthon::local: { DiscordSink: { WebhookUrlSecretParameter: Nope }, SesIdentityParameters: [Nope] } }\nResources: {}",
        )
        .unwrap();
        assert!(t.discord_sink_secret_parameter().is_err());
        assert!(t.ses_identity_parameters().is_err());
        let t = Template::from_yaml(
            "Metadata: { mrmrthon::local: { Parameters: { Site: 'http://127.0.0.1:3000', Port: 3000 } } }\nParameters: { Site: { Type: String }, Port: { Type: Number } }\nResources: {}",
        )
        .unwrap();
        let values = t.local_parameters().unwrap();
        assert_eq!(values["Site"], "http://127.0.0.1:3000");
        assert_eq!(values["Port"], "3000");
        let t =
            Template::from_yaml("Metadata: { mrmrthon::local: { Parameters: { Nope: x } } }\nResources: {}")
                .unwrap();
        assert!(t.local_parameters().is_err());
        let none = Template::from_yaml("Resources: {}").unwrap();
        assert_eq!(none.discord_sink_secret_parameter().unwrap(), None);
        assert!(none.ses_identity_parameters().unwrap().is_empty());
    }

    #[test]
    fn key_pair_parameters_must_exist() {
        let t = Template::from_yaml(
            "Metadata: { mrmrthon::local: { JwtKeyPair: { PrivateKeySecretParameter: A, PublicKeySecretParameter: B } } }\nResources: {}",
        )
        .unwrap();
        assert!(t.key_pair_parameters().is_err());
    }
}
