//! Marathons: organizers create, edit and cancel their own; everyone reads.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::activity::ActivityKind;
use domain::marathon::{Marathon, MarathonFields, MarathonId, MarathonStatus};
use domain::ports::{MarathonFilter, StoreError};
use infra::http::{ApiJson, ApiPath, ApiQuery, Caller, Origin, Problem};

use crate::contract::{
    self, IfMatchOptional, IfMatchRequired, MarathonChanges, MarathonListQuery, MarathonPath, NewMarathon,
    Page,
};

use super::{
    PageQuery, activity, check_version, conflict, etag, if_match, load_marathon, marathon_id, require_owner,
    user_id,
};
use crate::state::State;

fn with_etag(status: StatusCode, marathon: &Marathon) -> Response {
    (
        status,
        [(header::ETAG, etag(marathon.version))],
        Json(contract::Marathon::from(marathon)),
    )
        .into_response()
}

fn details(marathon: &Marathon, changes: &[&str]) -> domain::activity::ActivityDetails {
    domain::activity::ActivityDetails::Marathon(domain::activity::MarathonDetails {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        date: marathon.date,
        changes: changes.iter().map(|c| (*c).to_owned()).collect(),
    })
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
    // no verified address needed: a marathon mints no points, its results do (and wait for it)
    caller.require(Role::Organizer)?;
    let fields = MarathonFields::from_input(input.into(), None)?;
    let now = api.clock.now();
    let marathon = Marathon {
        id: MarathonId::generate(),
        organizer_id: caller.id.clone(),
        name: fields.name,
        date: fields.date,
        location: fields.location,
        distance_m: fields.course.metres(),
        course: fields.course,
        points: fields.points,
        dnf_points: fields.dnf_points,
        capacity: fields.capacity,
        entry_count: 0,
        result_count: 0,
        registration_closes_at: fields.registration_closes_at,
        status: MarathonStatus::Open,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let entry =
        activity(&api, &caller, ActivityKind::MarathonCreated, origin).with_details(details(&marathon, &[]));
    api.races.create_marathon(&marathon, &entry).await?;
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
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let today = api.clock.now().date();
    // `when` is checked even beside `organizer`, which it does not affect: a value the
    // document refuses is refused.
    let past = match query.when.as_deref() {
        None | Some("upcoming") => false,
        Some("past") => true,
        Some(_) => {
            return Err(domain::FieldError::new("when", "must be \"upcoming\" or \"past\"").into());
        }
    };
    let filter = match query.organizer.as_deref() {
        Some(organizer) => MarathonFilter::ByOrganizer(
            user_id(organizer, "organizer")
                .map_err(|_| Problem::from(domain::FieldError::new("organizer", "must be a user id")))?,
        ),
        None if past => MarathonFilter::Past { today },
        None => MarathonFilter::Upcoming { today },
    };
    let marathons = api.races.list_marathons(&filter, &page).await?;
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
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
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
    let current = load_marathon(&api, &marathon_id(&id)?).await?;
    require_owner(&caller, &current)?;
    if !headers.contains_key(header::IF_MATCH) {
        return Err(Problem::new(
            infra::http::ProblemType::PreconditionRequired,
            "send If-Match with the ETag of the marathon you read",
        ));
    }
    // `*` is a deliberate "whatever it is now" (RFC 9110), as on the other conditional routes.
    check_version(if_match(&headers)?, current.version)?;
    if current.status == MarathonStatus::Cancelled {
        return Err(conflict("the marathon is cancelled"));
    }
    let fields = MarathonFields::from_input(input.into(), Some(&current))?;
    if !current.may_set_points(fields.points) {
        return Err(conflict(format!(
            "points are fixed once official results are recorded ({} so far): every result \
             contributes the marathon's points plus its bonus; change a result's bonus_points instead",
            current.result_count
        )));
    }
    if !current.may_set_dnf_points(fields.dnf_points) {
        return Err(conflict(format!(
            "dnf_points are fixed once official results are recorded ({} so far), as points are",
            current.result_count
        )));
    }
    if !current.may_set_date(fields.date) {
        return Err(conflict(format!(
            "the date is fixed once official results are recorded ({} so far): results exist only \
             from race day on; remove them first to move the race",
            current.result_count
        )));
    }
    let changes = fields.changes(&current);
    if changes.is_empty() {
        // nothing changes: no new version, no activity entry, so no mail to anyone
        return Ok(with_etag(StatusCode::OK, &current));
    }
    let updated = Marathon {
        name: fields.name,
        date: fields.date,
        location: fields.location,
        distance_m: fields.course.metres(),
        course: fields.course,
        points: fields.points,
        dnf_points: fields.dnf_points,
        capacity: fields.capacity,
        registration_closes_at: fields.registration_closes_at,
        version: current.version + 1,
        updated_at: api.clock.now(),
        ..current.clone()
    };
    let entry = activity(&api, &caller, ActivityKind::MarathonUpdated, origin)
        .with_details(details(&updated, &changes));
    save(&api, &updated, current.version, &entry).await?;
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
    let current = load_marathon(&api, &marathon_id(&id)?).await?;
    require_owner(&caller, &current)?;
    check_version(if_match(&headers)?, current.version)?;
    if current.status == MarathonStatus::Cancelled {
        return Err(conflict("the marathon is already cancelled"));
    }
    let cancelled = Marathon {
        status: MarathonStatus::Cancelled,
        version: current.version + 1,
        updated_at: api.clock.now(),
        ..current.clone()
    };
    let entry = activity(&api, &caller, ActivityKind::MarathonCancelled, origin)
        .with_details(details(&cancelled, &[]));
    save(&api, &cancelled, current.version, &entry).await?;
    Ok(with_etag(StatusCode::OK, &cancelled))
}

async fn save(
    api: &crate::Api,
    marathon: &Marathon,
    expected: u64,
    entry: &domain::activity::ActivityEntry,
) -> Result<(), Problem> {
    match api.races.update_marathon(marathon, expected, entry).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(Problem::new(
            infra::http::ProblemType::PreconditionFailed,
            "the marathon changed meanwhile; read it again",
        )),
        Err(other) => Err(other.into()),
    }
}
