//! `cargo xtask`: the project's automation, one module per subcommand.
//!
//! - `cargo xtask test`: formatting, lints, every test suite and the docs; what CI runs.
//! - `cargo xtask coverage`: line coverage per crate (cargo-tarpaulin).
//! - `cargo xtask node`: builds the Node addon and runs the TypeScript suites.
//! - `cargo xtask bench <suite>`: benchmarks against a peer, as ratios.

mod bench;
mod coverage;
mod node;
mod test;
mod tidy;

use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(args.get(1..).unwrap_or_default()),
        Some("coverage") => coverage::run(args.get(1..).unwrap_or_default()),
        Some("bench") => bench::run(args.get(1..).unwrap_or_default()),
        Some("node") => node::run(args.get(1..).unwrap_or_default()),
        Some("help" | "-h" | "--help") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!(
            "unknown subcommand {other:?}; see `cargo xtask help`"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <command>\n\n\
         commands:\n  \
         test       fmt --check, clippy -D warnings, every test suite, docs with warnings denied\n  \
         coverage   line coverage per crate with cargo-tarpaulin (installs it when missing)\n  \
         node       build the Node addon (napi-rs) and run the TypeScript suites (--release)\n  \
         bench      benchmarks against a peer in the same run (`cargo xtask bench` lists them)"
    );
}

/// The workspace root (the parent of `xtask/`).
fn root() -> std::path::PathBuf {
    let here = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map_or(here.clone(), std::path::Path::to_path_buf)
}

/// `cargo` as the outer cargo invoked us.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.current_dir(root());
    cmd
}

/// Runs one named step, printing a header and its duration; fails on a non-zero exit.
fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    println!("\n==> {name}");
    let started = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: could not start {:?}: {e}", cmd.get_program()))?;
    let secs = started.elapsed().as_secs_f32();
    if status.success() {
        println!("<== {name}: ok ({secs:.1}s)");
        Ok(())
    } else {
        Err(format!("{name} failed ({status}) after {secs:.1}s"))
    }
}
