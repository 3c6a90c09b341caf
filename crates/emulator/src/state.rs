//! The one shared state: the resource tree (projects, locations, repositories,
//! packages, versions, tags, files, manifests and blob links), the blob store,
//! identity, upload sessions, faults, the request log and persistence.
//!
//! Every surface's handlers are plain functions over [`State`]. The resource
//! tree ([`Registry`]) is plain data behind one lock, never held across an
//! `await`; it is what persistence saves. The Artifact Registry REST surface
//! reads and writes the same tree: a docker image is a package whose
//! versions are manifest digests, so `dockerImages`, `packages`, `versions` and
//! `tags` are views of what the OCI surface writes, and the reverse.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use gar_core::cleanup::CleanupPolicies;
use gar_core::format::{Format, Mode};
use gar_core::ids::{Digest, PackageId, ProjectId, RepositoryId};
use gar_core::location::Location;
use gar_core::names::{RepositoryName, encode_id};
use gar_core::protojson::Timestamp;
use serde::{Deserialize, Serialize};

use crate::blobs::{BlobStore, Spill, TempDir};
use crate::faults::Faults;
use crate::identity::Identity;
use crate::persistence::Persister;

/// Locks a mutex, ignoring poisoning (the data is plain and stays consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks, ignoring poisoning.
pub(crate) fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks, ignoring poisoning.
pub(crate) fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

/// Options fixed at start.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    /// Reproduce GAR's refusal of chunked (`Content-Range`) uploads.
    pub gar_quirks: bool,
}

/// The emulator's clock: the system time plus an offset tests can advance.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    /// Now, as seen by the emulator.
    pub(crate) fn now(&self) -> Timestamp {
        let offset = self.offset_secs.load(Ordering::Relaxed);
        let now = Timestamp::now();
        let moved = if offset >= 0 {
            now.checked_add(std::time::Duration::from_secs(offset.unsigned_abs()))
        } else {
            now.checked_sub(std::time::Duration::from_secs(offset.unsigned_abs()))
        };
        moved.unwrap_or(now)
    }

    /// Seconds since the Unix epoch, as seen by the emulator.
    pub(crate) fn unix(&self) -> i64 {
        self.now().unix_seconds()
    }

    /// Moves the clock forward (or back, when negative).
    pub(crate) fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

/// A project and its locations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Project {
    /// The project id.
    pub id: ProjectId,
    /// The project number (digits).
    pub number: String,
    /// Locations by name.
    #[serde(default)]
    pub locations: BTreeMap<String, LocationState>,
}

/// The repositories of one project in one location.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationState {
    /// Repositories by id.
    #[serde(default)]
    pub repositories: BTreeMap<String, Repository>,
}

/// A repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Repository {
    /// Its full name.
    pub name: RepositoryName,
    /// Its format.
    pub format: Format,
    /// Its mode.
    pub mode: Mode,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Creation time.
    pub create_time: Timestamp,
    /// Last update time.
    pub update_time: Timestamp,
    /// Docker: a tag, once set, cannot move to another manifest.
    #[serde(default)]
    pub immutable_tags: bool,
    /// Cleanup policies by id (REST shape).
    #[serde(default, skip_serializing_if = "CleanupPolicies::is_empty")]
    pub cleanup_policies: CleanupPolicies,
    /// Whether cleanup passes only report what they would delete.
    #[serde(default)]
    pub cleanup_policy_dry_run: bool,
    /// Packages by id (docker: image paths).
    #[serde(default)]
    pub packages: BTreeMap<String, Package>,
    /// Files by id (generic and language formats).
    #[serde(default)]
    pub files: BTreeMap<String, FileRecord>,
    /// Blobs linked into this repository: digest -> size.
    #[serde(default)]
    pub blobs: BTreeMap<String, u64>,
}

/// A package (a docker image path, a Maven artifact, an npm package...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Package {
    /// Its id.
    pub id: PackageId,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Creation time.
    pub create_time: Timestamp,
    /// Last update time.
    pub update_time: Timestamp,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Versions by id (docker: manifest digests).
    #[serde(default)]
    pub versions: BTreeMap<String, Version>,
    /// Tags: tag -> version id.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A version of a package; for docker, one manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Version {
    /// Creation time.
    pub create_time: Timestamp,
    /// Last update time.
    pub update_time: Timestamp,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The manifest, for docker versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ManifestInfo>,
}

/// What the registry keeps about a stored manifest (its bytes are in the blob store).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManifestInfo {
    /// Its digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The artifact type (OCI 1.1 rules: `artifactType`, else the config's media type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifest it refers to (`subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Digest>,
    /// Its annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Blobs it references (config and layers).
    #[serde(default)]
    pub blobs: Vec<Digest>,
    /// Manifests it references (index children).
    #[serde(default)]
    pub children: Vec<Digest>,
    /// Sum of the manifest, config and layer sizes.
    pub image_size: u64,
    /// Platforms of the children of an index (`imageManifests`).
    #[serde(default)]
    pub platforms: Vec<serde_json::Value>,
}

/// A file of a non-docker repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileRecord {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content (the content lives in the blob store).
    pub sha256: Digest,
    /// Creation time.
    pub create_time: Timestamp,
    /// Last update time.
    pub update_time: Timestamp,
    /// The version that owns it, if any.
    #[serde(default)]
    pub owner: String,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// The resource tree.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Registry {
    /// Projects by id.
    #[serde(default)]
    pub projects: BTreeMap<String, Project>,
}

impl Registry {
    /// Adds a project (keeping an existing one).
    pub(crate) fn ensure_project(&mut self, id: &ProjectId, number: Option<&str>) -> &mut Project {
        let entry = self
            .projects
            .entry(id.to_string())
            .or_insert_with(|| Project {
                id: id.clone(),
                number: number.map_or_else(|| project_number(id.as_str()), str::to_owned),
                locations: BTreeMap::new(),
            });
        if let Some(n) = number {
            entry.number = n.to_owned();
        }
        entry
    }

    /// The project with id or number `id`.
    pub(crate) fn project(&self, id: &str) -> Option<&Project> {
        self.projects
            .get(id)
            .or_else(|| self.projects.values().find(|p| p.number == id))
    }

    /// The repository `name`.
    pub(crate) fn repository(&self, name: &RepositoryName) -> Option<&Repository> {
        self.project(name.project().as_str())?
            .locations
            .get(name.location().as_str())?
            .repositories
            .get(name.repository().as_str())
    }

    /// The repository `name`, to change.
    pub(crate) fn repository_mut(&mut self, name: &RepositoryName) -> Option<&mut Repository> {
        let key = match self.projects.get(name.project().as_str()) {
            Some(_) => name.project().to_string(),
            None => self
                .projects
                .values()
                .find(|p| p.number == name.project().as_str())
                .map(|p| p.id.to_string())?,
        };
        self.projects
            .get_mut(&key)?
            .locations
            .get_mut(name.location().as_str())?
            .repositories
            .get_mut(name.repository().as_str())
    }

    /// Finds a repository by project and id when the request does not carry the
    /// location (one emulator URL serves every location): the location of
    /// `host` (`us-docker.pkg.dev`) if it names one, else the one location
    /// holding such a repository, else the first by name that holds `image`,
    /// else the first by name.
    pub(crate) fn find_repository(
        &self,
        project: &str,
        repository: &RepositoryId,
        host: Option<&str>,
        image: Option<&str>,
    ) -> Option<&Repository> {
        let p = self.project(project)?;
        if let Some(loc) = host.and_then(location_of_host)
            && let Some(r) = p
                .locations
                .get(&loc)
                .and_then(|l| l.repositories.get(repository.as_str()))
        {
            return Some(r);
        }
        let mut candidates = p
            .locations
            .values()
            .filter_map(|l| l.repositories.get(repository.as_str()));
        let first = candidates.next()?;
        let holds = |r: &&Repository| image.is_some_and(|i| r.packages.contains_key(i));
        if holds(&first) {
            return Some(first);
        }
        Some(candidates.find(holds).unwrap_or(first))
    }

    /// Inserts a repository (replacing any with the same name).
    pub(crate) fn insert_repository(&mut self, repo: Repository) {
        let project = self.ensure_project(repo.name.project(), None);
        project
            .locations
            .entry(repo.name.location().to_string())
            .or_default()
            .repositories
            .insert(repo.name.repository().to_string(), repo);
    }
}

/// The location a docker host names (`us-west1-docker.pkg.dev` -> `us-west1`).
pub(crate) fn location_of_host(host: &str) -> Option<String> {
    let host = host.split(':').next()?;
    let prefix = host.strip_suffix(".pkg.dev")?;
    let (loc, _format) = prefix.rsplit_once('-')?;
    loc.parse::<Location>().ok().map(|l| l.to_string())
}

/// A stable 12-digit project number derived from a project id.
pub(crate) fn project_number(id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{}", 100_000_000_000 + h % 900_000_000_000)
}

impl Repository {
    /// A new empty repository.
    pub(crate) fn new(name: RepositoryName, format: Format, now: Timestamp) -> Self {
        Self {
            name,
            format,
            mode: Mode::Standard,
            description: String::new(),
            labels: BTreeMap::new(),
            create_time: now,
            update_time: now,
            immutable_tags: false,
            cleanup_policies: CleanupPolicies::default(),
            cleanup_policy_dry_run: false,
            packages: BTreeMap::new(),
            files: BTreeMap::new(),
            blobs: BTreeMap::new(),
        }
    }
}

impl Repository {
    /// The full name of version `version` of package `package`, as REST shows it.
    pub(crate) fn version_name(&self, package: &str, version: &str) -> String {
        format!(
            "{}/packages/{}/versions/{}",
            self.name,
            encode_id(package),
            encode_id(version)
        )
    }

    /// Deletes a version with its tags and the files it owns; a package left
    /// without versions goes too (as the OCI side does). Returns whether it existed.
    pub(crate) fn delete_version(&mut self, package: &str, version: &str, now: Timestamp) -> bool {
        let owner = self.version_name(package, version);
        let Some(p) = self.packages.get_mut(package) else {
            return false;
        };
        if p.versions.remove(version).is_none() {
            return false;
        }
        p.tags.retain(|_, v| v != version);
        p.update_time = now;
        if p.versions.is_empty() {
            self.packages.remove(package);
        }
        self.files.retain(|_, f| f.owner != owner);
        self.update_time = now;
        true
    }

    /// Deletes a package with its versions, tags and the files they own.
    pub(crate) fn delete_package(&mut self, package: &str, now: Timestamp) -> bool {
        let Some(p) = self.packages.remove(package) else {
            return false;
        };
        let owners: Vec<String> = p
            .versions
            .keys()
            .map(|v| self.version_name(package, v))
            .collect();
        self.files.retain(|_, f| !owners.contains(&f.owner));
        self.update_time = now;
        true
    }
}

impl Package {
    /// A new empty package.
    pub(crate) fn new(id: PackageId, now: Timestamp) -> Self {
        Self {
            id,
            display_name: String::new(),
            create_time: now,
            update_time: now,
            annotations: BTreeMap::new(),
            versions: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }

    /// The tags pointing at `version`.
    pub(crate) fn tags_of(&self, version: &str) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, v)| v.as_str() == version)
            .map(|(t, _)| t.clone())
            .collect()
    }
}

/// An OCI upload session in progress.
#[derive(Debug)]
pub(crate) struct UploadSession {
    /// The repository it belongs to.
    pub repository: RepositoryName,
    /// The image path it was started on.
    pub image: String,
    /// When it started (emulator clock, Unix seconds).
    pub started: i64,
    /// Bytes received so far; readable while a request holds `data`.
    pub received: std::sync::atomic::AtomicU64,
    /// The content; its mutex serialises requests on one session.
    pub data: tokio::sync::Mutex<UploadData>,
}

/// The content of an upload session.
#[derive(Debug)]
pub(crate) struct UploadData {
    /// The content received so far (`None` once the upload completes).
    pub spill: Option<Spill>,
    /// How many PATCH requests carried data.
    pub patches: u32,
}

/// Shared handle on an upload session.
pub(crate) type UploadRef = Arc<UploadSession>;

/// Everything the emulator knows; shared by every connection.
#[derive(Debug)]
pub(crate) struct State {
    /// Start-time options.
    pub config: Config,
    /// The resource tree.
    pub registry: RwLock<Registry>,
    /// The content-addressed store.
    pub blobs: BlobStore,
    /// Principals, tokens and role bindings.
    pub identity: Identity,
    /// Upload sessions by id.
    pub uploads: Mutex<HashMap<String, UploadRef>>,
    /// Fault rules.
    pub faults: Faults,
    /// The request log.
    pub requests: crate::admin::RequestLog,
    /// Saves the tree under `--data-dir`.
    pub persist: Persister,
    /// The clock.
    pub clock: Clock,
    /// Runtime state of the Artifact Registry REST surface (operations).
    pub rest: crate::rest::RestState,
    /// Container Analysis and Grafeas: notes, occurrences, scans.
    pub analysis: crate::analysis::Analysis,
    /// Keeps the temporary data dir alive when there is no `--data-dir`.
    pub _temp: Option<TempDir>,
}

impl State {
    /// Saves the tree if persistence is on; failures are reported on stderr.
    pub(crate) async fn save(&self) {
        if let Err(e) = self.persist.save(&self.registry).await {
            eprintln!("gar-emulator: could not save state: {e}");
        }
    }
}
