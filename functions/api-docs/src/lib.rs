//! api-docs: the HTTP API's OpenAPI document at `/openapi.json` and Swagger UI on it at
//! `/docs`.
//!
//! The document is generated from login's and record-api's code (their `openapi()`: each
//! route registered with its documentation, the schemas derived from their request and
//! response types) by this crate's test `tests/document.rs`, which fails when the copy
//! served here differs and rewrites it with `UPDATE_OPENAPI=1`. Serving the checked-in
//! copy keeps this binary free of the functions it describes (and their AWS SDK, crypto
//! and handlers), and shows every change of the API as a diff in review.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use infra::http::{Problem, ProblemType};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::Config;

/// Where the API is on the site's origin (see `routes`).
pub const SERVER: &str = "/api";

/// The whole HTTP API's document, as `tests/document.rs` generated it.
pub const DOCUMENT: &str = include_str!("../openapi.json");

/// api-docs' own routes, with their documentation.
pub fn routes() -> OpenApiRouter {
    let info = InfoBuilder::new()
        .title("mrmrthon")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Marathon results for runners and organizers: accounts and tokens (login), \
             marathons, entries, official results, private records and points (record-api). \
             Errors are application/problem+json (RFC 9457); authenticated routes take \
             `Authorization: Bearer <access token>` from POST /auth/login.",
        ))
        .build();
    // The API's public address is the site's `/api/` (CloudFront strips the prefix): a
    // relative server URL, so Swagger UI's "Try it out" calls `/api/...` on its own origin.
    let server = ServerBuilder::new()
        .url(SERVER)
        .description(Some("the HTTP API on the site's origin"))
        .build();
    OpenApiRouter::with_openapi(
        OpenApiBuilder::new()
            .info(info)
            .servers(Some(vec![server]))
            .build(),
    )
    .routes(routes!(document))
    .routes(routes!(docs))
}

/// api-docs' part of the document: its own routes and the document's title.
pub fn openapi() -> OpenApi {
    routes().split_for_parts().1
}

pub fn router() -> axum::Router {
    let (router, _) = routes().split_for_parts();
    // The UI's files are not operations of the API: routed here, not documented.
    infra::http::finish_router(router.route("/docs/{*file}", axum::routing::get(file)))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "show_openapi_document",
    tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document of the whole HTTP API.",
        content_type = "application/json", body = Object)),
)]
async fn document() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        DOCUMENT,
    )
        .into_response()
}

/// Swagger UI on this document.
#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "show_api_docs",
    tag = "docs",
    responses((status = 303, description = "To the UI's page, docs/index.html (relative: /api/docs/index.html on the site).", headers(
        ("Location" = String, description = "docs/index.html"),
    ))),
)]
async fn docs() -> Redirect {
    // To the page itself rather than `/docs/`: API Gateway's `/docs/{proxy+}` route needs a
    // file name, and the page's relative links resolve under /docs/. Relative, as the UI's
    // document URL below: the function sees `/docs` whether it was asked for `/api/docs`
    // on the site or `/docs` on the API's own endpoint, and both must work.
    Redirect::to("docs/index.html")
}

/// From `/docs/index.html`, the document beside `/docs` (`/api/openapi.json` on the site).
static UI: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| Arc::new(Config::from("../openapi.json")));

/// A file of Swagger UI (stored gzipped, served as such).
async fn file(Path(file): Path<String>) -> Response {
    match utoipa_swagger_ui::serve(&file, Arc::clone(&UI)) {
        Ok(Some(file)) => {
            let mut response = (
                [
                    (header::CONTENT_TYPE, file.content_type),
                    (header::CACHE_CONTROL, "public, max-age=3600".to_owned()),
                ],
                file.bytes.into_owned(),
            )
                .into_response();
            if file.gzpipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, header::HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => Problem::new(ProblemType::NotFound, "no such file").into_response(),
        Err(error) => Problem::internal(&error).into_response(),
    }
}
