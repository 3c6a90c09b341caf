//! The `gar` binary against the emulator over loopback: every subcommand, its
//! table and JSON output, its exit codes, the Docker credential helper used by
//! skopeo, `gar emulator serve`, and `gar demo`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod errors;
mod helper;
mod process;
mod registry;
mod resources;
