//! Keeping `make dev`'s data (see `crate::state` for what is kept and why this way):
//! while the stack runs, a settled snapshot every few seconds and the last hops for
//! `mrmrthon-local status`; on a clean stop, one last snapshot once the pipeline has
//! drained.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::esm::Progress;
use crate::hops::Hops;
use crate::state::{self, Clients, Scope, Snapshot};

/// How often a snapshot is attempted; a kill -9 loses at most this much of a quiet
/// system's changes (plus whatever was still in flight).
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(5);
/// When the pipeline is busy, the next attempt comes this much later.
const RETRY: Duration = Duration::from_secs(1);
/// How long one attempt waits for the stream pollers' reads after the scan.
pub const SETTLE_WAIT: Duration = Duration::from_secs(2);
/// How long a clean stop waits for the pipeline to drain.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Hops kept in the file `status` reads.
pub const HOPS_KEPT: usize = 40;

/// `<repo>/.local/hops.txt`.
pub fn hops_path() -> PathBuf {
    crate::emulator::repo_root().join(".local").join("hops.txt")
}

/// What the saver shares with the stop: the content last written.
#[derive(Default)]
struct Saved {
    /// The last snapshot written, without its time, to skip writing the same data again.
    content: Option<Snapshot>,
}

pub struct Saver {
    task: JoinHandle<()>,
    saved: Arc<Mutex<Saved>>,
    clients: Clients,
    scope: Scope,
    progress: Arc<Progress>,
    hops: Hops,
    dir: PathBuf,
}

impl Saver {
    /// Starts the periodic snapshot and hop file. `restored` is what the start restored
    /// (or found), so an unchanged system is not written again.
    pub fn start(
        clients: Clients,
        scope: Scope,
        progress: Arc<Progress>,
        hops: Hops,
        dir: PathBuf,
        restored: Option<Snapshot>,
    ) -> Saver {
        let saved = Arc::new(Mutex::new(Saved {
            content: restored.map(without_time),
        }));
        let task = tokio::spawn(run(
            clients.clone(),
            scope.clone(),
            Arc::clone(&progress),
            hops.clone(),
            dir.clone(),
            Arc::clone(&saved),
        ));
        Saver {
            task,
            saved,
            clients,
            scope,
            progress,
            hops,
            dir,
        }
    }

    /// Stops the periodic work; the last snapshot written stays.
    pub fn abort(self) {
        self.task.abort();
    }

    /// Stops the periodic work, waits (bounded) for the pipeline to settle and saves a
    /// last snapshot. Call it while the functions and mappings still run and after the
    /// gateway stopped taking requests.
    pub async fn finish(self) {
        self.task.abort();
        let _ = write_hops(&self.hops);
        println!(
            "saving the state: waiting for the pipeline to drain (at most {} s)",
            DRAIN_TIMEOUT.as_secs()
        );
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        loop {
            match state::settled_snapshot(
                &self.clients,
                &self.scope,
                &self.progress,
                &self.hops,
                SETTLE_WAIT,
            )
            .await
            {
                Ok(Some(snapshot)) => {
                    match save(&self.dir, snapshot, &self.saved) {
                        Ok(Some(s)) => println!(
                            "saved {} items and {} dead-letter messages to {}",
                            s.item_count(),
                            s.message_count(),
                            state::snapshot_path(&self.dir).display()
                        ),
                        Ok(None) => println!("state unchanged since the last snapshot"),
                        Err(e) => eprintln!("!! cannot save the state: {e}"),
                    }
                    return;
                }
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(250)).await,
                Ok(None) => {
                    let queued = state::work_queued(&self.clients, &self.scope).await.unwrap_or(0);
                    eprintln!(
                        "!! the pipeline did not settle within {} s ({} stream records and {queued} queue messages unfinished); \
                         the last settled snapshot is kept, later changes are lost",
                        DRAIN_TIMEOUT.as_secs(),
                        self.progress.unprocessed()
                    );
                    return;
                }
                Err(e) => {
                    eprintln!("!! cannot take the last snapshot: {e}; the last saved one is kept");
                    return;
                }
            }
        }
    }
}

async fn run(
    clients: Clients,
    scope: Scope,
    progress: Arc<Progress>,
    hops: Hops,
    dir: PathBuf,
    saved: Arc<Mutex<Saved>>,
) {
    let mut hops_written = u64::MAX;
    let mut next_snapshot = Instant::now() + SNAPSHOT_INTERVAL;
    let mut complained = false;
    loop {
        tokio::time::sleep(RETRY).await;
        if hops.count() != hops_written {
            hops_written = hops.count();
            let _ = write_hops(&hops);
        }
        if Instant::now() < next_snapshot {
            continue;
        }
        match state::settled_snapshot(&clients, &scope, &progress, &hops, SETTLE_WAIT).await {
            Ok(Some(snapshot)) => {
                next_snapshot = Instant::now() + SNAPSHOT_INTERVAL;
                if let Err(e) = save(&dir, snapshot, &saved) {
                    if !complained {
                        eprintln!("!! cannot save the state: {e}");
                        complained = true;
                    }
                } else {
                    complained = false;
                }
            }
            // Busy: try again at the next turn.
            Ok(None) => {}
            Err(e) => {
                next_snapshot = Instant::now() + SNAPSHOT_INTERVAL;
                if !complained {
                    eprintln!("!! cannot take a snapshot of the state: {e}");
                    complained = true;
                }
            }
        }
    }
}

fn write_hops(hops: &Hops) -> std::io::Result<()> {
    hops.write_recent(&hops_path(), HOPS_KEPT)
}

/// Writes the snapshot unless its data equals the last one written; returns it if written.
fn save(dir: &Path, snapshot: Snapshot, saved: &Mutex<Saved>) -> crate::Result<Option<Snapshot>> {
    let content = without_time(snapshot.clone());
    if let Ok(saved) = saved.lock()
        && saved.content.as_ref() == Some(&content)
    {
        return Ok(None);
    }
    snapshot.save(dir)?;
    if let Ok(mut saved) = saved.lock() {
        saved.content = Some(content);
    }
    Ok(Some(snapshot))
}

/// The snapshot without its time, which changes at every snapshot.
fn without_time(mut snapshot: Snapshot) -> Snapshot {
    snapshot.taken_at.clear();
    snapshot
}
