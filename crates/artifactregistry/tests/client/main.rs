//! The Artifact Registry client end to end against the in-process emulator, over
//! real loopback sockets; one module per capability.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

mod calls;
mod cleanup;
mod common;
mod errors;
mod lro;
mod paging;
