//! Property values CloudFormation accepts in two spellings: `5` or `"5"`, `true` or
//! `"true"` (a `!Ref` to a parameter always yields text).

use serde::{Deserialize, Deserializer, de};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Number(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

#[derive(Deserialize)]
#[serde(untagged)]
enum Either<T> {
    Value(T),
    Text(String),
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Either::<i64>::deserialize(d)? {
            Either::Value(n) => Ok(Number(n)),
            Either::Text(t) => t
                .trim()
                .parse()
                .map(Number)
                .map_err(|_| de::Error::custom(format!("expected a number, got {t:?}"))),
        }
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Either::<bool>::deserialize(d)? {
            Either::Value(b) => Ok(Flag(b)),
            Either::Text(t) if t.eq_ignore_ascii_case("true") => Ok(Flag(true)),
            Either::Text(t) if t.eq_ignore_ascii_case("false") => Ok(Flag(false)),
            Either::Text(t) => Err(de::Error::custom(format!("expected true or false, got {t:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_spellings() {
        let n: Number = serde_yaml::from_str("5").unwrap();
        let t: Number = serde_yaml::from_str("'5'").unwrap();
        assert_eq!((n, t), (Number(5), Number(5)));
        let b: Flag = serde_yaml::from_str("true").unwrap();
        let s: Flag = serde_yaml::from_str("'False'").unwrap();
        assert_eq!((b, s), (Flag(true), Flag(false)));
        assert!(serde_yaml::from_str::<Number>("five").is_err());
    }
}
