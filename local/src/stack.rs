//! The whole local stack for tests: an emulator on a free port, provisioned from the
//! repository's template.yaml.

use std::path::PathBuf;
use std::sync::OnceLock;

use aws_config::SdkConfig;

use crate::emulator::{self, Emulator};
use crate::error::{Error, Result};
use crate::provision::{self, Options, Provisioned};
use crate::template::Template;

/// The stack name locally; physical names are `mrmrthon-<LogicalId>`.
pub const STACK_NAME: &str = "mrmrthon";

#[derive(Debug)]
pub struct Stack {
    emulator: Emulator,
    provisioned: Provisioned,
}

impl Stack {
    /// Starts an emulator on a free port and provisions template.yaml on it. Callable
    /// from sync code and from inside a tokio runtime alike.
    pub fn start() -> Result<Stack> {
        let emulator = Emulator::start(None)?;
        let provisioned =
            provision_blocking(emulator.endpoint(), &template_path(), Options::new(STACK_NAME))?;
        Ok(Stack {
            emulator,
            provisioned,
        })
    }

    /// One stack per test process, started on first use. Panics (the test fails, it never
    /// skips) when the emulator cannot start, with the reason and how to fix it.
    pub fn shared() -> &'static Stack {
        static SHARED: OnceLock<Stack> = OnceLock::new();
        SHARED.get_or_init(|| match Stack::start() {
            Ok(stack) => stack,
            Err(e) => panic!("the local stack cannot start: {e}"),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        self.emulator.endpoint()
    }

    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    pub fn provisioned(&self) -> &Provisioned {
        &self.provisioned
    }

    /// A fresh SDK configuration for this stack's emulator. Build clients from it inside
    /// the runtime that uses them: SDK clients must not cross tokio runtimes.
    pub async fn sdk_config(&self) -> SdkConfig {
        emulator::sdk_config(self.endpoint())
    }
}

/// `<repo>/template.yaml`.
pub fn template_path() -> PathBuf {
    emulator::repo_root().join("template.yaml")
}

/// Provisions on a dedicated thread with its own runtime, so that it works whether or not
/// the caller is inside a runtime, and no SDK client outlives the runtime it was built in.
pub fn provision_blocking(
    endpoint: &str,
    template: &std::path::Path,
    options: Options,
) -> Result<Provisioned> {
    let template = Template::from_path(template)?;
    let endpoint = endpoint.to_owned();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Process(format!("cannot build a tokio runtime: {e}")))?;
                runtime.block_on(provision::provision(
                    &emulator::sdk_config(&endpoint),
                    &template,
                    &options,
                ))
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
