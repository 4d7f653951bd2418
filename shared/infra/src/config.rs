//! The one reader of a function's environment (the variables template.yaml gives it).
//!
//! Every function reads its settings through [`Env`] at init, so the rules are the same
//! everywhere: values are trimmed, a blank value counts as missing, and every error names
//! the variable (never prints a value that is a secret: the functions keep secret *names*
//! in their environment, the values are in Secrets Manager). Tests and local tools read
//! from a map through the same code by giving [`Env::new`] their own lookup.

use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set (or blank)")]
    Missing(String),
    #[error("environment variable {0} has an invalid value {1:?}")]
    Invalid(String, String),
}

/// The process environment as a lookup, for [`Env::new`].
pub fn process(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Variables by name, from any lookup: the process environment or a map.
pub struct Env<F> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn from_process() -> Self {
        Self { lookup: process }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The trimmed value; `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|raw| raw.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or_else(|| ConfigError::Missing(name.to_owned()))
    }

    /// The value read by `parse` (which says `None` when it cannot take it); `None` when
    /// unset or blank, so the caller picks the default.
    pub fn parse_with<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        match self.optional(name) {
            None => Ok(None),
            Some(raw) => parse(&raw)
                .map(Some)
                .ok_or_else(|| ConfigError::Invalid(name.to_owned(), raw)),
        }
    }

    /// The value parsed with `FromStr` (e.g. `NonZeroU32` for a positive count); `None`
    /// when unset or blank.
    pub fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, ConfigError> {
        self.parse_with(name, |raw| raw.parse().ok())
    }

    /// A required value read by `parse`.
    pub fn required_with<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        self.parse_with(name, parse)?
            .ok_or_else(|| ConfigError::Missing(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::num::NonZeroU32;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Env::new(move |name: &str| map.get(name).cloned())
    }

    #[test]
    fn blank_counts_as_missing_and_values_are_trimmed() {
        let env = env(&[("TABLE", "  users \n"), ("BLANK", " \t "), ("EMPTY", "")]);
        assert_eq!(env.required("TABLE").unwrap(), "users");
        assert_eq!(env.optional("TABLE").as_deref(), Some("users"));
        for name in ["BLANK", "EMPTY", "UNSET"] {
            assert_eq!(env.optional(name), None, "{name}");
            assert_eq!(env.required(name), Err(ConfigError::Missing(name.into())));
            assert_eq!(env.parsed::<u32>(name), Ok(None), "{name}");
        }
    }

    #[test]
    fn errors_name_the_variable_and_the_value() {
        let env = env(&[("COUNT", "many"), ("ZERO", "0")]);
        let error = env.parsed::<u32>("COUNT").unwrap_err();
        assert_eq!(error, ConfigError::Invalid("COUNT".into(), "many".into()));
        assert!(error.to_string().contains("COUNT"), "{error}");
        assert!(error.to_string().contains("\"many\""), "{error}");
        assert!(env.parsed::<NonZeroU32>("ZERO").is_err());
        let missing = env.required("USERS_TABLE").unwrap_err();
        assert!(missing.to_string().contains("USERS_TABLE"), "{missing}");
    }

    #[test]
    fn parsed_values_and_custom_parsers() {
        let env = env(&[("N", " 42 "), ("LANG", "en"), ("PCT", "120")]);
        assert_eq!(
            env.parsed::<NonZeroU32>("N").unwrap().map(NonZeroU32::get),
            Some(42)
        );
        let percent = |raw: &str| raw.parse::<u8>().ok().filter(|p| *p <= 100);
        assert_eq!(
            env.parse_with("PCT", percent),
            Err(ConfigError::Invalid("PCT".into(), "120".into()))
        );
        assert_eq!(env.parse_with("UNSET", percent), Ok(None));
        assert_eq!(env.required_with("LANG", |raw| (raw == "en").then_some(1)), Ok(1));
        assert_eq!(
            env.required_with("UNSET", |_| Some(1)),
            Err(ConfigError::Missing("UNSET".into()))
        );
    }

    #[test]
    fn the_process_environment_is_one_lookup_among_others() {
        // PATH is set wherever tests run; a name nobody sets is not.
        assert!(Env::from_process().optional("PATH").is_some());
        assert_eq!(
            Env::from_process().optional("MRMRTHON_SURELY_UNSET_VARIABLE"),
            None
        );
    }
}
