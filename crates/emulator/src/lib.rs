//! `gar-emulator`: a faithful local stand-in for Google Artifact Registry on one
//! loopback port, for demos, integration tests and offline development.
//!
//! One hyper server (HTTP/1.1 and h2c on the same port) serves:
//!
//! - the Docker/OCI Distribution API v2 with GAR's paths `/v2/{project}/{repo}/{image...}`;
//! - identity: an OAuth2 token endpoint (`/token`: JWT-bearer grant verified
//!   against the seed's service-account keys, refresh-token grant), a metadata
//!   server (`/computeMetadata/v1/...`) and the Docker token endpoint (`/v2/token`);
//! - role-based authorization per repository (reader, writer, repoAdmin, admin);
//! - an admin surface on `/_emulator/` (loopback only): fault rules, request log, clock.
//!
//! Blobs are streamed to and from a content-addressed store on disk (bounded
//! memory whatever their size); with a data directory the state survives restarts.
//! The seed fills the resource tree only when the data directory holds no saved
//! state; principals, tokens and roles always come from the seed.
//!
//! One URL serves every location, so a Docker path `/v2/{project}/{repo}/...`
//! names no location: the repository is looked up in the location the
//! `X-Forwarded-Host` or `Host` header names (`us-west1-docker.pkg.dev`; gar's
//! emulator mode sends the former), else in whichever location of the
//! project holds a repository of that id (if several do: the first by name
//! that holds the image, else the first by name).
//!
//! ```no_run
//! # async fn demo() -> gar_emulator::Result<()> {
//! use gar_emulator::{Emulator, FaultRule, Seed};
//!
//! let emu = Emulator::builder()
//!     .seed(Seed::demo())
//!     .fault(FaultRule::status(503).operation("oci.blob.get").retry_after(1).times(1))
//!     .start()
//!     .await?;
//! println!("registry at {} with token {}", emu.url(), emu.token());
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![allow(
    clippy::result_large_err,
    reason = "handlers short-circuit with a ready HTTP response, moved once per request"
)]

mod admin;
mod analysis;
mod blobs;
mod faults;
mod identity;
mod oci;
mod persistence;
mod rest;
mod router;
pub mod seed;
mod server;
mod state;
mod wire;

pub use admin::RequestRecord;
pub use faults::FaultRule;
pub use seed::Seed;
pub use server::{Emulator, EmulatorBuilder, EmulatorHandle};

/// Why the emulator could not start or a call on its handle failed.
#[derive(Debug)]
pub struct Error {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, e: std::io::Error) -> Self {
        Self {
            message: context.into(),
            source: Some(Box::new(e)),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
