//! HTTP helpers for lambda_http + axum functions: problem+json errors, a JSON body
//! extractor that never answers a client mistake with a 5xx, request origin, and the
//! pieces of the OpenAPI document every function shares.

mod auth;
mod json;
pub mod openapi;
mod origin;
mod path;
mod problem;
mod query;
mod served;

pub use auth::{Caller, Verifies, role_required, unverified_email};
pub use json::ApiJson;
pub use origin::Origin;
pub use path::ApiPath;
pub use problem::{Problem, ProblemType};
pub use query::ApiQuery;
pub use served::Served;

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

/// A function's router from its served routes (`served_routes!`, the same list as its
/// documented routes), with what every function wants and its state.
pub fn served<S: Clone + Send + Sync + 'static>(routes: Served<S>, state: S) -> axum::Router {
    finish_router(routes.into_router()).with_state(state)
}

/// A function's router, from its routes registered with their documentation
/// (`OpenApiRouter::routes(routes!(...))`): one list, so the document (`document`) cannot
/// name a route the router lacks or miss one it has. The document built alongside is
/// dropped here, unfinished: a cold start pays for no more of it than utoipa-axum must.
pub fn router<S: Clone + Send + Sync + 'static>(
    routes: utoipa_axum::router::OpenApiRouter<S>,
    state: S,
) -> axum::Router {
    finish_router(routes.split_for_parts().0).with_state(state)
}

/// A function's OpenAPI document, from the same routes, completed with what the shared
/// extractors and problem type do (`openapi::complete`).
pub fn document<S: Clone + Send + Sync + 'static>(
    routes: utoipa_axum::router::OpenApiRouter<S>,
) -> utoipa::openapi::OpenApi {
    let mut document = routes.split_for_parts().1;
    openapi::complete(&mut document);
    document
}
