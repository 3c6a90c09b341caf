//! File I/O off the async runtime: a sink that hashes and writes a blob on two
//! threads of its own (side by side, fed through bounded queues while the
//! network delivers the next pieces), and a stream that reads a byte range of a
//! file one piece ahead of the network in short blocking tasks.
//!
//! Both hold at most a few small buffers, whatever the file's size. Neither
//! keeps a task of the runtime's blocking pool busy between pieces (so a
//! paused test clock still advances while a transfer waits for a retry).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use gar_core::Error;
use gar_core::error::ErrorKind;
use gar_core::ids::Digest;
use tokio::task::JoinHandle;

use crate::digest::DigestHasher;

/// Size of one read of a file source.
pub(crate) const READ_CHUNK: usize = 256 * 1024;

pub(crate) fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{what} {}: {e}", path.display())).with_source(e)
}

/// A unique temporary path beside the final one (`.{name}.{pid}.{n}.partial`).
pub(crate) fn temp_path(dir: &Path, name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{n}.partial", std::process::id()))
}

fn stopped(e: &tokio::task::JoinError) -> std::io::Error {
    std::io::Error::other(format!("a file task stopped: {e}"))
}

/// Pieces queued for each of a sink's two threads (each piece at most
/// [`SINK_PIECE`] bytes, and the queues share the pieces: at most about 8 MiB
/// held per download). Deep enough that a thread the scheduler sets aside for
/// a while (the machine has other work: the registry, the other thread) does
/// not stop the network: on two cores, 8 deep pulled 64 MiB from
/// docker-registry in a median 120 ms, 32 deep in 117 ms (40 interleaved runs).
const SINK_QUEUE: usize = 32;

/// The largest piece handed to a sink's threads.
const SINK_PIECE: usize = 256 * 1024;

/// Size of the block [`keep_heap`] allocates and frees.
const HEAP_PRIMER: usize = 16 * 1024 * 1024;

/// Has glibc's malloc keep the heap memory that downloads churn through,
/// instead of giving it back to the system and faulting it in again.
///
/// A download holds read buffers of the connection (hyper's, about 400 KiB
/// each) in the sink's queues until both threads are done with them: several
/// MiB allocated and freed over and over. glibc starts by serving blocks above
/// 128 KiB from fresh mappings and by returning the heap's free top beyond
/// twice that; freeing a mapped block raises both limits to its size (the
/// "dynamic mmap threshold" of mallopt(3)). The first read buffers raise them
/// to only about 400 and 800 KiB, so the heap kept shrinking and growing back:
/// a 64 MiB pull from docker-registry took about 5,400 page faults, 2,200 once
/// the limits are higher (the first touch of the memory the queues hold), and
/// 8-12 ms less CPU on two cores. One block of [`HEAP_PRIMER`] bytes allocated
/// and freed once per process (mapped and unmapped, never touched) raises the
/// limits to 16 and 32 MiB for the whole process: each of glibc's arenas may
/// then keep up to 32 MiB of free memory at its top. Other allocators treat it
/// as any short-lived allocation.
fn keep_heap() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // `black_box`: an allocation nothing reads may be optimized away.
        drop(std::hint::black_box(Vec::<u8>::with_capacity(HEAP_PRIMER)));
    });
}

/// One of a sink's two threads: it takes pieces from its queue until the queue
/// closes, then hands back what it made.
struct Worker<T> {
    queue: Option<tokio::sync::mpsc::Sender<Bytes>>,
    done: Option<tokio::sync::oneshot::Receiver<T>>,
}

impl<T: Send + 'static> Worker<T> {
    /// Starts a thread running `run` over the queue. A plain thread, not the
    /// runtime's blocking pool: it lives as long as the download.
    fn start(
        name: &str,
        run: impl FnOnce(tokio::sync::mpsc::Receiver<Bytes>) -> T + Send + 'static,
    ) -> std::io::Result<Self> {
        let (queue, pieces) = tokio::sync::mpsc::channel(SINK_QUEUE);
        let (tx, done) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _ = tx.send(run(pieces));
            })?;
        Ok(Self {
            queue: Some(queue),
            done: Some(done),
        })
    }

    /// Queues `piece`; `false` when the thread has stopped taking pieces.
    async fn send(&self, piece: Bytes) -> bool {
        match &self.queue {
            Some(q) => q.send(piece).await.is_ok(),
            None => false,
        }
    }

    /// Closes the queue and waits for what the thread made.
    async fn finish(&mut self) -> Option<T> {
        self.queue = None;
        match self.done.take() {
            Some(done) => done.await.ok(),
            None => None,
        }
    }
}

/// Writes a blob to a temporary file, hashing it on the way: two threads, one
/// hashing and one writing, take the same pieces from bounded queues, so the
/// hash, the write and the network run side by side without waiting for each
/// other piece by piece; [`commit`](Self::commit) verifies the digest (and
/// size, when known) and renames the file into place. Dropped or failed, it
/// removes the file.
pub(crate) struct FileSink {
    hashing: Worker<DigestHasher>,
    writing: Worker<std::io::Result<std::fs::File>>,
    temp: Option<PathBuf>,
    target: PathBuf,
    expected: Digest,
    queued: u64,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink")
            .field("target", &self.target)
            .field("expected", &self.expected)
            .field("queued", &self.queued)
            .finish_non_exhaustive()
    }
}

fn finished() -> Error {
    Error::new(ErrorKind::Io, "the blob writer was already finished")
}

impl FileSink {
    /// Creates the temporary file beside `target`.
    pub(crate) async fn create(target: PathBuf, expected: Digest) -> Result<Self, Error> {
        let dir = target
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("blob")
            .to_owned();
        let temp = temp_path(&dir, &name);
        keep_heap();
        // One blocking hop for the directory and the file.
        let path = temp.clone();
        let mut file = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| io_error("could not create", &dir, e))?;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| io_error("could not create", &path, e))
        })
        .await
        .map_err(|e| io_error("could not create", &temp, stopped(&e)))??;
        let mut hasher = DigestHasher::for_digest(&expected);
        let started = Worker::start("gar-hash", move |mut pieces| {
            while let Some(piece) = pieces.blocking_recv() {
                hasher.update(&piece);
            }
            hasher
        })
        .and_then(|hashing| {
            let writing = Worker::start("gar-write", move |mut pieces| {
                while let Some(piece) = pieces.blocking_recv() {
                    file.write_all(&piece)?;
                }
                Ok(file)
            })?;
            Ok((hashing, writing))
        });
        let (hashing, writing) = match started {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(io_error("could not start a thread for", &temp, e));
            }
        };
        Ok(Self {
            hashing,
            writing,
            temp: Some(temp),
            target,
            expected,
            queued: 0,
        })
    }

    /// Appends bytes (hashed and written by the sink's threads as they come).
    pub(crate) async fn write(&mut self, mut bytes: Bytes) -> Result<(), Error> {
        self.queued += bytes.len() as u64;
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(SINK_PIECE));
            if !self.hashing.send(piece.clone()).await {
                return Err(self.stopped("hash").await);
            }
            if !self.writing.send(piece).await {
                return Err(self.stopped("write").await);
            }
        }
        Ok(())
    }

    /// Why a thread stopped taking pieces (a write error, usually).
    async fn stopped(&mut self, what: &str) -> Error {
        match self.writing.finish().await {
            Some(Err(e)) => io_error("could not write", &self.target, e),
            _ => io_error(
                &format!("could not {what}"),
                &self.target,
                std::io::Error::other("the sink's thread stopped"),
            ),
        }
    }

    /// Bytes accepted so far.
    pub(crate) fn written(&self) -> u64 {
        self.queued
    }

    /// Verifies the digest (and `size`, when given) and moves the file into
    /// place; returns its path.
    pub(crate) async fn commit(mut self, size: Option<u64>) -> Result<PathBuf, Error> {
        let file = match self.writing.finish().await {
            Some(Ok(file)) => file,
            Some(Err(e)) => return Err(io_error("could not write", &self.target, e)),
            None => return Err(finished()),
        };
        let Some(hasher) = self.hashing.finish().await else {
            return Err(finished());
        };
        let bytes = hasher.bytes();
        let digest = hasher.finish();
        if digest != self.expected {
            return Err(Error::new(
                ErrorKind::BlobDigestMismatch,
                format!(
                    "the {bytes} bytes received hash to {digest}, not to the expected {}; nothing was kept, retry the transfer",
                    self.expected
                ),
            ));
        }
        if let Some(size) = size
            && size != bytes
        {
            return Err(Error::new(
                ErrorKind::BlobDigestMismatch,
                format!(
                    "{} has {bytes} bytes, not the {size} its descriptor says; nothing was kept",
                    self.expected
                ),
            ));
        }
        let Some(temp) = self.temp.clone() else {
            return Err(finished());
        };
        // Verified: made durable and moved into place in one blocking hop.
        let target = self.target.clone();
        tokio::task::spawn_blocking(move || {
            let mut file = file;
            file.flush()
                .and_then(|()| file.sync_all())
                .map_err(|e| io_error("could not write", &target, e))?;
            std::fs::rename(&temp, &target)
                .map_err(|e| io_error("could not move into place", &target, e))
        })
        .await
        .map_err(|e| io_error("could not move into place", &self.target, stopped(&e)))??;
        self.temp = None;
        Ok(self.target.clone())
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // The writing thread may still write queued pieces into the unlinked
        // file (it stops when the queue closes), which is fine on the platforms
        // gar supports.
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Reads one piece of at most `len` bytes; `None` once the range is done.
fn read_piece(file: &mut std::fs::File, path: &Path, left: u64) -> Result<Bytes, Error> {
    let want = usize::try_from(left).unwrap_or(READ_CHUNK).min(READ_CHUNK);
    let mut buf = BytesMut::zeroed(want);
    let mut filled = 0;
    while filled < want {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        let n = file
            .read(rest)
            .map_err(|e| io_error("could not read", path, e))?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "{} ended {left} bytes early (it changed while being read?)",
                    path.display()
                ),
            ));
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(buf.freeze())
}

type Piece = (std::fs::File, Result<Bytes, Error>);

/// Starts reading the next piece of `path` in a blocking task.
fn next_piece(
    file: Option<std::fs::File>,
    path: PathBuf,
    offset: u64,
    left: u64,
) -> JoinHandle<Result<Piece, Error>> {
    tokio::task::spawn_blocking(move || {
        let mut file = match file {
            Some(f) => f,
            None => {
                let mut f =
                    std::fs::File::open(&path).map_err(|e| io_error("could not open", &path, e))?;
                f.seek(SeekFrom::Start(offset))
                    .map_err(|e| io_error("could not read", &path, e))?;
                f
            }
        };
        let piece = read_piece(&mut file, &path, left);
        Ok((file, piece))
    })
}

/// `len` bytes of `path` from `offset`, read in [`READ_CHUNK`] pieces by short
/// blocking tasks, one piece ahead of the consumer. A file shorter than that
/// ends the stream with an error.
pub(crate) fn file_stream(
    path: PathBuf,
    offset: u64,
    len: u64,
) -> impl Stream<Item = Result<Bytes, Error>> + Send + 'static {
    struct State {
        path: PathBuf,
        left: u64,
        ahead: Option<JoinHandle<Result<Piece, Error>>>,
        failed: bool,
    }
    let state = State {
        ahead: (len > 0).then(|| next_piece(None, path.clone(), offset, len)),
        path,
        left: len,
        failed: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.failed {
            return None;
        }
        let task = st.ahead.take()?;
        let joined = task.await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("reading {} stopped: {e}", st.path.display()),
            )
        });
        let (file, piece) = match joined.and_then(|r| r) {
            Ok(p) => p,
            Err(e) => {
                st.failed = true;
                return Some((Err(e), st));
            }
        };
        match piece {
            Ok(bytes) => {
                st.left = st.left.saturating_sub(bytes.len() as u64);
                if st.left > 0 {
                    st.ahead = Some(next_piece(Some(file), st.path.clone(), 0, st.left));
                }
                Some((Ok(bytes), st))
            }
            Err(e) => {
                st.failed = true;
                Some((Err(e), st))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256;
    use futures_util::TryStreamExt;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gar-fsio-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn sink_commits_verified_and_cleans_up_otherwise() {
        let d = dir("sink");
        let data = vec![5u8; 700_000];
        let digest = sha256(&data);
        let target = d.join("blob");
        let mut sink = FileSink::create(target.clone(), digest.clone())
            .await
            .unwrap();
        for c in data.chunks(100_000) {
            sink.write(Bytes::copy_from_slice(c)).await.unwrap();
        }
        assert_eq!(sink.written(), 700_000);
        sink.commit(Some(700_000)).await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), data);

        let other = d.join("other");
        let mut sink = FileSink::create(other.clone(), digest.clone())
            .await
            .unwrap();
        sink.write(Bytes::from_static(b"not it")).await.unwrap();
        let err = sink.commit(None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch);
        assert!(!other.exists());

        let mut sink = FileSink::create(other.clone(), digest.clone())
            .await
            .unwrap();
        sink.write(Bytes::copy_from_slice(&data)).await.unwrap();
        let err = sink.commit(Some(1)).await.unwrap_err();
        assert!(err.to_string().contains("not the 1"), "{err}");

        let sink = FileSink::create(other.clone(), digest).await.unwrap();
        drop(sink);
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["blob".to_owned()], "only the committed blob");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn file_ranges_stream_in_pieces() {
        let d = dir("stream");
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let path = d.join("f");
        std::fs::write(&path, &data).unwrap();
        let chunks: Vec<Bytes> = file_stream(path.clone(), 1000, 600_000)
            .try_collect()
            .await
            .unwrap();
        assert!(chunks.iter().all(|c| c.len() <= READ_CHUNK));
        let joined: Vec<u8> = chunks.concat();
        assert_eq!(joined, data[1000..601_000]);
        let err = file_stream(path.clone(), 999_000, 5000)
            .try_collect::<Vec<Bytes>>()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("early"), "{err}");
        let err = file_stream(d.join("missing"), 0, 1)
            .try_collect::<Vec<Bytes>>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        let _ = std::fs::remove_dir_all(&d);
    }
}
