//! `gar-oci`: the Docker/OCI Distribution v2 client of gar.
//!
//! - [`manifest`]: the four manifest media types as typed models that keep their
//!   exact bytes, digest verification, platform selection from an index.
//! - [`digest`]: digests computed as bytes flow.
//! - [`wire`]: `WWW-Authenticate` challenges, scopes, `Link` headers, tag lists.
//! - [`layout`]: OCI image-layout directories, written atomically and verified.

pub mod digest;
pub mod layout;
pub mod manifest;
pub mod wire;
