//! Lambda event filtering: `FilterCriteria.Filters[].Pattern`, an EventBridge-style event
//! pattern matched against each record's JSON as the function would receive it. The
//! subset AWS documents for Lambda: exact values (strings, numbers, booleans, null, ""),
//! `equals-ignore-case`, `prefix`, `suffix`, `anything-but` (values, prefix, suffix,
//! ignore-case), `numeric` (equals and ranges), `exists`, `$or`, and nested keys. Several
//! filters are OR-ed; a record matching none is dropped (as AWS does). Patterns are checked
//! when the mapping starts, as CreateEventSourceMapping would: a bad one stops the stack
//! with a message instead of silently matching nothing.
//!
//! As in EventBridge, a pattern on a key whose value is an array matches when any element
//! matches, and `numeric` compares JSON numbers only (a DynamoDB `{"N": "5"}` is a string).

use serde_json::{Map, Value};

/// At most five filters per mapping (a Lambda quota).
const MAX_FILTERS: usize = 5;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters {
    patterns: Vec<Pattern>,
}

impl Filters {
    /// `FilterCriteria` as written in the template (`{"Filters": [{"Pattern": "..."}]}`);
    /// `Pattern` is JSON text, or already a mapping.
    pub fn parse(criteria: &Value) -> Result<Filters, String> {
        let filters = match criteria.get("Filters") {
            None | Some(Value::Null) => return Ok(Filters::default()),
            Some(Value::Array(filters)) => filters,
            Some(_) => return Err("FilterCriteria.Filters must be a list".into()),
        };
        if filters.len() > MAX_FILTERS {
            return Err(format!(
                "at most {MAX_FILTERS} filters are allowed, found {}",
                filters.len()
            ));
        }
        let patterns = filters
            .iter()
            .enumerate()
            .map(|(i, filter)| {
                let at = |e: String| format!("FilterCriteria.Filters[{i}].Pattern: {e}");
                let pattern = match filter.get("Pattern") {
                    Some(Value::String(text)) => {
                        serde_json::from_str(text).map_err(|e| at(format!("not JSON: {e}")))?
                    }
                    Some(other @ Value::Object(_)) => other.clone(),
                    _ => return Err(at("missing or not a JSON object".into())),
                };
                Pattern::parse(&pattern).map_err(at)
            })
            .collect::<Result<_, _>>()?;
        Ok(Filters { patterns })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// True when there are no filters or any filter matches.
    pub fn matches(&self, record: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(record))
    }
}

/// One event pattern: every field must match (AND); `$or` needs one of its alternatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Key(String, Node),
    AnyOf(Vec<Pattern>),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Nested(Pattern),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exactly(Value),
    EqualsIgnoreCase(String),
    Prefix { text: String, ignore_case: bool },
    Suffix { text: String, ignore_case: bool },
    AnythingBut(Exclusion),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Exclusion {
    Values(Vec<Value>),
    Prefix(String),
    Suffix(String),
    IgnoreCase(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Pattern {
    pub fn parse(pattern: &Value) -> Result<Pattern, String> {
        let object = pattern
            .as_object()
            .ok_or_else(|| "a pattern must be a JSON object".to_owned())?;
        if object.is_empty() {
            return Err("a pattern must not be empty".into());
        }
        Pattern::parse_object(object, "")
    }

    fn parse_object(object: &Map<String, Value>, path: &str) -> Result<Pattern, String> {
        let mut fields = Vec::with_capacity(object.len());
        for (key, value) in object {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key == "$or" {
                let alternatives = value
                    .as_array()
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| format!("{here}: $or takes a non-empty list of patterns"))?;
                let parsed = alternatives
                    .iter()
                    .map(|alternative| match alternative.as_object() {
                        Some(o) if !o.is_empty() => Pattern::parse_object(o, path),
                        _ => Err(format!("{here}: each $or alternative must be a non-empty object")),
                    })
                    .collect::<Result<_, _>>()?;
                fields.push(Field::AnyOf(parsed));
                continue;
            }
            let node = match value {
                Value::Object(nested) if !nested.is_empty() => {
                    Node::Nested(Pattern::parse_object(nested, &here)?)
                }
                Value::Array(matchers) if !matchers.is_empty() => Node::Leaf(
                    matchers
                        .iter()
                        .map(|m| Matcher::parse(m).map_err(|e| format!("{here}: {e}")))
                        .collect::<Result<_, _>>()?,
                ),
                _ => {
                    return Err(format!(
                        "{here}: expected a non-empty list of values or a nested object, got {value}"
                    ));
                }
            };
            fields.push(Field::Key(key.clone(), node));
        }
        Ok(Pattern { fields })
    }

    /// Whether `event` (a JSON object) matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.fields.iter().all(|field| match field {
            Field::AnyOf(alternatives) => alternatives.iter().any(|p| p.matches(event)),
            Field::Key(key, node) => {
                let value = event.as_object().and_then(|o| o.get(key));
                match node {
                    Node::Nested(pattern) => value.is_some_and(|v| v.is_object() && pattern.matches(v)),
                    Node::Leaf(matchers) => leaf_matches(matchers, value),
                }
            }
        })
    }
}

fn leaf_matches(matchers: &[Matcher], value: Option<&Value>) -> bool {
    matchers.iter().any(|matcher| match (matcher, value) {
        (Matcher::Exists(wanted), None) => !*wanted,
        (_, None) => false,
        // Comparison operators work on leaves only; an object is never a leaf.
        (_, Some(Value::Object(_))) => false,
        (Matcher::Exists(wanted), Some(Value::Array(items))) => *wanted != items.is_empty(),
        (Matcher::Exists(wanted), Some(_)) => *wanted,
        (matcher, Some(Value::Array(items))) => items.iter().any(|item| matcher.matches_scalar(item)),
        (matcher, Some(scalar)) => matcher.matches_scalar(scalar),
    })
}

impl Matcher {
    fn parse(value: &Value) -> Result<Matcher, String> {
        let object = match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {
                return Ok(Matcher::Exactly(value.clone()));
            }
            Value::Array(_) => return Err("a list inside a list of values is not allowed".into()),
            Value::Object(o) => o,
        };
        let mut entries = object.iter();
        let (Some((operator, argument)), None) = (entries.next(), entries.next()) else {
            return Err(format!("an operator object has exactly one key, got {value}"));
        };
        let text = |a: &Value| {
            a.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{operator} takes a string, got {a}"))
        };
        match operator.as_str() {
            "exists" => argument
                .as_bool()
                .map(Matcher::Exists)
                .ok_or_else(|| format!("exists takes true or false, got {argument}")),
            "equals-ignore-case" => Ok(Matcher::EqualsIgnoreCase(text(argument)?)),
            "prefix" | "suffix" => {
                let (text, ignore_case) = match argument {
                    Value::Object(o) if o.len() == 1 && o.contains_key("equals-ignore-case") => {
                        (text(&o["equals-ignore-case"])?, true)
                    }
                    other => (text(other)?, false),
                };
                Ok(if operator == "prefix" {
                    Matcher::Prefix { text, ignore_case }
                } else {
                    Matcher::Suffix { text, ignore_case }
                })
            }
            "anything-but" => Exclusion::parse(argument).map(Matcher::AnythingBut),
            "numeric" => parse_numeric(argument).map(Matcher::Numeric),
            other => Err(format!(
                "unsupported operator {other:?} (Lambda filters support exact values, equals-ignore-case, prefix, suffix, anything-but, numeric, exists and $or)"
            )),
        }
    }

    fn matches_scalar(&self, value: &Value) -> bool {
        match self {
            Matcher::Exactly(expected) => same_value(expected, value),
            Matcher::EqualsIgnoreCase(expected) => value
                .as_str()
                .is_some_and(|v| v.to_lowercase() == expected.to_lowercase()),
            Matcher::Prefix { text, ignore_case } => value.as_str().is_some_and(|v| {
                if *ignore_case {
                    v.to_lowercase().starts_with(&text.to_lowercase())
                } else {
                    v.starts_with(text.as_str())
                }
            }),
            Matcher::Suffix { text, ignore_case } => value.as_str().is_some_and(|v| {
                if *ignore_case {
                    v.to_lowercase().ends_with(&text.to_lowercase())
                } else {
                    v.ends_with(text.as_str())
                }
            }),
            Matcher::AnythingBut(exclusion) => exclusion.admits(value),
            Matcher::Numeric(conditions) => value
                .as_f64()
                .filter(|_| value.is_number())
                .is_some_and(|n| conditions.iter().all(|(op, bound)| op.holds(n, *bound))),
            Matcher::Exists(wanted) => *wanted,
        }
    }
}

impl Exclusion {
    fn parse(argument: &Value) -> Result<Exclusion, String> {
        match argument {
            Value::String(_) | Value::Number(_) => Ok(Exclusion::Values(vec![argument.clone()])),
            Value::Array(items)
                if !items.is_empty() && items.iter().all(|i| i.is_string() || i.is_number()) =>
            {
                Ok(Exclusion::Values(items.clone()))
            }
            Value::Object(o) if o.len() == 1 => {
                let (operator, value) = o.iter().next().expect("one entry");
                match (operator.as_str(), value) {
                    ("prefix", Value::String(p)) => Ok(Exclusion::Prefix(p.clone())),
                    ("suffix", Value::String(s)) => Ok(Exclusion::Suffix(s.clone())),
                    ("equals-ignore-case", Value::String(s)) => Ok(Exclusion::IgnoreCase(vec![s.clone()])),
                    ("equals-ignore-case", Value::Array(items)) if !items.is_empty() => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned))
                        .collect::<Option<_>>()
                        .map(Exclusion::IgnoreCase)
                        .ok_or_else(|| "anything-but equals-ignore-case takes strings".to_owned()),
                    _ => Err(format!("unsupported anything-but form {argument}")),
                }
            }
            _ => Err(format!(
                "anything-but takes a value, a non-empty list of values, or {{prefix|suffix|equals-ignore-case: ...}}, got {argument}"
            )),
        }
    }

    fn admits(&self, value: &Value) -> bool {
        match self {
            Exclusion::Values(excluded) => !excluded.iter().any(|e| same_value(e, value)),
            Exclusion::Prefix(p) => value.as_str().is_some_and(|v| !v.starts_with(p.as_str())),
            Exclusion::Suffix(s) => value.as_str().is_some_and(|v| !v.ends_with(s.as_str())),
            Exclusion::IgnoreCase(excluded) => value
                .as_str()
                .is_some_and(|v| !excluded.iter().any(|e| e.to_lowercase() == v.to_lowercase())),
        }
    }
}

/// Equality as event patterns see it: numbers by value (5 matches 5.0), the rest exactly.
fn same_value(pattern: &Value, value: &Value) -> bool {
    match (pattern, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// `["=", 5]`, `[">", 0]`, `[">", 0, "<=", 5]`: a lower bound before an upper one.
fn parse_numeric(argument: &Value) -> Result<Vec<(Comparison, f64)>, String> {
    let items = argument
        .as_array()
        .ok_or_else(|| format!("numeric takes a list, got {argument}"))?;
    if items.len() != 2 && items.len() != 4 {
        return Err(format!("numeric takes [op, n] or [op, n, op, n], got {argument}"));
    }
    let conditions = items
        .chunks(2)
        .map(|pair| {
            let op = match pair[0].as_str() {
                Some("=") => Comparison::Equal,
                Some("<") => Comparison::Less,
                Some("<=") => Comparison::LessOrEqual,
                Some(">") => Comparison::Greater,
                Some(">=") => Comparison::GreaterOrEqual,
                _ => return Err(format!("numeric: unknown operator {}", pair[0])),
            };
            let bound = pair[1]
                .as_f64()
                .filter(|_| pair[1].is_number())
                .ok_or_else(|| format!("numeric: {} is not a number", pair[1]))?;
            Ok((op, bound))
        })
        .collect::<Result<Vec<_>, String>>()?;
    if let [(first, _), (second, _)] = conditions.as_slice() {
        let lower = matches!(first, Comparison::Greater | Comparison::GreaterOrEqual);
        let upper = matches!(second, Comparison::Less | Comparison::LessOrEqual);
        if !(lower && upper) {
            return Err(format!(
                "numeric range must be a lower bound then an upper bound, got {argument}"
            ));
        }
    }
    Ok(conditions)
}

impl Comparison {
    fn holds(self, n: f64, bound: f64) -> bool {
        match self {
            Comparison::Equal => n == bound,
            Comparison::Less => n < bound,
            Comparison::LessOrEqual => n <= bound,
            Comparison::Greater => n > bound,
            Comparison::GreaterOrEqual => n >= bound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pattern(p: Value) -> Pattern {
        Pattern::parse(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn record() -> Value {
        json!({
            "eventName": "MODIFY",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
            "dynamodb": {
                "Keys": {"pk": {"S": "MARATHON#1"}, "sk": {"S": "RESULT#r1"}},
                "NewImage": {"sk": {"S": "RESULT#r1"}, "points": {"N": "100"}, "status": {"S": "Official"}},
                "SizeBytes": 120
            },
            "tags": ["a", "b"],
            "nothing": null,
            "empty": ""
        })
    }

    #[test]
    fn exact_values_nested_keys_and_lists() {
        let r = record();
        assert!(pattern(json!({"eventName": ["INSERT", "MODIFY"]})).matches(&r));
        assert!(!pattern(json!({"eventName": ["INSERT"]})).matches(&r));
        assert!(pattern(json!({"dynamodb": {"NewImage": {"points": {"N": ["100"]}}}})).matches(&r));
        assert!(!pattern(json!({"dynamodb": {"NewImage": {"points": {"N": [100]}}}})).matches(&r));
        assert!(pattern(json!({"dynamodb": {"SizeBytes": [120.0]}})).matches(&r));
        assert!(
            pattern(json!({"tags": ["b"]})).matches(&r),
            "any element of an array"
        );
        assert!(pattern(json!({"nothing": [null], "empty": [""]})).matches(&r));
        assert!(
            !pattern(json!({"dynamodb": ["x"]})).matches(&r),
            "objects are not leaves"
        );
        assert!(!pattern(json!({"missing": ["x"]})).matches(&r));
    }

    #[test]
    fn prefix_suffix_and_ignore_case() {
        let r = record();
        assert!(pattern(json!({"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "RESULT#"}]}}}})).matches(&r));
        assert!(!pattern(json!({"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "ENTRY#"}]}}}})).matches(&r));
        assert!(pattern(json!({"eventSourceARN": [{"suffix": "/stream/x"}]})).matches(&r));
        assert!(pattern(json!({"eventName": [{"equals-ignore-case": "modify"}]})).matches(&r));
        assert!(pattern(json!({"eventName": [{"prefix": {"equals-ignore-case": "mod"}}]})).matches(&r));
        assert!(!pattern(json!({"eventName": [{"prefix": "mod"}]})).matches(&r));
    }

    #[test]
    fn anything_but_forms() {
        let r = record();
        assert!(!pattern(json!({"eventName": [{"anything-but": "MODIFY"}]})).matches(&r));
        assert!(pattern(json!({"eventName": [{"anything-but": ["INSERT", "REMOVE"]}]})).matches(&r));
        assert!(!pattern(json!({"eventName": [{"anything-but": {"prefix": "MOD"}}]})).matches(&r));
        assert!(pattern(json!({"eventName": [{"anything-but": {"suffix": "X"}}]})).matches(&r));
        assert!(
            !pattern(json!({"eventName": [{"anything-but": {"equals-ignore-case": ["modify"]}}]}))
                .matches(&r)
        );
        assert!(
            !pattern(json!({"missing": [{"anything-but": "x"}]})).matches(&r),
            "anything-but needs the field"
        );
    }

    #[test]
    fn numeric_exists_and_or() {
        let r = record();
        assert!(
            pattern(json!({"dynamodb": {"SizeBytes": [{"numeric": [">", 100, "<=", 120]}]}})).matches(&r)
        );
        assert!(!pattern(json!({"dynamodb": {"SizeBytes": [{"numeric": ["<", 120]}]}})).matches(&r));
        assert!(pattern(json!({"dynamodb": {"SizeBytes": [{"numeric": ["=", 120]}]}})).matches(&r));
        assert!(
            !pattern(json!({"dynamodb": {"NewImage": {"points": {"N": [{"numeric": [">", 1]}]}}}}))
                .matches(&r),
            "numeric never matches a string"
        );
        assert!(pattern(json!({"dynamodb": {"OldImage": [{"exists": false}]}})).matches(&r));
        assert!(!pattern(json!({"dynamodb": {"NewImage": [{"exists": true}]}})).matches(&r));
        assert!(
            pattern(json!({"dynamodb": {"NewImage": {"status": {"S": [{"exists": true}]}}}})).matches(&r)
        );
        assert!(pattern(json!({"$or": [{"eventName": ["INSERT"]}, {"tags": ["a"]}]})).matches(&r));
        assert!(!pattern(json!({"$or": [{"eventName": ["INSERT"]}, {"tags": ["z"]}]})).matches(&r));
    }

    #[test]
    fn several_filters_are_or_ed_and_none_match_everything() {
        let r = record();
        assert!(Filters::default().matches(&r));
        let criteria = json!({"Filters": [
            {"Pattern": "{\"eventName\": [\"INSERT\"]}"},
            {"Pattern": "{\"eventName\": [\"MODIFY\"]}"}
        ]});
        assert!(Filters::parse(&criteria).unwrap().matches(&r));
        let criteria = json!({"Filters": [{"Pattern": "{\"eventName\": [\"INSERT\"]}"}]});
        assert!(!Filters::parse(&criteria).unwrap().matches(&r));
    }

    #[test]
    fn bad_patterns_are_refused_with_the_place() {
        for (bad, says) in [
            (json!({"Filters": [{"Pattern": "{not json"}]}), "not JSON"),
            (
                json!({"Filters": [{"Pattern": "{\"a\": \"x\"}"}]}),
                "a: expected a non-empty list",
            ),
            (
                json!({"Filters": [{"Pattern": "{\"a\": []}"}]}),
                "a: expected a non-empty list",
            ),
            (
                json!({"Filters": [{"Pattern": "{\"a\": {\"b\": [{\"wildcard\": \"*\"}]}}"}]}),
                "a.b: unsupported operator",
            ),
            (
                json!({"Filters": [{"Pattern": "{\"a\": [{\"numeric\": [\"<\", 1, \">\", 0]}]}"}]}),
                "lower bound",
            ),
            (
                json!({"Filters": [{"Pattern": "{\"a\": [{\"exists\": \"yes\"}]}"}]}),
                "exists takes",
            ),
            (json!({"Filters": [{"Pattern": "[]"}]}), "JSON object"),
            (json!({"Filters": "x"}), "must be a list"),
        ] {
            let err = Filters::parse(&bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
