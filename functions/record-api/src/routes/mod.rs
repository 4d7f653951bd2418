//! The HTTP API: every route registered with its documentation (utoipa-axum's
//! `routes!`), so the router and the OpenAPI document come from one list; and the helpers
//! every resource shares.

mod entries;
mod imports;
mod leaderboard;
mod marathons;
mod points;
mod profile;
mod records;
mod results;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use domain::marathon::MarathonId;
use infra::http::{Caller, Problem, ProblemType};
use infra::served_routes;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::contract::{PageQuery, Precondition};
use crate::state::{Api, State};
use crate::usecases::{Actor, Refusal};

/// Every route, grouped by path (`routes!` takes one path's methods), once for both uses:
/// `$each` is `routes` (utoipa-axum: each route with its documentation) or
/// `served_routes` (the route alone, for the router a cold start builds).
macro_rules! every_route {
    ($each:ident, $router:expr) => {
        $router
            .routes($each!(marathons::create, marathons::list))
            .routes($each!(marathons::show, marathons::update, marathons::cancel))
            .routes($each!(entries::register, entries::of_marathon))
            .routes($each!(entries::my_entry, entries::cancel))
            .routes($each!(entries::mine))
            .routes($each!(entries::set_bib))
            .routes($each!(profile::show, profile::update))
            .routes($each!(results::record, results::remove))
            .routes($each!(results::of_marathon))
            .routes($each!(results::mine))
            .routes($each!(imports::create))
            .routes($each!(imports::show))
            .routes($each!(imports::commit))
            .routes($each!(records::create, records::list))
            .routes($each!(records::show, records::update, records::remove))
            .routes($each!(points::mine))
            .routes($each!(points::of_runner))
            .routes($each!(leaderboard::show))
            .routes($each!(leaderboard::mine))
    };
}

/// Every route with its documentation: the OpenAPI document's source.
pub fn routes() -> OpenApiRouter<State> {
    let info = InfoBuilder::new()
        .title("mrmrthon record-api")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Marathons, entries, official results, private records, points, the season \
             leaderboard and personal bests. Errors are application/problem+json.",
        ))
        .build();
    every_route!(
        routes,
        OpenApiRouter::with_openapi(OpenApiBuilder::new().info(info).build())
    )
}

/// The router the function serves: the same routes, no document built (see
/// `infra::http::Served`).
pub fn router(api: Arc<Api>) -> Router {
    infra::http::served(every_route!(served_routes, infra::http::Served::new()), api)
}

/// record-api's OpenAPI document, as its router serves it.
pub fn openapi() -> OpenApi {
    infra::http::document(routes())
}

impl PageQuery {
    pub fn page(&self) -> Result<domain::paging::PageRequest, Problem> {
        Ok(domain::paging::PageRequest::parse(
            self.limit.as_deref(),
            self.cursor.as_deref(),
        )?)
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

/// 401 for a token that outlives its account (`Refusal::AccountDeleted`): without the
/// check a dying token could write personal data back after account-erasure removed it
/// (docs/DESIGN.md, Account deletion). The client signs in again and cannot.
fn account_deleted() -> Problem {
    let mut problem = Problem::new(
        ProblemType::Unauthorized,
        "your account no longer exists: it was deleted",
    );
    // RFC 6750: the token is valid as a token, but no longer names anyone
    problem.www_authenticate = Some("Bearer realm=\"mrmrthon\", error=\"invalid_token\"");
    problem
}

pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes are a valid header")
}

/// What the request's `If-Match` asks for (without one, whatever is stored), its error as
/// the field error a use case reports where the version matters.
pub fn if_match_field(headers: &HeaderMap) -> Result<Precondition, domain::FieldError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Precondition::Any);
    };
    // A value that is not visible ASCII is no entity-tag: 400, not "matches nothing".
    let raw = value.to_str().unwrap_or("not an entity-tag");
    crate::contract::parse_if_match(raw)
}

/// The caller as the use cases know them.
pub fn actor(caller: Caller, origin: infra::http::Origin) -> Actor {
    Actor {
        id: caller.id,
        role: caller.role,
        email_verified: caller.email_verified,
        origin: origin.0,
    }
}

/// The caller of a read, which writes no activity entry (and so needs no origin).
pub fn reader(caller: Caller) -> Actor {
    actor(
        caller,
        infra::http::Origin(domain::activity::RequestOrigin::default()),
    )
}

/// A use case's refusal as problem+json.
impl From<Refusal> for Problem {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound(what) => not_found(what),
            Refusal::RoleRequired(role) => infra::http::role_required(role),
            Refusal::NotOwner => Problem::new(
                ProblemType::Forbidden,
                "only the marathon's organizer may do this",
            ),
            Refusal::UnverifiedEmail => infra::http::unverified_email(),
            Refusal::AccountDeleted => account_deleted(),
            Refusal::Invalid(errors) => errors.into(),
            Refusal::Conflict(detail) => conflict(detail),
            Refusal::PreconditionRequired(detail) => Problem::new(ProblemType::PreconditionRequired, detail),
            Refusal::PreconditionFailed(detail) => Problem::new(ProblemType::PreconditionFailed, detail),
            Refusal::Store(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    #[test]
    fn if_match_reads_the_header_and_a_use_case_reports_it() {
        use crate::usecases::check_version;
        assert_eq!(if_match_field(&HeaderMap::new()).unwrap(), Precondition::Any);
        assert_eq!(
            if_match_field(&headers(b"\"4\"")).unwrap(),
            Precondition::Version(4)
        );
        // not visible ASCII: malformed (400), not an empty list that matches nothing (412)
        let malformed = check_version(if_match_field(&headers(&[0xc2, 0x84])), 1).unwrap_err();
        assert_eq!(Problem::from(malformed).status(), 400);
        assert!(check_version(Ok(Precondition::Nothing), 1).is_err());
        assert!(check_version(Ok(Precondition::Version(1)), 1).is_ok());
        let stale = check_version(Ok(Precondition::Version(2)), 1).unwrap_err();
        assert_eq!(Problem::from(stale).status(), 412);
    }
}
