//! The season leaderboard: anyone reads it, a season at a time.

use domain::leaderboard::{Season, Standing};
use domain::paging::Page;

use super::{Ports, Refusal, page};
use crate::contract::PageQuery;

/// A page of `season`'s standings (as sent: `YYYY`), by default the current season
/// (the year today is, UTC). A bad season is reported before a bad page; a cursor from
/// another season's pages is refused by the store.
pub async fn season(
    ports: Ports<'_>,
    season: Option<&str>,
    query: &PageQuery,
) -> Result<(Season, Page<Standing>), Refusal> {
    let season = match season {
        Some(raw) => Season::parse(raw)?,
        None => Season::of(ports.clock.now().date()),
    };
    let page = page(query)?;
    let standings = ports.leaderboard.leaderboard(season, &page).await?;
    Ok((season, standings))
}

#[cfg(test)]
mod tests {
    use domain::Role;
    use domain::memory::points_contract::change;
    use domain::ports::{PointsLedger, StoreError};

    use super::*;
    use crate::usecases::fixtures::{START, World};

    fn query(limit: Option<&str>, cursor: Option<&str>) -> PageQuery {
        PageQuery {
            limit: limit.map(str::to_owned),
            cursor: cursor.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn the_current_season_by_default_paged_with_shared_ranks() {
        let world = World::new();
        let this_year = Season::of(START.date());
        let last_year = Season::from_year(this_year.year() - 1).unwrap();
        let ledger: &dyn PointsLedger = &*world.ledger;
        let mut runners = Vec::new();
        for (name, points) in [("Kim Runner", 300), ("Lee Runner", 200), ("Park Runner", 200)] {
            let runner = world.user(Role::Runner, name).await;
            ledger
                .apply(&change(&runner.id, "x", Some(this_year), points, 1), START)
                .await
                .unwrap();
            runners.push(runner);
        }
        ledger
            .apply(&change(&runners[0].id, "y", Some(last_year), 10, 1), START)
            .await
            .unwrap();
        let (season_read, first) = season(world.ports(), None, &query(Some("2"), None))
            .await
            .unwrap();
        assert_eq!(season_read, this_year);
        let ranks: Vec<(u64, u64)> = first.items.iter().map(|s| (s.rank, s.points)).collect();
        assert_eq!(ranks, [(1, 300), (2, 200)]);
        assert_eq!(
            first.items[0].runner_name.as_ref().unwrap().as_str(),
            "Kim Runner"
        );
        let cursor = first.next_cursor.expect("one more");
        let (_, rest) = season(world.ports(), None, &query(Some("2"), Some(&cursor)))
            .await
            .unwrap();
        let ranks: Vec<(u64, u64)> = rest.items.iter().map(|s| (s.rank, s.points)).collect();
        assert_eq!((ranks, rest.next_cursor), (vec![(2, 200)], None));
        // another season, asked by its year
        let year = last_year.to_string();
        let (_, old) = season(world.ports(), Some(&year), &query(None, None))
            .await
            .unwrap();
        assert_eq!(old.items.len(), 1);
        assert_eq!(
            (old.items[0].runner_id.clone(), old.items[0].points),
            (runners[0].id.clone(), 10)
        );
        // this season's cursor does not page last season
        assert!(matches!(
            season(world.ports(), Some(&year), &query(None, Some(&cursor))).await,
            Err(Refusal::Store(StoreError::InvalidCursor))
        ));
    }

    #[tokio::test]
    async fn a_bad_season_is_named_before_a_bad_page() {
        let world = World::new();
        let refused = season(world.ports(), Some("26"), &query(Some("0"), None)).await;
        let Err(Refusal::Invalid(errors)) = refused else {
            panic!("{refused:?}");
        };
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["season"]);
        let refused = season(world.ports(), Some("2026"), &query(Some("0"), None)).await;
        assert!(matches!(refused, Err(Refusal::Invalid(_))), "{refused:?}");
    }
}
