//! Blob uploads: monolithic, one streamed `PATCH`, or `Content-Range` chunks;
//! resumed after a failure from the offset the registry reports; falling back
//! to a monolithic upload when chunks are refused; cross-repository mounts; and
//! skipping blobs the repository already holds.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use gar_core::Error;
use gar_core::error::{ErrorKind, ResourceKind, RetryClass};
use gar_core::ids::Digest;
use gar_transport::Body;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use http::{Method, StatusCode};

use crate::blobs::Reader;
use crate::http::{BodyFactory, Call, CallBody, error_of, header, is_transient, with_query};
use crate::progress::{BlobProgress, ProgressFn, Tracker};
use crate::registry::{Repository, UploadMode};

const OCTET_STREAM: &str = "application/octet-stream";
const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";

/// Where the bytes of an upload come from. Sources that can be read again
/// from any offset (bytes, files, blobs of another registry) let a failed
/// upload resume; a one-shot stream cannot.
#[derive(Clone)]
pub struct BlobSource {
    kind: SourceKind,
}

type SharedStream = Arc<Mutex<Option<BoxStream<'static, Result<Bytes, Error>>>>>;

#[derive(Clone)]
enum SourceKind {
    Bytes(Bytes),
    File(PathBuf),
    Remote(Repository, Digest),
    Stream(SharedStream),
}

impl fmt::Debug for BlobSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SourceKind::Bytes(b) => write!(f, "BlobSource::Bytes({} bytes)", b.len()),
            SourceKind::File(p) => write!(f, "BlobSource::File({})", p.display()),
            SourceKind::Remote(r, d) => write!(f, "BlobSource::Remote({r}@{d})"),
            SourceKind::Stream(_) => f.write_str("BlobSource::Stream"),
        }
    }
}

impl BlobSource {
    /// Bytes in memory.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self {
            kind: SourceKind::Bytes(bytes.into()),
        }
    }

    /// A file, read in pieces (and again from any offset to resume).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: SourceKind::File(path.into()),
        }
    }

    /// A stream, read once: an upload from it cannot resume.
    pub fn stream(stream: impl Stream<Item = Result<Bytes, Error>> + Send + 'static) -> Self {
        Self {
            kind: SourceKind::Stream(Arc::new(Mutex::new(Some(stream.boxed())))),
        }
    }

    /// The blob `digest` of `repository` (read with `Range` from any offset).
    pub fn blob(repository: &Repository, digest: &Digest) -> Self {
        Self {
            kind: SourceKind::Remote(repository.clone(), digest.clone()),
        }
    }

    fn resumable(&self) -> bool {
        !matches!(self.kind, SourceKind::Stream(_))
    }

    /// `len` bytes from `offset`, as a stream (opened lazily).
    fn open(
        &self,
        offset: u64,
        len: u64,
    ) -> Result<BoxStream<'static, Result<Bytes, Error>>, Error> {
        match &self.kind {
            SourceKind::Bytes(b) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                let end = usize::try_from(offset.saturating_add(len)).unwrap_or(usize::MAX);
                let part = b
                    .get(start..end)
                    .map(|_| b.slice(start..end))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidArgument,
                            format!(
                                "the source holds {} bytes, fewer than the upload's size",
                                b.len()
                            ),
                        )
                    })?;
                Ok(futures_util::stream::iter([Ok(part)]).boxed())
            }
            SourceKind::File(path) => {
                Ok(crate::fsio::file_stream(path.clone(), offset, len).boxed())
            }
            SourceKind::Remote(repo, digest) => {
                let reader = Reader::range(repo.get_blob(digest), offset, len);
                Ok(reader.into_stream())
            }
            SourceKind::Stream(shared) => {
                let taken = shared.lock().unwrap_or_else(PoisonError::into_inner).take();
                match taken {
                    Some(s) if offset == 0 => Ok(s),
                    _ => Err(Error::new(
                        ErrorKind::BlobUploadFailed,
                        "the upload's source is a stream that was already read; it cannot be sent again",
                    )),
                }
            }
        }
    }

    /// The whole of a small source, in memory.
    async fn read_all(&self, len: u64) -> Result<Bytes, Error> {
        if let SourceKind::Bytes(b) = &self.kind
            && b.len() as u64 == len
        {
            return Ok(b.clone());
        }
        let mut buf = BytesMut::with_capacity(usize::try_from(len).unwrap_or(0));
        let mut s = self.open(0, len)?;
        while let Some(chunk) = s.try_next().await? {
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

/// What an upload did.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The bytes were sent.
    Uploaded,
    /// The repository already held the blob; nothing was sent.
    Existed,
    /// The registry linked the blob from another repository; nothing was sent.
    Mounted,
}

impl Repository {
    /// Uploads the blob `digest` of `size` bytes from `source`; see [`UploadBlob`].
    ///
    /// ```no_run
    /// # async fn demo(repo: gar_oci::Repository) -> Result<(), gar_core::Error> {
    /// use gar_oci::{BlobSource, UploadMode};
    ///
    /// let bytes = b"layer bytes".to_vec();
    /// let digest = gar_oci::digest::sha256(&bytes);
    /// repo.upload_blob(&digest, bytes.len() as u64, BlobSource::bytes(bytes))
    ///     .with_mode(UploadMode::Chunked { chunk_size: 8 << 20 })
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn upload_blob(&self, digest: &Digest, size: u64, source: BlobSource) -> UploadBlob {
        UploadBlob {
            repo: self.clone(),
            digest: digest.clone(),
            size,
            source,
            mode: None,
            skip_existing: true,
            mount_from: None,
            progress: None,
        }
    }

    /// Links the blob `digest` from `from` (same registry) without sending it;
    /// `false` when the registry declined (the blob must then be uploaded).
    pub async fn mount_blob(&self, digest: &Digest, from: &Repository) -> Result<bool, Error> {
        match mount(self, digest, from).await? {
            Mount::Mounted => Ok(true),
            Mount::Session(location) => {
                cancel(self, &location).await;
                Ok(false)
            }
        }
    }
}

/// A blob upload; see [`Repository::upload_blob`].
#[derive(Debug, Clone)]
pub struct UploadBlob {
    repo: Repository,
    digest: Digest,
    size: u64,
    source: BlobSource,
    mode: Option<UploadMode>,
    skip_existing: bool,
    mount_from: Option<Repository>,
    progress: Option<BlobProgress>,
}

impl UploadBlob {
    /// Uploads this way instead of the registry's mode.
    #[must_use]
    pub fn with_mode(mut self, mode: UploadMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Whether to ask first if the repository holds the blob already (default: yes).
    #[must_use]
    pub fn skip_existing(mut self, skip: bool) -> Self {
        self.skip_existing = skip;
        self
    }

    /// Tries to mount the blob from `from` first (when on the same registry).
    #[must_use]
    pub fn mount_from(mut self, from: &Repository) -> Self {
        self.mount_from = Some(from.clone());
        self
    }

    /// Reports progress to `callback`.
    #[must_use]
    pub fn with_progress(mut self, callback: ProgressFn) -> Self {
        let tracker = Tracker::new(Some(callback));
        tracker.add_total(self.size);
        self.progress = Some(tracker.blob(&self.digest, self.size));
        self
    }

    pub(crate) fn with_blob_progress(mut self, progress: BlobProgress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Uploads.
    pub async fn send(self) -> Result<UploadOutcome, Error> {
        let progress = self
            .progress
            .clone()
            .unwrap_or_else(|| BlobProgress::none(&self.digest, self.size));
        let repo = &self.repo;
        if self.skip_existing
            && repo.head_blob_for(&self.digest, repo.push()).await? == Some(self.size)
        {
            progress.finish();
            return Ok(UploadOutcome::Existed);
        }
        let mut session = None;
        if let Some(from) = &self.mount_from
            && repo.registry().same_registry(from.registry())
        {
            match mount(repo, &self.digest, from).await? {
                Mount::Mounted => {
                    progress.finish();
                    return Ok(UploadOutcome::Mounted);
                }
                Mount::Session(location) => session = Some(location),
            }
        }
        let mut mode = self
            .mode
            .unwrap_or_else(|| repo.registry().upload_mode(self.size));
        if !self.source.resumable() && matches!(mode, UploadMode::Chunked { .. }) {
            // A one-shot stream cannot be cut into chunks opened one by one.
            mode = UploadMode::Streamed;
        }
        let mut upload = Upload {
            repo: repo.clone(),
            digest: self.digest.clone(),
            size: self.size,
            source: self.source.clone(),
            mode,
            session,
            offset: 0,
            progress,
        };
        upload.run().await?;
        Ok(UploadOutcome::Uploaded)
    }
}

enum Mount {
    Mounted,
    Session(String),
}

/// `POST …/blobs/uploads/?mount=…&from=…`.
async fn mount(repo: &Repository, digest: &Digest, from: &Repository) -> Result<Mount, Error> {
    let url = with_query(
        &with_query(&repo.url("blobs/uploads/"), "mount", digest.as_str()),
        "from",
        from.name(),
    );
    let call = Call::new(Method::POST, url, "gar.oci.blob.mount")
        .scope(repo.push())
        .scope(from.pull())
        .idempotent(true)
        .header(CONTENT_LENGTH, "0")
        .attribute("gar.image", repo.name())
        .attribute("gar.digest", digest.to_string());
    let response = repo.registry().execute(&call).await?;
    match response.status() {
        StatusCode::CREATED => Ok(Mount::Mounted),
        StatusCode::ACCEPTED => Ok(Mount::Session(location_of(repo, &response)?)),
        _ => Err(error_of(
            response,
            &repo.resource(ResourceKind::Blob, digest.as_str()),
        )
        .await),
    }
}

fn location_of(repo: &Repository, response: &http::Response<Body>) -> Result<String, Error> {
    let location = header(response.headers(), LOCATION).unwrap_or_default();
    let (url, same_host) = repo.registry().resolve(location)?;
    if !same_host {
        return Err(Error::new(
            ErrorKind::InvalidResponse,
            format!(
                "the registry moved the upload to another host ({location}); gar does not send credentials there"
            ),
        ));
    }
    Ok(url)
}

/// Cancels an upload session (best effort).
async fn cancel(repo: &Repository, location: &str) {
    let call = Call::new(Method::DELETE, location.to_owned(), "gar.oci.upload.cancel")
        .scope(repo.push())
        .attribute("gar.image", repo.name());
    if let Err(e) = repo.registry().execute(&call).await {
        tracing::debug!(error = %e, "cancelling an upload session failed");
    }
}

/// How one attempt of an upload ended.
enum Failure {
    /// Worth resuming (network, overload); `resync` asks the registry for the
    /// offset first.
    Transient(Error),
    /// The registry refuses `Content-Range` chunks: start over monolithically.
    ChunksRefused(Error),
    /// The session is gone: start over.
    SessionLost(Error),
    /// Give up.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        if is_transient(&e) {
            Self::Transient(e)
        } else {
            Self::Fatal(e)
        }
    }
}

struct Upload {
    repo: Repository,
    digest: Digest,
    size: u64,
    source: BlobSource,
    mode: UploadMode,
    session: Option<String>,
    offset: u64,
    progress: BlobProgress,
}

impl Upload {
    fn resource(&self) -> gar_core::error::Resource {
        self.repo.resource(ResourceKind::Blob, self.digest.as_str())
    }

    async fn run(&mut self) -> Result<(), Error> {
        let max = self.repo.registry().config().max_resumes;
        let mut resumes = 0u32;
        loop {
            let failure = match self.attempt().await {
                Ok(()) => {
                    self.progress.finish();
                    return Ok(());
                }
                Err(f) => f,
            };
            let err = match failure {
                Failure::Fatal(e) => {
                    if let Some(s) = self.session.take() {
                        cancel(&self.repo, &s).await;
                    }
                    return Err(e);
                }
                Failure::ChunksRefused(e) => {
                    tracing::info!(
                        error = %e,
                        "the registry refuses Content-Range chunks; uploading the blob whole"
                    );
                    self.repo.registry().refuse_chunks();
                    if let Some(s) = self.session.take() {
                        cancel(&self.repo, &s).await;
                    }
                    self.mode = UploadMode::Monolithic;
                    self.offset = 0;
                    self.progress.set(0);
                    continue;
                }
                Failure::SessionLost(e) => {
                    self.session = None;
                    self.offset = 0;
                    e
                }
                Failure::Transient(e) => e,
            };
            resumes += 1;
            if resumes > max || (!self.source.resumable()) {
                return Err(Error::new(
                    err.kind(),
                    format!(
                        "the upload of {} to {} failed after {} attempts: {}",
                        self.digest,
                        self.repo,
                        resumes,
                        err.message()
                    ),
                ));
            }
            let wait = backoff(&err, resumes);
            tracing::debug!(
                digest = %self.digest,
                offset = self.offset,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %err,
                "the upload failed; resuming"
            );
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            self.resync().await;
        }
    }

    /// Finds out where to go on: the registry's offset for the session when
    /// chunks may continue it, else a new session from the start.
    async fn resync(&mut self) {
        let resumable = matches!(self.mode, UploadMode::Chunked { .. } | UploadMode::Streamed)
            && self.repo.registry().chunks_allowed();
        let Some(location) = self.session.clone() else {
            self.offset = 0;
            return;
        };
        if !resumable {
            cancel(&self.repo, &location).await;
            self.session = None;
            self.offset = 0;
            return;
        }
        match self.status(&location).await {
            Ok(offset) if offset <= self.size => self.offset = offset,
            Ok(_) | Err(_) => {
                self.session = None;
                self.offset = 0;
            }
        }
    }

    /// `GET` the session: the registry's offset.
    async fn status(&mut self, location: &str) -> Result<u64, Error> {
        let call = Call::new(Method::GET, location.to_owned(), "gar.oci.upload.status")
            .scope(self.repo.push())
            .attribute("gar.image", self.repo.name())
            .attribute("gar.digest", self.digest.to_string());
        let response = self.repo.registry().execute(&call).await?;
        if !response.status().is_success() {
            return Err(error_of(response, &self.resource()).await);
        }
        if header(response.headers(), LOCATION).is_some() {
            self.session = Some(location_of(&self.repo, &response)?);
        }
        Ok(range_end(response.headers()))
    }

    async fn start(&mut self) -> Result<String, Failure> {
        let call = Call::new(
            Method::POST,
            self.repo.url("blobs/uploads/"),
            "gar.oci.upload.start",
        )
        .scope(self.repo.push())
        .idempotent(true)
        .header(CONTENT_LENGTH, "0")
        .attribute("gar.image", self.repo.name())
        .attribute("gar.digest", self.digest.to_string());
        let response = self.repo.registry().execute(&call).await?;
        if response.status() != StatusCode::ACCEPTED && !response.status().is_success() {
            return Err(error_of(response, &self.resource()).await.into());
        }
        Ok(location_of(&self.repo, &response)?)
    }

    async fn attempt(&mut self) -> Result<(), Failure> {
        let location = match self.session.clone() {
            Some(l) => l,
            None => {
                let l = self.start().await?;
                self.session = Some(l.clone());
                self.offset = 0;
                l
            }
        };
        self.progress.set(self.offset);
        match self.mode {
            UploadMode::Monolithic => self.put(&location, true).await,
            UploadMode::Streamed | UploadMode::Auto => {
                if self.offset < self.size {
                    let (len, ranged) = (self.size - self.offset, self.offset > 0);
                    self.patch(&location, len, ranged).await?;
                }
                let location = self.session.clone().unwrap_or(location);
                self.put(&location, false).await
            }
            UploadMode::Chunked { chunk_size } => {
                let chunk = chunk_size.max(1);
                while self.offset < self.size {
                    let location = self.session.clone().unwrap_or_else(|| location.clone());
                    let len = chunk.min(self.size - self.offset);
                    self.patch(&location, len, true).await?;
                }
                let location = self.session.clone().unwrap_or(location);
                self.put(&location, false).await
            }
        }
    }

    /// A body of `len` source bytes from the current offset, counted as sent.
    fn body(&self, len: u64) -> BodyFactory {
        let source = self.source.clone();
        let offset = self.offset;
        let progress = self.progress.clone();
        Arc::new(move || {
            progress.set(offset);
            let p = progress.clone();
            let stream = source.open(offset, len)?.inspect_ok(move |chunk| {
                p.advance(chunk.len() as u64);
            });
            Ok(Body::from_stream(stream))
        })
    }

    /// One `PATCH` of `len` bytes from the offset (with `Content-Range` when
    /// `ranged`).
    async fn patch(&mut self, location: &str, len: u64, ranged: bool) -> Result<(), Failure> {
        let start = self.offset;
        let mut call = Call::new(Method::PATCH, location.to_owned(), "gar.oci.upload.patch")
            .scope(self.repo.push())
            .header(CONTENT_TYPE, OCTET_STREAM)
            .header(CONTENT_LENGTH, len.to_string())
            .body(CallBody::Factory(self.body(len)))
            .timeout(self.repo.registry().upload_timeout(len))
            .attribute("gar.image", self.repo.name())
            .attribute("gar.digest", self.digest.to_string());
        if ranged {
            call = call.header(CONTENT_RANGE, format!("{start}-{}", start + len - 1));
        }
        let response = self.repo.registry().execute(&call).await?;
        let status = response.status();
        if status == StatusCode::ACCEPTED || status.is_success() {
            if header(response.headers(), LOCATION).is_some() {
                self.session = Some(location_of(&self.repo, &response).map_err(Failure::Fatal)?);
            }
            let reported = header(response.headers(), RANGE).map(|_| range_end(response.headers()));
            let end = start + len;
            self.offset = match reported {
                Some(r) if r != end => {
                    return Err(Failure::Transient(Error::new(
                        ErrorKind::BlobUploadFailed,
                        format!("the registry holds {r} bytes after a chunk ending at {end}"),
                    )));
                }
                _ => end,
            };
            return Ok(());
        }
        let err = error_of(response, &self.resource()).await;
        Err(classify(status, ranged, err))
    }

    /// The closing `PUT ?digest=`, with the whole blob when `whole`.
    async fn put(&mut self, location: &str, whole: bool) -> Result<(), Failure> {
        let url = with_query(location, "digest", self.digest.as_str());
        let mut call = Call::new(Method::PUT, url, "gar.oci.upload.put")
            .scope(self.repo.push())
            .attribute("gar.image", self.repo.name())
            .attribute("gar.digest", self.digest.to_string());
        if whole {
            call = call
                .header(CONTENT_TYPE, OCTET_STREAM)
                .header(CONTENT_LENGTH, self.size.to_string())
                .timeout(self.repo.registry().upload_timeout(self.size));
            call = if self.size <= self.repo.registry().config().monolithic_below {
                let bytes = self.source.read_all(self.size).await?;
                call.body(CallBody::Full(bytes))
            } else {
                call.body(CallBody::Factory(self.body(self.size)))
            };
        } else {
            call = call.header(CONTENT_LENGTH, "0");
        }
        let response = self.repo.registry().execute(&call).await?;
        let status = response.status();
        if status.is_success() {
            if let Some(said) = header(response.headers(), DOCKER_CONTENT_DIGEST)
                .and_then(|v| v.parse::<Digest>().ok())
                && said.algorithm() == self.digest.algorithm()
                && said != self.digest
            {
                return Err(Failure::Fatal(Error::new(
                    ErrorKind::BlobDigestMismatch,
                    format!(
                        "the registry stored the upload as {said}, not {}",
                        self.digest
                    ),
                )));
            }
            self.session = None;
            self.offset = self.size;
            return Ok(());
        }
        let err = error_of(response, &self.resource()).await;
        if status == StatusCode::NOT_FOUND
            && self
                .repo
                .head_blob_for(&self.digest, self.repo.push())
                .await
                .ok()
                .flatten()
                == Some(self.size)
        {
            // An earlier attempt of this PUT succeeded before its answer was lost.
            self.session = None;
            return Ok(());
        }
        Err(classify(status, false, err))
    }
}

/// What a failed upload request means.
fn classify(status: StatusCode, ranged: bool, err: Error) -> Failure {
    let code = err.oci_code().unwrap_or_default();
    if ranged
        && (matches!(status.as_u16(), 405 | 501)
            || (status == StatusCode::BAD_REQUEST && code == "UNSUPPORTED"))
    {
        return Failure::ChunksRefused(err);
    }
    if status == StatusCode::RANGE_NOT_SATISFIABLE {
        return Failure::Transient(err);
    }
    if status == StatusCode::NOT_FOUND && code == "BLOB_UPLOAD_UNKNOWN" {
        return Failure::SessionLost(err);
    }
    err.into()
}

/// How long to wait before resuming after `err` (the `resumes`-th time): a
/// dropped connection resumes at once the first time, then like a 503; an
/// overloaded or failing registry per design.md's table, `Retry-After` first.
fn backoff(err: &Error, resumes: u32) -> Duration {
    if let Some(wait) = err.retry_after() {
        return wait;
    }
    let class = err.retry_class();
    if matches!(class, RetryClass::Never) || err.kind() == ErrorKind::BlobUploadFailed {
        return Duration::ZERO;
    }
    if err.kind() == ErrorKind::ConnectionFailed && resumes <= 1 {
        return Duration::ZERO;
    }
    class.default_policy().backoff(resumes)
}

/// The offset a `Range: 0-{end}` header gives (`end + 1`; `0-0` and none are 0).
fn range_end(headers: &http::HeaderMap) -> u64 {
    header(headers, RANGE)
        .and_then(|v| {
            let v = v.trim();
            let v = v.strip_prefix("bytes=").unwrap_or(v);
            let (_, end) = v.split_once('-')?;
            end.trim().parse::<u64>().ok()
        })
        .map_or(0, |end| if end == 0 { 0 } else { end + 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_backoffs() {
        let mut h = http::HeaderMap::new();
        assert_eq!(range_end(&h), 0);
        h.insert(RANGE, "0-0".parse().unwrap());
        assert_eq!(range_end(&h), 0);
        h.insert(RANGE, "0-1023".parse().unwrap());
        assert_eq!(range_end(&h), 1024);
        h.insert(RANGE, "bytes=0-9".parse().unwrap());
        assert_eq!(range_end(&h), 10);

        let reset = Error::new(ErrorKind::ConnectionFailed, "reset");
        assert_eq!(backoff(&reset, 1), Duration::ZERO);
        assert_eq!(backoff(&reset, 2), Duration::from_secs(4));
        let busy = Error::from_oci(503, b"", None);
        assert_eq!(backoff(&busy, 1), Duration::from_secs(2));
        let quota = Error::from_oci(429, b"", None).with_retry_after(Duration::from_secs(7));
        assert_eq!(backoff(&quota, 1), Duration::from_secs(7));
    }

    #[test]
    fn failures_are_classified() {
        let unsupported = || {
            Error::from_oci(
                400,
                br#"{"errors":[{"code":"UNSUPPORTED","message":"no chunks"}]}"#,
                None,
            )
        };
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, true, unsupported()),
            Failure::ChunksRefused(_)
        ));
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, false, unsupported()),
            Failure::Fatal(_)
        ));
        let gone = Error::from_oci(
            404,
            br#"{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"x"}]}"#,
            None,
        );
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, true, gone),
            Failure::SessionLost(_)
        ));
        assert!(matches!(
            classify(
                StatusCode::SERVICE_UNAVAILABLE,
                true,
                Error::from_oci(503, b"", None)
            ),
            Failure::Transient(_)
        ));
        assert!(matches!(
            classify(
                StatusCode::RANGE_NOT_SATISFIABLE,
                true,
                Error::from_oci(416, b"", None)
            ),
            Failure::Transient(_)
        ));
    }
}
