//! The Artifact Registry REST API v1 (`/v1/projects/{p}/locations/...`), issue E.
//!
//! Until it is written, every call answers a Google-style 404 that says so.

use http::{Request, StatusCode};
use hyper::body::Incoming;

use crate::router::Ctx;
use crate::wire::{self, Resp};

/// Serves one Artifact Registry REST call.
pub(crate) async fn handle(_ctx: &Ctx, req: Request<Incoming>) -> Resp {
    wire::google_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!(
            "{} is not served by this emulator: the Artifact Registry REST API is not implemented yet",
            req.uri().path()
        ),
    )
}
