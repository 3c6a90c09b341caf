//! `gar`: a client for Google Artifact Registry.
//!
//! One [`Client`] — built once with a project, a default location and credentials
//! (Application Default Credentials unless told otherwise) — is the handle to every
//! surface: the Artifact Registry API, the Docker/OCI registry and Container
//! Analysis. It is cheap to clone and shares one transport: connections, retries by
//! error kind, circuit breakers, tracing spans, metrics and token refresh.
//!
//! Point it at the emulator with [`ClientBuilder::emulator`] or the environment
//! variable `ARTIFACT_REGISTRY_EMULATOR_HOST`; every surface then goes there.
//!
//! What the client gives (each composed from a service crate; the facade adds
//! names, defaults and composition, no protocol):
//!
//! - [`services`]: repositories, packages, versions, tags, files, docker images
//!   and cleanup (`gar-artifactregistry`), by short id or full name;
//! - [`images`]: images by tag or digest, pushed, pulled, copied, inspected and
//!   deleted (`gar-oci`), with the registry client itself ([`Client::oci`]);
//! - [`analysis`]: vulnerabilities (`gar-containeranalysis`) and the image
//!   report over many images;
//! - [`locations`]: listings across locations that name the unreachable ones,
//!   and reads that fail over between replicas.
//!
//! ```no_run
//! # async fn demo() -> gar::Result<()> {
//! let client = gar::Client::builder()
//!     .project("my-project")
//!     .location("us-central1")
//!     .build()
//!     .await?;
//! # let _ = client; Ok(()) }
//! ```

pub mod analysis;
mod client;
pub mod images;
pub mod locations;
mod resolve;
pub mod services;

pub use analysis::{ImageReport, ImageSummary, Platform, Protocol};
pub use client::{
    CLOUD_PLATFORM_SCOPE, Client, ClientBuilder, Concurrency, Credentials, EMULATOR_HOST_ENV,
    EMULATOR_TOKEN_ENV, Recording,
};
pub use gar_artifactregistry::{self as artifactregistry, PollingPolicy, model};
pub use gar_auth::{SecretString, TokenProvider};
pub use gar_containeranalysis::{self as containeranalysis, report};
pub use gar_core::endpoints::Endpoints;
pub use gar_core::{Error, ErrorCategory, ErrorKind, Result};

// The README's Rust examples compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
pub use gar_oci::{self as oci, TransferReport, layout::Layout, progress::Progress};
/// Grafeas v1 messages (notes, occurrences), for creating and reading them.
pub use gar_proto::grafeas;
pub use images::{ImageDetails, ImageName};
pub use locations::{Across, LocationFailure, Locations, Served};
pub use services::{DockerImages, Files, Packages, Repositories, Tags, Versions};

/// Names, ids and references (re-exported from `gar-core`).
pub mod names {
    pub use gar_core::ids::{Digest, FileId, PackageId, ProjectId, RepositoryId, TagId, VersionId};
    pub use gar_core::location::Location;
    pub use gar_core::names::{
        DockerImageName, FileName, LocationName, PackageName, RepositoryName, TagName, VersionName,
    };
    pub use gar_core::reference::ImageReference;
}
