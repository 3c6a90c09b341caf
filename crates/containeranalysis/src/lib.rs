//! `gar-containeranalysis`: vulnerability data from Container Analysis and Grafeas,
//! over gRPC or REST.
//!
//! - [`Client`]: a cheap-to-clone handle; every call is a request builder
//!   ([`builders`]) over a [`stub::Stub`] (gRPC or REST, or a mock in tests).
//!   Occurrences and notes (list, get, create), the vulnerability summary, an
//!   image's [`report::VulnerabilityReport`] and SBOM references, and a waiter
//!   that polls until the analysis of a pushed image has finished.
//! - [`filter`]: the filter expressions of listings, and resource URLs.
//! - [`report`]: reports and summaries with counts by severity.
//!
//! Failures are [`gar_core::Error`]s: gRPC statuses through `Error::from_grpc`,
//! REST answers through `Error::from_http`, so `NOT_FOUND`, `PERMISSION_DENIED`
//! and the rest land in the same kinds whichever protocol carried them.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use gar_containeranalysis::Client;
//! use gar_containeranalysis::filter::OccurrenceFilter;
//! use gar_core::endpoints::Endpoints;
//! use gar_proto::grafeas::v1::NoteKind;
//!
//! # async fn demo(transport: gar_transport::Transport) -> Result<(), gar_core::Error> {
//! let client = Client::builder()
//!     .transport(transport)
//!     .endpoints(&Endpoints::emulator("http://127.0.0.1:8080")?)
//!     .build()?;
//! let mut vulnerabilities = client
//!     .list_occurrences(&"my-project".parse()?)
//!     .set_filter(OccurrenceFilter::new().kind(NoteKind::Vulnerability))
//!     .set_page_size(100)
//!     .by_item();
//! while let Some(o) = vulnerabilities.try_next().await? {
//!     println!("{} {}", o.resource_uri, o.note_name);
//! }
//! # Ok(()) }
//! ```

pub mod builders;
mod client;
pub mod filter;
mod grpc;
mod names;
pub mod report;
mod rest;
pub mod stub;

pub use client::{Client, ClientBuilder, DEFAULT_ENDPOINT, Protocol};
