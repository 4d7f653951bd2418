//! Entries: runners register themselves; the owning organizer lists participants.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::activity::ActivityKind;
use domain::entry::Entry;
use domain::marathon::{EntryRefusal, Marathon};
use domain::ports::StoreError;
use domain::race::Bib;
use infra::http::{ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{PageQuery, activity, conflict, load_marathon, marathon_id, not_found, require_owner};
use crate::contract::{BibBody, EntryView, MarathonPath, Page, ResultPath};
use crate::state::State;

fn refusal(reason: EntryRefusal) -> Problem {
    conflict(match reason {
        EntryRefusal::Cancelled => "the marathon is cancelled",
        EntryRefusal::RegistrationClosed => "registration has closed",
        EntryRefusal::Full => "the marathon is full",
        EntryRefusal::RaceStarted => "the race has started; entries can no longer be cancelled",
    })
}

fn details(marathon: &Marathon, runner: &domain::UserId) -> domain::activity::ActivityDetails {
    domain::activity::ActivityDetails::Entry(domain::activity::EntryDetails {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        runner_id: runner.clone(),
    })
}

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
        (status = 401, description = "No valid access token, or the account no longer exists."),
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
    caller.require(Role::Runner)?;
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    let now = api.clock.now();
    if let Some(reason) = marathon.registration_refusal(now) {
        return Err(refusal(reason));
    }
    let runner = api.users.user(&caller.id).await?.ok_or_else(|| {
        Problem::new(
            infra::http::ProblemType::Unauthorized,
            "your account no longer exists",
        )
    })?;
    let entry = Entry {
        marathon_id: marathon.id.clone(),
        runner_id: runner.id.clone(),
        runner_name: runner.name,
        marathon_name: marathon.name.clone(),
        marathon_date: marathon.date,
        registered_at: now,
        bib: None,
    };
    let log = activity(&api, &caller, ActivityKind::EntryRegistered, origin)
        .with_details(details(&marathon, &runner.id));
    let entry = match api.races.register(&entry, now, &log).await {
        // the store gave the next free bib
        Ok(bib) => Entry { bib, ..entry },
        // Someone else changed the marathon meanwhile: re-read and say why.
        Err(StoreError::Conflict) => {
            if api.races.entry(&marathon.id, &runner.id).await?.is_some() {
                return Err(conflict("you are already registered for this marathon"));
            }
            let latest = load_marathon(&api, &marathon.id).await?;
            return Err(latest
                .registration_refusal(now)
                .map(refusal)
                .unwrap_or_else(|| conflict("the marathon changed meanwhile; try again")));
        }
        Err(other) => return Err(other.into()),
    };
    let location = format!("/marathons/{}/entries/me", marathon.id);
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
    caller.require(Role::Runner)?;
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    if let Some(reason) = marathon.cancellation_refusal(api.clock.now().date()) {
        return Err(refusal(reason));
    }
    let log = activity(&api, &caller, ActivityKind::EntryCancelled, origin)
        .with_details(details(&marathon, &caller.id));
    match api.races.cancel_entry(&marathon.id, &caller.id, &log).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        // the store refuses both a missing entry and an entry with a result: tell which
        Err(StoreError::Conflict) => match api.races.result(&marathon.id, &caller.id).await? {
            Some(_) => Err(conflict(
                "your official result is recorded: the organizer must remove it before you can cancel",
            )),
            None => Err(not_found("entry")),
        },
        Err(other) => Err(other.into()),
    }
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
    caller.require(Role::Runner)?;
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    let mut entry = api
        .races
        .entry(&marathon.id, &caller.id)
        .await?
        .ok_or_else(|| not_found("entry"))?;
    marathon.label(std::slice::from_mut(&mut entry));
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
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    require_owner(&caller, &marathon)?;
    let mut page = api.races.marathon_entries(&marathon.id, &query.page()?).await?;
    marathon.label(&mut page.items);
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
    caller.require(Role::Runner)?;
    let page = api.races.runner_entries(&caller.id, &query.page()?).await?;
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
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    require_owner(&caller, &marathon)?;
    let runner = super::user_id(&runner, "entry")?;
    let bib = match body.bib {
        None => return Err(domain::FieldError::missing("bib").into()),
        Some(n) => u32::try_from(n)
            .ok()
            .and_then(Bib::new)
            .ok_or_else(|| domain::FieldError::new("bib", "must be a number from 1 to 99999"))?,
    };
    let log =
        activity(&api, &caller, ActivityKind::EntryBibSet, origin).with_details(details(&marathon, &runner));
    match api.races.set_bib(&marathon.id, &runner, bib, &log).await {
        Ok(()) => {}
        Err(StoreError::Missing(_)) => return Err(not_found("entry")),
        Err(StoreError::Conflict) => {
            return Err(match api.races.bib_holder(&marathon.id, bib).await? {
                Some(holder) if holder != runner => conflict(format!("bib {bib} is another runner's")),
                _ => conflict("the entry changed meanwhile; try again"),
            });
        }
        Err(other) => return Err(other.into()),
    }
    let mut entry = api
        .races
        .entry(&marathon.id, &runner)
        .await?
        .ok_or_else(|| not_found("entry"))?;
    marathon.label(std::slice::from_mut(&mut entry));
    Ok(Json(EntryView::from(entry)).into_response())
}
