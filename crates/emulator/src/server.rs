//! Start-up and the accept loop: the builder, the handle, graceful shutdown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use gar_core::format::Format;
use gar_core::ids::{DigestAlgorithm, PackageId, TagId, VersionId};
use gar_core::names::RepositoryName;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::json;
use tokio::sync::oneshot;

use crate::admin::{RequestLog, RequestRecord};
use crate::blobs::{BlobStore, TempDir, digest_of};
use crate::faults::{FaultRule, Faults};
use crate::identity::keys::public_key_from_pem;
use crate::identity::{
    Binding, Directory, Identity, Member, MetadataIdentity, Principal, Role, ServiceAccount, User,
};
use crate::oci::manifest::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::persistence::Persister;
use crate::router::{self, Ctx};
use crate::seed::{Seed, repository_parts};
use crate::state::{
    Clock, Config, ManifestInfo, Package, Registry, Repository, State, Version, project_number,
    read, write,
};
use crate::{Error, Result};

/// Entry point: `Emulator::builder()`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, the demo seed, a temporary
    /// data directory, OCI-spec behaviour (no GAR quirks).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configures and starts an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    listen: SocketAddr,
    seed: Option<Seed>,
    data_dir: Option<PathBuf>,
    gar_quirks: bool,
    allow_anonymous_read: bool,
    faults: Vec<FaultRule>,
    fault_seed: Option<u64>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: None,
            data_dir: None,
            gar_quirks: false,
            allow_anonymous_read: false,
            faults: Vec::new(),
            fault_seed: None,
        }
    }
}

impl EmulatorBuilder {
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The seed (the demo seed when not set).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Keeps state in `dir` across restarts (a temporary directory otherwise).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Reproduces GAR's documented refusal of chunked uploads.
    pub fn gar_quirks(mut self, on: bool) -> Self {
        self.gar_quirks = on;
        self
    }

    /// Lets anonymous callers pull from every repository.
    pub fn allow_anonymous_read(mut self, on: bool) -> Self {
        self.allow_anonymous_read = on;
        self
    }

    /// Adds a fault rule in force from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Seeds the fault generator (probabilities), overriding the seed file's.
    pub fn fault_seed(mut self, seed: u64) -> Self {
        self.fault_seed = Some(seed);
        self
    }

    /// Binds, loads or seeds the state, and starts serving.
    pub async fn start(self) -> Result<EmulatorHandle> {
        let seed = self.seed.unwrap_or_else(Seed::demo);
        let (data_dir, temp) = match &self.data_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| {
                    Error::io(format!("cannot create the data dir {}", d.display()), e)
                })?;
                (d.clone(), None)
            }
            None => {
                let t = TempDir::new()
                    .map_err(|e| Error::io("cannot create a temporary data dir", e))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let blobs = BlobStore::open(&data_dir).map_err(|e| {
            Error::io(
                format!("cannot open the blob store in {}", data_dir.display()),
                e,
            )
        })?;
        let persist = Persister::new(self.data_dir.as_deref());
        let clock = Clock::default();
        let loaded = persist
            .load()
            .map_err(|e| Error::io("cannot load the saved state", e))?;
        let fresh = loaded.is_none();
        let registry = match loaded {
            Some(r) => r,
            None => build_registry(&seed, &clock)?,
        };
        let mut directory = build_directory(&seed)?;
        directory.anonymous_read = self.allow_anonymous_read || seed.allow_anonymous_read;
        let default_principal = seed
            .default_principal
            .as_deref()
            .map(|p| {
                Principal::parse(p).ok_or_else(|| {
                    Error::new(format!(
                        "defaultPrincipal {p:?} is not user:... or serviceAccount:..."
                    ))
                })
            })
            .transpose()?;
        let token = match &default_principal {
            Some(p) => {
                let existing = directory
                    .static_tokens
                    .iter()
                    .find(|(_, q)| *q == p)
                    .map(|(t, _)| t.clone());
                match existing {
                    Some(t) => t,
                    None => {
                        let t = format!("ya29.emu-default-{}", crate::blobs::random_hex(16));
                        directory.static_tokens.insert(t.clone(), p.clone());
                        t
                    }
                }
            }
            None => String::new(),
        };
        let faults = Faults::new(
            self.fault_seed
                .or(seed.faults.as_ref().map(|f| f.seed))
                .unwrap_or(0),
        );
        for rule in seed
            .faults
            .iter()
            .flat_map(|f| f.rules.iter())
            .chain(self.faults.iter())
        {
            faults
                .add(rule.clone())
                .map_err(|e| Error::new(format!("fault rule: {e}")))?;
        }
        let state = Arc::new(State {
            config: Config {
                gar_quirks: self.gar_quirks,
            },
            registry: RwLock::new(registry),
            blobs,
            identity: Identity::new(directory),
            uploads: Mutex::new(Default::default()),
            faults,
            requests: RequestLog::default(),
            persist,
            clock,
            rest: Default::default(),
            analysis: crate::analysis::Analysis::new(
                seed.analysis.as_ref(),
                self.data_dir.as_deref(),
            )?,
            _temp: temp,
        });
        if fresh {
            preload_images(&state, &seed).await?;
            crate::seed::preload_packages(&state, &seed).await?;
            state.save().await;
        }
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|e| Error::io(format!("cannot listen on {}", self.listen), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the bound address", e))?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, state.clone(), addr, stop_rx));
        Ok(EmulatorHandle {
            url: format!("http://{addr}"),
            addr,
            token,
            data_dir,
            state,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    local: SocketAddr,
    mut stop: oneshot::Receiver<()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let fallback_host = local.to_string();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let fallback = fallback_host.clone();
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let ctx = Ctx {
                        state: state.clone(),
                        peer,
                        host: router::authority_of(&req, &fallback),
                        forwarded_host: crate::wire::header(req.headers(), "x-forwarded-host")
                            .map(str::to_owned),
                    };
                    router::serve(ctx, req)
                });
                let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stop => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}

/// A running emulator. Dropping it stops the server; [`EmulatorHandle::shutdown`]
/// also waits for open connections to finish (at most 5 s).
#[derive(Debug)]
pub struct EmulatorHandle {
    url: String,
    addr: SocketAddr,
    token: String,
    data_dir: PathBuf,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The base URL, `http://127.0.0.1:PORT`: every surface is under it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// An access token of the seed's default principal (empty if it declares none).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Where blobs (and, with a data dir, the state) live.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Adds a fault rule; returns its id.
    pub fn add_fault(&self, rule: FaultRule) -> Result<String> {
        self.state.faults.add(rule).map_err(Error::new)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// The fault rules with their `fired` counters.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.state.faults.list()
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.requests.all()
    }

    /// Mints an access token for a principal (`user:...`, `serviceAccount:...`) the seed declares.
    pub fn token_for(&self, principal: &str) -> Result<String> {
        let p = Principal::parse(principal)
            .filter(|p| self.state.identity.knows(p))
            .ok_or_else(|| Error::new(format!("{principal} is not a principal of the seed")))?;
        Ok(self.state.identity.issue(p, self.state.clock.unix()).0)
    }

    /// Stops accepting, lets open connections finish (at most 5 s), returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.state.save().await;
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn build_registry(seed: &Seed, clock: &Clock) -> Result<Registry> {
    let mut reg = Registry::default();
    let now = clock.now();
    for p in &seed.projects {
        let id = p
            .id
            .parse()
            .map_err(|e: gar_core::Error| Error::new(format!("seed project: {}", e.message())))?;
        let project = reg.ensure_project(&id, p.number.as_deref());
        for l in &p.locations {
            let loc: gar_core::location::Location = l.parse().map_err(|e: gar_core::Error| {
                Error::new(format!("seed project {}: {}", p.id, e.message()))
            })?;
            project.locations.entry(loc.to_string()).or_default();
        }
    }
    for r in &seed.repositories {
        let (name, format, mode) = repository_parts(r)?;
        let mut repo = Repository::new(name, format, now);
        repo.mode = mode;
        repo.description.clone_from(&r.description);
        repo.labels.clone_from(&r.labels);
        repo.immutable_tags = r.immutable_tags;
        reg.insert_repository(repo);
    }
    Ok(reg)
}

fn build_directory(seed: &Seed) -> Result<Directory> {
    let mut dir = Directory::default();
    for sa in &seed.service_accounts {
        let mut keys = Vec::new();
        for k in &sa.keys {
            let key = public_key_from_pem(&k.public_key_pem).ok_or_else(|| {
                Error::new(format!(
                    "service account {}: a key is not an RSA public key in PEM",
                    sa.email
                ))
            })?;
            keys.push((k.key_id.clone(), key));
        }
        dir.service_accounts
            .insert(sa.email.clone(), ServiceAccount { keys });
    }
    for u in &seed.users {
        dir.users.insert(
            u.email.clone(),
            User {
                refresh_tokens: u.refresh_tokens.clone(),
                client_id: u.client_id.clone(),
                client_secret: u.client_secret.clone(),
            },
        );
    }
    for t in &seed.tokens {
        let p = Principal::parse(&t.principal).ok_or_else(|| {
            Error::new(format!(
                "token principal {:?} is not user:... or serviceAccount:...",
                t.principal
            ))
        })?;
        dir.static_tokens.insert(t.token.clone(), p);
    }
    for r in &seed.roles {
        let member = Member::parse(&r.principal)
            .ok_or_else(|| Error::new(format!("role principal {:?} is not valid", r.principal)))?;
        let role = Role::parse(&r.role).ok_or_else(|| {
            Error::new(format!(
                "role {:?} is not reader, writer, repoAdmin or admin",
                r.role
            ))
        })?;
        let resource = r.resource.trim_end_matches('/').to_owned();
        let ok = resource
            .strip_prefix("projects/")
            .is_some_and(|p| !p.contains('/'))
            || resource.parse::<RepositoryName>().is_ok();
        if !ok {
            return Err(Error::new(format!(
                "role resource {:?} is neither projects/{{p}} nor a repository name",
                r.resource
            )));
        }
        dir.bindings.push(Binding {
            member,
            role,
            resource,
        });
    }
    if let Some(md) = &seed.metadata {
        let number = seed
            .projects
            .iter()
            .find(|p| p.id == md.project_id)
            .and_then(|p| p.number.clone())
            .unwrap_or_else(|| project_number(&md.project_id));
        dir.metadata = Some(MetadataIdentity {
            service_account: md.service_account.clone(),
            project_id: md.project_id.clone(),
            project_number: number,
            scopes: if md.scopes.is_empty() {
                vec!["https://www.googleapis.com/auth/cloud-platform".into()]
            } else {
                md.scopes.clone()
            },
        });
    }
    Ok(dir)
}

/// Stores `bytes` and links it into `repo`.
async fn store_blob(
    state: &State,
    repo: &RepositoryName,
    bytes: Bytes,
) -> Result<(gar_core::ids::Digest, u64)> {
    let digest =
        digest_of(DigestAlgorithm::Sha256, &bytes).ok_or_else(|| Error::new("hashing failed"))?;
    let size = bytes.len() as u64;
    state
        .blobs
        .put(bytes, &digest)
        .await
        .map_err(|e| Error::io("cannot store a seed blob", e))?;
    if let Some(r) = write(&state.registry).repository_mut(repo) {
        r.blobs.insert(digest.to_string(), size);
    }
    Ok((digest, size))
}

async fn preload_images(state: &State, seed: &Seed) -> Result<()> {
    for img in &seed.images {
        let repo: RepositoryName = img
            .repository
            .parse()
            .map_err(|e: gar_core::Error| Error::new(format!("seed image: {}", e.message())))?;
        let format = read(&state.registry)
            .repository(&repo)
            .map(|r| r.format.clone());
        if format != Some(Format::Docker) {
            return Err(Error::new(format!(
                "seed image {}: {} is not a docker repository of the seed",
                img.image, img.repository
            )));
        }
        let image = PackageId::for_format(&Format::Docker, &img.image)
            .map_err(|e| Error::new(format!("seed image: {}", e.message())))?;
        for t in &img.tags {
            TagId::for_format(&Format::Docker, t)
                .map_err(|e| Error::new(format!("seed image tag: {}", e.message())))?;
        }
        let docker = img.media_types.as_deref() == Some("docker");
        let (layer_type, config_type, manifest_type) = if docker {
            (
                "application/vnd.docker.image.rootfs.diff.tar",
                "application/vnd.docker.container.image.v1+json",
                DOCKER_MANIFEST,
            )
        } else {
            (
                "application/vnd.oci.image.layer.v1.tar",
                "application/vnd.oci.image.config.v1+json",
                OCI_MANIFEST,
            )
        };
        let mut layers = Vec::new();
        for content in &img.layers {
            let (d, size) =
                store_blob(state, &repo, Bytes::from(content.clone().into_bytes())).await?;
            layers.push((d, size));
        }
        let config = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|(d, _)| d.to_string()).collect::<Vec<_>>()},
        });
        let config_bytes = Bytes::from(serde_json::to_vec(&config).unwrap_or_default());
        let (config_digest, config_size) = store_blob(state, &repo, config_bytes).await?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": config_digest.to_string(), "size": config_size},
            "layers": layers.iter().map(|(d, s)| json!({"mediaType": layer_type, "digest": d.to_string(), "size": s})).collect::<Vec<_>>(),
        });
        let manifest_bytes = Bytes::from(serde_json::to_vec(&manifest).unwrap_or_default());
        let digest = digest_of(DigestAlgorithm::Sha256, &manifest_bytes)
            .ok_or_else(|| Error::new("hashing failed"))?;
        let size = manifest_bytes.len() as u64;
        state
            .blobs
            .put(manifest_bytes, &digest)
            .await
            .map_err(|e| Error::io("cannot store a seed manifest", e))?;
        let now = state.clock.now();
        let image_size = size + config_size + layers.iter().map(|(_, s)| s).sum::<u64>();
        let mut reg = write(&state.registry);
        let Some(r) = reg.repository_mut(&repo) else {
            continue;
        };
        let package = r
            .packages
            .entry(image.to_string())
            .or_insert_with(|| Package::new(image.clone(), now));
        let vid = VersionId::from_digest(&digest).to_string();
        package.versions.insert(
            vid.clone(),
            Version {
                create_time: now,
                update_time: now,
                description: String::new(),
                annotations: BTreeMap::new(),
                manifest: Some(ManifestInfo {
                    digest: digest.clone(),
                    media_type: manifest_type.into(),
                    size,
                    artifact_type: Some(config_type.into()),
                    subject: None,
                    annotations: BTreeMap::new(),
                    blobs: std::iter::once(config_digest.clone())
                        .chain(layers.iter().map(|(d, _)| d.clone()))
                        .collect(),
                    children: Vec::new(),
                    image_size,
                    platforms: Vec::new(),
                }),
            },
        );
        for t in &img.tags {
            package.tags.insert(t.clone(), vid.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_seed_builds() {
        let seed = Seed::demo();
        let reg = build_registry(&seed, &Clock::default()).unwrap();
        let p = reg.project("demo-project").unwrap();
        assert_eq!(p.number, "123456789012");
        assert_eq!(
            reg.project("123456789012").unwrap().id.as_str(),
            "demo-project"
        );
        let loc = p.locations.get("us-central1").unwrap();
        assert_eq!(loc.repositories.len(), 10, "one repository per format");
        let dir = build_directory(&seed).unwrap();
        assert_eq!(dir.service_accounts.len(), 1);
        assert!(dir.metadata.is_some());
        let mut bad = Seed::demo();
        bad.roles[0].role = "viewer".into();
        assert!(build_directory(&bad).is_err());
        let mut bad = Seed::demo();
        bad.projects[0].locations.push("mars-north1".into());
        assert!(build_registry(&bad, &Clock::default()).is_err());
    }
}
