//! File downloads: the content streamed chunk by chunk (bounded memory) and
//! checked against the file's SHA-256 and size as it flows.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use gar_core::names::FileName;
use gar_core::{Error, ErrorKind};
use gar_transport::Body;
use http_body_util::BodyExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::client::{Call, Client};
use crate::model::{File, HashType};

/// Downloads a file; see [`Client::download_file`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct DownloadFile {
    client: Client,
    name: FileName,
    expected: Option<Vec<u8>>,
}

impl DownloadFile {
    pub(crate) fn new(client: &Client, name: &FileName) -> Self {
        Self {
            client: client.clone(),
            name: name.clone(),
            expected: None,
        }
    }

    /// The SHA-256 the content must have (32 bytes); without it the file's
    /// metadata is read first and its SHA-256 hash, if listed, is used.
    pub fn set_expected_sha256(mut self, hash: impl Into<Vec<u8>>) -> Self {
        self.expected = Some(hash.into());
        self
    }

    /// Starts the download: the answer's head has arrived; the content follows
    /// as the returned stream is polled.
    pub async fn send(self) -> Result<FileDownload, Error> {
        let (file, expected, size) = match self.expected {
            Some(hash) => (None, Some(hash), None),
            None => {
                let file = self.client.get_file(&self.name).send().await?;
                let hash = file.hash(&HashType::Sha256).map(|h| h.value.clone());
                let size = u64::try_from(file.size_bytes).ok();
                (Some(file), hash, size)
            }
        };
        let mut call = Call::get(self.name.to_string(), "gar.artifactregistry.files.download")
            .verb("download")
            .idempotent(true)
            .on_file(&self.name);
        call.set_query("alt", "media");
        let response = self.client.send_raw(&call).await?;
        let check = Check {
            name: self.name.to_string(),
            expected,
            size,
        };
        Ok(FileDownload {
            file,
            inner: verified(response.into_body(), check),
        })
    }
}

struct Check {
    name: String,
    expected: Option<Vec<u8>>,
    size: Option<u64>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Check {
    fn finish(&self, received: u64, digest: &[u8]) -> Result<(), Error> {
        if let Some(size) = self.size
            && size != received
        {
            return Err(Error::new(
                ErrorKind::BlobDigestMismatch,
                format!(
                    "the file {} has {size} bytes, but {received} arrived; nothing received can be trusted",
                    self.name
                ),
            ));
        }
        if let Some(expected) = &self.expected
            && expected.as_slice() != digest
        {
            return Err(Error::new(
                ErrorKind::BlobDigestMismatch,
                format!(
                    "the content of {} hashes to sha256:{}, not to the listed sha256:{}; it was corrupted in transit or in the registry",
                    self.name,
                    hex(digest),
                    hex(expected)
                ),
            ));
        }
        Ok(())
    }
}

struct Flow {
    body: Body,
    hasher: ring::digest::Context,
    received: u64,
    check: Check,
    done: bool,
}

fn verified(body: Body, check: Check) -> BoxStream<'static, Result<Bytes, Error>> {
    let flow = Flow {
        body,
        hasher: ring::digest::Context::new(&ring::digest::SHA256),
        received: 0,
        check,
        done: false,
    };
    futures_util::stream::unfold(flow, |mut flow| async move {
        if flow.done {
            return None;
        }
        loop {
            match flow.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if data.is_empty() {
                            continue;
                        }
                        flow.hasher.update(&data);
                        flow.received += data.len() as u64;
                        return Some((Ok(data), flow));
                    }
                }
                Some(Err(e)) => {
                    flow.done = true;
                    let err = Error::new(
                        ErrorKind::ConnectionFailed,
                        format!("the download of {} broke off: {e}", flow.check.name),
                    );
                    return Some((Err(err), flow));
                }
                None => {
                    flow.done = true;
                    let digest = flow.hasher.clone().finish();
                    return match flow.check.finish(flow.received, digest.as_ref()) {
                        Ok(()) => None,
                        Err(e) => Some((Err(e), flow)),
                    };
                }
            }
        }
    })
    .boxed()
}

/// A file's content as it arrives: a `Stream` of chunks that ends with an
/// error instead of its end when the content does not match the file's size or
/// SHA-256. Consumers that write chunks somewhere must discard what they wrote
/// when the stream fails.
pub struct FileDownload {
    file: Option<File>,
    inner: BoxStream<'static, Result<Bytes, Error>>,
}

impl std::fmt::Debug for FileDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDownload")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl FileDownload {
    /// The file's metadata, when it was read to learn the expected hash.
    pub fn file(&self) -> Option<&File> {
        self.file.as_ref()
    }

    /// Writes the whole content to `out` and flushes it; returns the byte count.
    /// On error, what was written must be discarded.
    pub async fn write_to<W: AsyncWrite + Unpin>(mut self, out: &mut W) -> Result<u64, Error> {
        let mut n = 0u64;
        while let Some(chunk) = self.inner.next().await {
            let chunk = chunk?;
            out.write_all(&chunk).await.map_err(|e| {
                Error::new(ErrorKind::Io, format!("writing the download failed: {e}"))
            })?;
            n += chunk.len() as u64;
        }
        out.flush()
            .await
            .map_err(|e| Error::new(ErrorKind::Io, format!("writing the download failed: {e}")))?;
        Ok(n)
    }
}

impl Stream for FileDownload {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_mismatch() {
        let hash = ring::digest::digest(&ring::digest::SHA256, b"abc");
        let check = Check {
            name: "f".into(),
            expected: Some(hash.as_ref().to_vec()),
            size: Some(3),
        };
        assert!(check.finish(3, hash.as_ref()).is_ok());
        let other = ring::digest::digest(&ring::digest::SHA256, b"abd");
        let err = check.finish(3, other.as_ref()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch);
        assert!(err.to_string().contains("ba7816bf"), "{err}");
        assert_eq!(
            check.finish(2, hash.as_ref()).unwrap_err().kind(),
            ErrorKind::BlobDigestMismatch
        );
    }
}
