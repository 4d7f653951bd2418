//! RFC 9457 problem details. Each kind of failure has a stable `type` URI clients can
//! branch on; `detail` is for people.

use axum::response::{IntoResponse, Response};
use domain::{FieldError, ValidationErrors};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    MalformedJson,
    UnsupportedMediaType,
    Validation,
    PayloadTooLarge,
    Unauthorized,
    InvalidCredentials,
    Forbidden,
    /// 403: the caller's address is not verified yet (what mints points waits for it).
    UnverifiedEmail,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    Unavailable,
    Internal,
}

impl ProblemType {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        use ProblemType::*;
        match self {
            MalformedJson => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The body is not valid JSON",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body must be application/json",
            ),
            Validation => (
                StatusCode::BAD_REQUEST,
                "validation",
                "Some fields are missing or invalid",
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The body is larger than 64 KiB",
            ),
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication is required",
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Email or password is incorrect",
            ),
            Forbidden => (StatusCode::FORBIDDEN, "forbidden", "You may not do this"),
            UnverifiedEmail => (
                StatusCode::FORBIDDEN,
                "unverified-email",
                "Verify your email address first",
            ),
            NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Conflict => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflicts with the current state",
            ),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "The resource has changed",
            ),
            PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "Send If-Match with the version you read",
            ),
            Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The service is busy; try again shortly",
            ),
            Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side",
            ),
        }
    }

    pub fn status(self) -> StatusCode {
        self.parts().0
    }

    pub fn uri(self) -> String {
        format!("https://mrmrthon.dev/problems/{}", self.parts().1)
    }
}

#[derive(Debug, Clone)]
pub struct Problem {
    kind: ProblemType,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    /// A `WWW-Authenticate` challenge for 401s.
    pub www_authenticate: Option<&'static str>,
}

/// The wire form of a problem, and its schema in the OpenAPI documents.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem, description = "An RFC 9457 problem: every error body, as application/problem+json.")]
pub(crate) struct Body<'a> {
    /// Stable per kind of failure; clients branch on it.
    #[serde(rename = "type")]
    #[schema(format = "uri", example = "https://mrmrthon.dev/problems/validation")]
    type_uri: String,
    title: &'static str,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// For people: what went wrong and how to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    detail: Option<&'a str>,
    /// On validation problems: every invalid or missing field.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    #[schema(value_type = Vec<FieldErrorSchema>, required = false)]
    errors: &'a [FieldError],
}

/// `domain::FieldError` on the wire (the domain does not depend on the OpenAPI crates).
#[derive(utoipa::ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)] // a schema only: FieldError itself is what serializes
pub(crate) struct FieldErrorSchema {
    /// The field's name, as sent (`body` for the body as a whole, `query` for the query string).
    field: String,
    message: String,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: Some(detail.into()),
            errors: Vec::new(),
            www_authenticate: None,
        }
    }

    pub fn bare(kind: ProblemType) -> Self {
        Self {
            detail: None,
            ..Self::new(kind, "")
        }
    }

    pub fn kind(&self) -> ProblemType {
        self.kind
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// A 500 whose cause is logged, never shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::bare(ProblemType::Internal)
    }

    fn body(&self) -> Body<'_> {
        let (status, _, title) = self.kind.parts();
        Body {
            type_uri: self.kind.uri(),
            title,
            status: status.as_u16(),
            detail: self.detail.as_deref(),
            errors: &self.errors,
        }
    }
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body().serialize(serializer)
    }
}

impl From<domain::ports::StoreError> for Problem {
    /// Storage failures the caller did not cause. `Conflict` and `EmailTaken` mean
    /// different things per use case: map those before falling back to this.
    fn from(error: domain::ports::StoreError) -> Self {
        use domain::ports::StoreError;
        match error {
            StoreError::InvalidCursor => {
                FieldError::new("cursor", "is not a cursor this listing gave out").into()
            }
            StoreError::Unavailable(cause) => {
                tracing::error!(error = %cause, "storage unavailable");
                Self::bare(ProblemType::Unavailable)
            }
            StoreError::Conflict => Self::new(
                ProblemType::Conflict,
                "changed concurrently; read it again and retry",
            ),
            StoreError::EmailTaken => {
                Self::new(ProblemType::Conflict, "an account with this email already exists")
            }
            StoreError::Corrupt(cause) => Self::internal(&cause),
            StoreError::Missing(what) => Self::internal(&format!("missing {what}")),
        }
    }
}

impl From<ValidationErrors> for Problem {
    fn from(errors: ValidationErrors) -> Self {
        let detail = errors
            .0
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors: errors.0,
            ..Self::new(ProblemType::Validation, detail)
        }
    }
}

impl From<FieldError> for Problem {
    fn from(error: FieldError) -> Self {
        ValidationErrors::from(error).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(challenge) = self.www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_names_fields() {
        let mut errors = ValidationErrors::default();
        errors.push(FieldError::missing("email"));
        errors.push(FieldError::new("password", "must be at least 10 characters"));
        let problem = Problem::from(errors);
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["status"], 400);
        assert_eq!(json["type"], "https://mrmrthon.dev/problems/validation");
        assert_eq!(json["errors"][0]["field"], "email");
        assert_eq!(json["errors"][1]["field"], "password");
    }

    #[test]
    fn response_is_problem_json() {
        let response = Problem::new(ProblemType::Conflict, "taken").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}
