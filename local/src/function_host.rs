//! Crashed functions come back under `make dev`, as on Lambda. `cargo lambda watch` starts
//! a function's process on its first invocation and restarts it only when a file changes:
//! once the process dies (a SIGKILL, an abort, the OOM killer), every later invocation
//! waits forever for a runtime that is gone. Lambda instead replaces the execution
//! environment and the event source retries the batch.
//!
//! `FunctionHost` watches the processes `cargo lambda watch` runs (the descendants of its
//! process whose executable is the function's binary) and remembers how each was started
//! (executable, environment, directory). When one dies, the invocation it was serving ends
//! at once as a function error (`Runtime.ExitError`: the mapping retries it, the gateway
//! answers 500), and a fresh process is started the same way, under `supervise.py` so it
//! stops with us. It polls cargo lambda's runtime API for the function's next invocation
//! like the one it replaces. When cargo lambda starts a process of its own again (after a
//! rebuild), ours steps aside, so the code that runs is always the latest.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::dev::children::Supervised;

/// How often a running invocation looks at its process.
pub const CHECK_EVERY: Duration = Duration::from_millis(200);

/// How a function's process was started, read from /proc while it ran.
#[derive(Debug, Clone)]
struct Launch {
    exe: PathBuf,
    cwd: PathBuf,
    env: Vec<(String, String)>,
}

#[derive(Default)]
struct Entry {
    launch: Option<Launch>,
    /// The process serving the function now (cargo lambda's or ours).
    pid: Option<i32>,
    /// A replacement we started, if any.
    replacement: Option<Supervised>,
}

pub struct FunctionHost {
    /// cargo lambda watch's process (its supervisor): function processes descend from it.
    watch_pid: i32,
    /// By binary name.
    functions: Mutex<HashMap<String, Entry>>,
}

/// What `serving` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    /// A live process serves the function.
    Alive(i32),
    /// No process yet (cargo lambda starts one on the first invocation).
    NotStarted,
}

impl FunctionHost {
    pub fn new(watch_pid: u32) -> FunctionHost {
        FunctionHost {
            watch_pid: watch_pid as i32,
            functions: Mutex::new(HashMap::new()),
        }
    }

    /// The process serving `binary` now. A process that died is replaced first (and a
    /// replacement of ours stops once cargo lambda runs one of its own again).
    pub fn serving(&self, binary: &str) -> Serving {
        let roots = self.roots(binary);
        let found = processes_of(binary, &roots);
        let mut functions = match self.functions.lock() {
            Ok(functions) => functions,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = functions.entry(binary.to_owned()).or_default();
        let replacement_pid = entry
            .replacement
            .as_ref()
            .and_then(Supervised::pid)
            .map(|p| p as i32);
        // cargo lambda's own process wins over a replacement of ours
        let native = found
            .iter()
            .find(|p| replacement_pid.is_none_or(|r| !descends_from(p.pid, r)))
            .cloned();
        if let Some(native) = native {
            if entry.replacement.take().is_some() {
                tracing::info!(
                    function = binary,
                    pid = native.pid,
                    "cargo lambda runs the function again; the replacement stops"
                );
            }
            entry.pid = Some(native.pid);
            if let Some(launch) = native.launch {
                entry.launch = Some(launch);
            }
            return Serving::Alive(native.pid);
        }
        if let Some(ours) = found.first() {
            entry.pid = Some(ours.pid);
            return Serving::Alive(ours.pid);
        }
        // a replacement still starting (its supervisor runs, the binary is not up yet)
        if replacement_pid.is_some_and(FunctionHost::alive) {
            return Serving::NotStarted;
        }
        let Some(launch) = entry.launch.clone() else {
            return Serving::NotStarted;
        };
        // It ran and is gone: start a fresh one, as Lambda replaces an environment.
        entry.replacement = None;
        let args: Vec<String> = Vec::new();
        match Supervised::spawn_with_env(binary, &launch.exe, &args, &launch.cwd, &launch.env) {
            Ok(process) => {
                eprintln!(
                    "!! {binary}: its process {} is gone; started a fresh one (as Lambda replaces a crashed environment)",
                    entry.pid.map_or_else(|| "-".to_owned(), |p| p.to_string())
                );
                entry.replacement = Some(process);
                entry.pid = None;
            }
            Err(e) => eprintln!("!! {binary}: its process is gone and a fresh one cannot start: {e}"),
        }
        Serving::NotStarted
    }

    /// Whether process `pid` still runs (a zombie counts as gone).
    pub fn alive(pid: i32) -> bool {
        procfs::process::Process::new(pid)
            .and_then(|p| p.stat())
            .is_ok_and(|s| s.state != 'Z' && s.state != 'X')
    }

    fn roots(&self, binary: &str) -> Vec<i32> {
        let mut roots = vec![self.watch_pid];
        if let Ok(functions) = self.functions.lock()
            && let Some(pid) = functions
                .get(binary)
                .and_then(|e| e.replacement.as_ref())
                .and_then(Supervised::pid)
        {
            roots.push(pid as i32);
        }
        roots
    }
}

#[derive(Debug, Clone)]
struct Found {
    pid: i32,
    launch: Option<Launch>,
}

/// Live processes running `binary` that descend from one of `roots`.
fn processes_of(binary: &str, roots: &[i32]) -> Vec<Found> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for process in all.flatten() {
        let Ok(exe) = process.exe() else { continue };
        // a rebuilt binary shows as "<path> (deleted)" until the process restarts
        let name = exe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.trim_end_matches(" (deleted)") != binary {
            continue;
        }
        if !FunctionHost::alive(process.pid) || !roots.iter().any(|root| descends_from(process.pid, *root)) {
            continue;
        }
        let launch = match (process.cwd(), process.environ()) {
            (Ok(cwd), Ok(environ)) => Some(Launch {
                exe: PathBuf::from(exe.to_string_lossy().trim_end_matches(" (deleted)")),
                cwd,
                env: environ
                    .into_iter()
                    .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
                    .collect(),
            }),
            _ => None,
        };
        found.push(Found {
            pid: process.pid,
            launch,
        });
    }
    found
}

/// Whether `pid`'s chain of parents reaches `ancestor`.
fn descends_from(pid: i32, ancestor: i32) -> bool {
    let mut current = pid;
    for _ in 0..64 {
        if current == ancestor {
            return true;
        }
        match procfs::process::Process::new(current).and_then(|p| p.stat()) {
            Ok(stat) if stat.ppid > 0 => current = stat.ppid,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_descends_from_its_parent() {
        let me = std::process::id() as i32;
        assert!(FunctionHost::alive(me));
        let parent = procfs::process::Process::myself().unwrap().stat().unwrap().ppid;
        assert!(descends_from(me, parent));
        assert!(descends_from(me, 1));
        assert!(!descends_from(parent, me));
        assert!(!FunctionHost::alive(i32::MAX));
    }
}
