//! log-mailer: mails the people an activity-log entry concerns, through SES.
//!
//! - `notice`: what an entry tells (typed from its `details`) and whom it concerns.
//! - `recipients`: the Users and Races tables as the mailer reads them (profiles,
//!   a marathon's participants, page by page).
//! - `account_mail`: the texts of the account-lifecycle security mails (password changed).
//! - `compose`: subject, text and HTML in Korean and English (the deployment's language
//!   first), made one multipart/alternative MIME message; header and HTML safety.
//! - `send`: the SES port, its SendRawEmail adapter, error classes and retries.
//! - `budget`: the invocation's deadline, so work stops before Lambda's timeout.
//! - `continuation`: where a marathon's mailing goes on when one invocation cannot
//!   finish it (a new part in the ActivityLog table, hence a new stream record).
//! - `deferred`: mails SES cannot take now (throttling, the daily quota, an outage) wait
//!   on MailRetryQueue, which log-mailer consumes too, security mails first.
//! - `handler`: the stream batch: INSERT records in order, one mail per (entry,
//!   recipient) through idempotency records, partial failures by sequence number.
//! - `window`: marathon edits mailed at most once per marathon per window, with a
//!   summary of what changed.
//! - `config`: init from the environment, clients once per container.

pub mod account_mail;
pub mod budget;
pub mod compose;
pub mod config;
pub mod continuation;
pub mod deferred;
pub mod handler;
pub mod notice;
pub mod recipients;
pub mod send;
pub mod window;

pub use config::{Settings, bootstrap};
pub use handler::{Limits, Mailer};
