//! CloudFormation conditions (`Conditions:` and a resource's `Condition:`), evaluated the
//! way CloudFormation does at deploy time: a resource whose condition is false is not
//! created. Supports `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and `Condition`, in
//! short and long form; anything else is an error naming the condition.

use serde_yaml::Value;

use crate::error::{Error, Result};
use crate::intrinsics::{self, Lookup, scalar_to_string};
use crate::template::Template;

/// Whether the template's condition `name` holds, with parameters and references resolved
/// by `lookup`.
pub fn holds(template: &Template, name: &str, lookup: &dyn Lookup) -> Result<bool> {
    holds_within(template, name, lookup, 0)
}

// Conditions may refer to each other; CloudFormation refuses cycles, so do we.
const MAX_DEPTH: usize = 16;

fn holds_within(template: &Template, name: &str, lookup: &dyn Lookup, depth: usize) -> Result<bool> {
    let at = format!("Conditions.{name}");
    if depth > MAX_DEPTH {
        return Err(Error::intrinsic(&at, "conditions refer to each other in a cycle"));
    }
    let body = template
        .conditions
        .get(name)
        .ok_or_else(|| Error::Template(format!("no condition named {name}")))?;
    evaluate(template, body, lookup, &at, depth)
}

fn evaluate(template: &Template, value: &Value, lookup: &dyn Lookup, at: &str, depth: usize) -> Result<bool> {
    let (function, argument) = intrinsics::intrinsic(value)
        .ok_or_else(|| Error::intrinsic(at, "a condition must be a condition function"))?;
    let items = || {
        argument
            .as_sequence()
            .ok_or_else(|| Error::intrinsic(at, format!("{function} takes a list")))
    };
    match function.as_str() {
        "Fn::Equals" => {
            let [left, right] = items()?.as_slice() else {
                return Err(Error::intrinsic(at, "Fn::Equals takes two values"));
            };
            let text = |v: &Value| -> Result<String> {
                let resolved = intrinsics::resolve(v, lookup, at)?;
                scalar_to_string(&resolved).ok_or_else(|| Error::intrinsic(at, "Fn::Equals compares scalars"))
            };
            Ok(text(left)? == text(right)?)
        }
        "Fn::Not" => {
            let [inner] = items()?.as_slice() else {
                return Err(Error::intrinsic(at, "Fn::Not takes one condition"));
            };
            Ok(!evaluate(template, inner, lookup, at, depth)?)
        }
        "Fn::And" | "Fn::Or" => {
            let mut results = Vec::new();
            for inner in items()? {
                results.push(evaluate(template, inner, lookup, at, depth)?);
            }
            Ok(if function == "Fn::And" {
                results.iter().all(|r| *r)
            } else {
                results.iter().any(|r| *r)
            })
        }
        "Condition" => {
            let name = argument
                .as_str()
                .ok_or_else(|| Error::intrinsic(at, "Condition takes a condition's name"))?;
            holds_within(template, name, lookup, depth + 1)
        }
        other => Err(Error::intrinsic(
            at,
            format!("{other} is not a condition function"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Parameters;

    impl Lookup for Parameters {
        fn reference(&self, name: &str) -> std::result::Result<String, String> {
            match name {
                "Email" => Ok(String::new()),
                "Stage" => Ok("prod".into()),
                other => Err(format!("no {other}")),
            }
        }
        fn attribute(&self, id: &str, attribute: &str) -> std::result::Result<String, String> {
            Err(format!("no {id}.{attribute}"))
        }
    }

    fn template() -> Template {
        Template::from_yaml(
            r#"
Conditions:
  HasEmail: !Not [!Equals [!Ref Email, ""]]
  IsProd: { "Fn::Equals": [{ Ref: Stage }, prod] }
  ProdWithEmail: !And [!Condition IsProd, !Condition HasEmail]
  ProdOrEmail: !Or [!Condition IsProd, !Condition HasEmail]
  Loop: !Condition Loop
  Bad: !Sub "x"
Resources: {}
"#,
        )
        .unwrap()
    }

    #[test]
    fn conditions_evaluate_against_parameters() {
        let t = template();
        assert!(!holds(&t, "HasEmail", &Parameters).unwrap());
        assert!(holds(&t, "IsProd", &Parameters).unwrap());
        assert!(!holds(&t, "ProdWithEmail", &Parameters).unwrap());
        assert!(holds(&t, "ProdOrEmail", &Parameters).unwrap());
    }

    #[test]
    fn cycles_unknown_names_and_other_functions_are_errors() {
        let t = template();
        assert!(holds(&t, "Loop", &Parameters).is_err());
        assert!(holds(&t, "Missing", &Parameters).is_err());
        assert!(holds(&t, "Bad", &Parameters).is_err());
    }
}
