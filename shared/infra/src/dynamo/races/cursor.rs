//! Listings and their paging cursors. A cursor is the query's last evaluated key as JSON
//! (string attributes only), base64url without padding. It is opaque to clients, but they
//! can send anything back, so a cursor is accepted only if it is exactly a key of the
//! query it is given to: DynamoDB would answer anything else with a ValidationException,
//! which is a server error, while a bad cursor is the client's mistake.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::ports::StoreError;

use crate::dynamo::{Item, s};

/// Keys are short; anything much longer is not ours.
const MAX_CURSOR_LEN: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Index {
    Table,
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    pub(super) fn name(self) -> Option<&'static str> {
        match self {
            Self::Table => None,
            Self::Gsi1 => Some("gsi1"),
            Self::Gsi2 => Some("gsi2"),
            Self::Gsi3 => Some("gsi3"),
        }
    }

    pub(super) fn partition_attr(self) -> &'static str {
        match self {
            Self::Table => "pk",
            Self::Gsi1 => "gsi1pk",
            Self::Gsi2 => "gsi2pk",
            Self::Gsi3 => "gsi3pk",
        }
    }

    pub(super) fn sort_attr(self) -> &'static str {
        match self {
            Self::Table => "sk",
            Self::Gsi1 => "gsi1sk",
            Self::Gsi2 => "gsi2sk",
            Self::Gsi3 => "gsi3sk",
        }
    }

    /// The attributes of a last evaluated key: the table's key, plus the index's.
    fn key_attrs(self) -> Vec<&'static str> {
        let mut attrs = vec!["pk", "sk"];
        if self != Self::Table {
            attrs.extend([self.partition_attr(), self.sort_attr()]);
        }
        attrs
    }
}

/// The sort key part of a listing's key condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SortCondition {
    /// The whole partition.
    All,
    BeginsWith(&'static str),
    AtLeast(String),
    Below(String),
}

impl SortCondition {
    fn holds(&self, value: &str) -> bool {
        match self {
            Self::All => true,
            Self::BeginsWith(prefix) => value.starts_with(prefix),
            Self::AtLeast(bound) => value >= bound.as_str(),
            Self::Below(bound) => value < bound.as_str(),
        }
    }
}

/// One query: an index, one partition of it, a sort condition and an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listing {
    pub index: Index,
    pub partition: String,
    pub sort: SortCondition,
    pub forward: bool,
}

impl Listing {
    pub(super) fn new(index: Index, partition: String, sort: SortCondition, forward: bool) -> Self {
        Self {
            index,
            partition,
            sort,
            forward,
        }
    }

    /// The cursor for the position after `item` (a last evaluated key, or a whole item of
    /// this listing: only its key attributes are kept).
    pub(super) fn cursor_after(&self, item: &Item) -> Result<String, StoreError> {
        let mut key = BTreeMap::new();
        for attr in self.index.key_attrs() {
            let value = item
                .get(attr)
                .and_then(|v| v.as_s().ok())
                .ok_or_else(|| StoreError::Corrupt(format!("item without string key attribute {attr}")))?;
            key.insert(attr, value.as_str());
        }
        let json = serde_json::to_vec(&key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(URL_SAFE_NO_PAD.encode(json))
    }

    /// The exclusive start key a cursor stands for, if it is one of this listing's keys.
    pub(super) fn start_key(&self, cursor: &str) -> Result<Item, StoreError> {
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(StoreError::InvalidCursor);
        }
        let json = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::InvalidCursor)?;
        let key: BTreeMap<String, String> =
            serde_json::from_slice(&json).map_err(|_| StoreError::InvalidCursor)?;
        let mut expected = self.index.key_attrs();
        expected.sort_unstable();
        let attrs: Vec<&str> = key.keys().map(String::as_str).collect();
        // BTreeMap keys are sorted, so this compares the sets
        let valid = attrs == expected
            && key.values().all(|v| !v.is_empty())
            && key[self.index.partition_attr()] == self.partition
            && self.sort.holds(&key[self.index.sort_attr()]);
        if !valid {
            return Err(StoreError::InvalidCursor);
        }
        Ok(key.into_iter().map(|(attr, value)| (attr, s(value))).collect())
    }

    /// `KeyConditionExpression` and its values.
    pub(super) fn key_condition(&self) -> (String, Vec<(&'static str, AttributeValue)>) {
        let (pk, sk) = (self.index.partition_attr(), self.index.sort_attr());
        let mut values = vec![(":pk", s(self.partition.clone()))];
        let sort = match &self.sort {
            SortCondition::All => None,
            SortCondition::BeginsWith(prefix) => Some((format!("begins_with({sk}, :sk)"), s(*prefix))),
            SortCondition::AtLeast(bound) => Some((format!("{sk} >= :sk"), s(bound.clone()))),
            SortCondition::Below(bound) => Some((format!("{sk} < :sk"), s(bound.clone()))),
        };
        let mut expression = format!("{pk} = :pk");
        if let Some((condition, value)) = sort {
            expression = format!("{expression} AND {condition}");
            values.push((":sk", value));
        }
        (expression, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> Listing {
        Listing::new(Index::Gsi3, "RANK#M1".into(), SortCondition::All, true)
    }

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), s(*v))).collect()
    }

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_cursor_round_trips_to_the_key_it_was_made_from() {
        let key = item(&[
            ("pk", "MARATHON#M1"),
            ("sk", "RESULT#R1"),
            ("gsi3pk", "RANK#M1"),
            ("gsi3sk", "000100#R1"),
        ]);
        let mut whole = key.clone();
        whole.insert("points".into(), AttributeValue::N("5".into()));
        let cursor = results().cursor_after(&whole).unwrap();
        assert!(!cursor.contains('=') && !cursor.contains('+') && !cursor.contains('/'));
        assert_eq!(results().start_key(&cursor).unwrap(), key);
    }

    #[test]
    fn cursors_that_are_not_keys_of_the_listing_are_refused() {
        let listing = results();
        let bad = [
            "not base64!".to_owned(),
            encode("not json"),
            encode("[1,2]"),
            encode(r#"{"pk":"MARATHON#M1","sk":"RESULT#R1"}"#),
            encode(r#"{"pk":"MARATHON#M1","sk":"RESULT#R1","gsi3pk":"RANK#M2","gsi3sk":"1#R"}"#),
            encode(r#"{"pk":"MARATHON#M1","sk":"RESULT#R1","gsi3pk":"RANK#M1","gsi3sk":1}"#),
            encode(r#"{"pk":"","sk":"RESULT#R1","gsi3pk":"RANK#M1","gsi3sk":"1#R"}"#),
            encode(r#"{"pk":"M","sk":"R","gsi3pk":"RANK#M1","gsi3sk":"1#R","extra":"x"}"#),
            "A".repeat(MAX_CURSOR_LEN + 1),
        ];
        for cursor in bad {
            assert!(
                matches!(listing.start_key(&cursor), Err(StoreError::InvalidCursor)),
                "{cursor}"
            );
        }
    }

    #[test]
    fn the_sort_condition_bounds_the_cursor() {
        let past = Listing::new(
            Index::Gsi2,
            "MARATHON".into(),
            SortCondition::Below("2026-06-01".into()),
            false,
        );
        let key = |sk: &str| {
            item(&[
                ("pk", "MARATHON#M"),
                ("sk", "META"),
                ("gsi2pk", "MARATHON"),
                ("gsi2sk", sk),
            ])
        };
        let before = past.cursor_after(&key("2026-05-31#M")).unwrap();
        let after = past.cursor_after(&key("2026-06-01#M")).unwrap();
        assert!(past.start_key(&before).is_ok());
        assert!(matches!(past.start_key(&after), Err(StoreError::InvalidCursor)));

        let entries = Listing::new(
            Index::Gsi1,
            "RUNNER#R".into(),
            SortCondition::BeginsWith("ENTRY#"),
            false,
        );
        let results = Listing::new(
            Index::Gsi1,
            "RUNNER#R".into(),
            SortCondition::BeginsWith("RESULT#"),
            false,
        );
        let entry = item(&[
            ("pk", "MARATHON#M"),
            ("sk", "ENTRY#R"),
            ("gsi1pk", "RUNNER#R"),
            ("gsi1sk", "ENTRY#2026-01-01#M"),
        ]);
        let cursor = entries.cursor_after(&entry).unwrap();
        assert!(entries.start_key(&cursor).is_ok());
        assert!(matches!(
            results.start_key(&cursor),
            Err(StoreError::InvalidCursor)
        ));
    }

    #[test]
    fn key_conditions_name_the_index_keys() {
        let (expression, values) = results().key_condition();
        assert_eq!((expression.as_str(), values.len()), ("gsi3pk = :pk", 1));
        let table = Listing::new(
            Index::Table,
            "RUNNER#R".into(),
            SortCondition::BeginsWith("RECORD#"),
            false,
        );
        assert_eq!(table.key_condition().0, "pk = :pk AND begins_with(sk, :sk)");
    }
}
