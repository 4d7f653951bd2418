//! Integration tests, one binary: each module was its own test target (one emulator
//! start and one link each); together they build and start once.

mod erasure;
mod idempotency;
mod import_contract;
mod points;
mod points_contract;
mod race_contract;
mod race_day;
mod races;
mod redrive;
mod sdk_config;
mod tokens;
