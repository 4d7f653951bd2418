//! The local stack of mrmrthon: the AWS emulator's lifecycle, provisioning it from
//! template.yaml, and what AWS's control plane would do that the emulator does not: event
//! source mappings (`esm`), the HTTP API (`gateway`), plus a Discord stand-in (`sink`) and
//! a mailbox for sent mail (`mailbox`). Everything is derived from the template; nothing
//! names a particular table, queue or function.

pub mod conditions;
pub mod correlation;
pub mod dev;
pub mod emulator;
pub mod error;
pub mod esm;
pub mod function_host;
pub mod gateway;
pub mod hops;
pub mod http_client;
pub mod intrinsics;
pub mod invoke;
pub mod mailbox;
pub mod moto_api;
pub mod pem;
pub mod provision;
pub mod replay;
pub mod router;
pub mod services;
pub mod sink;
pub mod stack;
pub mod state;
pub mod template;
pub mod timing;

pub use emulator::{Emulator, sdk_config};
pub use error::{Error, Result};
pub use hops::{Hop, HopKind, Hops};
pub use invoke::{HandlerError, InProcess, InvokeError, Invoker, WatchInvoker};
pub use provision::{Function, KeyPairSecrets, Options, Provisioned, Resource, provision};
pub use services::{ServiceOptions, Services};
pub use stack::Stack;
pub use template::Template;
pub use timing::Timing;
