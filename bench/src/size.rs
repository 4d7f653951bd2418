//! Binary and zip size of each release bootstrap: x86_64 from `cargo build --release`, and
//! arm64 (the deployed architecture, which the budget is about) from
//! `cargo lambda build --release --arm64` when the aarch64 standard library is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::builder::run_niced;
use crate::lab::{Result, release_binary, repo_root, target_dir, work_dir};

pub const ARM64_TARGET: &str = "aarch64-unknown-linux-gnu";

#[derive(Debug, Clone)]
pub struct Size {
    pub x86_64: Option<Artifact>,
    pub arm64: std::result::Result<Artifact, String>,
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub binary: u64,
    /// The deployment zip (the binary as `bootstrap`, deflated); None if zipping failed.
    pub zip: Option<u64>,
}

pub fn x86_64(package: &str) -> Option<Artifact> {
    artifact(&release_binary(package), &format!("{package}-x86_64"))
}

fn artifact(binary: &Path, zip_name: &str) -> Option<Artifact> {
    let bytes = std::fs::metadata(binary).ok()?.len();
    let zip = zip_size(binary, &work_dir().join("zips").join(format!("{zip_name}.zip")))
        .map_err(|e| eprintln!("zip of {}: {e}", binary.display()))
        .ok();
    Some(Artifact { binary: bytes, zip })
}

/// Deflates `binary` into `zip` as `bootstrap` (python3's zipfile, as Lambda zips are made).
pub fn zip_size(binary: &Path, zip: &Path) -> Result<u64> {
    if let Some(dir) = zip.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let script = "import sys, zipfile\n\
                  with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:\n\
                  \x20   z.write(sys.argv[1], 'bootstrap')\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(binary)
        .arg(zip)
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "python3 zipfile failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    std::fs::metadata(zip)
        .map(|m| m.len())
        .map_err(|e| format!("no zip at {}: {e}", zip.display()))
}

/// Why arm64 cannot be built here, if it cannot: the harness never downloads a toolchain
/// component (no `rustup target add`); cargo-lambda's own target check is skipped.
pub fn arm64_unavailable() -> Option<String> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(sysroot) = sysroot else {
        return Some("`rustc --print sysroot` failed".into());
    };
    if !sysroot
        .join("lib/rustlib")
        .join(ARM64_TARGET)
        .join("lib")
        .is_dir()
    {
        return Some(format!(
            "the {ARM64_TARGET} standard library is not installed in {} \
             (`rustup target add {ARM64_TARGET}` needs a download this harness does not make)",
            sysroot.display()
        ));
    }
    if !cargo_lambda_dir().join("cargo-lambda").is_file() {
        return Some("cargo-lambda is not in .venv/bin (run `make tools`)".into());
    }
    None
}

fn cargo_lambda_dir() -> PathBuf {
    repo_root().join(".venv").join("bin")
}

/// `cargo lambda build --release --arm64 -p <package>`; the bootstrap lands in
/// `target/lambda/<package>/bootstrap`.
pub fn arm64(package: &str) -> std::result::Result<Artifact, String> {
    eprintln!("building {package} (release, arm64, cargo lambda)");
    run_niced(
        "cargo",
        &[
            "lambda",
            "build",
            "--release",
            "--arm64",
            "--skip-target-check",
            "-p",
            package,
            "--bin",
            package,
        ],
        &format!("build-{package}-arm64.log"),
        Some(&cargo_lambda_dir()),
    )?;
    let binary = target_dir().join("lambda").join(package).join("bootstrap");
    artifact(&binary, &format!("{package}-arm64"))
        .ok_or_else(|| format!("cargo lambda succeeded but {} is missing", binary.display()))
}
