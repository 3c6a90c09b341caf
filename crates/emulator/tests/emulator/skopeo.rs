//! Interoperability with an independent client: skopeo (Debian package
//! `skopeo`) copies an OCI image layout into the emulator with
//! `--dest-creds oauth2accesstoken:<token>` and back out, byte-identical.
//! Without skopeo the test says so loudly and passes as skipped.

use std::path::Path;
use std::process::Command;

use gar_emulator::Emulator;
use serde_json::json;

use crate::common::*;
use crate::process::temp_dir;

fn write_blob(layout: &Path, data: &[u8]) -> String {
    let digest = sha256(data);
    let hex = digest.trim_start_matches("sha256:");
    std::fs::write(layout.join("blobs/sha256").join(hex), data).unwrap();
    digest
}

async fn skopeo(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || Command::new("skopeo").args(&args).output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn skopeo_copies_an_image_in_and_out_byte_identical() {
    if Command::new("skopeo").arg("--version").output().is_err() {
        eprintln!(
            "\n\n*** SKIPPED skopeo interop test: `skopeo` is not installed (apt-get install -y skopeo) ***\n"
        );
        return;
    }
    let emu = Emulator::builder().start().await.unwrap();
    let host = emu.url().trim_start_matches("http://").to_owned();
    let dir = temp_dir("skopeo");
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("blobs/sha256")).unwrap();
    std::fs::write(src.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    // A real gzipped tar layer, so that skopeo keeps it as it is.
    let content = dir.join("content");
    std::fs::create_dir_all(&content).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(content.join("data.bin"), &data).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -C {} -cf - data.bin | gzip -n",
            content.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    let layer = out.stdout;
    let layer_digest = write_blob(&src, &layer);
    let config = json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]}});
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_digest = write_blob(&src, &config_bytes);
    let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_bytes.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}]});
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let manifest_digest = write_blob(&src, &manifest_bytes);
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": manifest_digest,
        "size": manifest_bytes.len(), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]});
    std::fs::write(src.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let creds = format!("oauth2accesstoken:{}", emu.token());
    let remote = format!("docker://{host}/demo-project/docker/copied:v1");
    let out = skopeo(vec![
        "--insecure-policy".into(),
        "copy".into(),
        "--preserve-digests".into(),
        "--dest-tls-verify=false".into(),
        "--dest-creds".into(),
        creds.clone(),
        format!("oci:{}:v1", src.display()),
        remote.clone(),
    ])
    .await;
    assert!(
        out.status.success(),
        "skopeo push: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The registry holds the exact manifest.
    let c = Client::new(emu.url()).bearer(emu.token());
    let r = c.get("/v2/demo-project/docker/copied/manifests/v1").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("docker-content-digest"),
        Some(manifest_digest.as_str())
    );

    let dst = dir.join("dst");
    let out = skopeo(vec![
        "--insecure-policy".into(),
        "copy".into(),
        "--preserve-digests".into(),
        "--src-tls-verify=false".into(),
        "--src-creds".into(),
        creds,
        remote,
        format!("oci:{}:v1", dst.display()),
    ])
    .await;
    assert!(
        out.status.success(),
        "skopeo pull: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (digest, bytes) in [
        (&manifest_digest, &manifest_bytes),
        (&config_digest, &config_bytes),
        (&layer_digest, &layer),
    ] {
        let hex = digest.trim_start_matches("sha256:");
        let got = std::fs::read(dst.join("blobs/sha256").join(hex)).unwrap();
        assert_eq!(&got, bytes, "{digest} is byte-identical");
    }
    // skopeo went through the token flow or Basic auth: every request was authenticated.
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.operation == "oci.manifest.put" && r.status == Some(201))
    );
    let _ = std::fs::remove_dir_all(dir);
}
