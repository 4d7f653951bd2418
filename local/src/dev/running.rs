//! `.local/dev.json`: where a running `make dev` listens, so that `status` and `seed`
//! find it without flags. Written once everything is up, removed on a clean stop; a
//! file left by a killed `make dev` is recognised by its process id no longer running.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Running {
    pub pid: u32,
    pub endpoint: String,
    /// The site, `http://127.0.0.1:PORT/` (absent from a file of an older `make dev`).
    #[serde(default)]
    pub site_url: String,
    /// The HTTP API's base URL, `http://127.0.0.1:PORT/api`.
    pub api_url: String,
    pub sink_url: String,
    pub started_at: String,
}

/// `<repo>/.local/dev.json`.
pub fn path() -> PathBuf {
    crate::emulator::repo_root().join(".local").join("dev.json")
}

impl Running {
    pub fn write(&self) -> Result<()> {
        let path = path();
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Process(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
                path: dir.to_owned(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| Error::WriteFile { path, source })
    }

    /// The file's content, whether or not that process still runs; None without a file
    /// or with one that cannot be read (an old format: treated as absent).
    pub fn read() -> Option<Running> {
        let text = std::fs::read_to_string(path()).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The running `make dev`, if there is one.
    pub fn current() -> Option<Running> {
        Running::read().filter(Running::is_alive)
    }

    pub fn is_alive(&self) -> bool {
        process_alive(self.pid)
    }

    pub fn remove() {
        let _ = std::fs::remove_file(path());
    }
}

/// Linux: a process exists while /proc/PID does (zombies aside, which a dead `make dev`
/// does not leave: its parent, make or the shell, reaps it).
pub fn process_alive(pid: u32) -> bool {
    pid != 0 && std::path::Path::new(&format!("/proc/{pid}")).exists()
}
