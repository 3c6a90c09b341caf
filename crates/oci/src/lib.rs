//! `gar-oci`: the Docker/OCI Distribution v2 client of gar, for Google Artifact
//! Registry (`{location}-docker.pkg.dev`) and any registry that speaks the
//! protocol.
//!
//! - [`Registry`] and [`Repository`]: cheap-to-clone handles; every call is a
//!   method on a repository returning a request builder (`with_*`, then `send()`).
//! - [`RegistryAuth`]: anonymous, Basic (htpasswd, GAR's `oauth2accesstoken`,
//!   `_json_key`, `_json_key_base64`), Google access tokens exchanged at the
//!   challenge's realm or sent directly; registry tokens are cached per
//!   repository and actions until they expire, and a 401 refreshes once.
//! - Manifests ([`Repository::get_manifest`], `head_manifest`, `put_manifest`,
//!   `delete_manifest`, `delete_tag`): verified against the digest asked for or
//!   `Docker-Content-Digest`, kept byte for byte ([`manifest`]).
//! - Platforms ([`Repository::get_platforms`]): an index's entries, or the
//!   platform an image manifest's config names ([`Repository::get_config`]:
//!   at most [`manifest::MAX_CONFIG_BYTES`], verified against its digest).
//! - Tags and referrers as streams ([`Repository::list_tags`],
//!   [`Repository::list_referrers`]).
//! - Blobs: [`Repository::head_blob`], [`Repository::get_blob`] (a stream verified
//!   as bytes flow, resumed with `Range` after a dropped connection),
//!   [`Repository::download_blob`] (never leaves a partial file),
//!   [`Repository::upload_blob`] (monolithic, streamed or chunked per
//!   [`UploadMode`], resumed from the registry's offset, falling back when
//!   chunks are refused, skipping blobs present), [`Repository::mount_blob`].
//! - Images: [`Repository::push_image`] from an OCI image layout ([`layout`]),
//!   [`Repository::pull_image`] into one, [`Repository::copy_image`] across
//!   repositories and registries (every platform of an index; mounts within a
//!   registry), with bounded concurrency and [`progress`] callbacks.
//!
//! Every call goes through [`gar_transport::Transport`] (retries per design.md's
//! table, circuit breaker, timeouts, `gar.oci.*` spans and metrics); every
//! failure is a [`gar_core::Error`]. Blobs stream: memory stays bounded whatever
//! their size.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gar_core::Error> {
//! use gar_oci::{Registry, RegistryAuth};
//! use gar_oci::layout::Layout;
//!
//! let registry = Registry::builder("http://127.0.0.1:5000").build()?;
//! let app = registry.repository("team/app")?;
//! let layout = Layout::create("/tmp/app").await?;
//! let pulled = app.pull_image("v1", &layout).send().await?;
//! let mirror = registry.repository("mirror/app")?;
//! app.copy_image("v1", &mirror).send().await?;
//! println!("{} ({} bytes)", pulled.digest, pulled.bytes_transferred);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod auth;
mod blobs;
pub mod digest;
mod fsio;
mod http;
mod image;
pub mod layout;
mod lists;
pub mod manifest;
mod manifests;
pub mod progress;
mod registry;
mod upload;
pub mod wire;

pub use auth::RegistryAuth;
pub use blobs::{BlobStream, DownloadBlob, GetBlob};
pub use image::{CopyImage, PullImage, PushImage, TransferReport};
pub use lists::{ListReferrers, ListRepositories, ListTags};
pub use manifests::{GetManifest, PutManifest};
pub use registry::{
    DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_BELOW, Registry, RegistryBuilder, Repository, UploadMode,
};
pub use upload::{BlobSource, UploadBlob, UploadOutcome};
