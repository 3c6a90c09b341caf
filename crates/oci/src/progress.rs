//! Progress of transfers: bytes done and total, per blob and overall.
//!
//! ```
//! use std::sync::Arc;
//! use gar_oci::progress::{Progress, ProgressFn};
//!
//! let report: ProgressFn = Arc::new(|p: &Progress| {
//!     eprintln!("{}: {}/{} ({}/{} overall)", p.digest, p.blob_done, p.blob_total, p.done, p.total);
//! });
//! # drop(report);
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gar_core::ids::Digest;

/// One progress report.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The blob that moved.
    pub digest: Digest,
    /// Bytes of that blob transferred (or found present) so far.
    pub blob_done: u64,
    /// The blob's size.
    pub blob_total: u64,
    /// Bytes of the whole operation done so far.
    pub done: u64,
    /// Bytes of the whole operation.
    pub total: u64,
}

/// A progress callback; called from the transferring tasks, so keep it quick.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A [`ProgressFn`] that builders can hold and still derive `Debug`.
#[derive(Clone)]
pub(crate) struct Callback(pub(crate) ProgressFn);

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressFn")
    }
}

/// Counts the bytes of one operation and reports them.
#[derive(Clone, Default)]
pub(crate) struct Tracker {
    inner: Arc<TrackerInner>,
}

#[derive(Default)]
struct TrackerInner {
    total: AtomicU64,
    done: AtomicU64,
    callback: Option<ProgressFn>,
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("total", &self.inner.total.load(Ordering::Relaxed))
            .field("done", &self.inner.done.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Tracker {
    /// A tracker reporting to `callback` (or to nobody).
    pub(crate) fn new(callback: Option<ProgressFn>) -> Self {
        Self {
            inner: Arc::new(TrackerInner {
                total: AtomicU64::new(0),
                done: AtomicU64::new(0),
                callback,
            }),
        }
    }

    /// Adds `bytes` to the total.
    pub(crate) fn add_total(&self, bytes: u64) {
        self.inner.total.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A per-blob counter.
    pub(crate) fn blob(&self, digest: &Digest, size: u64) -> BlobProgress {
        BlobProgress {
            tracker: self.clone(),
            digest: digest.clone(),
            size,
            at: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// The progress of one blob; clones share it.
#[derive(Clone, Debug)]
pub(crate) struct BlobProgress {
    tracker: Tracker,
    digest: Digest,
    size: u64,
    at: Arc<AtomicU64>,
}

impl BlobProgress {
    /// A counter that reports to nobody.
    pub(crate) fn none(digest: &Digest, size: u64) -> Self {
        Tracker::new(None).blob(digest, size)
    }

    /// `bytes` more were transferred.
    pub(crate) fn advance(&self, bytes: u64) {
        let at = self.at.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let done = self.tracker.inner.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.report(at, done);
    }

    /// The transfer is now at `offset` (after a resume, which may move back).
    pub(crate) fn set(&self, offset: u64) {
        let before = self.at.swap(offset, Ordering::Relaxed);
        let done = if offset >= before {
            self.tracker
                .inner
                .done
                .fetch_add(offset - before, Ordering::Relaxed)
                + (offset - before)
        } else {
            self.tracker
                .inner
                .done
                .fetch_sub(before - offset, Ordering::Relaxed)
                .saturating_sub(before - offset)
        };
        self.report(offset, done);
    }

    /// The whole blob is done (transferred, present or mounted).
    pub(crate) fn finish(&self) {
        self.set(self.size);
    }

    fn report(&self, at: u64, done: u64) {
        if let Some(cb) = &self.tracker.inner.callback {
            cb(&Progress {
                digest: self.digest.clone(),
                blob_done: at,
                blob_total: self.size,
                done,
                total: self.tracker.inner.total.load(Ordering::Relaxed),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn counts_per_blob_and_overall_and_moves_back_on_resume() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let t = Tracker::new(Some(Arc::new(move |p: &Progress| {
            s.lock().unwrap().push((p.blob_done, p.done, p.total));
        })));
        t.add_total(30);
        let a = t.blob(&crate::digest::sha256(b"a"), 10);
        let b = t.blob(&crate::digest::sha256(b"b"), 20);
        a.advance(4);
        b.advance(5);
        a.set(2);
        a.finish();
        b.finish();
        assert_eq!(t.inner.done.load(Ordering::Relaxed), 30);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (4, 4, 30),
                (5, 9, 30),
                (2, 7, 30),
                (10, 15, 30),
                (20, 30, 30)
            ]
        );
        BlobProgress::none(&crate::digest::sha256(b""), 0).finish();
    }
}
