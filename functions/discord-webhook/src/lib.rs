//! discord-webhook: posts each points award (SQS `discord-notify`, `points.awarded`
//! envelopes) to the Discord channel, once per award version.
//! `message` builds the Discord message of an award, `summary` the one post of a bulk import; `post` is the HTTP and retry policy; `handler`
//! runs a batch (decode, claim, post, settle); `config` wires it all during init.

pub mod config;
pub mod handler;
pub mod message;
pub mod post;
pub mod summary;

pub use config::{BootError, Settings, bootstrap};
pub use handler::{Delivery, Notifier, Outcome};
pub use message::WebhookMessage;
pub use post::{RetryPolicy, Webhook, WebhookUrl};
