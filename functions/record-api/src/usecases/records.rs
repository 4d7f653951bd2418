//! Private records: the runner's own. Another user's record id is refused as one that
//! never existed (`NotFound`), so ids leak nothing.

use domain::Role;
use domain::activity::{ActivityDetails, ActivityKind, RecordDetails};
use domain::paging::Page;
use domain::ports::StoreError;
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
}
