//! Test helpers: emulators, registries, images in layouts, raw admin calls.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gar_auth::{AccessToken, SecretString, StaticToken, TokenFuture, TokenProvider};
use gar_emulator::{Emulator, EmulatorHandle, RequestRecord};
use gar_oci::digest::{DigestHasher, sha256};
use gar_oci::layout::Layout;
use gar_oci::manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, Platform, media_types};
use gar_oci::{Registry, RegistryAuth, Repository};
use gar_transport::Transport;

pub const DEMO_TOKEN: &str = gar_emulator::seed::DEMO_TOKEN;
pub const VIEWER_TOKEN: &str = "ya29.demo-viewer-token";
pub const REPO: &str = "demo-project/docker";

pub const REPO2: &str = "demo-project/docker2";

/// The demo seed plus a second docker repository, `docker2` (blobs are shared
/// by the images of one GAR repository; mounts go between repositories).
pub async fn emulator() -> EmulatorHandle {
    let mut seed = gar_emulator::Seed::demo();
    seed.repositories.push(gar_emulator::seed::SeedRepository {
        name: "projects/demo-project/locations/us-central1/repositories/docker2".into(),
        format: serde_json::Value::String("DOCKER".into()),
        ..Default::default()
    });
    Emulator::builder().seed(seed).start().await.unwrap()
}

/// A transport without retries' jitter (so that waits are exact) and no breaker
/// (fault bursts must not open it).
pub fn transport() -> Transport {
    Transport::builder()
        .retry(Some(
            gar_transport::retry::RetryConfig::new().with_jitter(0.0),
        ))
        .breaker(None)
        .build()
        .unwrap()
}

pub fn google() -> RegistryAuth {
    RegistryAuth::google(Arc::new(StaticToken::new(SecretString::new(DEMO_TOKEN))))
}

pub fn registry(url: &str, auth: RegistryAuth) -> Registry {
    Registry::builder(url)
        .transport(transport())
        .auth(auth)
        .build()
        .unwrap()
}

/// `demo-project/docker/{image}` on the emulator, as the demo admin.
pub fn repo(emu: &EmulatorHandle, image: &str) -> Repository {
    registry(emu.url(), google())
        .repository(&format!("{REPO}/{image}"))
        .unwrap()
}

/// `demo-project/docker2/{image}` on the emulator, as the demo admin.
pub fn repo2(emu: &EmulatorHandle, image: &str) -> Repository {
    registry(emu.url(), google())
        .repository(&format!("{REPO2}/{image}"))
        .unwrap()
}

/// Deterministic pseudo-random bytes (xorshift), different per seed.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes `len` pseudo-random bytes to `path` a MiB at a time; returns their digest.
pub fn random_file(path: &Path, len: u64, seed: u64) -> gar_core::ids::Digest {
    let mut f = std::fs::File::create(path).unwrap();
    let mut h = DigestHasher::sha256();
    let mut left = len;
    let mut n = 0;
    while left > 0 {
        let chunk = random_bytes(left.min(1 << 20) as usize, seed.wrapping_add(n));
        h.update(&chunk);
        f.write_all(&chunk).unwrap();
        left -= chunk.len() as u64;
        n += 1;
    }
    h.finish()
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gar-oci-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Files under `dir` whose name ends in `.partial`.
pub fn partial_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.to_string_lossy().ends_with(".partial") {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// An image manifest over `layers` (blobs already written to `layout`).
pub async fn image_in_layout(
    layout: &Layout,
    layers: &[Vec<u8>],
    platform: Option<&str>,
    docker: bool,
) -> Manifest {
    let config = serde_json::json!({
        "architecture": platform.map_or("amd64", |p| p.split('/').nth(1).unwrap()),
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
        "layers": layers.iter().map(|l| sha256(l).to_string()).collect::<Vec<_>>(),
        "docker": docker,
    });
    let config = serde_json::to_vec(&config).unwrap();
    let (config_type, layer_type, manifest_type) = if docker {
        (
            media_types::DOCKER_CONFIG,
            media_types::DOCKER_LAYER_GZIP,
            media_types::DOCKER_MANIFEST,
        )
    } else {
        (
            media_types::OCI_CONFIG,
            media_types::OCI_LAYER_TAR,
            media_types::OCI_MANIFEST,
        )
    };
    layout.write_blob(&sha256(&config), &config).await.unwrap();
    let mut descriptors = Vec::new();
    for l in layers {
        layout.write_blob(&sha256(l), l).await.unwrap();
        descriptors.push(Descriptor::of(layer_type, l));
    }
    let m = Manifest::from_image(&ImageManifest {
        schema_version: 2,
        media_type: Some(manifest_type.to_owned()),
        artifact_type: None,
        config: Descriptor::of(config_type, &config),
        layers: descriptors,
        subject: None,
        annotations: BTreeMap::new(),
    })
    .unwrap();
    layout.write_blob(m.digest(), m.raw()).await.unwrap();
    m
}

/// A layout at `dir` holding one image named `name` with `layers`.
pub async fn layout_with_image(dir: &Path, name: &str, layers: &[Vec<u8>]) -> (Layout, Manifest) {
    let layout = Layout::create(dir).await.unwrap();
    let m = image_in_layout(&layout, layers, None, false).await;
    layout
        .add_manifest(m.descriptor(), Some(name))
        .await
        .unwrap();
    (layout, m)
}

/// A layout at `dir` holding a multi-platform index named `name`; returns the
/// index and its image manifests.
pub async fn layout_with_index(
    dir: &Path,
    name: &str,
    platforms: &[&str],
    docker: bool,
) -> (Layout, Manifest, Vec<Manifest>) {
    let salt = if docker { 1000 } else { 0 };
    let layout = Layout::create(dir).await.unwrap();
    let mut children = Vec::new();
    let mut entries = Vec::new();
    for (i, p) in platforms.iter().enumerate() {
        let layers = vec![
            random_bytes(3000 + i, 100 + salt + i as u64),
            format!("shared base layer {salt}").into_bytes(),
        ];
        let m = image_in_layout(&layout, &layers, Some(p), docker).await;
        let mut d = m.descriptor();
        d.platform = Some(p.parse::<Platform>().unwrap());
        entries.push(d);
        children.push(m);
    }
    let index = Manifest::from_index(&ImageIndex {
        schema_version: 2,
        media_type: Some(
            if docker {
                media_types::DOCKER_MANIFEST_LIST
            } else {
                media_types::OCI_INDEX
            }
            .to_owned(),
        ),
        artifact_type: None,
        manifests: entries,
        subject: None,
        annotations: BTreeMap::new(),
    })
    .unwrap();
    layout
        .write_blob(index.digest(), index.raw())
        .await
        .unwrap();
    layout
        .add_manifest(index.descriptor(), Some(name))
        .await
        .unwrap();
    (layout, index, children)
}

/// The request log entries of `operation` (a glob such as `oci.upload.*`).
pub fn requests(emu: &EmulatorHandle, operation: &str) -> Vec<RequestRecord> {
    emu.requests()
        .into_iter()
        .filter(|r| glob(operation, &r.operation))
        .collect()
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => text.starts_with(prefix),
        None => pattern == text,
    }
}

/// `POST /_emulator/clock {"advanceSeconds": secs}`, synchronously (usable from
/// a progress callback on a multi-threaded runtime).
pub fn advance_clock_blocking(emu_addr: std::net::SocketAddr, secs: i64) {
    let body = format!("{{\"advanceSeconds\":{secs}}}");
    let mut s = std::net::TcpStream::connect(emu_addr).unwrap();
    write!(
        s,
        "POST /_emulator/clock HTTP/1.1\r\nHost: {emu_addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A token provider minting a fresh emulator token for `principal` on each
/// fetch (valid an hour on the emulator's clock).
#[derive(Debug)]
pub struct Minting {
    pub emu: Arc<EmulatorHandle>,
    pub principal: String,
    pub minted: AtomicU64,
}

impl TokenProvider for Minting {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            self.minted.fetch_add(1, Ordering::Relaxed);
            let t = self.emu.token_for(&self.principal).unwrap();
            Ok(AccessToken::expiring_in(
                SecretString::new(t),
                std::time::Duration::from_secs(3600),
            ))
        })
    }
}

/// The bytes of `path`, hashed.
pub fn file_digest(path: &Path) -> gar_core::ids::Digest {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = DigestHasher::sha256();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finish()
}

/// A TCP proxy in front of `target` that cuts, once, the first connection whose
/// client-to-server bytes pass `after`: both sides see the connection die in
/// the middle of a request body.
pub struct CutProxy {
    pub url: String,
    pub cuts: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn cut_proxy(target: std::net::SocketAddr, after: u64) -> CutProxy {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let cuts = Arc::new(AtomicU64::new(0));
    let cut_count = cuts.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                return;
            };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let armed = armed.clone();
            let cuts = cut_count.clone();
            let down = tokio::spawn(async move {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
                let _ = cw.shutdown().await;
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut total = 0u64;
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    total += n as u64;
                    if total > after && armed.swap(false, Ordering::SeqCst) {
                        cuts.fetch_add(1, Ordering::SeqCst);
                        // Forward what fits under the limit, then drop both sides.
                        let keep = n - (total - after) as usize;
                        let _ = sw.write_all(&buf[..keep]).await;
                        down.abort();
                        return;
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = sw.shutdown().await;
            });
        }
    });
    CutProxy {
        url: format!("http://{addr}"),
        cuts,
        task,
    }
}

/// A scripted server's answer.
pub type Resp =
    http::Response<http_body_util::combinators::UnsyncBoxBody<bytes::Bytes, std::io::Error>>;

/// An answer with `status`, `headers` and `body`.
pub fn full(status: u16, headers: &[(&str, String)], body: Vec<u8>) -> Resp {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    use http_body_util::BodyExt;
    b.body(
        http_body_util::Full::new(bytes::Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync(),
    )
    .unwrap()
}

/// Serves `handler` over HTTP/1.1 on a loopback port: a registry (or storage)
/// scripted by the test.
pub async fn serve<F>(handler: F) -> std::net::SocketAddr
where
    F: Fn(http::Request<hyper::body::Incoming>) -> Resp + Clone + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let h = handler.clone();
            let svc = hyper::service::service_fn(move |req| {
                let h = h.clone();
                async move { Ok::<_, std::convert::Infallible>(h(req)) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc),
            );
        }
    });
    addr
}
