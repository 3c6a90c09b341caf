//! `gar-core`: the vocabulary every gar crate shares, without any I/O.
//!
//! - [`ids`] and [`names`]: validated ids and full resource names, with GAR's
//!   percent-encoding rules.
//! - [`reference`](mod@reference): image references (`us-docker.pkg.dev/p/r/app:1.0@sha256:...`).
//! - [`location`] and [`endpoints`]: the catalogue of locations and which host
//!   serves each surface.
//! - [`format`](mod@format): repository formats and modes.
//! - [`error`]: the one [`Error`] type and its taxonomy.
//! - [`protojson`]: the JSON rules of Google's REST APIs.
//! - [`paging`]: the page-token `Stream` every list shares.
//! - [`cleanup`]: cleanup policies (REST and gcloud shapes) and their local evaluation.

pub mod cleanup;
pub mod endpoints;
pub mod error;
pub mod format;
pub mod ids;
pub mod location;
pub mod names;
pub mod paging;
pub mod protojson;
pub mod reference;

pub use error::{Error, ErrorCategory, ErrorKind};

/// The result type of gar operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
