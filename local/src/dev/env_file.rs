//! `.local/functions.env`: one environment for every function under `cargo lambda watch`
//! (it serves all functions from one process, so they share one environment).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::emulator::{ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, repo_root};
use crate::error::{Error, Result};
use crate::provision::Provisioned;

pub fn path() -> PathBuf {
    repo_root().join(".local").join("functions.env")
}

/// The union of all functions' resolved environments plus what points the SDK at the
/// emulator. Two functions giving one variable different values is an error: under one
/// watch process only one value can win, and a silent winner is a bug waiting to happen.
pub fn functions_env(provisioned: &Provisioned, endpoint: &str) -> Result<BTreeMap<String, String>> {
    let mut env: BTreeMap<String, (String, String)> = BTreeMap::new();
    let local = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
    ];
    let sources = provisioned
        .functions()
        .iter()
        .flat_map(|f| {
            f.environment
                .iter()
                .map(move |(k, v)| (f.logical_id.as_str(), k.as_str(), v.as_str()))
        })
        .chain(local.into_iter().map(|(k, v)| ("the local stack", k, v)));
    for (source, name, value) in sources {
        match env.get(name) {
            Some((first_source, first)) if first != value => {
                return Err(Error::EnvConflict {
                    variable: name.to_owned(),
                    first_function: first_source.clone(),
                    first: first.clone(),
                    second_function: source.to_owned(),
                    second: value.to_owned(),
                });
            }
            Some(_) => {}
            None => {
                env.insert(name.to_owned(), (source.to_owned(), value.to_owned()));
            }
        }
    }
    Ok(env.into_iter().map(|(k, (_, v))| (k, v)).collect())
}

/// `KEY=value` lines, single-quoted where a value has anything beyond a safe set, so the
/// file works for `cargo lambda --env-file` and for `set -a; . .local/functions.env`.
pub fn render(env: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::from("# Written by `mrmrthon-local dev` from template.yaml; do not edit.\n");
    for (name, value) in env {
        if value.contains(['\n', '\r', '\'']) {
            return Err(Error::Template(format!(
                "environment variable {name}: a value with a newline or a single quote cannot be written to an env file"
            )));
        }
        let safe = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@+,=%".contains(c));
        if safe {
            out.push_str(&format!("{name}={value}\n"));
        } else {
            out.push_str(&format!("{name}='{value}'\n"));
        }
    }
    Ok(out)
}

pub fn write(path: &Path, contents: &str) -> Result<()> {
    let fail = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, contents).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_and_quotes_only_when_needed() {
        let env = BTreeMap::from([
            ("B".to_owned(), "http://127.0.0.1:4566".to_owned()),
            ("A".to_owned(), "two words".to_owned()),
        ]);
        let text = render(&env).unwrap();
        assert!(
            text.ends_with("A='two words'\nB=http://127.0.0.1:4566\n"),
            "{text}"
        );
    }

    #[test]
    fn refuses_values_it_cannot_write() {
        let env = BTreeMap::from([("A".to_owned(), "it's".to_owned())]);
        assert!(render(&env).is_err());
    }
}
