//! The whole system on the local stack, one test binary (not one a file: the SDK's and the
//! router's generic code compiles once). Each whole-stack test starts a stack of its own
//! (its mappings must not read another test's queues); template_policy reads the one
//! shared stack's provisioning. make test runs this binary in two lanes: the three tests
//! that mostly wait (Makefile, STACK_WAITS) side by side, and the others two at a time.

mod account_deletion;
mod deploy_config;
mod import_race;
mod login_through_the_gateway;
mod mail_outage;
mod outage;
mod points_pipeline;
mod reconcile;
mod seed;
mod soak_short;
mod template_policy;
mod web_browser;
