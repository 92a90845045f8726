//! The `bantin` command: sets up logging, runs the CLI, maps errors to an
//! exit code. The only place besides `cli` that uses `anyhow`.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: bantin::memory::HugePageAllocator = bantin::memory::HugePageAllocator;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BANTIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match bantin_cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[path = "cli/mod.rs"]
mod bantin_cli;
