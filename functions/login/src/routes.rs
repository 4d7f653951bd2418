//! The HTTP face of login: axum routes run by lambda_http (API Gateway HTTP API, payload 2.0).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::greeting::Language;
use infra::http::{ApiJson, Origin, Problem, ProblemType, Route, build_router};

use crate::auth::{Auth, AuthError, LoginRequest, RefreshRequest, SignupRequest};

/// login's routes; template.yaml and the OpenAPI document list the same.
pub fn routes() -> Vec<Route<Arc<Auth>>> {
    vec![
        Route::new(Method::POST, "/auth/signup", post(signup)),
        Route::new(Method::POST, "/auth/login", post(login)),
        Route::new(Method::POST, "/auth/refresh", post(refresh)),
        Route::new(Method::POST, "/auth/logout", post(logout)),
        Route::new(Method::GET, "/.well-known/jwks.json", get(jwks)),
    ]
}

pub fn router(auth: Arc<Auth>) -> Router {
    build_router(routes(), auth)
}

async fn signup(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    ApiJson(request): ApiJson<SignupRequest>,
) -> Result<Response, Problem> {
    let user = auth.signup(request, origin).await?;
    Ok((StatusCode::CREATED, no_store(), Json(user)).into_response())
}

async fn login(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, Problem> {
    let language =
        Language::from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let session = auth.login(request, origin, language).await?;
    Ok((no_store(), Json(session)).into_response())
}

async fn refresh(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Response, Problem> {
    let tokens = auth.refresh(request, origin).await?;
    Ok((no_store(), Json(tokens)).into_response())
}

async fn logout(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<StatusCode, Problem> {
    auth.logout(request, origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn jwks(State(auth): State<Arc<Auth>>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(auth.signer.jwks().clone()),
    )
        .into_response()
}

/// Responses carrying tokens must never be cached.
fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "no-store")]
}

impl From<AuthError> for Problem {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Invalid(errors) => errors.into(),
            AuthError::EmailTaken => {
                Problem::new(ProblemType::Conflict, "an account with this email already exists")
            }
            AuthError::BadCredentials => {
                Problem::new(ProblemType::InvalidCredentials, "email or password is incorrect")
            }
            AuthError::BadRefreshToken => Problem::new(
                ProblemType::Unauthorized,
                "the refresh token is invalid, expired or revoked; log in again",
            ),
            AuthError::Store(error) => error.into(),
            AuthError::Internal(cause) => Problem::internal(&cause),
        }
    }
}
