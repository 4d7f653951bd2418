//! login: signup, login, token refresh and logout, and the JWKS other functions verify with.
//! `auth` holds the use cases over the domain's ports; `routes` is the HTTP face;
//! `config` wires both from the environment during init; `refresh_cookie` is the refresh
//! token's cookie for browsers and its CSRF rules; `account` the authenticated account
//! routes (password change, logout everywhere); `reset` password reset by mail; `verify`
//! email verification.

pub mod account;
pub mod auth;
pub mod config;
pub mod refresh_cookie;
pub mod reset;
pub mod routes;
pub mod verify;

pub use auth::Auth;
pub use config::{Settings, bootstrap};
pub use routes::{openapi, router, routes};
