//! gar-oci end to end, over loopback: against the emulator (auth, manifests,
//! tags, referrers, blobs, uploads, images, faults) and, in `interop`, against
//! Debian's `docker-registry` when it is installed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

mod auth;
mod blobs;
mod common;
mod faults;
mod images;
mod interop;
mod manifests;
mod platforms;
