//! The binary as a real process: the ready line, signals, restarts with
//! `--data-dir` (also after `kill -9` in the middle of an upload), bounded memory.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream;
use gar_emulator::Emulator;
use http::Method;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::Value;

use crate::common::*;

/// A running `gar-emulator` process.
pub struct Proc {
    pub child: Child,
    pub line: Value,
    pub url: String,
    pub token: String,
    /// What the process prints on stdout after the ready line.
    pub rest: Option<std::thread::JoinHandle<String>>,
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gar-emulator"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("ready line {line:?}: {e}"));
        // Keep draining stdout so that extra lines would be noticed by `rest`.
        child.stdout = None;
        let rest = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        Self {
            url: v["url"].as_str().unwrap().to_owned(),
            token: v["token"].as_str().unwrap().to_owned(),
            line: v,
            child,
            rest: Some(rest),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for the exit (at most 10 s).
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "the emulator did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A value of `/proc/{pid}/status` in KiB (`VmHWM`, `VmRSS`).
    pub fn status_kib(&self, key: &str) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let p = std::env::temp_dir().join(format!("gar-emu-test-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[tokio::test]
async fn binary_prints_one_ready_line_and_stops_on_signals() {
    for sig in ["TERM", "INT"] {
        let mut p = Proc::spawn(&["--listen", "127.0.0.1:0", "--seed", "demo"]);
        assert!(p.url.starts_with("http://127.0.0.1:"), "{}", p.line);
        assert_eq!(p.token, DEMO_TOKEN);
        assert_eq!(p.line["pid"].as_u64(), Some(u64::from(p.pid())));
        assert_eq!(
            p.line["tokenUri"].as_str().unwrap(),
            format!("{}/token", p.url)
        );
        // GCE_METADATA_HOST=<metadataHost> points metadata clients at the emulator.
        let md = format!("http://{}", p.line["metadataHost"].as_str().unwrap());
        let r = Client::new(&md)
            .send(
                Method::GET,
                "/computeMetadata/v1/instance/service-accounts/default/email",
                &[("metadata-flavor", "Google")],
                full(Bytes::new()),
            )
            .await;
        assert_eq!(&r.body[..], SA.as_bytes());
        let c = Client::new(&p.url).bearer(&p.token);
        assert_eq!(c.get("/v2/").await.status, 200);
        assert_eq!(
            c.get("/v2/demo-project/docker/hello/manifests/latest")
                .await
                .status,
            200
        );
        p.signal(sig);
        let status = p.wait();
        assert!(status.success(), "SIG{sig}: {status:?}");
        let rest = p.rest.take().unwrap().join().unwrap();
        assert_eq!(rest, "", "exactly one line on stdout");
    }
}

#[tokio::test]
async fn binary_refuses_bad_arguments_and_bad_seeds() {
    let out = Command::new(env!("CARGO_BIN_EXE_gar-emulator"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
    let dir = temp_dir("badseed");
    let seed = dir.join("seed.json");
    std::fs::write(&seed, r#"{"repositories": [{"name": "projects/p1-proj/locations/us/repositories/Bad", "format": "DOCKER"}]}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gar-emulator"))
        .args(["--seed", seed.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Bad"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let help = Command::new(env!("CARGO_BIN_EXE_gar-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn seed_file_declares_projects_repositories_principals_and_images() {
    let dir = temp_dir("seed");
    let seed = dir.join("seed.json");
    let doc = serde_json::json!({
        "projects": [{"id": "acme-prod", "number": "998877665544", "locations": ["europe-west1", "us"]}],
        "repositories": [
            {"name": "projects/acme-prod/locations/europe-west1/repositories/images", "format": "docker", "immutableTags": true},
            {"name": "projects/acme-prod/locations/europe-west1/repositories/jars", "format": 2}
        ],
        "users": [{"email": "ops@acme.test"}],
        "tokens": [{"token": "ya29.ops", "principal": "user:ops@acme.test"}],
        "roles": [{"principal": "user:ops@acme.test", "role": "repoAdmin", "resource": "projects/acme-prod"}],
        "defaultPrincipal": "user:ops@acme.test",
        "images": [{"repository": "projects/acme-prod/locations/europe-west1/repositories/images",
                    "image": "base/alpine", "tags": ["3", "latest"], "layers": ["a", "b"], "mediaTypes": "docker"}],
        "faults": {"seed": 5, "rules": [{"operation": "oci.referrers", "status": 500}]}
    });
    std::fs::write(&seed, doc.to_string()).unwrap();
    let p = Proc::spawn(&["--seed", seed.to_str().unwrap()]);
    assert_eq!(p.token, "ya29.ops");
    let c = Client::new(&p.url).bearer(&p.token);
    let r = c.get("/v2/acme-prod/images/base/alpine/tags/list").await;
    assert_eq!(r.json()["tags"], serde_json::json!(["3", "latest"]));
    let r = c.get("/v2/acme-prod/images/base/alpine/manifests/3").await;
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.docker.distribution.manifest.v2+json")
    );
    // Immutable tags: "latest" cannot move to another manifest.
    let (bytes, _) = c.push_image("acme-prod/images/other", "v1", &[b"x"]).await;
    let _ = bytes;
    let moved = c.push_blob("acme-prod/images/base/alpine", b"{}").await;
    let m = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": moved, "size": 2}, "layers": []});
    let r = c
        .put_manifest(
            "acme-prod/images/base/alpine",
            "latest",
            OCI_MANIFEST,
            m.to_string().as_bytes(),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.oci_code(), "TAG_INVALID");
    let r = c.get("/v2/acme-prod/jars/x/tags/list").await;
    assert_eq!(r.oci_code(), "NAME_UNKNOWN");
    let r = c
        .get(&format!(
            "/v2/acme-prod/images/base/alpine/referrers/{}",
            sha256(b"x")
        ))
        .await;
    assert_eq!(r.status, 500, "the seed's fault rule is in force");
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn state_survives_a_clean_restart() {
    let dir = temp_dir("restart");
    let emu = Emulator::builder().data_dir(&dir).start().await.unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let (bytes, digest) = c
        .push_image("demo-project/docker/kept", "v1", &[b"kept layer"])
        .await;
    assert_eq!(
        c.delete("/v2/demo-project/docker/hello/manifests/latest")
            .await
            .status,
        202
    );
    emu.shutdown().await;
    let emu = Emulator::builder().data_dir(&dir).start().await.unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c.get("/v2/demo-project/docker/kept/manifests/v1").await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], &bytes[..]);
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(
        c.get("/v2/demo-project/docker/hello/manifests/latest")
            .await
            .status,
        404,
        "the delete persisted"
    );
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn kill_9_in_the_middle_of_an_upload_loses_nothing_complete() {
    let dir = temp_dir("kill9");
    let d = dir.to_str().unwrap().to_owned();
    let p = Proc::spawn(&["--data-dir", &d]);
    let c = Client::new(&p.url).bearer(&p.token);
    let layer = vec![9u8; 700_000];
    let (bytes, digest) = c
        .push_image("demo-project/docker/done", "v1", &[&layer, b"small"])
        .await;

    // An upload in flight: a PATCH whose body stalls after 1 MiB.
    let r = c
        .send(
            Method::POST,
            "/v2/demo-project/docker/partial/blobs/uploads/",
            &[],
            full(Bytes::new()),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let body = StreamBody::new(stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, BoxError>(Frame::data(b)), rx))
    }))
    .boxed_unsync();
    let c2 = c.clone();
    let loc2 = loc.clone();
    let patch = tokio::spawn(async move { c2.send_raw(Method::PATCH, &loc2, &[], body).await });
    tx.send(Bytes::from(vec![1u8; 1 << 20])).await.unwrap();
    // The upload status answers while the PATCH is still streaming.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c.get(&loc).await;
        assert_eq!(r.status, 204);
        if r.header("range") == Some("0-1048575") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the upload never progressed: {:?}",
            r.header("range")
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let tmp = dir.join("tmp");
    assert!(!files_in(&tmp).is_empty(), "the partial upload is on disk");
    drop(p); // SIGKILL, no chance to clean up
    let _ = patch.await;
    drop(tx);

    let p = Proc::spawn(&["--data-dir", &d]);
    let c = Client::new(&p.url).bearer(&p.token);
    let r = c.get("/v2/demo-project/docker/done/manifests/v1").await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], &bytes[..]);
    assert_eq!(sha256(&r.body), digest);
    for l in r.json()["layers"].as_array().unwrap() {
        let want = l["digest"].as_str().unwrap();
        let b = c
            .get(&format!("/v2/demo-project/docker/done/blobs/{want}"))
            .await;
        assert_eq!(sha256(&b.body), want, "a complete blob is intact");
    }
    let path = loc.split('?').next().unwrap();
    assert_eq!(
        c.get(path).await.oci_code(),
        "BLOB_UPLOAD_UNKNOWN",
        "the interrupted upload is absent"
    );
    assert!(
        files_in(&tmp).is_empty(),
        "no partial upload is left behind"
    );
    let partial = sha256(&vec![1u8; 1 << 20]);
    assert_eq!(
        c.head(&format!("/v2/demo-project/docker/partial/blobs/{partial}"))
            .await
            .status,
        404
    );
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
    assert!(state["projects"]["demo-project"].is_object());
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

/// Streams `mib` MiB up and down through the binary and checks that its peak
/// RSS grows by at most 64 MiB. `GAR_EMULATOR_BIG_BLOB_MIB` sets the size
/// (default 2048, the figure of the issue).
#[tokio::test]
async fn big_blobs_stream_in_bounded_memory() {
    let mib: usize = std::env::var("GAR_EMULATOR_BIG_BLOB_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048);
    let dir = temp_dir("big");
    let p = Proc::spawn(&["--data-dir", dir.to_str().unwrap()]);
    let c = Client::new(&p.url).bearer(&p.token);
    let chunk: Bytes = (0..1u32 << 18)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect::<Vec<u8>>()
        .into();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for _ in 0..mib {
        ctx.update(&chunk);
    }
    let digest = format!(
        "sha256:{}",
        ctx.finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert_eq!(c.get("/v2/").await.status, 200);
    let before = p.status_kib("VmHWM:");

    let r = c
        .send(
            Method::POST,
            "/v2/demo-project/docker/big/blobs/uploads/",
            &[],
            full(Bytes::new()),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let chunks = std::iter::repeat_n(chunk.clone(), mib).map(|b| Ok::<_, BoxError>(Frame::data(b)));
    let body = StreamBody::new(stream::iter(chunks)).boxed_unsync();
    let r = c.send(Method::PATCH, &loc, &[], body).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range").unwrap(), format!("0-{}", (mib << 20) - 1));
    let r = c
        .send(
            Method::PUT,
            &format!("{loc}?digest={digest}"),
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 201);

    let r = c
        .send_raw(
            Method::GET,
            &format!("/v2/demo-project/docker/big/blobs/{digest}"),
            &[],
            full(Bytes::new()),
        )
        .await
        .unwrap();
    assert_eq!(r.headers()["content-length"], (mib << 20).to_string());
    let mut body = r.into_body();
    let mut got = ring::digest::Context::new(&ring::digest::SHA256);
    let mut n = 0usize;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            n += data.len();
            got.update(&data);
        }
    }
    assert_eq!(n, mib << 20);
    let got = format!(
        "sha256:{}",
        got.finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert_eq!(got, digest);
    let after = p.status_kib("VmHWM:");
    let grown_mib = after.saturating_sub(before) / 1024;
    eprintln!("{mib} MiB up and down: peak RSS {before} KiB -> {after} KiB (+{grown_mib} MiB)");
    assert!(grown_mib <= 64, "peak RSS grew by {grown_mib} MiB");
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}
