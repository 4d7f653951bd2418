//! The local stack of mrmrthon: the AWS emulator's lifecycle and provisioning it from
//! template.yaml (later also event source mappings, the HTTP gateway, the Discord sink
//! and the mailbox). Everything here is derived from the template; nothing names a
//! particular table, queue or function.

pub mod dev;
pub mod emulator;
pub mod error;
pub mod intrinsics;
pub mod moto_api;
pub mod pem;
pub mod provision;
pub mod stack;
pub mod template;

pub use emulator::{Emulator, sdk_config};
pub use error::{Error, Result};
pub use provision::{Function, KeyPairSecrets, Options, Provisioned, Resource, provision};
pub use stack::Stack;
pub use template::Template;
