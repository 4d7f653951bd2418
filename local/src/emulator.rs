//! The local AWS emulator (moto's server from the project's `.venv`): start it on a port,
//! know when it answers, reset it, stop it. Plus the SDK configuration that points at it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};

use crate::error::{Error, Result};
use crate::hops::{Hop, HopKind, Hops};
use crate::moto_api;

/// The emulator's region, account and credentials; fixed so that ARNs are predictable.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";

/// The first start imports all of moto (about 0.5 s warm, several seconds on a cold disk).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Picking a free port and binding it later is racy; a few retries make it reliable.
const PORT_ATTEMPTS: u32 = 5;
/// The launcher's exit codes for "port already taken" and "moto not installed"
/// (see local/emulator.py).
const EXIT_ADDRESS_IN_USE: i32 = 98;
const EXIT_TOOLS_MISSING: i32 = 3;
/// How many lines of the launcher's output are kept for error messages.
const OUTPUT_LINES: usize = 200;

/// A running emulator owned by this process. Dropping it kills the server; if this
/// process dies instead, the launcher sees EOF on its stdin and exits by itself.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    // Held only so that the pipe stays open; its closing is the launcher's signal to exit.
    _stdin: ChildStdin,
    endpoint: String,
    port: u16,
    output: Arc<Mutex<Output>>,
}

impl Emulator {
    /// Starts the emulator on 127.0.0.1:`port`, or on a free port when `port` is None,
    /// and returns once it answers HTTP.
    pub fn start(port: Option<u16>) -> Result<Emulator> {
        let tools = Tools::locate()?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let chosen = match port {
                Some(p) => p,
                None => free_port()?,
            };
            match Self::spawn(&tools, chosen) {
                Err(Start::AddressInUse(_)) if port.is_none() && attempts < PORT_ATTEMPTS => {
                    continue;
                }
                Err(Start::AddressInUse(_)) if port.is_none() => {
                    return Err(Error::NoFreePort { attempts });
                }
                Err(Start::AddressInUse(e) | Start::Failed(e)) => return Err(e),
                Ok(emulator) => return Ok(emulator),
            }
        }
    }

    /// `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Turns the emulator's announcements (one per SNS publish, see local/emulator.py) into
    /// hops. Only an emulator this process started can be heard.
    pub fn forward_hops(&self, hops: Hops) {
        if let Ok(mut output) = self.output.lock() {
            output.hops = Some(hops);
        }
    }

    /// Forgets every resource and item in every service (moto's global reset). Whatever
    /// was provisioned has to be provisioned again afterwards.
    pub fn reset(&self) -> Result<()> {
        reset(&self.endpoint)
    }

    fn spawn(tools: &Tools, port: u16) -> Result<Emulator, Start> {
        let mut command = Command::new(&tools.python);
        command
            .arg(&tools.launcher)
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C in the terminal reaches us, not the emulator
            // (which would print a KeyboardInterrupt trace); we stop it ourselves.
            .process_group(0);
        let mut child = command.spawn().map_err(|source| {
            Start::Failed(Error::EmulatorSpawn {
                command: format!("{command:?}"),
                source,
            })
        })?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let output = Arc::new(Mutex::new(Output::default()));
        drain(child.stdout.take(), Arc::clone(&output));
        drain(child.stderr.take(), Arc::clone(&output));

        let mut emulator = Emulator {
            child,
            _stdin: stdin,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            output,
        };
        emulator.wait_until_ready()?;
        Ok(emulator)
    }

    /// Ready means: the launcher said it is listening (so the port is ours, not some other
    /// process's) and HTTP answers. Bounded polling with a growing interval.
    fn wait_until_ready(&mut self) -> Result<(), Start> {
        let started = Instant::now();
        let mut interval = Duration::from_millis(10);
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| Start::Failed(Error::Process(format!("cannot watch the emulator: {e}"))))?
            {
                self.wait_for_pipes_closed();
                let exited = Error::EmulatorExited {
                    status: status.to_string(),
                    output: self.output_text(),
                };
                return Err(match status.code() {
                    Some(EXIT_ADDRESS_IN_USE) => Start::AddressInUse(exited),
                    Some(EXIT_TOOLS_MISSING) => Start::Failed(Error::ToolsMissing(venv_dir())),
                    _ => Start::Failed(exited),
                });
            }
            let said_ready = self.output.lock().map(|o| o.ready).unwrap_or(false);
            if said_ready && moto_api::is_answering(&self.endpoint, Duration::from_secs(2)) {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(Start::Failed(Error::EmulatorTimeout {
                    endpoint: self.endpoint.clone(),
                    waited: START_TIMEOUT,
                    output: self.output_text(),
                }));
            }
            std::thread::sleep(interval);
            interval = (interval * 2).min(Duration::from_millis(100));
        }
    }

    /// After the launcher exited: give the drain threads a moment to read its last lines,
    /// which are the ones that explain why.
    fn wait_for_pipes_closed(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if self.output.lock().map(|o| o.closed_pipes >= 2).unwrap_or(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn output_text(&self) -> String {
        self.output
            .lock()
            .map(|o| o.lines.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Kill and reap, so that the port is free as soon as the Emulator is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POST /moto-api/reset on any emulator endpoint.
pub fn reset(endpoint: &str) -> Result<()> {
    let response = moto_api::post(endpoint, "/moto-api/reset")?;
    if response.is_success() {
        Ok(())
    } else {
        Err(Error::Http {
            method: "POST",
            url: format!("{endpoint}/moto-api/reset"),
            message: format!("status {}", response.status),
        })
    }
}

/// SDK configuration for the emulator at `endpoint`: static test credentials, the local
/// region and the endpoint URL. Functions never use this; they get `AWS_ENDPOINT_URL`.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "mrmrthon-local",
        )))
        .endpoint_url(endpoint)
        .build()
}

/// The repository root (this crate lives in `<root>/local`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("local/ has a parent")
        .to_path_buf()
}

/// The project's tool virtualenv (`<root>/.venv`).
pub fn venv_dir() -> PathBuf {
    repo_root().join(".venv")
}

struct Tools {
    python: PathBuf,
    launcher: PathBuf,
}

impl Tools {
    fn locate() -> Result<Tools> {
        let venv = venv_dir();
        let python = venv.join("bin").join("python");
        if !python.exists() {
            return Err(Error::ToolsMissing(venv));
        }
        Ok(Tools {
            python,
            launcher: repo_root().join("local").join("emulator.py"),
        })
    }
}

enum Start {
    AddressInUse(Error),
    Failed(Error),
}

impl From<Error> for Start {
    fn from(e: Error) -> Start {
        Start::Failed(e)
    }
}

/// The launcher's recent output, kept for error messages; `ready` flips on its ready line.
#[derive(Debug, Default)]
struct Output {
    lines: VecDeque<String>,
    ready: bool,
    closed_pipes: u8,
    hops: Option<Hops>,
}

/// The prefix of the launcher's announcement lines.
const HOP_PREFIX: &str = "@hop ";

/// An announcement line as a hop: `{"kind": "publish", "topic": ARN, ...}`.
fn announced_hop(json: &str) -> Option<Hop> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    if value.get("kind")?.as_str()? != "publish" {
        return None;
    }
    let topic = value.get("topic")?.as_str()?;
    let subscriptions = value.get("subscriptions").and_then(|v| v.as_u64()).unwrap_or(0);
    let mut hop = Hop::new(
        HopKind::Publish,
        topic.rsplit(':').next().unwrap_or(topic),
        format!(
            "message {} to {subscriptions} subscription{}",
            value.get("message_id").and_then(|v| v.as_str()).unwrap_or("?"),
            if subscriptions == 1 { "" } else { "s" }
        ),
    );
    if let Some(millis) = value.get("millis").and_then(|v| v.as_f64()) {
        hop = hop.took(Duration::from_secs_f64(millis.max(0.0) / 1000.0));
    }
    let id = value
        .get("correlation_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Some(hop.correlation(id))
}

/// Reads a pipe to its end on a thread of its own: a pipe nobody reads fills up and
/// then blocks the emulator.
fn drain(pipe: Option<impl Read + Send + 'static>, output: Arc<Mutex<Output>>) {
    let Some(pipe) = pipe else { return };
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let Ok(mut output) = output.lock() else { break };
            if let Some(json) = line.strip_prefix(HOP_PREFIX) {
                if let (Some(hops), Some(hop)) = (&output.hops, announced_hop(json)) {
                    hops.record(hop);
                }
                continue;
            }
            if line.starts_with("emulator ready on ") {
                output.ready = true;
            }
            if output.lines.len() == OUTPUT_LINES {
                output.lines.pop_front();
            }
            output.lines.push_back(line);
        }
        if let Ok(mut output) = output.lock() {
            output.closed_pipes += 1;
        }
    });
}

/// A port that was free a moment ago (the OS picks it; we release it at once).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Process(format!("cannot bind 127.0.0.1:0: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Process(format!("cannot read the bound port: {e}")))
}
