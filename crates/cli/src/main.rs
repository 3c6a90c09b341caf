//! `gar`: the command line of gar. Run `gar --help`, or `gar demo` for a tour
//! against an in-process emulator.
//!
//! Invoked as `docker-credential-gar` (a link or copy of this binary), it is
//! the Docker credential helper: `docker-credential-gar get` reads a registry
//! URL on standard input and prints `{"ServerURL", "Username", "Secret"}`.

#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod exit;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::Out;

/// The name under which the binary is the Docker credential helper.
const HELPER_NAME: &str = "docker-credential-gar";

fn main() -> ExitCode {
    let argv0 = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    if argv0.trim_end_matches(".exe") == HELPER_NAME {
        let action = std::env::args().nth(1).unwrap_or_default();
        return runtime.block_on(cmd::auth::docker_helper_main(&action));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let out = Out::new(cli.global.output);
    let result = runtime.block_on(run(cli, &out));
    // Background tasks (connection pools) end with the runtime.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::from(exit::code(&e))
        }
    }
}

async fn run(cli: Cli, out: &Out) -> gar::Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Emulator(c) => cmd::emulator::run(c, out).await,
        Command::Completions(c) => cmd::completions(c),
        Command::Demo(d) => cmd::demo::run(d, g, out).await,
        Command::Auth(c) => cmd::auth::run(c, g, out).await,
        command => {
            let client = cmd::client(g).await?;
            let result = if g.replicas.is_empty() {
                cmd::resources::run(command, &client, g, out).await
            } else {
                cmd::resources::run_with_failover(command, &client, g, out).await
            };
            if g.record.is_some() {
                client.save_recording()?;
            }
            result
        }
    }
}
