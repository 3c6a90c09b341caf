//! Persistence under `--data-dir`: the resource tree as `state.json`, rewritten
//! atomically (temp file, fsync, rename, fsync of the directory) after every
//! change. Blobs are in the content-addressed store beside it and always reach
//! it before any metadata names them, so after a crash (even `kill -9` in the
//! middle of an upload) the saved tree only names complete, verified content;
//! uploads in flight are dropped on restart.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use crate::blobs::write_atomic;
use crate::state::{Registry, read};

/// Saves and loads the tree.
#[derive(Debug)]
pub(crate) struct Persister {
    path: Option<PathBuf>,
    order: tokio::sync::Mutex<()>,
}

impl Persister {
    /// Saves into `dir/state.json`, or nowhere when `dir` is `None`.
    pub(crate) fn new(dir: Option<&Path>) -> Self {
        Self {
            path: dir.map(|d| d.join("state.json")),
            order: tokio::sync::Mutex::new(()),
        }
    }

    /// Loads a saved tree, if one exists.
    pub(crate) fn load(&self) -> io::Result<Option<Registry>> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the current tree. Saves are serialised, and each one snapshots the
    /// tree after the previous finished, so the file never goes back in time.
    pub(crate) async fn save(&self, registry: &RwLock<Registry>) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let _order = self.order.lock().await;
        let bytes = {
            let tree = read(registry);
            serde_json::to_vec(&*tree).map_err(io::Error::other)?
        };
        let path = path.clone();
        tokio::task::spawn_blocking(move || write_atomic(&path, &bytes))
            .await
            .map_err(io::Error::other)?
    }
}
