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
use domain::race::{Category, ResultFields, ResultStatus, Splits};
use domain::result::{FinishTime, OfficialResult, ResultRunner, parse_bonus};
use domain::{FieldError, ValidationErrors};
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{
    PageQuery, activity, check_version, conflict, etag, if_match, load_marathon, marathon_id, not_found,
    require_owner, user_id,
};
use crate::contract::{
    self, IfMatchOptional, MarathonPath, RankedResult, ResultBody, ResultPath, ResultView, ResultsQuery,
};
use crate::ranking::{RankCursor, Search};
use crate::state::State;

fn details(result: &OfficialResult) -> domain::activity::ActivityDetails {
    domain::activity::ActivityDetails::Result(domain::activity::ResultDetails {
        marathon_id: result.marathon_id.clone(),
        marathon_name: result.marathon_name.clone(),
        runner_id: result.runner_id.clone(),
        finish_time: result.finish_time.clone(),
        points: result.points,
        version: result.version,
        status: result.status,
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
    let (fields, bonus) = result_fields(input)?;
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
    // the category on race day, from the runner's private profile: only the label is kept
    // (and the age grade it gives the chip time)
    let profile = api.races.race_profile(&runner).await?;
    let category = profile.category_on(marathon.date);
    // above the stored version, or above the tombstone a deleted result left
    let floor = match &existing {
        Some(current) => Some(current.version),
        None => api.races.removed_version(&marathon.id, &runner).await?,
    };
    let result = OfficialResult::build(
        &marathon,
        ResultRunner {
            id: runner.clone(),
            name: entry.runner_name,
            bib: entry.bib,
            category,
        },
        fields,
        bonus,
        existing.as_ref(),
        floor,
        api.clock.now(),
        origin.0.correlation_id.clone(),
    )
    .with_age_grade(&profile, marathon.distance_m);
    if let Some(current) = existing.as_ref().filter(|r| r.same_content(&result)) {
        // the result as it is: no new version, no activity entry, no points event, no post
        return Ok((
            StatusCode::OK,
            [(header::ETAG, etag(current.version))],
            Json(ResultView::from(current.clone()).with_pace(marathon.distance_m)),
        )
            .into_response());
    }
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
        Json(ResultView::from(result).with_pace(marathon.distance_m)),
    )
        .into_response())
}

/// The status and times of a result body, checked together (every bad field named at
/// once), and its bonus.
fn result_fields(input: ResultBody) -> Result<(ResultFields, u32), Problem> {
    let mut errors = ValidationErrors::default();
    let status = match input.status.as_deref() {
        None => Some(ResultStatus::Finished),
        Some(raw) => errors.check(ResultStatus::parse(raw)),
    };
    // a time sent and invalid is Some(None); one not sent is None
    let time = |errors: &mut ValidationErrors, field: &str, raw: Option<serde_json::Value>| {
        raw.map(|raw| {
            errors.check(
                FinishTime::parse(&contract::integral(Some(raw)).unwrap_or_default())
                    .map_err(|e| FieldError::new(field, e.message)),
            )
        })
    };
    let chip = match (input.chip_time, input.finish_time) {
        // both names: fine when they say the same
        (Some(chip), Some(finish)) => {
            let chip = time(&mut errors, "chip_time", Some(chip));
            let finish = time(&mut errors, "finish_time", Some(finish));
            match (chip, finish) {
                (Some(Some(c)), Some(Some(f))) if c != f => {
                    errors.push(FieldError::new(
                        "finish_time",
                        "is another name of chip_time: send one of them, or the same time",
                    ));
                    Some(None)
                }
                (Some(Some(c)), Some(Some(_))) => Some(Some(c)),
                _ => Some(None),
            }
        }
        (Some(chip), None) => time(&mut errors, "chip_time", Some(chip)),
        (None, finish) => time(&mut errors, "finish_time", finish),
    };
    let gun = time(&mut errors, "gun_time", input.gun_time);
    let splits = input.splits.map(|splits| {
        let mut read = Vec::with_capacity(splits.len());
        for (i, split) in splits.into_iter().enumerate() {
            match FinishTime::parse(&contract::integral(Some(split.time)).unwrap_or_default()) {
                Ok(t) => read.push((split.label, t)),
                Err(e) => {
                    errors.push(FieldError::new(
                        "splits",
                        format!("split {}: time {}", i + 1, e.message),
                    ));
                    return None;
                }
            }
        }
        errors.check(Splits::new(read))
    });
    let bonus = errors.check(parse_bonus(input.bonus_points));
    // only once every field reads: the status rules speak of the values. Not sent is
    // absent (Some(None)); sent and invalid is None.
    let settle = |sent: Option<Option<FinishTime>>| match sent {
        None => Some(None),
        Some(Some(t)) => Some(Some(t)),
        Some(None) => None,
    };
    let splits = match splits {
        None => Some(Splits::default()),
        Some(read) => read,
    };
    let (Some(status), Some(chip), Some(gun), Some(splits), Some(bonus)) =
        (status, settle(chip), settle(gun), splits, bonus)
    else {
        return Err(errors.into());
    };
    errors.into_result()?;
    Ok((ResultFields::new(status, chip, gun, splits)?, bonus))
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
    caller.require(Role::Runner)?;
    let page = api.races.runner_results(&caller.id, &query.page()?).await?;
    Ok(Json(contract::Page::<ResultView>::of(page)).into_response())
}
