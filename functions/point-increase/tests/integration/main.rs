//! Integration tests, one binary: each module was its own test target (one emulator
//! start and one link each); together they build and start once.

mod leaderboard;
mod ledger;
mod sample_events;
