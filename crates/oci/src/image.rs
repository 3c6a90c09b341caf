//! Whole images: push from an OCI image layout, pull into one, copy between
//! repositories (any registries; mounting blobs within one registry). Blobs move
//! concurrently (5 uploads and 10 downloads at once by default) with progress
//! reported per blob and overall; manifests go last, children before their
//! index, so that a failed transfer never leaves a tag pointing at missing content.

use std::collections::BTreeSet;

use futures_util::{StreamExt, TryStreamExt};
use gar_core::Error;
use gar_core::error::ErrorKind;
use gar_core::ids::Digest;

use crate::blobs::download_into;
use crate::layout::{Layout, REF_NAME};
use crate::manifest::{Descriptor, Manifest, Platform};
use crate::progress::{Callback, ProgressFn, Tracker};
use crate::registry::{Reference, Repository, check_tag};
use crate::upload::{BlobSource, UploadOutcome};

/// What an image transfer did.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferReport {
    /// The digest of the top manifest (the index, or the image manifest).
    pub digest: Digest,
    /// Manifests written (the top one included).
    pub manifests: usize,
    /// Blobs whose bytes moved.
    pub blobs_transferred: usize,
    /// Blobs the target already held.
    pub blobs_skipped: usize,
    /// Blobs the registry linked from the source repository.
    pub blobs_mounted: usize,
    /// Bytes of the blobs that moved.
    pub bytes_transferred: u64,
}

/// A manifest tree: the top manifest, the manifests it lists (children before
/// parents, each once), and the blobs of all image manifests (each once).
struct Tree {
    top: Manifest,
    children: Vec<Manifest>,
    blobs: Vec<Descriptor>,
}

impl Tree {
    fn new(top: Manifest) -> Self {
        Self {
            top,
            children: Vec::new(),
            blobs: Vec::new(),
        }
    }

    fn add_blobs(&mut self, m: &Manifest, seen: &mut BTreeSet<Digest>) {
        for d in m.blobs() {
            let foreign =
                d.media_type.contains("foreign") || d.media_type.contains("nondistributable");
            if !foreign && seen.insert(d.digest.clone()) {
                self.blobs.push(d.clone());
            }
        }
    }

    fn total_bytes(&self) -> u64 {
        self.blobs.iter().map(|d| d.size).sum()
    }
}

/// Deepest index nesting followed.
const MAX_DEPTH: usize = 8;

/// Builds the tree under `top`, reading each listed manifest with `fetch`.
async fn build_tree<F, Fut>(top: Manifest, mut fetch: F) -> Result<Tree, Error>
where
    F: FnMut(Descriptor) -> Fut,
    Fut: std::future::Future<Output = Result<Manifest, Error>>,
{
    let mut tree = Tree::new(top.clone());
    let mut seen_blobs = BTreeSet::new();
    let mut seen_manifests = BTreeSet::new();
    tree.add_blobs(&top, &mut seen_blobs);
    // Depth-first, children recorded after their own children.
    let mut stack: Vec<(Descriptor, usize, bool)> = top
        .as_index()
        .map(|i| {
            i.manifests
                .iter()
                .rev()
                .map(|d| (d.clone(), 1, false))
                .collect()
        })
        .unwrap_or_default();
    let mut fetched: Vec<(Digest, Manifest)> = Vec::new();
    while let Some((d, depth, expanded)) = stack.pop() {
        if expanded {
            if let Some(pos) = fetched.iter().position(|(g, _)| *g == d.digest) {
                let (_, m) = fetched.swap_remove(pos);
                tree.children.push(m);
            }
            continue;
        }
        if !seen_manifests.insert(d.digest.clone()) {
            continue;
        }
        if depth > MAX_DEPTH {
            return Err(Error::new(
                ErrorKind::ManifestInvalid,
                format!("the image nests indexes more than {MAX_DEPTH} deep"),
            ));
        }
        let m = fetch(d.clone()).await?;
        tree.add_blobs(&m, &mut seen_blobs);
        stack.push((d.clone(), depth, true));
        if let Some(index) = m.as_index() {
            for child in index.manifests.iter().rev() {
                stack.push((child.clone(), depth + 1, false));
            }
        }
        fetched.push((d.digest.clone(), m));
    }
    Ok(tree)
}

/// Reads a manifest of a layout, verified.
async fn layout_manifest(layout: &Layout, d: &Descriptor) -> Result<Manifest, Error> {
    let bytes = layout.read_blob(&d.digest).await?;
    Manifest::parse_verified(bytes, Some(&d.media_type), &d.digest)
}

impl Repository {
    /// Pushes an image of an OCI image layout; see [`PushImage`].
    ///
    /// ```no_run
    /// # async fn demo(repo: gar_oci::Repository) -> Result<(), gar_core::Error> {
    /// use gar_oci::layout::Layout;
    ///
    /// let layout = Layout::open("./image").await?;
    /// let report = repo.push_image(&layout).with_tag("v1").send().await?;
    /// println!("pushed {} ({} blobs sent)", report.digest, report.blobs_transferred);
    /// # Ok(()) }
    /// ```
    pub fn push_image(&self, layout: &Layout) -> PushImage {
        PushImage {
            repo: self.clone(),
            layout: layout.clone(),
            tag: None,
            name: None,
            progress: None,
            concurrency: None,
        }
    }

    /// Pulls the image `reference` (tag or digest) into an OCI image layout;
    /// see [`PullImage`].
    pub fn pull_image(&self, reference: &str, layout: &Layout) -> PullImage {
        PullImage {
            repo: self.clone(),
            reference: reference.to_owned(),
            layout: layout.clone(),
            platform: None,
            name: None,
            progress: None,
            concurrency: None,
        }
    }

    /// Copies the image `reference` (with every platform of an index) to
    /// `target`; see [`CopyImage`].
    pub fn copy_image(&self, reference: &str, target: &Repository) -> CopyImage {
        CopyImage {
            source: self.clone(),
            reference: reference.to_owned(),
            target: target.clone(),
            tag: None,
            progress: None,
            concurrency: None,
        }
    }
}

/// Puts the children, then the top manifest under `tag` (or its digest).
async fn put_manifests(repo: &Repository, tree: &Tree, tag: Option<&str>) -> Result<usize, Error> {
    for child in &tree.children {
        repo.put_manifest(child.digest().as_str(), child)
            .send()
            .await?;
    }
    let reference = tag.map_or_else(|| tree.top.digest().to_string(), str::to_owned);
    repo.put_manifest(&reference, &tree.top).send().await?;
    Ok(tree.children.len() + 1)
}

fn count(report: &mut TransferReport, outcome: UploadOutcome, size: u64) {
    match outcome {
        UploadOutcome::Uploaded => {
            report.blobs_transferred += 1;
            report.bytes_transferred += size;
        }
        UploadOutcome::Existed => report.blobs_skipped += 1,
        UploadOutcome::Mounted => report.blobs_mounted += 1,
    }
}

/// An image push; see [`Repository::push_image`].
#[derive(Debug, Clone)]
pub struct PushImage {
    repo: Repository,
    layout: Layout,
    tag: Option<String>,
    name: Option<String>,
    progress: Option<Callback>,
    concurrency: Option<usize>,
}

impl PushImage {
    /// Tags the pushed image `tag` (default: the layout entry's name when it is
    /// a valid tag, else the image is pushed by digest only).
    #[must_use]
    pub fn with_tag(mut self, tag: &str) -> Self {
        self.tag = Some(tag.to_owned());
        self
    }

    /// Pushes the layout entry named `name` (`org.opencontainers.image.ref.name`);
    /// default: the entry named like the tag, else the only entry.
    #[must_use]
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Reports progress to `callback`.
    #[must_use]
    pub fn with_progress(mut self, callback: ProgressFn) -> Self {
        self.progress = Some(Callback(callback));
        self
    }

    /// Uploads at most `n` blobs at once (default: the registry's, 5).
    #[must_use]
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Pushes.
    pub async fn send(self) -> Result<TransferReport, Error> {
        if let Some(t) = &self.tag {
            check_tag(t)?;
        }
        let name = self.name.clone().or_else(|| self.tag.clone());
        let descriptor = match self.layout.find(name.as_deref()).await {
            Ok(d) => d,
            Err(e) if self.name.is_none() && e.kind() == ErrorKind::ManifestNotFound => {
                self.layout.find(None).await?
            }
            Err(e) => return Err(e),
        };
        let tag = self.tag.clone().or_else(|| {
            descriptor
                .annotations
                .get(REF_NAME)
                .filter(|n| check_tag(n).is_ok())
                .cloned()
        });
        let layout = self.layout.clone();
        let top = layout_manifest(&layout, &descriptor).await?;
        let tree = build_tree(top, |d| {
            let layout = layout.clone();
            async move { layout_manifest(&layout, &d).await }
        })
        .await?;
        let repo = &self.repo;
        let tracker = Tracker::new(self.progress.clone().map(|c| c.0));
        tracker.add_total(tree.total_bytes());
        let concurrency = self
            .concurrency
            .unwrap_or(repo.registry().config().max_uploads);
        let outcomes: Vec<(UploadOutcome, u64)> = futures_util::stream::iter(tree.blobs.clone())
            .map(|d| {
                let progress = tracker.blob(&d.digest, d.size);
                let source = BlobSource::file(layout.blob_path(&d.digest));
                async move {
                    let outcome = repo
                        .upload_blob(&d.digest, d.size, source)
                        .with_blob_progress(progress)
                        .send()
                        .await?;
                    Ok::<_, Error>((outcome, d.size))
                }
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let mut report = TransferReport {
            digest: tree.top.digest().clone(),
            manifests: 0,
            blobs_transferred: 0,
            blobs_skipped: 0,
            blobs_mounted: 0,
            bytes_transferred: 0,
        };
        for (o, size) in outcomes {
            count(&mut report, o, size);
        }
        report.manifests = put_manifests(repo, &tree, tag.as_deref()).await?;
        Ok(report)
    }
}

/// An image pull; see [`Repository::pull_image`].
#[derive(Debug, Clone)]
pub struct PullImage {
    repo: Repository,
    reference: String,
    layout: Layout,
    platform: Option<Platform>,
    name: Option<String>,
    progress: Option<Callback>,
    concurrency: Option<usize>,
}

impl PullImage {
    /// From an index, pulls only the manifest for `platform` (default: every
    /// platform, the index included).
    #[must_use]
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Names the image `name` in the layout's `index.json` (default: the reference).
    #[must_use]
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Reports progress to `callback`.
    #[must_use]
    pub fn with_progress(mut self, callback: ProgressFn) -> Self {
        self.progress = Some(Callback(callback));
        self
    }

    /// Downloads at most `n` blobs at once (default: the registry's, 10).
    #[must_use]
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Pulls. Blobs already in the layout are not downloaded again; the image
    /// appears in `index.json` only once everything it needs is in place.
    pub async fn send(self) -> Result<TransferReport, Error> {
        Reference::parse(&self.reference)?;
        let repo = &self.repo;
        let mut top = repo.get_manifest(&self.reference).send().await?;
        let mut top_platform = None;
        if let (Some(wanted), Some(index)) = (&self.platform, top.as_index()) {
            let Some(d) = index.select(wanted.clone()).cloned() else {
                let offered: Vec<String> =
                    index.platforms().iter().map(ToString::to_string).collect();
                return Err(Error::new(
                    ErrorKind::ManifestNotFound,
                    format!(
                        "{repo}:{} has no manifest for {wanted}; it offers {}",
                        self.reference,
                        offered.join(", ")
                    ),
                ));
            };
            top = repo.get_manifest(d.digest.as_str()).send().await?;
            top_platform = d.platform;
        }
        let tree = build_tree(top, |d| {
            let repo = repo.clone();
            async move { repo.get_manifest(d.digest.as_str()).send().await }
        })
        .await?;
        let layout = &self.layout;
        let tracker = Tracker::new(self.progress.clone().map(|c| c.0));
        tracker.add_total(tree.total_bytes());
        let concurrency = self
            .concurrency
            .unwrap_or(repo.registry().config().max_downloads);
        // Largest first: the longest transfer starts earliest (and takes the
        // connection the manifest came on, already open).
        let mut blobs = tree.blobs.clone();
        blobs.sort_by_key(|d| std::cmp::Reverse(d.size));
        let results: Vec<(bool, u64)> = futures_util::stream::iter(blobs)
            .map(|d| {
                let progress = tracker.blob(&d.digest, d.size);
                async move {
                    if layout.has_descriptor(&d).await {
                        progress.finish();
                        return Ok::<_, Error>((false, d.size));
                    }
                    let get = repo
                        .get_blob(&d.digest)
                        .with_size(d.size)
                        .with_progress(progress);
                    let sink = async { Ok(layout.begin_blob(&d.digest).await?.into_sink()) };
                    download_into(get, sink).await?;
                    Ok((true, d.size))
                }
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let mut report = TransferReport {
            digest: tree.top.digest().clone(),
            manifests: tree.children.len() + 1,
            blobs_transferred: 0,
            blobs_skipped: 0,
            blobs_mounted: 0,
            bytes_transferred: 0,
        };
        for (moved, size) in results {
            if moved {
                report.blobs_transferred += 1;
                report.bytes_transferred += size;
            } else {
                report.blobs_skipped += 1;
            }
        }
        // The manifests (verified when they were read) and index.json, in one
        // blocking hop.
        let manifests = tree
            .children
            .iter()
            .chain(std::iter::once(&tree.top))
            .map(|m| (m.digest().clone(), bytes::Bytes::copy_from_slice(m.raw())))
            .collect();
        let mut descriptor = tree.top.descriptor();
        descriptor.platform = top_platform;
        let name = self.name.clone().unwrap_or_else(|| self.reference.clone());
        layout.finish_pull(manifests, descriptor, name).await?;
        Ok(report)
    }
}

/// An image copy; see [`Repository::copy_image`].
#[derive(Debug, Clone)]
pub struct CopyImage {
    source: Repository,
    reference: String,
    target: Repository,
    tag: Option<String>,
    progress: Option<Callback>,
    concurrency: Option<usize>,
}

impl CopyImage {
    /// Tags the copy `tag` (default: the source tag; by digest only when the
    /// source reference is a digest).
    #[must_use]
    pub fn with_tag(mut self, tag: &str) -> Self {
        self.tag = Some(tag.to_owned());
        self
    }

    /// Reports progress to `callback`.
    #[must_use]
    pub fn with_progress(mut self, callback: ProgressFn) -> Self {
        self.progress = Some(Callback(callback));
        self
    }

    /// Copies at most `n` blobs at once (default: the target registry's, 5).
    #[must_use]
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Copies: blobs the target lacks are mounted (same registry) or streamed
    /// from the source to the target without touching the disk.
    pub async fn send(self) -> Result<TransferReport, Error> {
        let reference = Reference::parse(&self.reference)?;
        if let Some(t) = &self.tag {
            check_tag(t)?;
        }
        let tag = self.tag.clone().or(match &reference {
            Reference::Tag(t) => Some(t.clone()),
            Reference::Digest(_) => None,
        });
        let source = &self.source;
        let target = &self.target;
        let top = source.get_manifest(&self.reference).send().await?;
        let tree = build_tree(top, |d| {
            let source = source.clone();
            async move { source.get_manifest(d.digest.as_str()).send().await }
        })
        .await?;
        let tracker = Tracker::new(self.progress.clone().map(|c| c.0));
        tracker.add_total(tree.total_bytes());
        let concurrency = self
            .concurrency
            .unwrap_or(target.registry().config().max_uploads);
        let same = target.registry().same_registry(source.registry());
        let outcomes: Vec<(UploadOutcome, u64)> = futures_util::stream::iter(tree.blobs.clone())
            .map(|d| {
                let progress = tracker.blob(&d.digest, d.size);
                async move {
                    let mut upload = target
                        .upload_blob(&d.digest, d.size, BlobSource::blob(source, &d.digest))
                        .with_blob_progress(progress);
                    if same {
                        upload = upload.mount_from(source);
                    }
                    Ok::<_, Error>((upload.send().await?, d.size))
                }
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let mut report = TransferReport {
            digest: tree.top.digest().clone(),
            manifests: 0,
            blobs_transferred: 0,
            blobs_skipped: 0,
            blobs_mounted: 0,
            bytes_transferred: 0,
        };
        for (o, size) in outcomes {
            count(&mut report, o, size);
        }
        report.manifests = put_manifests(target, &tree, tag.as_deref()).await?;
        Ok(report)
    }
}
