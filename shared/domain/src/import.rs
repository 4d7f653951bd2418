//! Bulk results import (issue 16): an organizer uploads a timing system's results file;
//! a dry run validates every row against the marathon's roster and tells what would
//! change, writing nothing; a commit then writes each valid row through the same store
//! operation a single `PUT` uses. This module holds the import's state, its rules and the
//! row rules; reading the file (CSV) is results-import's.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::marathon::MarathonId;
use crate::ports::StoreError;
use crate::race::{Bib, FinishTime, ResultFields, ResultStatus, Splits};
use crate::user::UserId;

/// A runner of the marathon's roster, as a file's rows are matched against it (by bib).
pub use crate::entry::RosterEntry;

/// More rows than any marathon has finishers.
pub const MAX_ROWS: usize = 20_000;
/// 20,000 rows of a few splits each fit well below this.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// The row errors an import keeps (in file order); the count is always exact. A file with
/// more errors than this is the wrong file or the wrong export: the first ones say why.
pub const MAX_ERRORS_KEPT: usize = 1_000;

/// An import's id: a ULID, also its object's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImportId(String);

impl ImportId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ulid::Ulid::from_string(raw).ok().map(|id| Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the commit does with the marathon's results the file does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// Keep them: the file adds and corrects.
    #[default]
    Merge,
    /// Remove them: the file is the whole result list.
    Replace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    /// Created; the file is not uploaded (or not read) yet.
    AwaitingUpload,
    /// The dry run is done: `summary` and `errors` say what a commit would do.
    Validated,
    /// The file as a whole cannot be read (`file_error` says why); upload another.
    Rejected,
    /// The commit is applying the rows.
    Committing,
    /// Every valid row is applied (and, for replace, every other result removed).
    Committed,
}

/// One refused row: the file's line (1 is the header), the column as the file names it,
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// What the dry run found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Data rows in the file.
    pub rows: u32,
    pub valid: u32,
    /// Rows with at least one error (never applied).
    pub failed: u32,
    /// Valid rows for runners without a result yet.
    pub new: u32,
    /// Valid rows that change a runner's result.
    pub corrections: u32,
    /// Valid rows that say what the result already says (nothing is written for them).
    pub unchanged: u32,
    /// Results the file does not name, removed by a replace import.
    pub removals: u32,
}

/// One import, as stored and as its status reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub id: ImportId,
    pub marathon_id: MarathonId,
    pub organizer_id: UserId,
    pub mode: ImportMode,
    pub state: ImportState,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Why the file as a whole was refused (state `rejected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ImportSummary>,
    /// The first `MAX_ERRORS_KEPT` row errors, in file order.
    #[serde(default)]
    pub errors: Vec<RowError>,
    /// How many row errors the dry run found (`errors` may keep fewer).
    #[serde(default)]
    pub error_count: u32,
    /// The validated file's SHA-256 (hex): the commit applies that file and no other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Valid rows the commit has dealt with, in file order (written, or already as the
    /// file says); the commit resumes after them.
    #[serde(default)]
    pub applied: u32,
    /// Results removed by a replace commit so far.
    #[serde(default)]
    pub removed: u32,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub committed_at: Option<OffsetDateTime>,
}

impl Import {
    pub fn new(
        id: ImportId,
        marathon: MarathonId,
        organizer: UserId,
        mode: ImportMode,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            marathon_id: marathon,
            organizer_id: organizer,
            mode,
            state: ImportState::AwaitingUpload,
            created_at: now,
            updated_at: now,
            file_error: None,
            summary: None,
            errors: Vec::new(),
            error_count: 0,
            sha256: None,
            applied: 0,
            removed: 0,
            committed_at: None,
        }
    }

    /// Rows refused by validation.
    pub fn failed(&self) -> u32 {
        self.summary.map_or(0, |s| s.failed)
    }

    /// Valid rows the commit has not dealt with yet (all of them before the commit).
    pub fn pending(&self) -> u32 {
        self.summary.map_or(0, |s| s.valid.saturating_sub(self.applied))
    }
}

/// Imports as stored (the Races table in production).
#[async_trait::async_trait]
pub trait ImportStore: Send + Sync {
    /// `Conflict` if the id exists.
    async fn create(&self, import: &Import) -> Result<(), StoreError>;

    async fn get(&self, marathon: &MarathonId, id: &ImportId) -> Result<Option<Import>, StoreError>;

    /// Stores a dry run's outcome (state `validated` or `rejected`, summary, errors, file
    /// hash); `Conflict` once a commit has begun (the file is then fixed).
    async fn save_dry_run(&self, import: &Import) -> Result<(), StoreError>;

    /// `validated` -> `committing`; `Conflict` from any other state.
    async fn begin_commit(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// The commit's progress; never moves backwards (a slower, older run cannot undo a
    /// newer one's count).
    async fn progress(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        applied: u32,
        removed: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// `committing` -> `committed`; Ok if it already is.
    async fn finish(
        &self,
        marathon: &MarathonId,
        id: &ImportId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// The imports bucket as record-api uses it (S3 in production): an upload URL for the
/// file, and the commit marker.
#[async_trait::async_trait]
pub trait ImportUploads: Send + Sync {
    /// A URL the client PUTs the object at `key` to (signed for `Content-Type:
    /// text/csv`), usable for `expires`.
    async fn presign_put(&self, key: &str, expires: std::time::Duration) -> Result<String, StoreError>;

    /// Writes the (empty) marker object at `key`; writing it again is harmless.
    async fn put_marker(&self, key: &str) -> Result<(), StoreError>;
}

/// Where an import's objects live in the imports bucket: the file, and the marker whose
/// creation asks results-import to commit (the same trigger reads both).
pub const OBJECT_PREFIX: &str = "imports/";
const FILE_SUFFIX: &str = ".csv";
const COMMIT_SUFFIX: &str = ".commit";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportObject {
    File,
    Commit,
}

pub fn file_key(marathon: &MarathonId, import: &ImportId) -> String {
    format!("{OBJECT_PREFIX}{marathon}/{import}{FILE_SUFFIX}")
}

pub fn commit_key(marathon: &MarathonId, import: &ImportId) -> String {
    format!("{OBJECT_PREFIX}{marathon}/{import}{COMMIT_SUFFIX}")
}

/// The import an object key belongs to, and which object it is; None for any other key.
pub fn parse_object_key(key: &str) -> Option<(MarathonId, ImportId, ImportObject)> {
    let rest = key.strip_prefix(OBJECT_PREFIX)?;
    let (marathon, name) = rest.split_once('/')?;
    let (import, object) = if let Some(id) = name.strip_suffix(FILE_SUFFIX) {
        (id, ImportObject::File)
    } else {
        (name.strip_suffix(COMMIT_SUFFIX)?, ImportObject::Commit)
    };
    Some((MarathonId::parse(marathon)?, ImportId::parse(import)?, object))
}

/// A file's row as read: its line and its cells by column, as text (the reader trims).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawRow {
    pub line: u64,
    pub bib: String,
    pub status: String,
    pub chip_time: String,
    pub gun_time: String,
    /// (label, cell) for each split column, in the file's order.
    pub splits: Vec<(String, String)>,
}

/// The file's own names for the columns, for the errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNames {
    pub bib: String,
    pub status: String,
    pub chip_time: String,
    pub gun_time: String,
    /// Split label -> the column's header.
    pub splits: BTreeMap<String, String>,
}

impl ColumnNames {
    fn of_field(&self, field: &str) -> String {
        match field {
            "bib" => self.bib.clone(),
            "status" => self.status.clone(),
            "chip_time" => self.chip_time.clone(),
            "gun_time" => self.gun_time.clone(),
            _ => "splits".into(),
        }
    }
}

/// A valid row: whose result it is and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub runner: RosterEntry,
    pub fields: ResultFields,
}

/// Every row checked: the valid ones in file order, and the errors (all of them, in
/// file order; the caller keeps the first `MAX_ERRORS_KEPT`). A row with an error is never
/// applied. A bib given twice refuses both rows (which one is right is the organizer's
/// call), each error naming the other line.
pub fn validate(
    rows: &[RawRow],
    columns: &ColumnNames,
    roster: &[RosterEntry],
) -> (Vec<ImportRow>, Vec<RowError>) {
    let by_bib: HashMap<Bib, &RosterEntry> = roster.iter().map(|r| (r.bib, r)).collect();
    let mut lines_of: HashMap<Bib, Vec<u64>> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for row in rows {
        let mut row_errors = Vec::new();
        let mut error = |field: &str, reason: String| {
            row_errors.push(RowError {
                line: row.line,
                column: columns.of_field(field),
                reason,
            })
        };
        let bib = match Bib::parse(&row.bib) {
            Ok(bib) => {
                lines_of.entry(bib).or_default().push(row.line);
                match by_bib.get(&bib) {
                    Some(runner) => Some((*runner).clone()),
                    None => {
                        error(
                            "bib",
                            format!("unknown bib: no runner of this marathon has bib {bib}"),
                        );
                        None
                    }
                }
            }
            Err(e) => {
                error("bib", format!("bad bib {:?}: {}", row.bib, e.message));
                None
            }
        };
        let status = match ResultStatus::parse(&row.status) {
            Ok(status) => Some(status),
            Err(e) => {
                error("status", format!("bad status {:?}: {}", row.status, e.message));
                None
            }
        };
        let mut time = |field: &str, raw: &str| -> Option<Option<FinishTime>> {
            if raw.is_empty() {
                return Some(None);
            }
            match FinishTime::parse_field(field, raw) {
                Ok(t) => Some(Some(t)),
                Err(e) => {
                    error(field, format!("bad time {raw:?}: {}", e.message));
                    None
                }
            }
        };
        let chip = time("chip_time", &row.chip_time);
        let gun = time("gun_time", &row.gun_time);
        let mut split_times = Vec::new();
        let mut splits_ok = true;
        for (label, raw) in &row.splits {
            if raw.is_empty() {
                continue;
            }
            match FinishTime::parse_field("splits", raw) {
                Ok(t) => split_times.push((label.clone(), t)),
                Err(e) => {
                    splits_ok = false;
                    row_errors.push(RowError {
                        line: row.line,
                        column: columns
                            .splits
                            .get(label)
                            .cloned()
                            .unwrap_or_else(|| label.clone()),
                        reason: format!("bad time {raw:?}: {}", e.message),
                    });
                }
            }
        }
        let splits = if splits_ok {
            match Splits::new(split_times) {
                Ok(s) => Some(s),
                Err(e) => {
                    row_errors.push(RowError {
                        line: row.line,
                        column: "splits".into(),
                        reason: e.message,
                    });
                    None
                }
            }
        } else {
            None
        };
        if let (Some(status), Some(chip), Some(gun), Some(splits)) = (status, chip, gun, splits) {
            match ResultFields::new(status, chip, gun, splits) {
                Ok(fields) => {
                    if let Some(runner) = bib
                        && row_errors.is_empty()
                    {
                        checked.push(ImportRow {
                            line: row.line,
                            runner,
                            fields,
                        });
                    }
                }
                Err(mismatch) => {
                    for e in mismatch.0 {
                        row_errors.push(RowError {
                            line: row.line,
                            column: columns.of_field(&e.field),
                            reason: format!(
                                "status {} and times do not match: {} {}",
                                status, e.field, e.message
                            ),
                        });
                    }
                }
            }
        }
        errors.extend(row_errors);
    }
    // a bib on more than one line: every such line is refused
    let duplicates: HashMap<u64, Vec<u64>> = lines_of
        .values()
        .filter(|lines| lines.len() > 1)
        .flat_map(|lines| {
            lines
                .iter()
                .map(move |l| (*l, lines.iter().copied().filter(|o| o != l).collect()))
        })
        .collect();
    if !duplicates.is_empty() {
        checked.retain(|row| !duplicates.contains_key(&row.line));
        for row in rows {
            if let Some(others) = duplicates.get(&row.line) {
                let others: Vec<String> = others.iter().map(u64::to_string).collect();
                errors.push(RowError {
                    line: row.line,
                    column: columns.bib.clone(),
                    reason: format!(
                        "duplicate bib {}: also on line {}",
                        row.bib.trim(),
                        others.join(", ")
                    ),
                });
            }
        }
        errors.sort_by_key(|e| e.line);
    }
    (checked, errors)
}

/// Rows with at least one error.
pub fn failed_rows(errors: &[RowError]) -> u32 {
    let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    lines.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::UserName;

    fn roster(n: u32) -> Vec<RosterEntry> {
        (1..=n)
            .map(|b| RosterEntry {
                bib: Bib::new(b).unwrap(),
                runner_id: UserId::generate(),
                runner_name: UserName::parse(&format!("Runner {b}")).unwrap(),
            })
            .collect()
    }

    fn columns() -> ColumnNames {
        ColumnNames {
            bib: "Bib".into(),
            status: "Status".into(),
            chip_time: "Chip Time".into(),
            gun_time: "Gun Time".into(),
            splits: [("10K".to_owned(), "Split 10K".to_owned())].into(),
        }
    }

    fn row(line: u64, bib: &str, status: &str, chip: &str) -> RawRow {
        RawRow {
            line,
            bib: bib.into(),
            status: status.into(),
            chip_time: chip.into(),
            ..RawRow::default()
        }
    }

    #[test]
    fn valid_rows_are_matched_to_the_roster_by_bib() {
        let roster = roster(3);
        let rows = [
            row(2, "001", "FIN", "2:58:07.3"),
            row(3, "2", "dnf", ""),
            RawRow {
                gun_time: "3:01:00".into(),
                splits: vec![("10K".into(), "0:42:00".into())],
                ..row(4, "3", "finished", "3:00:00")
            },
        ];
        let (valid, errors) = validate(&rows, &columns(), &roster);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(valid.len(), 3);
        assert_eq!(valid[0].runner.runner_id, roster[0].runner_id);
        assert_eq!(valid[0].fields.chip.unwrap().seconds(), 10688, "rounded up");
        assert_eq!(valid[1].fields.status, ResultStatus::Dnf);
        assert_eq!(valid[2].fields.splits.as_slice().len(), 1);
    }

    #[test]
    fn each_kind_of_error_names_the_line_the_column_and_the_reason() {
        let rows = [
            row(2, "99", "FIN", "2:00:00"),
            row(3, "1", "FIN", "2:61:00"),
            row(4, "2", "FIN", ""),
            row(5, "3", "DNS", "2:00:00"),
            row(6, "4", "walked", "2:00:00"),
            row(7, "5", "FIN", "2:00:00"),
            row(8, "5", "FIN", "2:00:01"),
            row(9, "x", "FIN", "2:00:00"),
        ];
        let (valid, errors) = validate(&rows, &columns(), &roster(5));
        assert!(valid.is_empty(), "{valid:?}");
        let at = |line: u64| errors.iter().filter(|e| e.line == line).collect::<Vec<_>>();
        assert!(at(2)[0].reason.starts_with("unknown bib"), "{:?}", at(2));
        assert_eq!(at(2)[0].column, "Bib");
        assert_eq!(at(3)[0].column, "Chip Time");
        assert!(at(3)[0].reason.starts_with("bad time"));
        assert_eq!(at(4)[0].column, "Chip Time");
        assert!(at(4)[0].reason.contains("do not match"), "{:?}", at(4));
        assert!(at(5)[0].reason.contains("do not match"), "{:?}", at(5));
        assert_eq!(at(6)[0].column, "Status");
        assert_eq!(at(7)[0].reason, "duplicate bib 5: also on line 8");
        assert_eq!(at(8)[0].reason, "duplicate bib 5: also on line 7");
        assert!(at(9)[0].reason.starts_with("bad bib"));
        assert_eq!(failed_rows(&errors), 8);
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert!(lines.is_sorted(), "file order");
    }

    #[test]
    fn object_keys_name_their_import() {
        let (m, i) = (MarathonId::generate(), ImportId::generate());
        assert_eq!(
            parse_object_key(&file_key(&m, &i)),
            Some((m.clone(), i.clone(), ImportObject::File))
        );
        assert_eq!(
            parse_object_key(&commit_key(&m, &i)),
            Some((m.clone(), i.clone(), ImportObject::Commit))
        );
        for other in [
            "imports/x/y.csv",
            "site/index.html",
            &format!("imports/{m}/{i}.txt"),
        ] {
            assert_eq!(parse_object_key(other), None, "{other}");
        }
    }
}
