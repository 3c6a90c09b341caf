//! The emulator, a seed with findings, clients of both protocols, raw pushes.

use std::sync::Arc;
use std::time::Duration;

use gar_auth::{SecretString, StaticToken};
use gar_containeranalysis::{Client, Protocol};
use gar_core::error::{RetryClass, RetryPolicy};
use gar_core::ids::ProjectId;
use gar_core::names::DockerImageName;
use gar_emulator::seed::{PACKAGES_LABEL, SeedAnalysis, SeedProject};
use gar_emulator::{Emulator, EmulatorHandle, Seed};
use gar_transport::retry::RetryConfig;
use gar_transport::{Body, Transport};
use serde_json::{Value, json};

pub const DEMO_TOKEN: &str = gar_emulator::seed::DEMO_TOKEN;
pub const VIEWER_TOKEN: &str = "ya29.demo-viewer-token";
pub const PROTOCOLS: [Protocol; 2] = [Protocol::Grpc, Protocol::Rest];
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const REPO: &str = "projects/demo-project/locations/us-central1/repositories/docker";

pub fn project() -> ProjectId {
    "demo-project".parse().unwrap()
}

pub fn image(path: &str, digest: &str) -> DockerImageName {
    format!("{REPO}/dockerImages/{}@{digest}", path.replace('/', "%2F"))
        .parse()
        .unwrap()
}

/// Image a (12 vulnerabilities, a finished discovery, an SBOM reference) and b (3).
pub fn image_a() -> DockerImageName {
    image("team/a", &format!("sha256:{}", "a".repeat(64)))
}

pub fn image_b() -> DockerImageName {
    image("b", &format!("sha256:{}", "b".repeat(64)))
}

pub fn url(image: &DockerImageName) -> String {
    gar_containeranalysis::filter::resource_url(image)
}

fn vuln(uri: &str, cve: &str, effective: &str, fixed: Option<&str>) -> Value {
    json!({
        "resourceUri": uri,
        "noteName": format!("projects/goog-vulnz/notes/{cve}"),
        "kind": "VULNERABILITY",
        "vulnerability": {
            "severity": "MEDIUM",
            "effectiveSeverity": effective,
            "cvssScore": 6.5,
            "shortDescription": format!("{cve} in openssl"),
            "packageIssue": [{
                "affectedPackage": "openssl",
                "packageType": "OS",
                "affectedVersion": {"name": "3.0.1", "revision": "1", "kind": "NORMAL"},
                "fixedVersion": match fixed {
                    Some(f) => json!({"name": f, "kind": "NORMAL"}),
                    None => json!({"kind": "MAXIMUM"}),
                },
                "fixAvailable": fixed.is_some(),
            }],
        },
    })
}

/// The demo seed with a 60 s scan delay, findings on images a and b, their
/// notes, and a project the viewer has no role in.
pub fn seed() -> Seed {
    let mut seed = Seed::demo();
    seed.projects.push(SeedProject {
        id: "other-project".into(),
        ..Default::default()
    });
    let mut analysis = SeedAnalysis::demo();
    analysis.scan_delay_seconds = Some(60);
    let (a, b) = (url(&image_a()), url(&image_b()));
    let severities = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "MINIMAL", "HIGH"];
    for i in 0..12 {
        let cve = format!("CVE-2024-{i:04}");
        let fixed = (i % 3 == 0).then_some("3.0.8");
        analysis
            .occurrences
            .push(vuln(&a, &cve, severities[i % 6], fixed));
        analysis.notes.push(json!({
            "name": format!("projects/goog-vulnz/notes/{cve}"),
            "kind": "VULNERABILITY",
            "shortDescription": cve,
            "vulnerability": {"severity": "MEDIUM", "cvssScore": 6.5},
        }));
    }
    for cve in ["CVE-2023-0286", "CVE-2022-37434", "CVE-2023-38545"] {
        analysis.occurrences.push(vuln(&b, cve, "", Some("9.9")));
    }
    analysis.occurrences.push(json!({
        "resourceUri": a,
        "noteName": "projects/goog-analysis/notes/PACKAGE_VULNERABILITY",
        "kind": "DISCOVERY",
        "discovery": {"analysisStatus": "COMPLETE", "lastScanTime": "2026-01-02T03:04:05Z"},
    }));
    analysis.occurrences.push(json!({
        "resourceUri": a,
        "noteName": "projects/goog-analysis/notes/sbom-reference-spdx",
        "sbomReference": {"payload": {"predicate": {
            "location": "gs://sboms/a.spdx.json",
            "mimeType": "application/spdx+json",
            "digest": {"sha256": "ab".repeat(32)},
        }}},
    }));
    seed.analysis = Some(analysis);
    seed
}

pub async fn start() -> EmulatorHandle {
    Emulator::builder().seed(seed()).start().await.unwrap()
}

/// Retries with millisecond backoffs (the policy's attempts, not its waits, are
/// under test), no jitter, no breaker.
pub fn fast_retries() -> RetryConfig {
    let quick = |max_attempts| RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        multiplier: 2,
        max_backoff: Duration::from_millis(50),
        honour_retry_after: false,
    };
    RetryConfig::new()
        .with_jitter(0.0)
        .with_policy(RetryClass::Unavailable, quick(3))
        .with_policy(RetryClass::Internal, quick(3))
}

pub fn transport(token: &str, retry: Option<RetryConfig>) -> Transport {
    Transport::builder()
        .retry(retry)
        .breaker(None)
        .build()
        .unwrap()
        .with_credentials(Arc::new(StaticToken::new(SecretString::new(token))))
}

pub fn client_with(emu: &EmulatorHandle, protocol: Protocol, transport: Transport) -> Client {
    Client::builder()
        .transport(transport)
        .endpoint(emu.url())
        .protocol(protocol)
        .build()
        .unwrap()
}

pub fn client(emu: &EmulatorHandle, protocol: Protocol) -> Client {
    client_with(emu, protocol, transport(DEMO_TOKEN, Some(fast_retries())))
}

/// A raw request through the transport; the status and body.
pub async fn send(
    t: &Transport,
    method: &str,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>, http::HeaderMap) {
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", content_type)
        .body(Body::full(body))
        .unwrap();
    let r = t.send(request).await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.into_body().collect_bytes(1 << 20).await.unwrap();
    (status, bytes.to_vec(), headers)
}

pub fn sha256(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Monolithic blob upload through the emulator's /v2 API.
pub async fn push_blob(emu: &EmulatorHandle, t: &Transport, path: &str, data: &[u8]) -> String {
    let digest = sha256(data);
    let base = emu.url();
    let (status, _, headers) = send(
        t,
        "POST",
        &format!("{base}/v2/demo-project/docker/{path}/blobs/uploads/"),
        "application/octet-stream",
        Vec::new(),
    )
    .await;
    assert_eq!(status, 202);
    let location = headers["location"].to_str().unwrap().to_owned();
    let location = if location.starts_with('/') {
        format!("{base}{location}")
    } else {
        location
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let (status, body, _) = send(
        t,
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        "application/octet-stream",
        data.to_vec(),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    digest
}

/// Pushes an image whose config lists `packages` (`name=version, ...`); returns
/// its name and manifest size.
pub async fn push_image(
    emu: &EmulatorHandle,
    path: &str,
    packages: &str,
) -> (DockerImageName, usize) {
    let t = transport(DEMO_TOKEN, None);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {PACKAGES_LABEL: packages}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }))
    .unwrap();
    let config_digest = push_blob(emu, &t, path, &config).await;
    let layer = format!("the only layer of {path}").into_bytes();
    let layer_digest = push_blob(emu, &t, path, &layer).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap();
    let (status, body, _) = send(
        &t,
        "PUT",
        &format!(
            "{}/v2/demo-project/docker/{path}/manifests/latest",
            emu.url()
        ),
        OCI_MANIFEST,
        manifest.clone(),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    (image(path, &sha256(&manifest)), manifest.len())
}

/// Attaches an SPDX SBOM listing `packages` to `subject` as an OCI referrer.
pub async fn attach_sbom(
    emu: &EmulatorHandle,
    path: &str,
    subject: &DockerImageName,
    subject_size: usize,
    packages: Value,
) {
    let t = transport(DEMO_TOKEN, None);
    let sbom =
        serde_json::to_vec(&json!({"spdxVersion": "SPDX-2.3", "packages": packages})).unwrap();
    let sbom_digest = push_blob(emu, &t, path, &sbom).await;
    let empty = push_blob(emu, &t, path, b"{}").await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": sbom_digest, "size": sbom.len()}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.digest().as_str(), "size": subject_size},
    }))
    .unwrap();
    let digest = sha256(&manifest);
    let (status, body, _) = send(
        &t,
        "PUT",
        &format!(
            "{}/v2/demo-project/docker/{path}/manifests/{digest}",
            emu.url()
        ),
        OCI_MANIFEST,
        manifest,
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
}

/// Moves the emulator's clock forward.
pub async fn advance(emu: &EmulatorHandle, secs: i64) {
    let t = transport(DEMO_TOKEN, None);
    let (status, _, _) = send(
        &t,
        "POST",
        &format!("{}/_emulator/clock", emu.url()),
        "application/json",
        json!({"advanceSeconds": secs}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200);
}

/// How many requests of `operation` (`grpc`, `analysis.rest`) the emulator saw.
pub fn seen(emu: &EmulatorHandle, operation: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.operation == operation)
        .count()
}

/// The emulator's operation name for requests of `protocol`.
pub fn operation(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "grpc",
        _ => "analysis.rest",
    }
}
