//! Official results: the owning organizer enters, corrects and deletes them; everyone
//! reads a marathon's ranking; runners read their own.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{PageQuery, actor, etag, if_match_field, marathon_id, reader};
use crate::contract::{
    self, IfMatchOptional, MarathonPath, RankedResult, ResultBody, ResultPath, ResultView, ResultsQuery,
};
use crate::state::State;
use crate::usecases::results::{self, Outcome};

/// Creates or corrects the runner's result (201 the first time, 200 after).
#[utoipa::path(
    put,
    path = "/marathons/{id}/results/{runner_id}",
    operation_id = "record_result",
    tag = "results",
    request_body = ResultBody,
    security(("bearer" = [])),
    params(
        ResultPath,
        IfMatchOptional,
    ),
    responses(
        (status = 200, description = "Corrected; or, when the request repeats the result as it is, that result (same version, nothing logged, nobody notified).", body = ResultView, headers(
            ("ETag" = String, description = "The result's version, quoted."),
        )),
        (status = 201, description = "Recorded.", body = ResultView, headers(
            ("ETag" = String, description = "The result's version, quoted."),
        )),
        (status = 403, description = "Only the marathon's organizer may record results, once their email address is verified (problem type unverified-email until then: verify, then sign in again or refresh)."),
        (status = 404, description = "No such marathon or runner."),
        (status = 409, description = "The marathon is cancelled, its race day has not come yet (results are recorded from the marathon's date on, UTC), the runner is not registered, or something changed meanwhile."),
        (status = 412, description = "The result changed since it was read: read it again."),
    )
)]
pub async fn record(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(ResultPath {
        id,
        runner_id: runner,
    }): ApiPath<ResultPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ResultBody>,
) -> Result<Response, Problem> {
    let request = results::RecordResult {
        marathon: marathon_id(&id)?,
        runner,
        body,
        precondition: if_match_field(&headers),
    };
    let recorded = results::record(api.ports(), &actor(caller, origin), request).await?;
    let status = match recorded.outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Corrected | Outcome::Unchanged => StatusCode::OK,
    };
    if recorded.outcome != Outcome::Unchanged {
        infra::metrics::count(infra::metrics::Metric::ResultsRecorded, 1);
    }
    Ok((
        status,
        [(header::ETAG, etag(recorded.result.version))],
        Json(ResultView::from(recorded.result).with_pace(recorded.distance_m)),
    )
        .into_response())
}

/// Deletes a runner's result; the points pipeline takes its points back.
#[utoipa::path(
    delete,
    path = "/marathons/{id}/results/{runner_id}",
    operation_id = "delete_result",
    tag = "results",
    security(("bearer" = [])),
    params(
        ResultPath,
        IfMatchOptional,
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "If-Match is not an ETag."),
        (status = 403, description = "Only the marathon's organizer may delete results, once their email address is verified (problem type unverified-email until then: verify, then sign in again or refresh)."),
        (status = 404, description = "No such marathon or result."),
        (status = 409, description = "The result changed meanwhile."),
        (status = 412, description = "The result changed since it was read: read it again."),
    )
)]
pub async fn remove(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(ResultPath {
        id,
        runner_id: runner,
    }): ApiPath<ResultPath>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let marathon = marathon_id(&id)?;
    let precondition = if_match_field(&headers);
    results::remove(
        api.ports(),
        &actor(caller, origin),
        &marathon,
        &runner,
        precondition,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public ranking: every result, finishers first by chip time with their overall and
/// category places, then dnf, dns and dq. Places count every finisher whatever the
/// filter; the cursor carries the counts, so pages go on where the last one stopped.
#[utoipa::path(
    get,
    path = "/marathons/{id}/results",
    operation_id = "list_marathon_results",
    tag = "results",
    params(MarathonPath, ResultsQuery),
    responses(
        (status = 200, description = "A page of the ranking, fastest first. With `category` or `q`, a page may hold fewer than `limit` results (each request reads at most 2000 rows): follow `next_cursor` until it is absent.", body = contract::Page<RankedResult>),
        (status = 400, description = "A query parameter is invalid (named in `errors`)."),
        (status = 404, description = "No such marathon."),
    )
)]
pub async fn of_marathon(
    Extract(api): Extract<State>,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
    ApiQuery(query): ApiQuery<ResultsQuery>,
) -> Result<Response, Problem> {
    let ranking = results::ranking(api.ports(), &marathon_id(&id)?, &query).await?;
    let page = contract::Page {
        items: ranking
            .items
            .into_iter()
            .map(|placed| RankedResult {
                rank: placed.rank,
                category_rank: placed.category_rank,
                result: ResultView::from(placed.result).with_pace(ranking.distance_m),
            })
            .collect(),
        next_cursor: ranking.next_cursor,
    };
    Ok(Json(page).into_response())
}

/// The calling runner's results.
#[utoipa::path(
    get,
    path = "/me/results",
    operation_id = "list_my_results",
    tag = "results",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of results.", body = contract::Page<ResultView>),
        (status = 400, description = "A query parameter is invalid (named in `errors`)."),
        (status = 403, description = "Only a runner has results."),
    )
)]
pub async fn mine(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, Problem> {
    let page = results::mine(api.ports(), &reader(caller), &query).await?;
    Ok(Json(contract::Page::<ResultView>::of(page)).into_response())
}
