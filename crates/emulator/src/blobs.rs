//! The content-addressed blob store on disk.
//!
//! Layout under the root: `blobs/{algorithm}/{hex[0..2]}/{hex}` for complete
//! content, `tmp/` for uploads in flight. Content reaches `blobs/` only by
//! rename after it was written, fsynced and its digest verified, so a reader
//! never sees a partial blob, also after a crash; `tmp/` is emptied on start.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::stream;
use gar_core::ids::{Digest, DigestAlgorithm};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use ring::digest;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::wire::{Body, BoxError};

/// Size of the chunks a blob is streamed in.
const CHUNK: usize = 256 * 1024;

/// A running hash of one algorithm.
#[derive(Clone)]
pub(crate) struct Hasher {
    ctx: digest::Context,
    algorithm: DigestAlgorithm,
}

impl Hasher {
    /// A new hash of `algorithm` (SHA-256 for anything unknown).
    pub(crate) fn new(algorithm: DigestAlgorithm) -> Self {
        let alg = match algorithm {
            DigestAlgorithm::Sha512 => &digest::SHA512,
            _ => &digest::SHA256,
        };
        Self {
            ctx: digest::Context::new(alg),
            algorithm,
        }
    }

    /// Feeds bytes.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The digest of everything fed.
    pub(crate) fn finish(self) -> Option<Digest> {
        let out = self.ctx.finish();
        Digest::from_bytes(self.algorithm, out.as_ref()).ok()
    }
}

/// The digest of `data` with `algorithm`.
pub(crate) fn digest_of(algorithm: DigestAlgorithm, data: &[u8]) -> Option<Digest> {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish()
}

/// A random lowercase hex string of `bytes` random bytes.
pub(crate) fn random_hex(bytes: usize) -> String {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    let rng = ring::rand::SystemRandom::new();
    if rng.fill(&mut buf).is_err() {
        // Falls back to time-derived bytes; uniqueness is all that matters here.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ (i as u8);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A directory removed when dropped (the store of an emulator without `--data-dir`).
#[derive(Debug)]
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory under the system temp dir.
    pub(crate) fn new() -> io::Result<Self> {
        let path = std::env::temp_dir().join(format!("gar-emulator-{}", random_hex(8)));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Flushes a directory entry to disk (after a rename into it).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` atomically: a temp file beside it, fsync, rename, fsync the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        random_hex(6)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The content-addressed store.
#[derive(Debug)]
pub(crate) struct BlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
}

/// An upload's spill file in `tmp/`, removed on drop unless committed.
#[derive(Debug)]
pub(crate) struct Spill {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    len: u64,
    hasher: Hasher,
}

impl Spill {
    /// Bytes written so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Appends `data`, hashing it.
    pub(crate) async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("spill file closed"))?;
        file.write_all(data).await?;
        self.hasher.update(data);
        self.len += data.len() as u64;
        Ok(())
    }

    /// The SHA-256 (streamed) or another algorithm's digest (re-read) of the content.
    async fn digest(&mut self, algorithm: DigestAlgorithm) -> io::Result<Option<Digest>> {
        if matches!(algorithm, DigestAlgorithm::Sha256) {
            return Ok(self.hasher.clone().finish());
        }
        let mut f = tokio::fs::File::open(&self.path).await?;
        let mut h = Hasher::new(algorithm);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            h.update(buf.get(..n).unwrap_or_default());
        }
        Ok(h.finish())
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").finish_non_exhaustive()
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Why a spill could not be committed.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The content's digest is not the one claimed.
    Mismatch {
        /// What the content hashes to.
        actual: String,
    },
    /// The disk failed.
    Io(io::Error),
}

impl BlobStore {
    /// Opens (creating) the store under `root` and empties its `tmp/`.
    pub(crate) fn open(root: &Path) -> io::Result<Self> {
        let blobs = root.join("blobs");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&blobs)?;
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        Ok(Self { blobs, tmp })
    }

    /// Where the content of `digest` lives.
    pub(crate) fn path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.blobs
            .join(digest.algorithm().name())
            .join(hex.get(..2).unwrap_or("00"))
            .join(hex)
    }

    /// The size of the stored content of `digest`, if present.
    pub(crate) async fn size(&self, digest: &Digest) -> Option<u64> {
        tokio::fs::metadata(self.path(digest))
            .await
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }

    /// A new spill file for an upload.
    pub(crate) async fn spill(&self) -> io::Result<Spill> {
        let path = self.tmp.join(format!("upload-{}", random_hex(16)));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Spill {
            path,
            file: Some(file),
            len: 0,
            hasher: Hasher::new(DigestAlgorithm::Sha256),
        })
    }

    /// Verifies that the spill's content has `expected` as digest and moves it into the store.
    pub(crate) async fn commit(
        &self,
        mut spill: Spill,
        expected: &Digest,
    ) -> Result<u64, CommitError> {
        if let Some(mut f) = spill.file.take() {
            f.flush().await.map_err(CommitError::Io)?;
            f.sync_all().await.map_err(CommitError::Io)?;
        }
        let actual = spill
            .digest(expected.algorithm())
            .await
            .map_err(CommitError::Io)?
            .ok_or_else(|| CommitError::Io(io::Error::other("hash failed")))?;
        if &actual != expected {
            return Err(CommitError::Mismatch {
                actual: actual.to_string(),
            });
        }
        let target = self.path(expected);
        let len = spill.len;
        if self.size(expected).await == Some(len) {
            return Ok(len);
        }
        let dir = target.parent().map(Path::to_path_buf).unwrap_or_default();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(CommitError::Io)?;
        tokio::fs::rename(&spill.path, &target)
            .await
            .map_err(CommitError::Io)?;
        tokio::task::spawn_blocking(move || sync_dir(&dir))
            .await
            .map_err(|e| CommitError::Io(io::Error::other(e)))?;
        Ok(len)
    }

    /// Stores small content (a manifest) and returns its SHA-256-or-given digest.
    pub(crate) async fn put(&self, bytes: Bytes, digest: &Digest) -> io::Result<()> {
        let target = self.path(digest);
        if self.size(digest).await == Some(bytes.len() as u64) {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_atomic(&target, &bytes)
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Reads small content whole (a manifest).
    pub(crate) async fn read(&self, digest: &Digest) -> io::Result<Bytes> {
        tokio::fs::read(self.path(digest)).await.map(Bytes::from)
    }

    /// Streams `len` bytes of `digest` from `start`, in bounded chunks.
    pub(crate) async fn stream(&self, digest: &Digest, start: u64, len: u64) -> io::Result<Body> {
        let mut file = tokio::fs::File::open(self.path(digest)).await?;
        if start > 0 {
            file.seek(io::SeekFrom::Start(start)).await?;
        }
        let s = stream::unfold((file, len), |(mut file, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            let want = usize::try_from(remaining.min(CHUNK as u64)).unwrap_or(CHUNK);
            let mut buf = vec![0u8; want];
            match file.read(&mut buf).await {
                Ok(0) => Some((
                    Err::<Frame<Bytes>, BoxError>("blob ended early".into()),
                    (file, 0),
                )),
                Ok(n) => {
                    buf.truncate(n);
                    Some((
                        Ok(Frame::data(Bytes::from(buf))),
                        (file, remaining - n as u64),
                    ))
                }
                Err(e) => Some((Err(Box::new(e) as BoxError), (file, 0))),
            }
        });
        Ok(StreamBody::new(s).boxed_unsync())
    }
}
