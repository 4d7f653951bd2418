//! Private records: the runner's own. Another user's record id answers 404, exactly
//! like one that never existed, so ids leak nothing.

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::activity::ActivityKind;
use domain::ports::StoreError;
use domain::record::{Record, RecordFields, RecordInput};
use infra::http::{ApiJson, ApiQuery, Caller, Origin, Problem};

use super::{PageQuery, activity, not_found};
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

pub async fn create(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiJson(input): ApiJson<RecordInput>,
) -> Result<Response, Problem> {
    caller.require(Role::Runner)?;
    let fields = RecordFields::from_input(input, None)?;
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
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(record)).into_response())
}

pub async fn list(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, Problem> {
    caller.require(Role::Runner)?;
    Ok(Json(api.races.runner_records(&caller.id, &query.page()?).await?).into_response())
}

pub async fn show(
    Extract(api): Extract<State>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(Json(load(&api, &caller, &id).await?).into_response())
}

pub async fn update(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RecordInput>,
) -> Result<Response, Problem> {
    let current = load(&api, &caller, &id).await?;
    let fields = RecordFields::from_input(input, Some(&current))?;
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
        Ok(()) => Ok(Json(record).into_response()),
        Err(StoreError::Conflict) => Err(not_found("record")),
        Err(other) => Err(other.into()),
    }
}

pub async fn remove(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let current = load(&api, &caller, &id).await?;
    let log = activity(&api, &caller, ActivityKind::RecordDeleted, origin).with_details(details(&current.id));
    match api.races.delete_record(&caller.id, &current.id, &log).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::Conflict) => Err(not_found("record")),
        Err(other) => Err(other.into()),
    }
}
