//! Marathons: organizers create, edit and cancel their own; everyone reads.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::marathon::Marathon;
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use crate::contract::{
    self, IfMatchOptional, IfMatchRequired, MarathonChanges, MarathonListQuery, MarathonPath, NewMarathon,
    Page,
};

use super::{PageQuery, actor, etag, if_match_field, marathon_id};
use crate::state::State;
use crate::usecases::marathons;

fn with_etag(status: StatusCode, marathon: &Marathon) -> Response {
    (
        status,
        [(header::ETAG, etag(marathon.version))],
        Json(contract::Marathon::from(marathon)),
    )
        .into_response()
}

/// Creates a marathon, open for registration.
#[utoipa::path(
    post,
    path = "/marathons",
    operation_id = "create_marathon",
    tag = "marathons",
    request_body = NewMarathon,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = contract::Marathon, headers(
            ("ETag" = String, description = "The version, quoted: send it back as If-Match."),
            ("Location" = String, description = "/marathons/{id}"),
        )),
        (status = 403, description = "Only an organizer may create marathons. An organizer whose email address is not verified yet may: preparing a marathon mints no points, recording its results waits for verification."),
    )
)]
pub async fn create(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiJson(input): ApiJson<NewMarathon>,
) -> Result<Response, Problem> {
    let marathon = marathons::create(api.ports(), &actor(caller, origin), input.into()).await?;
    let mut response = with_etag(StatusCode::CREATED, &marathon);
    let location = format!("/marathons/{}", marathon.id);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Lists marathons: upcoming ones (soonest first), past ones, or an organizer's.
#[utoipa::path(
    get,
    path = "/marathons",
    operation_id = "list_marathons",
    tag = "marathons",
    params(MarathonListQuery),
    responses(
        (status = 200, description = "A page of marathons.", body = Page<contract::Marathon>),
        (status = 400, description = "A query parameter is invalid (named in `errors`)."),
    )
)]
pub async fn list(
    Extract(api): Extract<State>,
    ApiQuery(query): ApiQuery<MarathonListQuery>,
) -> Result<Response, Problem> {
    let listing = marathons::Listing {
        when: query.when,
        organizer: query.organizer,
        page: PageQuery {
            limit: query.limit,
            cursor: query.cursor,
        },
    };
    let marathons = marathons::list(api.ports(), listing).await?;
    Ok(Json(Page::<contract::Marathon>::of(
        marathons.map(|m| contract::Marathon::from(&m)),
    ))
    .into_response())
}

/// Reads a marathon, cancelled ones included.
#[utoipa::path(
    get,
    path = "/marathons/{id}",
    operation_id = "show_marathon",
    tag = "marathons",
    params(MarathonPath),
    responses(
        (status = 200, description = "The marathon.", body = contract::Marathon, headers(
            ("ETag" = String, description = "The version, quoted: send it back as If-Match."),
        )),
        (status = 404, description = "No such marathon."),
    )
)]
pub async fn show(
    Extract(api): Extract<State>,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
) -> Result<Response, Problem> {
    let marathon = marathons::show(api.ports(), &marathon_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &marathon))
}

/// Changes a marathon (its organizer only), at the version read.
#[utoipa::path(
    patch,
    path = "/marathons/{id}",
    operation_id = "update_marathon",
    tag = "marathons",
    request_body = MarathonChanges,
    security(("bearer" = [])),
    params(
        MarathonPath,
        IfMatchRequired,
    ),
    responses(
        (status = 200, description = "Changed; or, when the request changes nothing, the marathon as it is (same version, nothing logged, nobody mailed).", body = contract::Marathon, headers(
            ("ETag" = String, description = "The new version, quoted (the same one when nothing changed)."),
        )),
        (status = 403, description = "Only the marathon's organizer may change it."),
        (status = 404, description = "No such marathon."),
        (status = 409, description = "The marathon is cancelled, or has results and the points, the dnf points or the date would change."),
        (status = 412, description = "The marathon changed since it was read: read it again."),
        (status = 428, description = "If-Match is missing."),
    )
)]
pub async fn update(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<MarathonChanges>,
) -> Result<Response, Problem> {
    let marathon = marathon_id(&id)?;
    let precondition = headers
        .contains_key(header::IF_MATCH)
        .then(|| if_match_field(&headers));
    let updated = marathons::update(
        api.ports(),
        &actor(caller, origin),
        &marathon,
        precondition,
        input.into(),
    )
    .await?;
    Ok(with_etag(StatusCode::OK, &updated))
}

/// Cancels: the marathon stays readable as cancelled, registration closes, and the
/// activity entry tells the mailer to write to its participants.
#[utoipa::path(
    delete,
    path = "/marathons/{id}",
    operation_id = "cancel_marathon",
    tag = "marathons",
    security(("bearer" = [])),
    params(
        MarathonPath,
        IfMatchOptional,
    ),
    responses(
        (status = 200, description = "Cancelled: the marathon as it now stands.", body = contract::Marathon, headers(
            ("ETag" = String, description = "The new version, quoted."),
        )),
        (status = 400, description = "If-Match is not an ETag."),
        (status = 403, description = "Only the marathon's organizer may cancel it."),
        (status = 404, description = "No such marathon."),
        (status = 409, description = "Already cancelled."),
        (status = 412, description = "The marathon changed since it was read: read it again."),
    )
)]
pub async fn cancel(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiPath(MarathonPath { id }): ApiPath<MarathonPath>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let marathon = marathon_id(&id)?;
    let precondition = if_match_field(&headers);
    let cancelled = marathons::cancel(api.ports(), &actor(caller, origin), &marathon, precondition).await?;
    Ok(with_etag(StatusCode::OK, &cancelled))
}
