//! `point-increase`: not built yet; its issue describes what it will do.
//! The crate exists so the workspace has its final shape from the start.

fn main() {}
