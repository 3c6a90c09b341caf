//! The "must show" list against the emulator's fault rules: resets in
//! the middle of a 64 MiB blob (download and upload resume, digests right),
//! bursts of 429 and 503 retried per the table, corrupted bytes detected with
//! nothing written, a token expiring in the middle of a push.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt;
use gar_auth::CachedTokenProvider;
use gar_core::ErrorKind;
use gar_emulator::FaultRule;
use gar_oci::digest::{DigestHasher, sha256};
use gar_oci::layout::Layout;
use gar_oci::progress::Progress;
use gar_oci::{BlobSource, RegistryAuth, UploadMode, UploadOutcome};

use crate::common::*;

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn a_download_reset_in_the_middle_of_a_64_mib_blob_resumes_with_range() {
    let emu = emulator().await;
    let r = repo(&emu, "big-down");
    let dir = TempDir::new("big-down");
    let src = dir.join("src");
    let digest = random_file(&src, 64 * MIB, 21);
    r.upload_blob(&digest, 64 * MIB, BlobSource::file(&src))
        .send()
        .await
        .unwrap();

    // The connection breaks after 30 MiB of the body, once.
    emu.add_fault(
        FaultRule::truncate_after(30 * MIB)
            .operation("oci.blob.get")
            .times(1),
    )
    .unwrap();
    let out = dir.join("out");
    let n = r
        .download_blob(&digest, &out)
        .with_size(64 * MIB)
        .send()
        .await
        .unwrap();
    assert_eq!(n, 64 * MIB);
    assert_eq!(file_digest(&out), digest);
    let gets = requests(&emu, "oci.blob.get");
    assert_eq!(gets.len(), 2, "the first GET and one resumed GET: {gets:?}");
    assert!(gets[0].fault.is_some());
    assert_eq!(gets[1].status, Some(206), "the resume asked for a Range");

    // The same through the verified stream.
    emu.add_fault(
        FaultRule::truncate_after(10 * MIB)
            .operation("oci.blob.get")
            .times(1),
    )
    .unwrap();
    let mut s = r.get_blob(&digest).send().await.unwrap();
    let mut h = DigestHasher::sha256();
    while let Some(chunk) = s.try_next().await.unwrap() {
        h.update(&chunk);
    }
    assert_eq!(h.bytes(), 64 * MIB);
    assert_eq!(h.finish(), digest);
    assert!(partial_files(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_reset_in_the_middle_of_a_64_mib_blob_resumes_from_the_registry_offset() {
    let emu = Arc::new(emulator().await);
    let r = repo(&emu, "big-up");
    let dir = TempDir::new("big-up");
    let src = dir.join("src");
    let digest = random_file(&src, 64 * MIB, 22);
    // Once 24 MiB are on their way, the next PATCH has its connection dropped.
    let armed = Arc::new(AtomicBool::new(true));
    let (e, a) = (emu.clone(), armed.clone());
    let callback = Arc::new(move |p: &Progress| {
        if p.blob_done >= 24 * MIB && a.swap(false, Ordering::SeqCst) {
            e.add_fault(FaultRule::reset().operation("oci.upload.patch").times(1))
                .unwrap();
        }
    });
    let outcome = r
        .upload_blob(&digest, 64 * MIB, BlobSource::file(&src))
        .with_mode(UploadMode::Chunked {
            chunk_size: 8 * MIB,
        })
        .with_progress(callback)
        .send()
        .await
        .unwrap();
    assert_eq!(outcome, UploadOutcome::Uploaded);
    let patches = requests(&emu, "oci.upload.patch");
    // 8 chunks, plus the one whose connection was reset and was sent again.
    assert_eq!(patches.len(), 9, "{patches:?}");
    assert_eq!(patches.iter().filter(|p| p.fault.is_some()).count(), 1);
    assert_eq!(
        requests(&emu, "oci.upload.status").len(),
        1,
        "asked for the offset once"
    );
    assert_eq!(
        requests(&emu, "oci.upload.start").len(),
        1,
        "one session, resumed"
    );
    let out = dir.join("out");
    r.download_blob(&digest, &out).send().await.unwrap();
    assert_eq!(file_digest(&out), digest);
}

/// 503s with and without `Retry-After`, and 429s, on manifests, blobs and the
/// upload steps, during a push and a pull: everything is retried per the
/// table (on a paused clock) and the image arrives whole.
#[tokio::test(start_paused = true)]
async fn bursts_of_429_and_503_are_retried_per_the_table() {
    let emu = emulator().await;
    let r = repo(&emu, "bursts");
    let dir = TempDir::new("bursts");
    let layers: Vec<Vec<u8>> = (0..3)
        .map(|i| random_bytes(300_000 + i, 30 + i as u64))
        .collect();
    let (layout, m) = layout_with_image(&dir.join("src"), "v1", &layers).await;
    for rule in [
        FaultRule::status(503)
            .operation("oci.upload.start")
            .times(2),
        FaultRule::status(429)
            .retry_after(7)
            .operation("oci.blob.head")
            .times(2),
        FaultRule::status(503)
            .operation("oci.manifest.put")
            .times(1),
        FaultRule::status(503).operation("oci.blob.get").times(2),
        FaultRule::status(429)
            .operation("oci.manifest.get")
            .times(1),
    ] {
        emu.add_fault(rule).unwrap();
    }
    let started = tokio::time::Instant::now();
    r.push_image(&layout)
        .with_concurrency(1)
        .send()
        .await
        .unwrap();
    let pushed = started.elapsed();
    // upload.start 503 x2: 2 s + 4 s; blob.head 429 x2 with Retry-After 7: 14 s;
    // manifest.put 503: 2 s.
    assert!(pushed >= Duration::from_secs(6 + 14 + 2), "{pushed:?}");
    let out = Layout::create(dir.join("out")).await.unwrap();
    let started = tokio::time::Instant::now();
    let report = r
        .pull_image("v1", &out)
        .with_concurrency(1)
        .send()
        .await
        .unwrap();
    // manifest.get 429 without Retry-After: 30 s; blob.get 503 x2: 2 s + 4 s.
    assert!(
        started.elapsed() >= Duration::from_secs(30 + 6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.digest, *m.digest());
    assert_eq!(report.blobs_transferred, 4);
    for l in &layers {
        assert_eq!(out.read_blob(&sha256(l)).await.unwrap(), *l);
    }
    for f in emu.faults() {
        assert_eq!(Some(f.fired), f.times, "{f:?}");
    }
    // A 503 on a chunk, which the transport cannot replay: the upload resumes.
    emu.add_fault(
        FaultRule::status(503)
            .retry_after(3)
            .operation("oci.upload.patch")
            .times(1),
    )
    .unwrap();
    let data = random_bytes(3 * MIB as usize, 40);
    let started = tokio::time::Instant::now();
    r.upload_blob(&sha256(&data), data.len() as u64, BlobSource::bytes(data))
        .with_mode(UploadMode::Chunked { chunk_size: MIB })
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(requests(&emu, "oci.upload.patch").len(), 4);
}

#[tokio::test]
async fn corrupted_bytes_are_detected_and_nothing_is_written() {
    let emu = emulator().await;
    let r = repo(&emu, "corrupt");
    let dir = TempDir::new("corrupt");
    let (layout, m) = layout_with_image(
        &dir.join("src"),
        "v1",
        &[random_bytes(2_000_000, 50), random_bytes(100, 51)],
    )
    .await;
    r.push_image(&layout).send().await.unwrap();
    let layer = m.blobs()[1].clone();

    emu.add_fault(FaultRule::corrupt().operation("oci.blob.get").times(1))
        .unwrap();
    let target = dir.join("layer");
    let err = r
        .download_blob(&layer.digest, &target)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch, "{err}");
    assert!(err.is_digest_mismatch());
    assert!(!target.exists());
    assert!(partial_files(dir.path()).is_empty());

    // The stream ends with the error.
    emu.add_fault(FaultRule::corrupt().operation("oci.blob.get").times(1))
        .unwrap();
    let items: Vec<Result<bytes::Bytes, gar_core::Error>> =
        futures_util::StreamExt::collect(r.get_blob(&layer.digest).send().await.unwrap()).await;
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind(),
        ErrorKind::BlobDigestMismatch
    );

    // A pull: no blob file, and the image never appears in index.json.
    emu.add_fault(
        FaultRule::corrupt()
            .path(&format!("*{}", layer.digest.hex()))
            .times(1),
    )
    .unwrap();
    let out = Layout::create(dir.join("out")).await.unwrap();
    let err = r.pull_image("v1", &out).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch, "{err}");
    assert!(!out.has_blob(&layer.digest).await);
    assert!(out.read_index().await.unwrap().manifests.is_empty());
    assert!(partial_files(&dir.join("out")).is_empty());

    // A manifest whose bytes differ from its digest.
    emu.add_fault(FaultRule::corrupt().operation("oci.manifest.get").times(2))
        .unwrap();
    let err = r.get_manifest("v1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestDigestMismatch, "{err}");
    let err = r
        .get_manifest(m.digest().as_str())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestDigestMismatch, "{err}");
}

/// The registry token and the Google token both expire (the emulator's clock
/// jumps two hours) after the first blob of a push: the next call is refused,
/// the Google token refreshed, a new registry token fetched, and the push
/// completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_in_the_middle_of_a_push_is_refreshed_and_the_push_completes() {
    let emu = Arc::new(emulator().await);
    let minting = Arc::new(Minting {
        emu: emu.clone(),
        principal: "user:demo@example.com".into(),
        minted: AtomicU64::new(0),
    });
    let auth = RegistryAuth::google(Arc::new(CachedTokenProvider::new(minting.clone())));
    let r = registry(emu.url(), auth)
        .repository(&format!("{REPO}/expiry"))
        .unwrap();
    let dir = TempDir::new("expiry");
    let layers: Vec<Vec<u8>> = (0..4).map(|i| random_bytes(2_000_000, 60 + i)).collect();
    let (layout, m) = layout_with_image(&dir.join("src"), "v1", &layers).await;
    let jumped = Arc::new(AtomicBool::new(false));
    let (addr, j) = (emu.addr(), jumped.clone());
    let callback = Arc::new(move |p: &Progress| {
        if p.blob_done == p.blob_total
            && p.blob_total > 1_000_000
            && !j.swap(true, Ordering::SeqCst)
        {
            advance_clock_blocking(addr, 7200);
        }
    });
    let report = r
        .push_image(&layout)
        .with_concurrency(1)
        .with_progress(callback)
        .send()
        .await
        .unwrap();
    assert!(jumped.load(Ordering::SeqCst));
    assert_eq!(report.digest, *m.digest());
    assert_eq!(report.blobs_transferred, 5);
    assert_eq!(
        minting.minted.load(Ordering::Relaxed),
        2,
        "the Google token was refreshed once"
    );
    let token_statuses: Vec<Option<u16>> = requests(&emu, "oci.token")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(token_statuses, vec![Some(200), Some(401), Some(200)]);
    let refused: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| {
            // The first call goes out without credentials to learn the scheme.
            r.status == Some(401) && r.operation != "oci.token" && r.authorization.is_some()
        })
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "one call met the expired token: {refused:?}"
    );
    assert_eq!(r.get_manifest("v1").send().await.unwrap().raw(), m.raw());
}
