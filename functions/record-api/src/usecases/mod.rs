//! record-api's use cases: its rules over the domain's ports, one module per aggregate.
//! No HTTP here: a use case takes what the request said (path ids already parsed, bodies
//! as sent, the `If-Match` precondition as read) and answers a value or a `Refusal`;
//! `routes` maps both to HTTP. Each check runs in the order the API documents its answers
//! (404 before 403 before 400 before 409 before 412), so the routes stay thin. Unit tests
//! run them over `domain::memory`'s fakes.

pub mod entries;
pub mod imports;
pub mod leaderboard;
pub mod marathons;
pub mod points;
pub mod profile;
pub mod records;
pub mod results;

use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::import::{ImportStore, ImportUploads};
use domain::marathon::{Marathon, MarathonId, ResultRefusal};
use domain::paging::PageRequest;
use domain::ports::{LeaderboardStore, PointsStore, RaceStore, StoreError, UserStore};
use domain::{Clock, FieldError, Role, User, UserId, ValidationErrors};

use crate::contract::{PageQuery, Precondition};

/// The ports a use case works through.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    pub races: &'a dyn RaceStore,
    pub users: &'a dyn UserStore,
    /// Points as point-increase's ledger left them.
    pub points: &'a dyn PointsStore,
    pub leaderboard: &'a dyn LeaderboardStore,
    pub imports: &'a dyn ImportStore,
    /// The imports bucket: upload URLs and commit markers.
    pub uploads: &'a dyn ImportUploads,
    pub clock: &'a dyn Clock,
}

/// Who asks, as their access token says.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub role: Role,
    /// None in tokens from before verification existed: such an account counts as verified.
    pub email_verified: Option<bool>,
    pub origin: RequestOrigin,
}

impl Actor {
    fn require(&self, role: Role) -> Result<(), Refusal> {
        if self.role == role {
            Ok(())
        } else {
            Err(Refusal::RoleRequired(role))
        }
    }

    /// Results mint points into the public totals: only an organizer whose address is
    /// verified records or removes them.
    fn require_verified_email(&self) -> Result<(), Refusal> {
        if self.email_verified == Some(false) {
            Err(Refusal::UnverifiedEmail)
        } else {
            Ok(())
        }
    }

    /// The owning organizer only: runners and other organizers are refused.
    fn require_owner(&self, marathon: &Marathon) -> Result<(), Refusal> {
        self.require(Role::Organizer)?;
        if marathon.is_owned_by(&self.id) {
            Ok(())
        } else {
            Err(Refusal::NotOwner)
        }
    }
}

/// Why a use case did nothing.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("only a {} may do this", .0.as_str())]
    RoleRequired(Role),
    #[error("only the marathon's organizer may do this")]
    NotOwner,
    #[error("the caller's email address is not verified")]
    UnverifiedEmail,
    /// The caller's token outlives its account: a write in its name would bring personal
    /// data back after account-erasure removed it (docs/DESIGN.md, Account deletion).
    #[error("the caller's account no longer exists")]
    AccountDeleted,
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The state forbids it now (a rule, or a concurrent change); the text says which.
    #[error("{0}")]
    Conflict(String),
    /// A conditional write without the condition.
    #[error("{0}")]
    PreconditionRequired(&'static str),
    /// The client's version (If-Match) is not the stored one, or the store's changed
    /// meanwhile where the client must read again.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FieldError> for Refusal {
    fn from(error: FieldError) -> Self {
        Self::Invalid(error.into())
    }
}

fn conflict(detail: impl Into<String>) -> Refusal {
    Refusal::Conflict(detail.into())
}

/// Results (one, or a file of them) are taken from race day on (UTC), for a marathon not
/// cancelled.
fn accepts_results(marathon: &Marathon, today: time::Date) -> Result<(), Refusal> {
    match marathon.result_refusal(today) {
        None => Ok(()),
        Some(ResultRefusal::Cancelled) => Err(conflict("the marathon is cancelled")),
        Some(ResultRefusal::BeforeRaceDay) => Err(conflict(format!(
            "results are recorded from race day on: the marathon is run on {} (UTC)",
            marathon.date
        ))),
    }
}

impl Ports<'_> {
    async fn marathon(&self, id: &MarathonId) -> Result<Marathon, Refusal> {
        self.races
            .marathon(id)
            .await?
            .ok_or(Refusal::NotFound("marathon"))
    }

    /// The caller's account, before a write in its name (see `Refusal::AccountDeleted`).
    async fn live_account(&self, actor: &Actor) -> Result<User, Refusal> {
        self.users.user(&actor.id).await?.ok_or(Refusal::AccountDeleted)
    }

    fn activity(&self, actor: &Actor, kind: ActivityKind) -> ActivityEntry {
        ActivityEntry::new(actor.id.clone(), kind, self.clock.now(), actor.origin.clone())
    }
}

/// Refused unless the client's precondition holds for the stored version. `expected` is
/// the `If-Match` as read: a malformed one is reported here, where it matters.
pub fn check_version(expected: Result<Precondition, FieldError>, stored: u64) -> Result<(), Refusal> {
    match expected? {
        Precondition::Any => Ok(()),
        Precondition::Version(v) if v == stored => Ok(()),
        Precondition::Version(v) => Err(Refusal::PreconditionFailed(format!(
            "the resource is at version {stored}, not {v}; read it again"
        ))),
        Precondition::Nothing => Err(Refusal::PreconditionFailed(
            "If-Match names no version, and so matches none".into(),
        )),
    }
}

/// A page as asked (`limit` and `cursor` as sent).
fn page(query: &PageQuery) -> Result<PageRequest, Refusal> {
    Ok(PageRequest::parse(
        query.limit.as_deref(),
        query.cursor.as_deref(),
    )?)
}

/// An id the path names that is not one of ours names nothing.
fn user_id(raw: &str, what: &'static str) -> Result<UserId, Refusal> {
    UserId::parse(raw).ok_or(Refusal::NotFound(what))
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! The fakes a use case runs over, and the people and marathons the tests use.

    use std::sync::Arc;

    use domain::activity::{ActivityKind, RequestOrigin};
    use domain::marathon::Marathon;
    use domain::memory::{
        ManualClock, MemoryImports, MemoryLedger, MemoryRaces, MemoryUploads, MemoryUsers, race_contract,
    };
    use domain::ports::{RaceStore, UserStore};
    use domain::{Email, Role, User, UserId, UserName};
    use time::OffsetDateTime;
    use time::macros::{date, datetime};

    use super::{Actor, Ports};

    /// An activity entry of `actor`'s, for writes a test makes directly.
    pub fn activity(actor: &Actor, kind: ActivityKind) -> domain::activity::ActivityEntry {
        race_contract::act(&actor.id, kind)
    }

    /// Race day of `World::marathon`; registration closes in September before it.
    pub const START: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

    pub struct World {
        pub races: Arc<MemoryRaces>,
        pub users: Arc<MemoryUsers>,
        /// The ledger, and the points and leaderboard read from it.
        pub ledger: Arc<MemoryLedger>,
        pub imports: Arc<MemoryImports>,
        pub uploads: Arc<MemoryUploads>,
        pub clock: ManualClock,
    }

    impl World {
        pub fn new() -> Self {
            Self {
                races: Arc::default(),
                users: Arc::default(),
                ledger: Arc::default(),
                imports: Arc::default(),
                uploads: Arc::default(),
                clock: ManualClock::new(START),
            }
        }

        pub fn ports(&self) -> Ports<'_> {
            Ports {
                races: &*self.races,
                users: &*self.users,
                points: &*self.ledger,
                leaderboard: &*self.ledger,
                imports: &*self.imports,
                uploads: &*self.uploads,
                clock: &self.clock,
            }
        }

        /// A user with an account (and so a live one), verified.
        pub async fn user(&self, role: Role, name: &str) -> Actor {
            let id = UserId::generate();
            let user = User {
                id: id.clone(),
                email: Email::parse(&format!("{id}@example.com").to_lowercase()).unwrap(),
                name: UserName::parse(name).unwrap(),
                user_type: role,
                created_at: START,
            };
            let log = race_contract::act(&id, ActivityKind::UserSignedUp);
            self.users.create_user(&user, "hash", &log).await.unwrap();
            // the Users table's profile, as the points ports read it
            self.ledger.add_profile(&domain::PublicProfile {
                id: id.clone(),
                name: user.name.clone(),
                user_type: role,
                deleted: false,
            });
            Actor {
                id,
                role,
                email_verified: Some(true),
                origin: RequestOrigin::default(),
            }
        }

        /// An open marathon of `organizer`'s, run on 2026-10-04, for 10 runners.
        pub async fn marathon(&self, organizer: &Actor) -> Marathon {
            let marathon = race_contract::marathon(&organizer.id, date!(2026 - 10 - 04), 10);
            let log = race_contract::act(&organizer.id, ActivityKind::MarathonCreated);
            self.races.create_marathon(&marathon, &log).await.unwrap();
            marathon
        }

        pub async fn stored(&self, marathon: &Marathon) -> Marathon {
            self.races.marathon(&marathon.id).await.unwrap().unwrap()
        }

        /// The kinds of activity the Races store wrote, in order.
        pub fn logged(&self) -> Vec<ActivityKind> {
            self.races.activity().into_iter().map(|a| a.kind).collect()
        }
    }
}
