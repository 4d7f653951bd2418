//! The order resources are created in: each after everything it refers to.

use std::collections::{BTreeMap, BTreeSet};

use super::{is_provisionable, name_property};
use crate::error::{Error, Result};
use crate::intrinsics;
use crate::template::Template;

/// Resources ordered so that each comes after everything its properties refer to (or it
/// `DependsOn`). Only provisionable resources' references count: a function referring to
/// a table does not have to wait for anything, it is never created.
pub(super) fn creation_order(template: &Template) -> Result<Vec<String>> {
    let dependencies: BTreeMap<&str, BTreeSet<String>> = template
        .resources
        .iter()
        .map(|(id, r)| {
            let mut deps = BTreeSet::new();
            if is_provisionable(&r.kind) {
                deps.extend(intrinsics::references(&r.properties));
                deps.extend(r.depends_on());
            } else if let Some(name) = name_property(&r.kind).and_then(|p| r.properties.get(p)) {
                deps.extend(intrinsics::references(name));
            }
            deps.retain(|d| template.resources.contains_key(d) && d != id);
            (id.as_str(), deps)
        })
        .collect();

    let mut order: Vec<String> = Vec::with_capacity(dependencies.len());
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < dependencies.len() {
        let ready: Vec<&str> = dependencies
            .iter()
            .filter(|(id, deps)| !done.contains(*id) && deps.iter().all(|d| done.contains(d.as_str())))
            .map(|(id, _)| *id)
            .collect();
        if ready.is_empty() {
            let stuck: Vec<&str> = dependencies
                .keys()
                .filter(|id| !done.contains(*id))
                .copied()
                .collect();
            return Err(Error::Template(format!(
                "circular references between resources: {}",
                stuck.join(", ")
            )));
        }
        for id in ready {
            done.insert(id);
            order.push(id.to_owned());
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_dependencies_first_and_ignores_function_references() {
        let template = Template::from_yaml(
            r#"
Resources:
  Sub:
    Type: AWS::SNS::Subscription
    Properties: { TopicArn: !Ref Topic, Endpoint: !GetAtt Queue.Arn, Protocol: sqs }
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3 }
  Dlq: { Type: AWS::SQS::Queue }
  Topic: { Type: AWS::SNS::Topic }
  Fn:
    Type: AWS::Serverless::Function
    Properties: { Environment: { Variables: { Q: !Ref Queue } } }
"#,
        )
        .unwrap();
        let order = creation_order(&template).unwrap();
        let pos = |id: &str| order.iter().position(|o| o == id).unwrap();
        assert!(pos("Dlq") < pos("Queue"));
        assert!(pos("Queue") < pos("Sub"));
        assert!(pos("Topic") < pos("Sub"));
        assert_eq!(order.len(), 5);
    }

    #[test]
    fn reports_cycles() {
        let template = Template::from_yaml(
            "Resources:\n  A: { Type: AWS::SQS::Queue, Properties: { QueueName: !GetAtt B.QueueName } }\n  B: { Type: AWS::SQS::Queue, Properties: { QueueName: !GetAtt A.QueueName } }\n",
        )
        .unwrap();
        let err = creation_order(&template).unwrap_err().to_string();
        assert!(
            err.contains("circular references between resources: A, B"),
            "{err}"
        );
    }
}
