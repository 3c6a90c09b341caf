//! Platforms in the image report: an index's entries, and a single image
//! manifest's config, read from the registry; a malformed config is named in
//! its row.

use std::collections::BTreeMap;

use gar::oci::digest::sha256;
use gar::oci::manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, Platform, media_types};
use gar::{Client, ErrorKind, ImageName, Layout};

use crate::common::{client, emulator};

fn temp(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("gar-facade-{tag}-{}", std::process::id()))
}

/// Writes an image manifest with `config` (and one layer) into `layout`.
async fn image(layout: &Layout, config: &[u8], layer: &str) -> Manifest {
    let layer = layer.as_bytes();
    layout.write_blob(&sha256(config), config).await.unwrap();
    layout.write_blob(&sha256(layer), layer).await.unwrap();
    let m = Manifest::from_image(&ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::of(media_types::OCI_CONFIG, config),
        layers: vec![Descriptor::of(media_types::OCI_LAYER_TAR, layer)],
        subject: None,
        annotations: BTreeMap::new(),
    })
    .unwrap();
    layout.write_blob(m.digest(), m.raw()).await.unwrap();
    m
}

fn config(platform: &str) -> Vec<u8> {
    let p: Platform = platform.parse().unwrap();
    serde_json::to_vec(&serde_json::json!({
        "architecture": p.architecture,
        "os": p.os,
        "variant": p.variant,
        "rootfs": {"type": "layers", "diff_ids": []},
    }))
    .unwrap()
}

async fn push(client: &Client, layout: &Layout, top: &Manifest, name: &str) -> ImageName {
    let tag = "v1";
    layout
        .add_manifest(top.descriptor(), Some(tag))
        .await
        .unwrap();
    let target = client.image(&format!("docker/{name}:{tag}")).unwrap();
    client
        .push_image(layout, &target)
        .unwrap()
        .send()
        .await
        .unwrap();
    target
}

/// Pushes a single-manifest image with `config` as `docker/{name}:v1`.
async fn push_single(client: &Client, name: &str, config: &[u8]) -> (ImageName, Manifest) {
    let dir = temp(&name.replace('/', "-"));
    let layout = Layout::create(&dir).await.unwrap();
    let m = image(&layout, config, name).await;
    let target = push(client, &layout, &m, name).await;
    std::fs::remove_dir_all(&dir).unwrap();
    (target, m)
}

#[tokio::test]
async fn single_manifests_indexes_and_malformed_configs() {
    let emu = emulator().await;
    let client = client(&emu).await;

    let (single, single_manifest) =
        push_single(&client, "plat/single", &config("linux/arm64/v8")).await;
    let (broken, _) = push_single(&client, "plat/broken", b"{\"architecture\": ").await;

    let dir = temp("plat-multi");
    let layout = Layout::create(&dir).await.unwrap();
    let mut entries = Vec::new();
    for p in ["linux/amd64", "linux/arm/v7"] {
        let m = image(&layout, &config(p), p).await;
        let mut d = m.descriptor();
        d.platform = Some(p.parse().unwrap());
        entries.push(d);
    }
    let index = Manifest::from_index(&ImageIndex {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.to_owned()),
        artifact_type: None,
        manifests: entries.clone(),
        subject: None,
        annotations: BTreeMap::new(),
    })
    .unwrap();
    layout
        .write_blob(index.digest(), index.raw())
        .await
        .unwrap();
    let multi = push(&client, &layout, &index, "plat/multi").await;
    std::fs::remove_dir_all(&dir).unwrap();

    // One image at a time.
    let details = client.inspect_image(&single).await.unwrap();
    assert!(details.platforms_error.is_none());
    assert_eq!(details.platforms.len(), 1);
    let p = &details.platforms[0];
    assert_eq!(
        (p.os.as_str(), p.architecture.as_str(), p.variant.as_str()),
        ("linux", "arm64", "v8")
    );
    assert_eq!(p.digest, single_manifest.digest().to_string());

    let details = client.inspect_image(&multi).await.unwrap();
    assert!(details.platforms_error.is_none());
    let shown: Vec<_> = details
        .platforms
        .iter()
        .map(|p| (p.os.as_str(), p.architecture.as_str(), p.variant.as_str()))
        .collect();
    assert_eq!(shown, [("linux", "amd64", ""), ("linux", "arm", "v7")]);
    assert_eq!(details.platforms[1].digest, entries[1].digest.to_string());

    // A malformed config does not fail the call: the rest of the details stand.
    let details = client.inspect_image(&broken).await.unwrap();
    assert!(details.platforms.is_empty());
    let err = details.platforms_error.unwrap();
    assert_eq!(err.kind(), ErrorKind::ManifestInvalid, "{err}");
    assert!(err.to_string().contains("config"), "{err}");
    assert!(details.image.tags.contains(&"v1".to_owned()));
    assert!(details.vulnerabilities.is_ok());

    // The report over many images, two at a time: the same, row by row.
    let rows = client
        .image_report("docker")
        .unwrap()
        .set_images(["plat/single", "plat/multi", "plat/broken"])
        .with_concurrency(2)
        .send()
        .await
        .unwrap();
    // The index's children are docker images of their own (as in GAR): each
    // shows the platform its config names.
    assert_eq!(rows.len(), 5);
    for row in &rows {
        let name = row.image.docker_image_name().unwrap();
        let digest = name.digest().to_string();
        let shown: Vec<_> = row
            .platforms
            .iter()
            .map(|p| format!("{}/{}/{}", p.os, p.architecture, p.variant))
            .collect();
        match name.image().as_str() {
            "plat/single" => {
                assert!(row.platforms_error.is_none());
                assert_eq!(shown, ["linux/arm64/v8"]);
            }
            "plat/multi" if digest == index.digest().to_string() => {
                assert!(row.platforms_error.is_none());
                assert_eq!(shown, ["linux/amd64/", "linux/arm/v7"]);
            }
            "plat/multi" => {
                assert!(row.platforms_error.is_none());
                let entry = entries.iter().find(|e| e.digest.to_string() == digest);
                let entry = entry.unwrap().platform.as_ref().unwrap();
                let variant = entry.variant.clone().unwrap_or_default();
                assert_eq!(
                    shown,
                    [format!("{}/{}/{variant}", entry.os, entry.architecture)]
                );
            }
            "plat/broken" => {
                assert!(row.platforms.is_empty());
                assert_eq!(
                    row.platforms_error.as_ref().unwrap().kind(),
                    ErrorKind::ManifestInvalid
                );
                assert!(row.vulnerabilities.is_ok());
            }
            other => panic!("unexpected row {other}"),
        }
    }
    emu.shutdown().await;
}
