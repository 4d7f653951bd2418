//! login: signup, login, token refresh and logout, and the JWKS other functions verify with.
//! `auth` holds the use cases over the domain's ports; `routes` is the HTTP face;
//! `config` wires both from the environment during init.

pub mod auth;
pub mod config;
pub mod routes;

pub use auth::Auth;
pub use config::{Settings, bootstrap};
pub use routes::{openapi, router, routes};
