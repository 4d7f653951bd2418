//! The HTTP API: one route table (the router and the OpenAPI check both read it) and
//! the helpers every resource shares.

mod entries;
mod marathons;
mod openapi;
mod points;
mod records;
mod results;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::routing::{delete, get, patch, post, put};
use domain::activity::{ActivityEntry, ActivityKind};
use domain::marathon::{Marathon, MarathonId};
use domain::paging::PageRequest;
use domain::{Role, UserId};
use infra::http::{Caller, Problem, ProblemType, Route, build_router};
use serde::Deserialize;

use crate::state::{Api, State};

pub fn routes() -> Vec<Route<State>> {
    use Method as M;
    vec![
        Route::new(M::POST, "/marathons", post(marathons::create)),
        Route::new(M::GET, "/marathons", get(marathons::list)),
        Route::new(M::GET, "/marathons/{id}", get(marathons::show)),
        Route::new(M::PATCH, "/marathons/{id}", patch(marathons::update)),
        Route::new(M::DELETE, "/marathons/{id}", delete(marathons::cancel)),
        Route::new(M::POST, "/marathons/{id}/entries", post(entries::register)),
        Route::new(M::DELETE, "/marathons/{id}/entries/me", delete(entries::cancel)),
        Route::new(M::GET, "/marathons/{id}/entries", get(entries::of_marathon)),
        Route::new(M::GET, "/me/entries", get(entries::mine)),
        Route::new(
            M::PUT,
            "/marathons/{id}/results/{runner_id}",
            put(results::record),
        ),
        Route::new(
            M::DELETE,
            "/marathons/{id}/results/{runner_id}",
            delete(results::remove),
        ),
        Route::new(M::GET, "/marathons/{id}/results", get(results::of_marathon)),
        Route::new(M::GET, "/me/results", get(results::mine)),
        Route::new(M::POST, "/me/records", post(records::create)),
        Route::new(M::GET, "/me/records", get(records::list)),
        Route::new(M::GET, "/me/records/{id}", get(records::show)),
        Route::new(M::PATCH, "/me/records/{id}", patch(records::update)),
        Route::new(M::DELETE, "/me/records/{id}", delete(records::remove)),
        Route::new(M::GET, "/me/points", get(points::mine)),
        Route::new(M::GET, "/runners/{id}/points", get(points::of_runner)),
        Route::new(M::GET, "/openapi.json", get(openapi::document)),
    ]
}

pub fn router(api: Arc<Api>) -> Router {
    build_router(routes(), api)
}

pub use openapi::DOCUMENT as OPENAPI;

/// `?limit=&cursor=` on every listing.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<PageRequest, Problem> {
        Ok(PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())?)
    }
}

pub fn not_found(what: &str) -> Problem {
    Problem::new(ProblemType::NotFound, format!("no such {what}"))
}

pub fn conflict(detail: impl Into<String>) -> Problem {
    Problem::new(ProblemType::Conflict, detail)
}

/// An id in the path that is not one of ours cannot name anything: 404, not 400.
pub fn marathon_id(raw: &str) -> Result<MarathonId, Problem> {
    MarathonId::parse(raw).ok_or_else(|| not_found("marathon"))
}

pub fn user_id(raw: &str, what: &str) -> Result<UserId, Problem> {
    UserId::parse(raw).ok_or_else(|| not_found(what))
}

pub async fn load_marathon(api: &Api, id: &MarathonId) -> Result<Marathon, Problem> {
    api.races.marathon(id).await?.ok_or_else(|| not_found("marathon"))
}

/// The owning organizer only: 403 for runners and for other organizers.
pub fn require_owner(caller: &Caller, marathon: &Marathon) -> Result<(), Problem> {
    caller.require(Role::Organizer)?;
    if marathon.is_owned_by(&caller.id) {
        Ok(())
    } else {
        Err(Problem::new(
            ProblemType::Forbidden,
            "only the marathon's organizer may do this",
        ))
    }
}

pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes are a valid header")
}

/// The version an `If-Match` header names, if any. `*` matches whatever exists.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or_default().trim();
    if raw == "*" {
        return Ok(None);
    }
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| {
            domain::FieldError::new("If-Match", "must be an ETag this API gave out, like \"3\"").into()
        })
}

/// 412 when the client's version is not the stored one.
pub fn check_version(expected: Option<u64>, stored: u64) -> Result<(), Problem> {
    match expected {
        Some(v) if v != stored => Err(Problem::new(
            ProblemType::PreconditionFailed,
            format!("the resource is at version {stored}, not {v}; read it again"),
        )),
        _ => Ok(()),
    }
}

pub fn activity(
    api: &Api,
    caller: &Caller,
    kind: ActivityKind,
    origin: infra::http::Origin,
) -> ActivityEntry {
    ActivityEntry::new(caller.id.clone(), kind, api.clock.now(), origin.0)
}
