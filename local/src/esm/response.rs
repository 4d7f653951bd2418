//! What a batch invocation's result means, by AWS's rules for partial batch responses:
//! with `ReportBatchItemFailures` a response lists the failed items by identifier (stream
//! sequence number or SQS message id); a null, empty or unknown identifier, or a response
//! that is no batch response at all, fails the whole batch; a null or empty list is a
//! success. Without `ReportBatchItemFailures` the response is ignored. An invocation error
//! of any kind fails the whole batch.

use std::collections::HashSet;

use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use serde_json::Value;

use crate::invoke::InvokeError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// The identifiers of the failed items, each one of the batch's.
    Partial(Vec<String>),
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    /// True when the function ran and failed (Lambda's `FunctionError: Unhandled`); false
    /// when its response was unusable or it could not be reached.
    pub function_error: bool,
}

/// Judges one invocation of a batch whose item identifiers are `identifiers`.
pub fn verdict(
    result: &Result<Value, InvokeError>,
    report_batch_item_failures: bool,
    identifiers: &HashSet<&str>,
) -> Verdict {
    let response = match result {
        Err(error) => {
            return Verdict::Failed(Failure {
                reason: error.to_string(),
                function_error: error.is_function_error(),
            });
        }
        Ok(_) if !report_batch_item_failures => return Verdict::Success,
        Ok(response) => response,
    };
    let unusable = |reason: String| {
        Verdict::Failed(Failure {
            reason,
            function_error: false,
        })
    };
    let failures = match response {
        Value::Null => return Verdict::Success,
        Value::Object(object) => match object.get("batchItemFailures") {
            None | Some(Value::Null) => return Verdict::Success,
            Some(Value::Array(items)) if items.is_empty() => return Verdict::Success,
            Some(Value::Array(items)) => items,
            Some(other) => return unusable(format!("batchItemFailures is not a list: {other}")),
        },
        other => return unusable(format!("the response is not a batch response: {other}")),
    };
    let mut failed = Vec::with_capacity(failures.len());
    for item in failures {
        // The SQS and stream failure types are the same shape; one of them reads both.
        let parsed: Option<DynamoDbBatchItemFailure> = serde_json::from_value(item.clone()).ok();
        match parsed.and_then(|p| p.item_identifier) {
            None => {
                return unusable(format!(
                    "a batchItemFailures entry has a null itemIdentifier: {item}"
                ));
            }
            Some(id) if id.is_empty() => {
                return unusable("a batchItemFailures entry has an empty itemIdentifier".into());
            }
            Some(id) if !identifiers.contains(id.as_str()) => {
                return unusable(format!("itemIdentifier {id:?} is not an item of this batch"));
            }
            Some(id) => {
                if !failed.contains(&id) {
                    failed.push(id);
                }
            }
        }
    }
    Verdict::Partial(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids() -> HashSet<&'static str> {
        ["1", "2", "3"].into_iter().collect()
    }

    fn judge(response: Value) -> Verdict {
        verdict(&Ok(response), true, &ids())
    }

    #[test]
    fn successes() {
        for response in [
            Value::Null,
            json!({}),
            json!({"batchItemFailures": null}),
            json!({"batchItemFailures": []}),
        ] {
            assert_eq!(judge(response.clone()), Verdict::Success, "{response}");
        }
        // Without ReportBatchItemFailures the response means nothing.
        assert_eq!(
            verdict(
                &Ok(json!({"batchItemFailures": [{"itemIdentifier": "2"}]})),
                false,
                &ids()
            ),
            Verdict::Success
        );
    }

    #[test]
    fn partial_failures_name_known_items_once() {
        assert_eq!(
            judge(
                json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}, {"itemIdentifier": "3"}]})
            ),
            Verdict::Partial(vec!["3".into(), "2".into()])
        );
    }

    #[test]
    fn whole_batch_failures() {
        for response in [
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifer": "2"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "9"}]}),
            json!({"batchItemFailures": "2"}),
            json!("ok"),
        ] {
            match judge(response.clone()) {
                Verdict::Failed(Failure { function_error, .. }) => assert!(!function_error, "{response}"),
                other => panic!("{response}: {other:?}"),
            }
        }
        let error = InvokeError::Function {
            function: "F".into(),
            error_type: "Error".into(),
            message: "boom".into(),
        };
        match verdict(&Err(error), false, &ids()) {
            Verdict::Failed(Failure {
                function_error,
                reason,
            }) => {
                assert!(function_error);
                assert!(reason.contains("boom"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
