//! `gar-containeranalysis` end to end against the emulator over loopback, every
//! call over gRPC and over REST; one module per capability.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

mod calls;
mod common;
mod errors;
mod observe;
mod summary;
mod waiter;
