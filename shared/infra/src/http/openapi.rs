//! What every HTTP function's OpenAPI document shares: the problem schema, the bearer
//! scheme, the statuses the shared extractors answer, and schemas for the domain's text
//! and id rules. Each function registers its routes with their documentation
//! (utoipa-axum's `routes!`); `complete` adds what the shared pieces do to every
//! operation, so no handler has to repeat it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, PathItem, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::problem::{Body, FieldErrorSchema};

/// The security scheme's name: `security(("bearer" = []))` on authenticated routes.
pub const BEARER: &str = "bearer";

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Adds to `doc` what the shared extractors and the problem type do for every route:
/// `ApiJson` answers 400, 413 and 415 on every route with a body; `Caller` answers 401 on
/// every authenticated route; any route that can fail at all may meet a store that is
/// unavailable (503) or an internal error (500). Every error response is problem+json.
pub fn complete(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        (Body::name(), Body::schema()),
        (FieldErrorSchema::name(), FieldErrorSchema::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
    components.security_schemes.insert(
        BEARER.to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /auth/login or /auth/refresh."))
                .build(),
        )),
    );
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            complete_operation(operation);
        }
    }
}

fn complete_operation(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    let add = |responses: &mut std::collections::BTreeMap<String, RefOr<Response>>,
               status: &str,
               description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    };
    if operation.request_body.is_some() {
        add(
            responses,
            "400",
            "The body is not JSON, or a field is missing or invalid (each one named in `errors`).",
        );
        add(responses, "413", "The body is larger than 64 KiB.");
        add(
            responses,
            "415",
            "The body is not sent as Content-Type: application/json.",
        );
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        add(
            responses,
            "401",
            "No access token, or one that is malformed, expired or not ours (with WWW-Authenticate).",
        );
    }
    let can_fail = responses.keys().any(|status| !status.starts_with('2'));
    if can_fail {
        add(responses, "500", "Something went wrong on our side.");
        add(responses, "503", "The store is busy; try again shortly.");
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if status.starts_with(['4', '5']) && response.content.is_empty() {
            response.content.insert(
                PROBLEM_JSON.to_owned(),
                RefOr::T(Content::new(Some(Ref::from_schema_name(Body::name())))),
            );
        }
    }
}

/// Every operation a path item holds.
pub fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Rust's `char::is_whitespace` (Unicode White_Space), which `str::trim` removes, written
/// for a regular expression class. Python's and ECMA-262's `\s` differ from it slightly.
pub const WHITE_SPACE: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// `char::is_control` (general category Cc).
pub const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

/// Text the domain trims, then requires to be 1 to `max` characters without control
/// characters (names, places). The pattern says exactly that, surrounding white space
/// included, so a schema-valid value is never refused and an invalid one never accepted;
/// `maxLength` cannot, as it would count the white space the domain trims away.
pub fn trimmed_text(max: usize, description: &str) -> Object {
    assert!(
        max >= 2,
        "the pattern needs room for a first and a last character"
    );
    let pattern = format!(
        "^[{WHITE_SPACE}]*[^{WHITE_SPACE}{CONTROL}](?:[^{CONTROL}]{{0,{inner}}}[^{WHITE_SPACE}{CONTROL}])?[{WHITE_SPACE}]*$",
        inner = max - 2
    );
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(pattern))
        .description(Some(format!(
            "{description} 1 to {max} characters once surrounding white space is trimmed (it is); no control characters."
        )))
        .build()
}

/// The ids we generate (ULIDs: 26 characters of Crockford's base32, either case).
pub const ULID_PATTERN: &str = "^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$";

pub fn ulid(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(ULID_PATTERN))
        .description(Some(description))
        .examples(["01JD6ZQ3Q5V9Y0M3N2W8T4K7RB"])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::OpenApiBuilder;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathsBuilder};
    use utoipa::openapi::request_body::RequestBody;
    use utoipa::openapi::security::SecurityRequirement;

    fn document(operation: Operation) -> serde_json::Value {
        let mut doc = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path("/x", PathItem::new(HttpMethod::Post, operation)))
            .build();
        complete(&mut doc);
        serde_json::to_value(&doc).unwrap()
    }

    #[test]
    fn bodies_and_tokens_bring_the_extractors_statuses_as_problems() {
        let operation = OperationBuilder::new()
            .request_body(Some(RequestBody::new()))
            .security(SecurityRequirement::new(BEARER, Vec::<String>::new()))
            .response("201", Response::new("created"))
            .build();
        let doc = document(operation);
        let responses = &doc["paths"]["/x"]["post"]["responses"];
        for status in ["400", "401", "413", "415", "500", "503"] {
            assert_eq!(
                responses[status]["content"][PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
                "{status}: {responses}"
            );
        }
        assert!(responses["201"].get("content").is_none());
        assert_eq!(doc["components"]["securitySchemes"][BEARER]["scheme"], "bearer");
        assert_eq!(
            doc["components"]["schemas"]["Problem"]["required"],
            serde_json::json!(["type", "title", "status"])
        );
    }

    #[test]
    fn an_operation_that_cannot_fail_gets_no_error_statuses() {
        let doc = document(
            OperationBuilder::new()
                .response("200", Response::new("ok"))
                .build(),
        );
        let responses = doc["paths"]["/x"]["post"]["responses"].as_object().unwrap();
        assert_eq!(responses.keys().collect::<Vec<_>>(), ["200"]);
    }

    /// The domain's rule for trimmed text (`UserName::parse`, the marathon's name and place).
    fn domain_accepts(max: usize, value: &str) -> bool {
        let trimmed = value.trim();
        !trimmed.is_empty() && trimmed.chars().count() <= max && !trimmed.chars().any(char::is_control)
    }

    #[test]
    fn trimmed_text_matches_exactly_what_the_domain_accepts() {
        let max = 3;
        let pattern = regex::Regex::new(&trimmed_text(max, "").pattern.unwrap()).unwrap();
        let pieces = [
            "a", "가", " ", "\t", "\n", "\u{7}", "\u{85}", "\u{a0}", "\u{3000}", "\u{feff}", "\u{1c}",
        ];
        let mut checked = 0;
        // every string of up to 5 pieces from a small alphabet of the interesting characters
        let mut stack = vec![String::new()];
        while let Some(value) = stack.pop() {
            assert_eq!(pattern.is_match(&value), domain_accepts(max, &value), "{value:?}");
            checked += 1;
            if value.chars().count() < 5 {
                stack.extend(pieces.iter().map(|p| format!("{value}{p}")));
            }
        }
        assert!(checked > 100_000);
    }

    #[test]
    fn ulids_match_what_the_ids_parse() {
        let pattern = regex::Regex::new(ULID_PATTERN).unwrap();
        let id = ulid::Ulid::new().to_string();
        assert!(pattern.is_match(&id) && pattern.is_match(&id.to_lowercase()));
        for bad in [
            "",
            "01JD6ZQ3Q5V9Y0M3N2W8T4K7R",
            "01JD6ZQ3Q5V9Y0M3N2W8T4K7RBX",
            "01JD6ZQ3Q5V9Y0M3N2W8T4K7RU",
        ] {
            assert!(!pattern.is_match(bad), "{bad}");
            assert!(ulid::Ulid::from_string(bad).is_err(), "{bad}");
        }
    }
}
