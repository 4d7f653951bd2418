//! Private records: the runner's own. Another user's record id answers 404, exactly
//! like one that never existed, so ids leak nothing.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::activity::ActivityKind;
use domain::ports::StoreError;
use domain::record::{Record, RecordFields};
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{PageQuery, activity, live_account, not_found};
use crate::contract::{NewRecord, Page, RecordChanges, RecordPath, RecordView};
use crate::state::{Api, State};

fn record_id(raw: &str) -> Result<String, Problem> {
    ulid::Ulid::from_string(raw)
        .map(|id| id.to_string())
        .map_err(|_| not_found("record"))
}

async fn load(api: &Api, caller: &Caller, raw: &str) -> Result<Record, Problem> {
    caller.require(Role::Runner)?;
    api.races
        .record(&caller.id, &record_id(raw)?)
        .await?
        .ok_or_else(|| not_found("record"))
}

fn details(record_id: &str) -> domain::activity::ActivityDetails {
    domain::activity::ActivityDetails::Record(domain::activity::RecordDetails {
        record_id: record_id.to_owned(),
    })
}

/// Writes down a private record.
#[utoipa::path(
    post,
    path = "/me/records",
    operation_id = "create_my_record",
    tag = "records",
    request_body = NewRecord,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = RecordView, headers(
            ("Location" = String, description = "/me/records/{id}"),
        )),
        (status = 401, description = "No access token, or one that is malformed, expired or not ours, or whose account was deleted (with WWW-Authenticate)."),
        (status = 403, description = "Only a runner keeps records."),
    )
)]
pub async fn create(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiJson(input): ApiJson<NewRecord>,
) -> Result<Response, Problem> {
    caller.require(Role::Runner)?;
    let fields = RecordFields::from_input(input.into(), None)?;
    live_account(&api, &caller).await?;
    let now = api.clock.now();
    let record = Record {
        id: ulid::Ulid::new().to_string(),
        runner_id: caller.id.clone(),
        kind: fields.kind,
        date: fields.date,
        distance_m: fields.distance_m,
        duration_seconds: fields.duration_seconds,
        notes: fields.notes,
        created_at: now,
        updated_at: now,
    };
    let log = activity(&api, &caller, ActivityKind::RecordCreated, origin).with_details(details(&record.id));
    api.races.create_record(&record, &log).await?;
    let location = format!("/me/records/{}", record.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(RecordView::from(record)),
    )
        .into_response())
}

/// The calling runner's records, newest first.
#[utoipa::path(
    get,
    path = "/me/records",
    operation_id = "list_my_records",
    tag = "records",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of records.", body = Page<RecordView>),
        (status = 400, description = "A query parameter is invalid (named in `errors`)."),
        (status = 403, description = "Only a runner keeps records."),
    )
)]
pub async fn list(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, Problem> {
    caller.require(Role::Runner)?;
    let page = api.races.runner_records(&caller.id, &query.page()?).await?;
    Ok(Json(Page::<RecordView>::of(page)).into_response())
}

/// One of the calling runner's records.
#[utoipa::path(
    get,
    path = "/me/records/{id}",
    operation_id = "show_my_record",
    tag = "records",
    security(("bearer" = [])),
    params(RecordPath),
    responses(
        (status = 200, description = "The record.", body = RecordView),
        (status = 403, description = "Only a runner keeps records."),
        (status = 404, description = "No such record of yours."),
    )
)]
pub async fn show(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiPath(RecordPath { id }): ApiPath<RecordPath>,
) -> Result<Response, Problem> {
    Ok(Json(RecordView::from(load(&api, &caller, &id).await?)).into_response())
}

/// Changes one of the calling runner's records.
#[utoipa::path(
    patch,
    path = "/me/records/{id}",
    operation_id = "update_my_record",
    tag = "records",
    request_body = RecordChanges,
    security(("bearer" = [])),
    params(RecordPath),
    responses(
        (status = 200, description = "Changed.", body = RecordView),
        (status = 401, description = "No access token, or one that is malformed, expired or not ours, or whose account was deleted (with WWW-Authenticate)."),
        (status = 403, description = "Only a runner keeps records."),
        (status = 404, description = "No such record of yours."),
    )
)]
pub async fn update(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(RecordPath { id }): ApiPath<RecordPath>,
    ApiJson(input): ApiJson<RecordChanges>,
) -> Result<Response, Problem> {
    let current = load(&api, &caller, &id).await?;
    let fields = RecordFields::from_input(input.into(), Some(&current))?;
    // between the deletion and the erasure the record still exists: no new data into it
    live_account(&api, &caller).await?;
    let record = Record {
        kind: fields.kind,
        date: fields.date,
        distance_m: fields.distance_m,
        duration_seconds: fields.duration_seconds,
        notes: fields.notes,
        updated_at: api.clock.now(),
        ..current
    };
    let log = activity(&api, &caller, ActivityKind::RecordUpdated, origin).with_details(details(&record.id));
    match api.races.update_record(&record, &log).await {
        Ok(()) => Ok(Json(RecordView::from(record)).into_response()),
        Err(StoreError::Conflict) => Err(not_found("record")),
        Err(other) => Err(other.into()),
    }
}

/// Deletes one of the calling runner's records.
#[utoipa::path(
    delete,
    path = "/me/records/{id}",
    operation_id = "delete_my_record",
    tag = "records",
    security(("bearer" = [])),
    params(RecordPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only a runner keeps records."),
        (status = 404, description = "No such record of yours."),
    )
)]
pub async fn remove(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(RecordPath { id }): ApiPath<RecordPath>,
) -> Result<StatusCode, Problem> {
    let current = load(&api, &caller, &id).await?;
    let log = activity(&api, &caller, ActivityKind::RecordDeleted, origin).with_details(details(&current.id));
    match api.races.delete_record(&caller.id, &current.id, &log).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::Conflict) => Err(not_found("record")),
        Err(other) => Err(other.into()),
    }
}
