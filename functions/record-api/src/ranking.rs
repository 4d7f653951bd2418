//! The ranking's places and its paging. A marathon's results are read in ranking order
//! (finishers by chip time, then the unranked); places are counted on the way, so every
//! row knows its overall place and its category place whatever the filter. The cursor
//! carries where the read stopped and the counts so far, so the next page goes on from
//! there: stable across pages (a row is never shown twice or skipped for a filter), and
//! a page costs only the rows it reads.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::FieldError;
use domain::race::{Bib, Category, ResultStatus};
use domain::result::OfficialResult;
use serde::{Deserialize, Serialize};

/// Far beyond any cursor this listing gives out (a position and at most 45 categories).
const MAX_CURSOR_LEN: usize = 4096;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankCursor {
    /// The position of the last row read (`RankedRow::position`); none at the start.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Finishers read so far.
    #[serde(rename = "o", default)]
    finishers: u64,
    /// Finishers read so far per category label.
    #[serde(rename = "c", default)]
    categories: BTreeMap<String, u64>,
}

impl RankCursor {
    pub fn decode(raw: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("cursor", "is not a cursor this listing gave out");
        if raw.len() > MAX_CURSOR_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let labels_ok = cursor
            .categories
            .keys()
            .all(|label| Category::parse(label).is_ok_and(|c| c.label() == *label));
        if !labels_ok || cursor.after.as_deref().is_some_and(str::is_empty) {
            return Err(invalid());
        }
        Ok(cursor)
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serializes"))
    }

    /// Counts `result` (the next row in ranking order) and gives its overall and category
    /// places: None for a result without a rank (not a finish).
    pub fn place(&mut self, result: &OfficialResult) -> (Option<u64>, Option<u64>) {
        if result.status != ResultStatus::Finished || result.finish_seconds.is_none() {
            return (None, None);
        }
        self.finishers += 1;
        let category = result.category.map(|c| {
            let count = self.categories.entry(c.label()).or_default();
            *count += 1;
            *count
        });
        (Some(self.finishers), category)
    }
}

/// `q`: an exact bib when it is a number, otherwise part of a name (any case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    Bib(Bib),
    Name(String),
}

impl Search {
    /// None for a search of nothing (white space only): the whole ranking.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        if raw.chars().count() > 100 {
            return Err(FieldError::new("q", "must be at most 100 characters"));
        }
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        // a number that is no bib ("0") is searched as text: it matches no name, no error
        Ok(Some(match Bib::parse(raw) {
            Ok(bib) if raw.bytes().all(|b| b.is_ascii_digit()) => Self::Bib(bib),
            _ => Self::Name(raw.to_lowercase()),
        }))
    }

    pub fn matches(&self, result: &OfficialResult) -> bool {
        match self {
            Self::Bib(bib) => result.bib == Some(*bib),
            Self::Name(part) => result.runner_name.as_str().to_lowercase().contains(part.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::UserId;
    use domain::marathon::MarathonId;
    use domain::race::Splits;
    use domain::user::UserName;
    use time::macros::{date, datetime};

    fn result(name: &str, status: ResultStatus, category: Option<&str>, bib: u32) -> OfficialResult {
        OfficialResult {
            marathon_id: MarathonId::generate(),
            marathon_name: "Seoul".into(),
            marathon_date: date!(2027 - 03 - 21),
            runner_id: UserId::generate(),
            runner_name: UserName::parse(name).unwrap(),
            finish_seconds: (status == ResultStatus::Finished).then_some(10_800),
            finish_time: None,
            bonus_points: 0,
            points: 0,
            version: 1,
            recorded_at: datetime!(2027-03-21 12:00 UTC),
            updated_at: datetime!(2027-03-21 12:00 UTC),
            correlation_id: None,
            status,
            gun_seconds: None,
            splits: Splits::default(),
            bib: Bib::new(bib),
            category: category.map(|c| Category::parse(c).unwrap()),
            import_id: None,
            age_grade: None,
        }
    }

    #[test]
    fn places_count_finishers_overall_and_per_category_across_pages() {
        let rows = [
            result("A", ResultStatus::Finished, Some("F40"), 1),
            result("B", ResultStatus::Finished, Some("MSEN"), 2),
            result("C", ResultStatus::Finished, None, 3),
            result("D", ResultStatus::Finished, Some("F40"), 4),
            result("E", ResultStatus::Dnf, Some("F40"), 5),
        ];
        let mut cursor = RankCursor::default();
        let first: Vec<_> = rows[..2].iter().map(|r| cursor.place(r)).collect();
        cursor.after = Some("000100#x".into());
        // the next page starts from what the cursor carried
        let mut next = RankCursor::decode(&cursor.encode()).unwrap();
        assert_eq!(next, cursor);
        let rest: Vec<_> = rows[2..].iter().map(|r| next.place(r)).collect();
        assert_eq!(first, [(Some(1), Some(1)), (Some(2), Some(1))]);
        assert_eq!(rest, [(Some(3), None), (Some(4), Some(2)), (None, None)]);
    }

    #[test]
    fn cursors_not_given_out_are_refused() {
        let forged = |json: &str| URL_SAFE_NO_PAD.encode(json);
        for bad in [
            "not base64!".to_owned(),
            forged("{\"o\":-1}"),
            forged("{\"c\":{\"F41\":1}}"),
            forged("{\"c\":{\"f40\":1}}"),
            forged("{\"a\":\"\"}"),
            forged("{\"x\":1}"),
            "A".repeat(MAX_CURSOR_LEN + 1),
        ] {
            assert_eq!(RankCursor::decode(&bad).unwrap_err().field, "cursor", "{bad}");
        }
        assert!(RankCursor::decode(&forged("{\"a\":\"DNF#x\",\"o\":3,\"c\":{\"F40\":1}}")).is_ok());
    }

    #[test]
    fn search_by_bib_or_part_of_a_name() {
        let kim = result("Kim Min-ji", ResultStatus::Finished, None, 42);
        let search = |q: &str| Search::parse(q).unwrap().expect("a search");
        assert!(search("0042").matches(&kim));
        assert!(!search("4").matches(&kim));
        assert!(search(" min-J ").matches(&kim));
        assert!(!search("Lee").matches(&kim));
        assert_eq!(Search::parse(" ").unwrap(), None);
        assert!(!search("0").matches(&kim), "no bib 0: no row, no error");
        assert_eq!(Search::parse(&"x".repeat(101)).unwrap_err().field, "q");
    }
}
