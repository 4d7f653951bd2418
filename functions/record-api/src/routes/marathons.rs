//! Marathons: organizers create, edit and cancel their own; everyone reads.

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::activity::ActivityKind;
use domain::marathon::{Marathon, MarathonFields, MarathonId, MarathonInput, MarathonStatus};
use domain::ports::{MarathonFilter, StoreError};
use infra::http::{ApiJson, ApiQuery, Caller, Origin, Problem};
use serde::Deserialize;

use super::{
    PageQuery, activity, check_version, conflict, etag, if_match, load_marathon, marathon_id, require_owner,
    user_id,
};
use crate::state::State;

fn with_etag(status: StatusCode, marathon: &Marathon) -> Response {
    (status, [(header::ETAG, etag(marathon.version))], Json(marathon)).into_response()
}

fn details(marathon: &Marathon) -> domain::activity::ActivityDetails {
    domain::activity::ActivityDetails::Marathon(domain::activity::MarathonDetails {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        date: marathon.date,
    })
}

pub async fn create(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    ApiJson(input): ApiJson<MarathonInput>,
) -> Result<Response, Problem> {
    caller.require(Role::Organizer)?;
    let fields = MarathonFields::from_input(input, None)?;
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
        activity(&api, &caller, ActivityKind::MarathonCreated, origin).with_details(details(&marathon));
    api.races.create_marathon(&marathon, &entry).await?;
    let mut response = with_etag(StatusCode::CREATED, &marathon);
    let location = format!("/marathons/{}", marathon.id);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// "upcoming" (default) or "past".
    pub when: Option<String>,
    pub organizer: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(
    Extract(api): Extract<State>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, Problem> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let today = api.clock.now().date();
    let filter = match (query.organizer.as_deref(), query.when.as_deref()) {
        (Some(organizer), _) => MarathonFilter::ByOrganizer(
            user_id(organizer, "organizer")
                .map_err(|_| Problem::from(domain::FieldError::new("organizer", "must be a user id")))?,
        ),
        (None, None | Some("upcoming")) => MarathonFilter::Upcoming { today },
        (None, Some("past")) => MarathonFilter::Past { today },
        (None, Some(_)) => {
            return Err(domain::FieldError::new("when", "must be \"upcoming\" or \"past\"").into());
        }
    };
    let marathons = api.races.list_marathons(&filter, &page).await?;
    Ok(Json(marathons).into_response())
}

pub async fn show(Extract(api): Extract<State>, Path(id): Path<String>) -> Result<Response, Problem> {
    let marathon = load_marathon(&api, &marathon_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &marathon))
}

pub async fn update(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<MarathonInput>,
) -> Result<Response, Problem> {
    let current = load_marathon(&api, &marathon_id(&id)?).await?;
    require_owner(&caller, &current)?;
    let expected = if_match(&headers)?.ok_or_else(|| {
        Problem::new(
            infra::http::ProblemType::PreconditionRequired,
            "send If-Match with the ETag of the marathon you read",
        )
    })?;
    check_version(Some(expected), current.version)?;
    if current.status == MarathonStatus::Cancelled {
        return Err(conflict("the marathon is cancelled"));
    }
    let fields = MarathonFields::from_input(input, Some(&current))?;
    if !current.may_set_points(fields.points) {
        return Err(conflict(format!(
            "points are fixed once official results are recorded ({} so far): every result \
             contributes the marathon's points plus its bonus; change a result's bonus_points instead",
            current.result_count
        )));
    }
    let updated = Marathon {
        name: fields.name,
        date: fields.date,
        location: fields.location,
        distance_m: fields.course.metres(),
        course: fields.course,
        points: fields.points,
        capacity: fields.capacity,
        registration_closes_at: fields.registration_closes_at,
        version: current.version + 1,
        updated_at: api.clock.now(),
        ..current.clone()
    };
    let entry =
        activity(&api, &caller, ActivityKind::MarathonUpdated, origin).with_details(details(&updated));
    save(&api, &updated, current.version, &entry).await?;
    Ok(with_etag(StatusCode::OK, &updated))
}

/// Cancels: the marathon stays readable as cancelled, registration closes, and the
/// activity entry tells the mailer to write to its participants.
pub async fn cancel(
    Extract(api): Extract<State>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
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
    let entry =
        activity(&api, &caller, ActivityKind::MarathonCancelled, origin).with_details(details(&cancelled));
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
