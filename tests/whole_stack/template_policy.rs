//! What template.yaml must hold for at-least-once delivery to lose nothing, checked on the
//! mappings as the local stack reads them: no linter looks inside SAM `Events`, and none
//! evaluates `FilterCriteria` patterns. And what keeps the web app's origin safe: a private
//! bucket only the distribution reads, the API under /api uncached and unrewritten, the
//! site's security headers, the links of mails and posts.

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
            // retries outlast an outage of hours: bounded by the record's age, well inside
            // the stream's 24 hours (the rest is left for `make replay`), not by a count
            assert_eq!(stream.max_retries, None, "{}: retries are counted", spec.function);
            let age = stream
                .max_record_age
                .unwrap_or_else(|| panic!("{}: no maximum record age", spec.function));
            assert!(
                (3600..=12 * 3600).contains(&age.as_secs()),
                "{}: records kept {age:?}",
                spec.function
            );
            assert!(stream.bisect_on_error, "{}: no bisect on error", spec.function);
            let destination = stream
                .on_failure
                .as_deref()
                .unwrap_or_else(|| panic!("{}: no on-failure destination", spec.function));
            let queue = by_arn(destination);
            assert_eq!(template().resources[&queue].kind, "AWS::SQS::Queue");
            // poison is parked by the function itself, on the same queue
            let parks_on = Stack::shared()
                .provisioned()
                .function_env(&spec.function)
                .ok()
                .and_then(|env| {
                    env.iter()
                        .find(|(name, _)| name.ends_with("_FAILURES_QUEUE_URL"))
                        .map(|(_, url)| url.clone())
                });
            assert_eq!(
                parks_on.as_deref(),
                Stack::shared().provisioned().url(&queue),
                "{}: its *_FAILURES_QUEUE_URL is not its on-failure queue",
                spec.function
            );
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
    // the stream mapping (log-mailer also consumes MailRetryQueue)
    let filters = |function: &str| {
        &specs
            .iter()
            .find(|s| s.function == function && s.is_stream())
            .unwrap()
            .filters
    };

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
        // a queue's alarm names the one command that empties it, locally and on AWS
        let queue = alarm
            .property("Dimensions")
            .as_sequence()
            .and_then(|d| d.first())
            .and_then(|d| get_att_target(&d["Value"]))
            .filter(|q| {
                template
                    .resources
                    .get(q)
                    .is_some_and(|r| r.kind == "AWS::SQS::Queue")
            });
        if let Some(queue) = queue {
            let flat = description.split_whitespace().collect::<Vec<_>>().join(" ");
            let stream_failures = mapping_specs(Stack::shared().provisioned())
                .unwrap()
                .iter()
                .filter_map(|s| s.stream.as_ref()?.on_failure.clone())
                .any(|arn| by_arn(&arn) == queue);
            let local = if stream_failures {
                format!("`make replay QUEUE={queue}`")
            } else {
                format!("`make redrive QUEUE={queue}`")
            };
            if queue.ends_with("DLQ") || stream_failures {
                assert!(flat.contains(&local), "{id} does not say {local}: {flat}");
            }
        }
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

// ---- the web app on CloudFront (issue 19): one origin, a private bucket, the API under /api

/// CloudFront's managed policies, by their fixed ids.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// The one CSP of the web app contract (CONTRACT.md), the local gateway's as well, with
/// one origin more in connect-src: the imports bucket's, for the organizer's upload to the
/// presigned URL (the local gateway puts the emulator's origin there).
const SITE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' https://${AWS::StackName}-imports-${AWS::AccountId}.s3.${AWS::Region}.${AWS::URLSuffix}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// `(function, argument)` of an intrinsic as written, short (`!GetAtt`) or long
/// (`Fn::GetAtt:`) form: `("GetAtt", ..)`, `("Ref", ..)`, `("Sub", ..)`, `("If", ..)`.
fn intrinsic(value: &serde_yaml::Value) -> Option<(String, &serde_yaml::Value)> {
    match value {
        serde_yaml::Value::Tagged(tagged) => Some((
            tagged.tag.to_string().trim_start_matches('!').to_owned(),
            &tagged.value,
        )),
        serde_yaml::Value::Mapping(map) if map.len() == 1 => {
            let (key, argument) = map.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key.starts_with("Fn::"))
                .then(|| (key.trim_start_matches("Fn::").to_owned(), argument))
        }
        _ => None,
    }
}

/// `!Ref X` -> X.
fn referenced(value: &serde_yaml::Value) -> Option<String> {
    match intrinsic(value)? {
        (f, argument) if f == "Ref" => argument.as_str().map(str::to_owned),
        _ => None,
    }
}

/// `!GetAtt X.Y` or `[X, Y]` -> "X.Y".
fn attribute(value: &serde_yaml::Value) -> Option<String> {
    match intrinsic(value)? {
        (f, serde_yaml::Value::String(s)) if f == "GetAtt" => Some(s.clone()),
        (f, serde_yaml::Value::Sequence(parts)) if f == "GetAtt" && parts.len() == 2 => {
            Some(format!("{}.{}", parts[0].as_str()?, parts[1].as_str()?))
        }
        _ => None,
    }
}

/// The text of a `!Sub` string.
fn substituted(value: &serde_yaml::Value) -> Option<String> {
    match intrinsic(value)? {
        (f, serde_yaml::Value::String(s)) if f == "Sub" => Some(s.clone()),
        _ => None,
    }
}

fn text(value: &serde_yaml::Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value:?}"))
}

fn distribution(template: &Template) -> serde_yaml::Value {
    let resource = &template.resources["SiteDistribution"];
    assert_eq!(resource.kind, "AWS::CloudFront::Distribution");
    resource.property("DistributionConfig").clone()
}

/// The origin a behaviour sends to.
fn origin_of<'a>(config: &'a serde_yaml::Value, behaviour: &serde_yaml::Value) -> &'a serde_yaml::Value {
    let id = text(&behaviour["TargetOriginId"]);
    config["Origins"]
        .as_sequence()
        .expect("origins")
        .iter()
        .find(|o| o["Id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no origin {id}"))
}

/// The CloudFront function a behaviour runs on viewer requests (its logical id).
fn viewer_request_function(behaviour: &serde_yaml::Value) -> String {
    let associations = behaviour["FunctionAssociations"]
        .as_sequence()
        .expect("function associations");
    let on_request: Vec<_> = associations
        .iter()
        .filter(|a| a["EventType"].as_str() == Some("viewer-request"))
        .collect();
    assert_eq!(on_request.len(), 1, "{associations:?}");
    let target = attribute(&on_request[0]["FunctionARN"]).expect("!GetAtt <function>.FunctionARN");
    let (function, attribute) = target.split_once('.').unwrap();
    assert_eq!(attribute, "FunctionARN");
    function.to_owned()
}

fn assert_cloudfront_function(template: &Template, id: &str) {
    let function = &template.resources[id];
    assert_eq!(function.kind, "AWS::CloudFront::Function", "{id}");
    assert_eq!(
        function.property("AutoPublish").as_bool(),
        Some(true),
        "{id} is published"
    );
    assert_eq!(
        function.property("FunctionConfig")["Runtime"].as_str(),
        Some("cloudfront-js-2.0"),
        "{id}"
    );
}

#[test]
fn the_site_bucket_is_private_and_serves_no_website() {
    let template = template();
    let buckets: Vec<_> = template
        .resources
        .iter()
        .filter(|(id, r)| r.kind == "AWS::S3::Bucket" && *id != "ImportsBucket")
        .collect();
    assert_eq!(buckets.len(), 1, "one bucket for the site, beside the imports'");
    let (id, bucket) = buckets[0];
    assert_eq!(id, "SiteBucket");
    let block = bucket.property("PublicAccessBlockConfiguration");
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting].as_bool(), Some(true), "{setting}");
    }
    assert!(
        bucket.properties.get("WebsiteConfiguration").is_none(),
        "website hosting is public"
    );
    assert!(bucket.properties.get("AccessControl").is_none(), "no canned ACL");
    assert_eq!(
        bucket.property("OwnershipControls")["Rules"][0]["ObjectOwnership"].as_str(),
        Some("BucketOwnerEnforced")
    );
    let encryption = &bucket.property("BucketEncryption")["ServerSideEncryptionConfiguration"][0];
    assert!(
        encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            .as_str()
            .is_some()
    );
}

#[test]
fn only_this_distribution_reads_the_bucket() {
    let template = template();
    let policies: Vec<_> = template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::S3::BucketPolicy")
        .collect();
    assert_eq!(policies.len(), 1);
    let policy = policies[0];
    assert_eq!(
        referenced(policy.property("Bucket")).as_deref(),
        Some("SiteBucket")
    );
    let statements = policy.property("PolicyDocument")["Statement"]
        .as_sequence()
        .expect("statements");
    assert_eq!(statements.len(), 1, "{statements:?}");
    let statement = &statements[0];
    assert_eq!(statement["Effect"].as_str(), Some("Allow"));
    let principal = statement["Principal"].as_mapping().expect("a principal mapping");
    assert_eq!(principal.len(), 1, "{principal:?}");
    assert_eq!(
        statement["Principal"]["Service"].as_str(),
        Some("cloudfront.amazonaws.com")
    );
    assert_eq!(statement["Action"].as_str(), Some("s3:GetObject"));
    assert_eq!(
        substituted(&statement["Resource"]).as_deref(),
        Some("${SiteBucket.Arn}/*")
    );
    let conditions = statement["Condition"].as_mapping().expect("a condition");
    assert_eq!(conditions.len(), 1);
    let source = substituted(&statement["Condition"]["StringEquals"]["AWS:SourceArn"])
        .expect("StringEquals AWS:SourceArn is a !Sub");
    assert_eq!(
        source,
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${SiteDistribution}"
    );
}

#[test]
fn the_default_behaviour_reads_the_bucket_through_oac_with_the_security_headers() {
    let template = template();
    let config = distribution(&template);
    let default = &config["DefaultCacheBehavior"];
    let origin = origin_of(&config, default);
    assert_eq!(
        attribute(&origin["DomainName"]).as_deref(),
        Some("SiteBucket.RegionalDomainName")
    );
    assert_eq!(
        attribute(&origin["OriginAccessControlId"]).as_deref(),
        Some("SiteOriginAccessControl.Id")
    );
    assert_eq!(
        origin["S3OriginConfig"]["OriginAccessIdentity"].as_str(),
        Some(""),
        "OAC, not a legacy origin access identity"
    );
    let oac = &template.resources["SiteOriginAccessControl"].property("OriginAccessControlConfig");
    assert_eq!(
        (
            oac["OriginAccessControlOriginType"].as_str(),
            oac["SigningBehavior"].as_str(),
            oac["SigningProtocol"].as_str()
        ),
        (Some("s3"), Some("always"), Some("sigv4"))
    );
    assert_eq!(
        default["ViewerProtocolPolicy"].as_str(),
        Some("redirect-to-https")
    );
    assert_eq!(default["CachePolicyId"].as_str(), Some(CACHING_OPTIMIZED));
    assert_eq!(default["Compress"].as_bool(), Some(true));
    assert_eq!(viewer_request_function(default), "SpaRewriteFunction");
    assert_cloudfront_function(&template, "SpaRewriteFunction");
    assert_eq!(config["DefaultRootObject"].as_str(), Some("index.html"));

    let policy_id = referenced(&default["ResponseHeadersPolicyId"]).expect("!Ref <policy>");
    let policy = &template.resources[&policy_id];
    assert_eq!(policy.kind, "AWS::CloudFront::ResponseHeadersPolicy");
    let headers = &policy.property("ResponseHeadersPolicyConfig")["SecurityHeadersConfig"];
    let csp = substituted(&headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
        .expect("the CSP is a !Sub (the imports bucket's origin)");
    let csp = csp.as_str();
    assert_eq!(csp, SITE_CSP);
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix(name).map(str::trim))
            .unwrap_or_else(|| panic!("no {name} in {csp}"))
    };
    assert_eq!(directive("default-src"), "'self'");
    assert_eq!(directive("frame-ancestors"), "'none'");
    for unsafe_source in ["'unsafe-inline'", "'unsafe-eval'", "*", "data:"] {
        assert!(
            !directive("script-src").split(' ').any(|s| s == unsafe_source),
            "script-src allows {unsafe_source}"
        );
    }
    assert_eq!(headers["ContentTypeOptions"]["Override"].as_bool(), Some(true));
    assert_eq!(headers["FrameOptions"]["FrameOption"].as_str(), Some("DENY"));
    assert_eq!(
        headers["ReferrerPolicy"]["ReferrerPolicy"].as_str(),
        Some("strict-origin-when-cross-origin")
    );
    let hsts_seconds = number(&headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"]);
    assert!(
        hsts_seconds >= 31_536_000,
        "HSTS for at least a year: {hsts_seconds}"
    );
}

#[test]
fn the_api_behaviour_forwards_everything_uncached_with_the_prefix_stripped() {
    let template = template();
    let config = distribution(&template);
    let behaviours = config["CacheBehaviors"].as_sequence().expect("cache behaviours");
    let api: Vec<_> = behaviours
        .iter()
        .filter(|b| b["PathPattern"].as_str() == Some("/api/*"))
        .collect();
    assert_eq!(api.len(), 1, "{behaviours:?}");
    let api = api[0];
    assert_eq!(api["CachePolicyId"].as_str(), Some(CACHING_DISABLED));
    assert_eq!(
        api["OriginRequestPolicyId"].as_str(),
        Some(ALL_VIEWER_EXCEPT_HOST_HEADER)
    );
    assert_eq!(viewer_request_function(api), "ApiPrefixFunction");
    assert_cloudfront_function(&template, "ApiPrefixFunction");
    let methods: BTreeSet<&str> = api["AllowedMethods"]
        .as_sequence()
        .expect("allowed methods")
        .iter()
        .map(text)
        .collect();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"] {
        assert!(methods.contains(method), "{method} does not reach the API");
    }
    assert!(
        api.get("ResponseHeadersPolicyId").is_none(),
        "the site's CSP is not the API's (Swagger UI at /api/docs)"
    );
    let origin = origin_of(&config, api);
    assert_eq!(
        substituted(&origin["DomainName"]).as_deref(),
        Some("${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")
    );
    assert_eq!(
        origin["CustomOriginConfig"]["OriginProtocolPolicy"].as_str(),
        Some("https-only")
    );
    // error pages would turn the API's 403/404 problem+json into the app's HTML
    assert!(
        config.get("CustomErrorResponses").is_none(),
        "CustomErrorResponses rewrite the API's errors too"
    );
}

#[test]
fn mails_and_posts_link_to_the_site_url_or_the_distribution() {
    let template = template();
    let condition = serde_yaml::to_string(&template.conditions["HasSiteUrl"]).unwrap();
    assert!(
        condition.contains("!Not") && condition.contains("!Ref SiteUrl") && condition.contains("''"),
        "HasSiteUrl: SiteUrl is not empty, got {condition}"
    );
    for function in ["LogMailerFunction", "DiscordWebhookFunction"] {
        let def = template
            .functions()
            .unwrap()
            .into_iter()
            .find(|f| f.logical_id == function)
            .unwrap();
        let value = def
            .environment
            .get("SITE_URL")
            .unwrap_or_else(|| panic!("{function} gets no SITE_URL"));
        let (f, argument) = intrinsic(value).expect("an !If");
        assert_eq!(f, "If", "{function}");
        let branches = argument.as_sequence().unwrap();
        assert_eq!(branches[0].as_str(), Some("HasSiteUrl"));
        assert_eq!(referenced(&branches[1]).as_deref(), Some("SiteUrl"));
        assert_eq!(
            substituted(&branches[2]).as_deref(),
            Some("https://${SiteDistribution.DomainName}")
        );
        // locally the site is the gateway: the stack resolves the parameter's branch
        let local = Stack::shared().provisioned().function_env(function).unwrap();
        assert_eq!(
            local["SITE_URL"],
            template.local_parameters().unwrap()["SiteUrl"],
            "{function}"
        );
    }
    let outputs: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(local::stack::template_path()).unwrap()).unwrap();
    let outputs = &outputs["Outputs"];
    assert_eq!(
        substituted(&outputs["SiteUrl"]["Value"]).as_deref(),
        Some("https://${SiteDistribution.DomainName}")
    );
    assert_eq!(
        referenced(&outputs["SiteBucketName"]["Value"]).as_deref(),
        Some("SiteBucket")
    );
    assert_eq!(
        referenced(&outputs["SiteDistributionId"]["Value"]).as_deref(),
        Some("SiteDistribution")
    );
}

#[test]
fn the_local_stack_records_the_site_resources_and_creates_none() {
    let template = template();
    let provisioned = Stack::shared().provisioned();
    let site: Vec<_> = template
        .resources
        .iter()
        .filter(|(_, r)| r.kind.starts_with("AWS::S3::") || r.kind.starts_with("AWS::CloudFront::"))
        .map(|(id, _)| id)
        .filter(|id| *id != "ImportsBucket")
        .collect();
    assert_eq!(site.len(), 7, "{site:?}");
    // the imports bucket is a function's trigger: it exists locally
    assert!(
        provisioned
            .resource("ImportsBucket")
            .is_some_and(|r| r.created || r.arn.is_some())
    );
    for id in site {
        let resource = provisioned
            .resource(id)
            .unwrap_or_else(|| panic!("{id} is not recorded"));
        assert!(!resource.created, "{id} was created on the emulator");
    }
}

/// Runs a CloudFront Function's code from the template under node (cloudfront-js-2.0 is
/// a subset of the JavaScript node runs) on a viewer request, and answers the request as
/// the function leaves it.
fn run_cloudfront_function(template: &Template, id: &str, uri: &str, host: &str) -> serde_json::Value {
    let code = template.resources[id]
        .property("FunctionCode")
        .as_str()
        .unwrap_or_else(|| panic!("{id} has inline code"))
        .to_owned();
    let event = serde_json::json!({
        "request": { "method": "GET", "uri": uri, "querystring": {}, "cookies": {},
                     "headers": { "host": { "value": host },
                                  "x-forwarded-host": { "value": "attacker.example" } } }
    });
    let script = format!("{code}\nprocess.stdout.write(JSON.stringify(handler({event})));");
    let output = std::process::Command::new("node")
        .args(["-e", &script])
        .output()
        .expect("node runs (the web app needs it too)");
    assert!(
        output.status.success(),
        "{id}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the function answers a request")
}

#[test]
fn the_cloudfront_functions_strip_the_api_prefix_and_answer_spa_routes_with_the_shell() {
    let template = template();
    let api = |uri| run_cloudfront_function(&template, "ApiPrefixFunction", uri, "site.example");
    for (uri, expected) in [
        ("/api/auth/login", "/auth/login"),
        (
            "/api/marathons/01JD6ZQ3Q5V9Y0M3N2W8T4K7RB/results",
            "/marathons/01JD6ZQ3Q5V9Y0M3N2W8T4K7RB/results",
        ),
        ("/api", "/"),
        ("/api/", "/"),
    ] {
        let request = api(uri);
        assert_eq!(request["uri"], expected, "{uri}");
        assert_eq!(
            request["headers"]["x-forwarded-host"]["value"], "site.example",
            "the viewer's host, whatever the viewer sent as x-forwarded-host"
        );
    }
    let spa =
        |uri| run_cloudfront_function(&template, "SpaRewriteFunction", uri, "site.example")["uri"].clone();
    for (uri, expected) in [
        ("/", "/index.html"),
        ("/marathons/01JD6ZQ3Q5V9Y0M3N2W8T4K7RB/results", "/index.html"),
        ("/assets/index-3f2a.js", "/assets/index-3f2a.js"),
        ("/favicon.svg", "/favicon.svg"),
    ] {
        assert_eq!(spa(uri), expected, "{uri}");
    }
}

#[test]
fn the_discord_consumer_has_bounded_concurrency() {
    let template = template();
    let awards = &template.resources["DiscordWebhookFunction"].property("Events")["Awards"]["Properties"];
    // the lowest SQS allows: the webhook's rate limit is shared by every invocation
    assert_eq!(number(&awards["ScalingConfig"]["MaximumConcurrency"]), 2);
}

/// A `Resource` of an IAM statement, read from the raw text: the value of a `Resource:`
/// line, or each item of the list under one. With the line number, the line above it.
fn resources(text: &str) -> Vec<(usize, String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut list_indent: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let above = if i > 0 {
            lines[i - 1].trim().to_owned()
        } else {
            String::new()
        };
        if let Some(list) = list_indent {
            if indent > list && trimmed.starts_with("- ") {
                found.push((i + 1, trimmed[2..].to_owned(), above));
                continue;
            }
            list_indent = None;
        }
        if let Some(value) = trimmed
            .strip_prefix("Resource:")
            .or_else(|| trimmed.strip_prefix("- Resource:"))
        {
            if value.trim().is_empty() {
                list_indent = Some(indent);
            } else {
                found.push((i + 1, value.trim().to_owned(), above));
            }
        }
    }
    found
}

#[test]
fn no_wildcard_resource_without_a_comment_saying_why() {
    let text = std::fs::read_to_string(local::stack::template_path()).expect("template.yaml");
    let all = resources(&text);
    assert!(
        all.len() >= 15,
        "the reader finds the template's resources: {all:?}"
    );
    let unjustified: Vec<_> = all
        .iter()
        .filter(|(_, value, above)| value.contains('*') && !above.starts_with('#'))
        .collect();
    assert!(
        unjustified.is_empty(),
        "wildcard resources need a comment on the line above saying why: {unjustified:#?}"
    );
    // the reader sees what it must: a bare "*" without a comment is caught
    let bare = "      Policies:\n        - Statement:\n            - Effect: Allow\n              Action: ses:SendRawEmail\n              Resource: \"*\"\n";
    assert_eq!(
        resources(bare),
        [(5, "\"*\"".to_owned(), "Action: ses:SendRawEmail".to_owned())]
    );
    let listed =
        "              Resource:\n                # why\n                - !Sub \"${T.Arn}/index/*\"\n";
    assert_eq!(resources(listed)[0].2, "# why");
}

#[test]
fn mail_goes_out_as_the_sender_identity_only_and_secret_arns_match_exactly() {
    let text = std::fs::read_to_string(local::stack::template_path()).expect("template.yaml");
    let all = resources(&text);
    let ses: Vec<_> = all.iter().filter(|(_, v, _)| v.contains(":ses:")).collect();
    assert_eq!(ses.len(), 1, "{all:#?}");
    assert!(ses[0].1.ends_with(":identity/${MailIdentity}"), "{:?}", ses[0]);
    let secrets: Vec<_> = all
        .iter()
        .filter(|(_, v, _)| v.contains(":secretsmanager:"))
        .collect();
    assert_eq!(secrets.len(), 3, "{all:#?}");
    for (line, value, _) in secrets {
        // Secrets Manager's suffix is "-" and six characters, exactly
        assert!(value.ends_with("}-??????"), "line {line}: {value}");
    }
    assert!(template().parameters.contains_key("MailIdentity"));
}

/// The statements of a function's inline policies on one table.
fn statements_on(template: &Template, function: &str, table: &str) -> Vec<serde_yaml::Value> {
    template.resources[function]
        .property("Policies")
        .as_sequence()
        .expect("Policies")
        .iter()
        .filter_map(|p| p.get("Statement").and_then(|s| s.as_sequence()))
        .flatten()
        .filter(|st| get_att_target(&st["Resource"]).as_deref() == Some(table))
        .cloned()
        .collect()
}

fn readable_attributes(statement: &serde_yaml::Value) -> BTreeSet<String> {
    let condition = &statement["Condition"];
    assert_eq!(
        condition["StringEqualsIfExists"]["dynamodb:Select"].as_str(),
        Some("SPECIFIC_ATTRIBUTES"),
        "a read without a projection must be refused: {statement:?}"
    );
    condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        .as_sequence()
        .expect("dynamodb:Attributes")
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn functions_that_only_name_or_mail_users_or_keep_the_ledger_cannot_touch_credentials() {
    let template = template();
    let keys = ["pk", "sk"];
    let names = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<BTreeSet<_>>();
    let mut record_api = names(&keys);
    record_api.extend(names(&infra::dynamo::users::PUBLIC_PROFILE_ATTRIBUTES));
    record_api.insert(infra::dynamo::points::TOTAL_POINTS.to_owned());
    record_api.extend(names(&infra::dynamo::points::AWARD_ATTRIBUTES));
    // the leaderboard names its runners with a part of the public profile
    assert!(names(&infra::dynamo::leaderboard::NAME_ATTRIBUTES).is_subset(&record_api));
    let mut log_mailer = names(&keys);
    log_mailer.extend(names(&log_mailer::recipients::PROFILE_ATTRIBUTES));
    let point_increase = names(&infra::dynamo::ledger::ledger_attributes());
    for (function, expected) in [
        ("RecordApiFunction", record_api),
        ("LogMailerFunction", log_mailer),
        ("PointIncreaseFunction", point_increase),
    ] {
        // on the table itself (record-api's statement on the leaderboard index is held
        // by the_leaderboard_index_is_read_by_its_keys_only)
        let statements: Vec<_> = statements_on(&template, function, "UsersTable")
            .into_iter()
            .filter(|st| substituted(&st["Resource"]).is_none())
            .collect();
        assert_eq!(statements.len(), 1, "{function}: {statements:?}");
        let readable = readable_attributes(&statements[0]);
        assert_eq!(
            readable, expected,
            "{function}: the policy and what the code projects"
        );
        for secret in [
            "password_hash",
            "failed_logins",
            "locked_until",
            "current_hash",
            "revoked",
        ] {
            assert!(!readable.contains(secret), "{function} may read {secret}");
        }
    }
}

#[test]
fn the_leaderboard_index_is_read_by_its_keys_only() {
    use infra::dynamo::leaderboard::{BOARD_PK, BOARD_SK, LEADERBOARD_INDEX, SEASON_ATTRIBUTES};
    let template = template();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let arn = format!("${{UsersTable.Arn}}/index/{LEADERBOARD_INDEX}");
    let statement = template.resources["RecordApiFunction"]
        .property("Policies")
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|p| p.get("Statement").and_then(|s| s.as_sequence()))
        .flatten()
        .find(|st| substituted(&st["Resource"]).as_deref() == Some(arn.as_str()))
        .expect("record-api queries the leaderboard index")
        .clone();
    assert_eq!(
        statement["Action"].as_sequence().unwrap(),
        &[serde_yaml::Value::from("dynamodb:Query")]
    );
    let expected: BTreeSet<String> = ["pk", "sk", BOARD_PK, BOARD_SK].map(str::to_owned).into();
    assert_eq!(readable_attributes(&statement), expected);
    // the index: its keys are the season item's, and it projects nothing else
    let users = &template.resources["UsersTable"];
    let index = users
        .property("GlobalSecondaryIndexes")
        .as_sequence()
        .unwrap()
        .iter()
        .find(|i| i["IndexName"].as_str() == Some(LEADERBOARD_INDEX))
        .expect("the leaderboard index");
    let keys: Vec<&str> = index["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| k["AttributeName"].as_str().unwrap())
        .collect();
    assert_eq!(keys, [BOARD_PK, BOARD_SK]);
    assert!(SEASON_ATTRIBUTES.contains(&BOARD_PK) && SEASON_ATTRIBUTES.contains(&BOARD_SK));
    assert_eq!(index["Projection"]["ProjectionType"].as_str(), Some("KEYS_ONLY"));
    // nobody else reaches it: no other function names the Users table's indexes
    assert_eq!(
        text.matches("${UsersTable.Arn}/index/").count(),
        1,
        "only record-api's statement"
    );
}

#[test]
fn reconcile_touches_only_the_pending_marker_and_reads_only_applied_versions() {
    use infra::dynamo::pending::{ACKNOWLEDGE_ATTRIBUTES, LEDGER_ATTRIBUTES, PROJECTED_ATTRIBUTES};
    let template = template();
    let attributes = |statement: &serde_yaml::Value| -> BTreeSet<String> {
        statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
            .as_sequence()
            .expect("dynamodb:Attributes")
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    };
    let names = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<BTreeSet<_>>();
    let races = statements_on(&template, "ReconcileFunction", "RacesTable");
    let actions: Vec<Vec<&str>> = races
        .iter()
        .map(|s| {
            s["Action"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        actions,
        [vec!["dynamodb:Query"], vec!["dynamodb:UpdateItem"]],
        "{races:?}"
    );
    // queries the index only, never the table's partitions
    assert_eq!(
        serde_yaml::to_string(&races[0]["Resource"]).unwrap().trim(),
        "!Sub ${RacesTable.Arn}/index/pending"
    );
    assert_eq!(attributes(&races[1]), names(&ACKNOWLEDGE_ATTRIBUTES));
    let users = statements_on(&template, "ReconcileFunction", "UsersTable");
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(readable_attributes(&users[0]), names(&LEDGER_ATTRIBUTES));
    // the index projects what a repair's event needs, under the names the code uses
    let index = template.resources["RacesTable"]
        .property("GlobalSecondaryIndexes")
        .as_sequence()
        .unwrap()
        .iter()
        .find(|i| i["IndexName"].as_str() == Some(keys::PENDING_INDEX))
        .expect("the pending index")
        .clone();
    let key: Vec<&str> = index["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| k["AttributeName"].as_str().unwrap())
        .collect();
    assert_eq!(key, [keys::PENDING, keys::PENDING_SINCE]);
    let projected: BTreeSet<String> = index["Projection"]["NonKeyAttributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(projected, names(&PROJECTED_ATTRIBUTES));
    // and it runs on a schedule
    let events = template.resources["ReconcileFunction"].property("Events");
    let schedule = events
        .as_mapping()
        .unwrap()
        .values()
        .find(|e| e["Type"].as_str() == Some("Schedule"))
        .expect("a Schedule event");
    assert_eq!(
        schedule["Properties"]["Schedule"].as_str(),
        Some("rate(15 minutes)")
    );
}

#[test]
fn account_erasure_sees_only_deletions_and_touches_neither_users_nor_credentials() {
    let specs = mapping_specs(Stack::shared().provisioned()).unwrap();
    let erasure = &specs
        .iter()
        .find(|s| s.function == "AccountErasureFunction" && s.is_stream())
        .expect("account-erasure consumes the ActivityLog stream")
        .filters;
    let entry = |event_name: &str, kind: &str| {
        json!({ "eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": {
            "Keys": { "pk": { "S": "USER#1" }, "sk": { "S": "LOG#01J" } },
            "NewImage": { "kind": { "S": kind } } } })
    };
    assert!(erasure.matches(&entry(
        "INSERT",
        domain::activity::ActivityKind::AccountDeleted.as_str()
    )));
    assert!(!erasure.matches(&entry("INSERT", "result.recorded")));
    assert!(!erasure.matches(&entry("INSERT", "auth.login_succeeded")));

    // the Races side only: no statement on the Users table (where credentials live)
    let template = template();
    assert!(statements_on(&template, "AccountErasureFunction", "UsersTable").is_empty());
    let policies =
        serde_yaml::to_string(template.resources["AccountErasureFunction"].property("Policies")).unwrap();
    assert!(!policies.contains("UsersTable"), "{policies}");
    assert!(!policies.contains("dynamodb:Scan"), "{policies}");
}

#[test]
fn the_imports_bucket_is_private_encrypted_and_only_its_prefix_is_granted() {
    let template = template();
    let bucket = &template.resources["ImportsBucket"];
    let block = bucket.property("PublicAccessBlockConfiguration");
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting].as_bool(), Some(true), "{setting}");
    }
    assert!(!bucket.property("BucketEncryption").is_null());
    let text = std::fs::read_to_string(local::stack::template_path()).expect("template.yaml");
    // record-api signs uploads: it may put, never read; results-import reads and puts
    // markers; both under imports/ only
    let s3_grants: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("- s3:"))
        .collect();
    assert_eq!(s3_grants.len(), 3, "{s3_grants:?}");
    assert_eq!(text.matches("/imports/*\"").count(), 2);
}

/// The organizer's browser PUTs the results file straight to the presigned URL record-api
/// signs: the site's CSP must allow exactly that URL's origin (the bucket's, as the SDK
/// forms it in Lambda: no endpoint override, the function's region), and the bucket's CORS
/// that PUT from the site's origin with the one header the URL is signed with.
#[tokio::test]
async fn the_sites_csp_and_the_imports_buckets_cors_let_the_browser_put_to_the_presigned_url() {
    let template = template();
    let (stack, account, region) = ("mrmrthon-prod", "123456789012", "ap-northeast-2");
    let bucket_name = substituted(template.resources["ImportsBucket"].property("BucketName"))
        .expect("the bucket's name is a !Sub")
        .replace("${AWS::StackName}", stack)
        .replace("${AWS::AccountId}", account);
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new(region))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKID", "secret", None, None, "test",
        ))
        .build();
    let files = infra::s3::ImportFiles::new(aws_sdk_s3::Client::from_conf(config), &bucket_name);
    let url = files
        .presign_put("imports/m/i.csv", std::time::Duration::from_secs(900))
        .await
        .expect("presigned offline");
    let (scheme, rest) = url.split_once("://").expect("an absolute URL");
    let upload_origin = format!("{scheme}://{}", rest.split(['/', '?']).next().unwrap());

    let policy = &template.resources["SiteResponseHeadersPolicy"];
    let csp =
        substituted(
            &policy.property("ResponseHeadersPolicyConfig")["SecurityHeadersConfig"]["ContentSecurityPolicy"]
                ["ContentSecurityPolicy"],
        )
        .expect("a !Sub")
        .replace("${AWS::StackName}", stack)
        .replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::URLSuffix}", "amazonaws.com");
    let connect: Vec<&str> = csp
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("connect-src "))
        .expect("connect-src")
        .split(' ')
        .collect();
    assert_eq!(connect, ["'self'", upload_origin.as_str()], "{csp}");

    let rules = template.resources["ImportsBucket"].property("CorsConfiguration")["CorsRules"]
        .as_sequence()
        .expect("CORS rules")
        .clone();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let rule = &rules[0];
    let list = |key: &str| -> Vec<String> {
        rule[key]
            .as_sequence()
            .unwrap_or_else(|| panic!("{key}"))
            .iter()
            .map(|v| serde_yaml::to_string(v).unwrap().trim().to_owned())
            .collect()
    };
    assert_eq!(list("AllowedMethods"), ["PUT"]);
    assert_eq!(list("AllowedHeaders"), ["content-type"]);
    // the site's origin, never any origin: the SiteUrl parameter, else the distribution's
    let origins = rule["AllowedOrigins"].as_sequence().expect("AllowedOrigins");
    assert_eq!(origins.len(), 1);
    let (function, argument) = intrinsic(&origins[0]).expect("an !If");
    assert_eq!(function, "If");
    let branches = argument.as_sequence().expect("[condition, then, else]");
    assert_eq!(branches[0].as_str(), Some("HasSiteUrl"));
    assert_eq!(referenced(&branches[1]).as_deref(), Some("SiteUrl"));
    assert_eq!(
        substituted(&branches[2]).as_deref(),
        Some("https://${SiteDistribution.DomainName}")
    );
    // the URL is signed for that one header (and the host), nothing else the browser must send
    let headers = url
        .split_once('?')
        .expect("a query")
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="));
    assert_eq!(headers, Some("content-type%3Bhost"), "{url}");
}
