//! Points as the points pipeline left them: a runner's own history, and anyone's total.

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::points::PointsSummary;
use infra::http::{Caller, Problem};
use serde_json::json;

use super::{not_found, user_id};
use crate::state::State;

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
    Ok(Json(PointsSummary { total, history }).into_response())
}

pub async fn of_runner(Extract(api): Extract<State>, Path(id): Path<String>) -> Result<Response, Problem> {
    let id = user_id(&id, "runner")?;
    match api.points.total(&id).await? {
        Some((user, total)) if user.user_type == Role::Runner => {
            Ok(Json(json!({ "runner_id": user.id, "name": user.name, "total": total })).into_response())
        }
        _ => Err(not_found("runner")),
    }
}
