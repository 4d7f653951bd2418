//! Marathons: organizers create, edit and cancel their own; everyone reads them.

use domain::activity::{ActivityDetails, ActivityEntry, ActivityKind, MarathonDetails};
use domain::marathon::{Marathon, MarathonFields, MarathonId, MarathonInput, MarathonStatus};
use domain::paging::Page;
use domain::ports::{MarathonFilter, StoreError};
use domain::{FieldError, Role, UserId};

use super::{Actor, Ports, Refusal, check_version, conflict, page};
use crate::contract::{PageQuery, Precondition};

fn details(marathon: &Marathon, changes: &[&str]) -> ActivityDetails {
    ActivityDetails::Marathon(MarathonDetails {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        date: marathon.date,
        changes: changes.iter().map(|c| (*c).to_owned()).collect(),
    })
}

/// Creates an open marathon of the calling organizer's. No verified address needed: a
/// marathon mints no points, its results do (and wait for it).
pub async fn create(ports: Ports<'_>, actor: &Actor, input: MarathonInput) -> Result<Marathon, Refusal> {
    actor.require(Role::Organizer)?;
    let fields = MarathonFields::from_input(input, None)?;
    let now = ports.clock.now();
    let marathon = Marathon {
        id: MarathonId::generate(),
        organizer_id: actor.id.clone(),
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
    let log = ports
        .activity(actor, ActivityKind::MarathonCreated)
        .with_details(details(&marathon, &[]));
    ports.races.create_marathon(&marathon, &log).await?;
    Ok(marathon)
}

/// Which marathons a listing asks for, as sent.
#[derive(Debug, Default)]
pub struct Listing {
    /// "upcoming" (the default) or "past".
    pub when: Option<String>,
    /// One organizer's marathons, whatever their date.
    pub organizer: Option<String>,
    pub page: PageQuery,
}

/// Upcoming marathons soonest first, past ones latest first (by today's date, UTC), or
/// one organizer's. `when` is checked even beside `organizer`, which it does not affect:
/// a value the document refuses is refused.
pub async fn list(ports: Ports<'_>, listing: Listing) -> Result<Page<Marathon>, Refusal> {
    let page = page(&listing.page)?;
    let today = ports.clock.now().date();
    let past = match listing.when.as_deref() {
        None | Some("upcoming") => false,
        Some("past") => true,
        Some(_) => return Err(FieldError::new("when", "must be \"upcoming\" or \"past\"").into()),
    };
    let filter = match listing.organizer.as_deref() {
        Some(organizer) => MarathonFilter::ByOrganizer(
            UserId::parse(organizer).ok_or_else(|| FieldError::new("organizer", "must be a user id"))?,
        ),
        None if past => MarathonFilter::Past { today },
        None => MarathonFilter::Upcoming { today },
    };
    Ok(ports.races.list_marathons(&filter, &page).await?)
}

pub async fn show(ports: Ports<'_>, marathon: &MarathonId) -> Result<Marathon, Refusal> {
    ports.marathon(marathon).await
}

/// Edits the marathon: its organizer only, at the version they read (`If-Match` is
/// required: None when not sent), unless it is cancelled. Points, dnf points and the date
/// are fixed once a result is recorded. An edit that changes nothing makes no version and
/// no activity entry (so no mail to anyone).
pub async fn update(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    precondition: Option<Result<Precondition, FieldError>>,
    input: MarathonInput,
) -> Result<Marathon, Refusal> {
    let current = ports.marathon(marathon).await?;
    actor.require_owner(&current)?;
    let Some(precondition) = precondition else {
        return Err(Refusal::PreconditionRequired(
            "send If-Match with the ETag of the marathon you read",
        ));
    };
    // `*` is a deliberate "whatever it is now" (RFC 9110), as on the other conditional routes.
    check_version(precondition, current.version)?;
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
        return Ok(current);
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
        updated_at: ports.clock.now(),
        ..current.clone()
    };
    let log = ports
        .activity(actor, ActivityKind::MarathonUpdated)
        .with_details(details(&updated, &changes));
    save(ports, &updated, current.version, &log).await?;
    Ok(updated)
}

/// Cancels the marathon: its organizer only, at the version they read, once.
pub async fn cancel(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    precondition: Result<Precondition, FieldError>,
) -> Result<Marathon, Refusal> {
    let current = ports.marathon(marathon).await?;
    actor.require_owner(&current)?;
    check_version(precondition, current.version)?;
    if current.status == MarathonStatus::Cancelled {
        return Err(conflict("the marathon is already cancelled"));
    }
    let cancelled = Marathon {
        status: MarathonStatus::Cancelled,
        version: current.version + 1,
        updated_at: ports.clock.now(),
        ..current.clone()
    };
    let log = ports
        .activity(actor, ActivityKind::MarathonCancelled)
        .with_details(details(&cancelled, &[]));
    save(ports, &cancelled, current.version, &log).await?;
    Ok(cancelled)
}

/// Writes the new version; a change since it was read (a registration past a lowered
/// capacity, a result fixing the points) sends the client back to read it again.
async fn save(
    ports: Ports<'_>,
    marathon: &Marathon,
    expected: u64,
    log: &ActivityEntry,
) -> Result<(), Refusal> {
    match ports.races.update_marathon(marathon, expected, log).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(Refusal::PreconditionFailed(
            "the marathon changed meanwhile; read it again".into(),
        )),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use domain::activity::ActivityKind;
    use domain::ports::RaceStore;

    use super::*;
    use crate::usecases::fixtures::{World, activity};

    fn input() -> MarathonInput {
        MarathonInput {
            name: Some("Chuncheon Marathon".into()),
            date: Some("2026-10-25".into()),
            location: Some("Chuncheon".into()),
            course: Some(serde_json::json!("full")),
            points: Some(100),
            dnf_points: None,
            capacity: Some(500),
            registration_closes_at: Some("2026-10-01T00:00:00Z".into()),
        }
    }

    #[tokio::test]
    async fn an_organizer_creates_an_open_marathon_of_their_own() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = create(world.ports(), &organizer, input()).await.unwrap();
        assert_eq!(
            (marathon.status, marathon.version, &marathon.organizer_id),
            (MarathonStatus::Open, 1, &organizer.id)
        );
        assert_eq!(show(world.ports(), &marathon.id).await.unwrap(), marathon);
        let runner = world.user(Role::Runner, "Kim Runner").await;
        assert!(matches!(
            create(world.ports(), &runner, input()).await,
            Err(Refusal::RoleRequired(Role::Organizer))
        ));
        let nameless = MarathonInput {
            name: None,
            ..input()
        };
        assert!(matches!(
            create(world.ports(), &organizer, nameless).await,
            Err(Refusal::Invalid(e)) if e.0[0].field == "name"
        ));
        assert_eq!(world.logged(), [ActivityKind::MarathonCreated]);
    }

    #[tokio::test]
    async fn an_edit_needs_if_match_and_changes_nothing_without_a_change() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = create(world.ports(), &organizer, input()).await.unwrap();
        let edit = async |precondition, input| {
            update(world.ports(), &organizer, &marathon.id, precondition, input).await
        };
        assert!(matches!(
            edit(None, MarathonInput::default()).await,
            Err(Refusal::PreconditionRequired(_))
        ));
        assert!(matches!(
            edit(Some(Ok(Precondition::Version(7))), MarathonInput::default()).await,
            Err(Refusal::PreconditionFailed(_))
        ));
        let same = edit(Some(Ok(Precondition::Version(1))), MarathonInput::default())
            .await
            .unwrap();
        assert_eq!(same.version, 1, "nothing changed: no new version");
        let renamed = MarathonInput {
            name: Some("Chuncheon International".into()),
            ..MarathonInput::default()
        };
        let updated = edit(Some(Ok(Precondition::Version(1))), renamed).await.unwrap();
        assert_eq!(
            (updated.version, updated.name.as_str()),
            (2, "Chuncheon International")
        );
        assert_eq!(
            world.logged(),
            [ActivityKind::MarathonCreated, ActivityKind::MarathonUpdated]
        );
    }

    #[tokio::test]
    async fn points_and_date_are_fixed_once_a_result_is_recorded() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let runner = domain::UserId::generate();
        world
            .races
            .register(
                &domain::memory::race_contract::entry(&marathon, &runner),
                crate::usecases::fixtures::START,
                &activity(&organizer, ActivityKind::EntryRegistered),
            )
            .await
            .unwrap();
        let result = domain::memory::race_contract::official(&marathon, &runner, 12_000, 1);
        world
            .races
            .put_result(&result, None, &activity(&organizer, ActivityKind::ResultRecorded))
            .await
            .unwrap();
        let edit = async |input| {
            update(
                world.ports(),
                &organizer,
                &marathon.id,
                Some(Ok(Precondition::Any)),
                input,
            )
            .await
        };
        for (what, input) in [
            (
                "points are fixed",
                MarathonInput {
                    points: Some(150),
                    ..MarathonInput::default()
                },
            ),
            (
                "dnf_points are fixed",
                MarathonInput {
                    dnf_points: Some(5),
                    ..MarathonInput::default()
                },
            ),
            (
                "the date is fixed",
                MarathonInput {
                    date: Some("2026-11-01".into()),
                    ..MarathonInput::default()
                },
            ),
        ] {
            let refused = edit(input).await;
            assert!(
                matches!(&refused, Err(Refusal::Conflict(m)) if m.starts_with(what)),
                "{refused:?}"
            );
        }
        let moved_capacity = MarathonInput {
            capacity: Some(20),
            ..MarathonInput::default()
        };
        assert_eq!(edit(moved_capacity).await.unwrap().capacity, 20);
    }

    #[tokio::test]
    async fn a_marathon_is_cancelled_once_and_then_takes_no_edits() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let other = world.user(Role::Organizer, "Other").await;
        assert!(matches!(
            cancel(world.ports(), &other, &marathon.id, Ok(Precondition::Any)).await,
            Err(Refusal::NotOwner)
        ));
        let cancelled = cancel(
            world.ports(),
            &organizer,
            &marathon.id,
            Ok(Precondition::Version(1)),
        )
        .await
        .unwrap();
        assert_eq!(
            (cancelled.status, cancelled.version),
            (MarathonStatus::Cancelled, 2)
        );
        let again = cancel(world.ports(), &organizer, &marathon.id, Ok(Precondition::Any)).await;
        assert!(matches!(&again, Err(Refusal::Conflict(m)) if m.contains("already cancelled")));
        let edit = update(
            world.ports(),
            &organizer,
            &marathon.id,
            Some(Ok(Precondition::Any)),
            MarathonInput::default(),
        )
        .await;
        assert!(matches!(&edit, Err(Refusal::Conflict(m)) if m == "the marathon is cancelled"));
    }

    #[tokio::test]
    async fn listings_check_when_and_organizer_and_list_by_date() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let upcoming = world.marathon(&organizer).await;
        let list_with = async |when: Option<&str>, organizer: Option<String>| {
            list(
                world.ports(),
                Listing {
                    when: when.map(str::to_owned),
                    organizer,
                    page: PageQuery::default(),
                },
            )
            .await
        };
        let ids = |page: Page<Marathon>| page.items.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let only = vec![upcoming.id.clone()];
        assert_eq!(ids(list_with(None, None).await.unwrap()), only);
        assert!(ids(list_with(Some("past"), None).await.unwrap()).is_empty());
        assert_eq!(
            ids(list_with(Some("past"), Some(organizer.id.to_string()))
                .await
                .unwrap()),
            only,
            "an organizer's marathons whatever their date"
        );
        for (when, organizer, field) in [
            (Some("soon"), None, "when"),
            (None, Some("nobody".to_owned()), "organizer"),
        ] {
            let refused = list_with(when, organizer).await;
            assert!(
                matches!(&refused, Err(Refusal::Invalid(e)) if e.0[0].field == field),
                "{refused:?}"
            );
        }
    }
}
