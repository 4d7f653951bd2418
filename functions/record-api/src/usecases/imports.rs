//! Bulk results import (issue 16), record-api's part: the owning organizer opens an
//! import and gets a URL to upload its file to, reads its dry run and progress, and asks
//! for the commit (a marker object results-import is triggered by). Only the marathon's
//! organizer sees or touches its imports; opening and committing mint points, so they
//! also need a verified address.

use std::time::Duration;

use domain::import::{Import, ImportId, ImportMode, ImportState, commit_key, file_key};
use domain::marathon::{Marathon, MarathonId};
use domain::ports::StoreError;
use time::OffsetDateTime;

use super::{Actor, Ports, Refusal, accepts_results, conflict};

/// How long an upload URL stays usable.
pub const UPLOAD_EXPIRES: Duration = Duration::from_secs(15 * 60);

/// An import just opened, and where its file goes.
#[derive(Debug)]
pub struct Opened {
    pub import: Import,
    /// PUT the file here, as `text/csv`.
    pub upload_url: String,
    pub expires_at: OffsetDateTime,
}

/// The caller's own marathon (404 before 403).
async fn organizers_marathon(ports: Ports<'_>, actor: &Actor, id: &MarathonId) -> Result<Marathon, Refusal> {
    let marathon = ports.marathon(id).await?;
    actor.require_owner(&marathon)?;
    Ok(marathon)
}

/// The marathon's import `raw` (an id as the path names it: one that is no ULID names
/// nothing).
async fn load(ports: Ports<'_>, marathon: &Marathon, raw: &str) -> Result<Import, Refusal> {
    let id = ImportId::parse(raw).ok_or(Refusal::NotFound("import"))?;
    ports
        .imports
        .get(&marathon.id, &id)
        .await?
        .ok_or(Refusal::NotFound("import"))
}

/// Opens an import of the caller's marathon, from its race day on, and signs the URL its
/// file is uploaded to (before storing it: an import whose URL could not be made is not
/// left behind).
pub async fn open(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    mode: ImportMode,
) -> Result<Opened, Refusal> {
    let marathon = organizers_marathon(ports, actor, marathon).await?;
    actor.require_verified_email()?;
    let now = ports.clock.now();
    accepts_results(&marathon, now.date())?;
    let import = Import::new(
        ImportId::generate(),
        marathon.id.clone(),
        actor.id.clone(),
        mode,
        now,
    );
    let upload_url = ports
        .uploads
        .presign_put(&file_key(&marathon.id, &import.id), UPLOAD_EXPIRES)
        .await?;
    ports.imports.create(&import).await?;
    Ok(Opened {
        import,
        upload_url,
        expires_at: now + UPLOAD_EXPIRES,
    })
}

/// The import as it stands: its dry-run report and its progress.
pub async fn status(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    import: &str,
) -> Result<Import, Refusal> {
    let marathon = organizers_marathon(ports, actor, marathon).await?;
    load(ports, &marathon, import).await
}

/// Asks for the validated import's commit and answers the import as it is then
/// (`Committed` when there was nothing more to do). Idempotent: a committed import is
/// left alone; one committing (begun by another request, or stopped) gets its marker
/// again, which resumes it.
pub async fn commit(
    ports: Ports<'_>,
    actor: &Actor,
    marathon: &MarathonId,
    import: &str,
) -> Result<Import, Refusal> {
    let marathon = organizers_marathon(ports, actor, marathon).await?;
    actor.require_verified_email()?;
    let stored = load(ports, &marathon, import).await?;
    match stored.state {
        ImportState::Committed => return Ok(stored),
        ImportState::Validated => {
            match ports
                .imports
                .begin_commit(&marathon.id, &stored.id, ports.clock.now())
                .await
            {
                // another request began it first: the marker below is the same
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // already begun: the marker again resumes a commit that stopped
        ImportState::Committing => {}
        ImportState::AwaitingUpload => {
            return Err(conflict(
                "the file is not uploaded or its dry run is not done yet",
            ));
        }
        ImportState::Rejected => {
            return Err(conflict(
                "the file cannot be imported (see file_error): upload another",
            ));
        }
    }
    ports
        .uploads
        .put_marker(&commit_key(&marathon.id, &stored.id))
        .await?;
    load(ports, &marathon, import).await
}

#[cfg(test)]
mod tests {
    use domain::Role;
    use domain::import::ImportStore;
    use domain::memory::import_contract::validated;
    use time::macros::datetime;

    use super::*;
    use crate::usecases::fixtures::World;

    /// Race day of `World::marathon`.
    const RACE_DAY: OffsetDateTime = datetime!(2026-10-04 08:00 UTC);

    async fn world_on_race_day() -> (World, Actor, Marathon) {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        world.clock.advance(RACE_DAY - domain::Clock::now(&world.clock));
        (world, organizer, marathon)
    }

    #[tokio::test]
    async fn the_organizer_opens_an_import_and_gets_its_upload_url() {
        let (world, organizer, marathon) = world_on_race_day().await;
        let opened = open(world.ports(), &organizer, &marathon.id, ImportMode::Replace)
            .await
            .unwrap();
        let import = &opened.import;
        assert_eq!(
            (import.state, import.mode, &import.organizer_id),
            (ImportState::AwaitingUpload, ImportMode::Replace, &organizer.id)
        );
        assert_eq!(opened.expires_at, RACE_DAY + UPLOAD_EXPIRES);
        let key = file_key(&marathon.id, &import.id);
        assert_eq!(world.uploads.signed(), [(key.clone(), UPLOAD_EXPIRES)]);
        assert!(opened.upload_url.contains(&key));
        let read = status(world.ports(), &organizer, &marathon.id, import.id.as_str())
            .await
            .unwrap();
        assert_eq!(&read, import);
    }

    #[tokio::test]
    async fn only_the_verified_owner_on_or_after_race_day_opens_one() {
        let world = World::new();
        let organizer = world.user(Role::Organizer, "Org").await;
        let marathon = world.marathon(&organizer).await;
        let open_as = |actor: Actor| {
            let world = &world;
            let id = marathon.id.clone();
            async move { open(world.ports(), &actor, &id, ImportMode::Merge).await }
        };
        // before race day: 409, with the date
        let early = open_as(organizer.clone()).await.unwrap_err();
        assert!(
            matches!(&early, Refusal::Conflict(d) if d.contains("2026-10-04")),
            "{early:?}"
        );
        world.clock.advance(RACE_DAY - domain::Clock::now(&world.clock));
        let runner = world.user(Role::Runner, "Kim Runner").await;
        assert!(matches!(
            open_as(runner).await,
            Err(Refusal::RoleRequired(Role::Organizer))
        ));
        let other = world.user(Role::Organizer, "Other Org").await;
        assert!(matches!(open_as(other).await, Err(Refusal::NotOwner)));
        let unverified = Actor {
            email_verified: Some(false),
            ..organizer.clone()
        };
        assert!(matches!(open_as(unverified).await, Err(Refusal::UnverifiedEmail)));
        assert!(matches!(
            open(
                world.ports(),
                &organizer,
                &MarathonId::generate(),
                ImportMode::Merge
            )
            .await,
            Err(Refusal::NotFound("marathon"))
        ));
        // nothing was signed or stored for any refusal
        assert!(world.uploads.signed().is_empty());
    }

    #[tokio::test]
    async fn imports_are_read_by_their_organizer_only_and_by_their_own_marathon() {
        let (world, organizer, marathon) = world_on_race_day().await;
        let opened = open(world.ports(), &organizer, &marathon.id, ImportMode::Merge)
            .await
            .unwrap();
        let id = opened.import.id.as_str();
        let other = world.user(Role::Organizer, "Other Org").await;
        assert!(matches!(
            status(world.ports(), &other, &marathon.id, id).await,
            Err(Refusal::NotOwner)
        ));
        // the other's own marathon does not hold it; ids that are none name nothing
        let theirs = world.marathon(&other).await;
        for (marathon, id) in [
            (&theirs.id, id),
            (&marathon.id, "not-an-id"),
            (&marathon.id, ImportId::generate().as_str()),
        ] {
            let who = if marathon == &theirs.id {
                &other
            } else {
                &organizer
            };
            assert!(
                matches!(
                    status(world.ports(), who, marathon, id).await,
                    Err(Refusal::NotFound("import"))
                ),
                "{id}"
            );
        }
        // a non-owner is refused before the import id is looked at
        assert!(matches!(
            status(world.ports(), &other, &marathon.id, "not-an-id").await,
            Err(Refusal::NotOwner)
        ));
    }

    #[tokio::test]
    async fn a_commit_needs_a_dry_run_and_is_asked_once_then_resumed() {
        let (world, organizer, marathon) = world_on_race_day().await;
        let opened = open(world.ports(), &organizer, &marathon.id, ImportMode::Merge)
            .await
            .unwrap();
        let id = opened.import.id.to_string();
        let commit_now = || commit(world.ports(), &organizer, &marathon.id, &id);
        let refused = commit_now().await.unwrap_err();
        assert!(
            matches!(&refused, Refusal::Conflict(d) if d.contains("not uploaded")),
            "{refused:?}"
        );
        let rejected = Import {
            state: ImportState::Rejected,
            file_error: Some("no bib column".into()),
            ..opened.import.clone()
        };
        world.imports.save_dry_run(&rejected).await.unwrap();
        let refused = commit_now().await.unwrap_err();
        assert!(
            matches!(&refused, Refusal::Conflict(d) if d.contains("upload another")),
            "{refused:?}"
        );
        assert!(world.uploads.markers().is_empty());
        world
            .imports
            .save_dry_run(&validated(&opened.import))
            .await
            .unwrap();
        let unverified = Actor {
            email_verified: Some(false),
            ..organizer.clone()
        };
        assert!(matches!(
            commit(world.ports(), &unverified, &marathon.id, &id).await,
            Err(Refusal::UnverifiedEmail)
        ));
        let committing = commit_now().await.unwrap();
        assert_eq!(committing.state, ImportState::Committing);
        let marker = commit_key(&marathon.id, &opened.import.id);
        assert_eq!(world.uploads.markers(), std::slice::from_ref(&marker));
        // asked again while committing: the marker again (a resume)
        assert_eq!(commit_now().await.unwrap().state, ImportState::Committing);
        assert_eq!(world.uploads.markers(), [marker.clone(), marker]);
        // once committed, nothing more is done
        let now = domain::Clock::now(&world.clock);
        world
            .imports
            .finish(&marathon.id, &opened.import.id, now)
            .await
            .unwrap();
        assert_eq!(commit_now().await.unwrap().state, ImportState::Committed);
        assert_eq!(world.uploads.markers().len(), 2);
    }
}
