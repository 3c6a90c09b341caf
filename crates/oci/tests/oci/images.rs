//! Whole images against the emulator: push from and pull into OCI layouts,
//! multi-platform indexes, copies (mounting within a registry, streaming across
//! registries), bounded concurrency and progress.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use gar_oci::layout::Layout;
use gar_oci::manifest::{ManifestKind, Platform};
use gar_oci::progress::Progress;

use crate::common::*;

#[tokio::test]
async fn push_then_pull_round_trips_and_skips_what_is_there() {
    let emu = emulator().await;
    let r = repo(&emu, "round");
    let dir = TempDir::new("round");
    let layers = vec![
        random_bytes(2_500_000, 1),
        random_bytes(700, 2),
        b"tiny".to_vec(),
    ];
    let (layout, m) = layout_with_image(&dir.join("src"), "v1", &layers).await;
    let report = r.push_image(&layout).send().await.unwrap();
    assert_eq!(report.digest, *m.digest());
    assert_eq!(
        (
            report.blobs_transferred,
            report.blobs_skipped,
            report.manifests
        ),
        (4, 0, 1)
    );
    // Tagged with the layout's name by default.
    assert_eq!(r.get_manifest("v1").send().await.unwrap().raw(), m.raw());
    let again = r.push_image(&layout).with_tag("v2").send().await.unwrap();
    assert_eq!((again.blobs_transferred, again.blobs_skipped), (0, 4));

    let out = Layout::create(dir.join("out")).await.unwrap();
    let pulled = r.pull_image("v2", &out).send().await.unwrap();
    assert_eq!(pulled.blobs_transferred, 4);
    assert_eq!(
        pulled.bytes_transferred,
        m.image_size() - m.raw().len() as u64
    );
    let entry = out.find(Some("v2")).await.unwrap();
    assert_eq!(entry.digest, *m.digest());
    for d in m.blobs() {
        assert_eq!(file_digest(&out.blob_path(&d.digest)), d.digest);
    }
    let again = r
        .pull_image(m.digest().as_str(), &out)
        .with_name("pinned")
        .send()
        .await
        .unwrap();
    assert_eq!((again.blobs_transferred, again.blobs_skipped), (0, 4));
    assert_eq!(out.read_index().await.unwrap().manifests.len(), 2);
    assert!(partial_files(dir.path()).is_empty());
}

#[tokio::test]
async fn indexes_push_and_pull_every_platform_or_one() {
    let emu = emulator().await;
    for docker in [false, true] {
        let r = repo(&emu, if docker { "list" } else { "index" });
        let dir = TempDir::new("index");
        let platforms = ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"];
        let (layout, index, children) =
            layout_with_index(&dir.join("src"), "multi", &platforms, docker).await;
        let report = r
            .push_image(&layout)
            .with_tag("multi")
            .send()
            .await
            .unwrap();
        assert_eq!(report.manifests, 4);
        // 3 configs, 3 own layers, 1 shared layer.
        assert_eq!(report.blobs_transferred, 7);
        let got = r.get_manifest("multi").send().await.unwrap();
        assert_eq!(
            got.kind(),
            if docker {
                ManifestKind::DockerManifestList
            } else {
                ManifestKind::OciIndex
            }
        );
        assert_eq!(got.raw(), index.raw());

        let all = Layout::create(dir.join("all")).await.unwrap();
        let pulled = r.pull_image("multi", &all).send().await.unwrap();
        assert_eq!((pulled.manifests, pulled.blobs_transferred), (4, 7));
        for c in &children {
            assert!(all.has_blob(c.digest()).await);
        }

        let one = Layout::create(dir.join("one")).await.unwrap();
        let arm = r
            .pull_image("multi", &one)
            .with_platform("linux/aarch64".parse().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(arm.digest, *children[1].digest());
        assert_eq!(arm.blobs_transferred, 3);
        let entry = one.find(Some("multi")).await.unwrap();
        assert_eq!(
            entry.platform,
            Some("linux/arm64/v8".parse::<Platform>().unwrap())
        );
        let err = r
            .pull_image("multi", &one)
            .with_platform("windows/amd64".parse().unwrap())
            .send()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("linux/arm/v7"), "{err}");
    }
}

#[tokio::test]
async fn copies_mount_within_a_registry_and_stream_across_registries() {
    let emu = emulator().await;
    let src = repo(&emu, "copy-src");
    let dir = TempDir::new("copy");
    let (layout, index, _) = layout_with_index(
        &dir.join("src"),
        "v1",
        &["linux/amd64", "linux/arm64"],
        false,
    )
    .await;
    src.push_image(&layout).send().await.unwrap();

    // Same registry: every blob mounted, nothing sent.
    let dst = repo2(&emu, "copy-dst");
    let report = src.copy_image("v1", &dst).send().await.unwrap();
    assert_eq!(report.digest, *index.digest());
    assert_eq!(
        (
            report.blobs_mounted,
            report.blobs_transferred,
            report.manifests
        ),
        (5, 0, 3)
    );
    assert_eq!(
        dst.get_manifest("v1").send().await.unwrap().raw(),
        index.raw()
    );
    let mounts = requests(&emu, "oci.upload.start")
        .into_iter()
        .filter(|r| r.query.contains("mount=") && r.status == Some(201))
        .count();
    assert_eq!(mounts, 5);

    // Another registry (another location's emulator): blobs stream across.
    let other = emulator().await;
    let far = repo(&other, "copied");
    let report = src
        .copy_image(index.digest().as_str(), &far)
        .with_tag("v9")
        .send()
        .await
        .unwrap();
    assert_eq!((report.blobs_transferred, report.blobs_mounted), (5, 0));
    assert_eq!(
        far.get_manifest("v9").send().await.unwrap().raw(),
        index.raw()
    );
    let out = Layout::create(dir.join("out")).await.unwrap();
    far.pull_image("v9", &out).send().await.unwrap();
    assert!(
        requests(&other, "oci.upload.start")
            .iter()
            .all(|r| !r.query.contains("mount="))
    );
}

/// At most `n` blobs move at once, and progress adds up per blob and overall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_and_progress_adds_up() {
    let emu = emulator().await;
    let r = repo(&emu, "busy");
    let dir = TempDir::new("busy");
    let layers: Vec<Vec<u8>> = (0..12)
        .map(|i| random_bytes(1_200_000 + i, 70 + i as u64))
        .collect();
    let (layout, m) = layout_with_image(&dir.join("src"), "v1", &layers).await;
    // Slow every chunk down so that transfers overlap.
    emu.add_fault(gar_emulator::FaultRule::delay_ms(30).operation("oci.upload.patch"))
        .unwrap();
    emu.add_fault(gar_emulator::FaultRule::delay_ms(30).operation("oci.blob.get"))
        .unwrap();

    #[derive(Default)]
    struct Seen {
        active: BTreeSet<String>,
        max_active: usize,
        last: Option<Progress>,
        finished: BTreeSet<String>,
    }
    let track = |seen: Arc<Mutex<Seen>>| {
        Arc::new(move |p: &Progress| {
            let mut s = seen.lock().unwrap();
            let key = p.digest.to_string();
            if p.blob_done < p.blob_total {
                s.active.insert(key);
            } else {
                s.active.remove(&key);
                s.finished.insert(p.digest.to_string());
            }
            s.max_active = s.max_active.max(s.active.len());
            assert!(p.done <= p.total);
            s.last = Some(p.clone());
        })
    };
    let up = Arc::new(Mutex::new(Seen::default()));
    r.push_image(&layout)
        .with_concurrency(3)
        .with_progress(track(up.clone()))
        .send()
        .await
        .unwrap();
    let total = m.image_size() - m.raw().len() as u64;
    {
        let s = up.lock().unwrap();
        assert!(
            s.max_active <= 3 && s.max_active >= 2,
            "max {}",
            s.max_active
        );
        let last = s.last.clone().unwrap();
        assert_eq!((last.done, last.total), (total, total));
        assert_eq!(s.finished.len(), 13);
    }
    let down = Arc::new(Mutex::new(Seen::default()));
    let out = Layout::create(dir.join("out")).await.unwrap();
    r.pull_image("v1", &out)
        .with_concurrency(4)
        .with_progress(track(down.clone()))
        .send()
        .await
        .unwrap();
    let s = down.lock().unwrap();
    assert!(
        s.max_active <= 4 && s.max_active >= 2,
        "max {}",
        s.max_active
    );
    assert_eq!(s.last.clone().unwrap().done, total);
}
