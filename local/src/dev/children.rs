//! Child processes the dev command starts and must stop, tied to this process by the
//! same lifeline as the emulator: `local/supervise.py` runs the command in a process
//! group of its own and stops that group when its stdin closes. So the command stops
//! when we drop it, and also when this process dies without cleaning up.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, ChildStdin, Command};

use crate::emulator::{repo_root, venv_dir};
use crate::error::{Error, Result};

/// supervise.py's grace period for SIGINT plus slack; after that the supervisor is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Supervised {
    name: String,
    supervisor: Child,
    lifeline: Option<ChildStdin>,
}

impl Supervised {
    pub fn spawn(name: &str, program: &Path, args: &[String], cwd: &Path) -> Result<Supervised> {
        let mut supervisor = Command::new(venv_dir().join("bin").join("python"))
            .arg(repo_root().join("local").join("supervise.py"))
            .arg("--")
            .arg(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            // Its own group: a Ctrl-C in the terminal reaches us only; we decide the order.
            .process_group(0)
            .spawn()
            .map_err(|e| Error::Process(format!("cannot start {name}: {e}")))?;
        let lifeline = supervisor.stdin.take();
        Ok(Supervised {
            name: name.to_owned(),
            supervisor,
            lifeline,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.supervisor.id()
    }

    /// Resolves when the command exits by itself.
    pub async fn exited(&mut self) -> String {
        match self.supervisor.wait().await {
            Ok(status) => format!("{} exited ({status})", self.name),
            Err(e) => format!("cannot wait for {}: {e}", self.name),
        }
    }

    /// Closes the lifeline and waits for the command to stop (bounded).
    pub async fn stop(mut self) {
        drop(self.lifeline.take());
        if tokio::time::timeout(STOP_TIMEOUT, self.supervisor.wait())
            .await
            .is_err()
        {
            eprintln!(
                "{} did not stop within {STOP_TIMEOUT:?}; killing its supervisor",
                self.name
            );
            let _ = self.supervisor.kill().await;
        }
    }
}
