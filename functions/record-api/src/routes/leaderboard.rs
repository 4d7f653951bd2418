//! The season leaderboard (anyone) and a runner's personal bests.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::State as Extract;
use axum::response::{IntoResponse, Response};
use domain::Role;
use domain::leaderboard::{Performance, PerformanceSource, Season, personal_bests};
use domain::marathon::MarathonId;
use domain::paging::{MAX_LIMIT, PageRequest};
use infra::http::{ApiQuery, Caller, Problem};

use crate::contract::leaderboard::{BestView, Leaderboard, LeaderboardQuery, PersonalBests};
use crate::state::State;

/// A season's runners by points.
#[utoipa::path(
    get,
    path = "/leaderboard",
    operation_id = "show_leaderboard",
    tag = "points",
    params(LeaderboardQuery),
    responses(
        (status = 200, description = "A page of the season's standings.", body = Leaderboard),
        (status = 400, description = "A query parameter is invalid (named in `errors`), or the cursor belongs to another season."),
    )
)]
pub async fn show(
    Extract(api): Extract<State>,
    ApiQuery(query): ApiQuery<LeaderboardQuery>,
) -> Result<Response, Problem> {
    let season = match query.season.as_deref() {
        Some(raw) => Season::parse(raw)?,
        None => Season::of(api.clock.now().date()),
    };
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let standings = api.leaderboard.leaderboard(season, &page).await?;
    Ok(Json(Leaderboard::new(season, standings)).into_response())
}

/// The calling runner's best time per distance, from official results and private records.
#[utoipa::path(
    get,
    path = "/me/bests",
    operation_id = "show_my_bests",
    tag = "records",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One best per distance, shortest first.", body = PersonalBests),
        (status = 403, description = "Only a runner has results and records."),
    )
)]
pub async fn mine(Extract(api): Extract<State>, caller: Caller) -> Result<Response, Problem> {
    caller.require(Role::Runner)?;
    // a runner's results and records are few: read them whole, a page of 100 at a time
    let mut results = Vec::new();
    let mut cursor = None;
    loop {
        let page = api
            .races
            .runner_results(
                &caller.id,
                &PageRequest {
                    limit: MAX_LIMIT,
                    cursor,
                },
            )
            .await?;
        results.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut records = Vec::new();
    let mut cursor = None;
    loop {
        let page = api
            .races
            .runner_records(
                &caller.id,
                &PageRequest {
                    limit: MAX_LIMIT,
                    cursor,
                },
            )
            .await?;
        records.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // a result's distance is its marathon's course, as the marathon says now
    let ids: BTreeSet<MarathonId> = results.iter().map(|r| r.marathon_id.clone()).collect();
    let marathons = futures::future::join_all(ids.iter().map(|id| api.races.marathon(id))).await;
    let mut distance: HashMap<MarathonId, u32> = HashMap::new();
    for marathon in marathons {
        if let Some(marathon) = marathon? {
            distance.insert(marathon.id.clone(), marathon.distance_m);
        }
    }
    // only a finish has a time that counts (its chip time; a disqualified time does not); a
    // result of a marathon since gone has no course to count under
    let official = results.into_iter().filter_map(|r| {
        if r.status != domain::race::ResultStatus::Finished {
            return None;
        }
        Some(Performance {
            distance_m: *distance.get(&r.marathon_id)?,
            seconds: r.finish_seconds?,
            date: r.marathon_date,
            source: PerformanceSource::Official {
                marathon_id: r.marathon_id,
                marathon_name: r.marathon_name,
            },
        })
    });
    let private = records.into_iter().map(|r| Performance {
        distance_m: r.distance_m,
        seconds: r.duration_seconds,
        date: r.date,
        source: PerformanceSource::Record {
            record_id: r.id,
            kind: r.kind,
        },
    });
    let items = personal_bests(official.chain(private))
        .into_iter()
        .map(BestView::from)
        .collect();
    Ok(Json(PersonalBests { items }).into_response())
}
