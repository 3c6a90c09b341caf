//! Integration tests of the emulator over real loopback sockets, one module per capability.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

mod analysis;
mod common;
mod faults;
mod identity;
mod oci;
mod process;
mod rest;
mod skopeo;
