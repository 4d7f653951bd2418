//! record-api's tests: its routes and rules over the emulator, and its document. One binary
//! (not one a file): the shared stack starts once, and the SDK's and the router's generic
//! code compiles once (it was most of make test's build).

mod common;

mod authorization;
mod deleted_account;
mod entries;
mod events;
mod imports;
mod leaderboard;
mod load;
mod marathons;
mod openapi;
mod points;
mod race_day;
mod records;
mod results;
mod verification;
