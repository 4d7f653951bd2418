//! The OpenAPI document describes exactly the routes the functions serve: login's and
//! record-api's route tables (the routers are built from them) against its paths.

use std::collections::BTreeSet;

use serde_json::Value;

fn documented() -> BTreeSet<(String, String)> {
    let document: Value = serde_json::from_str(record_api::routes::OPENAPI).expect("the document is JSON");
    assert_eq!(document["openapi"], "3.1.0");
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .expect("operations")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

fn served() -> BTreeSet<(String, String)> {
    let mut routes: BTreeSet<_> = infra::http::signatures(&record_api::routes())
        .into_iter()
        .collect();
    routes.extend(infra::http::signatures(&login::routes()));
    routes
}

#[test]
fn every_served_route_is_documented() {
    let missing: Vec<_> = served().difference(&documented()).cloned().collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
}

#[test]
fn every_documented_route_is_served() {
    let extra: Vec<_> = documented().difference(&served()).cloned().collect();
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
}

#[test]
fn every_schema_reference_resolves() {
    let document: Value = serde_json::from_str(record_api::routes::OPENAPI).unwrap();
    let text = record_api::routes::OPENAPI;
    for reference in text
        .split("\"$ref\": \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
    {
        let pointer = reference.trim_start_matches('#');
        assert!(document.pointer(pointer).is_some(), "dangling {reference}");
    }
}

#[test]
fn the_template_routes_are_the_served_routes() {
    // template.yaml wires API Gateway to the functions: it must list the same routes
    let template = local::Template::from_path(&local::stack::template_path()).expect("template.yaml parses");
    let declared: BTreeSet<(String, String)> = template
        .functions()
        .expect("functions")
        .iter()
        .flat_map(|f| f.events.iter())
        .filter(|e| e.kind == "HttpApi")
        .map(|e| {
            let text = |key: &str| {
                e.properties
                    .get(key)
                    .and_then(|v| v.as_str())
                    .expect("Method and Path")
                    .to_owned()
            };
            (text("Method").to_uppercase(), text("Path"))
        })
        .collect();
    assert_eq!(declared, served());
}
