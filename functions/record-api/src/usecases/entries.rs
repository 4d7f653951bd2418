//! Entries: runners register themselves (and cancel until race day); the owning
//! organizer lists the participants and gives them bibs.

use domain::activity::{ActivityDetails, ActivityKind, EntryDetails};
use domain::entry::Entry;
use domain::marathon::{EntryRefusal, Marathon, MarathonId};
use domain::paging::Page;
use domain::ports::StoreError;
use domain::race::Bib;
use domain::{FieldError, Role, UserId};

use super::{Actor, Ports, Refusal, conflict, page, user_id};
use crate::contract::PageQuery;

fn refusal(reason: EntryRefusal) -> Refusal {
    conflict(match reason {
        EntryRefusal::Cancelled => "the marathon is cancelled",
        EntryRefusal::RegistrationClosed => "registration has closed",
        EntryRefusal::Full => "the marathon is full",
        EntryRefusal::RaceStarted => "the race has started; entries can no longer be cancelled",
    })
}

fn details(marathon: &Marathon, runner: &UserId) -> ActivityDetails {
    ActivityDetails::Entry(EntryDetails {
        marathon_id: marathon.id.clone(),
        marathon_name: marathon.name.clone(),
        runner_id: runner.clone(),
    })
}

/// Registers the calling runner, whose account must still exist, while the marathon is
/// open, before registration closes and while places are left; the store gives the next
/// free bib. A refusal by the store (someone changed the marathon meanwhile) is explained
/// from what it holds now.
pub async fn register(ports: Ports<'_>, actor: &Actor, marathon: &MarathonId) -> Result<Entry, Refusal> {
    actor.require(Role::Runner)?;
    let marathon = ports.marathon(marathon).await?;
    let now = ports.clock.now();
    if let Some(reason) = marathon.registration_refusal(now) {
        return Err(refusal(reason));
    }
    let runner = ports.live_account(actor).await?;
    let entry = Entry {
        marathon_id: marathon.id.clone(),
        runner_id: runner.id.clone(),
        runner_name: runner.name,
        marathon_name: marathon.name.clone(),
        marathon_date: marathon.date,
        registered_at: now,
        bib: None,
    };
    let log = ports
        .activity(actor, ActivityKind::EntryRegistered)
        .with_details(details(&marathon, &runner.id));
    match ports.races.register(&entry, now, &log).await {
        Ok(bib) => Ok(Entry { bib, ..entry }),
        Err(StoreError::Conflict) => {
            if ports.races.entry(&marathon.id, &runner.id).await?.is_some() {
                return Err(conflict("you are already registered for this marathon"));
            }
            let latest = ports.marathon(&marathon.id).await?;
            Err(latest
                .registration_refusal(now)
                .map(refusal)
                .unwrap_or_else(|| conflict("the marathon changed meanwhile; try again")))
        }
        Err(other) => Err(other.into()),
    }
}

/// Cancels the calling runner's entry until race day (UTC), unless an official result is
/// recorded for it (the organizer removes that first). account-erasure cancels a deleted
/// runner's upcoming entries itself, and logs it: a dying token may not.
pub async fn cancel(ports: Ports<'_>, actor: &Actor, marathon: &MarathonId) -> Result<(), Refusal> {
    actor.require(Role::Runner)?;
    let marathon = ports.marathon(marathon).await?;
    ports.live_account(actor).await?;
    if let Some(reason) = marathon.cancellation_refusal(ports.clock.now().date()) {
        return Err(refusal(reason));
    }
    let log = ports
        .activity(actor, ActivityKind::EntryCancelled)
        .with_details(details(&marathon, &actor.id));
    match ports.races.cancel_entry(&marathon.id, &actor.id, &log).await {
        Ok(()) => Ok(()),
        // the store refuses both a missing entry and an entry with a result: tell which
        Err(StoreError::Conflict) => match ports.races.result(&marathon.id, &actor.id).await? {
            Some(_) => Err(conflict(
                "your official result is recorded: the organizer must remove it before you can cancel",
            )),
            None => Err(Refusal::NotFound("entry")),
        },
        Err(other) => Err(other.into()),
    }
}

/// The calling runner's entry, with the marathon's current name and date.
pub async fn my_entry(ports: Ports<'_>, actor: &Actor, marathon: &MarathonId) -> Result<Entry, Refusal> {
    actor.require(Role::Runner)?;
    let marathon = ports.marathon(marathon).await?;
    let mut entry = ports
        .races
        .entry(&marathon.id, &actor.id)
        .await?
        .ok_or(Refusal::NotFound("entry"))?;
    marathon.label(std::slice::from_mut(&mut entry));
    Ok(entry)
}

/// The marathon's participants: its organizer only.
pub async fn of_marathon(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    query: &PageQuery,
) -> Result<Page<Entry>, Refusal> {
    let marathon = ports.marathon(marathon).await?;
    actor.require_owner(&marathon)?;
    let mut page = ports.races.marathon_entries(&marathon.id, &page(query)?).await?;
    marathon.label(&mut page.items);
    Ok(page)
}

/// The calling runner's entries, latest race first.
pub async fn mine(ports: Ports<'_>, actor: &Actor, query: &PageQuery) -> Result<Page<Entry>, Refusal> {
    actor.require(Role::Runner)?;
    Ok(ports.races.runner_entries(&actor.id, &page(query)?).await?)
}

/// Gives a runner's entry a bib (from 1 to `Bib::MAX`, not another runner's of the same
/// marathon): its organizer only. The runner's result, if any, shows it too.
pub async fn set_bib(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    runner: &str,
    bib: Option<i64>,
) -> Result<Entry, Refusal> {
    let marathon = ports.marathon(marathon).await?;
    actor.require_owner(&marathon)?;
    let runner = user_id(runner, "entry")?;
    let bib = match bib {
        None => return Err(FieldError::missing("bib").into()),
        Some(n) => u32::try_from(n)
            .ok()
            .and_then(Bib::new)
            .ok_or_else(|| FieldError::new("bib", "must be a number from 1 to 99999"))?,
    };
    let log = ports
        .activity(actor, ActivityKind::EntryBibSet)
        .with_details(details(&marathon, &runner));
    match ports.races.set_bib(&marathon.id, &runner, bib, &log).await {
        Ok(()) => {}
        Err(StoreError::Missing(_)) => return Err(Refusal::NotFound("entry")),
        Err(StoreError::Conflict) => {
            return Err(match ports.races.bib_holder(&marathon.id, bib).await? {
                Some(holder) if holder != runner => conflict(format!("bib {bib} is another runner's")),
                _ => conflict("the entry changed meanwhile; try again"),
            });
        }
        Err(other) => return Err(other.into()),
    }
    let mut entry = ports
        .races
        .entry(&marathon.id, &runner)
        .await?
        .ok_or(Refusal::NotFound("entry"))?;
    marathon.label(std::slice::from_mut(&mut entry));
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use domain::activity::ActivityKind;
    use domain::ports::RaceStore;
    use domain::result::OfficialResult;
    use time::Duration;

    use super::*;
    use crate::usecases::fixtures::{World, activity};

    fn is_conflict(refusal: &Result<impl std::fmt::Debug, Refusal>, text: &str) -> bool {
        matches!(refusal, Err(Refusal::Conflict(m)) if m.contains(text))
    }

    #[tokio::test]
    async fn a_runner_registers_once_with_the_next_bib_and_reads_it_back() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let runner = world.user(Role::Runner, "Kim Runner").await;
        let entry = register(world.ports(), &runner, &marathon.id).await.unwrap();
        assert_eq!(
            (entry.bib, entry.runner_name.as_str()),
            (Bib::new(1), "Kim Runner")
        );
        let again = register(world.ports(), &runner, &marathon.id).await;
        assert!(is_conflict(&again, "already registered"), "{again:?}");
        assert_eq!(world.stored(&marathon).await.entry_count, 1);
        assert!(matches!(
            register(world.ports(), &organizer, &marathon.id).await,
            Err(Refusal::RoleRequired(Role::Runner))
        ));
        assert!(matches!(
            register(world.ports(), &runner, &MarathonId::generate()).await,
            Err(Refusal::NotFound("marathon"))
        ));
        let mine = my_entry(world.ports(), &runner, &marathon.id).await.unwrap();
        assert_eq!(mine.bib, entry.bib);
        let listed = super::mine(world.ports(), &runner, &PageQuery::default())
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(world.logged().last(), Some(&ActivityKind::EntryRegistered));
    }

    #[tokio::test]
    async fn registration_is_refused_when_full_closed_or_for_a_deleted_account() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let full = Marathon {
            capacity: 1,
            ..world.marathon(&organizer).await
        };
        world
            .races
            .update_marathon(
                &Marathon {
                    version: 2,
                    ..full.clone()
                },
                1,
                &activity(&organizer, ActivityKind::MarathonUpdated),
            )
            .await
            .unwrap();
        let first = world.user(Role::Runner, "Kim Runner").await;
        let late = world.user(Role::Runner, "Lee Runner").await;
        register(world.ports(), &first, &full.id).await.unwrap();
        assert!(is_conflict(
            &register(world.ports(), &late, &full.id).await,
            "full"
        ));

        // a token that outlives its account writes nothing
        let ghost = Actor {
            id: domain::UserId::generate(),
            ..late.clone()
        };
        let open = world.marathon(&organizer).await;
        assert!(matches!(
            register(world.ports(), &ghost, &open.id).await,
            Err(Refusal::AccountDeleted)
        ));
        world.clock.advance(Duration::days(100));
        assert!(is_conflict(
            &register(world.ports(), &late, &open.id).await,
            "registration has closed"
        ));
    }

    #[tokio::test]
    async fn a_runner_cancels_until_race_day_unless_a_result_is_recorded() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let (kept, leaving) = (
            world.user(Role::Runner, "Kim Runner").await,
            world.user(Role::Runner, "Lee Runner").await,
        );
        register(world.ports(), &kept, &marathon.id).await.unwrap();
        register(world.ports(), &leaving, &marathon.id).await.unwrap();
        cancel(world.ports(), &leaving, &marathon.id).await.unwrap();
        assert!(matches!(
            cancel(world.ports(), &leaving, &marathon.id).await,
            Err(Refusal::NotFound("entry"))
        ));
        assert_eq!(world.stored(&marathon).await.entry_count, 1);

        world.clock.advance(Duration::days(125));
        assert!(is_conflict(
            &cancel(world.ports(), &kept, &marathon.id).await,
            "the race has started"
        ));
        // a result recorded (as an import may, before race day too, straight into the store)
        world.clock.advance(Duration::days(-125));
        let result = OfficialResult {
            bib: Bib::new(1),
            ..domain::memory::race_contract::official(&marathon, &kept.id, 12_000, 1)
        };
        world
            .races
            .put_result(&result, None, &activity(&organizer, ActivityKind::ResultRecorded))
            .await
            .unwrap();
        let refused = cancel(world.ports(), &kept, &marathon.id).await;
        assert!(
            is_conflict(&refused, "your official result is recorded"),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn the_organizer_lists_participants_and_moves_bibs_that_are_free() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let (a, b) = (
            world.user(Role::Runner, "Kim Runner").await,
            world.user(Role::Runner, "Lee Runner").await,
        );
        register(world.ports(), &a, &marathon.id).await.unwrap();
        register(world.ports(), &b, &marathon.id).await.unwrap();
        let listed = of_marathon(world.ports(), &organizer, &marathon.id, &PageQuery::default())
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 2);
        let other = world.user(Role::Organizer, "Other").await;
        assert!(matches!(
            of_marathon(world.ports(), &other, &marathon.id, &PageQuery::default()).await,
            Err(Refusal::NotOwner)
        ));

        let set = async |runner: &Actor, bib: Option<i64>| {
            set_bib(
                world.ports(),
                &organizer,
                &marathon.id,
                &runner.id.to_string(),
                bib,
            )
            .await
        };
        assert_eq!(set(&a, Some(42)).await.unwrap().bib, Bib::new(42));
        let taken = set(&b, Some(42)).await;
        assert!(is_conflict(&taken, "bib 42 is another runner's"), "{taken:?}");
        for bad in [None, Some(0), Some(100_000)] {
            assert!(matches!(set(&b, bad).await, Err(Refusal::Invalid(_))), "{bad:?}");
        }
        let stranger = world.user(Role::Runner, "Park Runner").await;
        assert!(matches!(
            set(&stranger, Some(7)).await,
            Err(Refusal::NotFound("entry"))
        ));
        assert!(matches!(
            set_bib(world.ports(), &a, &marathon.id, &a.id.to_string(), Some(7)).await,
            Err(Refusal::RoleRequired(Role::Organizer))
        ));
    }
}
