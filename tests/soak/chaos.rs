//! The function faults of the soak, as an `Invoker` around the in-process handlers: a
//! function's process killed in the middle of a batch after it committed part of it (the
//! handler runs on a prefix of the records, then the invocation fails as a crashed
//! runtime's does), killed while idle (the next invocation fails without running), and
//! duplicate deliveries (the same batch handled twice at once, as SQS and a retried stream
//! batch may deliver it).

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::FutureExt;
use futures::future::BoxFuture;
use local::{Function, InProcess, InvokeError, Invoker};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// What was done to whom, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injected {
    pub invocations: u64,
    /// Killed after handling a prefix of the batch (or, for an HTTP request, the whole
    /// request: its answer is lost).
    pub killed_mid_batch: u64,
    /// Killed while idle: the next invocation finds no runtime.
    pub killed_idle: u64,
    pub duplicated: u64,
}

pub struct Chaos {
    inner: InProcess,
    /// Each kind's probability per invocation.
    kill_mid_batch: f64,
    kill_idle: f64,
    duplicate: f64,
    state: Mutex<State>,
}

struct State {
    draws: StdRng,
    /// Functions whose process was killed while idle and not yet replaced.
    dead: BTreeMap<String, bool>,
    injected: BTreeMap<String, Injected>,
    on: bool,
}

enum Plan {
    Run,
    /// Run on the first `n` records (all of an HTTP request), then die.
    DieAfter(usize),
    /// No runtime: fail at once.
    NoRuntime,
    /// Run twice at once.
    Twice,
}

impl Chaos {
    /// `share` is the soak's fault share: each invocation is killed mid-batch with a
    /// quarter of it, a process is killed while idle with an eighth, and a batch is
    /// delivered twice with a quarter.
    pub fn new(inner: InProcess, share: f64, seed: u64) -> Chaos {
        Chaos {
            inner,
            kill_mid_batch: share / 4.0,
            kill_idle: share / 8.0,
            duplicate: share / 4.0,
            state: Mutex::new(State {
                draws: StdRng::seed_from_u64(seed),
                dead: BTreeMap::new(),
                injected: BTreeMap::new(),
                on: false,
            }),
        }
    }

    /// Starts injecting (nothing is, before).
    pub fn start(&self) {
        self.state.lock().unwrap().on = true;
    }

    /// Stops injecting (the quiet phase keeps the emulator's and Discord's faults only).
    pub fn stop(&self) {
        self.state.lock().unwrap().on = false;
    }

    pub fn injected(&self) -> BTreeMap<String, Injected> {
        self.state.lock().unwrap().injected.clone()
    }

    fn plan(&self, function: &str, records: Option<usize>) -> Plan {
        let mut state = self.state.lock().unwrap();
        let State {
            draws,
            dead,
            injected,
            on,
        } = &mut *state;
        let counts = injected.entry(function.to_owned()).or_default();
        counts.invocations += 1;
        if dead.remove(function).is_some() {
            return Plan::NoRuntime;
        }
        if !*on {
            return Plan::Run;
        }
        let draw: f64 = draws.random();
        if draw < self.kill_mid_batch {
            counts.killed_mid_batch += 1;
            return Plan::DieAfter(records.map_or(1, |n| draws.random_range(0..=n)));
        }
        if draw < self.kill_mid_batch + self.kill_idle {
            // this invocation runs; the process dies after it, so the next one fails
            counts.killed_idle += 1;
            dead.insert(function.to_owned(), true);
            return Plan::Run;
        }
        if records.is_some() && draw < self.kill_mid_batch + self.kill_idle + self.duplicate {
            counts.duplicated += 1;
            return Plan::Twice;
        }
        Plan::Run
    }
}

fn exited(function: &Function, message: &str) -> InvokeError {
    InvokeError::Function {
        function: function.logical_id.clone(),
        error_type: "Runtime.ExitError".to_owned(),
        message: message.to_owned(),
    }
}

impl Invoker for Chaos {
    fn invoke<'a>(
        &'a self,
        function: &'a Function,
        event: Value,
    ) -> BoxFuture<'a, Result<Value, InvokeError>> {
        async move {
            // stream and queue batches have Records; HTTP requests do not
            let records = event.get("Records").and_then(Value::as_array).map(Vec::len);
            match self.plan(&function.logical_id, records) {
                Plan::Run => self.inner.invoke(function, event).await,
                Plan::NoRuntime => Err(exited(
                    function,
                    "the function's process was killed while idle; a fresh one serves the retry",
                )),
                Plan::DieAfter(n) => {
                    let mut prefix = event;
                    if let Some(list) = prefix.get_mut("Records").and_then(Value::as_array_mut) {
                        list.truncate(n);
                    }
                    if n > 0 || records.is_none() {
                        // what it committed stays committed; its answer is lost
                        let _ = self.inner.invoke(function, prefix).await;
                    }
                    Err(exited(function, "the function's process was killed mid-batch"))
                }
                Plan::Twice => {
                    let (first, second) = futures::join!(
                        self.inner.invoke(function, event.clone()),
                        self.inner.invoke(function, event)
                    );
                    // the mapping sees one of the two answers
                    if first.is_ok() { second.or(first) } else { first }
                }
            }
        }
        .boxed()
    }

    fn serves(&self, function: &Function) -> bool {
        self.inner.serves(function)
    }

    fn describe(&self) -> String {
        format!("{} (with the soak's function faults)", self.inner.describe())
    }
}
