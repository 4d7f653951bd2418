//! Property values as AWS attribute strings. CloudFormation names SQS and SNS properties
//! exactly like the services' attributes, so most properties pass straight through.

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::error::{Error, Result};
use crate::intrinsics::scalar_to_string;

/// A resolved property value as an AWS attribute string: scalars as text, structures
/// (RedrivePolicy, FilterPolicy...) as JSON, as the attribute APIs expect.
pub(super) fn attribute_text(at: &str, value: &Value) -> Result<String> {
    if let Some(text) = scalar_to_string(value) {
        return Ok(text);
    }
    serde_json::to_string(value).map_err(|e| Error::intrinsic(at, format!("cannot encode as JSON: {e}")))
}

/// Properties given as `true` or `"true"` (CloudFormation accepts both).
pub(super) fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// All of a resource's properties except `skip`, as attribute strings; CloudFormation
/// names SQS and SNS properties exactly like the service's attributes.
pub(super) fn attributes_except(
    logical_id: &str,
    properties: &Value,
    skip: &[&str],
) -> Result<BTreeMap<String, String>> {
    let Some(map) = properties.as_mapping() else {
        return Ok(BTreeMap::new());
    };
    let mut attributes = BTreeMap::new();
    for (key, value) in map {
        let Some(key) = key.as_str() else { continue };
        if skip.contains(&key) || value.is_null() {
            continue;
        }
        let at = format!("Resources.{logical_id}.Properties.{key}");
        attributes.insert(key.to_owned(), attribute_text(&at, value)?);
    }
    Ok(attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_become_strings_and_json() {
        let props: Value = serde_yaml::from_str(
            "{QueueName: q, VisibilityTimeout: 60, FifoQueue: true, RedrivePolicy: {deadLetterTargetArn: arn:x, maxReceiveCount: 3}}",
        )
        .unwrap();
        let attrs = attributes_except("Q", &props, &["QueueName"]).unwrap();
        assert_eq!(attrs["VisibilityTimeout"], "60");
        assert_eq!(attrs["FifoQueue"], "true");
        assert_eq!(
            attrs["RedrivePolicy"],
            r#"{"deadLetterTargetArn":"arn:x","maxReceiveCount":3}"#
        );
        assert!(!attrs.contains_key("QueueName"));
    }
}
