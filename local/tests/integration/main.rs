//! The local stack's parts against the real emulator, cargo lambda watch and processes. One
//! binary (not one a file): the SDK's and axum's generic code compiles once (it was most of
//! make test's build).

mod bucket_trigger;
mod crash;
mod emulator;
mod invoke;
mod mappings;
mod sink_and_mailbox;
mod stack;
mod state;
mod status;
mod synthetic;
