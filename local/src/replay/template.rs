//! Targets on the local stack: the mapping template.yaml declares from the pointer's
//! stream to the function whose on-failure queue is being replayed.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{Pointer, Target, Targets};
use crate::esm::mapping_specs;
use crate::provision::Provisioned;

pub struct TemplateTargets<'a> {
    pub provisioned: &'a Provisioned,
    /// The ARN of the on-failure queue being replayed.
    pub queue_arn: String,
}

impl Targets for TemplateTargets<'_> {
    fn target<'a>(&'a self, pointer: &'a Pointer) -> BoxFuture<'a, Result<Target, String>> {
        async move {
            let specs = mapping_specs(self.provisioned).map_err(|e| e.to_string())?;
            let spec = specs
                .into_iter()
                .find(|spec| {
                    spec.source_arn == pointer.stream_arn
                        && spec
                            .stream
                            .as_ref()
                            .and_then(|s| s.on_failure.as_deref())
                            .is_some_and(|arn| arn == self.queue_arn)
                })
                .ok_or_else(|| {
                    format!(
                        "template.yaml has no mapping from {} whose on-failure queue is this one",
                        pointer.stream_arn
                    )
                })?;
            let function = self
                .provisioned
                .function(&spec.function)
                .ok_or_else(|| format!("template.yaml has no function {}", spec.function))?
                .clone();
            Ok(Target {
                function,
                filters: spec.filters,
                report_batch_item_failures: spec.report_batch_item_failures,
            })
        }
        .boxed()
    }
}
