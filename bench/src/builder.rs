//! Release builds, run the way a deploy build is (`AWS_LC_SYS_NO_JITTER_ENTROPY=1`, as the
//! Makefile exports), one package per cargo invocation so that no other package's features
//! leak into a function's binary. Niced: other people share these 2 cores.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::lab::{Result, repo_root, work_dir};

/// `nice -n 10 <program> <args>` in the workspace root, output to `target/bench/<log>`.
pub fn run_niced(program: &str, args: &[&str], log: &str, extra_path: Option<&Path>) -> Result<PathBuf> {
    let log_path = work_dir().join(log);
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let out =
        std::fs::File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut command = Command::new("nice");
    command
        .args(["-n", "10", program])
        .args(args)
        .current_dir(repo_root())
        .env("AWS_LC_SYS_NO_JITTER_ENTROPY", "1")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if let Some(dir) = extra_path {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![dir.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(paths) {
            command.env("PATH", joined);
        }
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(log_path)
    } else {
        Err(format!(
            "`{program} {}` failed ({status}); see {}",
            args.join(" "),
            log_path.display()
        ))
    }
}

/// `cargo build --release -p <package> --bin <package>`.
pub fn release(package: &str) -> Result<()> {
    eprintln!("building {package} (release, x86_64)");
    run_niced(
        "cargo",
        &["build", "--release", "-p", package, "--bin", package],
        &format!("build-{package}.log"),
        None,
    )
    .map(|_| ())
}
