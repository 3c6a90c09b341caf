//! Interop with a registry nobody here wrote: Debian's `docker-registry`
//! (CNCF Distribution 2.8), started on 127.0.0.1 with a temporary storage
//! directory. Plain, htpasswd (Basic) and token auth (with a small token issuer
//! in the test signing ES256 JWTs). When the binary is absent each test prints a
//! loud SKIPPED line and returns; `.ci/run` installs it so CI always runs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use futures_util::TryStreamExt;
use gar_auth::SecretString;
use gar_oci::digest::sha256;
use gar_oci::layout::Layout;
use gar_oci::{BlobSource, Registry, RegistryAuth, UploadMode, UploadOutcome};

use crate::common::*;

const BINARY: &str = "/usr/bin/docker-registry";

fn binary() -> Option<&'static str> {
    if Path::new(BINARY).exists() {
        Some(BINARY)
    } else {
        eprintln!(
            "\n**********************************************************************\n\
             *** SKIPPED: {BINARY} is absent; the docker-registry interop suite did not run.\n\
             *** Install it with `apt-get install -y docker-registry` (.ci/run does).\n\
             **********************************************************************\n"
        );
        None
    }
}

/// A `docker-registry serve` process; killed when dropped.
struct Distribution {
    child: Child,
    url: String,
    dir: TempDir,
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Distribution {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the registry with `auth` (a YAML `auth:` section, or empty).
async fn start(binary: &str, auth: &str, dir: TempDir) -> Distribution {
    let port = free_port();
    let storage = dir.join("storage");
    std::fs::create_dir_all(&storage).unwrap();
    let config = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: gar-interop-secret\n\
         {auth}",
        storage.display()
    );
    let config_path = dir.join("config.yml");
    std::fs::write(&config_path, config).unwrap();
    let log = std::fs::File::create(dir.join("registry.log")).unwrap();
    let child = Command::new(binary)
        .arg("serve")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let d = Distribution {
        child,
        url: format!("http://127.0.0.1:{port}"),
        dir,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("docker-registry did not listen on {port}:\n{}", d.log());
}

fn plain_registry(d: &Distribution, auth: RegistryAuth) -> Registry {
    registry(&d.url, auth)
}

#[tokio::test]
async fn plain_push_pull_copy_with_mount_tags_pagination_and_delete() {
    let Some(bin) = binary() else { return };
    let d = start(bin, "", TempDir::new("distribution-plain")).await;
    let reg = plain_registry(&d, RegistryAuth::anonymous());
    reg.ping().await.unwrap();
    let app = reg.repository("team/app").unwrap();
    let dir = TempDir::new("interop-plain");

    // Push: a 20 MiB layer goes in two 16 MiB chunks (the default off *.pkg.dev).
    let layers = vec![
        random_bytes(20 * 1024 * 1024, 1),
        random_bytes(5000, 2),
        b"x".to_vec(),
    ];
    let (layout, m) = layout_with_image(&dir.join("src"), "v1", &layers).await;
    let pushed = app.push_image(&layout).send().await.unwrap();
    assert_eq!(
        (pushed.digest.clone(), pushed.blobs_transferred),
        (m.digest().clone(), 4)
    );
    let again = app.push_image(&layout).send().await.unwrap();
    assert_eq!(again.blobs_skipped, 4);

    // Pull into a fresh layout.
    let out = Layout::create(dir.join("out")).await.unwrap();
    let pulled = app.pull_image("v1", &out).send().await.unwrap();
    assert_eq!(pulled.digest, *m.digest());
    for l in &layers {
        assert_eq!(file_digest(&out.blob_path(&sha256(l))), sha256(l));
    }
    assert_eq!(app.get_manifest("v1").send().await.unwrap().raw(), m.raw());

    // Every upload mode.
    for (i, mode) in [
        UploadMode::Monolithic,
        UploadMode::Streamed,
        UploadMode::Chunked {
            chunk_size: 1024 * 1024,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let data = random_bytes(3 * 1024 * 1024 + i, 10 + i as u64);
        let digest = sha256(&data);
        let o = app
            .upload_blob(&digest, data.len() as u64, BlobSource::bytes(data.clone()))
            .with_mode(mode)
            .send()
            .await
            .unwrap();
        assert_eq!(o, UploadOutcome::Uploaded, "{mode:?}");
        let got: Vec<Bytes> = app
            .get_blob(&digest)
            .send()
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got.concat(), data, "{mode:?}");
    }

    // Copy to another repository of the same registry: every blob mounted.
    let mirror = reg.repository("mirror/app").unwrap();
    let copied = app.copy_image("v1", &mirror).send().await.unwrap();
    assert_eq!((copied.blobs_mounted, copied.blobs_transferred), (4, 0));
    assert_eq!(
        mirror.get_manifest("v1").send().await.unwrap().raw(),
        m.raw()
    );

    // A multi-platform index.
    let (ilayout, index, _) = layout_with_index(
        &dir.join("idx"),
        "multi",
        &["linux/amd64", "linux/arm64"],
        false,
    )
    .await;
    app.push_image(&ilayout).send().await.unwrap();
    let iout = Layout::create(dir.join("iout")).await.unwrap();
    let r = app.pull_image("multi", &iout).send().await.unwrap();
    assert_eq!((r.digest.clone(), r.manifests), (index.digest().clone(), 3));

    // Tags: Distribution 2.8 ignores `n` on tag lists (it pages only its
    // catalog), so all come in one page without a Link, and the listing ends.
    for t in ["t1", "t2", "t3"] {
        app.put_manifest(t, &m).send().await.unwrap();
    }
    let pages: Vec<gar_oci::wire::TagList> = app
        .list_tags()
        .with_page_size(2)
        .by_page()
        .try_collect()
        .await
        .unwrap();
    let mut tags: Vec<String> = pages.iter().flat_map(|p| p.tags.clone()).collect();
    tags.sort();
    assert_eq!(tags, vec!["multi", "t1", "t2", "t3", "v1"], "{pages:?}");
    assert!(pages[0].manifest.is_empty(), "no GAR extension here");
    // The catalog pages with n, last and Link.
    let catalog_pages: Vec<gar_core::paging::Page<String>> = reg
        .list_repositories()
        .with_page_size(1)
        .by_page()
        .try_collect()
        .await
        .unwrap();
    let repos: Vec<String> = catalog_pages.iter().flat_map(|p| p.items.clone()).collect();
    assert_eq!(repos, vec!["mirror/app", "team/app"], "{catalog_pages:?}");
    assert_eq!(catalog_pages.len(), 2);
    assert!(
        catalog_pages[0]
            .next_page_token
            .as_deref()
            .unwrap()
            .contains("last=mirror")
    );

    // No referrers API in Distribution 2.8: the fallback tag answers (none).
    assert!(
        app.list_referrers(m.digest())
            .send()
            .await
            .unwrap()
            .is_empty()
    );

    // Delete by digest.
    mirror.delete_manifest(m.digest()).await.unwrap();
    assert_eq!(mirror.head_manifest("v1").await.unwrap(), None);
    let err = mirror
        .get_manifest(m.digest().as_str())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(app.head_manifest("v1").await.unwrap().is_some());
    drop(d);
}

/// A connection cut in the middle of a streamed PATCH: Distribution keeps what
/// it received and the upload goes on from there (or, if it did not, starts
/// over); either way the blob arrives whole.
#[tokio::test]
async fn a_cut_upload_to_distribution_completes() {
    let Some(bin) = binary() else { return };
    let d = start(bin, "", TempDir::new("distribution-cut")).await;
    let addr: std::net::SocketAddr = d.url.trim_start_matches("http://").parse().unwrap();
    let proxy = cut_proxy(addr, 12 * 1024 * 1024).await;
    let app = registry(&proxy.url, RegistryAuth::anonymous())
        .repository("team/cut")
        .unwrap();
    let dir = TempDir::new("interop-cut");
    let path = dir.join("blob");
    let size = 32 * 1024 * 1024;
    let digest = random_file(&path, size, 3);
    app.upload_blob(&digest, size, BlobSource::file(&path))
        .with_mode(UploadMode::Streamed)
        .send()
        .await
        .unwrap();
    assert_eq!(proxy.cuts.load(std::sync::atomic::Ordering::SeqCst), 1);
    let out = dir.join("out");
    app.download_blob(&digest, &out).send().await.unwrap();
    assert_eq!(file_digest(&out), digest);
}

#[tokio::test]
async fn htpasswd_basic_auth() {
    let Some(bin) = binary() else { return };
    let dir = TempDir::new("distribution-htpasswd");
    let htpasswd = dir.join("htpasswd");
    let made = Command::new("htpasswd")
        .args(["-Bbn", "ci", "s3cret"])
        .output();
    let line = match made {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        _ => {
            eprintln!(
                "\n*** SKIPPED: htpasswd (apache2-utils) is absent; the htpasswd interop test did not run.\n"
            );
            return;
        }
    };
    std::fs::write(&htpasswd, line.trim()).unwrap();
    let auth = format!(
        "auth:\n  htpasswd:\n    realm: gar-interop\n    path: {}\n",
        htpasswd.display()
    );
    let d = start(bin, &auth, dir).await;

    let anon = plain_registry(&d, RegistryAuth::anonymous())
        .repository("team/app")
        .unwrap();
    let err = anon.head_manifest("v1").await.unwrap_err();
    assert!(err.is_authentication(), "{err:?}");
    let wrong = plain_registry(&d, RegistryAuth::basic("ci", SecretString::new("nope")))
        .repository("team/app")
        .unwrap();
    assert!(
        wrong
            .head_manifest("v1")
            .await
            .unwrap_err()
            .is_authentication()
    );

    let reg = plain_registry(&d, RegistryAuth::basic("ci", SecretString::new("s3cret")));
    let app = reg.repository("team/app").unwrap();
    let work = TempDir::new("interop-htpasswd");
    let (layout, m) =
        layout_with_image(&work.join("src"), "v1", &[random_bytes(2_000_000, 4)]).await;
    app.push_image(&layout).send().await.unwrap();
    let out = Layout::create(work.join("out")).await.unwrap();
    assert_eq!(
        app.pull_image("v1", &out).send().await.unwrap().digest,
        *m.digest()
    );
    let copy = reg.repository("team/copy").unwrap();
    assert_eq!(
        app.copy_image("v1", &copy)
            .send()
            .await
            .unwrap()
            .blobs_mounted,
        2
    );
}

/// A token issuer: checks Basic credentials and signs an ES256 JWT granting
/// what was asked (Distribution's token format: `x5c` chaining to the
/// configured root).
struct Issuer {
    url: String,
    scopes: Arc<Mutex<Vec<Vec<String>>>>,
    cert_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

async fn issuer() -> Issuer {
    use http_body_util::Full;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["gar-test-issuer".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    let cert = params.self_signed(&key).unwrap();
    let x5c = STANDARD.encode(cert.der());
    let signer = Arc::new(
        EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &SystemRandom::new(),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scopes: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let seen = scopes.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let signer = signer.clone();
            let seen = seen.clone();
            let x5c = x5c.clone();
            let svc =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let signer = signer.clone();
                    let seen = seen.clone();
                    let x5c = x5c.clone();
                    async move {
                        let basic = req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.strip_prefix("Basic "))
                            .and_then(|v| STANDARD.decode(v).ok())
                            .and_then(|v| String::from_utf8(v).ok());
                        if basic.as_deref() != Some("ci:s3cret") {
                            return Ok::<_, std::convert::Infallible>(
                                http::Response::builder()
                                    .status(401)
                                    .body(Full::new(Bytes::from_static(
                                        b"{\"details\":\"bad credentials\"}",
                                    )))
                                    .unwrap(),
                            );
                        }
                        let mut requested = Vec::new();
                        let mut access = Vec::new();
                        for pair in req.uri().query().unwrap_or("").split('&') {
                            let Some(("scope", v)) = pair.split_once('=') else {
                                continue;
                            };
                            let scope = percent_decode(v);
                            requested.push(scope.clone());
                            let mut parts = scope.splitn(2, ':');
                            let (Some(kind), Some(rest)) = (parts.next(), parts.next()) else {
                                continue;
                            };
                            let Some((name, actions)) = rest.rsplit_once(':') else {
                                continue;
                            };
                            access.push(serde_json::json!({
                                "type": kind, "name": name,
                                "actions": actions.split(',').collect::<Vec<_>>(),
                            }));
                        }
                        seen.lock().unwrap().push(requested);
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_secs();
                        let header =
                            serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
                        let claims = serde_json::json!({
                            "iss": "gar-test-issuer", "sub": "ci", "aud": "gar-test-registry",
                            "exp": now + 300, "nbf": now - 10, "iat": now,
                            "jti": format!("{now}-{}", access.len()), "access": access,
                        });
                        let signing_input = format!(
                            "{}.{}",
                            URL_SAFE_NO_PAD.encode(header.to_string()),
                            URL_SAFE_NO_PAD.encode(claims.to_string())
                        );
                        let sig = signer
                            .sign(&SystemRandom::new(), signing_input.as_bytes())
                            .unwrap();
                        let token =
                            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
                        let body = serde_json::json!({"token": token, "expires_in": 300});
                        Ok(http::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body.to_string())))
                            .unwrap())
                    }
                });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc),
            );
        }
    });
    Issuer {
        url: format!("http://{addr}/token"),
        scopes,
        cert_pem: cert.pem(),
        task,
    }
}

#[tokio::test]
async fn token_auth_with_a_test_issuer_push_pull_copy_with_mount() {
    let Some(bin) = binary() else { return };
    let iss = issuer().await;
    let dir = TempDir::new("distribution-token");
    let root: PathBuf = dir.join("root.pem");
    std::fs::write(&root, &iss.cert_pem).unwrap();
    let auth = format!(
        "auth:\n  token:\n    realm: {}\n    service: gar-test-registry\n    issuer: gar-test-issuer\n    rootcertbundle: {}\n",
        iss.url,
        root.display()
    );
    let d = start(bin, &auth, dir).await;

    let wrong = plain_registry(&d, RegistryAuth::basic("ci", SecretString::new("nope")))
        .repository("team/app")
        .unwrap();
    let err = wrong.head_manifest("v1").await.unwrap_err();
    assert_eq!(
        err.kind(),
        gar_core::ErrorKind::TokenRefreshFailed,
        "{err:?}"
    );

    let reg = plain_registry(&d, RegistryAuth::basic("ci", SecretString::new("s3cret")));
    let app = reg.repository("team/app").unwrap();
    let work = TempDir::new("interop-token");
    let (layout, m) = layout_with_image(
        &work.join("src"),
        "v1",
        &[random_bytes(3_000_000, 5), b"small".to_vec()],
    )
    .await;
    app.push_image(&layout).send().await.unwrap();
    let out = Layout::create(work.join("out")).await.unwrap();
    assert_eq!(
        app.pull_image("v1", &out).send().await.unwrap().digest,
        *m.digest()
    );
    let copy = reg.repository("team/copy").unwrap();
    let report = app.copy_image("v1", &copy).send().await.unwrap();
    assert_eq!(
        (report.blobs_mounted, report.blobs_transferred),
        (3, 0),
        "{}",
        d.log()
    );
    let tags: Vec<String> = copy.list_tags().by_item().try_collect().await.unwrap();
    assert_eq!(tags, vec!["v1"]);
    let repos: Vec<String> = reg
        .list_repositories()
        .with_page_size(1)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(repos, vec!["team/app", "team/copy"]);

    let requested = iss.scopes.lock().unwrap().clone();
    // One push token for team/app served the push and the pull; the copy asked
    // for both repositories at once (the mount needs both).
    let push_tokens = requested
        .iter()
        .filter(|s| s.iter().any(|x| x == "repository:team/app:pull,push"))
        .count();
    assert_eq!(push_tokens, 1, "{requested:?}");
    assert!(
        requested
            .iter()
            .any(|s| s.contains(&"repository:team/copy:pull,push".to_owned())
                && s.contains(&"repository:team/app:pull".to_owned())),
        "{requested:?}"
    );
}
