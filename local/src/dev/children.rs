//! Child processes the dev command starts and must stop, tied to this process by the
//! same lifeline as the emulator: `local/supervise.py` runs the command in a process
//! group of its own and stops that group when its stdin closes. So the command stops
//! when we drop it, and also when this process dies without cleaning up.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
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
    /// The command's output goes straight to the terminal.
    pub fn spawn(name: &str, program: &Path, args: &[String], cwd: &Path) -> Result<Supervised> {
        Supervised::start(name, program, args, cwd, None, &[])
    }

    /// `spawn`, with these variables set (a replaced function's environment).
    pub fn spawn_with_env(
        name: &str,
        program: &Path,
        args: &[String],
        cwd: &Path,
        env: &[(String, String)],
    ) -> Result<Supervised> {
        Supervised::start(name, program, args, cwd, None, env)
    }

    /// The command's output goes to the terminal line by line, each line after `prefix`
    /// (`web  | `), so it reads apart from the hops.
    pub fn spawn_prefixed(
        name: &str,
        prefix: &str,
        program: &Path,
        args: &[String],
        cwd: &Path,
    ) -> Result<Supervised> {
        Supervised::start(name, program, args, cwd, Some(prefix), &[])
    }

    fn start(
        name: &str,
        program: &Path,
        args: &[String],
        cwd: &Path,
        prefix: Option<&str>,
        env: &[(String, String)],
    ) -> Result<Supervised> {
        let mut command = Command::new(venv_dir().join("bin").join("python"));
        command
            .arg(repo_root().join("local").join("supervise.py"))
            .arg("--")
            .arg(program)
            .args(args)
            .current_dir(cwd)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            // Its own group: a Ctrl-C in the terminal reaches us only; we decide the order.
            .process_group(0);
        if prefix.is_some() {
            // The command inherits the supervisor's output: these pipes carry both.
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut supervisor = command
            .spawn()
            .map_err(|e| Error::Process(format!("cannot start {name}: {e}")))?;
        if let Some(prefix) = prefix {
            if let Some(stdout) = supervisor.stdout.take() {
                tokio::spawn(relay(stdout, prefix.to_owned(), false));
            }
            if let Some(stderr) = supervisor.stderr.take() {
                tokio::spawn(relay(stderr, prefix.to_owned(), true));
            }
        }
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

/// Prints each line of `output` after `prefix` until it closes (invalid UTF-8 shown lossily).
async fn relay(output: impl AsyncRead + Unpin, prefix: String, to_stderr: bool) {
    let mut reader = BufReader::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\r', '\n']);
                if to_stderr {
                    eprintln!("{prefix}{text}");
                } else {
                    println!("{prefix}{text}");
                }
            }
        }
    }
}
