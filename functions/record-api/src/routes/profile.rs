//! The runner's private race profile: sex and birth date (or year), both optional, used
//! only to put a category label on their results. Nobody else reads it.

use axum::Json;
use axum::extract::State as Extract;
use axum::response::{IntoResponse, Response};
use domain::activity::ActivityKind;
use domain::race::{Birth, RaceProfile, Sex};
use domain::{Role, ValidationErrors};
use infra::http::{ApiJson, Caller, Origin, Problem};

use super::activity;
use crate::contract::{RaceProfileBody, RaceProfileView};
use crate::state::State;

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
    caller.require(Role::Runner)?;
    let profile = api.races.race_profile(&caller.id).await?;
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
        (status = 403, description = "Only a runner has a race profile."),
    )
)]
pub async fn update(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiJson(body): ApiJson<RaceProfileBody>,
) -> Result<Response, Problem> {
    caller.require(Role::Runner)?;
    let mut errors = ValidationErrors::default();
    let today = api.clock.now().date();
    let sex = body.sex.as_deref().map(|s| errors.check(Sex::parse(s)));
    let birth = body
        .birth
        .as_deref()
        .map(|b| errors.check(Birth::parse(b, today)));
    errors.into_result()?;
    let profile = RaceProfile {
        sex: sex.flatten(),
        birth: birth.flatten(),
    };
    let log = activity(&api, &caller, ActivityKind::RaceProfileUpdated, origin);
    api.races.set_race_profile(&caller.id, &profile, &log).await?;
    Ok(Json(RaceProfileView::from(profile)).into_response())
}
