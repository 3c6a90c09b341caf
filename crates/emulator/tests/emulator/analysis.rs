//! Container Analysis and Grafeas, over gRPC (raw HTTP/2 frames, prost bodies)
//! and REST: seeded and created occurrences and notes, filters, pages, the
//! summary, the scan a push starts, SBOM referrers, credentials, faults, restarts.

use std::collections::BTreeSet;

use bytes::BufMut;
use gar_emulator::seed::{PACKAGES_LABEL, SeedAnalysis};
use gar_emulator::{Emulator, EmulatorHandle, FaultRule, Seed};
use gar_proto::google::devtools::containeranalysis::v1::{
    GetVulnerabilityOccurrencesSummaryRequest, VulnerabilityOccurrencesSummary,
};
use gar_proto::grafeas::v1::{
    CreateNoteRequest, GetNoteRequest, GetOccurrenceNoteRequest, GetOccurrenceRequest,
    ListNotesRequest, ListNotesResponse, ListOccurrencesRequest, ListOccurrencesResponse, Note,
    NoteKind, Occurrence,
};
use http::Method;
use http_body_util::BodyExt;
use prost::Message;
use serde_json::{Value, json};

use crate::common::*;
use crate::process::temp_dir;

const REPO: &str = "demo-project/docker";
const URI_BASE: &str = "https://us-central1-docker.pkg.dev/demo-project/docker";
const APP_A: &str = "https://us-central1-docker.pkg.dev/demo-project/docker/a@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const APP_B: &str = "https://us-central1-docker.pkg.dev/demo-project/docker/b@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn vuln(uri: &str, cve: &str, severity: &str, effective: &str, fixed: Option<&str>) -> Value {
    json!({
        "resourceUri": uri,
        "noteName": format!("projects/goog-vulnz/notes/{cve}"),
        "kind": "VULNERABILITY",
        "vulnerability": {
            "severity": severity,
            "effectiveSeverity": effective,
            "cvssScore": 7.5,
            "fixAvailable": fixed.is_some(),
            "packageIssue": [{
                "affectedPackage": "openssl",
                "affectedVersion": {"name": "3.0.1", "kind": "NORMAL"},
                "fixedVersion": match fixed {
                    Some(f) => json!({"name": f, "kind": "NORMAL"}),
                    None => json!({"kind": "MAXIMUM"}),
                },
                "fixAvailable": fixed.is_some(),
            }],
        },
    })
}

fn note(cve: &str) -> Value {
    json!({
        "name": format!("projects/goog-vulnz/notes/{cve}"),
        "kind": "VULNERABILITY",
        "vulnerability": {"severity": "MEDIUM", "cvssScore": 5.0},
    })
}

/// The demo seed, a 60 s scan delay, 12 vulnerabilities on image a, 3 on image b,
/// a finished discovery of a (written with the `COMPLETE` alias) and a BUILD note.
fn seed() -> Seed {
    let mut seed = Seed::demo();
    let mut analysis = SeedAnalysis::demo();
    analysis.scan_delay_seconds = Some(60);
    let severities = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];
    for i in 0..12 {
        let sev = severities[i % 4];
        let fixed = (i % 3 == 0).then_some("3.0.8");
        let cve = format!("CVE-2024-{i:04}");
        analysis
            .occurrences
            .push(vuln(APP_A, &cve, "MEDIUM", sev, fixed));
        analysis.notes.push(note(&cve));
    }
    for i in 0..3 {
        let cve = format!("CVE-2024-9{i:03}");
        analysis
            .occurrences
            .push(vuln(APP_B, &cve, "HIGH", "", None));
        analysis.notes.push(note(&cve));
    }
    analysis.occurrences.push(json!({
        "resourceUri": APP_A,
        "noteName": "projects/goog-analysis/notes/PACKAGE_VULNERABILITY",
        "discovery": {"analysisStatus": "COMPLETE", "continuousAnalysis": "ACTIVE"},
    }));
    analysis.notes.push(json!({
        "name": "projects/demo-project/notes/build-policy",
        "kind": "BUILD",
        "shortDescription": "built by CI",
    }));
    seed.analysis = Some(analysis);
    seed
}

async fn start(seed: Seed) -> EmulatorHandle {
    Emulator::builder().seed(seed).start().await.unwrap()
}

/// A gRPC answer: the message, or the status code and message.
async fn grpc<Req: Message, Resp: Message + Default>(
    c: &Client,
    path: &str,
    request: &Req,
) -> Result<Resp, (u32, String)> {
    let encoded = request.encode_to_vec();
    let mut framed = Vec::with_capacity(encoded.len() + 5);
    framed.put_u8(0);
    framed.put_u32(encoded.len() as u32);
    framed.extend_from_slice(&encoded);
    let r = c
        .send_raw(
            Method::POST,
            path,
            &[("content-type", "application/grpc"), ("te", "trailers")],
            full(framed),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let head = r.headers().clone();
    let collected = r.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let body = collected.to_bytes();
    let status = |h: &http::HeaderMap| {
        h.get("grpc-status")
            .map(|v| v.to_str().unwrap().parse::<u32>().unwrap())
    };
    let code = status(&head).or_else(|| status(&trailers)).unwrap();
    if code != 0 {
        let message = head
            .get("grpc-message")
            .or_else(|| trailers.get("grpc-message"))
            .map(|v| percent_decode(v.to_str().unwrap()))
            .unwrap_or_default();
        return Err((code, message));
    }
    assert_eq!(body[0], 0, "uncompressed");
    Ok(Resp::decode(&body[5..]).unwrap())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

const LIST_OCCURRENCES: &str = "/grafeas.v1.Grafeas/ListOccurrences";
const SUMMARY: &str =
    "/google.devtools.containeranalysis.v1.ContainerAnalysis/GetVulnerabilityOccurrencesSummary";

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every occurrence name of a REST listing, following page tokens; also the page count.
async fn rest_names(c: &Client, filter: &str, page_size: u32) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let r = c
            .get(&format!(
                "/v1/projects/demo-project/occurrences?filter={}&pageSize={page_size}&pageToken={}",
                enc(filter),
                enc(&token)
            ))
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        pages += 1;
        let v = r.json();
        for o in v["occurrences"].as_array().into_iter().flatten() {
            names.push(o["name"].as_str().unwrap().to_owned());
        }
        match v["nextPageToken"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_owned(),
            _ => break,
        }
    }
    (names, pages)
}

async fn grpc_names(c: &Client, filter: &str, page_size: i32) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let r: ListOccurrencesResponse = grpc(
            c,
            LIST_OCCURRENCES,
            &ListOccurrencesRequest {
                parent: "projects/demo-project".into(),
                filter: filter.into(),
                page_size,
                page_token,
            },
        )
        .await
        .unwrap();
        pages += 1;
        names.extend(r.occurrences.into_iter().map(|o| o.name));
        if r.next_page_token.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    (names, pages)
}

#[tokio::test]
async fn both_forms_list_filter_page_and_get_the_same_data() {
    let emu = start(seed()).await;
    let rest = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let h2 = Client::h2(emu.url()).bearer(DEMO_TOKEN);

    let (all, pages) = rest_names(&rest, "", 5).await;
    assert_eq!((all.len(), pages), (16, 4));
    let (all_grpc, pages) = grpc_names(&h2, "", 5).await;
    assert_eq!(all_grpc, all, "the same order and pages");
    assert_eq!(pages, 4);
    // Default page size: 20.
    let (_, pages) = rest_names(&rest, "", 0).await;
    assert_eq!(pages, 1);

    let a_vulns = format!(r#"kind="VULNERABILITY" AND resourceUrl="{APP_A}""#);
    let (a_rest, _) = rest_names(&rest, &a_vulns, 7).await;
    let (a_grpc, pages) = grpc_names(&h2, &a_vulns, 7).await;
    assert_eq!(a_rest.len(), 12);
    assert_eq!(a_rest, a_grpc);
    assert_eq!(pages, 2);
    let (b, _) = rest_names(&rest, &format!(r#"resourceUrl="{APP_B}""#), 100).await;
    assert_eq!(b.len(), 3);
    let (disc, _) = grpc_names(&h2, r#"kind="DISCOVERY""#, 100).await;
    assert_eq!(disc.len(), 1);
    let (by_note, _) = rest_names(&rest, r#"noteId="CVE-2024-0003""#, 100).await;
    assert_eq!(by_note.len(), 1);

    // Get, by REST and gRPC, and the occurrence's note.
    let name = &a_rest[0];
    let r = rest.get(&format!("/v1/{name}")).await;
    assert_eq!(r.status, 200);
    let occ = r.json();
    assert_eq!(occ["name"], json!(name));
    assert_eq!(occ["kind"], json!("VULNERABILITY"));
    let got: Occurrence = grpc(
        &h2,
        "/grafeas.v1.Grafeas/GetOccurrence",
        &GetOccurrenceRequest { name: name.clone() },
    )
    .await
    .unwrap();
    assert_eq!(got.resource_uri, APP_A);
    assert_eq!(got.note_name, occ["noteName"].as_str().unwrap());
    let note: Note = grpc(
        &h2,
        "/grafeas.v1.Grafeas/GetOccurrenceNote",
        &GetOccurrenceNoteRequest { name: name.clone() },
    )
    .await
    .unwrap();
    assert_eq!(note.name, got.note_name);
    let r = rest.get(&format!("/v1/{name}/notes")).await;
    assert_eq!(r.json()["name"], json!(note.name));
    // The discovery was seeded as COMPLETE and reads as FINISHED_SUCCESS.
    let d = rest.get(&format!("/v1/{}", disc[0])).await.json();
    assert_eq!(d["discovery"]["analysisStatus"], json!("FINISHED_SUCCESS"));
    // Enums as numbers on request.
    let d = rest
        .get(&format!("/v1/{}?$alt=json;enum-encoding=int", disc[0]))
        .await
        .json();
    assert_eq!(d["discovery"]["analysisStatus"], json!(3));
    assert_eq!(d["kind"], json!(6));

    // Notes: the provider's vulnerability notes, paged; the project's own note.
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let r: ListNotesResponse = grpc(
            &h2,
            "/grafeas.v1.Grafeas/ListNotes",
            &ListNotesRequest {
                parent: "projects/goog-vulnz".into(),
                page_size: 2,
                page_token,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        names.extend(r.notes.into_iter().map(|n| n.name));
        if r.next_page_token.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    assert_eq!(
        names.len(),
        20,
        "5 demo rules and 15 seeded notes: {names:?}"
    );
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "in name order, no repeats"
    );
    let r = rest
        .get("/v1/projects/goog-vulnz/notes?pageSize=3&filter=kind%3D%22VULNERABILITY%22")
        .await
        .json();
    assert_eq!(r["notes"].as_array().unwrap().len(), 3);
    assert!(!r["nextPageToken"].as_str().unwrap().is_empty());
    let r = rest
        .get("/v1/projects/demo-project/locations/us-central1/notes/build-policy")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["kind"], json!("BUILD"));
    let n: Note = grpc(
        &h2,
        "/grafeas.v1.Grafeas/GetNote",
        &GetNoteRequest {
            name: "projects/goog-vulnz/notes/CVE-2023-0286".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(n.kind, NoteKind::Vulnerability as i32);
}

/// (severity, fixable, total) rows of one resource.
fn rows(summary: &Value, uri: &str) -> BTreeSet<(String, i64, i64)> {
    summary["counts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["resourceUri"] == json!(uri))
        .map(|r| {
            (
                // ProtoJSON leaves out default values: SEVERITY_UNSPECIFIED, "0".
                r["severity"]
                    .as_str()
                    .unwrap_or("SEVERITY_UNSPECIFIED")
                    .to_owned(),
                r["fixableCount"].as_str().unwrap_or("0").parse().unwrap(),
                r["totalCount"].as_str().unwrap_or("0").parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_summary_counts_what_the_listing_holds() {
    let emu = start(seed()).await;
    let rest = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let s = rest
        .get("/v1/projects/demo-project/occurrences:vulnerabilitySummary")
        .await
        .json();
    // Image a: effective severities cycle CRITICAL, HIGH, MEDIUM, LOW; every third is fixable.
    let expect_a: BTreeSet<(String, i64, i64)> = [
        ("CRITICAL", 1, 3),
        ("HIGH", 1, 3),
        ("MEDIUM", 1, 3),
        ("LOW", 1, 3),
        ("SEVERITY_UNSPECIFIED", 4, 12),
    ]
    .into_iter()
    .map(|(s, f, t)| (s.to_owned(), f, t))
    .collect();
    assert_eq!(rows(&s, APP_A), expect_a);
    // Image b has no effective severity: its severity counts.
    let expect_b: BTreeSet<(String, i64, i64)> = [("HIGH", 0, 3), ("SEVERITY_UNSPECIFIED", 0, 3)]
        .into_iter()
        .map(|(s, f, t)| (s.to_owned(), f, t))
        .collect();
    assert_eq!(rows(&s, APP_B), expect_b);
    // The filter narrows it to one image; gRPC agrees.
    let filtered = rest
        .get(&format!(
            "/v1/projects/demo-project/occurrences:vulnerabilitySummary?filter={}",
            enc(&format!(r#"resourceUrl="{APP_B}""#))
        ))
        .await
        .json();
    assert_eq!(filtered["counts"].as_array().unwrap().len(), 2);
    let h2 = Client::h2(emu.url()).bearer(DEMO_TOKEN);
    let g: VulnerabilityOccurrencesSummary = grpc(
        &h2,
        SUMMARY,
        &GetVulnerabilityOccurrencesSummaryRequest {
            parent: "projects/demo-project".into(),
            filter: format!(r#"resourceUrl="{APP_A}""#),
        },
    )
    .await
    .unwrap();
    let total = g.counts.iter().find(|r| r.severity == 0).unwrap();
    assert_eq!((total.fixable_count, total.total_count), (4, 12));
    assert_eq!(g.counts.len(), 5);
}

/// Pushes an image whose config lists `packages`; returns its digest.
async fn push_labelled(c: &Client, image: &str, tag: &str, packages: &str) -> (String, usize) {
    let repo = format!("{REPO}/{image}");
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {PACKAGES_LABEL: packages}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }))
    .unwrap();
    let config_digest = c.push_blob(&repo, &config).await;
    let layer = format!("layer of {image}:{tag}").into_bytes();
    let layer_digest = c.push_blob(&repo, &layer).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap();
    let r = c.put_manifest(&repo, tag, OCI_MANIFEST, &manifest).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    (sha256(&manifest), manifest.len())
}

/// Attaches an SPDX SBOM listing `packages` to `image@subject`.
async fn attach_sbom(c: &Client, image: &str, subject: &str, subject_size: usize, packages: Value) {
    let repo = format!("{REPO}/{image}");
    let sbom =
        serde_json::to_vec(&json!({"spdxVersion": "SPDX-2.3", "packages": packages})).unwrap();
    let sbom_digest = c.push_blob(&repo, &sbom).await;
    let empty_digest = c.push_blob(&repo, b"{}").await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest, "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": sbom_digest, "size": sbom.len()}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": subject_size},
    }))
    .unwrap();
    let r = c
        .put_manifest(&repo, &sha256(&manifest), OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

async fn occurrences_of(c: &Client, uri: &str) -> Vec<Value> {
    let r = c
        .get(&format!(
            "/v1/projects/demo-project/occurrences?pageSize=1000&filter={}",
            enc(&format!(r#"resourceUrl="{uri}""#))
        ))
        .await;
    assert_eq!(r.status, 200);
    r.json()["occurrences"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn of_kind<'a>(occurrences: &'a [Value], kind: &str) -> Vec<&'a Value> {
    occurrences
        .iter()
        .filter(|o| o["kind"] == json!(kind))
        .collect()
}

async fn advance(emu: &EmulatorHandle, secs: i64) {
    let r = Client::new(emu.url())
        .post_json("/_emulator/clock", &json!({"advanceSeconds": secs}))
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_push_starts_a_scan_that_finishes_on_the_emulator_clock() {
    let emu = start(seed()).await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    // openssl, zlib and glibc are affected by the demo rules; curl 8.5.0 is not
    // listed as affected until the SBOM brings curl 7.88.0.
    let (digest, size) = push_labelled(
        &c,
        "web",
        "1.0",
        "openssl=3.0.1, zlib=1.2.13 glibc=2.35 nginx=1.25.0",
    )
    .await;
    let uri = format!("{URI_BASE}/web@{digest}");
    let before = occurrences_of(&c, &uri).await;
    assert_eq!(before.len(), 1);
    let discovery = &before[0];
    assert_eq!(discovery["kind"], json!("DISCOVERY"));
    assert_eq!(discovery["discovery"]["analysisStatus"], json!("PENDING"));
    assert_eq!(
        discovery["noteName"],
        json!("projects/goog-analysis/notes/PACKAGE_VULNERABILITY")
    );
    assert!(
        discovery["name"]
            .as_str()
            .unwrap()
            .starts_with("projects/demo-project/occurrences/")
    );

    advance(&emu, 30).await;
    let still = occurrences_of(&c, &uri).await;
    assert_eq!(still.len(), 1);
    assert_eq!(still[0]["discovery"]["analysisStatus"], json!("PENDING"));

    advance(&emu, 30).await;
    let after = occurrences_of(&c, &uri).await;
    let d = of_kind(&after, "DISCOVERY");
    assert_eq!(
        d[0]["discovery"]["analysisStatus"],
        json!("FINISHED_SUCCESS")
    );
    assert!(d[0]["discovery"]["lastScanTime"].is_string());
    let cves: BTreeSet<&str> = of_kind(&after, "VULNERABILITY")
        .iter()
        .map(|o| o["noteName"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        cves,
        BTreeSet::from(["CVE-2023-0286", "CVE-2023-4911"]),
        "zlib 1.2.13 is fixed, nginx has no rule"
    );
    let openssl = of_kind(&after, "VULNERABILITY")
        .into_iter()
        .find(|o| o["noteName"].as_str().unwrap().ends_with("CVE-2023-0286"))
        .unwrap();
    let issue = &openssl["vulnerability"]["packageIssue"][0];
    assert_eq!(issue["affectedPackage"], json!("openssl"));
    assert_eq!(issue["affectedVersion"]["name"], json!("3.0.1"));
    assert_eq!(issue["fixedVersion"]["name"], json!("3.0.8"));
    assert_eq!(
        openssl["vulnerability"]["effectiveSeverity"],
        json!("CRITICAL")
    );
    assert_eq!(openssl["vulnerability"]["fixAvailable"], json!(true));

    // An SBOM referrer adds its reference and, the scan being done, its findings.
    attach_sbom(
        &c,
        "web",
        &digest,
        size,
        json!([{"name": "curl", "versionInfo": "7.88.0"}, {"name": "busybox", "versionInfo": "1.36.1"}]),
    )
    .await;
    let with_sbom = occurrences_of(&c, &uri).await;
    let refs = of_kind(&with_sbom, "SBOM_REFERENCE");
    assert_eq!(refs.len(), 1);
    let predicate = &refs[0]["sbomReference"]["payload"]["predicate"];
    assert_eq!(predicate["mimeType"], json!("application/spdx+json"));
    assert!(
        predicate["location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{URI_BASE}/web@sha256:"))
    );
    assert_eq!(
        of_kind(&with_sbom, "VULNERABILITY").len(),
        4,
        "curl and busybox added"
    );
    // The SBOM artifact itself is not scanned.
    let all = rest_names(&c, r#"kind="DISCOVERY""#, 1000).await.0;
    assert_eq!(all.len(), 2, "the seeded discovery and web's");

    // A non-image artifact is unsupported at once.
    let repo = format!("{REPO}/chart");
    let cfg = c.push_blob(&repo, b"{\"chart\":1}").await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": cfg, "size": 11},
        "layers": [],
    }))
    .unwrap();
    assert_eq!(
        c.put_manifest(&repo, "0.1.0", OCI_MANIFEST, &manifest)
            .await
            .status,
        201
    );
    let chart = occurrences_of(&c, &format!("{URI_BASE}/chart@{}", sha256(&manifest))).await;
    assert_eq!(chart.len(), 1);
    assert_eq!(
        chart[0]["discovery"]["analysisStatus"],
        json!("FINISHED_UNSUPPORTED")
    );

    // The summary of the pushed image agrees with its occurrences.
    let s = c
        .get(&format!(
            "/v1/projects/demo-project/occurrences:vulnerabilitySummary?filter={}",
            enc(&format!(r#"resourceUrl="{uri}""#))
        ))
        .await
        .json();
    let total = rows(&s, &uri)
        .into_iter()
        .find(|r| r.0 == "SEVERITY_UNSPECIFIED")
        .unwrap();
    assert_eq!((total.1, total.2), (2, 4), "openssl and glibc have fixes");
}

#[tokio::test]
async fn creating_notes_and_occurrences_with_their_checks() {
    let emu = start(seed()).await;
    let rest = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let h2 = Client::h2(emu.url()).bearer(DEMO_TOKEN);
    let note: Note = grpc(
        &h2,
        "/grafeas.v1.Grafeas/CreateNote",
        &CreateNoteRequest {
            parent: "projects/demo-project".into(),
            note_id: "attestor".into(),
            note: Some(Note {
                kind: NoteKind::Attestation as i32,
                short_description: "signed by CI".into(),
                ..Default::default()
            }),
        },
    )
    .await
    .unwrap();
    assert_eq!(note.name, "projects/demo-project/notes/attestor");
    assert!(note.create_time.is_some());
    let again = grpc::<_, Note>(
        &h2,
        "/grafeas.v1.Grafeas/CreateNote",
        &CreateNoteRequest {
            parent: "projects/demo-project".into(),
            note_id: "attestor".into(),
            note: Some(note.clone()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(again.0, 6, "ALREADY_EXISTS");
    let r = rest
        .post_json(
            "/v1/projects/demo-project/notes?noteId=attestor",
            &json!({"kind": "ATTESTATION"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"]["status"], json!("ALREADY_EXISTS"));

    // Create one occurrence (enum as a number), then a batch.
    let r = rest
        .post_json(
            "/v1/projects/demo-project/occurrences",
            &json!({"resourceUri": APP_B, "noteName": "projects/demo-project/notes/attestor", "kind": 7}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    assert_eq!(created["kind"], json!("ATTESTATION"));
    assert!(created["createTime"].is_string());
    let r = rest
        .post_json(
            "/v1/projects/demo-project/occurrences:batchCreate",
            &json!({"occurrences": [
                vuln(APP_B, "CVE-2023-0286", "HIGH", "HIGH", Some("3.0.8")),
                vuln(APP_B, "CVE-2022-37434", "LOW", "LOW", None),
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["occurrences"].as_array().unwrap().len(), 2);
    assert_eq!(occurrences_of(&rest, APP_B).await.len(), 6);
    // The summary sees them.
    let s = rest
        .get("/v1/projects/demo-project/occurrences:vulnerabilitySummary")
        .await
        .json();
    assert!(rows(&s, APP_B).contains(&("SEVERITY_UNSPECIFIED".to_owned(), 1, 5)));

    // Refusals: a missing note, a missing resource, a bad filter, a bad token, a bad name.
    let r = rest
        .post_json(
            "/v1/projects/demo-project/occurrences",
            &json!({"resourceUri": APP_B, "noteName": "projects/demo-project/notes/nope", "kind": "BUILD"}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = rest
        .post_json(
            "/v1/projects/demo-project/occurrences",
            &json!({"noteName": "projects/demo-project/notes/attestor", "kind": "ATTESTATION"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = rest
        .get("/v1/projects/demo-project/occurrences?filter=severity%3D%22HIGH%22")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["status"], json!("INVALID_ARGUMENT"));
    let bad = grpc::<_, ListOccurrencesResponse>(
        &h2,
        LIST_OCCURRENCES,
        &ListOccurrencesRequest {
            parent: "projects/demo-project".into(),
            page_token: "not base64!".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad.0, 3, "INVALID_ARGUMENT");
    let bad = grpc::<_, Occurrence>(
        &h2,
        "/grafeas.v1.Grafeas/GetOccurrence",
        &GetOccurrenceRequest {
            name: "occurrences/x".into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad.0, 3);
    let missing = grpc::<_, Occurrence>(
        &h2,
        "/grafeas.v1.Grafeas/GetOccurrence",
        &GetOccurrenceRequest {
            name: "projects/demo-project/occurrences/nope".into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(missing.0, 5, "NOT_FOUND");
    let r = rest.get("/v1/projects/demo-project/notes/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["status"], json!("NOT_FOUND"));
}

#[tokio::test]
async fn credentials_roles_and_faults() {
    let mut seed = seed();
    seed.projects.push(gar_emulator::seed::SeedProject {
        id: "other-project".into(),
        ..Default::default()
    });
    let emu = start(seed).await;
    let path = "/v1/projects/demo-project/occurrences";

    // No credentials, bad credentials, a registry token.
    let r = Client::new(emu.url()).get(path).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["status"], json!("UNAUTHENTICATED"));
    assert!(r.header("www-authenticate").is_some());
    let r = Client::new(emu.url()).bearer("ya29.bogus").get(path).await;
    assert_eq!(r.status, 401);
    let anon = grpc::<_, ListOccurrencesResponse>(
        &Client::h2(emu.url()),
        LIST_OCCURRENCES,
        &ListOccurrencesRequest {
            parent: "projects/demo-project".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(anon.0, 16, "UNAUTHENTICATED");
    let token = Client::new(emu.url())
        .basic("oauth2accesstoken", DEMO_TOKEN)
        .get(&format!(
            "/v2/token?scope=repository:{REPO}/hello:pull&service=x"
        ))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = Client::new(emu.url()).bearer(&token).get(path).await;
    assert_eq!(r.status, 401, "a registry token is not an OAuth token");

    // A reader reads but cannot write; a project without a role is refused.
    let viewer = Client::new(emu.url()).bearer(VIEWER_TOKEN);
    assert_eq!(viewer.get(path).await.status, 200);
    let r = viewer
        .post_json(
            path,
            &json!({"resourceUri": APP_A, "noteName": "projects/goog-vulnz/notes/CVE-2023-0286", "kind": "VULNERABILITY"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["status"], json!("PERMISSION_DENIED"));
    let denied = grpc::<_, ListOccurrencesResponse>(
        &Client::h2(emu.url()).bearer(VIEWER_TOKEN),
        LIST_OCCURRENCES,
        &ListOccurrencesRequest {
            parent: "projects/other-project".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(denied.0, 7, "PERMISSION_DENIED");
    assert!(
        denied.1.contains("containeranalysis.occurrences.list"),
        "{}",
        denied.1
    );
    // Provider notes are readable by anyone signed in.
    assert_eq!(
        viewer
            .get("/v1/projects/goog-vulnz/notes/CVE-2023-0286")
            .await
            .status,
        200
    );

    // Fault rules apply to both forms.
    emu.add_fault(FaultRule::status(503).operation("grpc").times(1))
        .unwrap();
    let h2 = Client::h2(emu.url()).bearer(DEMO_TOKEN);
    let list = ListOccurrencesRequest {
        parent: "projects/demo-project".into(),
        ..Default::default()
    };
    let e = grpc::<_, ListOccurrencesResponse>(&h2, LIST_OCCURRENCES, &list)
        .await
        .unwrap_err();
    assert_eq!(e.0, 14, "UNAVAILABLE");
    assert!(
        grpc::<_, ListOccurrencesResponse>(&h2, LIST_OCCURRENCES, &list)
            .await
            .is_ok()
    );
    emu.add_fault(FaultRule::status(503).operation("analysis.rest").times(1))
        .unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c.get(path).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"]["status"], json!("UNAVAILABLE"));
    assert_eq!(c.get(path).await.status, 200);
    // Unknown services and methods answer UNIMPLEMENTED / 404.
    let e = grpc::<_, ListOccurrencesResponse>(
        &h2,
        "/google.longrunning.Operations/GetOperation",
        &list,
    )
    .await
    .unwrap_err();
    assert_eq!(e.0, 12);
    let e = grpc::<_, ListOccurrencesResponse>(&h2, "/grafeas.v1.Grafeas/DeleteOccurrence", &list)
        .await
        .unwrap_err();
    assert_eq!(e.0, 12);
    assert_eq!(c.delete(path).await.status, 404);
}

#[tokio::test]
async fn scans_and_created_data_survive_a_restart() {
    let dir = temp_dir("analysis");
    let emu = Emulator::builder()
        .seed(seed())
        .data_dir(&dir)
        .start()
        .await
        .unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let (digest, _) = push_labelled(&c, "kept", "1", "openssl=3.0.1").await;
    let uri = format!("{URI_BASE}/kept@{digest}");
    let r = c
        .post_json(
            "/v1/projects/demo-project/notes?noteId=kept-note",
            &json!({"kind": "BUILD"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let before = occurrences_of(&c, &uri).await;
    emu.shutdown().await;

    let emu = Emulator::builder()
        .seed(seed())
        .data_dir(&dir)
        .start()
        .await
        .unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    assert_eq!(
        occurrences_of(&c, &uri).await,
        before,
        "still pending, same names"
    );
    assert_eq!(
        c.get("/v1/projects/demo-project/notes/kept-note")
            .await
            .status,
        200
    );
    advance(&emu, 60).await;
    let after = occurrences_of(&c, &uri).await;
    assert_eq!(of_kind(&after, "VULNERABILITY").len(), 1);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
