//! OCI error bodies (`{"errors":[{"code","message","detail"}]}`) and the
//! `WWW-Authenticate` challenge of 401 answers.

use http::StatusCode;
use http::header::WWW_AUTHENTICATE;
use serde_json::{Value, json};

use crate::router::Ctx;
use crate::wire::{self, Resp};

/// An OCI Distribution error.
#[derive(Debug, Clone)]
pub(crate) struct OciError {
    /// HTTP status.
    pub status: StatusCode,
    /// The spec's error code (`MANIFEST_UNKNOWN`).
    pub code: &'static str,
    /// Human text.
    pub message: String,
    /// Structured detail.
    pub detail: Option<Value>,
    /// For 401: `error="..."` of the challenge (`invalid_token`, `insufficient_scope`).
    pub challenge_error: Option<&'static str>,
}

impl OciError {
    /// An error with `status`, `code` and `message`.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail: None,
            challenge_error: None,
        }
    }

    /// Adds a detail value.
    pub(crate) fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// 401 UNAUTHORIZED.
    pub(crate) fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    /// 403 DENIED.
    pub(crate) fn denied(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "DENIED", message)
    }

    /// 400 NAME_INVALID.
    pub(crate) fn name_invalid(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "NAME_INVALID", message)
    }

    /// 404 NAME_UNKNOWN.
    pub(crate) fn name_unknown(message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NAME_UNKNOWN", message)
    }

    /// 400 DIGEST_INVALID.
    pub(crate) fn digest_invalid(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "DIGEST_INVALID", message)
    }

    /// 404 BLOB_UNKNOWN.
    pub(crate) fn blob_unknown(digest: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            format!("blob unknown to registry: {digest}"),
        )
        .detail(json!({"digest": digest}))
    }

    /// 404 BLOB_UPLOAD_UNKNOWN.
    pub(crate) fn upload_unknown(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
            format!("blob upload unknown to registry: {id}"),
        )
    }

    /// 404 MANIFEST_UNKNOWN.
    pub(crate) fn manifest_unknown(reference: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            format!("manifest unknown: {reference}"),
        )
        .detail(json!({"reference": reference}))
    }

    /// 400 MANIFEST_INVALID.
    pub(crate) fn manifest_invalid(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MANIFEST_INVALID", message)
    }

    /// 500 UNKNOWN (disk failures).
    pub(crate) fn internal(message: &str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", message)
    }
}

/// The OCI code that best names a bare status (for injected faults).
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "UNSUPPORTED",
        401 => "UNAUTHORIZED",
        403 => "DENIED",
        404 => "NAME_UNKNOWN",
        405 => "UNSUPPORTED",
        429 => "TOOMANYREQUESTS",
        503 => "UNAVAILABLE",
        _ => "UNKNOWN",
    }
}

fn body(err: &OciError) -> Value {
    let mut e = json!({"code": err.code, "message": err.message});
    if let (Some(d), Some(obj)) = (&err.detail, e.as_object_mut()) {
        obj.insert("detail".into(), d.clone());
    }
    json!({"errors": [e]})
}

/// The challenge of a 401: realm `{base}/v2/token`, service the host, scope if any.
pub(crate) fn challenge(ctx: &Ctx, scope: Option<&str>, error: Option<&str>) -> String {
    let mut c = format!(
        "Bearer realm=\"{}/v2/token\",service=\"{}\"",
        ctx.base_url(),
        ctx.host
    );
    if let Some(s) = scope {
        c.push_str(&format!(",scope=\"{s}\""));
    }
    if let Some(e) = error {
        c.push_str(&format!(",error=\"{e}\""));
    }
    c
}

/// The response of `err`; 401s carry the challenge with `scope`.
pub(crate) fn respond(ctx: &Ctx, err: OciError, scope: Option<&str>) -> Resp {
    let mut r = wire::json(err.status, &body(&err));
    if err.status == StatusCode::UNAUTHORIZED {
        wire::set_header(
            &mut r,
            WWW_AUTHENTICATE,
            &challenge(ctx, scope, err.challenge_error),
        );
    }
    r
}

/// The response of an injected fault on the OCI surface.
pub(crate) fn fault(status: StatusCode, message: &str) -> Resp {
    wire::json(
        status,
        &body(&OciError::new(status, code_for(status), message)),
    )
}
