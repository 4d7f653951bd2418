//! record-api: the marathon results HTTP API for runners and organizers.
//! `state` holds the ports and the token verifier; `usecases` the rules over those ports,
//! one module per aggregate; `routes` the thin HTTP handlers around them, one module per
//! resource; `contract` the request and response types (and so the OpenAPI document); `config` wires the real adapters during init.

pub mod config;
pub mod contract;
pub mod ranking;
pub mod routes;
pub mod state;
pub mod usecases;

pub use config::{Settings, bootstrap};
pub use routes::{openapi, router, routes};
pub use state::Api;
