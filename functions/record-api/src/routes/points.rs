//! Points as the points pipeline left them: a runner's own history, and anyone's total.

use axum::Json;
use axum::extract::State as Extract;
use axum::response::{IntoResponse, Response};
use infra::http::{ApiPath, Caller, Problem};

use super::reader;
use crate::contract::{PointsSummaryView, RunnerPath, RunnerPoints};
use crate::state::State;
use crate::usecases::points;

/// The calling runner's total and how it came about.
#[utoipa::path(
    get,
    path = "/me/points",
    operation_id = "show_my_points",
    tag = "points",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Total and awards, newest change first.", body = PointsSummaryView),
        (status = 403, description = "Only a runner earns points."),
        (status = 404, description = "The runner's account no longer exists."),
    )
)]
pub async fn mine(Extract(api): Extract<State>, caller: Caller) -> Result<Response, Problem> {
    let summary = points::mine(api.ports(), &reader(caller)).await?;
    Ok(Json(PointsSummaryView::from(summary)).into_response())
}

/// Any runner's total.
#[utoipa::path(
    get,
    path = "/runners/{id}/points",
    operation_id = "show_runner_points",
    tag = "points",
    params(RunnerPath),
    responses(
        (status = 200, description = "The runner's total.", body = RunnerPoints),
        (status = 404, description = "No such runner."),
    )
)]
pub async fn of_runner(
    Extract(api): Extract<State>,
    ApiPath(RunnerPath { id }): ApiPath<RunnerPath>,
) -> Result<Response, Problem> {
    let (user, total) = points::of_runner(api.ports(), &id).await?;
    Ok(Json(RunnerPoints::new(&user, total)).into_response())
}
