//! Bulk imports in memory: their state with the DynamoDB adapter's conditional moves
//! (`import_contract` holds the checks both pass), and the imports bucket as record-api
//! uses it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::import::{Import, ImportId, ImportState, ImportStore, ImportUploads};
use crate::marathon::MarathonId;
use crate::ports::StoreError;

/// The imports as stored, by marathon and id: a dry run only before the commit, the
/// commit only once from `validated`, its progress only forwards, `finish` idempotent.
#[derive(Default)]
pub struct MemoryImports {
    imports: Mutex<HashMap<(MarathonId, ImportId), Import>>,
}

impl MemoryImports {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(MarathonId, ImportId), Import>> {
        self.imports.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(marathon: &MarathonId, id: &ImportId) -> (MarathonId, ImportId) {
    (marathon.clone(), id.clone())
}

#[async_trait]
impl ImportStore for MemoryImports {
    async fn create(&self, import: &Import) -> Result<(), StoreError> {
        let mut imports = self.lock();
        let key = key(&import.marathon_id, &import.id);
        if imports.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        imports.insert(key, import.clone());
        Ok(())
    }

    async fn get(&self, marathon: &MarathonId, id: &ImportId) -> Result<Option<Import>, StoreError> {
        Ok(self.lock().get(&key(marathon, id)).cloned())
    }

    async fn save_dry_run(&self, import: &Import) -> Result<(), StoreError> {
        let mut imports = self.lock();
        let stored = imports
            .get_mut(&key(&import.marathon_id, &import.id))
            .ok_or(StoreError::Conflict)?;
        match stored.state {
            ImportState::AwaitingUpload | ImportState::Validated | ImportState::Rejected => {
                *stored = import.clone();
                Ok(())
            }
            ImportState::Committing | ImportState::Committed => Err(StoreError::Conflict),
        }
    }

    async fn begin_commit(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut imports = self.lock();
        match imports.get_mut(&key(marathon, id)) {
            Some(stored) if stored.state == ImportState::Validated => {
                stored.state = ImportState::Committing;
                stored.updated_at = now;
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn progress(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        applied: u32,
        removed: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut imports = self.lock();
        // a count behind the stored one (another run is further along) changes nothing
        if let Some(stored) = imports.get_mut(&key(marathon, id))
            && stored.applied <= applied
            && stored.removed <= removed
        {
            stored.applied = applied;
            stored.removed = removed;
            stored.updated_at = now;
        }
        Ok(())
    }

    async fn finish(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut imports = self.lock();
        match imports.get_mut(&key(marathon, id)) {
            Some(stored) if stored.state == ImportState::Committing => {
                stored.state = ImportState::Committed;
                stored.committed_at = Some(now);
                stored.updated_at = now;
                Ok(())
            }
            Some(stored) if stored.state == ImportState::Committed => Ok(()),
            _ => Err(StoreError::Conflict),
        }
    }
}

/// The imports bucket in memory: the upload URLs it signed and the markers written, in
/// order.
#[derive(Default)]
pub struct MemoryUploads {
    signed: Mutex<Vec<(String, Duration)>>,
    markers: Mutex<Vec<String>>,
}

impl MemoryUploads {
    /// The keys upload URLs were signed for, with how long each lasts.
    pub fn signed(&self) -> Vec<(String, Duration)> {
        self.signed.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The marker keys written, in order (a key twice when written twice).
    pub fn markers(&self) -> Vec<String> {
        self.markers.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl ImportUploads for MemoryUploads {
    async fn presign_put(&self, key: &str, expires: Duration) -> Result<String, StoreError> {
        self.signed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key.to_owned(), expires));
        Ok(format!(
            "https://imports.example/{key}?expires={}",
            expires.as_secs()
        ))
    }

    async fn put_marker(&self, key: &str) -> Result<(), StoreError> {
        self.markers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(key.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::import_contract as contract;

    macro_rules! contract_tests {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $name() {
                    contract::$name(&MemoryImports::default()).await;
                }
            )*
        };
    }

    contract_tests!(
        an_import_is_created_once_and_read_back_under_its_marathon,
        the_dry_run_is_saved_until_the_commit_begins_once,
        progress_only_moves_forward_and_finishing_is_idempotent,
    );
}
