//! `gar-artifactregistry`: the Artifact Registry REST v1 client of gar.
//!
//! - [`Client`]: a cheap-to-clone handle over a [`gar_transport::Transport`];
//!   one method per call, each returning a request builder (`set_*` for
//!   request fields, `with_*` for per-call options, `send()`).
//! - Lists ([`List`]) page with `pageToken` and stream [`by_page`](List::by_page)
//!   or [`by_item`](List::by_item); long-running calls ([`LongRunning`]) poll
//!   their operation with backoff and a deadline ([`PollingPolicy`]).
//! - [`FileDownload`]: file content streamed and checked against its SHA-256.
//! - [`Cleanup`]: cleanup policies evaluated locally (a dry-run report) or
//!   applied through batch deletes.
//! - [`model`]: the API's resources in their ProtoJSON form.
//!
//! Errors are [`gar_core::Error`]s: an answer's `google.rpc.Status` is mapped
//! with the call's resources, so a missing repository, package, version or tag
//! each has its own [`ErrorKind`](gar_core::ErrorKind).
//!
//! ```no_run
//! use std::sync::Arc;
//! use futures_util::TryStreamExt;
//! use gar_artifactregistry::Client;
//! use gar_auth::{ApplicationDefault, CachedTokenProvider};
//! use gar_core::names::LocationName;
//! use gar_transport::Transport;
//!
//! # async fn demo() -> Result<(), gar_core::Error> {
//! let transport = Transport::builder().build()?;
//! let credentials = ApplicationDefault::new(transport.token_http()).find().await?;
//! let transport = transport.with_credentials(Arc::new(CachedTokenProvider::new(credentials)));
//! let client = Client::new(transport);
//! let location: LocationName = "projects/my-project/locations/us-central1".parse()?;
//! let repositories: Vec<_> = client.list_repositories(&location).by_item().try_collect().await?;
//! for r in repositories {
//!     println!("{} ({})", r.name, r.format);
//! }
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod api;
mod cleanup;
mod client;
mod download;
mod lro;
pub mod model;
mod request;

pub use cleanup::{Cleanup, CleanupApplied, CleanupPlan};
pub use client::{Client, ClientBuilder, DEFAULT_ENDPOINT};
pub use download::{DownloadFile, FileDownload};
pub use lro::PollingPolicy;
pub use request::{
    BatchDeleteOutcome, BatchDeleteVersions, CreateRepository, DeleteVersion, List, LongRunning,
    Request, TestIamPermissions, UpdateRepository,
};
