//! Manifests, tags and referrers against the emulator.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use gar_core::ErrorKind;
use gar_oci::manifest::{Descriptor, ImageManifest, Manifest, ManifestKind, media_types};

use crate::common::*;

#[tokio::test]
async fn get_by_tag_and_digest_verified_head_put_and_delete() {
    let emu = emulator().await;
    let hello = repo(&emu, "hello");
    let m = hello.get_manifest("latest").send().await.unwrap();
    assert_eq!(m.kind(), ManifestKind::OciManifest);
    let by_digest = hello
        .get_manifest(m.digest().as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(by_digest.raw(), m.raw());
    let head = hello.head_manifest("latest").await.unwrap().unwrap();
    assert_eq!(
        (head.digest.clone(), head.size),
        (m.digest().clone(), m.raw().len() as u64)
    );
    assert_eq!(head.media_type, media_types::OCI_MANIFEST);
    assert_eq!(hello.head_manifest("nope").await.unwrap(), None);
    let err = hello.get_manifest("nope").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestNotFound);
    assert!(err.to_string().contains("nope"), "{err}");
    assert_eq!(
        hello
            .get_manifest("bad tag")
            .send()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidTag
    );

    // A re-push elsewhere is byte-identical: same digest.
    let copy = repo(&emu, "copy");
    for blob in m.blobs() {
        let mut bytes = Vec::new();
        let mut s = hello.get_blob(&blob.digest).send().await.unwrap();
        while let Some(chunk) = s.try_next().await.unwrap() {
            bytes.extend_from_slice(&chunk);
        }
        copy.upload_blob(&blob.digest, blob.size, gar_oci::BlobSource::bytes(bytes))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        copy.put_manifest("v1", &m).send().await.unwrap(),
        *m.digest()
    );
    assert_eq!(
        copy.put_manifest(gar_oci::digest::sha256(b"x").as_str(), &m)
            .send()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::ManifestDigestMismatch
    );
    copy.put_manifest("v2", &m).send().await.unwrap();
    copy.delete_tag("v1").await.unwrap();
    assert_eq!(copy.head_manifest("v1").await.unwrap(), None);
    assert!(copy.head_manifest("v2").await.unwrap().is_some());
    copy.delete_manifest(m.digest()).await.unwrap();
    assert_eq!(copy.head_manifest("v2").await.unwrap(), None);
    let err = copy.delete_manifest(m.digest()).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn a_manifest_referencing_missing_blobs_is_refused() {
    let emu = emulator().await;
    let r = repo(&emu, "missing");
    let m = Manifest::from_image(&ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.into()),
        artifact_type: None,
        config: Descriptor::of(media_types::OCI_CONFIG, b"{}"),
        layers: vec![Descriptor::of(media_types::OCI_LAYER_TAR, b"never pushed")],
        subject: None,
        annotations: BTreeMap::new(),
    })
    .unwrap();
    let err = r.put_manifest("v1", &m).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestInvalid, "{err}");
    assert_eq!(err.oci_code(), Some("MANIFEST_BLOB_UNKNOWN"));
}

#[tokio::test]
async fn manifests_over_4_mib_are_refused_before_sending() {
    let mut annotations = BTreeMap::new();
    annotations.insert("big".to_owned(), "x".repeat(4 * 1024 * 1024));
    let err = Manifest::from_image(&ImageManifest {
        schema_version: 2,
        media_type: None,
        artifact_type: None,
        config: Descriptor::of(media_types::OCI_CONFIG, b"{}"),
        layers: vec![],
        subject: None,
        annotations,
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestInvalid);
}

#[tokio::test]
async fn tags_page_with_n_last_and_link_and_carry_gar_extension() {
    let emu = emulator().await;
    let r = repo(&emu, "paged");
    let dir = TempDir::new("tags");
    let (layout, m) = layout_with_image(&dir.join("l"), "t0", &[b"tagged".to_vec()]).await;
    r.push_image(&layout).send().await.unwrap();
    for t in ["t1", "t2", "t3", "t4"] {
        r.put_manifest(t, &m).send().await.unwrap();
    }
    let pages: Vec<gar_oci::wire::TagList> = r
        .list_tags()
        .with_page_size(2)
        .by_page()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].tags, vec!["t0", "t1"]);
    assert_eq!(pages[2].tags, vec!["t4"]);
    let ext = &pages[0].manifest[m.digest().as_str()];
    assert_eq!(ext.tag.len(), 5);
    assert_eq!(ext.media_type.as_deref(), Some(media_types::OCI_MANIFEST));
    assert!(ext.image_size_bytes.unwrap() > 0);
    let lists = requests(&emu, "oci.tags.list");
    assert_eq!(lists.len(), 3);
    assert!(lists[1].query.contains("last=t1"), "{:?}", lists[1]);
    let all: Vec<String> = r.list_tags().by_item().try_collect().await.unwrap();
    assert_eq!(all, vec!["t0", "t1", "t2", "t3", "t4"]);
    let err = repo(&emu, "no-such-image")
        .list_tags()
        .by_item()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn referrers_list_artifacts_that_name_a_subject() {
    let emu = emulator().await;
    let r = repo(&emu, "signed");
    let dir = TempDir::new("referrers");
    let (layout, m) = layout_with_image(&dir.join("l"), "v1", &[b"signed layer".to_vec()]).await;
    r.push_image(&layout).send().await.unwrap();
    let empty = b"{}".to_vec();
    r.upload_blob(
        &gar_oci::digest::sha256(&empty),
        2,
        gar_oci::BlobSource::bytes(empty.clone()),
    )
    .send()
    .await
    .unwrap();
    let mut sigs = Vec::new();
    for (kind, payload) in [
        ("application/vnd.example.signature", b"sig".to_vec()),
        ("application/vnd.example.sbom", b"sbom".to_vec()),
    ] {
        r.upload_blob(
            &gar_oci::digest::sha256(&payload),
            payload.len() as u64,
            gar_oci::BlobSource::bytes(payload.clone()),
        )
        .send()
        .await
        .unwrap();
        let artifact = Manifest::from_image(&ImageManifest {
            schema_version: 2,
            media_type: Some(media_types::OCI_MANIFEST.into()),
            artifact_type: Some(kind.into()),
            config: Descriptor::of(media_types::OCI_EMPTY, &empty),
            layers: vec![Descriptor::of("application/octet-stream", &payload)],
            subject: Some(m.descriptor()),
            annotations: BTreeMap::new(),
        })
        .unwrap();
        r.put_manifest(artifact.digest().as_str(), &artifact)
            .send()
            .await
            .unwrap();
        sigs.push(artifact);
    }
    let all = r.list_referrers(m.digest()).send().await.unwrap();
    assert_eq!(all.len(), 2);
    let only = r
        .list_referrers(m.digest())
        .with_artifact_type("application/vnd.example.sbom")
        .send()
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].digest, *sigs[1].digest());
    assert_eq!(
        only[0].artifact_type.as_deref(),
        Some("application/vnd.example.sbom")
    );
    let none = r
        .list_referrers(&gar_oci::digest::sha256(b"unreferenced"))
        .send()
        .await
        .unwrap();
    assert!(none.is_empty());
}
