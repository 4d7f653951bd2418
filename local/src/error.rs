//! The one error type of the local stack: every failure says what was being done and,
//! where a person can fix it, how.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the emulator's virtualenv is missing ({0}): run `make tools` (or `make test`) first")]
    ToolsMissing(PathBuf),

    #[error("cannot start the emulator ({command}): {source}")]
    EmulatorSpawn { command: String, source: std::io::Error },

    #[error("the emulator exited before answering ({status}); its output:\n{output}")]
    EmulatorExited { status: String, output: String },

    #[error("the emulator at {endpoint} did not answer within {waited:?}; its output:\n{output}")]
    EmulatorTimeout {
        endpoint: String,
        waited: Duration,
        output: String,
    },

    #[error("no free port for the emulator after {attempts} attempts")]
    NoFreePort { attempts: u32 },

    #[error("HTTP {method} {url}: {message}")]
    Http {
        method: &'static str,
        url: String,
        message: String,
    },

    #[error("cannot read {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },

    #[error("cannot write {path}: {source}")]
    WriteFile { path: PathBuf, source: std::io::Error },

    #[error("template: {0}")]
    Template(String),

    #[error("redrive: {0}")]
    Redrive(String),

    #[error("replay: {0}")]
    Replay(String),

    #[error("reconcile: {0}")]
    Reconcile(String),

    #[error("template, {at}: {message}")]
    Intrinsic { at: String, message: String },

    #[error("{action}: {message}")]
    Aws { action: String, message: String },

    #[error(
        "{resource} already exists on the emulator with a different {what}: reset the emulator (or restart it) to apply the template"
    )]
    Drift { resource: String, what: String },

    #[error("JWT key pair: {0}")]
    KeyPair(String),

    #[error("no function {0} in the template")]
    UnknownFunction(String),

    #[error(
        "{variable} differs between functions: {first_function} sets {first:?}, {second_function} sets {second:?}"
    )]
    EnvConflict {
        variable: String,
        first_function: String,
        first: String,
        second_function: String,
        second: String,
    },

    #[error("{0}")]
    Process(String),
}

impl Error {
    /// An SDK error with its full chain (the top-level Display of SDK errors is just
    /// "service error", which tells nobody anything).
    pub(crate) fn aws<E>(action: impl Into<String>, err: E) -> Error
    where
        E: std::error::Error + 'static,
    {
        Error::Aws {
            action: action.into(),
            message: aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string(),
        }
    }

    pub(crate) fn intrinsic(at: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Intrinsic {
            at: at.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
