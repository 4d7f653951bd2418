//! Reading a results file: CSV as timing systems export it (RaceResult, Webscorer,
//! RunSignup): UTF-8 with or without a byte order mark, comma, semicolon or tab
//! separated (the separator the header line uses most), quoted fields, a header row
//! naming the columns. Columns are found by name, whatever their order; columns we do not
//! use (name, club, place...) are ignored. Parsing is the `csv` crate's.

use std::collections::BTreeMap;

use domain::import::{ColumnNames, MAX_ROWS, RawRow};

/// A file that cannot be imported at all (as opposed to a row with an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is not UTF-8 text (line {line}); export it as UTF-8 CSV")]
    NotUtf8 { line: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the header names no {0} column (accepted names: {1})")]
    MissingColumn(&'static str, String),
    #[error("the header names the {0} column twice")]
    DuplicateColumn(String),
    #[error("the file has more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("line {line}: {message}")]
    Malformed { line: u64, message: String },
}

/// The columns we read, each with the header names timing systems use for it
/// (compared lowercase, spaces, dashes and dots as underscores).
const BIB: &[&str] = &[
    "bib",
    "bib_number",
    "bib_no",
    "bibno",
    "race_number",
    "number",
    "no",
];
const STATUS: &[&str] = &["status", "result_status", "state"];
const CHIP: &[&str] = &[
    "chip_time",
    "chip",
    "chiptime",
    "net_time",
    "nettime",
    "finish_time",
    "time",
];
const GUN: &[&str] = &["gun_time", "gun", "guntime", "gross_time", "clock_time"];
const EMAIL: &[&str] = &["email", "runner_email", "e_mail"];
/// A split column: "split_<label>" or "split <label>" ("Split 10K" is the split "10K").
const SPLIT_PREFIX: &str = "split_";

/// The file's columns and its data rows (blank lines skipped), cells trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsFile {
    pub columns: ColumnNames,
    /// The runner email column's header, when the file has one (read, not matched: bibs
    /// say whose row it is).
    pub email_column: Option<String>,
    pub rows: Vec<RawRow>,
}

fn normalize(header: &str) -> String {
    header
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if matches!(c, ' ' | '-' | '.') { '_' } else { c })
        .collect()
}

/// The separator the header line uses most, outside quotes.
fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let mut quoted = false;
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(sep, _)| *sep == b) {
            c.1 += 1;
        }
    }
    // ties (none at all: a one-column file) go to the comma
    counts
        .iter()
        .max_by_key(|(sep, n)| (*n, *sep == b','))
        .map_or(b',', |(sep, _)| *sep)
}

/// The file's lines (1-based) at byte offsets, counted forwards once: the csv crate's own
/// line count skips blank lines, and the organizer's editor does not.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line at `byte` (never before the last one asked for).
    fn at(&mut self, byte: u64) -> u64 {
        // a record's position is where its read began, before the blank lines it skipped
        let mut end = (byte as usize).clamp(self.at, self.text.len());
        end += self.text[end..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        self.line += self.text[self.at..end].iter().filter(|b| **b == b'\n').count() as u64;
        self.at = end;
        self.line
    }
}

pub fn read(bytes: &[u8]) -> Result<ResultsFile, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| FileError::NotUtf8 {
        line: 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64,
    })?;
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(text))
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let malformed = |e: csv::Error| FileError::Malformed {
        line: e.position().map_or(1, |p| Lines::new(text).at(p.byte())),
        message: match e.kind() {
            csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
            _ => e.to_string(),
        },
    };
    let headers = reader.headers().map_err(malformed)?.clone();
    let mut found: BTreeMap<&'static str, (usize, String)> = BTreeMap::new();
    let mut splits: Vec<(usize, String, String)> = Vec::new();
    for (index, header) in headers.iter().enumerate() {
        let name = normalize(header);
        let column = [
            ("bib", BIB),
            ("status", STATUS),
            ("chip_time", CHIP),
            ("gun_time", GUN),
            ("email", EMAIL),
        ]
        .into_iter()
        .find(|(_, names)| names.contains(&name.as_str()));
        if let Some((field, _)) = column {
            if found.insert(field, (index, header.to_owned())).is_some() {
                return Err(FileError::DuplicateColumn(header.to_owned()));
            }
        } else if name.starts_with(SPLIT_PREFIX) {
            // the label as the file writes it, after "split" and its separator
            let label = header.trim()[SPLIT_PREFIX.len()..].trim().to_owned();
            if !label.is_empty() {
                splits.push((index, label, header.to_owned()));
            }
        }
    }
    let column = |field: &'static str, names: &[&str]| {
        found
            .get(field)
            .cloned()
            .ok_or_else(|| FileError::MissingColumn(field, names.join(", ")))
    };
    let (bib, status, chip) = (
        column("bib", BIB)?,
        column("status", STATUS)?,
        column("chip_time", CHIP)?,
    );
    let gun = found.get("gun_time").cloned();
    let columns = ColumnNames {
        bib: bib.1.clone(),
        status: status.1.clone(),
        chip_time: chip.1.clone(),
        gun_time: gun
            .as_ref()
            .map_or_else(|| "gun_time".to_owned(), |g| g.1.clone()),
        splits: splits
            .iter()
            .map(|(_, label, header)| (label.clone(), header.clone()))
            .collect(),
    };
    let mut rows = Vec::new();
    let mut lines = Lines::new(text);
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let cell = |index: usize| record.get(index).unwrap_or_default().to_owned();
        rows.push(RawRow {
            line: record.position().map_or(0, |p| lines.at(p.byte())),
            bib: cell(bib.0),
            status: cell(status.0),
            chip_time: cell(chip.0),
            gun_time: gun.as_ref().map_or_else(String::new, |g| cell(g.0)),
            splits: splits
                .iter()
                .map(|(index, label, _)| (label.clone(), cell(*index)))
                .collect(),
        });
    }
    Ok(ResultsFile {
        columns,
        email_column: found.get("email").map(|e| e.1.clone()),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_semicolon_file_with_a_bom_and_quotes_reads_by_column_name() {
        let file = "\u{feff}Place;Name;\"Bib\";Status;Chip Time;Gun Time;Split 10K;Email\n\
                    1;\"Kim; Min-su\";0042;FIN;2:58:07,3;2:58:30;0:41:10;kim@example.com\n\
                    \n\
                    2;Lee;43;DNF;;;0:45:00;\n";
        let read = read(file.as_bytes()).unwrap();
        assert_eq!(read.columns.bib, "Bib");
        assert_eq!(read.columns.chip_time, "Chip Time");
        assert_eq!(read.email_column.as_deref(), Some("Email"));
        assert_eq!(read.rows.len(), 2, "the blank line is skipped");
        let first = &read.rows[0];
        assert_eq!(
            (first.line, first.bib.as_str(), first.status.as_str()),
            (2, "0042", "FIN")
        );
        assert_eq!(first.chip_time, "2:58:07,3");
        assert_eq!(first.gun_time, "2:58:30");
        assert_eq!(first.splits, [("10K".to_owned(), "0:41:10".to_owned())]);
        assert_eq!(read.rows[1].line, 4, "lines count the blank one");
        assert_eq!(read.rows[1].chip_time, "");
    }

    #[test]
    fn a_comma_file_without_bom_and_without_optional_columns() {
        let read = read(b"bib,status,chip_time\n1,finished,3:00:00\r\n2,dns,\r\n").unwrap();
        assert_eq!(read.rows.len(), 2);
        assert_eq!(read.rows[1].status, "dns");
        assert_eq!(read.rows[0].gun_time, "");
        assert!(read.columns.splits.is_empty());
    }

    #[test]
    fn whole_file_errors() {
        assert_eq!(read(b"\xEF\xBB\xBF  \n"), Err(FileError::Empty));
        assert!(matches!(
            read(b"bib;status\n1;FIN\n"),
            Err(FileError::MissingColumn("chip_time", _))
        ));
        assert_eq!(
            read(b"bib,bib number,status,chip\n"),
            Err(FileError::DuplicateColumn("bib number".into()))
        );
        assert_eq!(
            read(b"bib,status,chip\n1,FIN,\xff\n"),
            Err(FileError::NotUtf8 { line: 2 })
        );
        let mut big = String::from("bib,status,chip\n");
        for i in 0..=MAX_ROWS {
            big.push_str(&format!("{i},FIN,3:00:00\n"));
        }
        assert_eq!(read(big.as_bytes()), Err(FileError::TooManyRows));
    }

    /// The sample files (tests/fixtures/results) through the reader and the row rules.
    #[test]
    fn the_sample_files_read_and_validate_as_documented() {
        use domain::import::{RosterEntry, validate};
        use domain::race::{Bib, ResultStatus};
        let roster: Vec<RosterEntry> = [42, 17, 103, 250, 311]
            .into_iter()
            .map(|b| RosterEntry {
                bib: Bib::new(b).unwrap(),
                runner_id: domain::UserId::generate(),
                runner_name: domain::UserName::parse(&format!("Runner {b}")).unwrap(),
            })
            .collect();
        let raceresult = read(include_bytes!(
            "../../../tests/fixtures/results/raceresult-semicolon-bom.csv"
        ))
        .unwrap();
        let (valid, errors) = validate(&raceresult.rows, &raceresult.columns, &roster);
        assert!(errors.is_empty(), "{errors:?}");
        let statuses: Vec<ResultStatus> = valid.iter().map(|r| r.fields.status).collect();
        use ResultStatus::*;
        assert_eq!(statuses, [Finished, Finished, Dnf, Dns, Dq]);
        assert_eq!(
            valid[0].fields.chip.unwrap().display(),
            "2:08:32",
            "2:08:31,4 rounds up"
        );
        assert_eq!(valid[0].fields.splits.as_slice().len(), 2);

        let webscorer = read(include_bytes!(
            "../../../tests/fixtures/results/webscorer-comma.csv"
        ))
        .unwrap();
        assert_eq!(webscorer.email_column.as_deref(), Some("email"));
        let (valid, errors) = validate(&webscorer.rows, &webscorer.columns, &roster);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            valid[1].fields.chip.unwrap().display(),
            "2:09:02",
            "seconds as a number"
        );

        let planted = read(include_bytes!(
            "../../../tests/fixtures/results/planted-errors.csv"
        ))
        .unwrap();
        let (valid, errors) = validate(&planted.rows, &planted.columns, &roster);
        assert!(valid.is_empty());
        let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            found,
            [
                (2, "Bib"),
                (3, "Bib"),
                (4, "Bib"),
                (5, "Chip Time"),
                (6, "Chip Time")
            ],
            "{errors:#?}"
        );
    }
}
