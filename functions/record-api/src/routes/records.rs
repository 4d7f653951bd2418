//! Private records: the runner's own. Another user's record id answers 404, exactly
//! like one that never existed, so ids leak nothing.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use super::{PageQuery, actor, reader};
use crate::contract::{NewRecord, Page, RecordChanges, RecordPath, RecordView};
use crate::state::State;
use crate::usecases::records;

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
    let record = records::create(api.ports(), &actor(caller, origin), input.into()).await?;
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
    let page = records::list(api.ports(), &reader(caller), &query).await?;
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
    let record = records::show(api.ports(), &reader(caller), &id).await?;
    Ok(Json(RecordView::from(record)).into_response())
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
    let record = records::update(api.ports(), &actor(caller, origin), &id, input.into()).await?;
    Ok(Json(RecordView::from(record)).into_response())
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
    records::remove(api.ports(), &actor(caller, origin), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
