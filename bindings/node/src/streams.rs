//! Byte streams: downloads written to files inside Rust, and chunks handed to
//! JavaScript one bounded piece at a time (the TS layer makes Node streams of
//! them). Progress reaches JavaScript through thread-safe callbacks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::BoxStream;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client::NativeClient;
use crate::error::invalid;
use crate::task::{Output, Task, failed, start, start_local};

/// How many bytes one `next()` of a [`ByteStream`] gathers at most: large
/// enough that crossing into JavaScript costs little per byte, small enough to
/// keep memory bounded.
pub(crate) const CHUNK: usize = 1 << 20;

/// Progress of a transfer.
#[napi(object)]
#[derive(Clone)]
pub struct Progress {
    /// Bytes transferred so far.
    pub bytes: f64,
    /// The total, when known.
    pub total: Option<f64>,
    /// Image transfers: the blob that moved.
    pub digest: Option<String>,
    /// Image transfers: bytes of that blob so far.
    pub blob_bytes: Option<f64>,
    /// Image transfers: that blob's size.
    pub blob_total: Option<f64>,
}

/// A JavaScript progress callback, called from any thread without blocking.
#[allow(
    clippy::type_complexity,
    reason = "napi's ThreadsafeFunction carries its configuration as type parameters"
)]
pub(crate) type ProgressFn = ThreadsafeFunction<Progress, (), Progress, napi::Status, false>;

/// Reports progress to an optional callback; never blocks the transfer.
#[derive(Clone)]
pub(crate) struct Reporter {
    callback: Option<Arc<ProgressFn>>,
    total: Option<f64>,
}

impl Reporter {
    pub(crate) fn new(callback: Option<ProgressFn>) -> Self {
        Self {
            callback: callback.map(Arc::new),
            total: None,
        }
    }

    pub(crate) fn with_total(mut self, total: Option<u64>) -> Self {
        self.total = total.map(|t| t as f64);
        self
    }

    pub(crate) fn report(&self, bytes: u64) {
        if let Some(cb) = &self.callback {
            let _ = cb.call(
                Progress {
                    bytes: bytes as f64,
                    total: self.total,
                    digest: None,
                    blob_bytes: None,
                    blob_total: None,
                },
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }
    }
}

/// Bytes for JavaScript.
pub(crate) type Chunks = BoxStream<'static, gar::Result<bytes::Bytes>>;

/// A chunk the reader verified, holding its share of the read-ahead budget
/// until JavaScript has taken it.
type Verified = (bytes::Bytes, OwnedSemaphorePermit);

/// What the reader hands over (a private alias: it never appears in a napi
/// signature, so it cannot leak into the generated types).
type Received = tokio::sync::mpsc::UnboundedReceiver<gar::Result<Verified>>;

/// Bytes read ahead of JavaScript, so that the network keeps flowing while
/// JavaScript handles the previous piece: at most this many wait in memory.
const AHEAD: usize = 4 * CHUNK;

/// The receiving end of a [`ByteStream`]: what the reader verified, and the rest
/// of a chunk the previous piece had no room for.
struct Pieces {
    rx: Received,
    carry: Option<Verified>,
}

/// A stream of bytes: each `next()` yields a `Buffer` of 1 MiB (less at the
/// end), or `null` at the end. Content is verified as it flows; a mismatch ends
/// the stream with an error instead of its end. A reader stays up to [`AHEAD`]
/// bytes ahead.
///
/// Two stages besides the connection's task (which reads the socket on a
/// worker): the reader, on a thread of its own (tokio's blocking pool), pulls
/// the verified stream, which hashes every byte, and passes its chunks on
/// without copying them; `next()` packs them into the piece JavaScript gets
/// (the one copy, made on the thread that asks, usually JavaScript's own). On a
/// worker the reader would take turns with the connection's task, and packing
/// on the reader would add the copy to the hashing thread, the stage that
/// bounds the rate.
#[napi]
pub struct ByteStream {
    pieces: Arc<tokio::sync::Mutex<Option<Pieces>>>,
    reader: AbortHandle,
}

/// Permits for a chunk of `len` bytes (a chunk larger than the whole budget
/// takes all of it).
fn permits(len: usize) -> u32 {
    u32::try_from(len.min(AHEAD)).unwrap_or(u32::MAX)
}

impl ByteStream {
    /// A stream over `chunks`, read ahead on a thread of the addon's runtime's
    /// blocking pool.
    pub(crate) fn new(chunks: Chunks) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let budget = Arc::new(Semaphore::new(AHEAD));
        let (reader, registration) = AbortHandle::new_pair();
        let read = Abortable::new(
            async move {
                let mut chunks = chunks;
                while let Some(chunk) = chunks.next().await {
                    match chunk {
                        Ok(c) if c.is_empty() => {}
                        Ok(c) => {
                            let Ok(permit) =
                                budget.clone().acquire_many_owned(permits(c.len())).await
                            else {
                                return;
                            };
                            if tx.send(Ok((c, permit))).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            },
            registration,
        );
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking({
                    let handle = handle.clone();
                    move || {
                        let _ = handle.block_on(read);
                    }
                });
            }
            // Outside the runtime (never, in practice: streams are made by tasks
            // running on it): read on its workers instead.
            Err(_) => {
                napi::bindgen_prelude::spawn(async move {
                    let _ = read.await;
                });
            }
        }
        Self {
            pieces: Arc::new(tokio::sync::Mutex::new(Some(Pieces { rx, carry: None }))),
            reader,
        }
    }
}

impl Drop for ByteStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The next piece: [`CHUNK`] bytes, fewer only at the end; `None` at the end.
async fn gather(pieces: &mut Pieces) -> gar::Result<Option<Vec<u8>>> {
    let mut out: Option<Vec<u8>> = None;
    loop {
        let have = out.as_ref().map_or(0, Vec::len);
        let room = CHUNK.saturating_sub(have);
        if room == 0 {
            break;
        }
        let (mut chunk, permit) = match pieces.carry.take() {
            Some(c) => c,
            None => match pieces.rx.recv().await {
                Some(c) => c?,
                None => break,
            },
        };
        if chunk.len() > room {
            let rest = chunk.split_off(room);
            let buf = out.get_or_insert_with(|| Vec::with_capacity(CHUNK));
            buf.extend_from_slice(&chunk);
            pieces.carry = Some((rest, permit));
        } else {
            let buf = out.get_or_insert_with(|| Vec::with_capacity(CHUNK));
            buf.extend_from_slice(&chunk);
            // The chunk is copied: its bytes no longer count against the budget.
            drop(permit);
        }
    }
    Ok(out)
}

#[napi]
impl ByteStream {
    /// Reads the next piece: a `Buffer`, or `null` at the end.
    #[napi]
    pub fn next(&self) -> Task {
        let pieces = self.pieces.clone();
        // Usually the reader is ahead and the piece is at hand: local.
        start_local(async move {
            let mut guard = pieces.lock().await;
            let Some(p) = guard.as_mut() else {
                return Ok(Output::Json(Value::Null));
            };
            match gather(p).await {
                Ok(Some(bytes)) => Ok(Output::Bytes(bytes)),
                Err(e) => {
                    *guard = None;
                    Err(e)
                }
                Ok(None) => {
                    *guard = None;
                    Ok(Output::Json(Value::Null))
                }
            }
        })
    }

    /// Stops reading (closing the connection); later `next()` calls yield `null`.
    #[napi]
    pub fn close(&self) {
        self.reader.abort();
        if let Ok(mut guard) = self.pieces.try_lock() {
            *guard = None;
        } else {
            let pieces = self.pieces.clone();
            napi::bindgen_prelude::spawn(async move {
                *pieces.lock().await = None;
            });
        }
    }
}

fn io(what: &str, path: &Path, e: &std::io::Error) -> gar::Error {
    gar::Error::new(
        gar::ErrorKind::Io,
        format!("{what} {} failed: {e}", path.display()),
    )
}

/// Writes `chunks` to `dest` through a temporary file beside it, renamed into
/// place at the end; on any error (or cancellation) nothing is left behind.
pub(crate) async fn write_file(
    mut chunks: Chunks,
    dest: PathBuf,
    progress: Reporter,
) -> gar::Result<u64> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            invalid(
                gar::ErrorKind::InvalidArgument,
                format!("{} names no file", dest.display()),
            )
        })?;
    let tmp = dest.with_file_name(format!(".{name}.gar-partial"));
    let guard = RemoveOnDrop(Some(tmp.clone()));
    let mut file = tokio::fs::File::create(&tmp)
        .await
        .map_err(|e| io("creating", &tmp, &e))?;
    let mut n = 0u64;
    progress.report(0);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        file.write_all(&chunk)
            .await
            .map_err(|e| io("writing", &tmp, &e))?;
        n += chunk.len() as u64;
        progress.report(n);
    }
    file.flush().await.map_err(|e| io("writing", &tmp, &e))?;
    file.sync_all().await.map_err(|e| io("syncing", &tmp, &e))?;
    drop(file);
    tokio::fs::rename(&tmp, &dest)
        .await
        .map_err(|e| io("renaming into", &dest, &e))?;
    guard.keep();
    Ok(n)
}

/// Removes a temporary file unless told to keep it (it was renamed).
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn sha256(hex: &str) -> gar::Result<Vec<u8>> {
    let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
    let bad = || {
        invalid(
            gar::ErrorKind::InvalidDigest,
            format!("expected SHA-256 {hex:?} is not 64 hexadecimal digits"),
        )
    };
    if hex.len() != 64 {
        return Err(bad());
    }
    (0..32)
        .map(|i| {
            hex.get(2 * i..2 * i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

#[napi]
impl NativeClient {
    /// Downloads a file's content to `dest` (verified against its SHA-256 while it
    /// flows; nothing is left at `dest` on failure); returns `{ path, bytes }`.
    #[napi(
        ts_args_type = "repository: string, file: string, dest: string, expectedSha256?: string | undefined | null, progress?: ((progress: Progress) => void) | undefined | null"
    )]
    pub fn files_download(
        &self,
        repository: String,
        file: String,
        dest: String,
        expected_sha256: Option<String>,
        progress: Option<ProgressFn>,
    ) -> Task {
        let req = (|| {
            let mut req = self.inner.files(&repository)?.download(&file)?;
            if let Some(h) = &expected_sha256 {
                req = req.set_expected_sha256(sha256(h)?);
            }
            Ok::<_, gar::Error>(req)
        })();
        let req = match req {
            Ok(r) => r,
            Err(e) => return failed(e),
        };
        let reporter = Reporter::new(progress);
        start(async move {
            let download = req.send().await?;
            let total = download
                .file()
                .and_then(|f| u64::try_from(f.size_bytes).ok());
            let dest = PathBuf::from(dest);
            let n = write_file(download.boxed(), dest.clone(), reporter.with_total(total)).await?;
            Ok(json!({ "path": dest.display().to_string(), "bytes": n }))
        })
    }

    /// A file's content as a byte stream (verified against its SHA-256 while it flows).
    #[napi]
    pub fn files_read(
        &self,
        repository: String,
        file: String,
        expected_sha256: Option<String>,
    ) -> Task {
        let req = (|| {
            let mut req = self.inner.files(&repository)?.download(&file)?;
            if let Some(h) = &expected_sha256 {
                req = req.set_expected_sha256(sha256(h)?);
            }
            Ok::<_, gar::Error>(req)
        })();
        match req {
            Ok(req) => start(async move {
                let download = req.send().await?;
                Ok(Output::Stream(ByteStream::new(download.boxed())))
            }),
            Err(e) => failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_is_checked() {
        let h = "ab".repeat(32);
        assert_eq!(sha256(&h).unwrap(), vec![0xab; 32]);
        assert_eq!(sha256(&format!("sha256:{h}")).unwrap().len(), 32);
        assert_eq!(
            sha256("abc").unwrap_err().kind(),
            gar::ErrorKind::InvalidDigest
        );
        assert!(sha256(&"zz".repeat(32)).is_err());
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Pieces over `parts`, as the reader would hand them over.
    fn pieces_of(parts: Vec<gar::Result<bytes::Bytes>>) -> Pieces {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let budget = Arc::new(Semaphore::new(AHEAD));
        for p in parts {
            let sent = p.map(|c| {
                let permit = budget
                    .clone()
                    .try_acquire_many_owned(permits(c.len()))
                    .unwrap();
                (c, permit)
            });
            tx.send(sent).unwrap();
        }
        Pieces { rx, carry: None }
    }

    #[test]
    fn gather_joins_small_chunks_and_ends_with_none() {
        block_on(gather_joins_small_chunks_and_ends_with_none_async());
    }

    async fn gather_joins_small_chunks_and_ends_with_none_async() {
        let parts: Vec<gar::Result<bytes::Bytes>> = (0..3)
            .map(|i| Ok(bytes::Bytes::from(vec![i as u8; 10])))
            .collect();
        let mut s = pieces_of(parts);
        let first = gather(&mut s).await.unwrap().unwrap();
        assert_eq!(first.len(), 30);
        assert!(gather(&mut s).await.unwrap().is_none());
    }

    #[test]
    fn gather_cuts_pieces_of_exactly_one_chunk_and_keeps_the_rest() {
        block_on(async {
            let parts: Vec<gar::Result<bytes::Bytes>> = vec![
                Ok(bytes::Bytes::from(vec![1u8; CHUNK - 5])),
                Ok(bytes::Bytes::from(vec![2u8; CHUNK + 20])),
                Ok(bytes::Bytes::from(vec![3u8; 7])),
            ];
            let mut s = pieces_of(parts);
            let a = gather(&mut s).await.unwrap().unwrap();
            assert_eq!(a.len(), CHUNK);
            assert_eq!(&a[CHUNK - 6..], &[1, 2, 2, 2, 2, 2]);
            let b = gather(&mut s).await.unwrap().unwrap();
            assert_eq!(b, vec![2u8; CHUNK]);
            let c = gather(&mut s).await.unwrap().unwrap();
            assert_eq!(c.len(), 15 + 7);
            assert_eq!(&c[13..], &[2, 2, 3, 3, 3, 3, 3, 3, 3]);
            assert!(gather(&mut s).await.unwrap().is_none());
        });
    }

    #[test]
    fn gather_reports_an_error_after_data() {
        block_on(async {
            let parts: Vec<gar::Result<bytes::Bytes>> = vec![
                Ok(bytes::Bytes::from_static(b"abc")),
                Err(gar::Error::new(gar::ErrorKind::BlobDigestMismatch, "bad")),
            ];
            let mut s = pieces_of(parts);
            let err = gather(&mut s).await.unwrap_err();
            assert_eq!(err.kind(), gar::ErrorKind::BlobDigestMismatch);
        });
    }

    #[test]
    fn a_stream_yields_what_its_reader_passes_on() {
        block_on(async {
            let parts: Vec<gar::Result<bytes::Bytes>> = (0..16)
                .map(|_| Ok(bytes::Bytes::from(vec![0u8; CHUNK / 2])))
                .collect();
            let stream = ByteStream::new(futures_util::stream::iter(parts).boxed());
            let mut total = 0;
            loop {
                let mut guard = stream.pieces.lock().await;
                let Some(p) = guard.as_mut() else { break };
                match gather(p).await.unwrap() {
                    Some(piece) => total += piece.len(),
                    None => break,
                }
            }
            assert_eq!(total, 8 * CHUNK);
        });
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        block_on(a_failed_write_leaves_nothing_behind_async());
    }

    async fn a_failed_write_leaves_nothing_behind_async() {
        let dir = std::env::temp_dir().join(format!("gar-node-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("out.bin");
        let parts: Vec<gar::Result<bytes::Bytes>> = vec![
            Ok(bytes::Bytes::from_static(b"abc")),
            Err(gar::Error::new(gar::ErrorKind::BlobDigestMismatch, "bad")),
        ];
        let err = write_file(
            futures_util::stream::iter(parts).boxed(),
            dest.clone(),
            Reporter::new(None),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), gar::ErrorKind::BlobDigestMismatch);
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
        let ok: Vec<gar::Result<bytes::Bytes>> = vec![Ok(bytes::Bytes::from_static(b"abc"))];
        let n = write_file(
            futures_util::stream::iter(ok).boxed(),
            dest.clone(),
            Reporter::new(None),
        )
        .await
        .unwrap();
        assert_eq!(n, 3);
        assert_eq!(std::fs::read(&dest).unwrap(), b"abc");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
