//! HTTP plumbing shared by every surface: the body type, response builders,
//! query and form decoding, bounded body reads.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;

/// The error type of response bodies.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response the emulator sends: full, empty or streamed.
pub(crate) type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A response of any surface.
pub(crate) type Resp = Response<Body>;

/// A body holding `bytes`.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty body.
pub(crate) fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A response with `status`, no headers and `body`.
pub(crate) fn response(status: StatusCode, body: Body) -> Resp {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r
}

/// Sets a header from text; values that are not valid header text are dropped.
pub(crate) fn set_header(resp: &mut Resp, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// Appends a header (for repeated headers such as `Link`).
pub(crate) fn append_header(resp: &mut Resp, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(name, v);
    }
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Resp {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let len = bytes.len();
    let mut r = response(status, full(bytes));
    set_header(&mut r, CONTENT_TYPE, "application/json");
    set_header(&mut r, CONTENT_LENGTH, &len.to_string());
    r
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &str) -> Resp {
    let mut r = response(status, full(body.to_owned()));
    set_header(&mut r, CONTENT_TYPE, "text/plain; charset=utf-8");
    set_header(&mut r, CONTENT_LENGTH, &body.len().to_string());
    r
}

/// A Google API error body: `{"error":{"code","message","status"}}`.
pub(crate) fn google_error(status: StatusCode, grpc_status: &str, message: &str) -> Resp {
    json(
        status,
        &serde_json::json!({
            "error": {"code": status.as_u16(), "message": message, "status": grpc_status}
        }),
    )
}

/// The gRPC status name that matches an HTTP status (for Google error bodies).
pub(crate) fn grpc_status_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_space`); malformed
/// escapes are kept as they are.
pub(crate) fn percent_decode(input: &str, plus_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(if plus_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value.
pub(crate) fn query_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `key=value` pairs of a query string or form body, decoded.
pub(crate) fn parse_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// The decoded query pairs of a request URI.
pub(crate) fn query_of(uri: &http::Uri) -> Vec<(String, String)> {
    uri.query().map(parse_pairs).unwrap_or_default()
}

/// The first value of `key` in `pairs`.
pub(crate) fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A request body could not be read whole.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// It is longer than the limit.
    TooLarge,
    /// The connection failed while reading it.
    Io(String),
}

/// Reads a whole request body of at most `limit` bytes.
pub(crate) async fn read_limited(mut body: Incoming, limit: usize) -> Result<Bytes, ReadError> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadError::Io(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// A header's value as text.
pub(crate) fn header(
    headers: &http::HeaderMap,
    name: impl http::header::AsHeaderName,
) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// How a fault alters a response body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyFault {
    /// Send this many bytes, then break the connection.
    Truncate(u64),
    /// Flip the bits of the first byte sent (the length stays right).
    Corrupt,
}

/// A body that applies a [`BodyFault`] to the body it wraps.
pub(crate) struct FaultyBody {
    inner: Body,
    fault: BodyFault,
    sent: u64,
    done: bool,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl FaultyBody {
    /// Wraps `inner`.
    pub(crate) fn new(inner: Body, fault: BodyFault) -> Self {
        Self {
            inner,
            fault,
            sent: 0,
            done: false,
            pause: None,
        }
    }
}

impl HttpBody for FaultyBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        if let BodyFault::Truncate(limit) = this.fault
            && this.sent >= limit
        {
            // Let the head and the bytes sent so far reach the client, then break.
            let pause = this.pause.get_or_insert_with(|| {
                Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50)))
            });
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.done = true;
            return Poll::Ready(Some(Err("fault injection: body truncated".into())));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        let Poll::Ready(Some(Ok(frame))) = polled else {
            return polled;
        };
        let Ok(data) = frame.into_data() else {
            return Poll::Ready(None);
        };
        match this.fault {
            BodyFault::Truncate(limit) => {
                let room = limit.saturating_sub(this.sent);
                let take = usize::try_from(room).unwrap_or(usize::MAX).min(data.len());
                this.sent += take as u64;
                Poll::Ready(Some(Ok(Frame::data(data.slice(..take)))))
            }
            BodyFault::Corrupt => {
                let first = this.sent == 0 && !data.is_empty();
                this.sent += data.len() as u64;
                if first {
                    let mut v = data.to_vec();
                    if let Some(b) = v.first_mut() {
                        *b ^= 0xFF;
                    }
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from(v)))))
                } else {
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
