//! The runner's private race profile: sex and birth date (or year), both optional, used
//! only to put a category label on their results. Nobody else reads it.

use axum::Json;
use axum::extract::State as Extract;
use axum::response::{IntoResponse, Response};
use infra::http::{ApiJson, Caller, Origin, Problem};

use super::{actor, reader};
use crate::contract::{RaceProfileBody, RaceProfileView};
use crate::state::State;
use crate::usecases::profile;

/// The calling runner's race profile.
#[utoipa::path(
    get,
    path = "/me/race-profile",
    operation_id = "show_my_race_profile",
    tag = "profile",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile (fields never given are null).", body = RaceProfileView),
        (status = 403, description = "Only a runner has a race profile."),
    )
)]
pub async fn show(Extract(api): Extract<State>, caller: Caller) -> Result<Response, Problem> {
    let profile = profile::show(api.ports(), &reader(caller)).await?;
    Ok(Json(RaceProfileView::from(profile)).into_response())
}

/// Replaces the calling runner's race profile. Results recorded from now on carry the
/// category it gives on each race day; results already recorded keep theirs until they
/// are corrected.
#[utoipa::path(
    put,
    path = "/me/race-profile",
    operation_id = "update_my_race_profile",
    tag = "profile",
    security(("bearer" = [])),
    request_body = RaceProfileBody,
    responses(
        (status = 200, description = "The profile as stored.", body = RaceProfileView),
        (status = 400, description = "A field is invalid (named in `errors`)."),
        (status = 401, description = "No access token, or one that is malformed, expired or not ours, or whose account was deleted (with WWW-Authenticate)."),
        (status = 403, description = "Only a runner has a race profile."),
    )
)]
pub async fn update(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiJson(body): ApiJson<RaceProfileBody>,
) -> Result<Response, Problem> {
    let actor = actor(caller, origin);
    let profile = profile::update(api.ports(), &actor, body.sex.as_deref(), body.birth.as_deref()).await?;
    Ok(Json(RaceProfileView::from(profile)).into_response())
}
