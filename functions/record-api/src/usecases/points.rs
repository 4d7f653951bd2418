//! Points as the points pipeline left them: a runner's own total and history, and any
//! runner's total.

use std::cmp::Reverse;

use domain::points::PointsSummary;
use domain::{PublicProfile, Role};

use super::{Actor, Ports, Refusal, user_id};

/// The calling runner's total and awards, newest change first (what a runner wants to
/// see). Only a runner earns points; an account deleted since the token was issued has
/// none to show.
pub async fn mine(ports: Ports<'_>, actor: &Actor) -> Result<PointsSummary, Refusal> {
    actor.require(Role::Runner)?;
    let (_, total) = ports
        .points
        .total(&actor.id)
        .await?
        .ok_or(Refusal::NotFound("runner"))?;
    let mut history = ports.points.awards(&actor.id).await?;
    history.sort_by_key(|award| Reverse(award.updated_at));
    Ok(PointsSummary { total, history })
}

/// Any runner's total, by the id the path names: an organizer, or an id that is no
/// user's, is no runner.
pub async fn of_runner(ports: Ports<'_>, raw: &str) -> Result<(PublicProfile, i64), Refusal> {
    let id = user_id(raw, "runner")?;
    match ports.points.total(&id).await? {
        Some((user, total)) if user.user_type == Role::Runner => Ok((user, total)),
        _ => Err(Refusal::NotFound("runner")),
    }
}

#[cfg(test)]
mod tests {
    use domain::memory::points_contract::{change, fresh_season};
    use domain::ports::PointsLedger;
    use time::macros::datetime;

    use super::*;
    use crate::usecases::fixtures::World;

    #[tokio::test]
    async fn a_runner_sees_their_total_and_awards_newest_first() {
        let world = World::new();
        let runner = world.user(Role::Runner, "Kim Runner").await;
        let empty = mine(world.ports(), &runner).await.unwrap();
        assert_eq!((empty.total, empty.history.len()), (0, 0));
        let season = Some(fresh_season());
        let (early, late) = (datetime!(2026-10-04 12:00 UTC), datetime!(2026-10-05 09:00 UTC));
        // applied out of result-id order, so the order seen is the time's
        let ledger: &dyn PointsLedger = &*world.ledger;
        ledger
            .apply(&change(&runner.id, "b", season, 105, 1), early)
            .await
            .unwrap();
        ledger
            .apply(&change(&runner.id, "a", season, 50, 1), late)
            .await
            .unwrap();
        let summary = mine(world.ports(), &runner).await.unwrap();
        assert_eq!(summary.total, 155);
        let order: Vec<&str> = summary.history.iter().map(|a| a.result_id.as_str()).collect();
        assert_eq!(order, ["a", "b"]);
        // anyone reads the runner's total, with the profile that names them
        let (profile, total) = of_runner(world.ports(), runner.id.as_str()).await.unwrap();
        assert_eq!(
            (profile.id, profile.name.as_str(), total),
            (runner.id, "Kim Runner", 155)
        );
    }

    #[tokio::test]
    async fn only_runners_have_points() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        assert!(matches!(
            mine(world.ports(), &organizer).await,
            Err(Refusal::RoleRequired(Role::Runner))
        ));
        for raw in [organizer.id.as_str(), "not-an-id", "01JAAAAAAAAAAAAAAAAAAAAAAA"] {
            assert!(
                matches!(
                    of_runner(world.ports(), raw).await,
                    Err(Refusal::NotFound("runner"))
                ),
                "{raw}"
            );
        }
        // a token that outlives its account: no points to show
        let mut gone = world.user(Role::Runner, "Kim Runner").await;
        gone.id = domain::UserId::generate();
        assert!(matches!(
            mine(world.ports(), &gone).await,
            Err(Refusal::NotFound("runner"))
        ));
    }
}
