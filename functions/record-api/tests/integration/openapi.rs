//! record-api's OpenAPI document, generated from its routes and contract types: it names
//! exactly the routes template.yaml gives the function, and its schemas state the
//! domain's rules (required fields, bounds, enums), checked here against the domain itself.

use std::collections::BTreeSet;

use domain::marathon::{Course, MAX_CAPACITY, MAX_POINTS, MarathonFields};
use domain::record::{MAX_NOTES, RecordFields};
use domain::result::{FinishTime, MAX_BONUS};
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::to_value(record_api::openapi()).expect("the document serializes")
}

#[test]
fn the_document_names_exactly_the_routes_the_template_gives_record_api() {
    let template = local::Template::from_path(&local::stack::template_path()).expect("template.yaml parses");
    assert_eq!(
        local::template::openapi_routes(&document()),
        template.http_routes(Some("RecordApiFunction")).expect("routes")
    );
}

#[test]
fn every_schema_reference_resolves() {
    let document = document();
    let text = document.to_string();
    let references: Vec<&str> = text
        .split("\"$ref\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(references.len() > 20, "{references:?}");
    for reference in references {
        let pointer = reference.trim_start_matches('#');
        assert!(document.pointer(pointer).is_some(), "dangling {reference}");
    }
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

fn operation<'a>(document: &'a Value, method: &str, path: &str) -> &'a Value {
    &document["paths"][path][method]
}

#[test]
fn a_new_marathon_requires_every_field_as_the_domain_does() {
    let document = document();
    let required: BTreeSet<&str> = schema(&document, "NewMarathon")["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let errors = MarathonFields::from_input(Default::default(), None).unwrap_err();
    let missing: BTreeSet<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(required, missing);
    // ... and a change requires none
    assert!(schema(&document, "MarathonChanges").get("required").is_none());
}

#[test]
fn bounds_are_the_domains() {
    let document = document();
    let new = &schema(&document, "NewMarathon")["properties"];
    assert_eq!(new["points"]["maximum"], MAX_POINTS);
    assert_eq!(new["points"]["minimum"], 0);
    assert_eq!(new["capacity"]["maximum"], MAX_CAPACITY);
    assert_eq!(new["capacity"]["minimum"], 1);
    assert_eq!(new["course"]["oneOf"][1]["maximum"], Course::MAX_METRES);
    assert_eq!(new["date"]["format"], "date");
    assert_eq!(new["registration_closes_at"]["format"], "date-time");
    assert_eq!(
        new["name"]["pattern"],
        json!(infra::http::openapi::trimmed_text(record_api::contract::MARATHON_TEXT_MAX, "").pattern)
    );
    let changes = &schema(&document, "MarathonChanges")["properties"];
    assert_eq!(changes["points"]["maximum"], MAX_POINTS);
    assert!(
        changes["name"]["oneOf"][1]["type"] == "null",
        "{}",
        changes["name"]
    );

    let result = &schema(&document, "ResultBody")["properties"];
    assert_eq!(result["bonus_points"]["maximum"], MAX_BONUS);
    // every time is the finish time's schema, or null
    for time in ["finish_time", "chip_time", "gun_time"] {
        assert_eq!(
            result[time]["oneOf"][0]["oneOf"][1]["maximum"],
            FinishTime::MAX_SECONDS,
            "{time}"
        );
        assert_eq!(result[time]["oneOf"][1]["type"], "null", "{time}");
    }
    assert_eq!(
        result["status"]["oneOf"][0]["enum"],
        json!(["finished", "dnf", "dns", "dq"])
    );
    assert_eq!(result["splits"]["maxItems"], domain::race::Splits::MAX);
    // a label is trimmed text as the domain reads it (Splits::new): no control characters
    assert_eq!(
        schema(&document, "SplitBody")["properties"]["label"]["pattern"],
        json!(infra::http::openapi::trimmed_text(domain::race::Splits::LABEL_MAX, "").pattern)
    );
    // nothing is required: a finish needs a chip time, a dns none (ResultFields::new)
    assert!(schema(&document, "ResultBody").get("required").is_none());
    assert_eq!(
        schema(&document, "NewMarathon")["properties"]["dnf_points"]["maximum"],
        MAX_POINTS
    );
    assert_eq!(
        schema(&document, "BibBody")["properties"]["bib"]["maximum"],
        domain::race::Bib::MAX
    );

    let record = &schema(&document, "NewRecord")["properties"];
    assert_eq!(record["notes"]["maxLength"], MAX_NOTES);
    assert_eq!(record["kind"]["enum"], json!(["training", "race"]));
}

#[test]
fn the_marathon_text_limit_is_the_domains() {
    let max = record_api::contract::MARATHON_TEXT_MAX;
    let input = |name: String| domain::marathon::MarathonInput {
        name: Some(name),
        date: Some("2027-03-21".into()),
        location: Some("Seoul".into()),
        course: Some(json!("full")),
        points: Some(1),
        dnf_points: None,
        capacity: Some(1),
        registration_closes_at: Some("2027-03-01T00:00:00Z".into()),
    };
    assert!(MarathonFields::from_input(input("가".repeat(max)), None).is_ok());
    assert!(MarathonFields::from_input(input("가".repeat(max + 1)), None).is_err());
}

#[test]
fn the_record_distance_bounds_are_the_domains() {
    let document = document();
    let distance = &schema(&document, "NewRecord")["properties"]["distance_m"];
    let input = |d: i64| domain::record::RecordInput {
        kind: Some("race".into()),
        date: Some("2026-11-20".into()),
        distance_m: Some(d),
        duration: Some(json!(60)),
        notes: None,
    };
    let (min, max) = (
        distance["minimum"].as_i64().unwrap(),
        distance["maximum"].as_i64().unwrap(),
    );
    assert!(RecordFields::from_input(input(min), None).is_ok());
    assert!(RecordFields::from_input(input(max), None).is_ok());
    assert!(RecordFields::from_input(input(min - 1), None).is_err());
    assert!(RecordFields::from_input(input(max + 1), None).is_err());
}

#[test]
fn every_error_is_a_problem_and_the_extractors_statuses_are_listed() {
    let document = document();
    let patch = operation(&document, "patch", "/marathons/{id}");
    for status in ["400", "401", "403", "404", "409", "412", "413", "415", "428"] {
        assert_eq!(
            patch["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{status}"
        );
    }
    // a public read has no body and no token: no 401, 413 or 415
    let list = operation(&document, "get", "/marathons")["responses"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(list, ["200", "400", "500", "503"]);
    assert!(
        operation(&document, "get", "/marathons")
            .get("security")
            .is_none()
    );
    assert_eq!(patch["security"], json!([{ "bearer": [] }]));
}

#[test]
fn the_public_ranking_shows_no_internal_fields() {
    let document = document();
    let result = schema(&document, "Result")["properties"].as_object().unwrap();
    assert!(!result.contains_key("correlation_id"));
    assert!(result.contains_key("finish_time"));
}

#[test]
fn the_category_pattern_says_what_the_domain_takes() {
    let pattern = regex::Regex::new(&record_api::contract::category_pattern()).unwrap();
    let mut checked = 0;
    for sex in ["F", "m", "X", "W", ""] {
        for band in [
            "U20", "u20", "SEN", "sen", "35", "40", "90", "95", "30", "37", "035", "", "U21",
        ] {
            for pad in ["", " ", "\t"] {
                let value = format!("{pad}{sex}{band}{pad}");
                let domain = domain::race::Category::parse(&value).is_ok();
                assert_eq!(pattern.is_match(&value), domain, "{value:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 150);
}
