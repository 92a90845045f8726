//! One integration-test binary (like ripgrep's `tests/tests.rs`): every
//! module here drives the real `bantin` binary or the library end to end.

mod browser;
mod cli;
mod golden;
mod server;
mod util;
