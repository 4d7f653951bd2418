//! The account routes of an authenticated caller (issue 15): change the password, log out
//! everywhere, delete the account. Each ends every session of the account and clears the
//! refresh cookie.

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

// No `Debug`: it holds a password.
/// The account's password, to confirm the deletion.
#[derive(Default, Deserialize, ToSchema)]
pub struct DeleteAccountBody {
    #[schema(value_type = String, required = true, nullable = false)]
    pub password: Option<String>,
}

/// Deletes the account, for good. Personal data goes: the address (it may sign up again,
/// as a new account), the password, every session, private records, entries of marathons
/// not run yet (their places are freed). Official results stay in the rankings under the
/// name "Anonymous runner", with their points, so rankings and totals stay true. The
/// address is mailed a confirmation. A wrong password counts toward the account's login
/// throttling.
#[utoipa::path(
    delete,
    path = "/auth/account",
    operation_id = "delete_account",
    tag = "auth",
    request_body = DeleteAccountBody,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; every session ended.", headers(
            ("Set-Cookie" = String, description = "mrmrthon_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict: the cookie is cleared."),
        )),
        (status = 400, description = "The password is missing."),
        (status = 401, description = "No valid access token, or the account no longer exists."),
        (status = 403, description = "The password is incorrect, or too many attempts were made: wait and retry."),
        (status = 409, description = "The account changed meanwhile (its sessions ended or its password changed): nothing was done."),
    )
)]
pub(crate) async fn delete_account(
    State(auth): State<Arc<Auth>>,
    caller: Caller,
    Origin(origin): Origin,
    ApiJson(body): ApiJson<DeleteAccountBody>,
) -> Result<Response, Problem> {
    let request = auth::DeleteAccountRequest {
        password: body.password,
    };
    auth.delete_account(&caller.id, request, origin).await?;
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
