//! Builds the function binaries before `cargo lambda watch` starts, with cargo's own
//! progress on the terminal: otherwise the first request to each function waits for its
//! compile (minutes on a fresh clone) with nothing on screen. `cargo lambda watch` runs
//! `cargo run --bin NAME` at the workspace root: every member selected, so features are
//! unified over the whole workspace. `cargo build --bin A --bin B...` at the root selects
//! the same way (a `-p` list would unify fewer features and leave watch a rebuild), so
//! watch then finds the binaries up to date.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::error::{Error, Result};

/// The package names of the crates under `functions/`, sorted.
pub fn function_packages(root: &Path) -> Result<Vec<String>> {
    let dir = root.join("functions");
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::ReadFile {
        path: dir.clone(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if let Some(name) = package_name(&text) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// `name = "..."` of the `[package]` table.
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some(value) = line.strip_prefix("name").map(str::trim_start)
            && let Some(value) = value.strip_prefix('=')
        {
            return Some(value.trim().trim_matches('"').to_owned());
        }
    }
    None
}

/// `cargo build --bin <each function>` (a function's binary is named after its package);
/// its progress goes straight to the terminal.
pub fn functions(root: &Path) -> Result<()> {
    let packages = function_packages(root)?;
    if packages.is_empty() {
        return Ok(());
    }
    println!("building the functions: {} (cargo build)", packages.join(", "));
    let started = Instant::now();
    // `cargo run` sets CARGO to the cargo that runs us: the same toolchain builds them.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.arg("build").current_dir(root);
    for package in &packages {
        command.arg("--bin").arg(package);
    }
    let status = command
        .status()
        .map_err(|e| Error::Process(format!("cannot run cargo build: {e}")))?;
    if !status.success() {
        return Err(Error::Process(format!(
            "building the functions failed ({status}); the errors are above"
        )));
    }
    println!("functions built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_package_name_only() {
        let manifest = "[workspace]\nname = \"no\"\n[package]\nname = \"login\"\nversion = \"0.1.0\"\n[dependencies]\nname = \"x\"\n";
        assert_eq!(package_name(manifest).as_deref(), Some("login"));
        assert_eq!(package_name("[dependencies]\nname = \"x\"\n"), None);
    }

    #[test]
    fn finds_every_function_of_the_repository() {
        let packages = function_packages(&crate::emulator::repo_root()).unwrap();
        assert!(packages.contains(&"record-api".to_owned()), "{packages:?}");
        assert!(packages.contains(&"login".to_owned()), "{packages:?}");
    }
}
