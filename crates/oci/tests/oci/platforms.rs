//! Platforms of a manifest: an index's entries, or an image manifest's config
//! (fetched bounded and verified), against the emulator.

use std::collections::BTreeMap;

use gar_core::ErrorKind;
use gar_oci::BlobSource;
use gar_oci::digest::sha256;
use gar_oci::manifest::{
    Descriptor, ImageManifest, MAX_CONFIG_BYTES, Manifest, Platform, media_types,
};

use crate::common::*;

/// Pushes an image manifest whose config blob is `config` (of `config_type`),
/// tagged `tag`; returns the manifest.
async fn push_with_config(
    repo: &gar_oci::Repository,
    tag: &str,
    config: &[u8],
    config_type: &str,
) -> Manifest {
    let layer = b"layer of a platform test".to_vec();
    for blob in [config.to_vec(), layer.clone()] {
        repo.upload_blob(&sha256(&blob), blob.len() as u64, BlobSource::bytes(blob))
            .send()
            .await
            .unwrap();
    }
    let m = Manifest::from_image(&ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::of(config_type, config),
        layers: vec![Descriptor::of(media_types::OCI_LAYER_TAR, &layer)],
        subject: None,
        annotations: BTreeMap::new(),
    })
    .unwrap();
    repo.put_manifest(tag, &m).send().await.unwrap();
    m
}

#[tokio::test]
async fn a_single_manifest_reads_its_platform_from_the_config() {
    let emu = emulator().await;
    let repo = repo(&emu, "platforms/single");
    let config = serde_json::json!({
        "architecture": "arm64",
        "os": "linux",
        "variant": "v8",
        "os.version": "6.1",
        "rootfs": {"type": "layers", "diff_ids": []},
    });
    let m = push_with_config(
        &repo,
        "v1",
        &serde_json::to_vec(&config).unwrap(),
        media_types::OCI_CONFIG,
    )
    .await;
    let platforms = repo.get_platforms("v1").await.unwrap();
    assert_eq!(platforms.len(), 1);
    assert_eq!(platforms[0].digest, *m.digest());
    assert_eq!(platforms[0].platform.to_string(), "linux/arm64/v8");
    assert_eq!(platforms[0].platform.os_version.as_deref(), Some("6.1"));
    // The config was fetched by its digest, once.
    let gets = requests(&emu, "oci.blob.get");
    let config_digest = m.as_image().unwrap().config.digest.to_string();
    assert_eq!(
        gets.iter()
            .filter(|r| r.path.ends_with(&config_digest))
            .count(),
        1
    );

    // An artifact (a config that is not an image config) has no platform.
    push_with_config(
        &repo,
        "chart",
        b"{}",
        "application/vnd.cncf.helm.config.v1+json",
    )
    .await;
    assert!(repo.get_platforms("chart").await.unwrap().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn an_index_lists_its_entries_platforms() {
    let emu = emulator().await;
    let dir = TempDir::new("platforms-index");
    let (layout, index, children) = layout_with_index(
        dir.path(),
        "multi",
        &["linux/amd64", "linux/arm64/v8"],
        false,
    )
    .await;
    let repo = repo(&emu, "platforms/multi");
    repo.push_image(&layout)
        .with_tag("multi")
        .send()
        .await
        .unwrap();
    let before = requests(&emu, "oci.blob.get").len();
    let platforms = repo.get_platforms("multi").await.unwrap();
    let shown: Vec<String> = platforms.iter().map(|p| p.platform.to_string()).collect();
    assert_eq!(shown, ["linux/amd64", "linux/arm64/v8"]);
    assert_eq!(platforms[0].digest, *children[0].digest());
    assert_eq!(platforms[1].digest, *children[1].digest());
    assert_eq!(
        requests(&emu, "oci.blob.get").len(),
        before,
        "an index needs no config"
    );
    // By digest too.
    let by_digest = repo.get_platforms(index.digest().as_str()).await.unwrap();
    assert_eq!(by_digest, platforms);
    assert_eq!(
        platforms[1].platform,
        "linux/arm64/v8".parse::<Platform>().unwrap()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_malformed_or_oversized_config_is_a_typed_error() {
    let emu = emulator().await;
    let repo = repo(&emu, "platforms/broken");
    for (tag, config, why) in [
        ("not-json", b"this is not json".to_vec(), "not valid"),
        (
            "no-os",
            br#"{"architecture":"amd64","rootfs":{}}"#.to_vec(),
            "not valid",
        ),
        (
            "empty-arch",
            br#"{"architecture":"","os":"linux"}"#.to_vec(),
            "names no platform",
        ),
        (
            "wrong-type",
            br#"{"architecture":64,"os":"linux"}"#.to_vec(),
            "not valid",
        ),
    ] {
        let m = push_with_config(&repo, tag, &config, media_types::OCI_CONFIG).await;
        let err = repo.get_platforms(tag).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ManifestInvalid, "{tag}: {err}");
        let text = err.to_string();
        assert!(text.contains(why), "{tag}: {text}");
        let config_digest = m.as_image().unwrap().config.digest.to_string();
        assert!(text.contains(&config_digest), "{tag}: {text}");
    }

    // A descriptor announcing a config over the limit: refused before any fetch.
    let mut image = ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::of(media_types::OCI_CONFIG, b"{}"),
        layers: Vec::new(),
        subject: None,
        annotations: BTreeMap::new(),
    };
    image.config.size = MAX_CONFIG_BYTES + 1;
    let before = requests(&emu, "oci.blob.get").len();
    let err = repo.get_config(&image).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestInvalid);
    assert!(err.to_string().contains("limit"), "{err}");
    assert_eq!(requests(&emu, "oci.blob.get").len(), before);

    // A config whose bytes do not match its digest (corrupted in flight).
    let good = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let m = push_with_config(&repo, "good", &good, media_types::OCI_CONFIG).await;
    emu.add_fault(gar_emulator::FaultRule::corrupt().operation("oci.blob.get"))
        .unwrap();
    let err = repo.get_config(m.as_image().unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch, "{err}");
    emu.shutdown().await;
}
