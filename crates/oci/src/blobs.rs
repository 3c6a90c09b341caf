//! Blob reads: `HEAD`, a streaming `GET` verified as bytes flow that resumes
//! with `Range` after a dropped connection, and downloads to a file that never
//! leave a partial or unverified file in place.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use gar_core::Error;
use gar_core::error::{ErrorKind, ResourceKind};
use gar_core::ids::Digest;
use gar_transport::Body;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, LOCATION, RANGE};
use http::{Method, StatusCode};
use http_body_util::BodyExt;

use crate::digest::DigestHasher;
use crate::fsio::FileSink;
use crate::http::{Call, error_of, header};
use crate::progress::BlobProgress;
use crate::registry::Repository;

/// Redirects followed for one blob request (registries may send blobs from storage).
const MAX_REDIRECTS: usize = 5;

impl Repository {
    /// The size of the blob `digest`, or `None` when the repository lacks it.
    pub async fn head_blob(&self, digest: &Digest) -> Result<Option<u64>, Error> {
        self.head_blob_for(digest, self.pull()).await
    }

    /// `HEAD` with the token scope `scope` (an upload asks with its push scope,
    /// so that one token serves the check and the upload).
    pub(crate) async fn head_blob_for(
        &self,
        digest: &Digest,
        scope: crate::auth::Scope,
    ) -> Result<Option<u64>, Error> {
        let call = Call::new(
            Method::HEAD,
            self.url(&format!("blobs/{digest}")),
            "gar.oci.blob.head",
        )
        .scope(scope)
        .attribute("gar.image", self.name())
        .attribute("gar.digest", digest.to_string());
        let response = self.registry().execute(&call).await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(error_of(
                response,
                &self.resource(ResourceKind::Blob, digest.as_str()),
            )
            .await);
        }
        Ok(Some(
            header(response.headers(), CONTENT_LENGTH)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        ))
    }

    /// Streams the blob `digest`, verifying it as the bytes flow; see [`GetBlob`].
    pub fn get_blob(&self, digest: &Digest) -> GetBlob {
        GetBlob {
            repo: self.clone(),
            digest: digest.clone(),
            size: None,
            progress: None,
        }
    }

    /// Downloads the blob `digest` to `path`: written beside it under a
    /// temporary name, verified, then renamed; a failed download leaves no file.
    pub fn download_blob(&self, digest: &Digest, path: impl AsRef<Path>) -> DownloadBlob {
        DownloadBlob {
            get: self.get_blob(digest),
            path: path.as_ref().to_path_buf(),
        }
    }
}

/// A blob read; see [`Repository::get_blob`].
#[derive(Debug, Clone)]
pub struct GetBlob {
    repo: Repository,
    digest: Digest,
    size: Option<u64>,
    progress: Option<BlobProgress>,
}

impl GetBlob {
    /// The size the blob must have (from its descriptor).
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    pub(crate) fn with_progress(mut self, progress: BlobProgress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Starts the download: the stream yields the blob's bytes. A dropped
    /// connection resumes with `Range` from the last byte received (at most the
    /// registry's `max_resumes` times). When the bytes do not hash to the digest
    /// (or their count differs from the size), the last item is a
    /// `BlobDigestMismatch` error: consumers must not trust what they received
    /// until the stream has ended without an error.
    pub async fn send(self) -> Result<BlobStream, Error> {
        let mut reader = Reader::new(self, true);
        reader.open().await?;
        Ok(BlobStream {
            size: reader.size,
            inner: reader.into_stream(),
        })
    }
}

/// The bytes of a blob, verified as they flow; see [`GetBlob::send`].
pub struct BlobStream {
    size: Option<u64>,
    inner: BoxStream<'static, Result<Bytes, Error>>,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BlobStream {
    /// The blob's size, when the registry said.
    pub fn size(&self) -> Option<u64> {
        self.size
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// A download to a file; see [`Repository::download_blob`].
#[derive(Debug, Clone)]
pub struct DownloadBlob {
    get: GetBlob,
    path: PathBuf,
}

impl DownloadBlob {
    /// The size the blob must have (from its descriptor).
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.get = self.get.with_size(size);
        self
    }

    /// Downloads; returns the blob's size.
    pub async fn send(self) -> Result<u64, Error> {
        let digest = self.get.digest.clone();
        download_into(self.get, FileSink::create(self.path, digest)).await
    }
}

/// Streams `get` into the sink `sink` makes (which hashes and writes on
/// threads of its own), then commits. The request goes out while the sink's
/// file is being created.
pub(crate) async fn download_into(
    get: GetBlob,
    sink: impl Future<Output = Result<FileSink, Error>>,
) -> Result<u64, Error> {
    let expected = get.size;
    let mut reader = Reader::new(get, false);
    // The sink waits one turn of the scheduler, so that the connection's task
    // writes the request before the sink starts its threads.
    let sink = async {
        tokio::task::yield_now().await;
        sink.await
    };
    let (opened, sink) = tokio::join!(reader.open(), sink);
    let mut sink = sink?;
    opened?;
    while let Some(chunk) = reader.next_chunk().await {
        sink.write(chunk?).await?;
    }
    let size = reader.size.or(expected);
    let written = sink.written();
    sink.commit(size).await?;
    Ok(written)
}

/// The state of one blob read.
pub(crate) struct Reader {
    get: GetBlob,
    /// Where the next byte handed out sits in the blob.
    offset: u64,
    /// Where to stop (exclusive), for a range read.
    end: Option<u64>,
    size: Option<u64>,
    body: Option<Body>,
    /// Bytes the registry resent from the start (it ignored `Range`) to drop.
    skip: u64,
    hasher: Option<DigestHasher>,
    resumes: u32,
    done: bool,
}

impl Reader {
    fn new(get: GetBlob, verify: bool) -> Self {
        let hasher = verify.then(|| DigestHasher::for_digest(&get.digest));
        let size = get.size;
        Self {
            get,
            offset: 0,
            end: None,
            size,
            body: None,
            skip: 0,
            hasher,
            resumes: 0,
            done: false,
        }
    }

    /// A reader of `len` bytes from `offset`, unverified (a part of a blob
    /// cannot be checked against its digest; the receiving registry checks the
    /// whole).
    pub(crate) fn range(get: GetBlob, offset: u64, len: u64) -> Self {
        let mut r = Self::new(get, false);
        r.offset = offset;
        r.end = Some(offset.saturating_add(len));
        r
    }

    pub(crate) fn into_stream(self) -> BoxStream<'static, Result<Bytes, Error>> {
        futures_util::stream::unfold(self, |mut r| async move {
            r.next_chunk().await.map(|item| (item, r))
        })
        .boxed()
    }

    fn mismatch(&self, what: String) -> Error {
        Error::new(ErrorKind::BlobDigestMismatch, what).with_resource(
            self.get
                .repo
                .resource(ResourceKind::Blob, self.get.digest.as_str()),
        )
    }

    /// Sends the `GET` (with `Range` from `offset` after the first), following
    /// redirects, and checks the answer.
    pub(crate) async fn open(&mut self) -> Result<(), Error> {
        let repo = &self.get.repo;
        let digest = &self.get.digest;
        let resource = repo.resource(ResourceKind::Blob, digest.as_str());
        let mut url = repo.url(&format!("blobs/{digest}"));
        let mut authorize = true;
        for _ in 0..=MAX_REDIRECTS {
            let mut call = Call::new(Method::GET, url.clone(), "gar.oci.blob.get")
                .scope(repo.pull())
                .attribute("gar.image", repo.name())
                .attribute("gar.digest", digest.to_string());
            if !authorize {
                call = call.unauthorized();
            }
            match self.end {
                Some(end) if end > self.offset => {
                    call = call.header(RANGE, format!("bytes={}-{}", self.offset, end - 1));
                }
                _ if self.offset > 0 => {
                    call = call.header(RANGE, format!("bytes={}-", self.offset));
                }
                _ => {}
            }
            let response = repo.registry().execute(&call).await?;
            let status = response.status();
            if status.is_redirection() {
                let Some(location) = header(response.headers(), LOCATION) else {
                    return Err(Error::new(
                        ErrorKind::InvalidResponse,
                        format!("the registry redirected {digest} without a Location"),
                    ));
                };
                let (next, same_host) = repo.registry().resolve(location)?;
                url = next;
                // Never send the registry's credentials to storage elsewhere.
                authorize = authorize && same_host;
                continue;
            }
            if status == StatusCode::RANGE_NOT_SATISFIABLE && self.offset > 0 {
                return Err(self.mismatch(format!(
                    "the registry cannot serve {digest} from byte {}: it is shorter than the bytes already received",
                    self.offset
                )));
            }
            if !status.is_success() {
                return Err(error_of(response, &resource).await);
            }
            let headers = response.headers();
            let length = header(headers, CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
            let total = if status == StatusCode::PARTIAL_CONTENT {
                let range = header(headers, CONTENT_RANGE).and_then(parse_content_range);
                let Some((start, total)) = range else {
                    return Err(Error::new(
                        ErrorKind::InvalidResponse,
                        format!(
                            "the registry answered 206 for {digest} without a usable Content-Range"
                        ),
                    ));
                };
                if start != self.offset {
                    return Err(Error::new(
                        ErrorKind::InvalidResponse,
                        format!(
                            "the registry resumed {digest} at byte {start}, not at {} as asked",
                            self.offset
                        ),
                    ));
                }
                self.skip = 0;
                total
            } else {
                // The whole blob again: drop what was already handed out.
                self.skip = self.offset;
                length
            };
            if let (Some(want), Some(have)) = (self.size, total)
                && want != have
            {
                return Err(self.mismatch(format!(
                    "the registry serves {digest} with {have} bytes, not the {want} its descriptor says"
                )));
            }
            self.size = self.size.or(total);
            self.body = Some(response.into_body());
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::InvalidResponse,
            format!("more than {MAX_REDIRECTS} redirects for {digest}"),
        ))
    }

    /// The next piece of the blob, resuming after a broken connection; the end
    /// is checked against the size and the digest.
    pub(crate) async fn next_chunk(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            if self.done {
                return None;
            }
            if self.end.is_some_and(|e| self.offset >= e) {
                self.done = true;
                self.body = None;
                return None;
            }
            let Some(body) = self.body.as_mut() else {
                if let Err(e) = self.open().await {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            };
            match body.frame().await {
                Some(Ok(frame)) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    if self.skip > 0 {
                        let drop_now = self.skip.min(data.len() as u64);
                        self.skip -= drop_now;
                        data = data.slice(usize::try_from(drop_now).unwrap_or(data.len())..);
                    }
                    if let Some(end) = self.end {
                        let room = end.saturating_sub(self.offset);
                        if (data.len() as u64) > room {
                            data.truncate(usize::try_from(room).unwrap_or(0));
                        }
                    }
                    if data.is_empty() {
                        continue;
                    }
                    let n = data.len() as u64;
                    if self.size.is_some_and(|s| self.offset + n > s) {
                        self.done = true;
                        return Some(Err(self.mismatch(format!(
                            "the registry sent more bytes of {} than its size",
                            self.get.digest
                        ))));
                    }
                    self.offset += n;
                    if let Some(h) = self.hasher.as_mut() {
                        h.update(&data);
                    }
                    if let Some(p) = &self.get.progress {
                        p.advance(n);
                    }
                    return Some(Ok(data));
                }
                Some(Err(e)) => {
                    self.body = None;
                    let max = self.get.repo.registry().config().max_resumes;
                    if self.resumes >= max {
                        self.done = true;
                        return Some(Err(Error::new(
                            ErrorKind::ConnectionFailed,
                            format!(
                                "the download of {} broke off at byte {} after {} resumes: {e}",
                                self.get.digest, self.offset, self.resumes
                            ),
                        )));
                    }
                    self.resumes += 1;
                    tracing::debug!(
                        digest = %self.get.digest,
                        offset = self.offset,
                        "the blob download broke off; resuming with Range"
                    );
                }
                None => {
                    if self.size.is_some_and(|s| self.offset < s) {
                        // Ended early without an error: resume too.
                        self.body = None;
                        let max = self.get.repo.registry().config().max_resumes;
                        if self.resumes >= max {
                            self.done = true;
                            return Some(Err(Error::new(
                                ErrorKind::ConnectionFailed,
                                format!(
                                    "the download of {} ended at byte {} of {:?}",
                                    self.get.digest, self.offset, self.size
                                ),
                            )));
                        }
                        self.resumes += 1;
                        continue;
                    }
                    self.done = true;
                    if let Some(h) = self.hasher.take() {
                        let actual = h.finish();
                        if actual != self.get.digest {
                            return Some(Err(self.mismatch(format!(
                                "the {} bytes received for {} hash to {actual}; discard them and retry",
                                self.offset, self.get.digest
                            ))));
                        }
                    }
                    return None;
                }
            }
        }
    }
}

/// Parses `bytes {start}-{end}/{total}`: the start and the total (if known).
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let total = total.trim().parse().ok();
    Some((start, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("bytes 10-19/20"), Some((10, Some(20))));
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, None)));
        assert_eq!(parse_content_range("10-19"), None);
        assert_eq!(parse_content_range("bytes x-1/2"), None);
    }
}
