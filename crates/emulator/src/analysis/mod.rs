//! Container Analysis and Grafeas: gRPC on the shared port (routed by content
//! type) and the same calls over REST (`/v1/projects/{p}/occurrences...`,
//! `/v1/projects/{p}/notes...`), over one store of notes, occurrences and scans.
//!
//! - [`ops`]: the calls (checks, authorization by project role, filters on
//!   `kind`, `resourceUrl`, `noteName`, paging, the vulnerability summary).
//! - [`grpc`], [`rest`]: the two wire forms.
//! - [`store`]: the data, lazily finished scans, paging, `analysis.json`.
//! - [`rules`], [`seed`]: what a pushed image holds and what makes it vulnerable.
//!
//! A manifest push ([`manifest_pushed`]) starts a scan of the image: a DISCOVERY
//! occurrence, PENDING until the seed's delay has passed on the emulator's clock,
//! FINISHED_SUCCESS after, when the vulnerability occurrences the rules find in
//! the image's packages (its config's `gar.emulator.packages` label, attached
//! SBOMs) appear. An SBOM pushed as a referrer of an image adds an SBOM_REFERENCE
//! occurrence to it and its packages to the scan. Other artifacts get a
//! FINISHED_UNSUPPORTED discovery; indexes none (their images are scanned).

mod filter;
mod grpc;
mod ops;
mod rest;
mod rules;
pub(crate) mod seed;
mod store;

use gar_core::ids::Digest;
use gar_core::names::RepositoryName;
use gar_proto::grafeas::v1::discovery_occurrence::{AnalysisStatus, ContinuousAnalysis};
use gar_proto::grafeas::v1::occurrence::Details;
use gar_proto::grafeas::v1::{
    DiscoveryOccurrence, NoteKind, Occurrence, SbomReferenceIntotoPayload,
    SbomReferenceIntotoPredicate, SbomReferenceOccurrence, Subject,
};
use http::Request;
use hyper::body::Incoming;
use serde_json::Value;

use crate::router::Ctx;
use crate::state::{ManifestInfo, read};
use crate::wire::Resp;
pub(crate) use store::Analysis;

/// Whether a `/v1/...` path belongs to Container Analysis rather than Artifact
/// Registry: `projects/{p}[/locations/{l}]/{occurrences|notes}...`.
pub(crate) fn is_analysis_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/v1/projects/") else {
        return false;
    };
    let mut parts = rest.split('/').skip(1);
    let next = match parts.next() {
        Some("locations") => parts.nth(1),
        other => other,
    };
    next.is_some_and(|seg| {
        let collection = seg.split(':').next().unwrap_or(seg);
        collection == "occurrences" || collection == "notes"
    })
}

/// Serves one gRPC call.
pub(crate) async fn handle_grpc(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    grpc::handle(ctx, req).await
}

/// Serves one Container Analysis REST call.
pub(crate) async fn handle_rest(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    rest::handle(ctx, req).await
}

/// Image configs larger than this are not read for packages.
const CONFIG_LIMIT: u64 = 1 << 20;
/// SBOMs larger than this are not read.
const SBOM_LIMIT: u64 = 16 << 20;

/// The resource URL Container Analysis gives the image `image@digest` of `repo`.
fn resource_uri(repo: &RepositoryName, image: &str, digest: &Digest) -> String {
    format!(
        "https://{}-docker.pkg.dev/{}/{}/{image}@{digest}",
        repo.location(),
        repo.project(),
        repo.repository()
    )
}

/// Reads a blob as JSON if it is at most `limit` bytes.
async fn blob_json(ctx: &Ctx, digest: &Digest, limit: u64) -> Option<Value> {
    let size = ctx.state.blobs.size(digest).await?;
    if size > limit {
        return None;
    }
    let bytes = ctx.state.blobs.read(digest).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Starts the analysis of a manifest just stored as `image@digest` in `repo`:
/// the hook the OCI surface calls after a successful manifest PUT.
pub(crate) async fn manifest_pushed(
    ctx: &Ctx,
    repo: &RepositoryName,
    image: &str,
    digest: &Digest,
) {
    let info: Option<ManifestInfo> = read(&ctx.state.registry)
        .repository(repo)
        .and_then(|r| r.packages.get(image))
        .and_then(|p| p.versions.get(digest.as_str()))
        .and_then(|v| v.manifest.clone());
    let Some(info) = info else {
        return;
    };
    if !info.children.is_empty() {
        return;
    }
    let project = repo.project().to_string();
    let uri = resource_uri(repo, image, digest);
    let now = ctx.state.clock.unix();
    let artifact_type = info.artifact_type.clone().unwrap_or_default();
    if rules::is_sbom_type(&artifact_type) {
        let Some(subject) = &info.subject else {
            return;
        };
        let mut found = None;
        for layer in info.blobs.iter().skip(1) {
            if let Some(doc) = blob_json(ctx, layer, SBOM_LIMIT).await
                && let Some(parsed) = rules::packages_from_sbom(&doc)
            {
                found = Some((layer.clone(), parsed));
                break;
            }
        }
        let Some((layer, (format, packages))) = found else {
            return;
        };
        let subject_uri = resource_uri(repo, image, subject);
        let reference = Occurrence {
            name: store::new_occurrence_name(&project),
            resource_uri: subject_uri.clone(),
            note_name: store::sbom_note_name(format),
            kind: NoteKind::SbomReference as i32,
            create_time: Some(store::at(now)),
            update_time: Some(store::at(now)),
            details: Some(Details::SbomReference(SbomReferenceOccurrence {
                payload: Some(SbomReferenceIntotoPayload {
                    r#type: "https://in-toto.io/Statement/v0.1".to_owned(),
                    predicate_type: "https://bcid.corp.google.com/reference/v0.1".to_owned(),
                    subject: vec![Subject {
                        name: subject_uri.clone(),
                        digest: [(
                            subject.algorithm().name().to_owned(),
                            subject.hex().to_owned(),
                        )]
                        .into_iter()
                        .collect(),
                    }],
                    predicate: Some(SbomReferenceIntotoPredicate {
                        referrer_id: "gar-emulator".to_owned(),
                        location: uri.clone(),
                        mime_type: format.media_type().to_owned(),
                        digest: [(layer.algorithm().name().to_owned(), layer.hex().to_owned())]
                            .into_iter()
                            .collect(),
                    }),
                }),
                payload_type: "application/vnd.in-toto+json".to_owned(),
                signatures: Vec::new(),
            })),
            ..Occurrence::default()
        };
        let analysis = &ctx.state.analysis;
        let rules = analysis.rules().to_vec();
        let ((), changed) = analysis.with(now, |s| {
            s.occurrences.insert(reference.name.clone(), reference);
            s.changed = true;
            let finished = match s.scans.get_mut(&subject_uri) {
                Some(scan) => {
                    for p in &packages {
                        if !scan.packages.contains(p) {
                            scan.packages.push(p.clone());
                        }
                    }
                    scan.finished.then(|| scan.project.clone())
                }
                None => None,
            };
            if let Some(scan_project) = finished {
                s.add_vulnerabilities(
                    &scan_project,
                    &subject_uri,
                    &packages,
                    &rules,
                    store::at(now),
                );
            }
        });
        if changed {
            analysis.save().await;
        }
        return;
    }
    let is_image = matches!(
        artifact_type.as_str(),
        "application/vnd.oci.image.config.v1+json"
            | "application/vnd.docker.container.image.v1+json"
    );
    let packages = match (is_image, info.blobs.first()) {
        (true, Some(config)) => blob_json(ctx, config, CONFIG_LIMIT)
            .await
            .map(|c| rules::packages_from_config(&c))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let status = if is_image {
        AnalysisStatus::Pending
    } else {
        AnalysisStatus::FinishedUnsupported
    };
    let discovery = Occurrence {
        name: store::new_occurrence_name(&project),
        resource_uri: uri.clone(),
        note_name: store::DISCOVERY_NOTE.to_owned(),
        kind: NoteKind::Discovery as i32,
        create_time: Some(store::at(now)),
        update_time: Some(store::at(now)),
        details: Some(Details::Discovery(DiscoveryOccurrence {
            continuous_analysis: ContinuousAnalysis::Active as i32,
            analysis_status: status as i32,
            last_scan_time: (!is_image).then(|| store::at(now)),
            ..DiscoveryOccurrence::default()
        })),
        ..Occurrence::default()
    };
    let analysis = &ctx.state.analysis;
    let ((), changed) = analysis.with(now, |s| {
        if s.scans.contains_key(&uri) {
            return;
        }
        s.scans.insert(
            uri.clone(),
            store::Scan {
                project: project.clone(),
                discovery: discovery.name.clone(),
                started: now,
                packages,
                finished: !is_image,
            },
        );
        s.occurrences.insert(discovery.name.clone(), discovery);
        s.changed = true;
    });
    if changed {
        analysis.save().await;
    }
}

#[cfg(test)]
mod tests {
    use super::is_analysis_path;

    #[test]
    fn splits_analysis_from_artifact_registry_paths() {
        for p in [
            "/v1/projects/p/occurrences",
            "/v1/projects/p/occurrences/o1",
            "/v1/projects/p/occurrences:vulnerabilitySummary",
            "/v1/projects/p/occurrences:batchCreate",
            "/v1/projects/p/notes/n/occurrences",
            "/v1/projects/p/locations/us-central1/occurrences",
        ] {
            assert!(is_analysis_path(p), "{p}");
        }
        for p in [
            "/v1/projects/p/locations",
            "/v1/projects/p/locations/us/repositories",
            "/v1/projects/p/locations/us/operations/o",
            "/v1/projects/p/locations/us/repositories/notes",
            "/v2/p/r/occurrences",
        ] {
            assert!(!is_analysis_path(p), "{p}");
        }
    }
}
