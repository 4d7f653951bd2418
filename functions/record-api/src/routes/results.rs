//! Official results: the owning organizer enters, corrects and deletes them; everyone
//! reads a marathon's ranking; runners read their own.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::activity::ActivityKind;
use domain::marathon::ResultRefusal;
use domain::paging::PageRequest;
use domain::ports::StoreError;
use domain::result::{FinishTime, OfficialResult, next_version, parse_bonus};
use domain::{FieldError, ValidationErrors};
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{
    PageQuery, activity, check_version, conflict, etag, if_match, load_marathon, marathon_id, not_found,
    require_owner, user_id,
};
use crate::contract::{
    self, IfMatchOptional, MarathonPath, RankedResult, ResultBody, ResultPath, ResultView,
};
use crate::state::State;

fn details(result: &OfficialResult) -> domain::activity::ActivityDetails {
    domain::activity::ActivityDetails::Result(domain::activity::ResultDetails {
        marathon_id: result.marathon_id.clone(),
        marathon_name: result.marathon_name.clone(),
        runner_id: result.runner_id.clone(),
        finish_time: result.finish_time.clone(),
        points: result.points,
        version: result.version,
    })
}

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
    ApiJson(input): ApiJson<ResultBody>,
) -> Result<Response, Problem> {
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    require_owner(&caller, &marathon)?;
    // results mint points into the public totals: only an organizer whose address is verified
    caller.require_verified_email()?;
    let runner = user_id(&runner, "runner")?;
    let mut errors = ValidationErrors::default();
    let finish = errors
        .require("finish_time", contract::integral(input.finish_time))
        .and_then(|raw| errors.check(FinishTime::parse(&raw)));
    let bonus = errors.check(parse_bonus(input.bonus_points));
    let (Some(finish), Some(bonus)) = (finish, bonus) else {
        return Err(errors.into());
    };
    if let Some(reason) = marathon.result_refusal(api.clock.now().date()) {
        return Err(conflict(match reason {
            ResultRefusal::Cancelled => "the marathon is cancelled".to_owned(),
            ResultRefusal::BeforeRaceDay => format!(
                "results are recorded from race day on: the marathon is run on {} (UTC)",
                marathon.date
            ),
        }));
    }
    let entry = api
        .races
        .entry(&marathon.id, &runner)
        .await?
        .ok_or_else(|| conflict("the runner is not registered for this marathon"))?;
    let existing = api.races.result(&marathon.id, &runner).await?;
    check_version(if_match(&headers)?, existing.as_ref().map_or(0, |r| r.version))?;
    if let Some(current) = existing.as_ref().filter(|r| {
        r.finish_seconds == finish.seconds() && r.bonus_points == bonus && r.points == marathon.points + bonus
    }) {
        // the result as it is: no new version, no activity entry, no points event, no post
        return Ok((
            StatusCode::OK,
            [(header::ETAG, etag(current.version))],
            Json(ResultView::from(current.clone())),
        )
            .into_response());
    }
    // above the stored version, or above the tombstone a deleted result left
    let floor = match &existing {
        Some(current) => Some(current.version),
        None => api.races.removed_version(&marathon.id, &runner).await?,
    };
    let now = api.clock.now();
    let result = OfficialResult {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        marathon_date: marathon.date,
        runner_id: runner.clone(),
        runner_name: entry.runner_name,
        finish_seconds: finish.seconds(),
        finish_time: finish.display(),
        bonus_points: bonus,
        points: marathon.points + bonus,
        version: next_version(floor, now),
        recorded_at: existing.as_ref().map_or(now, |r| r.recorded_at),
        updated_at: now,
        correlation_id: origin.0.correlation_id.clone(),
        import_id: None,
    };
    let kind = if existing.is_some() {
        ActivityKind::ResultCorrected
    } else {
        ActivityKind::ResultRecorded
    };
    let log = activity(&api, &caller, kind, origin).with_details(details(&result));
    match api
        .races
        .put_result(&result, existing.as_ref().map(|r| r.version), &log)
        .await
    {
        Ok(()) => infra::metrics::count(infra::metrics::Metric::ResultsRecorded, 1),
        Err(StoreError::Conflict) => {
            return Err(conflict(
                "the result, the runner's entry or the marathon's points changed meanwhile; read them again",
            ));
        }
        Err(other) => return Err(other.into()),
    }
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        [(header::ETAG, etag(result.version))],
        Json(ResultView::from(result)),
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
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    require_owner(&caller, &marathon)?;
    // results mint points into the public totals: only an organizer whose address is verified
    caller.require_verified_email()?;
    let runner = user_id(&runner, "result")?;
    let existing = api
        .races
        .result(&marathon.id, &runner)
        .await?
        .ok_or_else(|| not_found("result"))?;
    check_version(if_match(&headers)?, existing.version)?;
    let log = activity(&api, &caller, ActivityKind::ResultRemoved, origin).with_details(details(&existing));
    match api
        .races
        .delete_result(&marathon.id, &runner, existing.version, &log)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::Conflict) => Err(conflict("the result changed meanwhile; read it again")),
        Err(other) => Err(other.into()),
    }
}

/// Far beyond any real ranking; a larger offset is no cursor this listing gave out, and the
/// bound keeps the rank arithmetic below from overflowing.
const MAX_RANK_OFFSET: u64 = u32::MAX as u64;

/// The public ranking. Ranks continue across pages: the cursor carries the offset.
#[utoipa::path(
    get,
    path = "/marathons/{id}/results",
    operation_id = "list_marathon_results",
    tag = "results",
    params(MarathonPath, PageQuery),
    responses(
        (status = 200, description = "A page of the ranking, fastest first.", body = contract::Page<RankedResult>),
        (status = 400, description = "A query parameter is invalid (named in `errors`)."),
        (status = 404, description = "No such marathon."),
    )
)]
pub async fn of_marathon(
    Extract(api): Extract<State>,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, Problem> {
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    let page = query.page()?;
    let (offset, inner) = match page.cursor.as_deref() {
        None => (0, None),
        Some(cursor) => {
            let (offset, inner) = cursor
                .split_once('.')
                .and_then(|(o, rest)| {
                    let offset = o.parse::<u64>().ok().filter(|o| *o <= MAX_RANK_OFFSET)?;
                    Some((offset, rest.to_owned()))
                })
                .ok_or_else(|| {
                    Problem::from(FieldError::new("cursor", "is not a cursor this listing gave out"))
                })?;
            (offset, Some(inner))
        }
    };
    let mut results = api
        .races
        .marathon_results(
            &marathon.id,
            &PageRequest {
                limit: page.limit,
                cursor: inner,
            },
        )
        .await?;
    marathon.label(&mut results.items);
    let count = results.items.len() as u64;
    let ranked = contract::Page {
        next_cursor: results.next_cursor.map(|c| format!("{}.{c}", offset + count)),
        items: results
            .items
            .into_iter()
            .enumerate()
            .map(|(i, result)| RankedResult {
                rank: offset + i as u64 + 1,
                result: result.into(),
            })
            .collect(),
    };
    Ok(Json(ranked).into_response())
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
    caller.require(Role::Runner)?;
    let page = api.races.runner_results(&caller.id, &query.page()?).await?;
    Ok(Json(contract::Page::<ResultView>::of(page)).into_response())
}
