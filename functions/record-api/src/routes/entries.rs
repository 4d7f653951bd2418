//! Entries: runners register themselves; the owning organizer lists participants.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use infra::http::{ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{PageQuery, actor, marathon_id, reader};
use crate::contract::{BibBody, EntryView, MarathonPath, Page, ResultPath};
use crate::state::State;
use crate::usecases::entries;

/// Registers the calling runner for a marathon.
#[utoipa::path(
    post,
    path = "/marathons/{id}/entries",
    operation_id = "register_for_marathon",
    tag = "entries",
    security(("bearer" = [])),
    params(MarathonPath),
    responses(
        (status = 201, description = "Registered.", body = EntryView, headers(
            ("Location" = String, description = "/marathons/{id}/entries/me"),
        )),
        (status = 401, description = "No access token, or one that is malformed, expired or not ours, or whose account was deleted (with WWW-Authenticate)."),
        (status = 403, description = "Only a runner may register."),
        (status = 404, description = "No such marathon."),
        (status = 409, description = "Cancelled, registration closed, full, or already registered."),
    )
)]
pub async fn register(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
) -> Result<Response, Problem> {
    let marathon = marathon_id(&id)?;
    let entry = entries::register(api.ports(), &actor(caller, origin), &marathon).await?;
    let location = format!("/marathons/{}/entries/me", entry.marathon_id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(EntryView::from(entry)),
    )
        .into_response())
}

/// Cancels the calling runner's entry, until race day and while it has no official result
/// (the result and its points would stay, and the organizer could no longer correct it).
#[utoipa::path(
    delete,
    path = "/marathons/{id}/entries/me",
    operation_id = "cancel_my_entry",
    tag = "entries",
    security(("bearer" = [])),
    params(MarathonPath),
    responses(
        (status = 204, description = "Cancelled."),
        (status = 401, description = "No access token, or one that is malformed, expired or not ours, or whose account was deleted (with WWW-Authenticate)."),
        (status = 403, description = "Only a runner has entries."),
        (status = 404, description = "No such marathon, or no entry for it."),
        (status = 409, description = "The marathon is cancelled, the race has started, or the runner has an official result."),
    )
)]
pub async fn cancel(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
) -> Result<StatusCode, Problem> {
    let marathon = marathon_id(&id)?;
    entries::cancel(api.ports(), &actor(caller, origin), &marathon).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calling runner's entry for a marathon (where registering points to).
#[utoipa::path(
    get,
    path = "/marathons/{id}/entries/me",
    operation_id = "show_my_entry",
    tag = "entries",
    security(("bearer" = [])),
    params(MarathonPath),
    responses(
        (status = 200, description = "The entry.", body = EntryView),
        (status = 403, description = "Only a runner has entries."),
        (status = 404, description = "No such marathon, or no entry for it."),
    )
)]
pub async fn my_entry(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
) -> Result<Response, Problem> {
    let marathon = marathon_id(&id)?;
    let entry = entries::my_entry(api.ports(), &reader(caller), &marathon).await?;
    Ok(Json(EntryView::from(entry)).into_response())
}

/// The participants of a marathon, for its organizer.
#[utoipa::path(
    get,
    path = "/marathons/{id}/entries",
    operation_id = "list_marathon_entries",
    tag = "entries",
    security(("bearer" = [])),
    params(MarathonPath, PageQuery),
    responses(
        (status = 200, description = "A page of entries.", body = Page<EntryView>),
        (status = 400, description = "A query parameter is invalid (named in `errors`)."),
        (status = 403, description = "Only the marathon's organizer may list its entries."),
        (status = 404, description = "No such marathon."),
    )
)]
pub async fn of_marathon(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, Problem> {
    let marathon = marathon_id(&id)?;
    let page = entries::of_marathon(api.ports(), &reader(caller), &marathon, &query).await?;
    Ok(Json(Page::<EntryView>::of(page)).into_response())
}

/// The calling runner's entries.
#[utoipa::path(
    get,
    path = "/me/entries",
    operation_id = "list_my_entries",
    tag = "entries",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of entries.", body = Page<EntryView>),
        (status = 400, description = "A query parameter is invalid (named in `errors`)."),
        (status = 403, description = "Only a runner has entries."),
    )
)]
pub async fn mine(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, Problem> {
    let page = entries::mine(api.ports(), &reader(caller), &query).await?;
    Ok(Json(Page::<EntryView>::of(page)).into_response())
}

/// Gives a runner's entry a bib (the organizer's choice over the one assigned at
/// registration); the runner's result, if any, shows it too. Bibs are unique per
/// marathon.
#[utoipa::path(
    put,
    path = "/marathons/{id}/entries/{runner_id}/bib",
    operation_id = "set_entry_bib",
    tag = "entries",
    security(("bearer" = [])),
    params(ResultPath),
    request_body = BibBody,
    responses(
        (status = 200, description = "The entry with its bib.", body = EntryView),
        (status = 400, description = "The bib is not a number from 1 to 99999."),
        (status = 403, description = "Only the marathon's organizer may set bibs."),
        (status = 404, description = "No such marathon, or the runner has no entry for it."),
        (status = 409, description = "Another runner of the marathon has this bib, or the entry changed meanwhile."),
    )
)]
pub async fn set_bib(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(ResultPath {
        id,
        runner_id: runner,
    }): ApiPath<ResultPath>,
    infra::http::ApiJson(body): infra::http::ApiJson<BibBody>,
) -> Result<Response, Problem> {
    let marathon = marathon_id(&id)?;
    let entry = entries::set_bib(api.ports(), &actor(caller, origin), &marathon, &runner, body.bib).await?;
    Ok(Json(EntryView::from(entry)).into_response())
}
