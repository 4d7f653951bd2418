//! The dry run and the commit.
//!
//! Dry run: read the file, validate every row against the marathon's roster, compare each
//! valid row with the runner's result (new, correction, unchanged) and, for a replace,
//! count the results the file does not name; store that report. Nothing is written to
//! results.
//!
//! Commit: the same file (its SHA-256 is checked) validated again, then each valid row
//! written through `RaceStore::put_result`, the operation `PUT /marathons/{id}/results/
//! {runner_id}` uses (same version rule, same activity entry: the Races stream, points,
//! mails and corrections behave exactly as for that PUT), with the import's id on the
//! result. A row whose result already says what the row says is not written again, so a
//! repeated or resumed commit has one effect. Progress (`applied`) is stored after each
//! chunk of rows; a run that is killed resumes from it, and the rows of the chunk it was
//! in are found written. Near the invocation's deadline the function writes the commit
//! marker again and returns: the next invocation continues.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use domain::activity::{ActivityDetails, ActivityEntry, ActivityKind, RequestOrigin};
use domain::events::{Envelope, Podium, PodiumPlace, PointsEvent, ResultsImported};
use domain::import::{
    Import, ImportId, ImportMode, ImportRow, ImportState, ImportStore, ImportSummary, MAX_ERRORS_KEPT,
    MAX_FILE_BYTES, RosterEntry, commit_key, failed_rows, file_key, validate,
};
use domain::marathon::{Marathon, MarathonId};
use domain::paging::PageRequest;
use domain::ports::{EventPublisher, RaceStore, ResultState, StoreError};
use domain::race::{Category, ResultStatus};
use domain::result::{OfficialResult, ResultRunner};
use domain::{Clock, UserId};
use futures::{StreamExt, TryStreamExt, stream};
use infra::s3::{ImportFiles, ReadError};
use tokio::time::Instant;

use crate::file;

/// Rows written at once: each is a read and a transaction (~10-20 ms on DynamoDB), so 8
/// at once take a 20,000-row file in well under a minute without a burst of conflicts.
pub const CONCURRENCY: usize = 8;
/// Rows between two progress writes: what a killed run may do again (finding it done).
pub const CHUNK: usize = 100;
/// Left for the last chunk and the continuation marker when the deadline nears.
const MARGIN: Duration = Duration::from_secs(15);
/// A conflicting concurrent write (the organizer's PUT, another run) is read again.
const ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading the file: {0}")]
    File(String),
    #[error("publishing the summary: {0}")]
    Publish(String),
}

pub struct Importer {
    pub races: Arc<dyn RaceStore>,
    pub imports: Arc<dyn ImportStore>,
    pub files: ImportFiles,
    pub publisher: Arc<dyn EventPublisher<PointsEvent>>,
    pub clock: Arc<dyn Clock>,
    pub concurrency: usize,
}

/// What one row did at commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Written,
    Unchanged,
}

/// The file read and validated: valid rows in file order, every error, and the runners
/// the file names (valid or not: a replace never removes a runner whose row failed).
struct Checked {
    rows: Vec<ImportRow>,
    errors: Vec<domain::import::RowError>,
    named: HashSet<UserId>,
    total: usize,
}

enum Loaded {
    Checked(Checked, String),
    Rejected(String),
    Missing,
}

fn sha256(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Importer {
    async fn marathon(&self, id: &MarathonId) -> Result<Marathon, RunError> {
        self.races
            .marathon(id)
            .await?
            .ok_or(RunError::Store(StoreError::Missing("marathon")))
    }

    async fn load(&self, marathon: &MarathonId, import: &ImportId) -> Result<Loaded, RunError> {
        let bytes = match self.files.read(&file_key(marathon, import), MAX_FILE_BYTES).await {
            Ok(bytes) => bytes,
            Err(ReadError::Missing) => return Ok(Loaded::Missing),
            Err(e @ ReadError::TooLarge(..)) => return Ok(Loaded::Rejected(e.to_string())),
            Err(ReadError::Unavailable(e)) => return Err(RunError::File(e)),
        };
        let hash = sha256(&bytes);
        let read = match file::read(&bytes) {
            Ok(read) => read,
            Err(e) => return Ok(Loaded::Rejected(e.to_string())),
        };
        let roster: Vec<RosterEntry> = self.races.marathon_roster(marathon).await?;
        let by_bib: HashMap<domain::race::Bib, &UserId> =
            roster.iter().map(|r| (r.bib, &r.runner_id)).collect();
        let named = read
            .rows
            .iter()
            .filter_map(|row| domain::race::Bib::parse(&row.bib).ok())
            .filter_map(|bib| by_bib.get(&bib).map(|runner| (*runner).clone()))
            .collect();
        let (rows, errors) = validate(&read.rows, &read.columns, &roster);
        Ok(Loaded::Checked(
            Checked {
                rows,
                errors,
                named,
                total: read.rows.len(),
            },
            hash,
        ))
    }

    /// The result a row makes, as the PUT builds it: the runner's category on race day
    /// (from their profile, `categories`), their bonus kept.
    fn build(
        &self,
        marathon: &Marathon,
        row: &ImportRow,
        category: Option<Category>,
        existing: Option<&OfficialResult>,
        floor: Option<u64>,
        import: &ImportId,
    ) -> OfficialResult {
        let mut result = OfficialResult::build(
            marathon,
            ResultRunner {
                id: row.runner.runner_id.clone(),
                name: row.runner.runner_name.clone(),
                bib: Some(row.runner.bib),
                category,
            },
            row.fields.clone(),
            existing.map_or(0, |e| e.bonus_points),
            existing,
            floor,
            self.clock.now(),
            Some(format!("import-{import}")),
        );
        result.import_id = Some(import.to_string());
        result
    }

    /// The categories on race day of the rows' runners who have one (one batched read).
    async fn categories(
        &self,
        marathon: &Marathon,
        rows: &[ImportRow],
    ) -> Result<HashMap<UserId, Category>, StoreError> {
        let runners: Vec<UserId> = rows.iter().map(|r| r.runner.runner_id.clone()).collect();
        Ok(self
            .races
            .race_profiles(&runners)
            .await?
            .into_iter()
            .filter_map(|(id, profile)| Some((id, profile.category_on(marathon.date)?)))
            .collect())
    }

    /// The rows' runners' results (or tombstones), in the rows' order (batched reads).
    async fn states(
        &self,
        marathon: &MarathonId,
        rows: &[ImportRow],
    ) -> Result<Vec<ResultState>, StoreError> {
        let runners: Vec<UserId> = rows.iter().map(|r| r.runner.runner_id.clone()).collect();
        self.races.result_states(marathon, &runners).await
    }

    /// Every result of the marathon (for a replace's removals).
    async fn all_results(&self, marathon: &MarathonId) -> Result<Vec<OfficialResult>, StoreError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .races
                .marathon_results(marathon, &PageRequest { limit: 100, cursor })
                .await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    pub async fn dry_run(&self, marathon_id: &MarathonId, id: &ImportId) -> Result<(), RunError> {
        let Some(mut import) = self.imports.get(marathon_id, id).await? else {
            tracing::warn!(import = %id, "a file for no import: ignored");
            return Ok(());
        };
        if !matches!(
            import.state,
            ImportState::AwaitingUpload | ImportState::Validated | ImportState::Rejected
        ) {
            tracing::warn!(import = %id, state = ?import.state, "a file uploaded after the commit began: ignored");
            return Ok(());
        }
        let marathon = self.marathon(marathon_id).await?;
        import.updated_at = self.clock.now();
        let (checked, hash) = match self.load(marathon_id, id).await? {
            Loaded::Missing => return Ok(()),
            Loaded::Rejected(reason) => {
                import.state = ImportState::Rejected;
                import.file_error = Some(reason);
                import.summary = None;
                import.errors.clear();
                return self.save(&import).await;
            }
            Loaded::Checked(checked, hash) => (checked, hash),
        };
        let now = self.clock.now();
        // a chunk's results and categories in a few batched reads, not one read per row:
        // a 20,000-row file is 400 chunks
        let mut compared: Vec<Option<bool>> = Vec::with_capacity(checked.rows.len());
        for chunk in checked.rows.chunks(CHUNK) {
            let states = self.states(marathon_id, chunk).await?;
            let categories = if states.iter().any(|s| s.current.is_some()) {
                self.categories(&marathon, chunk).await?
            } else {
                HashMap::new()
            };
            for (row, state) in chunk.iter().zip(states) {
                compared.push(state.current.map(|existing| {
                    let category = categories.get(&row.runner.runner_id).copied();
                    let built = self.build(
                        &marathon,
                        row,
                        category,
                        Some(&existing),
                        Some(existing.version),
                        id,
                    );
                    existing.same_content(&built)
                }));
            }
        }
        let removals = match import.mode {
            ImportMode::Merge => 0,
            ImportMode::Replace => self
                .all_results(marathon_id)
                .await?
                .iter()
                .filter(|r| !checked.named.contains(&r.runner_id))
                .count() as u32,
        };
        let failed = failed_rows(&checked.errors);
        import.summary = Some(ImportSummary {
            rows: checked.total as u32,
            valid: checked.rows.len() as u32,
            failed,
            new: compared.iter().filter(|c| c.is_none()).count() as u32,
            corrections: compared.iter().filter(|c| **c == Some(false)).count() as u32,
            unchanged: compared.iter().filter(|c| **c == Some(true)).count() as u32,
            removals,
        });
        import.error_count = checked.errors.len() as u32;
        import.errors = checked.errors.into_iter().take(MAX_ERRORS_KEPT).collect();
        import.state = ImportState::Validated;
        import.file_error = None;
        import.sha256 = Some(hash);
        import.updated_at = now;
        tracing::info!(import = %id, rows = checked.total, failed, "dry run");
        self.save(&import).await
    }

    async fn save(&self, import: &Import) -> Result<(), RunError> {
        match self.imports.save_dry_run(import).await {
            Ok(()) => Ok(()),
            // the organizer committed meanwhile: the report they committed stands
            Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn commit(
        &self,
        marathon_id: &MarathonId,
        id: &ImportId,
        deadline: Instant,
    ) -> Result<(), RunError> {
        let Some(import) = self.imports.get(marathon_id, id).await? else {
            tracing::warn!(import = %id, "a commit marker for no import: ignored");
            return Ok(());
        };
        match import.state {
            ImportState::Committing => {}
            // done before (a repeated commit): the summary again, which Discord posts once
            ImportState::Committed => return self.announce(&import, None).await,
            other => {
                tracing::warn!(import = %id, state = ?other, "a commit marker for an import not committing: ignored");
                return Ok(());
            }
        }
        let marathon = self.marathon(marathon_id).await?;
        let checked = match self.load(marathon_id, id).await? {
            Loaded::Checked(checked, hash) if import.sha256.as_deref() == Some(hash.as_str()) => checked,
            _ => {
                return Err(RunError::File(
                    "the file is not the one the dry run validated (replaced or deleted since)".into(),
                ));
            }
        };
        let mut applied = import.applied as usize;
        for chunk in checked.rows[applied.min(checked.rows.len())..].chunks(CHUNK) {
            if Instant::now() + MARGIN > deadline {
                return self.continue_later(&import).await;
            }
            // what the rows' writes depend on, read for the whole chunk at once (the
            // emulator serves one request at a time; on AWS each read is a round trip)
            let states = self.states(marathon_id, chunk).await?;
            let categories = self.categories(&marathon, chunk).await?;
            let (marathon, import, categories) = (&marathon, &import, &categories);
            // owned rows: a stream of borrowed ones makes a future the compiler cannot
            // prove Send for every lifetime (rust-lang/rust#102211)
            stream::iter(chunk.iter().cloned().zip(states))
                .map(|(row, state)| async move {
                    let category = categories.get(&row.runner.runner_id).copied();
                    self.apply(marathon, import, &row, category, state).await
                })
                .buffer_unordered(self.concurrency)
                .try_collect::<Vec<Applied>>()
                .await?;
            applied += chunk.len();
            self.imports
                .progress(marathon_id, id, applied as u32, import.removed, self.clock.now())
                .await?;
        }
        let mut removed = import.removed;
        if import.mode == ImportMode::Replace {
            for result in self.all_results(marathon_id).await? {
                if checked.named.contains(&result.runner_id) {
                    continue;
                }
                if Instant::now() + MARGIN > deadline {
                    return self.continue_later(&import).await;
                }
                let log = self
                    .activity(&import, ActivityKind::ResultRemoved)
                    .with_details(ActivityDetails::Result((&result).into()));
                match self
                    .races
                    .delete_result(marathon_id, &result.runner_id, result.version, &log)
                    .await
                {
                    // changed meanwhile: the next pass (a repeated commit) sees it again
                    Ok(()) | Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
                removed += 1;
                self.imports
                    .progress(marathon_id, id, applied as u32, removed, self.clock.now())
                    .await?;
            }
        }
        self.imports.finish(marathon_id, id, self.clock.now()).await?;
        tracing::info!(import = %id, applied, removed, "import committed");
        let done = Import {
            applied: applied as u32,
            removed,
            state: ImportState::Committed,
            ..import
        };
        self.announce(&done, Some(&checked.rows)).await
    }

    async fn continue_later(&self, import: &Import) -> Result<(), RunError> {
        tracing::info!(import = %import.id, "deadline near: the commit continues in another invocation");
        self.files
            .put_marker(&commit_key(&import.marathon_id, &import.id))
            .await
            .map_err(RunError::from)
    }

    fn activity(&self, import: &Import, kind: ActivityKind) -> ActivityEntry {
        ActivityEntry::new(
            import.organizer_id.clone(),
            kind,
            self.clock.now(),
            RequestOrigin {
                source_ip: None,
                user_agent: Some("results-import".into()),
                correlation_id: Some(format!("import-{}", import.id)),
            },
        )
    }

    /// One row through the PUT's store operation, unless its result already says it.
    /// `state` is what the chunk's read found; a conflict reads the runner's again.
    async fn apply(
        &self,
        marathon: &Marathon,
        import: &Import,
        row: &ImportRow,
        category: Option<Category>,
        mut state: ResultState,
    ) -> Result<Applied, RunError> {
        let runner = &row.runner.runner_id;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                state = self
                    .races
                    .result_states(&marathon.id, std::slice::from_ref(runner))
                    .await?
                    .pop()
                    .unwrap_or_default();
            }
            let existing = state.current.as_ref();
            let result = self.build(marathon, row, category, existing, state.floor(), &import.id);
            if existing.is_some_and(|e| e.same_content(&result)) {
                return Ok(Applied::Unchanged);
            }
            let kind = if existing.is_some() {
                ActivityKind::ResultCorrected
            } else {
                ActivityKind::ResultRecorded
            };
            let log = self
                .activity(import, kind)
                .with_details(ActivityDetails::Result((&result).into()));
            match self
                .races
                .put_result(&result, existing.map(|e| e.version), &log)
                .await
            {
                Ok(()) => {
                    infra::metrics::count(infra::metrics::Metric::ResultsRecorded, 1);
                    return Ok(Applied::Written);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RunError::Store(StoreError::Conflict))
    }

    /// The one `results.imported` event of an import (Discord posts it once per import).
    async fn announce(&self, import: &Import, rows: Option<&[ImportRow]>) -> Result<(), RunError> {
        let marathon = self.marathon(&import.marathon_id).await?;
        let podiums = match rows {
            Some(rows) => {
                let runners: Vec<UserId> = rows.iter().map(|r| r.runner.runner_id.clone()).collect();
                let categories: HashMap<UserId, String> = self
                    .races
                    .race_profiles(&runners)
                    .await?
                    .into_iter()
                    .filter_map(|(id, profile)| Some((id, profile.category_on(marathon.date)?.label())))
                    .collect();
                podiums(rows, &categories)
            }
            None => Vec::new(),
        };
        let event = Envelope::new(
            PointsEvent::Imported(ResultsImported {
                import_id: import.id.to_string(),
                marathon_id: import.marathon_id.clone(),
                marathon_name: marathon.name.clone(),
                applied: import.applied,
                removed: import.removed,
                failed: import.failed(),
                podiums,
            }),
            self.clock.now(),
            Some(format!("import-{}", import.id)),
        );
        self.publisher
            .publish(&[event])
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RunError::Publish(e.to_string()))?;
        Ok(())
    }
}

/// The fastest three finishers overall, then per category (labels in order), by chip
/// time, ties by line. Runners without a category are on the overall podium only.
pub fn podiums(rows: &[ImportRow], categories: &HashMap<UserId, String>) -> Vec<Podium> {
    let mut finishers: Vec<&ImportRow> = rows
        .iter()
        .filter(|r| r.fields.status == ResultStatus::Finished && r.fields.chip.is_some())
        .collect();
    finishers.sort_by_key(|r| (r.fields.chip, r.line));
    let podium = |category: String, rows: Vec<&&ImportRow>| Podium {
        category,
        places: rows
            .into_iter()
            .take(3)
            .map(|r| PodiumPlace {
                runner_id: r.runner.runner_id.clone(),
                runner_name: r.runner.runner_name.as_str().to_owned(),
                chip_time: r.fields.chip.map(|c| c.display()).unwrap_or_default(),
            })
            .collect(),
    };
    let mut out = vec![podium("overall".into(), finishers.iter().collect())];
    let labels: BTreeSet<&String> = categories.values().collect();
    for label in labels {
        let in_category = finishers
            .iter()
            .filter(|r| categories.get(&r.runner.runner_id) == Some(label))
            .collect();
        out.push(podium(label.clone(), in_category));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::race::{Bib, FinishTime, ResultFields};

    fn row(line: u64, chip: u32) -> ImportRow {
        ImportRow {
            line,
            runner: RosterEntry {
                bib: Bib::new(line as u32).unwrap(),
                runner_id: UserId::generate(),
                runner_name: domain::UserName::parse(&format!("R{line}")).unwrap(),
            },
            fields: ResultFields::finished(FinishTime::from_seconds(chip)),
        }
    }

    #[test]
    fn podiums_are_the_fastest_three_overall_and_per_category() {
        let rows: Vec<ImportRow> = (2..=7).map(|l| row(l, 10_000 - l as u32 * 10)).collect();
        let mut categories = HashMap::new();
        categories.insert(rows[0].runner.runner_id.clone(), "F35".to_owned());
        categories.insert(rows[5].runner.runner_id.clone(), "MSEN".to_owned());
        categories.insert(rows[4].runner.runner_id.clone(), "MSEN".to_owned());
        let podiums = podiums(&rows, &categories);
        let names = |p: &Podium| p.places.iter().map(|x| x.runner_name.clone()).collect::<Vec<_>>();
        assert_eq!(podiums[0].category, "overall");
        assert_eq!(names(&podiums[0]), ["R7", "R6", "R5"], "fastest first");
        assert_eq!(
            (podiums[1].category.as_str(), names(&podiums[1])),
            ("F35", vec!["R2".to_owned()])
        );
        assert_eq!(
            (podiums[2].category.as_str(), names(&podiums[2])),
            ("MSEN", vec!["R7".to_owned(), "R6".to_owned()])
        );
    }
}
