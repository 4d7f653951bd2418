//! Points as the points pipeline left them: a runner's own history, and anyone's total.

use axum::Json;
use axum::extract::State as Extract;
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::points::PointsSummary;
use infra::http::{ApiPath, Caller, Problem};

use super::{not_found, user_id};
use crate::contract::{PointsSummaryView, RunnerPath, RunnerPoints};
use crate::state::State;

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
    caller.require(Role::Runner)?;
    let (_, total) = api
        .points
        .total(&caller.id)
        .await?
        .ok_or_else(|| not_found("runner"))?;
    let mut history = api.points.awards(&caller.id).await?;
    // newest change first: what a runner wants to see
    history.sort_by_key(|award| std::cmp::Reverse(award.updated_at));
    Ok(Json(PointsSummaryView::from(PointsSummary { total, history })).into_response())
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
    let id = user_id(&id, "runner")?;
    match api.points.total(&id).await? {
        Some((user, total)) if user.user_type == Role::Runner => {
            Ok(Json(RunnerPoints::new(&user, total)).into_response())
        }
        _ => Err(not_found("runner")),
    }
}
