//! `gar-artifactregistry`: the Artifact Registry REST v1 client of gar.
//!
//! - [`model`]: the API's resources in their ProtoJSON form.

pub mod model;
