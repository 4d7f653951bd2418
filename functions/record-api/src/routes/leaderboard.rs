//! The season leaderboard (anyone) and a runner's personal bests.

use axum::Json;
use axum::extract::State as Extract;
use axum::response::{IntoResponse, Response};
use infra::http::{ApiQuery, Caller, Problem};

use super::{PageQuery, reader};
use crate::contract::leaderboard::{BestView, Leaderboard, LeaderboardQuery, PersonalBests};
use crate::state::State;
use crate::usecases::{leaderboard, records};

/// A season's runners by points.
#[utoipa::path(
    get,
    path = "/leaderboard",
    operation_id = "show_leaderboard",
    tag = "points",
    params(LeaderboardQuery),
    responses(
        (status = 200, description = "A page of the season's standings.", body = Leaderboard),
        (status = 400, description = "A query parameter is invalid (named in `errors`), or the cursor belongs to another season."),
    )
)]
pub async fn show(
    Extract(api): Extract<State>,
    ApiQuery(query): ApiQuery<LeaderboardQuery>,
) -> Result<Response, Problem> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let (season, standings) = leaderboard::season(api.ports(), query.season.as_deref(), &page).await?;
    Ok(Json(Leaderboard::new(season, standings)).into_response())
}

/// The calling runner's best time per distance, from official results and private records.
#[utoipa::path(
    get,
    path = "/me/bests",
    operation_id = "show_my_bests",
    tag = "records",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One best per distance, shortest first.", body = PersonalBests),
        (status = 403, description = "Only a runner has results and records."),
    )
)]
pub async fn mine(Extract(api): Extract<State>, caller: Caller) -> Result<Response, Problem> {
    let bests = records::bests(api.ports(), &reader(caller)).await?;
    let items = bests.into_iter().map(BestView::from).collect();
    Ok(Json(PersonalBests { items }).into_response())
}
