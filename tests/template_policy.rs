//! What template.yaml must hold for at-least-once delivery to lose nothing, checked on the
//! mappings as the local stack reads them: no linter looks inside SAM `Events`, and none
//! evaluates `FilterCriteria` patterns.

use std::collections::BTreeSet;

use domain::UserId;
use infra::dynamo::keys;
use local::esm::mapping_specs;
use local::{Stack, Template};
use serde_json::json;

fn template() -> Template {
    Template::from_path(&local::stack::template_path()).expect("template.yaml parses")
}

/// The logical id of the resource with this ARN.
fn by_arn(arn: &str) -> String {
    Stack::shared()
        .provisioned()
        .resources()
        .find(|r| r.arn.as_deref() == Some(arn))
        .unwrap_or_else(|| panic!("no resource has ARN {arn}"))
        .logical_id
        .clone()
}

fn number(value: &serde_yaml::Value) -> u64 {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .expect("a number")
}

/// The logical id a `!GetAtt X.Arn` (or `Fn::GetAtt`) names.
fn get_att_target(value: &serde_yaml::Value) -> Option<String> {
    let text = serde_yaml::to_string(value).ok()?;
    text.split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .find(|word| word.ends_with(".Arn") || word.ends_with(".QueueName"))
        .map(|word| word.split('.').next().unwrap().to_owned())
}

#[test]
fn every_mapping_reports_batch_item_failures_and_every_stream_mapping_has_limits() {
    let specs = mapping_specs(Stack::shared().provisioned()).expect("the mappings parse");
    assert!(specs.len() >= 4, "{specs:#?}");
    for spec in &specs {
        assert!(
            spec.report_batch_item_failures,
            "{} {} lacks ReportBatchItemFailures",
            spec.function, spec.event
        );
        if let Some(stream) = &spec.stream {
            assert!(stream.max_retries.is_some(), "{}: no retry limit", spec.function);
            assert!(
                stream.max_record_age.is_some(),
                "{}: no maximum record age",
                spec.function
            );
            assert!(stream.bisect_on_error, "{}: no bisect on error", spec.function);
            let destination = stream
                .on_failure
                .as_deref()
                .unwrap_or_else(|| panic!("{}: no on-failure destination", spec.function));
            assert_eq!(template().resources[&by_arn(destination)].kind, "AWS::SQS::Queue");
        }
    }
}

#[test]
fn every_consumed_queue_has_a_dlq_and_six_times_its_consumers_timeout() {
    let stack = Stack::shared();
    let template = template();
    for spec in mapping_specs(stack.provisioned())
        .unwrap()
        .iter()
        .filter(|s| s.stream.is_none())
    {
        let queue = by_arn(&spec.source_arn);
        let properties = &template.resources[&queue].properties;
        assert!(
            properties.get("RedrivePolicy").is_some(),
            "{queue} has no dead-letter queue"
        );
        let visibility = number(
            properties
                .get("VisibilityTimeout")
                .unwrap_or_else(|| panic!("{queue}: no VisibilityTimeout")),
        );
        let timeout = stack
            .provisioned()
            .function(&spec.function)
            .unwrap()
            .timeout
            .as_secs();
        assert!(
            visibility >= 6 * timeout,
            "{queue}: visibility {visibility}s < 6 x {timeout}s of {}",
            spec.function
        );
    }
}

#[test]
fn every_dead_letter_and_failure_queue_has_an_alarm() {
    let template = template();
    let mut dead_ends: BTreeSet<String> = template
        .resources
        .values()
        .filter_map(|r| {
            r.properties
                .get("RedrivePolicy")
                .and_then(|p| p.get("deadLetterTargetArn"))
                .and_then(get_att_target)
        })
        .collect();
    for spec in mapping_specs(Stack::shared().provisioned()).unwrap() {
        if let Some(destination) = spec.stream.and_then(|s| s.on_failure) {
            dead_ends.insert(by_arn(&destination));
        }
    }
    let alarmed: BTreeSet<String> = template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::CloudWatch::Alarm")
        .filter_map(|r| get_att_target(r.property("Dimensions")))
        .collect();
    assert!(dead_ends.len() >= 4, "{dead_ends:?}");
    let unwatched: Vec<_> = dead_ends.difference(&alarmed).collect();
    assert!(unwatched.is_empty(), "no alarm on {unwatched:?}");
}

fn stream_record(event_name: &str, sk: &str, new_image: bool) -> serde_json::Value {
    let mut dynamodb = json!({ "Keys": { "pk": { "S": "X#1" }, "sk": { "S": sk } } });
    if new_image {
        dynamodb["NewImage"] =
            json!({ "pk": { "S": "X#1" }, "sk": { "S": sk }, "kind": { "S": "result.recorded" } });
    }
    json!({ "eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb })
}

#[test]
fn the_stream_filters_let_through_exactly_what_their_consumers_handle() {
    let specs = mapping_specs(Stack::shared().provisioned()).unwrap();
    let filters = |function: &str| &specs.iter().find(|s| s.function == function).unwrap().filters;

    // sort keys as the codec writes them (infra::dynamo::keys)
    let runner = UserId::generate();
    let (result, entry) = (keys::result_sk(&runner), keys::entry_sk(&runner));
    let results = filters("OfficialRecordStreamFunction");
    assert!(results.matches(&stream_record("INSERT", &result, true)));
    assert!(
        results.matches(&stream_record("REMOVE", &result, false)),
        "removals count"
    );
    assert!(!results.matches(&stream_record("INSERT", &entry, true)));
    assert!(!results.matches(&stream_record("MODIFY", keys::META, true)));

    let mailer = filters("LogMailerFunction");
    assert!(mailer.matches(&stream_record("INSERT", "LOG#01J", true)));
    assert!(
        !mailer.matches(&stream_record("REMOVE", "LOG#01J", false)),
        "TTL removals are not new entries"
    );
}

/// `Ref X` / `!Ref X` as written.
fn ref_target(value: &serde_yaml::Value) -> Option<String> {
    let text = serde_yaml::to_string(value).ok()?;
    let text = text.trim();
    text.strip_prefix("!Ref ")
        .or_else(|| text.strip_prefix("Ref: "))
        .map(|t| t.trim().to_owned())
}

#[test]
fn every_alarm_reaches_the_alarm_topic_both_ways_and_says_what_to_do() {
    let template = template();
    let alarms: Vec<_> = template
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "AWS::CloudWatch::Alarm")
        .collect();
    assert!(alarms.len() >= 14, "{} alarms", alarms.len());
    for (id, alarm) in alarms {
        for actions in ["AlarmActions", "OKActions"] {
            let targets: Vec<_> = alarm
                .property(actions)
                .as_sequence()
                .unwrap_or_else(|| panic!("{id} has no {actions}"))
                .iter()
                .filter_map(ref_target)
                .collect();
            assert_eq!(targets, ["AlarmTopic"], "{id}.{actions}");
        }
        let description = serde_yaml::to_string(alarm.property("AlarmDescription")).unwrap();
        assert!(
            description.contains('`') && description.len() > 120,
            "{id}: the description names no command: {description}"
        );
    }
    let subscription = &template.resources["AlarmEmailSubscription"];
    assert_eq!(subscription.condition.as_deref(), Some("HasAlarmEmail"));
}

#[test]
fn every_function_and_work_queue_has_an_alarm_of_its_own() {
    let template = template();
    let watched: BTreeSet<String> = template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::CloudWatch::Alarm")
        .filter_map(|r| r.property("Dimensions").as_sequence())
        .flatten()
        .filter_map(|d| ref_target(d.get("Value")?).or_else(|| get_att_target(d.get("Value")?)))
        .collect();
    let functions: Vec<_> = template
        .functions()
        .unwrap()
        .into_iter()
        .map(|f| f.logical_id)
        .collect();
    assert!(functions.len() >= 6);
    for function in &functions {
        assert!(watched.contains(function), "no alarm watches {function}");
    }
    for queue in template
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "AWS::SQS::Queue")
        .map(|(id, _)| id)
    {
        assert!(watched.contains(queue), "no alarm watches {queue}");
    }
}

#[test]
fn the_dashboard_is_json_and_shows_every_function_queue_and_table() {
    let template = template();
    let body = template.resources["OperationsDashboard"].property("DashboardBody");
    let text = serde_yaml::to_string(body).unwrap();
    let text = text
        .trim()
        .strip_prefix("!Sub")
        .expect("the body is a !Sub string");
    let source: String = serde_yaml::from_str(text).expect("a string");
    // what CloudFormation substitutes, stood in for by plain names
    let mut named = BTreeSet::new();
    let mut substituted = String::new();
    let mut rest = source.as_str();
    while let Some(start) = rest.find("${") {
        substituted.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${") + start;
        let variable = &rest[start + 2..end];
        named.insert(variable.split('.').next().unwrap().to_owned());
        substituted.push_str(&variable.replace([':', '.'], "-"));
        rest = &rest[end + 1..];
    }
    substituted.push_str(rest);
    let dashboard: serde_json::Value = serde_json::from_str(&substituted).expect("the body is JSON");
    let widgets = dashboard["widgets"].as_array().expect("widgets");
    assert!(widgets.len() > 20);
    for (id, resource) in &template.resources {
        let shown = resource.is_function()
            || matches!(resource.kind.as_str(), "AWS::SQS::Queue" | "AWS::DynamoDB::Table");
        if shown {
            assert!(named.contains(id), "the dashboard does not show {id}");
        }
    }
    for variable in &named {
        assert!(
            variable.starts_with("AWS::") || template.resources.contains_key(variable),
            "the dashboard names {variable}, which is not a resource"
        );
    }
    // every metric the code emits is on a panel, in the namespace the code writes
    for metric in infra::metrics::Metric::ALL {
        let shown = widgets.iter().any(|w| {
            let metrics = w["properties"]["metrics"].to_string();
            metrics.contains(&format!("\\\"{}\\\"", metric.name()))
                || (metrics.contains(&format!("\"{}\"", metric.name()))
                    && metrics.contains(&format!("\"{}\"", infra::metrics::NAMESPACE)))
        });
        assert!(shown, "the dashboard has no panel for {}", metric.name());
    }
}

/// Every `prefix` in the template's stream filters, with the path of keys leading to it
/// (`dynamodb.Keys.sk.S`), by function.
fn filter_prefixes() -> Vec<(String, String, String)> {
    fn walk(value: &serde_json::Value, path: &str, found: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(fields) => {
                for (name, inner) in fields {
                    if name == "prefix"
                        && let Some(prefix) = inner.as_str()
                    {
                        found.push((path.to_owned(), prefix.to_owned()));
                    }
                    let next = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    walk(inner, &next, found);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, path, found)),
            _ => {}
        }
    }
    let mut prefixes = Vec::new();
    for function in template().functions().expect("functions parse") {
        for event in &function.events {
            let Some(filters) = event
                .properties
                .get("FilterCriteria")
                .and_then(|c| c.get("Filters"))
                .and_then(|f| f.as_sequence())
            else {
                continue;
            };
            for filter in filters {
                let pattern = filter
                    .get("Pattern")
                    .and_then(|p| p.as_str())
                    .expect("a JSON pattern");
                let pattern: serde_json::Value = serde_json::from_str(pattern).expect("the pattern is JSON");
                let mut found = Vec::new();
                walk(&pattern, "", &mut found);
                prefixes.extend(
                    found
                        .into_iter()
                        .map(|(path, prefix)| (function.logical_id.clone(), path, prefix)),
                );
            }
        }
    }
    prefixes
}

#[test]
fn the_stream_filters_prefixes_are_the_key_codecs() {
    let prefixes = filter_prefixes();
    // the official-result stream selects results by the codec's sort-key prefix
    assert!(
        prefixes.contains(&(
            "OfficialRecordStreamFunction".into(),
            "dynamodb.Keys.sk.S".into(),
            keys::RESULT_PREFIX.into()
        )),
        "{prefixes:?}"
    );
    // and no filter names a key prefix the codec does not define
    let codec = [
        keys::USER_PREFIX,
        keys::EMAIL_PREFIX,
        keys::REFRESH_PREFIX,
        keys::AWARD_PREFIX,
        keys::ANNOUNCE_PREFIX,
        keys::MARATHON_PREFIX,
        keys::ENTRY_PREFIX,
        keys::RESULT_PREFIX,
        keys::RUNNER_PREFIX,
        keys::RECORD_PREFIX,
        keys::ORGANIZER_PREFIX,
        keys::RANK_PREFIX,
        keys::LOG_PREFIX,
        keys::MAIL_PREFIX,
        keys::PART_PREFIX,
    ];
    for (function, path, prefix) in &prefixes {
        if path.contains(".Keys.") {
            assert!(
                codec.contains(&prefix.as_str()),
                "{function}: {path} prefix {prefix:?} is no key codec's"
            );
        }
    }
}
