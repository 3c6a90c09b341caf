//! Container Analysis and Grafeas (issue F): gRPC on the shared port (routed by
//! content type) and the same calls over REST (`/v1/projects/{p}/occurrences...`,
//! `/v1/projects/{p}/notes...`).
//!
//! Until it is written, gRPC calls answer `UNIMPLEMENTED` and REST calls a Google 404.

use http::{Request, StatusCode};
use hyper::body::Incoming;

use crate::router::{Ctx, grpc_unimplemented};
use crate::wire::{self, Resp};

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
pub(crate) async fn handle_grpc(_ctx: &Ctx, req: Request<Incoming>) -> Resp {
    grpc_unimplemented(req.uri().path())
}

/// Serves one Container Analysis REST call.
pub(crate) async fn handle_rest(_ctx: &Ctx, req: Request<Incoming>) -> Resp {
    wire::google_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!(
            "{} is not served by this emulator: the Container Analysis REST API is not implemented yet",
            req.uri().path()
        ),
    )
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
