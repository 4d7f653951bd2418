//! Replay on AWS: the function named by the pointer, invoked through the Lambda API, with
//! its mapping's filters and response types read from the Lambda API (the deployed
//! mapping, whatever the local template says).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::Client as LambdaClient;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionResponseType, InvocationType};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::{Pointer, Target, Targets};
use crate::esm::filter::Filters;
use crate::invoke::{InvokeError, Invoker, function_error_of, parse_payload};
use crate::provision::Function;

/// Invokes `function.logical_id` (here: the function's ARN) synchronously.
pub struct LambdaInvoker {
    pub client: LambdaClient,
}

impl Invoker for LambdaInvoker {
    fn invoke<'a>(
        &'a self,
        function: &'a Function,
        event: Value,
    ) -> BoxFuture<'a, Result<Value, InvokeError>> {
        async move {
            let name = function.logical_id.clone();
            let output = self
                .client
                .invoke()
                .function_name(&name)
                .invocation_type(InvocationType::RequestResponse)
                .payload(Blob::new(event.to_string()))
                .send()
                .await
                .map_err(|e| InvokeError::Transport {
                    function: name.clone(),
                    detail: aws_sdk_lambda::error::DisplayErrorContext(e).to_string(),
                })?;
            let payload = output.payload.map(Blob::into_inner).unwrap_or_default();
            let response = parse_payload(&name, &payload)?;
            match output.function_error {
                Some(kind) => Err(function_error_of(name, &response, Some(kind), String::new())),
                None => Ok(response),
            }
        }
        .boxed()
    }

    fn describe(&self) -> String {
        "the Lambda API".into()
    }
}

/// The deployed mapping from the pointer's stream to its function.
pub struct LambdaTargets {
    pub client: LambdaClient,
}

impl Targets for LambdaTargets {
    fn target<'a>(&'a self, pointer: &'a Pointer) -> BoxFuture<'a, Result<Target, String>> {
        async move {
            let listed = self
                .client
                .list_event_source_mappings()
                .function_name(&pointer.function_arn)
                .event_source_arn(&pointer.stream_arn)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ListEventSourceMappings for {}: {}",
                        pointer.function_arn,
                        aws_sdk_lambda::error::DisplayErrorContext(e)
                    )
                })?;
            let mapping = listed
                .event_source_mappings
                .unwrap_or_default()
                .into_iter()
                .next()
                .ok_or_else(|| {
                    format!(
                        "{} has no mapping from {}",
                        pointer.function_arn, pointer.stream_arn
                    )
                })?;
            let patterns: Vec<Value> = mapping
                .filter_criteria
                .and_then(|c| c.filters)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.pattern)
                .map(|pattern| json!({ "Pattern": pattern }))
                .collect();
            let filters = Filters::parse(&json!({ "Filters": patterns }))?;
            let report_batch_item_failures = mapping
                .function_response_types
                .unwrap_or_default()
                .contains(&FunctionResponseType::ReportBatchItemFailures);
            Ok(Target {
                function: Function {
                    logical_id: pointer.function_arn.clone(),
                    code_uri: None,
                    binary: None,
                    environment: BTreeMap::new(),
                    timeout: Duration::from_secs(900),
                    events: Vec::new(),
                },
                filters,
                report_batch_item_failures,
            })
        }
        .boxed()
    }
}
