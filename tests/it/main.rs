//! One integration-test binary (like ripgrep's `tests/tests.rs`): every
//! module here drives the real `bantin` binary or the library end to end.

mod audio;
mod browser;
mod bulletin;
mod bulletin_server;
mod cli;
mod cost;
mod delivery;
mod feed;
mod golden;
mod hooks;
mod hostile;
mod ingest;
mod listen;
mod listen_cli;
mod listen_server;
mod normalize;
mod piper;
mod platform;
mod pressure;
mod segment;
mod server;
mod server_prepared;
mod tts;
mod util;
mod vendors;
mod workflow;
