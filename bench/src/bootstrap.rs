//! Starting a bootstrap the way the Lambda service does (a clean environment pointing at
//! the Runtime API), and waiting for what it says to the stub.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::lab::{Function, Lab, Result, release_binary, work_dir};
use crate::runtime_api::{RuntimeApi, Signal};

/// `function`'s release bootstrap against a fresh Runtime API stub, with the environment
/// Lambda would give it (`Lab::process_env`); its output goes to
/// `logs/<package>.<purpose>.log` under the work dir.
pub async fn start_function(lab: &Lab, function: &Function, purpose: &str) -> Result<(RuntimeApi, Running)> {
    let env = lab.function_env(function)?;
    let api = RuntimeApi::start(function.package)
        .await
        .map_err(|e| format!("cannot start the Runtime API stub: {e}"))?;
    let process_env = lab.process_env(
        function.package,
        lab.memory_size(function.logical_id),
        &api.address(),
        &env,
    );
    let log = work_dir()
        .join("logs")
        .join(format!("{}.{purpose}.log", function.package));
    let running = launch(&release_binary(function.package), &process_env, &log)?;
    Ok((api, running))
}

/// A bootstrap process; killed when dropped.
pub struct Running {
    child: Child,
    pub started: Instant,
    pub pid: u32,
    pub log: PathBuf,
}

/// Starts `binary` with exactly `env` (nothing inherited), its output to `log`.
pub fn launch(binary: &Path, env: &[(String, String)], log: &Path) -> Result<Running> {
    launch_with(binary, &[], env, log)
}

/// [`launch`] with arguments (the Node.js peers: `node runtime.mjs`).
pub fn launch_with(binary: &Path, args: &[&str], env: &[(String, String)], log: &Path) -> Result<Running> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let out = std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
    // Diagnosis only: MRMRTHON_BENCH_WRAP="strace -f -o /tmp/trace" runs every bootstrap
    // under that command (its figures are then the wrapper's, not the function's).
    let wrap = std::env::var("MRMRTHON_BENCH_WRAP").unwrap_or_default();
    let mut wrapper = wrap.split_whitespace();
    let mut command = match wrapper.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(wrapper).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(binary.parent().unwrap_or(Path::new("/")))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let pid = child
        .id()
        .ok_or_else(|| format!("{} exited at once", binary.display()))?;
    Ok(Running {
        child,
        started,
        pid,
        log: log.to_path_buf(),
    })
}

impl Running {
    /// Waits for the next signal from the stub, failing if the process exits first or
    /// nothing comes within `timeout`.
    pub async fn signal(&mut self, api: &mut RuntimeApi, timeout: Duration) -> Result<Signal> {
        tokio::select! {
            signal = api.signals.recv() => signal.ok_or_else(|| "the Runtime API stub stopped".to_owned()),
            status = self.child.wait() => Err(format!(
                "the process exited ({}) {}",
                status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                self.log_tail()
            )),
            () = tokio::time::sleep(timeout) => Err(format!(
                "nothing from the process within {timeout:?} {}",
                self.log_tail()
            )),
        }
    }

    /// Waits until the function first asks for work; returns the time since the process
    /// was started.
    pub async fn first_poll(&mut self, api: &mut RuntimeApi, timeout: Duration) -> Result<Duration> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.signal(api, left).await? {
                Signal::Next(at) => return Ok(at.saturating_duration_since(self.started)),
                Signal::InitError(body) => return Err(format!("init error: {body}")),
                Signal::Outcome { .. } => {}
            }
        }
    }

    /// CPU time the process's live threads have used so far (user and system, from
    /// `/proc/<pid>/task/*/schedstat`, in nanoseconds there; finer than `/proc/<pid>/stat`'s
    /// clock ticks). Read while the bootstrap waits on `/next`, it is its init's CPU.
    pub fn cpu_time(&self) -> Result<Duration> {
        let dir = format!("/proc/{}/task", self.pid);
        let tasks = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {dir}: {e}"))?;
        let mut total = 0u64;
        for task in tasks.flatten() {
            let path = task.path().join("schedstat");
            // a thread may end between the listing and the read
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            total += text
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .ok_or_else(|| format!("unexpected {}: {text:?}", path.display()))?;
        }
        Ok(Duration::from_nanos(total))
    }

    /// Peak resident set size so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> Result<u64> {
        let path = format!("/proc/{}/status", self.pid);
        let status = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| format!("no VmHWM in {path}"))
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n  ");
        if tail.is_empty() {
            format!("(no output; log {})", self.log.display())
        } else {
            format!("(log {}, last lines:\n  {tail})", self.log.display())
        }
    }
}
