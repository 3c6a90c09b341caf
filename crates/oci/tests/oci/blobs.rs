//! Blobs against the emulator: head, verified streams and downloads, every
//! upload mode, the fallback when chunks are refused, mounts, skipping.

use futures_util::TryStreamExt;
use gar_core::ErrorKind;
use gar_emulator::Emulator;
use gar_oci::digest::sha256;
use gar_oci::{BlobSource, Registry, UploadMode, UploadOutcome};

use crate::common::*;

async fn read_all(repo: &gar_oci::Repository, digest: &gar_core::ids::Digest) -> Vec<u8> {
    let mut s = repo.get_blob(digest).send().await.unwrap();
    let mut out = Vec::new();
    while let Some(c) = s.try_next().await.unwrap() {
        out.extend_from_slice(&c);
    }
    out
}

#[tokio::test]
async fn every_upload_mode_round_trips() {
    let emu = emulator().await;
    let r = repo(&emu, "modes");
    let data = random_bytes(3 * 1024 * 1024 + 17, 1);
    for (i, mode) in [
        UploadMode::Monolithic,
        UploadMode::Streamed,
        UploadMode::Chunked {
            chunk_size: 1024 * 1024,
        },
        UploadMode::Auto,
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = data.clone();
        d.push(i as u8);
        let digest = sha256(&d);
        assert_eq!(r.head_blob(&digest).await.unwrap(), None);
        let outcome = r
            .upload_blob(&digest, d.len() as u64, BlobSource::bytes(d.clone()))
            .with_mode(mode)
            .send()
            .await
            .unwrap();
        assert_eq!(outcome, UploadOutcome::Uploaded, "{mode:?}");
        assert_eq!(r.head_blob(&digest).await.unwrap(), Some(d.len() as u64));
        assert_eq!(read_all(&r, &digest).await, d, "{mode:?}");
    }
    // Monolithic: one PUT with the body; streamed: one PATCH; chunked: 4 PATCHes;
    // auto on a host that is not *.pkg.dev: 16 MiB chunks, so one PATCH.
    assert_eq!(requests(&emu, "oci.upload.patch").len(), 1 + 4 + 1);
    assert_eq!(requests(&emu, "oci.upload.put").len(), 4);
    // Present blobs are skipped; small ones go whole in one replayable PUT.
    let digest = sha256(&data);
    let small = b"small".to_vec();
    let before = requests(&emu, "oci.upload.*").len();
    r.upload_blob(&sha256(&small), 5, BlobSource::bytes(small.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        requests(&emu, "oci.upload.*").len(),
        before + 2,
        "POST + PUT"
    );
    assert_eq!(
        r.upload_blob(&sha256(&small), 5, BlobSource::bytes(small))
            .send()
            .await
            .unwrap(),
        UploadOutcome::Existed
    );
    // The registry checks what arrives against the digest.
    let err = r
        .upload_blob(
            &digest,
            data.len() as u64,
            BlobSource::bytes(random_bytes(data.len(), 9)),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch, "{err}");
}

#[tokio::test]
async fn files_and_one_shot_streams_upload() {
    let emu = emulator().await;
    let r = repo(&emu, "sources");
    let dir = TempDir::new("sources");
    let path = dir.join("blob");
    let digest = random_file(&path, 5 * 1024 * 1024 + 3, 7);
    r.upload_blob(&digest, 5 * 1024 * 1024 + 3, BlobSource::file(&path))
        .with_mode(UploadMode::Chunked {
            chunk_size: 2 * 1024 * 1024,
        })
        .send()
        .await
        .unwrap();
    let data = random_bytes(2 * 1024 * 1024, 8);
    let d2 = sha256(&data);
    let chunks: Vec<Result<bytes::Bytes, gar_core::Error>> = data
        .chunks(100_000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    r.upload_blob(
        &d2,
        data.len() as u64,
        BlobSource::stream(futures_util::stream::iter(chunks)),
    )
    // A one-shot stream goes in one PATCH even when chunks are asked for.
    .with_mode(UploadMode::Chunked {
        chunk_size: 512 * 1024,
    })
    .send()
    .await
    .unwrap();
    assert_eq!(read_all(&r, &d2).await, data);
    let got = dir.join("got");
    assert_eq!(
        r.download_blob(&digest, &got).send().await.unwrap(),
        5 * 1024 * 1024 + 3
    );
    assert_eq!(file_digest(&got), digest);
}

#[tokio::test]
async fn chunks_refused_fall_back_to_a_monolithic_upload() {
    // GAR's documented refusal of Content-Range chunks.
    let emu = Emulator::builder().gar_quirks(true).start().await.unwrap();
    let r = repo(&emu, "quirks");
    let data = random_bytes(4 * 1024 * 1024, 3);
    let digest = sha256(&data);
    let outcome = r
        .upload_blob(&digest, data.len() as u64, BlobSource::bytes(data.clone()))
        .with_mode(UploadMode::Chunked {
            chunk_size: 1024 * 1024,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(outcome, UploadOutcome::Uploaded);
    assert_eq!(read_all(&r, &digest).await, data);
    let patches = requests(&emu, "oci.upload.patch");
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(patches[0].status, Some(400));
    let puts = requests(&emu, "oci.upload.put");
    assert_eq!(puts.last().unwrap().status, Some(201));
    // The registry remembers: the next blob goes whole without trying chunks.
    let more = random_bytes(4 * 1024 * 1024, 4);
    r.upload_blob(&sha256(&more), more.len() as u64, BlobSource::bytes(more))
        .send()
        .await
        .unwrap();
    assert_eq!(
        requests(&emu, "oci.upload.patch").len(),
        2,
        "one streamed PATCH"
    );
}

#[tokio::test]
async fn blobs_mount_across_repositories_of_one_registry() {
    let emu = emulator().await;
    let a = repo(&emu, "mount-a");
    let b = repo2(&emu, "mount-b");
    let data = b"mountable".to_vec();
    let digest = sha256(&data);
    a.upload_blob(&digest, 9, BlobSource::bytes(data.clone()))
        .send()
        .await
        .unwrap();
    assert!(b.mount_blob(&digest, &a).await.unwrap());
    assert_eq!(b.head_blob(&digest).await.unwrap(), Some(9));
    let other = sha256(b"not there");
    assert!(!b.mount_blob(&other, &a).await.unwrap());
    // Blobs belong to the GAR repository, shared by its images.
    let c = repo2(&emu, "mount-c");
    assert_eq!(c.head_blob(&digest).await.unwrap(), Some(9));
    let more = b"mount me too".to_vec();
    let digest = sha256(&more);
    a.upload_blob(&digest, more.len() as u64, BlobSource::bytes(more.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.upload_blob(&digest, more.len() as u64, BlobSource::bytes(more))
            .mount_from(&a)
            .send()
            .await
            .unwrap(),
        UploadOutcome::Mounted
    );
    let mounts = requests(&emu, "oci.upload.start");
    assert!(
        mounts
            .iter()
            .any(|r| r.query.contains("mount=") && r.status == Some(201))
    );
}

#[tokio::test]
async fn downloads_verify_and_never_leave_a_file_behind() {
    let emu = emulator().await;
    let r = repo(&emu, "dl");
    let data = random_bytes(1_500_000, 5);
    let digest = sha256(&data);
    r.upload_blob(&digest, data.len() as u64, BlobSource::bytes(data.clone()))
        .send()
        .await
        .unwrap();
    let dir = TempDir::new("dl");
    // A wrong size from the descriptor is caught before anything is kept.
    let err = r
        .download_blob(&digest, dir.join("wrong-size"))
        .with_size(10)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch, "{err}");
    assert!(!dir.join("wrong-size").exists());
    // Missing blobs.
    let err = r
        .download_blob(&sha256(b"absent"), dir.join("absent"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlobNotFound, "{err}");
    assert!(partial_files(dir.path()).is_empty());
    let s = r.get_blob(&digest).send().await.unwrap();
    assert_eq!(s.size(), Some(data.len() as u64));
}

/// A connection cut in the middle of a streamed PATCH body: the upload asks the
/// registry how much it holds and sends only the rest.
#[tokio::test]
async fn a_streamed_upload_cut_mid_body_resumes_from_the_registry_offset() {
    let emu = emulator().await;
    let proxy = cut_proxy(emu.addr(), 20 * 1024 * 1024).await;
    let r = registry(&proxy.url, google())
        .repository(&format!("{REPO}/cut"))
        .unwrap();
    let dir = TempDir::new("cut");
    let path = dir.join("blob");
    let size = 48 * 1024 * 1024;
    let digest = random_file(&path, size, 11);
    let outcome = r
        .upload_blob(&digest, size, BlobSource::file(&path))
        .with_mode(UploadMode::Streamed)
        .send()
        .await
        .unwrap();
    assert_eq!(outcome, UploadOutcome::Uploaded);
    assert_eq!(proxy.cuts.load(std::sync::atomic::Ordering::SeqCst), 1);
    let patches = requests(&emu, "oci.upload.patch");
    assert!(patches.len() >= 2, "{patches:?}");
    assert_eq!(patches[0].status, Some(400), "the cut PATCH: {patches:?}");
    assert!(!requests(&emu, "oci.upload.status").is_empty());
    // Only one session: resumed, not restarted.
    assert_eq!(requests(&emu, "oci.upload.start").len(), 1);
    let got = dir.join("got");
    r.download_blob(&digest, &got).send().await.unwrap();
    assert_eq!(file_digest(&got), digest);
}

#[tokio::test]
async fn the_registry_is_pinged_once_and_answers() {
    let emu = emulator().await;
    let reg: Registry = registry(emu.url(), google());
    reg.ping().await.unwrap();
    let open = Emulator::builder()
        .allow_anonymous_read(true)
        .start()
        .await
        .unwrap();
    let anon = registry(open.url(), gar_oci::RegistryAuth::anonymous());
    anon.ping().await.unwrap();
    let hello = anon.repository(&format!("{REPO}/hello")).unwrap();
    let m = hello.get_manifest("latest").send().await.unwrap();
    assert_eq!(
        read_all(&hello, &m.blobs()[1].digest).await,
        b"hello from the gar emulator\n"
    );
}

/// A registry that redirects blob reads to storage on another host, which
/// breaks the first answer off and ignores `Range` on the second: the client
/// follows the redirect without the registry's credentials, drops the bytes
/// resent from the start, and verifies the whole.
#[tokio::test]
async fn redirected_reads_resume_even_when_range_is_ignored_and_never_leak_credentials() {
    use http_body_util::{BodyExt, StreamBody};
    use hyper::body::Frame;
    use std::sync::{Arc, Mutex};

    let data = random_bytes(3_000_000, 77);
    let digest = sha256(&data);
    type Seen = Vec<(Option<String>, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let (store_data, store_seen) = (data.clone(), seen.clone());
    let storage = serve(move |req| {
        let auth = req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        let range = req
            .headers()
            .get("range")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut s = store_seen.lock().unwrap();
        s.push((auth, range));
        let first = s.len() == 1;
        let len = store_data.len().to_string();
        if first {
            // A million bytes, then the connection dies.
            let head = bytes::Bytes::copy_from_slice(&store_data[..1_000_000]);
            let frames = futures_util::stream::iter(vec![
                Ok(Frame::data(head)),
                Err(std::io::Error::other("storage hiccup")),
            ]);
            return http::Response::builder()
                .header("content-length", len)
                .body(StreamBody::new(frames).boxed_unsync())
                .unwrap();
        }
        // Range ignored: the whole blob again.
        full(200, &[("content-length", len)], store_data.clone())
    })
    .await;
    let registry_addr = serve(move |req| {
        let authorized = req.headers().get("authorization").is_some();
        if !authorized {
            return full(
                401,
                &[("www-authenticate", "Basic realm=\"test\"".to_owned())],
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}"#.to_vec(),
            );
        }
        let path = req.uri().path().to_owned();
        full(
            307,
            &[("location", format!("http://{storage}/bucket{path}"))],
            Vec::new(),
        )
    })
    .await;
    let reg = registry(
        &format!("http://{registry_addr}"),
        gar_oci::RegistryAuth::basic("u", gar_auth::SecretString::new("p")),
    );
    let r = reg.repository("team/app").unwrap();
    assert_eq!(read_all(&r, &digest).await, data);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|(auth, _)| auth.is_none()), "{seen:?}");
    assert_eq!(seen[1].1.as_deref(), Some("bytes=1000000-"));
}
