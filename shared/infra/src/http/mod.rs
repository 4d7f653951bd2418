//! HTTP helpers for lambda_http + axum functions: problem+json errors, a JSON body
//! extractor that never answers a client mistake with a 5xx, and request origin.

mod auth;
mod json;
mod origin;
mod problem;
mod query;
mod routes;

pub use auth::{Caller, Verifies};
pub use json::ApiJson;
pub use origin::Origin;
pub use problem::{Problem, ProblemType};
pub use query::ApiQuery;
pub use routes::{Route, build_router, signatures};

/// Request bodies above this are refused with 413 before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Applies what every HTTP function wants: the body limit and problem+json for unknown
/// routes and methods.
pub fn finish_router<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router
        .fallback(|| async { Problem::new(ProblemType::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                ProblemType::MethodNotAllowed,
                "this route does not accept that method",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}
