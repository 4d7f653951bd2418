//! CloudFormation intrinsic functions, resolved the way CloudFormation would against
//! whatever the caller knows (`Lookup`): `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join` and
//! `Fn::If` (only the branch its condition picks is resolved, as in AWS), in short form (`!Ref`, serde_yaml tagged values) and long form (`{Ref: ..}`,
//! `{Fn::GetAtt: ..}`). Anything else is an error naming where it occurs, never a
//! silently wrong value.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value;

use crate::error::{Error, Result};

/// What intrinsics resolve against. Errors are plain messages; `resolve` adds the location.
pub trait Lookup {
    /// `Ref name`: a parameter, a pseudo parameter (`AWS::Region`...) or a resource.
    fn reference(&self, name: &str) -> std::result::Result<String, String>;
    /// `Fn::GetAtt [logical_id, attribute]`.
    fn attribute(&self, logical_id: &str, attribute: &str) -> std::result::Result<String, String>;
    /// Whether the template condition `name` holds (for `Fn::If`).
    fn condition(&self, name: &str) -> std::result::Result<bool, String> {
        Err(format!("condition {name} is not known here"))
    }
}

/// Returns `value` with every intrinsic replaced by its value. `at` names where `value`
/// sits in the template, for error messages.
pub fn resolve(value: &Value, lookup: &dyn Lookup, at: &str) -> Result<Value> {
    if let Some((name, argument)) = intrinsic(value) {
        if name == "Fn::If" {
            // The other branch may name what does not exist here (a resource whose
            // condition is false, or one only AWS has): it is never looked at.
            return resolve(if_branch(argument, lookup, at)?, lookup, at);
        }
        return resolve_intrinsic(&name, argument, lookup, at).map(Value::String);
    }
    Ok(match value {
        Value::Mapping(map) => {
            let mut out = serde_yaml::Mapping::with_capacity(map.len());
            for (key, item) in map {
                let key_text = scalar_to_string(key).unwrap_or_default();
                out.insert(key.clone(), resolve(item, lookup, &format!("{at}.{key_text}"))?);
            }
            Value::Mapping(out)
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| resolve(item, lookup, &format!("{at}[{i}]")))
                .collect::<Result<_>>()?,
        ),
        Value::Tagged(tagged) => {
            return Err(Error::intrinsic(
                at,
                format!("unsupported intrinsic {}", tagged.tag),
            ));
        }
        other => other.clone(),
    })
}

/// Every name `value` refers to (Ref targets, GetAtt logical ids, Sub variables), for
/// ordering resources so that what is referred to exists first.
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    collect_references(value, &mut names);
    names
}

/// A scalar YAML value as CloudFormation would pass it: numbers and booleans as text.
pub fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `(canonical name, argument)` when `value` is an intrinsic function call (`Condition`
/// included, for condition bodies).
pub(crate) fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let short = tag.trim_start_matches('!');
            let name = if short == "Ref" || short == "Condition" {
                short.to_owned()
            } else {
                format!("Fn::{short}")
            };
            Some((name, &tagged.value))
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, argument) = map.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key == "Condition" || key.starts_with("Fn::"))
                .then(|| (key.to_owned(), argument))
        }
        _ => None,
    }
}

fn resolve_intrinsic(name: &str, argument: &Value, lookup: &dyn Lookup, at: &str) -> Result<String> {
    let fail = |message: String| Error::intrinsic(at, message);
    match name {
        "Ref" => {
            let target = argument.as_str().ok_or_else(|| fail("Ref takes a name".into()))?;
            lookup.reference(target).map_err(fail)
        }
        "Fn::GetAtt" => {
            let (id, attribute) = get_att_target(argument)
                .ok_or_else(|| fail("Fn::GetAtt takes `Id.Attribute` or [Id, Attribute]".into()))?;
            lookup.attribute(&id, &attribute).map_err(fail)
        }
        "Fn::Sub" => {
            let (text, variables) = sub_parts(argument)
                .ok_or_else(|| fail("Fn::Sub takes a string or [string, {variables}]".into()))?;
            let mut values = BTreeMap::new();
            for (key, value) in variables {
                let resolved = resolve(value, lookup, &format!("{at}.{key}"))?;
                let text = scalar_to_string(&resolved)
                    .ok_or_else(|| fail(format!("Fn::Sub variable {key} is not a scalar")))?;
                values.insert(key, text);
            }
            substitute(text, &values, lookup).map_err(fail)
        }
        "Fn::Join" => {
            let parts = argument
                .as_sequence()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| fail("Fn::Join takes [delimiter, [values]]".into()))?;
            let delimiter = parts[0]
                .as_str()
                .ok_or_else(|| fail("Fn::Join's delimiter must be a string".into()))?;
            let items = resolve(&parts[1], lookup, at)?;
            let items = items
                .as_sequence()
                .ok_or_else(|| fail("Fn::Join's values must be a list".into()))?;
            let texts = items
                .iter()
                .map(|v| scalar_to_string(v).ok_or_else(|| fail("Fn::Join values must be scalars".into())))
                .collect::<Result<Vec<_>>>()?;
            Ok(texts.join(delimiter))
        }
        other => Err(fail(format!("{other} is not supported by the local stack"))),
    }
}

/// `Fn::If [condition, when true, when false]`: the branch the condition picks.
fn if_branch<'a>(argument: &'a Value, lookup: &dyn Lookup, at: &str) -> Result<&'a Value> {
    let parts = argument
        .as_sequence()
        .filter(|p| p.len() == 3)
        .ok_or_else(|| Error::intrinsic(at, "Fn::If takes [condition, value if true, value if false]"))?;
    let condition = parts[0]
        .as_str()
        .ok_or_else(|| Error::intrinsic(at, "Fn::If's condition must be a condition's name"))?;
    let holds = lookup.condition(condition).map_err(|e| Error::intrinsic(at, e))?;
    Ok(if holds { &parts[1] } else { &parts[2] })
}

fn get_att_target(argument: &Value) -> Option<(String, String)> {
    match argument {
        // Short form `!GetAtt A.B.C` means attribute `B.C` of resource `A`.
        Value::String(s) => s
            .split_once('.')
            .map(|(id, attribute)| (id.to_owned(), attribute.to_owned())),
        Value::Sequence(parts) if parts.len() == 2 => {
            Some((parts[0].as_str()?.to_owned(), parts[1].as_str()?.to_owned()))
        }
        _ => None,
    }
}

fn sub_parts(argument: &Value) -> Option<(&str, Vec<(String, &Value)>)> {
    match argument {
        Value::String(s) => Some((s, Vec::new())),
        Value::Sequence(parts) if parts.len() == 2 => {
            let variables = parts[1]
                .as_mapping()?
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v)))
                .collect();
            Some((parts[0].as_str()?, variables))
        }
        _ => None,
    }
}

/// `${Name}`, `${Id.Attribute}` and `${!Literal}` (which stays as `${Literal}`).
fn substitute(
    text: &str,
    variables: &BTreeMap<String, String>,
    lookup: &dyn Lookup,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for piece in sub_pieces(text)? {
        match piece {
            SubPiece::Text(t) => out.push_str(t),
            SubPiece::Variable(name) => {
                let value = match (variables.get(name), name.split_once('.')) {
                    (Some(v), _) => v.clone(),
                    (None, Some((id, attribute))) => lookup.attribute(id, attribute)?,
                    (None, None) => lookup.reference(name)?,
                };
                out.push_str(&value);
            }
        }
    }
    Ok(out)
}

enum SubPiece<'a> {
    Text(&'a str),
    Variable(&'a str),
}

fn sub_pieces(text: &str) -> std::result::Result<Vec<SubPiece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        pieces.push(SubPiece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        if let Some(literal) = after.strip_prefix('!') {
            pieces.push(SubPiece::Text("${"));
            rest = literal;
            continue;
        }
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated ${{ in Fn::Sub string {text:?}"))?;
        pieces.push(SubPiece::Variable(after[..end].trim()));
        rest = &after[end + 1..];
    }
    pieces.push(SubPiece::Text(rest));
    Ok(pieces)
}

fn collect_references(value: &Value, names: &mut BTreeSet<String>) {
    if let Some((name, argument)) = intrinsic(value) {
        match name.as_str() {
            "Ref" => names.extend(argument.as_str().map(str::to_owned)),
            "Fn::GetAtt" => names.extend(get_att_target(argument).map(|(id, _)| id)),
            "Fn::Sub" => {
                if let Some((text, variables)) = sub_parts(argument) {
                    let local: BTreeSet<&str> = variables.iter().map(|(k, _)| k.as_str()).collect();
                    for piece in sub_pieces(text).unwrap_or_default() {
                        if let SubPiece::Variable(var) = piece {
                            let id = var.split_once('.').map_or(var, |(id, _)| id);
                            if !local.contains(var) {
                                names.insert(id.to_owned());
                            }
                        }
                    }
                    for (_, v) in variables {
                        collect_references(v, names);
                    }
                }
            }
            _ => collect_references(argument, names),
        }
        return;
    }
    match value {
        Value::Mapping(map) => map.values().for_each(|v| collect_references(v, names)),
        Value::Sequence(items) => items.iter().for_each(|v| collect_references(v, names)),
        Value::Tagged(tagged) => collect_references(&tagged.value, names),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture;

    impl Lookup for Fixture {
        fn reference(&self, name: &str) -> std::result::Result<String, String> {
            match name {
                "AWS::Region" => Ok("us-east-1".into()),
                "AWS::AccountId" => Ok("123456789012".into()),
                "Param" => Ok("param-value".into()),
                "Table" => Ok("stack-Table".into()),
                other => Err(format!("unknown {other}")),
            }
        }

        fn attribute(&self, id: &str, attribute: &str) -> std::result::Result<String, String> {
            match (id, attribute) {
                ("Table", "Arn") => Ok("arn:table".into()),
                ("Table", "StreamArn") => Ok("arn:table/stream".into()),
                _ => Err(format!("no {attribute} on {id}")),
            }
        }

        fn condition(&self, name: &str) -> std::result::Result<bool, String> {
            match name {
                "Yes" => Ok(true),
                "No" => Ok(false),
                other => Err(format!("no condition {other}")),
            }
        }
    }

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    fn resolved(text: &str) -> Value {
        resolve(&yaml(text), &Fixture, "X").unwrap()
    }

    #[test]
    fn ref_short_and_long() {
        assert_eq!(resolved("!Ref Param"), Value::from("param-value"));
        assert_eq!(resolved("{Ref: Table}"), Value::from("stack-Table"));
        assert_eq!(resolved("!Ref AWS::Region"), Value::from("us-east-1"));
    }

    #[test]
    fn get_att_all_forms() {
        assert_eq!(resolved("!GetAtt Table.Arn"), Value::from("arn:table"));
        assert_eq!(
            resolved("!GetAtt [Table, StreamArn]"),
            Value::from("arn:table/stream")
        );
        assert_eq!(resolved("{Fn::GetAtt: [Table, Arn]}"), Value::from("arn:table"));
    }

    #[test]
    fn sub_with_pseudo_parameters_attributes_variables_and_literals() {
        assert_eq!(
            resolved("!Sub 'arn:${AWS::Region}:${AWS::AccountId}:${Param}-*'"),
            Value::from("arn:us-east-1:123456789012:param-value-*")
        );
        assert_eq!(
            resolved("!Sub '${Table.Arn}/index/*'"),
            Value::from("arn:table/index/*")
        );
        assert_eq!(
            resolved("!Sub 'keep ${!Literal} as is'"),
            Value::from("keep ${Literal} as is")
        );
        assert_eq!(
            resolved("{Fn::Sub: ['${Name}@${Param}', {Name: !Ref Table}]}"),
            Value::from("stack-Table@param-value")
        );
    }

    #[test]
    fn join_and_nesting() {
        let v = resolved("{A: [!Ref Param, {B: !Join [',', [x, !Ref Table, 3]]}], C: 7}");
        assert_eq!(v, yaml("{A: [param-value, {B: 'x,stack-Table,3'}], C: 7}"));
    }

    #[test]
    fn errors_name_the_location() {
        let err = resolve(&yaml("{Env: {V: !Ref Missing}}"), &Fixture, "Fn").unwrap_err();
        assert_eq!(err.to_string(), "template, Fn.Env.V: unknown Missing");
        let err = resolve(&yaml("{V: !If [Unknown, a, b]}"), &Fixture, "Fn").unwrap_err();
        assert_eq!(err.to_string(), "template, Fn.V: no condition Unknown");
        let err = resolve(&yaml("{V: !Select [0, [a]]}"), &Fixture, "Fn").unwrap_err();
        assert!(err.to_string().contains("Fn::Select is not supported"), "{err}");
        let err = resolve(&yaml("!Sub '${Param'"), &Fixture, "Fn").unwrap_err();
        assert!(err.to_string().contains("unterminated"), "{err}");
    }

    #[test]
    fn if_resolves_only_the_branch_its_condition_picks() {
        assert_eq!(
            resolved("!If [Yes, !Ref Param, !GetAtt Nowhere.Arn]"),
            Value::from("param-value")
        );
        assert_eq!(
            resolved("{Fn::If: [No, !GetAtt Nowhere.Arn, !Sub '${Table.Arn}/x']}"),
            Value::from("arn:table/x")
        );
        // nested, and a mapping as a branch
        assert_eq!(
            resolved("{V: !If [No, a, !If [Yes, {K: !Ref Table}, b]]}"),
            yaml("{V: {K: stack-Table}}")
        );
        // the branch that is taken still fails loudly
        let err = resolve(&yaml("!If [No, a, !GetAtt Nowhere.Arn]"), &Fixture, "Fn").unwrap_err();
        assert!(err.to_string().contains("no Arn on Nowhere"), "{err}");
        let err = resolve(&yaml("!If [Yes, a]"), &Fixture, "Fn").unwrap_err();
        assert!(err.to_string().contains("Fn::If takes"), "{err}");
    }

    #[test]
    fn references_cover_every_form() {
        let names = references(&yaml(
            "{A: !Ref P, B: !GetAtt [Q, Arn], C: !Sub '${R.Arn}-${S}-${!T}-${U}', D: {Fn::Sub: ['${V}${W}', {V: !Ref X}]}}",
        ));
        let expected: BTreeSet<String> = ["P", "Q", "R", "S", "U", "W", "X"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn scalars_become_text() {
        assert_eq!(scalar_to_string(&yaml("900")).as_deref(), Some("900"));
        assert_eq!(scalar_to_string(&yaml("true")).as_deref(), Some("true"));
        assert_eq!(scalar_to_string(&yaml("[1]")), None);
    }
}
