//! A JSON body extractor whose every rejection is a problem+json 4xx.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use http::header;
use serde::de::DeserializeOwned;

use super::problem::{Problem, ProblemType};
use domain::FieldError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(Problem::new(
                ProblemType::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    ProblemType::PayloadTooLarge,
                    "the body must be at most 65536 bytes",
                )
            } else {
                Problem::new(ProblemType::MalformedJson, "the body could not be read")
            }
        })?;
        decode(&bytes).map(ApiJson)
    }
}

/// Syntax errors are malformed JSON; well-formed JSON of the wrong shape names the field.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    // serde reads a struct from an array of its fields in order too (`[null, 5]`): every
    // body here is a JSON object, as the document says
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Problem::from(FieldError::new("body", "must be a JSON object")));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Problem::new(ProblemType::MalformedJson, inner.to_string())
        } else {
            let field = if path.is_empty() || path == "." || path == "?" {
                "body".to_owned()
            } else {
                path
            };
            // serde's message carries a line/column suffix that means nothing to a client
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            Problem::from(FieldError::new(field, message))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        email: Option<String>,
        count: Option<u32>,
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        let problem = decode::<Body>(b"{\"email\": ").unwrap_err();
        assert_eq!(problem.kind(), ProblemType::MalformedJson);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let problem = decode::<Body>(br#"{"email": "a@b.c", "count": "many"}"#).unwrap_err();
        assert_eq!(problem.kind(), ProblemType::Validation);
        assert_eq!(problem.errors[0].field, "count");
        assert!(!problem.errors[0].message.contains("line"));
    }

    #[test]
    fn an_array_of_the_fields_is_not_a_body() {
        let problem = decode::<Body>(b" [null, 5]").unwrap_err();
        assert_eq!(problem.kind(), ProblemType::Validation);
        assert_eq!(problem.errors[0].field, "body", "{:?}", problem.errors);
    }

    #[test]
    fn a_non_object_body_is_a_validation_error() {
        let problem = decode::<Body>(b"\"just a string\"").unwrap_err();
        assert_eq!(problem.kind(), ProblemType::Validation);
        assert_eq!(problem.errors[0].field, "body", "{:?}", problem.errors);
    }
}
