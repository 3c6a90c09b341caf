//! Fault injection: each effect, matchers, counts, seeded probabilities, the
//! admin endpoints and the request log.

use std::time::Instant;

use bytes::Bytes;
use gar_emulator::{Emulator, FaultRule};
use http::Method;
use http_body_util::BodyExt;
use serde_json::json;

use crate::common::*;

const BLOB_PATH: &str = "/v2/demo-project/docker/hello/manifests/latest";

#[tokio::test]
async fn status_with_retry_after_for_the_first_n_matches() {
    let emu = Emulator::builder()
        .fault(
            FaultRule::status(429)
                .operation("oci.manifest.get")
                .retry_after(7)
                .times(2),
        )
        .start()
        .await
        .unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    for _ in 0..2 {
        let r = c.get(BLOB_PATH).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.oci_code(), "TOOMANYREQUESTS");
    }
    assert_eq!(c.get(BLOB_PATH).await.status, 200);
    // Other operations were never affected.
    assert_eq!(
        c.get("/v2/demo-project/docker/hello/tags/list")
            .await
            .status,
        200
    );
    let rules = emu.faults();
    assert_eq!(rules[0].fired, 2);
    // Non-OCI surfaces answer with their own error shape.
    emu.add_fault(FaultRule::status(503).operation("oauth.token"))
        .unwrap();
    let r = Client::new(emu.url())
        .post_form("/token", "grant_type=refresh_token")
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"]["status"], json!("UNAVAILABLE"));
}

#[tokio::test]
async fn delay_then_normal_answer() {
    let emu = Emulator::builder()
        .fault(FaultRule::delay_ms(150).path("/v2/"))
        .start()
        .await
        .unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let started = Instant::now();
    assert_eq!(c.get("/v2/").await.status, 200);
    assert!(
        started.elapsed().as_millis() >= 150,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        c.get("/v2/demo-project/docker/hello/tags/list")
            .await
            .status,
        200
    );
    let log = emu.requests();
    assert!(log[0].fault.is_some() && log[0].path == "/v2/");
    assert!(log[0].duration_ms >= 150);
    assert_eq!(log[1].fault, None, "the path pattern limits the delay");
}

#[tokio::test]
async fn reset_drops_the_connection() {
    let emu = Emulator::builder()
        .fault(
            FaultRule::reset()
                .method("GET")
                .path("/v2/*/manifests/*")
                .times(1),
        )
        .start()
        .await
        .unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c
        .send_raw(Method::GET, BLOB_PATH, &[], full(Bytes::new()))
        .await;
    assert!(r.is_err(), "the connection must be dropped: {r:?}");
    assert_eq!(c.get(BLOB_PATH).await.status, 200);
    let log = emu.requests();
    let dropped = log.iter().find(|r| r.fault.is_some()).unwrap();
    assert_eq!(dropped.status, None);
    assert_eq!(dropped.operation, "oci.manifest.get");
}

#[tokio::test]
async fn truncated_and_corrupted_bodies() {
    let emu = demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let data = vec![42u8; 100_000];
    let digest = c.push_blob("demo-project/docker/app", &data).await;
    let path = format!("/v2/demo-project/docker/app/blobs/{digest}");
    emu.add_fault(
        FaultRule::truncate_after(1000)
            .operation("oci.blob.get")
            .times(1),
    )
    .unwrap();
    let r = c
        .send_raw(Method::GET, &path, &[], full(Bytes::new()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "100000");
    let body = r.into_body().collect().await;
    assert!(body.is_err(), "a truncated body must end in an error");

    emu.add_fault(FaultRule::corrupt().operation("oci.blob.get").times(1))
        .unwrap();
    let r = c.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), data.len(), "corruption keeps the length");
    assert_ne!(
        sha256(&r.body),
        digest,
        "the client's digest check must catch it"
    );
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    // Then the blob is served intact again.
    assert_eq!(sha256(&c.get(&path).await.body), digest);
}

async fn statuses(seed: u64) -> Vec<u16> {
    let emu = Emulator::builder()
        .fault_seed(seed)
        .fault(
            FaultRule::status(503)
                .operation("oci.ping")
                .probability(0.5),
        )
        .start()
        .await
        .unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let mut out = Vec::new();
    for _ in 0..24 {
        out.push(c.get("/v2/").await.status);
    }
    out
}

#[tokio::test]
async fn probabilities_are_repeatable_for_a_seed() {
    let a = statuses(42).await;
    assert_eq!(a, statuses(42).await);
    assert_ne!(a, statuses(7).await);
    let failures = a.iter().filter(|s| **s == 503).count();
    assert!((4..=20).contains(&failures), "{a:?}");
    assert!(a.iter().all(|s| *s == 503 || *s == 200));
}

#[tokio::test]
async fn admin_endpoints_manage_rules_and_show_the_request_log() {
    let emu = demo().await;
    let admin = Client::new(emu.url());
    let r = admin
        .post_json(
            "/_emulator/faults",
            &json!({"seed": 1, "rules": [
                {"operation": "oci.blob.*", "status": 500},
                {"operation": "oci.tags.list", "status": 503, "retryAfter": 2, "times": 1}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let ids = r.json()["ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2);
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c.get("/v2/demo-project/docker/hello/tags/list").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("2"));
    let r = admin.get("/_emulator/faults").await;
    let rules = r.json()["rules"].as_array().unwrap().clone();
    assert_eq!(rules[1]["fired"], json!(1));
    let first = ids[0].as_str().unwrap();
    assert_eq!(
        admin
            .delete(&format!("/_emulator/faults/{first}"))
            .await
            .status,
        200
    );
    assert_eq!(
        admin
            .delete(&format!("/_emulator/faults/{first}"))
            .await
            .status,
        404
    );
    let r = admin
        .post_json("/_emulator/faults", &json!({"status": 503, "reset": true}))
        .await;
    assert_eq!(r.status, 400, "two effects in one rule");
    let r = admin
        .post_json("/_emulator/faults", &json!({"operation": "x"}))
        .await;
    assert_eq!(r.status, 400, "no effect");
    assert_eq!(admin.delete("/_emulator/faults").await.status, 200);
    assert_eq!(
        admin.get("/_emulator/faults").await.json()["rules"],
        json!([])
    );

    let r = admin.get("/_emulator/requests?operation=oci.tags.*").await;
    let log = r.json()["requests"].as_array().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], json!(503));
    assert_eq!(log[0]["method"], json!("GET"));
    assert_eq!(log[0]["authorization"], json!("Bearer"));
    assert_eq!(log[0]["fault"], json!(ids[1]));
    assert_eq!(admin.delete("/_emulator/requests").await.status, 200);
    assert_eq!(
        admin.get("/_emulator/requests").await.json()["requests"],
        json!([])
    );
    assert_eq!(
        admin.get("/_emulator/health").await.json()["status"],
        json!("ok")
    );
}
