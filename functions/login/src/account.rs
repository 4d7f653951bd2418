//! The account routes of an authenticated caller (issue 15): change the password, log out
//! everywhere. Both end every session of the account and clear the refresh cookie.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use infra::http::{ApiJson, Caller, Origin, Problem};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{self, Auth};
use crate::refresh_cookie;

// No `Debug`: it holds passwords.
/// The current password, and the new one.
#[derive(Default, Deserialize, ToSchema)]
pub struct ChangePasswordBody {
    #[schema(value_type = String, required = true, nullable = false)]
    pub current_password: Option<String>,
    #[schema(schema_with = crate::routes::new_password, required = true)]
    pub new_password: Option<String>,
}

impl From<ChangePasswordBody> for auth::ChangePasswordRequest {
    fn from(body: ChangePasswordBody) -> Self {
        Self {
            current_password: body.current_password,
            new_password: body.new_password,
        }
    }
}

/// Changes the password. Every session of the account ends (every refresh token, on every
/// device, this one's too: log in again with the new password); access tokens already
/// issued live out their 15 minutes. The owner is mailed a security notice. Wrong current
/// passwords count toward the account's login throttling.
#[utoipa::path(
    post,
    path = "/auth/password",
    operation_id = "change_password",
    tag = "auth",
    request_body = ChangePasswordBody,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; every session ended.", headers(
            ("Set-Cookie" = String, description = "mrmrthon_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict: the cookie is cleared."),
        )),
        (status = 400, description = "A field is missing, or the new password breaks the rules."),
        (status = 401, description = "No valid access token."),
        (status = 403, description = "The current password is incorrect, or too many attempts were made: wait and retry."),
    )
)]
pub(crate) async fn change_password(
    State(auth): State<Arc<Auth>>,
    caller: Caller,
    Origin(origin): Origin,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<Response, Problem> {
    auth.change_password(&caller.id, body.into(), origin).await?;
    Ok(ended())
}

/// Logs out everywhere: every session of the account ends (every refresh token, on every
/// device). Access tokens already issued live out their 15 minutes.
#[utoipa::path(
    post,
    path = "/auth/logout-all",
    operation_id = "logout_everywhere",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session ended.", headers(
            ("Set-Cookie" = String, description = "mrmrthon_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict: the cookie is cleared."),
        )),
        (status = 401, description = "No valid access token."),
    )
)]
pub(crate) async fn logout_all(
    State(auth): State<Arc<Auth>>,
    caller: Caller,
    Origin(origin): Origin,
) -> Result<Response, Problem> {
    auth.logout_everywhere(&caller.id, origin).await?;
    Ok(ended())
}

fn ended() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, refresh_cookie::clear())],
        [(header::CACHE_CONTROL, "no-store")],
    )
        .into_response()
}
