//! Pages of results with an opaque cursor. The cursor's content belongs to the adapter.

use serde::Serialize;

use crate::validation::FieldError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, FieldError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| FieldError::new("limit", "must be a whole number from 1 to 100"))?,
        };
        Ok(Self {
            limit,
            cursor: cursor.filter(|c| !c.is_empty()).map(str::to_owned),
        })
    }

    pub fn first(limit: u32) -> Self {
        Self { limit, cursor: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when there is more; pass it back as `cursor`.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 20);
        assert_eq!(
            PageRequest::parse(Some("100"), Some("abc"))
                .unwrap()
                .cursor
                .as_deref(),
            Some("abc")
        );
        for bad in ["0", "101", "-1", "ten"] {
            assert_eq!(PageRequest::parse(Some(bad), None).unwrap_err().field, "limit");
        }
    }
}
