//! login's tests: its scenarios over the fakes and over DynamoDB, its events, its document.
//! One binary (not one a file): the SDK's and the router's generic code compiles once (it
//! was most of make test's build).

mod common;

mod debug_redaction;
mod dynamo;
mod events;
mod openapi;
