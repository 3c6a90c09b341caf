//! OCI image-layout directories: the on-disk form images are pushed from and pulled
//! into (`oci-layout`, `index.json`, `blobs/<algorithm>/<hex>`).
//!
//! Writes never leave a half-written file where a complete one is expected: a blob
//! is written to a temporary file beside its final place, its digest is checked as
//! the bytes arrive, and only a verified blob is renamed into place. A failed or
//! dropped write removes its temporary file.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gar_core::Error> {
//! use gar_oci::layout::Layout;
//!
//! let layout = Layout::create("/tmp/image").await?;
//! let digest = gar_oci::digest::sha256(b"hello");
//! let mut blob = layout.begin_blob(&digest).await?;
//! blob.write(b"hel").await?;
//! blob.write(b"lo").await?;
//! blob.commit().await?; // verified, then renamed into blobs/sha256/<hex>
//! assert!(layout.has_blob(&digest).await);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use gar_core::Error;
use gar_core::error::ErrorKind;
use gar_core::ids::Digest;
use serde::{Deserialize, Serialize};
use std::io::Write as _;

use crate::digest::DigestHasher;
use crate::fsio::{FileSink, io_error, temp_path};
use crate::manifest::{Descriptor, ImageIndex, media_types};

/// The annotation that names a manifest of a layout (`org.opencontainers.image.ref.name`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The layout version written to `oci-layout`.
const LAYOUT_VERSION: &str = "1.0.0";

/// An OCI image-layout directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutMarker {
    image_layout_version: String,
}

/// Runs `f` on the runtime's blocking pool.
async fn blocking<T: Send + 'static>(
    what: &str,
    path: &Path,
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        io_error(
            what,
            path,
            std::io::Error::other(format!("a file task stopped: {e}")),
        )
    })?
}

/// Writes `bytes` to `path` through a temporary file beside it (synced, then
/// renamed), creating the directory if needed.
fn write_atomic_sync(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = temp_path(&dir, name);
    let result = std::fs::create_dir_all(&dir).and_then(|()| {
        let mut f = std::fs::File::create(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&temp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(|e| io_error("could not write", path, e))
}

fn open_sync(root: PathBuf) -> Result<Layout, Error> {
    let marker_path = root.join("oci-layout");
    let text = std::fs::read(&marker_path).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} is not an OCI image layout (no readable oci-layout file: {e})",
                root.display()
            ),
        )
    })?;
    let marker: LayoutMarker = serde_json::from_slice(&text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{} is malformed: {e}", marker_path.display()),
        )
    })?;
    if !marker.image_layout_version.starts_with("1.") {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} has layout version {}; gar reads 1.x",
                root.display(),
                marker.image_layout_version
            ),
        ));
    }
    Ok(Layout { root })
}

fn create_sync(root: PathBuf) -> Result<Layout, Error> {
    if std::fs::metadata(root.join("oci-layout")).is_ok() {
        return open_sync(root);
    }
    std::fs::create_dir_all(root.join("blobs"))
        .map_err(|e| io_error("could not create", &root, e))?;
    let marker = serde_json::to_vec(&LayoutMarker {
        image_layout_version: LAYOUT_VERSION.to_owned(),
    })
    .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    write_atomic_sync(&root.join("oci-layout"), &marker)?;
    write_index_sync(&root, &empty_index())?;
    Ok(Layout { root })
}

fn read_index_sync(root: &Path) -> Result<ImageIndex, Error> {
    let path = root.join("index.json");
    let bytes = std::fs::read(&path).map_err(|e| io_error("could not read", &path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{} is malformed: {e}", path.display()),
        )
    })
}

fn write_index_sync(root: &Path, index: &ImageIndex) -> Result<(), Error> {
    let bytes =
        serde_json::to_vec_pretty(index).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    write_atomic_sync(&root.join("index.json"), &bytes)
}

fn add_manifest_sync(
    root: &Path,
    mut descriptor: Descriptor,
    name: Option<&str>,
) -> Result<(), Error> {
    let mut index = read_index_sync(root)?;
    if let Some(n) = name {
        descriptor
            .annotations
            .insert(REF_NAME.to_owned(), n.to_owned());
        index
            .manifests
            .retain(|d| d.annotations.get(REF_NAME).map(String::as_str) != Some(n));
    } else {
        index.manifests.retain(|d| d.digest != descriptor.digest);
    }
    index.manifests.push(descriptor);
    write_index_sync(root, &index)
}

impl Layout {
    /// Opens an existing layout; it must have `oci-layout` and `index.json`.
    pub async fn open(root: impl AsRef<Path>) -> Result<Self, Error> {
        let root = root.as_ref().to_path_buf();
        let at = root.clone();
        blocking("could not open", &at, move || open_sync(root)).await
    }

    /// Creates a layout at `root` (the directory may exist; an existing layout is
    /// kept and opened). One blocking hop does it all.
    pub async fn create(root: impl AsRef<Path>) -> Result<Self, Error> {
        let root = root.as_ref().to_path_buf();
        let at = root.clone();
        blocking("could not create", &at, move || create_sync(root)).await
    }

    /// The layout's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` lives (whether or not it exists).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    /// Whether the blob `digest` is present.
    pub async fn has_blob(&self, digest: &Digest) -> bool {
        tokio::fs::metadata(self.blob_path(digest))
            .await
            .is_ok_and(|m| m.is_file())
    }

    /// Reads a whole (small) blob, such as a manifest or config, checking its digest.
    pub async fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        let path = self.blob_path(digest);
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| io_error("could not read", &path, e))?;
        let mut h = DigestHasher::for_digest(digest);
        h.update(&bytes);
        h.verify(digest).map_err(|e| {
            Error::new(
                ErrorKind::BlobDigestMismatch,
                format!("{} is corrupt: {}", path.display(), e.message()),
            )
        })?;
        Ok(bytes)
    }

    /// Opens a blob for streaming reads.
    pub async fn open_blob(&self, digest: &Digest) -> Result<tokio::fs::File, Error> {
        let path = self.blob_path(digest);
        tokio::fs::File::open(&path)
            .await
            .map_err(|e| io_error("could not open", &path, e))
    }

    /// Starts writing the blob `digest`; see [`BlobWriter`].
    pub async fn begin_blob(&self, digest: &Digest) -> Result<BlobWriter, Error> {
        let sink = FileSink::create(self.blob_path(digest), digest.clone()).await?;
        Ok(BlobWriter { sink, size: None })
    }

    /// Whether the blob of `descriptor` is present with the size it declares.
    pub async fn has_descriptor(&self, descriptor: &Descriptor) -> bool {
        tokio::fs::metadata(self.blob_path(&descriptor.digest))
            .await
            .is_ok_and(|m| m.is_file() && m.len() == descriptor.size)
    }

    /// Writes a whole (small) blob, verified, and returns its path. The bytes
    /// are checked against `digest` before anything is written.
    pub async fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<PathBuf, Error> {
        let mut h = DigestHasher::for_digest(digest);
        h.update(bytes);
        h.verify(digest).map_err(|e| {
            Error::new(
                ErrorKind::BlobDigestMismatch,
                format!(
                    "the {} bytes given as {digest} do not match it ({}); nothing was written",
                    bytes.len(),
                    e.message()
                ),
            )
        })?;
        let path = self.blob_path(digest);
        self.write_atomic(&path, bytes).await?;
        Ok(path)
    }

    /// Reads `index.json`.
    pub async fn read_index(&self) -> Result<ImageIndex, Error> {
        let root = self.root.clone();
        blocking("could not read", &self.root, move || read_index_sync(&root)).await
    }

    /// Replaces `index.json` (atomically).
    pub async fn write_index(&self, index: &ImageIndex) -> Result<(), Error> {
        let root = self.root.clone();
        let index = index.clone();
        blocking("could not write", &self.root, move || {
            write_index_sync(&root, &index)
        })
        .await
    }

    /// The manifest descriptor named `name` (by the `org.opencontainers.image.ref.name`
    /// annotation); with `None`, the only manifest of the index.
    pub async fn find(&self, name: Option<&str>) -> Result<Descriptor, Error> {
        let index = self.read_index().await?;
        match name {
            Some(n) => index
                .manifests
                .into_iter()
                .find(|d| d.annotations.get(REF_NAME).map(String::as_str) == Some(n))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::ManifestNotFound,
                        format!("{} has no image named {n:?}", self.root.display()),
                    )
                }),
            None => match index.manifests.len() {
                1 => index
                    .manifests
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::new(ErrorKind::ManifestNotFound, "empty index")),
                0 => Err(Error::new(
                    ErrorKind::ManifestNotFound,
                    format!("{} holds no image", self.root.display()),
                )),
                n => Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{} holds {n} images; name the one to use",
                        self.root.display()
                    ),
                )),
            },
        }
    }

    /// Adds (or replaces, by name) a manifest in `index.json`, named `name`.
    pub async fn add_manifest(
        &self,
        descriptor: Descriptor,
        name: Option<&str>,
    ) -> Result<(), Error> {
        let root = self.root.clone();
        let name = name.map(str::to_owned);
        blocking("could not write", &self.root, move || {
            add_manifest_sync(&root, descriptor, name.as_deref())
        })
        .await
    }

    /// The end of a pull, in one blocking hop: writes the manifests the layout
    /// lacks (already verified: `(digest, bytes)`), then names `descriptor`
    /// `name` in `index.json`.
    pub(crate) async fn finish_pull(
        &self,
        manifests: Vec<(Digest, Bytes)>,
        descriptor: Descriptor,
        name: String,
    ) -> Result<(), Error> {
        let layout = self.clone();
        blocking("could not write", &self.root, move || {
            for (digest, bytes) in &manifests {
                let path = layout.blob_path(digest);
                if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                    write_atomic_sync(&path, bytes)?;
                }
            }
            add_manifest_sync(&layout.root, descriptor, Some(&name))
        })
        .await
    }

    async fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        let path = path.to_path_buf();
        let bytes = bytes.to_vec();
        let at = path.clone();
        blocking("could not write", &at, move || {
            write_atomic_sync(&path, &bytes)
        })
        .await
    }
}

fn empty_index() -> ImageIndex {
    ImageIndex {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.to_owned()),
        artifact_type: None,
        manifests: Vec::new(),
        subject: None,
        annotations: BTreeMap::new(),
    }
}

/// A blob being written: bytes go to a temporary file (written and hashed on
/// threads of its own, so that receiving, hashing and writing overlap); `commit` verifies the
/// digest and moves the file into place. Dropping it without a commit (or a
/// failed commit) removes the temporary file.
#[derive(Debug)]
pub struct BlobWriter {
    sink: FileSink,
    size: Option<u64>,
}

impl BlobWriter {
    /// Also checks, on commit, that exactly `size` bytes were written.
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Appends bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.sink.write(Bytes::copy_from_slice(bytes)).await
    }

    /// Appends bytes without copying them.
    pub async fn write_bytes(&mut self, bytes: Bytes) -> Result<(), Error> {
        self.sink.write(bytes).await
    }

    /// How many bytes were written so far.
    pub fn written(&self) -> u64 {
        self.sink.written()
    }

    pub(crate) fn into_sink(self) -> FileSink {
        self.sink
    }

    /// Verifies the digest (and size) and moves the blob into place; returns its path.
    pub async fn commit(self) -> Result<PathBuf, Error> {
        self.sink.commit(self.size).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256;

    fn tempdir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gar-layout-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in walk(dir) {
            let name = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            if name.ends_with(".partial") {
                out.push(name);
            }
        }
        out
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    out.extend(walk(&p));
                } else {
                    out.push(p);
                }
            }
        }
        out
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn create_write_read_find() {
        let dir = tempdir("basic");
        run(async {
            let layout = Layout::create(&dir).await.unwrap();
            let again = Layout::open(&dir).await.unwrap();
            assert_eq!(again.root(), dir.as_path());
            let data = b"layer bytes";
            let d = sha256(data);
            let path = layout.write_blob(&d, data).await.unwrap();
            assert_eq!(path, dir.join("blobs/sha256").join(d.hex()));
            // Bytes that are not the digest's: refused before anything is written.
            let other = sha256(b"other bytes");
            let err = layout.write_blob(&other, data).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch);
            assert!(err.to_string().contains("nothing was written"), "{err}");
            assert!(!layout.has_blob(&other).await);
            assert_eq!(layout.read_blob(&d).await.unwrap(), data);
            let desc = Descriptor::of(media_types::OCI_MANIFEST, b"{}");
            layout.add_manifest(desc.clone(), Some("v1")).await.unwrap();
            layout
                .add_manifest(
                    Descriptor::of(media_types::OCI_MANIFEST, b"{ }"),
                    Some("v2"),
                )
                .await
                .unwrap();
            assert_eq!(layout.find(Some("v1")).await.unwrap().digest, desc.digest);
            assert_eq!(
                layout.find(Some("nope")).await.unwrap_err().kind(),
                ErrorKind::ManifestNotFound
            );
            assert_eq!(
                layout.find(None).await.unwrap_err().kind(),
                ErrorKind::InvalidArgument
            );
            // Replacing by name keeps one entry per name.
            layout.add_manifest(desc.clone(), Some("v2")).await.unwrap();
            assert_eq!(layout.read_index().await.unwrap().manifests.len(), 2);
            assert!(leftovers(&dir).is_empty());
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_or_dropped_writes_leave_nothing() {
        let dir = tempdir("fail");
        run(async {
            let layout = Layout::create(&dir).await.unwrap();
            let d = sha256(b"expected");
            let mut w = layout.begin_blob(&d).await.unwrap();
            w.write(b"something else").await.unwrap();
            assert_eq!(w.written(), 14);
            let err = w.commit().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch);
            assert!(!layout.has_blob(&d).await);
            assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));

            let w = layout.begin_blob(&d).await.unwrap();
            drop(w);
            assert!(leftovers(&dir).is_empty());

            // A corrupt blob on disk is reported, not returned.
            let target = layout.blob_path(&d);
            std::fs::write(&target, b"tampered").unwrap();
            assert_eq!(
                layout.read_blob(&d).await.unwrap_err().kind(),
                ErrorKind::BlobDigestMismatch
            );
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn open_refuses_what_is_not_a_layout() {
        let dir = tempdir("bad");
        std::fs::create_dir_all(&dir).unwrap();
        run(async {
            let err = Layout::open(&dir).await.unwrap_err();
            assert!(err.to_string().contains("not an OCI image layout"), "{err}");
            std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"2.0.0"}"#).unwrap();
            let err = Layout::open(&dir).await.unwrap_err();
            assert!(err.to_string().contains("2.0.0"), "{err}");
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
