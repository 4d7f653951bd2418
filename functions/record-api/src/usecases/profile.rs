//! The runner's private race profile: sex and birth date (or year), both optional, used
//! only to put a category label on their results. Nobody else reads it.

use domain::Role;
use domain::ValidationErrors;
use domain::activity::ActivityKind;
use domain::race::{Birth, RaceProfile, Sex};

use super::{Actor, Ports, Refusal};

pub async fn show(ports: Ports<'_>, actor: &Actor) -> Result<RaceProfile, Refusal> {
    actor.require(Role::Runner)?;
    Ok(ports.races.race_profile(&actor.id).await?)
}

/// Replaces the calling runner's race profile (`sex` and `birth` as sent; a birth not
/// after today), while their account exists. Results recorded from now on carry the
/// category it gives on each race day.
pub async fn update(
    ports: Ports<'_>,
    actor: &Actor,
    sex: Option<&str>,
    birth: Option<&str>,
) -> Result<RaceProfile, Refusal> {
    actor.require(Role::Runner)?;
    let mut errors = ValidationErrors::default();
    let today = ports.clock.now().date();
    let sex = sex.map(|s| errors.check(Sex::parse(s)));
    let birth = birth.map(|b| errors.check(Birth::parse(b, today)));
    errors.into_result()?;
    ports.live_account(actor).await?;
    let profile = RaceProfile {
        sex: sex.flatten(),
        birth: birth.flatten(),
    };
    let log = ports.activity(actor, ActivityKind::RaceProfileUpdated);
    ports.races.set_race_profile(&actor.id, &profile, &log).await?;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::fixtures::World;

    #[tokio::test]
    async fn a_runner_sets_and_clears_their_own_profile() {
        let world = World::new();
        let runner = world.user(Role::Runner, "Kim Runner").await;
        assert_eq!(
            show(world.ports(), &runner).await.unwrap(),
            RaceProfile::default()
        );
        let set = update(world.ports(), &runner, Some("female"), Some("1984-05-17"))
            .await
            .unwrap();
        assert_eq!(show(world.ports(), &runner).await.unwrap(), set);
        assert_eq!(set.sex, Some(Sex::Female));
        let cleared = update(world.ports(), &runner, None, None).await.unwrap();
        assert_eq!(cleared, RaceProfile::default());
        assert_eq!(
            show(world.ports(), &runner).await.unwrap(),
            RaceProfile::default()
        );
    }

    #[tokio::test]
    async fn every_bad_field_is_named_and_only_a_live_runner_writes() {
        let world = World::new();
        let runner = world.user(Role::Runner, "Kim Runner").await;
        // the world's clock says 2026-06-01: a birth after it is refused
        let refused = update(world.ports(), &runner, Some("robot"), Some("2026-06-02")).await;
        let Err(Refusal::Invalid(errors)) = refused else {
            panic!("{refused:?}");
        };
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sex", "birth"]);
        let organizer = world.user(Role::Organizer, "Org").await;
        assert!(matches!(
            update(world.ports(), &organizer, None, None).await,
            Err(Refusal::RoleRequired(Role::Runner))
        ));
        let ghost = Actor {
            id: domain::UserId::generate(),
            ..runner.clone()
        };
        assert!(matches!(
            update(world.ports(), &ghost, Some("x"), None).await,
            Err(Refusal::AccountDeleted)
        ));
        assert!(world.logged().is_empty(), "nothing written");
    }
}
