//! The OCI Distribution surface, endpoint by endpoint, over loopback.

use bytes::Bytes;
use gar_emulator::{Emulator, Seed};
use http::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn ping_challenges_then_accepts_a_token() {
    let emu = demo().await;
    let anon = Client::new(emu.url());
    let r = anon.get("/v2/").await;
    assert_eq!(r.status, 401);
    let host = emu.url().trim_start_matches("http://");
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        format!("Bearer realm=\"{}/v2/token\",service=\"{host}\"", emu.url())
    );
    assert_eq!(r.oci_code(), "UNAUTHORIZED");
    assert_eq!(
        r.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    let r = anon.clone().bearer(DEMO_TOKEN).get("/v2/").await;
    assert_eq!(r.status, 200);
    let r = anon.clone().bearer("ya29.bogus").get("/v2/").await;
    assert_eq!(r.status, 401);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn seeded_image_pulls_with_digests_that_verify() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c
        .send(
            Method::GET,
            "/v2/demo-project/docker/hello/manifests/latest",
            &[("accept", OCI_MANIFEST)],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(OCI_MANIFEST));
    let digest = sha256(&r.body);
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    let m = r.json();
    for d in std::iter::once(&m["config"]).chain(m["layers"].as_array().unwrap()) {
        let want = d["digest"].as_str().unwrap();
        let b = c
            .get(&format!("/v2/demo-project/docker/hello/blobs/{want}"))
            .await;
        assert_eq!(b.status, 200);
        assert_eq!(sha256(&b.body), want);
        assert_eq!(b.body.len() as u64, d["size"].as_u64().unwrap());
    }
}

#[tokio::test]
async fn upload_styles_monolithic_streamed_chunked_and_single_post() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/app";

    // POST then PUT with the body.
    c.push_blob(repo, b"monolithic").await;

    // POST, one streamed PATCH (no Content-Range), PUT without body.
    let data = vec![7u8; 300_000];
    let digest = sha256(&data);
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range"), Some("0-0"));
    assert_eq!(r.header("content-length"), Some("0"));
    let id = r.header("docker-upload-uuid").unwrap().to_owned();
    let loc = r.header("location").unwrap().to_owned();
    assert_eq!(loc, format!("/v2/{repo}/blobs/uploads/{id}"));
    let r = c
        .send(
            Method::PATCH,
            &loc,
            &[("content-type", "application/octet-stream")],
            full(data.clone()),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range"), Some("0-299999"));
    assert_eq!(r.header("location"), Some(loc.as_str()));
    let r = c.get(&loc).await;
    assert_eq!(r.status, 204, "upload status");
    assert_eq!(r.header("range"), Some("0-299999"));
    let r = c
        .send(
            Method::PUT,
            &format!("{loc}?digest={digest}"),
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/{repo}/blobs/{digest}")
    );
    // The session is gone once complete.
    assert_eq!(c.get(&loc).await.oci_code(), "BLOB_UPLOAD_UNKNOWN");

    // Chunked with Content-Range, the last chunk on the PUT.
    let data: Vec<u8> = (0..250u32).flat_map(|i| i.to_be_bytes()).collect();
    let digest = sha256(&data);
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let r = c
        .send(
            Method::PATCH,
            &loc,
            &[("content-range", "0-399"), ("content-length", "400")],
            full(data[..400].to_vec()),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range"), Some("0-399"));
    // Out of order: 416 with the current range.
    let r = c
        .send(
            Method::PATCH,
            &loc,
            &[("content-range", "500-599"), ("content-length", "100")],
            full(data[500..600].to_vec()),
        )
        .await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("range"), Some("0-399"));
    let r = c
        .send(
            Method::PATCH,
            &loc,
            &[("content-range", "400-899"), ("content-length", "500")],
            full(data[400..900].to_vec()),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range"), Some("0-899"));
    let r = c
        .send(
            Method::PUT,
            &format!("{loc}?digest={digest}"),
            &[("content-range", "900-999"), ("content-length", "100")],
            full(data[900..].to_vec()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let b = c.get(&format!("/v2/{repo}/blobs/{digest}")).await;
    assert_eq!(&b.body[..], &data[..]);

    // A single POST with the digest and the body.
    let data = b"single post".to_vec();
    let digest = sha256(&data);
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            &[],
            full(data.clone()),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(
        c.get(&format!("/v2/{repo}/blobs/{digest}")).await.body,
        Bytes::from(data)
    );
}

#[tokio::test]
async fn uploads_verify_digests_and_can_be_cancelled() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/app";
    let wrong = sha256(b"something else");
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let r = c
        .send(
            Method::PUT,
            &format!("{loc}?digest={wrong}"),
            &[],
            full(b"content".to_vec()),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.oci_code(), "DIGEST_INVALID");
    assert_eq!(
        c.head(&format!("/v2/{repo}/blobs/{wrong}")).await.status,
        404
    );
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={wrong}"),
            &[],
            full(b"x".to_vec()),
        )
        .await;
    assert_eq!(r.oci_code(), "DIGEST_INVALID");
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let r = c.send(Method::PUT, &loc, &[], full(Bytes::new())).await;
    assert_eq!(r.oci_code(), "DIGEST_INVALID", "digest parameter missing");
    let r = c.delete(&loc).await;
    assert_eq!(r.status, 204);
    let r = c.delete(&loc).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.oci_code(), "BLOB_UPLOAD_UNKNOWN");
    let r = c.send(Method::PATCH, &loc, &[], full(b"x".to_vec())).await;
    assert_eq!(r.oci_code(), "BLOB_UPLOAD_UNKNOWN");
    // A session is bound to its repository path.
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    let id = r.header("docker-upload-uuid").unwrap().to_owned();
    let r = c
        .get(&format!("/v2/demo-project/docker/other/blobs/uploads/{id}"))
        .await;
    assert_eq!(r.oci_code(), "BLOB_UPLOAD_UNKNOWN");
    // A chunk shorter than its Content-Range (no Content-Length: a streamed body).
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let body = http_body_util::StreamBody::new(futures_util::stream::iter([Ok::<_, BoxError>(
        hyper::body::Frame::data(Bytes::from_static(b"12345")),
    )]));
    let r = c
        .send(
            Method::PATCH,
            &loc,
            &[("content-range", "0-9")],
            http_body_util::BodyExt::boxed_unsync(body),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.oci_code(), "SIZE_INVALID");
    // Sessions abandoned for a day expire when another starts.
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    let old = r.header("location").unwrap().to_owned();
    let admin = Client::new(emu.url());
    admin
        .post_json("/_emulator/clock", &json!({"advanceSeconds": 25 * 3600}))
        .await;
    c.send(
        Method::POST,
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(c.get(&old).await.oci_code(), "BLOB_UPLOAD_UNKNOWN");
}

#[tokio::test]
async fn blobs_head_get_and_ranges() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/app";
    let data: Vec<u8> = (0..=255u8).collect();
    let d = c.push_blob(repo, &data).await;
    let path = format!("/v2/{repo}/blobs/{d}");
    let r = c.head(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("256"));
    assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
    assert!(r.body.is_empty());
    let get = |range: &'static str| {
        let c = c.clone();
        let path = path.clone();
        async move {
            c.send(Method::GET, &path, &[("range", range)], full(Bytes::new()))
                .await
        }
    };
    let r = get("bytes=10-19").await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/256"));
    assert_eq!(&r.body[..], &data[10..20]);
    let r = get("bytes=250-").await;
    assert_eq!(&r.body[..], &data[250..]);
    let r = get("bytes=-6").await;
    assert_eq!(r.header("content-range"), Some("bytes 250-255/256"));
    let r = get("bytes=300-").await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */256"));
    let missing = sha256(b"never pushed");
    let r = c.get(&format!("/v2/{repo}/blobs/{missing}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.oci_code(), "BLOB_UNKNOWN");
    assert_eq!(
        c.head(&format!("/v2/{repo}/blobs/{missing}")).await.status,
        404
    );
    let r = c.get(&format!("/v2/{repo}/blobs/sha256:nothex")).await;
    assert_eq!(r.oci_code(), "DIGEST_INVALID");
    // Blobs belong to a repository: the same digest is unknown in another one.
    let r = c
        .send(
            Method::GET,
            &format!("/v2/demo-project/docker/app/blobs/{d}"),
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = c.delete(&path).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.oci_code(), "UNSUPPORTED");
}

#[tokio::test]
async fn manifests_by_tag_and_digest_and_deletes() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/team/app";
    let (bytes, digest) = c.push_image(repo, "v1", &[b"layer one"]).await;
    for reference in ["v1", digest.as_str()] {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let r = c.get(&path).await;
        assert_eq!(r.status, 200);
        assert_eq!(&r.body[..], &bytes[..]);
        assert_eq!(r.header("content-type"), Some(OCI_MANIFEST));
        let h = c.head(&path).await;
        assert_eq!(h.status, 200);
        assert_eq!(h.header("content-length").unwrap(), bytes.len().to_string());
        assert_eq!(h.header("docker-content-digest"), Some(digest.as_str()));
        assert!(h.body.is_empty());
    }
    // PUT by digest: the digest must match.
    let r = c.put_manifest(repo, &digest, OCI_MANIFEST, &bytes).await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/{repo}/manifests/{digest}")
    );
    let wrong = sha256(b"x");
    let r = c.put_manifest(repo, &wrong, OCI_MANIFEST, &bytes).await;
    assert_eq!(r.oci_code(), "DIGEST_INVALID");
    // Delete the tag: the manifest stays.
    c.put_manifest(repo, "v2", OCI_MANIFEST, &bytes).await;
    assert_eq!(
        c.delete(&format!("/v2/{repo}/manifests/v2")).await.status,
        202
    );
    assert_eq!(
        c.get(&format!("/v2/{repo}/manifests/v2")).await.oci_code(),
        "MANIFEST_UNKNOWN"
    );
    assert_eq!(
        c.get(&format!("/v2/{repo}/manifests/{digest}"))
            .await
            .status,
        200
    );
    // Delete by digest: the manifest and its tags go.
    assert_eq!(
        c.delete(&format!("/v2/{repo}/manifests/{digest}"))
            .await
            .status,
        202
    );
    assert_eq!(c.get(&format!("/v2/{repo}/manifests/v1")).await.status, 404);
    let r = c.get(&format!("/v2/{repo}/manifests/{digest}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.oci_code(), "MANIFEST_UNKNOWN");
    assert_eq!(
        c.delete(&format!("/v2/{repo}/manifests/{digest}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn manifests_are_validated() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/app";
    let config = c.push_blob(repo, b"{}").await;
    let missing = sha256(b"missing layer");
    let m = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": missing, "size": 5}]});
    let r = c
        .put_manifest(repo, "bad", OCI_MANIFEST, m.to_string().as_bytes())
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.oci_code(), "MANIFEST_BLOB_UNKNOWN");
    assert_eq!(r.json()["errors"][0]["detail"]["digest"], json!(missing));
    let r = c
        .put_manifest(repo, "bad", OCI_MANIFEST, b"{not json")
        .await;
    assert_eq!(r.oci_code(), "MANIFEST_INVALID");
    let r = c
        .put_manifest(
            repo,
            "bad",
            "application/x-custom",
            br#"{"schemaVersion":2}"#,
        )
        .await;
    assert_eq!(r.oci_code(), "MANIFEST_INVALID");
    let v1 = json!({"schemaVersion": 1, "name": "app", "tag": "x", "fsLayers": []});
    let r = c
        .put_manifest(
            repo,
            "old",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            v1.to_string().as_bytes(),
        )
        .await;
    assert_eq!(r.oci_code(), "MANIFEST_INVALID");
    // An index whose child is absent.
    let idx = json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": missing, "size": 10}]});
    let r = c
        .put_manifest(repo, "idx", OCI_INDEX, idx.to_string().as_bytes())
        .await;
    assert_eq!(r.oci_code(), "MANIFEST_BLOB_UNKNOWN");
    // Larger than 4 MiB.
    let big = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "x", "digest": config, "size": 2}, "layers": [],
        "annotations": {"pad": "x".repeat(4 * 1024 * 1024)}});
    let r = c
        .put_manifest(repo, "big", OCI_MANIFEST, big.to_string().as_bytes())
        .await;
    assert_eq!(r.status, 413);
    // Bad tag.
    let ok = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "x", "digest": config, "size": 2}, "layers": []});
    let r = c
        .put_manifest(repo, "-bad-tag", OCI_MANIFEST, ok.to_string().as_bytes())
        .await;
    assert_eq!(r.oci_code(), "TAG_INVALID");
    // A Docker manifest list referencing a pushed manifest works.
    let r = c
        .put_manifest(repo, "child", OCI_MANIFEST, ok.to_string().as_bytes())
        .await;
    assert_eq!(r.status, 201);
    let child = sha256(ok.to_string().as_bytes());
    let list = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": ok.to_string().len(),
                       "platform": {"architecture": "arm64", "os": "linux"}}]});
    let r = c
        .put_manifest(
            repo,
            "multi",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            list.to_string().as_bytes(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn names_and_repositories_are_checked() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c.get("/v2/demo-project/nosuchrepo/app/tags/list").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.oci_code(), "NAME_UNKNOWN");
    let r = c.get("/v2/demo-project/docker/App/tags/list").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.oci_code(), "NAME_INVALID");
    let r = c.get("/v2/demo-project/docker/tags/list").await;
    assert_eq!(r.oci_code(), "NAME_INVALID", "an image path is required");
    let r = c.get("/v2/demo-project/maven/app/tags/list").await;
    assert_eq!(
        r.oci_code(),
        "NAME_UNKNOWN",
        "a maven repository is not a docker one"
    );
    let r = c
        .get("/v2/demo-project/docker/nothing-here/tags/list")
        .await;
    assert_eq!(r.oci_code(), "NAME_UNKNOWN");
}

#[tokio::test]
async fn tags_list_pages_with_link_and_carries_the_manifest_map() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/paged";
    let (bytes, digest) = c.push_image(repo, "a", &[b"l"]).await;
    for t in ["b", "c", "d", "e"] {
        assert_eq!(
            c.put_manifest(repo, t, OCI_MANIFEST, &bytes).await.status,
            201
        );
    }
    c.push_image("demo-project/docker/paged/sub", "x", &[b"m"])
        .await;
    let r = c.get(&format!("/v2/{repo}/tags/list?n=2")).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["name"], json!(repo));
    assert_eq!(v["tags"], json!(["a", "b"]));
    assert_eq!(v["child"], json!(["sub"]));
    let entry = &v["manifest"][digest.as_str()];
    assert_eq!(entry["mediaType"], json!(OCI_MANIFEST));
    assert_eq!(entry["tag"], json!(["a", "b", "c", "d", "e"]));
    assert!(
        entry["imageSizeBytes"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > bytes.len() as u64
    );
    assert!(
        entry["timeUploadedMs"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    let link = r.header("link").unwrap().to_owned();
    assert_eq!(
        link,
        format!("</v2/{repo}/tags/list?n=2&last=b>; rel=\"next\"")
    );
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let r = c.get(next).await;
    assert_eq!(r.json()["tags"], json!(["c", "d"]));
    let r = c.get(&format!("/v2/{repo}/tags/list?n=2&last=d")).await;
    assert_eq!(r.json()["tags"], json!(["e"]));
    assert!(r.header("link").is_none());
    let r = c.get(&format!("/v2/{repo}/tags/list")).await;
    assert_eq!(r.json()["tags"].as_array().unwrap().len(), 5);
    assert!(r.header("link").is_none());
}

#[tokio::test]
async fn cross_repository_mount() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let d = c
        .push_blob("demo-project/docker/src", b"shared layer")
        .await;
    let r = c
        .send(
            Method::POST,
            &format!(
                "/v2/demo-project/docker/dst/blobs/uploads/?mount={d}&from=demo-project/docker/src"
            ),
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/demo-project/docker/dst/blobs/{d}")
    );
    assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
    // Unknown source blob: falls back to an upload session.
    let other = sha256(b"not there");
    let r = c
        .send(
            Method::POST,
            &format!("/v2/demo-project/docker/dst/blobs/uploads/?mount={other}&from=demo-project/docker/src"),
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(r.header("location").unwrap().contains("/blobs/uploads/"));
}

#[tokio::test]
async fn referrers_and_oci_subject() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/signed";
    let (subject_bytes, subject) = c.push_image(repo, "v1", &[b"payload"]).await;
    let empty = c.push_blob(repo, b"{}").await;
    let sig = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": subject_bytes.len()},
        "annotations": {"org.example.kind": "sig"}});
    let sig_bytes = sig.to_string();
    let r = c
        .put_manifest(
            repo,
            &sha256(sig_bytes.as_bytes()),
            OCI_MANIFEST,
            sig_bytes.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("oci-subject"), Some(subject.as_str()));
    let sbom = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.example.sbom", "digest": empty, "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": subject_bytes.len()}});
    let sbom_bytes = sbom.to_string();
    c.put_manifest(
        repo,
        &sha256(sbom_bytes.as_bytes()),
        OCI_MANIFEST,
        sbom_bytes.as_bytes(),
    )
    .await;
    let r = c.get(&format!("/v2/{repo}/referrers/{subject}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(OCI_INDEX));
    let v = r.json();
    let list = v["manifests"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let types: Vec<&str> = list
        .iter()
        .map(|d| d["artifactType"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"application/vnd.example.signature"));
    assert!(
        types.contains(&"application/vnd.example.sbom"),
        "config media type is the artifact type"
    );
    let r = c
        .get(&format!(
            "/v2/{repo}/referrers/{subject}?artifactType=application/vnd.example.signature"
        ))
        .await;
    assert_eq!(r.header("oci-filters-applied"), Some("artifactType"));
    let v = r.json();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["manifests"][0]["digest"],
        json!(sha256(sig_bytes.as_bytes()))
    );
    assert_eq!(
        v["manifests"][0]["annotations"]["org.example.kind"],
        json!("sig")
    );
    let r = c
        .get(&format!(
            "/v2/{repo}/referrers/{}",
            sha256(b"nothing refers")
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["manifests"], json!([]));
    let r = c.get(&format!("/v2/{repo}/referrers/sha256:zz")).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn gar_quirks_refuse_chunked_uploads_but_take_streamed_ones() {
    let emu = Emulator::builder().gar_quirks(true).start().await.unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let repo = "demo-project/docker/app";
    let r = c
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            full(Bytes::new()),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let r = c
        .send(
            Method::PATCH,
            &loc,
            &[("content-range", "0-3"), ("content-length", "4")],
            full(b"abcd".to_vec()),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.oci_code(), "UNSUPPORTED");
    // One streamed PATCH then an empty PUT works; a second PATCH is a chunk.
    let r = c
        .send(Method::PATCH, &loc, &[], full(b"abcd".to_vec()))
        .await;
    assert_eq!(r.status, 202);
    let r = c
        .send(Method::PATCH, &loc, &[], full(b"efgh".to_vec()))
        .await;
    assert_eq!(r.oci_code(), "UNSUPPORTED");
    let r = c
        .send(
            Method::PUT,
            &format!("{loc}?digest={}", sha256(b"abcd")),
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 201);
    // Monolithic POST+PUT still works.
    c.push_blob(repo, b"monolithic").await;
}

#[tokio::test]
async fn http2_cleartext_serves_the_same_api() {
    let emu = demo().await;
    let c = Client::h2(emu.url()).bearer(DEMO_TOKEN);
    let r = c
        .send_raw(
            Method::GET,
            "/v2/demo-project/docker/hello/tags/list",
            &[],
            full(Bytes::new()),
        )
        .await
        .unwrap();
    assert_eq!(r.version(), http::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    let d = c.push_blob("demo-project/docker/h2", b"over h2c").await;
    assert_eq!(
        c.get(&format!("/v2/demo-project/docker/h2/blobs/{d}"))
            .await
            .body,
        Bytes::from_static(b"over h2c")
    );
}

#[tokio::test]
async fn grpc_and_rest_have_their_entry_points() {
    let emu = demo().await;
    let c = Client::h2(emu.url());
    let r = c
        .send_raw(
            Method::POST,
            "/grafeas.v1.Grafeas/ListOccurrences",
            &[("content-type", "application/grpc"), ("te", "trailers")],
            full(Bytes::from_static(&[0, 0, 0, 0, 0])),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Grafeas answers (and wants credentials); the analysis tests cover the rest.
    assert_eq!(r.headers()["grpc-status"], "16");
    let r = Client::new(emu.url())
        .get("/v1/projects/demo-project/locations/us-central1/repositories")
        .await;
    assert_eq!(r.status, 401, "the REST surface wants credentials");
    assert_eq!(r.json()["error"]["status"], json!("UNAUTHENTICATED"));
}

#[tokio::test]
async fn the_host_header_selects_the_location() {
    let mut seed = Seed::demo();
    seed.repositories.push(gar_emulator::seed::SeedRepository {
        name: "projects/demo-project/locations/europe-west1/repositories/docker".into(),
        format: json!("DOCKER"),
        ..Default::default()
    });
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let eu = [("host", "europe-west1-docker.pkg.dev")];
    let us = [("host", "us-central1-docker.pkg.dev")];
    let list = "/v2/demo-project/docker/hello/tags/list";
    let r = c.send(Method::GET, list, &eu, full(Bytes::new())).await;
    assert_eq!(r.status, 404, "the seeded image lives in us-central1");
    let r = c.send(Method::GET, list, &us, full(Bytes::new())).await;
    assert_eq!(r.status, 200);
    // X-Forwarded-Host names the location the same way (gar's emulator mode),
    // and the request log and fault rules see it.
    let fwd = [("x-forwarded-host", "europe-west1-docker.pkg.dev")];
    let r = c.send(Method::GET, list, &fwd, full(Bytes::new())).await;
    assert_eq!(r.status, 404, "forwarded to europe-west1");
    let logged = emu.requests();
    let last = logged.last().unwrap();
    assert_eq!(last.location.as_deref(), Some("europe-west1"));
    let r = c.get(list).await;
    assert_eq!(
        r.status, 200,
        "without a location host, the location holding the image"
    );
    // A new image without a location host goes to the first location by name.
    c.push_image("demo-project/docker/fresh", "v1", &[b"eu"])
        .await;
    let r = c
        .send(
            Method::GET,
            "/v2/demo-project/docker/fresh/tags/list",
            &eu,
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = Client::new(emu.url())
        .send(Method::GET, list, &eu, full(Bytes::new()))
        .await;
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("realm=\"http://europe-west1-docker.pkg.dev/v2/token\"")
    );
}
