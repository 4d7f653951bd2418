//! Password reset by mail (issue 15): ask for a link, then set a new password with it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use infra::http::{ApiJson, Origin, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{self, Auth};

/// Whose password to reset.
#[derive(Default, Deserialize, ToSchema)]
pub struct ResetRequestBody {
    #[schema(value_type = String, required = true, nullable = false)]
    pub email: Option<String>,
}

// No `Debug`: it holds a token and a password.
/// The token from the mailed link, and the new password.
#[derive(Default, Deserialize, ToSchema)]
pub struct ResetConfirmBody {
    /// The `token` parameter of the link `/reset-password?token=...`.
    #[schema(value_type = String, required = true, nullable = false)]
    pub token: Option<String>,
    #[schema(schema_with = crate::routes::new_password, required = true)]
    pub new_password: Option<String>,
}

/// The one answer to a reset request, whatever the address.
#[derive(Serialize, ToSchema)]
pub struct ResetAccepted {
    #[schema(
        example = "If an account uses this address, a reset link is on its way. It works once, for 30 minutes."
    )]
    pub message: &'static str,
}

const ACCEPTED: &str =
    "If an account uses this address, a reset link is on its way. It works once, for 30 minutes.";

/// Asks for a password reset link by mail. The answer is the same for any address, known
/// or not; an account gets at most one link a minute, each working once for 30 minutes
/// (a newer link replaces an older one).
#[utoipa::path(
    post,
    path = "/auth/password-reset",
    operation_id = "request_password_reset",
    tag = "auth",
    request_body = ResetRequestBody,
    responses(
        (status = 202, description = "Accepted, whatever the address.", body = ResetAccepted),
        (status = 400, description = "No email field."),
    )
)]
pub(crate) async fn request_reset(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    ApiJson(body): ApiJson<ResetRequestBody>,
) -> Result<Response, Problem> {
    auth.request_password_reset(auth::ResetRequest { email: body.email }, origin)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(ResetAccepted { message: ACCEPTED }),
    )
        .into_response())
}

/// Sets a new password with the mailed token. The token works once; every session of the
/// account ends, failures and locks are cleared, and the owner is mailed a notice.
#[utoipa::path(
    post,
    path = "/auth/password-reset/confirm",
    operation_id = "confirm_password_reset",
    tag = "auth",
    request_body = ResetConfirmBody,
    responses(
        (status = 204, description = "The new password is set; log in with it."),
        (status = 400, description = "A field is missing, the new password breaks the rules, or the token is invalid, expired or already used (field `token`)."),
    )
)]
pub(crate) async fn confirm_reset(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    ApiJson(body): ApiJson<ResetConfirmBody>,
) -> Result<Response, Problem> {
    let confirmation = auth::ResetConfirmation {
        token: body.token,
        new_password: body.new_password,
    };
    auth.confirm_password_reset(confirmation, origin).await?;
    Ok((StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, "no-store")]).into_response())
}
