//! Official results: the owning organizer, once their address is verified, records,
//! corrects and removes them from race day on; a runner reads their own.

use domain::activity::{ActivityDetails, ActivityKind};
use domain::marathon::MarathonId;
use domain::paging::{Page, PageRequest};
use domain::ports::StoreError;
use domain::race::{Category, ResultFields, ResultStatus, Splits};
use domain::result::{FinishTime, OfficialResult, ResultRunner, parse_bonus};
use domain::{FieldError, Role, ValidationErrors};

use super::{Actor, Ports, Refusal, accepts_results, check_version, conflict, page, user_id};
use crate::contract::{self, PageQuery, Precondition, ResultBody, ResultsQuery};
use crate::ranking::{RankCursor, Search};

/// A result to record or correct, as the request says it.
pub struct RecordResult {
    pub marathon: MarathonId,
    /// The runner's id as the path names it.
    pub runner: String,
    pub body: ResultBody,
    /// The `If-Match` precondition, as read.
    pub precondition: Result<Precondition, FieldError>,
}

/// What recording did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Corrected,
    /// The request repeated the result as it is: no new version, no activity entry, no
    /// points event, no post.
    Unchanged,
}

#[derive(Debug)]
pub struct Recorded {
    pub outcome: Outcome,
    pub result: OfficialResult,
    /// The marathon's distance, for the result's pace.
    pub distance_m: u32,
}

/// Records the runner's result, or corrects it: only the owning organizer, verified, from
/// race day on (UTC) of a marathon not cancelled, for a registered runner, at the version
/// the client read. The result carries the runner's bib and race-day category, its points
/// follow the marathon's policy, and its version is above the stored one or the last
/// deletion's tombstone.
pub async fn record(ports: Ports<'_>, actor: &Actor, request: RecordResult) -> Result<Recorded, Refusal> {
    let marathon = ports.marathon(&request.marathon).await?;
    actor.require_owner(&marathon)?;
    actor.require_verified_email()?;
    let runner = user_id(&request.runner, "runner")?;
    let (fields, bonus) = result_fields(request.body)?;
    let now = ports.clock.now();
    accepts_results(&marathon, now.date())?;
    let entry = ports
        .races
        .entry(&marathon.id, &runner)
        .await?
        .ok_or_else(|| conflict("the runner is not registered for this marathon"))?;
    let existing = ports.races.result(&marathon.id, &runner).await?;
    check_version(request.precondition, existing.as_ref().map_or(0, |r| r.version))?;
    // the category on race day, from the runner's private profile: only the label is kept
    // (and the age grade it gives the chip time)
    let profile = ports.races.race_profile(&runner).await?;
    let category = profile.category_on(marathon.date);
    // above the stored version, or above the tombstone a deleted result left
    let floor = match &existing {
        Some(current) => Some(current.version),
        None => ports.races.removed_version(&marathon.id, &runner).await?,
    };
    let result = OfficialResult::build(
        &marathon,
        ResultRunner {
            id: runner.clone(),
            name: entry.runner_name,
            bib: entry.bib,
            category,
        },
        fields,
        bonus,
        existing.as_ref(),
        floor,
        now,
        actor.origin.correlation_id.clone(),
    )
    .with_age_grade(&profile, marathon.distance_m);
    if let Some(current) = existing.as_ref().filter(|r| r.same_content(&result)) {
        return Ok(Recorded {
            outcome: Outcome::Unchanged,
            result: current.clone(),
            distance_m: marathon.distance_m,
        });
    }
    let (kind, outcome) = match existing {
        Some(_) => (ActivityKind::ResultCorrected, Outcome::Corrected),
        None => (ActivityKind::ResultRecorded, Outcome::Created),
    };
    let log = ports
        .activity(actor, kind)
        .with_details(ActivityDetails::Result((&result).into()));
    match ports
        .races
        .put_result(&result, existing.as_ref().map(|r| r.version), &log)
        .await
    {
        Ok(()) => Ok(Recorded {
            outcome,
            result,
            distance_m: marathon.distance_m,
        }),
        Err(StoreError::Conflict) => Err(conflict(
            "the result, the runner's entry or the marathon's points changed meanwhile; read them again",
        )),
        Err(other) => Err(other.into()),
    }
}

/// The status and times of a result body, checked together (every bad field named at
/// once), and its bonus.
pub fn result_fields(input: ResultBody) -> Result<(ResultFields, u32), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let status = match input.status.as_deref() {
        None => Some(ResultStatus::Finished),
        Some(raw) => errors.check(ResultStatus::parse(raw)),
    };
    // a time sent and invalid is Some(None); one not sent is None
    let time = |errors: &mut ValidationErrors, field: &str, raw: Option<serde_json::Value>| {
        raw.map(|raw| {
            errors.check(
                FinishTime::parse(&contract::integral(Some(raw)).unwrap_or_default())
                    .map_err(|e| FieldError::new(field, e.message)),
            )
        })
    };
    let chip = match (input.chip_time, input.finish_time) {
        // both names: fine when they say the same
        (Some(chip), Some(finish)) => {
            let chip = time(&mut errors, "chip_time", Some(chip));
            let finish = time(&mut errors, "finish_time", Some(finish));
            match (chip, finish) {
                (Some(Some(c)), Some(Some(f))) if c != f => {
                    errors.push(FieldError::new(
                        "finish_time",
                        "is another name of chip_time: send one of them, or the same time",
                    ));
                    Some(None)
                }
                (Some(Some(c)), Some(Some(_))) => Some(Some(c)),
                _ => Some(None),
            }
        }
        (Some(chip), None) => time(&mut errors, "chip_time", Some(chip)),
        (None, finish) => time(&mut errors, "finish_time", finish),
    };
    let gun = time(&mut errors, "gun_time", input.gun_time);
    let splits = input.splits.map(|splits| {
        let mut read = Vec::with_capacity(splits.len());
        for (i, split) in splits.into_iter().enumerate() {
            match FinishTime::parse(&contract::integral(Some(split.time)).unwrap_or_default()) {
                Ok(t) => read.push((split.label, t)),
                Err(e) => {
                    errors.push(FieldError::new(
                        "splits",
                        format!("split {}: time {}", i + 1, e.message),
                    ));
                    return None;
                }
            }
        }
        errors.check(Splits::new(read))
    });
    let bonus = errors.check(parse_bonus(input.bonus_points));
    // only once every field reads: the status rules speak of the values. Not sent is
    // absent (Some(None)); sent and invalid is None.
    let settle = |sent: Option<Option<FinishTime>>| match sent {
        None => Some(None),
        Some(Some(t)) => Some(Some(t)),
        Some(None) => None,
    };
    let splits = match splits {
        None => Some(Splits::default()),
        Some(read) => read,
    };
    let (Some(status), Some(chip), Some(gun), Some(splits), Some(bonus)) =
        (status, settle(chip), settle(gun), splits, bonus)
    else {
        return Err(errors);
    };
    errors.into_result()?;
    Ok((ResultFields::new(status, chip, gun, splits)?, bonus))
}

/// Removes the runner's result at the version the client read (the points pipeline takes
/// its points back): only the owning organizer, verified.
pub async fn remove(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    runner: &str,
    precondition: Result<Precondition, FieldError>,
) -> Result<(), Refusal> {
    let marathon = ports.marathon(marathon).await?;
    actor.require_owner(&marathon)?;
    actor.require_verified_email()?;
    let runner = user_id(runner, "result")?;
    let existing = ports
        .races
        .result(&marathon.id, &runner)
        .await?
        .ok_or(Refusal::NotFound("result"))?;
    check_version(precondition, existing.version)?;
    let log = ports
        .activity(actor, ActivityKind::ResultRemoved)
        .with_details(ActivityDetails::Result((&existing).into()));
    match ports
        .races
        .delete_result(&marathon.id, &runner, existing.version, &log)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(conflict("the result changed meanwhile; read it again")),
        Err(other) => Err(other.into()),
    }
}

/// The calling runner's results, latest race first.
pub async fn mine(
    ports: Ports<'_>,
    actor: &Actor,
    query: &PageQuery,
) -> Result<Page<OfficialResult>, Refusal> {
    actor.require(Role::Runner)?;
    Ok(ports.races.runner_results(&actor.id, &page(query)?).await?)
}

/// Rows read per request at most when a filter or a search skips most of them: a page
/// then may hold fewer than `limit` items (even none) with a `next_cursor` to go on.
const READ_BUDGET: usize = 2_000;
/// Rows asked of the store at a time when filtering.
const FILTER_BATCH: u32 = 200;

/// A result in the ranking with its places (None for a dnf, dns or dq; the category place
/// also without a category).
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub rank: Option<u64>,
    pub category_rank: Option<u64>,
    pub result: OfficialResult,
}

/// A page of a marathon's ranking, and the marathon's distance (for the pace).
#[derive(Debug)]
pub struct Ranking {
    pub items: Vec<Placed>,
    pub next_cursor: Option<String>,
    pub distance_m: u32,
}

/// The public ranking: every result, finishers first by chip time with their overall and
/// category places, then dnf, dns and dq, each with the marathon's current name and date.
/// Places count every finisher whatever the filter (`category`, `q`); the cursor carries
/// the counts, so pages go on where the last one stopped.
pub async fn ranking(
    ports: Ports<'_>,
    marathon: &MarathonId,
    query: &ResultsQuery,
) -> Result<Ranking, Refusal> {
    let marathon = ports.marathon(marathon).await?;
    let mut errors = ValidationErrors::default();
    let limit = errors.check(PageRequest::parse(query.limit.as_deref(), None).map(|p| p.limit));
    let category = query
        .category
        .as_deref()
        .map(|c| errors.check(Category::parse(c)));
    let search = query.q.as_deref().map(|q| errors.check(Search::parse(q)));
    let cursor = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| errors.check(RankCursor::decode(c)));
    let (Some(limit), Some(category), Some(search), Some(mut cursor)) = (
        limit,
        category.map_or(Some(None), |c| c.map(Some)),
        search.map_or(Some(None), |q| q),
        cursor.map_or(Some(RankCursor::default()), |c| c),
    ) else {
        return Err(errors.into());
    };
    let filtered = category.is_some() || search.is_some();
    let batch = if filtered { FILTER_BATCH } else { limit + 1 };
    let mut items = Vec::new();
    let mut read = 0;
    let more = 'read: loop {
        let rows = match ports
            .races
            .ranking(&marathon.id, cursor.after.as_deref(), batch)
            .await
        {
            Err(StoreError::InvalidCursor) => {
                return Err(FieldError::new("cursor", "is not a cursor this listing gave out").into());
            }
            other => other?,
        };
        let store_more = rows.next_cursor.is_some();
        let mut rows = rows.items.into_iter().peekable();
        while let Some(row) = rows.next() {
            read += 1;
            let (rank, category_rank) = cursor.place(&row.result);
            cursor.after = Some(row.position);
            let shown = category.is_none_or(|c| row.result.category == Some(c))
                && search.as_ref().is_none_or(|q| q.matches(&row.result));
            if shown {
                items.push(Placed {
                    rank,
                    category_rank,
                    result: row.result,
                });
                if items.len() == limit as usize {
                    break 'read rows.peek().is_some() || store_more;
                }
            }
        }
        if !store_more {
            break false;
        }
        if read >= READ_BUDGET {
            break true;
        }
    };
    for item in &mut items {
        marathon.label(std::slice::from_mut(&mut item.result));
    }
    Ok(Ranking {
        next_cursor: more.then(|| cursor.encode()),
        items,
        distance_m: marathon.distance_m,
    })
}

#[cfg(test)]
mod tests {
    use domain::activity::ActivityKind;
    use domain::marathon::Marathon;
    use domain::ports::RaceStore;
    use domain::race::{Birth, RaceProfile, Sex};
    use serde_json::json;
    use time::Duration;

    use super::*;
    use crate::usecases::entries;
    use crate::usecases::fixtures::World;

    fn finish(time: &str, bonus: i64) -> ResultBody {
        ResultBody {
            chip_time: Some(json!(time)),
            bonus_points: Some(bonus),
            ..ResultBody::default()
        }
    }

    fn request(marathon: &Marathon, runner: &Actor, body: ResultBody) -> RecordResult {
        RecordResult {
            marathon: marathon.id.clone(),
            runner: runner.id.to_string(),
            body,
            precondition: Ok(Precondition::Any),
        }
    }

    /// An organizer's marathon with one registered runner, on its race day.
    async fn race_day(world: &World) -> (Actor, Marathon, Actor) {
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let runner = world.user(Role::Runner, "Kim Runner").await;
        entries::register(world.ports(), &runner, &marathon.id)
            .await
            .unwrap();
        world.clock.advance(Duration::days(125));
        assert_eq!(world.clock_date(), marathon.date);
        (organizer, marathon, runner)
    }

    impl World {
        fn clock_date(&self) -> time::Date {
            domain::Clock::now(&self.clock).date()
        }
    }

    #[tokio::test]
    async fn a_result_is_recorded_once_then_corrected_or_repeated_without_a_new_version() {
        let world = World::new();
        let (organizer, marathon, runner) = race_day(&world).await;
        let profile = RaceProfile {
            sex: Some(Sex::Female),
            birth: Some(Birth::parse("1980", marathon.date).unwrap()),
        };
        let log = crate::usecases::fixtures::activity(&runner, ActivityKind::RaceProfileUpdated);
        world
            .races
            .set_race_profile(&runner.id, &profile, &log)
            .await
            .unwrap();

        let recorded = record(
            world.ports(),
            &organizer,
            request(&marathon, &runner, finish("3:00:00", 5)),
        )
        .await
        .unwrap();
        assert_eq!(recorded.outcome, Outcome::Created);
        let first = recorded.result;
        assert_eq!(
            (first.points, first.bonus_points),
            (105, 5),
            "the marathon's points plus the bonus"
        );
        assert_eq!(first.bib, domain::race::Bib::new(1), "the entry's bib");
        assert_eq!(first.category.map(|c| c.to_string()).as_deref(), Some("F45"));
        assert!(first.age_grade.is_some(), "a graded chip time");
        assert_eq!(world.stored(&marathon).await.result_count, 1);

        let again = record(
            world.ports(),
            &organizer,
            request(&marathon, &runner, finish("3:00:00", 5)),
        )
        .await
        .unwrap();
        assert_eq!(
            (again.outcome, again.result.version),
            (Outcome::Unchanged, first.version)
        );

        world.clock.advance(Duration::minutes(1));
        let corrected = record(
            world.ports(),
            &organizer,
            request(&marathon, &runner, finish("2:59:00", 5)),
        )
        .await
        .unwrap();
        assert_eq!(corrected.outcome, Outcome::Corrected);
        assert!(corrected.result.version > first.version);
        assert_eq!(corrected.result.recorded_at, first.recorded_at);
        assert_eq!(
            world.logged()[world.logged().len() - 2..],
            [ActivityKind::ResultRecorded, ActivityKind::ResultCorrected],
            "the repeat logged nothing"
        );
    }

    #[tokio::test]
    async fn only_the_verified_owner_records_from_race_day_for_a_registered_runner() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let runner = world.user(Role::Runner, "Kim Runner").await;
        let stranger = world.user(Role::Runner, "Lee Runner").await;
        entries::register(world.ports(), &runner, &marathon.id)
            .await
            .unwrap();
        let attempt =
            async |actor: &Actor, request: RecordResult| record(world.ports(), actor, request).await;

        let early = attempt(&organizer, request(&marathon, &runner, finish("3:00:00", 0))).await;
        assert!(
            matches!(&early, Err(Refusal::Conflict(m)) if m.contains("from race day on")),
            "{early:?}"
        );
        world.clock.advance(Duration::days(125));
        assert!(matches!(
            attempt(&runner, request(&marathon, &runner, finish("3:00:00", 0))).await,
            Err(Refusal::RoleRequired(Role::Organizer))
        ));
        let other = world.user(Role::Organizer, "Other").await;
        assert!(matches!(
            attempt(&other, request(&marathon, &runner, finish("3:00:00", 0))).await,
            Err(Refusal::NotOwner)
        ));
        let unverified = Actor {
            email_verified: Some(false),
            ..organizer.clone()
        };
        assert!(matches!(
            attempt(&unverified, request(&marathon, &runner, finish("3:00:00", 0))).await,
            Err(Refusal::UnverifiedEmail)
        ));
        let nobody = RecordResult {
            runner: "not-an-id".into(),
            ..request(&marathon, &runner, finish("3:00:00", 0))
        };
        assert!(matches!(
            attempt(&organizer, nobody).await,
            Err(Refusal::NotFound("runner"))
        ));
        let unregistered = attempt(&organizer, request(&marathon, &stranger, finish("3:00:00", 0))).await;
        assert!(
            matches!(&unregistered, Err(Refusal::Conflict(m)) if m.contains("not registered")),
            "{unregistered:?}"
        );
        let invalid = attempt(&organizer, request(&marathon, &runner, finish("soon", 0))).await;
        assert!(
            matches!(&invalid, Err(Refusal::Invalid(e)) if e.0[0].field == "chip_time"),
            "{invalid:?}"
        );
        assert_eq!(world.stored(&marathon).await.result_count, 0, "nothing recorded");
    }

    #[tokio::test]
    async fn a_correction_needs_the_version_read_and_a_removal_leaves_the_next_result_above_it() {
        let world = World::new();
        let (organizer, marathon, runner) = race_day(&world).await;
        let first = record(
            world.ports(),
            &organizer,
            request(&marathon, &runner, finish("3:00:00", 0)),
        )
        .await
        .unwrap()
        .result;
        let stale = RecordResult {
            precondition: Ok(Precondition::Version(first.version - 1)),
            ..request(&marathon, &runner, finish("2:50:00", 0))
        };
        assert!(matches!(
            record(world.ports(), &organizer, stale).await,
            Err(Refusal::PreconditionFailed(_))
        ));
        let malformed = RecordResult {
            precondition: Err(FieldError::new("If-Match", "bad")),
            ..request(&marathon, &runner, finish("2:50:00", 0))
        };
        assert!(matches!(
            record(world.ports(), &organizer, malformed).await,
            Err(Refusal::Invalid(_))
        ));

        let runner_id = runner.id.to_string();
        let wrong = Ok(Precondition::Version(first.version + 1));
        assert!(matches!(
            remove(world.ports(), &organizer, &marathon.id, &runner_id, wrong).await,
            Err(Refusal::PreconditionFailed(_))
        ));
        remove(
            world.ports(),
            &organizer,
            &marathon.id,
            &runner_id,
            Ok(Precondition::Version(first.version)),
        )
        .await
        .unwrap();
        assert!(matches!(
            remove(
                world.ports(),
                &organizer,
                &marathon.id,
                &runner_id,
                Ok(Precondition::Any)
            )
            .await,
            Err(Refusal::NotFound("result"))
        ));
        // the clock has not moved: the version comes from the tombstone, not the time
        let again = record(
            world.ports(),
            &organizer,
            request(&marathon, &runner, finish("3:00:00", 0)),
        )
        .await
        .unwrap();
        assert_eq!(again.outcome, Outcome::Created);
        assert_eq!(
            again.result.version,
            first.version + 2,
            "above the removal's version"
        );
    }

    #[tokio::test]
    async fn a_cancelled_marathon_takes_no_results_and_points_are_priced_by_status() {
        let world = World::new();
        let (organizer, marathon, runner) = race_day(&world).await;
        let dns = ResultBody {
            status: Some("dns".into()),
            ..ResultBody::default()
        };
        let recorded = record(world.ports(), &organizer, request(&marathon, &runner, dns))
            .await
            .unwrap();
        assert_eq!(
            (recorded.result.status, recorded.result.points),
            (ResultStatus::Dns, 0)
        );
        let cancelled = Marathon {
            status: domain::marathon::MarathonStatus::Cancelled,
            version: 2,
            ..world.stored(&marathon).await
        };
        let log = crate::usecases::fixtures::activity(&organizer, ActivityKind::MarathonCancelled);
        world.races.update_marathon(&cancelled, 1, &log).await.unwrap();
        let refused = record(
            world.ports(),
            &organizer,
            request(&marathon, &runner, finish("3:00:00", 0)),
        )
        .await;
        assert!(
            matches!(&refused, Err(Refusal::Conflict(m)) if m == "the marathon is cancelled"),
            "{refused:?}"
        );
    }

    #[test]
    fn result_fields_name_every_bad_field_and_apply_the_status_rules() {
        let both = ResultBody {
            chip_time: Some(json!("3:00:00")),
            finish_time: Some(json!("3:00:01")),
            gun_time: Some(json!("later")),
            bonus_points: Some(-1),
            ..ResultBody::default()
        };
        let errors = result_fields(both).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["finish_time", "gun_time", "bonus_points"]);
        // one name or both saying the same; seconds as well as text
        let same = ResultBody {
            chip_time: Some(json!(10_800)),
            finish_time: Some(json!("3:00:00")),
            ..ResultBody::default()
        };
        let (fields, bonus) = result_fields(same).unwrap();
        assert_eq!((fields.chip.map(FinishTime::seconds), bonus), (Some(10_800), 0));
        // a finish needs its chip time
        assert!(result_fields(ResultBody::default()).is_err());
    }

    #[tokio::test]
    async fn a_runner_reads_only_their_own_results() {
        let world = World::new();
        let (organizer, marathon, runner) = race_day(&world).await;
        record(
            world.ports(),
            &organizer,
            request(&marathon, &runner, finish("3:00:00", 0)),
        )
        .await
        .unwrap();
        let page = mine(world.ports(), &runner, &PageQuery::default()).await.unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(matches!(
            mine(world.ports(), &organizer, &PageQuery::default()).await,
            Err(Refusal::RoleRequired(Role::Runner))
        ));
        let bad = PageQuery {
            limit: Some("0".into()),
            cursor: None,
        };
        assert!(matches!(
            mine(world.ports(), &runner, &bad).await,
            Err(Refusal::Invalid(_))
        ));
    }

    /// Five finishers (two in F40, fastest first by index) and a dns, straight into the
    /// store, on race day.
    async fn ranked_field(world: &World) -> (Marathon, Vec<domain::UserId>) {
        use domain::memory::race_contract::{entry, official};
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let log = || crate::usecases::fixtures::activity(&organizer, ActivityKind::ResultRecorded);
        let mut runners = Vec::new();
        for i in 0..6u32 {
            let runner = domain::UserId::generate();
            world
                .races
                .register(
                    &entry(&marathon, &runner),
                    crate::usecases::fixtures::START,
                    &log(),
                )
                .await
                .unwrap();
            let mut result = official(&marathon, &runner, 10_000 + i * 60, 1);
            if i % 2 == 1 {
                result.category = domain::race::Category::parse("F40").ok();
            }
            if i == 5 {
                result = OfficialResult {
                    status: ResultStatus::Dns,
                    finish_seconds: None,
                    finish_time: None,
                    bonus_points: 0,
                    points: 0,
                    ..result
                };
            }
            world.races.put_result(&result, None, &log()).await.unwrap();
            runners.push(runner);
        }
        (marathon, runners)
    }

    fn query(limit: &str, category: Option<&str>, cursor: Option<String>) -> ResultsQuery {
        ResultsQuery {
            limit: Some(limit.into()),
            cursor,
            category: category.map(str::to_owned),
            q: None,
        }
    }

    #[tokio::test]
    async fn the_ranking_places_every_finisher_whatever_the_filter_across_pages() {
        let world = World::new();
        let (marathon, runners) = ranked_field(&world).await;
        let first = ranking(world.ports(), &marathon.id, &query("4", None, None))
            .await
            .unwrap();
        let places: Vec<(Option<u64>, Option<u64>)> =
            first.items.iter().map(|p| (p.rank, p.category_rank)).collect();
        assert_eq!(
            places,
            [
                (Some(1), None),
                (Some(2), Some(1)),
                (Some(3), None),
                (Some(4), Some(2))
            ]
        );
        let rest = ranking(
            world.ports(),
            &marathon.id,
            &query("4", None, first.next_cursor.clone()),
        )
        .await
        .unwrap();
        let places: Vec<Option<u64>> = rest.items.iter().map(|p| p.rank).collect();
        assert_eq!(places, [Some(5), None], "the dns last, without a place");
        assert_eq!(rest.items[1].result.runner_id, runners[5]);
        assert!(rest.next_cursor.is_none());

        // the category's runners keep their overall places, one page at a time
        let f40 = ranking(world.ports(), &marathon.id, &query("1", Some("F40"), None))
            .await
            .unwrap();
        assert_eq!(
            (f40.items[0].rank, f40.items[0].category_rank),
            (Some(2), Some(1))
        );
        let next = ranking(
            world.ports(),
            &marathon.id,
            &query("1", Some("F40"), f40.next_cursor),
        )
        .await
        .unwrap();
        assert_eq!(
            (next.items[0].rank, next.items[0].category_rank),
            (Some(4), Some(2))
        );
        assert_eq!(next.distance_m, marathon.distance_m);
    }

    #[tokio::test]
    async fn the_ranking_shows_the_marathon_as_it_is_and_refuses_bad_queries() {
        let world = World::new();
        let (marathon, _) = ranked_field(&world).await;
        let renamed = Marathon {
            name: "Seoul Marathon 2026".into(),
            version: 2,
            ..world.stored(&marathon).await
        };
        let log = crate::usecases::fixtures::activity(
            &Actor {
                id: marathon.organizer_id.clone(),
                role: Role::Organizer,
                email_verified: None,
                origin: Default::default(),
            },
            ActivityKind::MarathonUpdated,
        );
        world.races.update_marathon(&renamed, 1, &log).await.unwrap();
        let page = ranking(world.ports(), &marathon.id, &query("10", None, None))
            .await
            .unwrap();
        assert!(
            page.items
                .iter()
                .all(|p| p.result.marathon_name == "Seoul Marathon 2026")
        );

        let bad = ResultsQuery {
            limit: Some("0".into()),
            cursor: Some("nonsense".into()),
            category: Some("Q99".into()),
            q: None,
        };
        let Err(Refusal::Invalid(errors)) = ranking(world.ports(), &marathon.id, &bad).await else {
            panic!("a bad query is refused");
        };
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "category", "cursor"]);
        assert!(matches!(
            ranking(world.ports(), &MarathonId::generate(), &query("10", None, None)).await,
            Err(Refusal::NotFound("marathon"))
        ));
    }
}
