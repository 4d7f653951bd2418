//! Official results: the owning organizer enters, corrects and deletes them; everyone
//! reads a marathon's ranking; runners read their own.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use domain::ValidationErrors;
use domain::paging::PageRequest;
use domain::ports::StoreError;
use domain::race::Category;
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{PageQuery, actor, etag, if_match_field, load_marathon, marathon_id, reader};
use crate::contract::{
    self, IfMatchOptional, MarathonPath, RankedResult, ResultBody, ResultPath, ResultView, ResultsQuery,
};
use crate::ranking::{RankCursor, Search};
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

/// Rows read per request at most when a filter or a search skips most of them: a page
/// then may hold fewer than `limit` items (even none) with a `next_cursor` to go on.
const READ_BUDGET: usize = 2_000;
/// Rows asked of the store at a time when filtering.
const FILTER_BATCH: u32 = 200;

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
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    let mut errors = ValidationErrors::default();
    let limit = errors.check(PageRequest::parse(query.limit.as_deref(), None).map(|p| p.limit));
    let category = query
        .category
        .as_deref()
        .map(|c| errors.check(Category::parse(c)));
    let search = query.q.as_deref().map(|q| errors.check(Search::parse(q)));
    let cursor = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| errors.check(RankCursor::decode(c)));
    let (Some(limit), Some(category), Some(search), Some(mut cursor)) = (
        limit,
        category.map_or(Some(None), |c| c.map(Some)),
        search.map_or(Some(None), |q| q),
        cursor.map_or(Some(RankCursor::default()), |c| c),
    ) else {
        return Err(errors.into());
    };
    let filtered = category.is_some() || search.is_some();
    let batch = if filtered { FILTER_BATCH } else { limit + 1 };
    let mut items = Vec::new();
    let mut read = 0;
    let more = 'read: loop {
        let rows = match api
            .races
            .ranking(&marathon.id, cursor.after.as_deref(), batch)
            .await
        {
            Err(StoreError::InvalidCursor) => {
                return Err(FieldError::new("cursor", "is not a cursor this listing gave out").into());
            }
            other => other?,
        };
        let store_more = rows.next_cursor.is_some();
        let mut rows = rows.items.into_iter().peekable();
        while let Some(row) = rows.next() {
            read += 1;
            let (rank, category_rank) = cursor.place(&row.result);
            cursor.after = Some(row.position);
            let shown = category.is_none_or(|c| row.result.category == Some(c))
                && search.as_ref().is_none_or(|q| q.matches(&row.result));
            if shown {
                items.push(RankedResult {
                    rank,
                    category_rank,
                    result: ResultView::from(row.result).with_pace(marathon.distance_m),
                });
                if items.len() == limit as usize {
                    break 'read rows.peek().is_some() || store_more;
                }
            }
        }
        if !store_more {
            break false;
        }
        if read >= READ_BUDGET {
            break true;
        }
    };
    let mut page = contract::Page {
        next_cursor: more.then(|| cursor.encode()),
        items,
    };
    marathon_labels(&marathon, &mut page.items);
    Ok(Json(page).into_response())
}

/// The marathon's current name and date on every row.
fn marathon_labels(marathon: &domain::marathon::Marathon, rows: &mut [RankedResult]) {
    for row in rows {
        row.result.marathon_name.clone_from(&marathon.name);
        row.result.marathon_date = marathon.date;
    }
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
