//! Email verification (issue 15): the link mailed at signup, and a new one on request.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use infra::http::{ApiJson, Caller, Origin, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Auth;

// No `Debug`: it holds a token.
/// The token from the mailed link.
#[derive(Default, Deserialize, ToSchema)]
pub struct VerifyEmailBody {
    /// The `token` parameter of the link `/verify-email?token=...`.
    #[schema(value_type = String, required = true, nullable = false)]
    pub token: Option<String>,
}

/// The answer to a resend.
#[derive(Serialize, ToSchema)]
pub struct VerificationQueued {
    /// Whether a new link was queued now (false: one went out less than a minute ago).
    pub sent: bool,
}

/// Verifies the account's address with the token of the link mailed at signup (or by a
/// resend). Works once, within 24 hours.
#[utoipa::path(
    post,
    path = "/auth/verify-email",
    operation_id = "verify_email",
    tag = "auth",
    request_body = VerifyEmailBody,
    responses(
        (status = 204, description = "Verified. Tokens issued from now on carry email_verified: true."),
        (status = 400, description = "No token, or one that is invalid, expired or already used (field `token`)."),
    )
)]
pub(crate) async fn verify_email(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    ApiJson(body): ApiJson<VerifyEmailBody>,
) -> Result<Response, Problem> {
    auth.verify_email(body.token, origin).await?;
    Ok((StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, "no-store")]).into_response())
}

/// Mails the caller a new verification link; at most one a minute (a request sooner is
/// answered with `sent: false`). A newer link replaces an older one.
#[utoipa::path(
    post,
    path = "/auth/verify-email/resend",
    operation_id = "resend_email_verification",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued, or not because one went out less than a minute ago.", body = VerificationQueued),
        (status = 401, description = "No valid access token."),
        (status = 409, description = "The address is already verified."),
    )
)]
pub(crate) async fn resend_verification(
    State(auth): State<Arc<Auth>>,
    caller: Caller,
    Origin(origin): Origin,
) -> Result<Response, Problem> {
    let sent = auth.resend_verification(&caller.id, origin).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(VerificationQueued { sent })).into_response())
}
