//! Facade errors as JavaScript errors.
//!
//! A napi `async fn` cannot set properties on the error it rejects with, so the
//! error crosses as an `Error` whose message is [`MARKER`] followed by a JSON
//! object: `code` (the stable [`gar::ErrorKind`] code such as
//! `MANIFEST_NOT_FOUND`), `category`, `message`, `retryable`, and when known
//! `httpStatus`, `grpcCode`, `ociCode`, `serverMessage`, `retryAfterMs`,
//! `resource` and the `causes` (the `source()` chain). The TS layer parses it
//! into a `GarError`; nothing else is decided here.

use napi_derive::napi;
use serde_json::{Map, Value, json};

/// The prefix of every error message produced by this addon.
pub(crate) const MARKER: &str = "gar-error:";

/// The JSON description of `e`.
pub(crate) fn describe(e: &gar::Error) -> Value {
    let mut out = Map::new();
    out.insert("code".into(), json!(e.code()));
    out.insert("category".into(), json!(e.category().code()));
    out.insert("message".into(), json!(e.to_string()));
    out.insert("retryable".into(), json!(e.is_retryable()));
    if let Some(status) = e.http_status() {
        out.insert("httpStatus".into(), json!(status));
    }
    if let Some(code) = e.grpc_code() {
        out.insert("grpcCode".into(), json!(code.name()));
        out.insert("grpcStatus".into(), json!(code.as_i32()));
    }
    if let Some(code) = e.oci_code() {
        out.insert("ociCode".into(), json!(code));
    }
    if let Some(m) = e.server_message() {
        out.insert("serverMessage".into(), json!(m));
    }
    if let Some(wait) = e.retry_after() {
        out.insert(
            "retryAfterMs".into(),
            json!(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)),
        );
    }
    if let Some(r) = e.resource() {
        out.insert(
            "resource".into(),
            json!({ "kind": r.kind().noun(), "id": r.id(), "parent": r.parent() }),
        );
    }
    let mut causes = Vec::new();
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        causes.push(Value::String(cause.to_string()));
        next = cause.source();
    }
    if !causes.is_empty() {
        out.insert("causes".into(), Value::Array(causes));
    }
    Value::Object(out)
}

/// `e` as the error a napi call rejects or throws with.
pub(crate) fn to_napi(e: &gar::Error) -> napi::Error {
    napi::Error::from_reason(format!("{MARKER}{}", describe(e)))
}

/// A facade error of `kind` with `message`, for argument checks done while
/// converting from JavaScript (the facade's own kinds, never new ones).
pub(crate) fn invalid(kind: gar::ErrorKind, message: impl Into<String>) -> gar::Error {
    gar::Error::new(kind, message)
}

/// The error of a call that was cancelled (its `AbortSignal` fired).
pub(crate) fn cancelled() -> gar::Error {
    gar::Error::new(gar::ErrorKind::Cancelled, "the call was cancelled")
}

/// Every stable error code, in the taxonomy's order (the TS layer's list is
/// tested against it).
#[napi]
pub fn error_codes() -> Vec<String> {
    gar::ErrorKind::ALL
        .iter()
        .map(|k| k.code().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_carries_the_stable_code_and_retry_verdict() {
        let e = gar::Error::new(gar::ErrorKind::ManifestNotFound, "no such manifest")
            .with_http_status(404);
        let d = describe(&e);
        assert_eq!(d["code"], "MANIFEST_NOT_FOUND");
        assert_eq!(d["category"], "MANIFEST");
        assert_eq!(d["retryable"], false);
        assert_eq!(d["httpStatus"], 404);
        assert_eq!(d["message"], "no such manifest");
        assert!(d.get("causes").is_none());
    }

    #[test]
    fn retryable_errors_say_so_and_carry_their_wait() {
        let e = gar::Error::new(gar::ErrorKind::ServiceUnavailable, "try later")
            .with_retry_after(std::time::Duration::from_secs(2));
        let d = describe(&e);
        assert_eq!(d["retryable"], true);
        assert_eq!(d["retryAfterMs"], 2000);
    }

    #[test]
    fn the_napi_message_starts_with_the_marker_and_parses_back() {
        let e = gar::Error::new(gar::ErrorKind::Timeout, "slow");
        let n = to_napi(&e);
        let text = n.reason.strip_prefix(MARKER).unwrap();
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["code"], "TIMEOUT");
        assert_eq!(cancelled().code(), "CANCELLED");
    }
}
