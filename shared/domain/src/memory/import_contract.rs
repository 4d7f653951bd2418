//! What every `ImportStore` must do, as test bodies over `&dyn ImportStore`: the
//! in-memory store's unit tests run them (`memory::imports`), and so do infra's emulator
//! tests against `DynamoImports` (`shared/infra/tests/integration/import_contract.rs`).
//! Each body makes its own ids: the emulator's table is shared.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::import::{Import, ImportId, ImportMode, ImportState, ImportStore, ImportSummary, RowError};
use crate::marathon::MarathonId;
use crate::ports::StoreError;
use crate::user::UserId;

pub const NOW: OffsetDateTime = datetime!(2026-10-04 12:00 UTC);
pub const LATER: OffsetDateTime = datetime!(2026-10-04 12:05 UTC);

/// A new import of a marathon of its own.
pub fn import(mode: ImportMode) -> Import {
    Import::new(
        ImportId::generate(),
        MarathonId::generate(),
        UserId::generate(),
        mode,
        NOW,
    )
}

/// `import` after a dry run that found 10 rows, 8 of them valid.
pub fn validated(import: &Import) -> Import {
    Import {
        state: ImportState::Validated,
        updated_at: LATER,
        summary: Some(ImportSummary {
            rows: 10,
            valid: 8,
            failed: 2,
            new: 6,
            corrections: 1,
            unchanged: 1,
            removals: 0,
        }),
        errors: vec![RowError {
            line: 3,
            column: "Bib".into(),
            reason: "unknown bib: no runner of this marathon has bib 9".into(),
        }],
        error_count: 2,
        sha256: Some("ab".repeat(32)),
        ..import.clone()
    }
}

async fn read(store: &dyn ImportStore, import: &Import) -> Option<Import> {
    store.get(&import.marathon_id, &import.id).await.unwrap()
}

pub async fn an_import_is_created_once_and_read_back_under_its_marathon(store: &dyn ImportStore) {
    let import = import(ImportMode::Replace);
    store.create(&import).await.unwrap();
    assert_eq!(read(store, &import).await, Some(import.clone()));
    assert!(matches!(store.create(&import).await, Err(StoreError::Conflict)));
    // only under its own marathon, only by its own id
    assert_eq!(
        store.get(&MarathonId::generate(), &import.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .get(&import.marathon_id, &ImportId::generate())
            .await
            .unwrap(),
        None
    );
}

pub async fn the_dry_run_is_saved_until_the_commit_begins_once(store: &dyn ImportStore) {
    let opened = import(ImportMode::Merge);
    // no dry run for an import that was never opened
    assert!(matches!(
        store.save_dry_run(&validated(&opened)).await,
        Err(StoreError::Conflict)
    ));
    store.create(&opened).await.unwrap();
    // nothing to commit before a dry run
    assert!(matches!(
        store.begin_commit(&opened.marathon_id, &opened.id, LATER).await,
        Err(StoreError::Conflict)
    ));
    let rejected = Import {
        state: ImportState::Rejected,
        file_error: Some("the header names no bib column".into()),
        ..opened.clone()
    };
    store.save_dry_run(&rejected).await.unwrap();
    assert_eq!(read(store, &opened).await, Some(rejected));
    assert!(matches!(
        store.begin_commit(&opened.marathon_id, &opened.id, LATER).await,
        Err(StoreError::Conflict)
    ));
    // another file replaces the report, until the commit begins
    let report = validated(&opened);
    store.save_dry_run(&report).await.unwrap();
    assert_eq!(read(store, &opened).await, Some(report.clone()));
    store
        .begin_commit(&opened.marathon_id, &opened.id, LATER)
        .await
        .unwrap();
    let committing = read(store, &opened).await.unwrap();
    assert_eq!(
        (committing.state, committing.updated_at, committing.summary),
        (ImportState::Committing, LATER, report.summary)
    );
    assert!(matches!(
        store.begin_commit(&opened.marathon_id, &opened.id, LATER).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.save_dry_run(&report).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(read(store, &opened).await, Some(committing));
}

pub async fn progress_only_moves_forward_and_finishing_is_idempotent(store: &dyn ImportStore) {
    let opened = import(ImportMode::Replace);
    store.create(&opened).await.unwrap();
    store.save_dry_run(&validated(&opened)).await.unwrap();
    // not begun: no finish
    assert!(matches!(
        store.finish(&opened.marathon_id, &opened.id, LATER).await,
        Err(StoreError::Conflict)
    ));
    store
        .begin_commit(&opened.marathon_id, &opened.id, NOW)
        .await
        .unwrap();
    let counts = |i: Option<Import>| i.map(|i| (i.applied, i.removed));
    store
        .progress(&opened.marathon_id, &opened.id, 5, 0, NOW)
        .await
        .unwrap();
    assert_eq!(counts(read(store, &opened).await), Some((5, 0)));
    // a slower run's older count is ignored, without an error
    store
        .progress(&opened.marathon_id, &opened.id, 3, 0, NOW)
        .await
        .unwrap();
    assert_eq!(counts(read(store, &opened).await), Some((5, 0)));
    store
        .progress(&opened.marathon_id, &opened.id, 6, 2, LATER)
        .await
        .unwrap();
    store
        .progress(&opened.marathon_id, &opened.id, 8, 1, LATER)
        .await
        .unwrap();
    let moved = read(store, &opened).await.unwrap();
    assert_eq!(
        ((moved.applied, moved.removed), moved.updated_at),
        ((6, 2), LATER)
    );
    // progress on an import that does not exist creates nothing
    let ghost = import(ImportMode::Merge);
    store
        .progress(&ghost.marathon_id, &ghost.id, 1, 0, NOW)
        .await
        .unwrap();
    assert_eq!(read(store, &ghost).await, None);
    store
        .finish(&opened.marathon_id, &opened.id, LATER)
        .await
        .unwrap();
    let done = read(store, &opened).await.unwrap();
    assert_eq!(
        (done.state, done.committed_at),
        (ImportState::Committed, Some(LATER))
    );
    // finishing again is fine and changes nothing; finishing nothing is not
    store.finish(&opened.marathon_id, &opened.id, NOW).await.unwrap();
    assert_eq!(read(store, &opened).await, Some(done));
    assert!(matches!(
        store.finish(&ghost.marathon_id, &ghost.id, NOW).await,
        Err(StoreError::Conflict)
    ));
}
