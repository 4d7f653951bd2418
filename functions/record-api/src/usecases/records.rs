//! Private records: the runner's own. Another user's record id is refused as one that
//! never existed (`NotFound`), so ids leak nothing.

use domain::Role;
use domain::activity::{ActivityDetails, ActivityKind, RecordDetails};
use std::collections::{BTreeSet, HashMap};

use domain::leaderboard::{Performance, PerformanceSource, personal_bests};
use domain::marathon::MarathonId;
use domain::paging::{MAX_LIMIT, Page, PageRequest};
use domain::ports::StoreError;
use domain::race::ResultStatus;
use domain::record::{Record, RecordFields, RecordInput};

use super::{Actor, Ports, Refusal, page};
use crate::contract::PageQuery;

fn details(record_id: &str) -> ActivityDetails {
    ActivityDetails::Record(RecordDetails {
        record_id: record_id.to_owned(),
    })
}

/// The calling runner's record `raw` (an id as the path names it; one that is no ULID
/// names nothing).
async fn load(ports: Ports<'_>, actor: &Actor, raw: &str) -> Result<Record, Refusal> {
    actor.require(Role::Runner)?;
    let id = ulid::Ulid::from_string(raw)
        .map(|id| id.to_string())
        .map_err(|_| Refusal::NotFound("record"))?;
    ports
        .races
        .record(&actor.id, &id)
        .await?
        .ok_or(Refusal::NotFound("record"))
}

/// Writes down a record for the calling runner, whose account must still exist.
pub async fn create(ports: Ports<'_>, actor: &Actor, input: RecordInput) -> Result<Record, Refusal> {
    actor.require(Role::Runner)?;
    let fields = RecordFields::from_input(input, None)?;
    ports.live_account(actor).await?;
    let now = ports.clock.now();
    let record = Record {
        id: ulid::Ulid::new().to_string(),
        runner_id: actor.id.clone(),
        kind: fields.kind,
        date: fields.date,
        distance_m: fields.distance_m,
        duration_seconds: fields.duration_seconds,
        notes: fields.notes,
        created_at: now,
        updated_at: now,
    };
    let log = ports
        .activity(actor, ActivityKind::RecordCreated)
        .with_details(details(&record.id));
    ports.races.create_record(&record, &log).await?;
    Ok(record)
}

/// The calling runner's records, newest first.
pub async fn list(ports: Ports<'_>, actor: &Actor, query: &PageQuery) -> Result<Page<Record>, Refusal> {
    actor.require(Role::Runner)?;
    Ok(ports.races.runner_records(&actor.id, &page(query)?).await?)
}

pub async fn show(ports: Ports<'_>, actor: &Actor, id: &str) -> Result<Record, Refusal> {
    load(ports, actor, id).await
}

/// Changes one of the calling runner's records. Between an account's deletion and its
/// erasure the record still exists: no new data goes into it.
pub async fn update(
    ports: Ports<'_>,
    actor: &Actor,
    id: &str,
    input: RecordInput,
) -> Result<Record, Refusal> {
    let current = load(ports, actor, id).await?;
    let fields = RecordFields::from_input(input, Some(&current))?;
    ports.live_account(actor).await?;
    let record = Record {
        kind: fields.kind,
        date: fields.date,
        distance_m: fields.distance_m,
        duration_seconds: fields.duration_seconds,
        notes: fields.notes,
        updated_at: ports.clock.now(),
        ..current
    };
    let log = ports
        .activity(actor, ActivityKind::RecordUpdated)
        .with_details(details(&record.id));
    match ports.races.update_record(&record, &log).await {
        Ok(()) => Ok(record),
        // deleted meanwhile
        Err(StoreError::Conflict) => Err(Refusal::NotFound("record")),
        Err(other) => Err(other.into()),
    }
}

/// Deletes one of the calling runner's records.
pub async fn remove(ports: Ports<'_>, actor: &Actor, id: &str) -> Result<(), Refusal> {
    let current = load(ports, actor, id).await?;
    let log = ports
        .activity(actor, ActivityKind::RecordDeleted)
        .with_details(details(&current.id));
    match ports.races.delete_record(&actor.id, &current.id, &log).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(Refusal::NotFound("record")),
        Err(other) => Err(other.into()),
    }
}

/// The calling runner's best time per distance, from their official results and private
/// records. Only a finish has a time that counts (its chip time; a disqualified time does
/// not), under its marathon's course as the marathon says now; a result of a marathon
/// since gone has no course to count under.
pub async fn bests(ports: Ports<'_>, actor: &Actor) -> Result<Vec<Performance>, Refusal> {
    actor.require(Role::Runner)?;
    // a runner's results and records are few: read them whole, a page of 100 at a time
    // (plain loops: a generic helper over async closures is not Send for axum)
    let first = || PageRequest {
        limit: MAX_LIMIT,
        cursor: None,
    };
    let mut results = Vec::new();
    let mut page = first();
    loop {
        let read = ports.races.runner_results(&actor.id, &page).await?;
        results.extend(read.items);
        match read.next_cursor {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    let mut records = Vec::new();
    let mut page = first();
    loop {
        let read = ports.races.runner_records(&actor.id, &page).await?;
        records.extend(read.items);
        match read.next_cursor {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    let ids: BTreeSet<MarathonId> = results.iter().map(|r| r.marathon_id.clone()).collect();
    let marathons = futures::future::join_all(ids.iter().map(|id| ports.races.marathon(id))).await;
    let mut distance: HashMap<MarathonId, u32> = HashMap::new();
    for marathon in marathons {
        if let Some(marathon) = marathon? {
            distance.insert(marathon.id.clone(), marathon.distance_m);
        }
    }
    let official = results.into_iter().filter_map(|r| {
        if r.status != ResultStatus::Finished {
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
    Ok(personal_bests(official.chain(private)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::fixtures::World;

    fn input() -> RecordInput {
        RecordInput {
            kind: Some("training".into()),
            date: Some("2026-05-01".into()),
            distance_m: Some(12_000),
            duration: Some(serde_json::json!("1:02:03")),
            notes: Some("tempo".into()),
        }
    }

    #[tokio::test]
    async fn a_runner_keeps_private_records_that_others_cannot_name() {
        let world = World::new();
        let runner = world.user(Role::Runner, "Kim Runner").await;
        let other = world.user(Role::Runner, "Lee Runner").await;
        let record = create(world.ports(), &runner, input()).await.unwrap();
        assert_eq!((record.distance_m, record.duration_seconds), (12_000, 3_723));
        assert_eq!(show(world.ports(), &runner, &record.id).await.unwrap(), record);
        for (actor, id) in [(&other, record.id.as_str()), (&runner, "not-a-ulid")] {
            assert!(matches!(
                show(world.ports(), actor, id).await,
                Err(Refusal::NotFound("record"))
            ));
        }
        let organizer = world.user(Role::Organizer, "Org").await;
        assert!(matches!(
            create(world.ports(), &organizer, input()).await,
            Err(Refusal::RoleRequired(Role::Runner))
        ));
        let changes = RecordInput {
            notes: Some("easy".into()),
            ..RecordInput::default()
        };
        let updated = update(world.ports(), &runner, &record.id, changes).await.unwrap();
        assert_eq!((updated.notes.as_str(), updated.distance_m), ("easy", 12_000));
        assert_eq!(
            list(world.ports(), &runner, &PageQuery::default())
                .await
                .unwrap()
                .items,
            [updated]
        );
        remove(world.ports(), &runner, &record.id).await.unwrap();
        assert!(matches!(
            remove(world.ports(), &runner, &record.id).await,
            Err(Refusal::NotFound("record"))
        ));
    }

    #[tokio::test]
    async fn a_token_outliving_its_account_writes_no_record() {
        let world = World::new();
        let runner = world.user(Role::Runner, "Kim Runner").await;
        let record = create(world.ports(), &runner, input()).await.unwrap();
        let ghost = Actor {
            id: domain::UserId::generate(),
            ..runner.clone()
        };
        assert!(matches!(
            create(world.ports(), &ghost, input()).await,
            Err(Refusal::AccountDeleted)
        ));
        let bad = RecordInput {
            distance_m: Some(-1),
            ..RecordInput::default()
        };
        assert!(matches!(
            update(world.ports(), &runner, &record.id, bad).await,
            Err(Refusal::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn bests_count_finishes_under_the_marathon_s_course_now_and_records() {
        use domain::marathon::{Course, Marathon};
        use domain::memory::race_contract::{entry, official};
        use domain::ports::RaceStore;
        let world = World::new();
        let runner = world.user(Role::Runner, "Kim Runner").await;
        let organizer = world.user(Role::Organizer, "Org").await;
        let log = || {
            crate::usecases::fixtures::activity(&organizer, domain::activity::ActivityKind::ResultRecorded)
        };
        let (full, short) = (world.marathon(&organizer).await, world.marathon(&organizer).await);
        for (marathon, seconds, status) in [
            (&full, 10_800, ResultStatus::Finished),
            (&short, 9_000, ResultStatus::Dq),
        ] {
            world
                .races
                .register(
                    &entry(marathon, &runner.id),
                    crate::usecases::fixtures::START,
                    &log(),
                )
                .await
                .unwrap();
            let result = domain::result::OfficialResult {
                status,
                ..official(marathon, &runner.id, seconds, 1)
            };
            world.races.put_result(&result, None, &log()).await.unwrap();
        }
        // the organizer corrects the course after the result: the best follows
        let corrected = Marathon {
            course: Course::Half,
            distance_m: Course::Half.metres(),
            version: 2,
            ..world.stored(&full).await
        };
        world.races.update_marathon(&corrected, 1, &log()).await.unwrap();
        let tenk = RecordInput {
            distance_m: Some(10_000),
            duration: Some(serde_json::json!("0:45:00")),
            ..input()
        };
        create(world.ports(), &runner, tenk).await.unwrap();
        let slower_half = RecordInput {
            distance_m: Some(Course::Half.metres().into()),
            duration: Some(serde_json::json!("3:10:00")),
            ..input()
        };
        create(world.ports(), &runner, slower_half).await.unwrap();

        let mut bests: Vec<(u32, u32, bool)> = bests(world.ports(), &runner)
            .await
            .unwrap()
            .into_iter()
            .map(|b| {
                (
                    b.distance_m,
                    b.seconds,
                    matches!(b.source, PerformanceSource::Official { .. }),
                )
            })
            .collect();
        bests.sort_unstable();
        assert_eq!(
            bests,
            [(10_000, 2_700, false), (Course::Half.metres(), 10_800, true)],
            "the dq's time does not count; the half's official time beats the record"
        );
        assert!(matches!(
            super::bests(world.ports(), &organizer).await,
            Err(Refusal::RoleRequired(Role::Runner))
        ));
    }
}
