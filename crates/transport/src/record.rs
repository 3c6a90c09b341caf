//! Record and replay: write every exchange to a JSON cassette, then answer from
//! it without any network.
//!
//! Recording keeps the method, the URL, a chosen set of request headers, both
//! bodies (text, or base64 when binary), the status and the response headers.
//! Before anything is stored, `Authorization`, cookies and other credential
//! headers, secret query parameters (`access_token`, signatures, ...), secret
//! JSON and form fields (`access_token`, `refresh_token`, `private_key`,
//! `assertion`, ...) and every secret given to [`Recorder::scrub`] are replaced
//! by `[redacted]`. Recording reads each body whole, so use it for tests and
//! fixtures, not for multi-gigabyte transfers.
//!
//! Replay matches requests by method and URL, in order: the second identical
//! request gets the second recorded answer. A request the cassette lacks fails
//! with an error naming it and the nearest recorded request.
//!
//! ```no_run
//! use gar_transport::record::{Cassette, Recorder};
//! use gar_transport::Transport;
//!
//! # fn demo() -> Result<(), gar_core::Error> {
//! let recorder = Recorder::new();
//! let live = Transport::builder().record(recorder.clone()).build()?;
//! // ... use `live` ...
//! recorder.save("tests/cassettes/list.json")?;
//!
//! let offline = Transport::builder()
//!     .replay(Cassette::load("tests/cassettes/list.json")?)
//!     .build()?;
//! # drop((live, offline)); Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use gar_auth::SecretString;
use gar_core::{Error, ErrorKind};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use serde::{Deserialize, Serialize};
use tower_layer::Layer;
use tower_service::Service;

use crate::Body;
use crate::body::peek_to_end;
use crate::errors::NotRecorded;
use crate::redact::{self, REDACTED};
use crate::util::call;

/// A body as stored in a cassette.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordedBody {
    /// UTF-8 text (JSON, forms, plain text).
    Text(String),
    /// Anything else, base64-encoded.
    Base64(String),
}

impl RecordedBody {
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return None;
        }
        Some(match std::str::from_utf8(bytes) {
            Ok(text) => Self::Text(text.to_owned()),
            Err(_) => Self::Base64(STANDARD.encode(bytes)),
        })
    }

    fn to_bytes(&self) -> Result<Bytes, Error> {
        match self {
            Self::Text(t) => Ok(Bytes::from(t.clone())),
            Self::Base64(b) => STANDARD.decode(b).map(Bytes::from).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "the cassette holds a body that is not valid base64",
                )
                .with_source(e)
            }),
        }
    }
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The full URL, secrets redacted.
    pub url: String,
    /// The chosen request headers, secrets redacted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body, secrets redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RecordedBody>,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// The HTTP status.
    pub status: u16,
    /// The response headers, secrets redacted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body, secrets redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RecordedBody>,
    /// Trailers (gRPC status), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailers: Option<BTreeMap<String, String>>,
}

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    /// What was sent.
    pub request: RecordedRequest,
    /// What came back.
    pub response: RecordedResponse,
}

/// A recorded sequence of exchanges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cassette {
    /// The exchanges, in the order they happened.
    pub interactions: Vec<Interaction>,
}

impl Cassette {
    /// Parses a cassette's JSON.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("the cassette is not valid: {e}"),
            )
            .with_source(e)
        })
    }

    /// The cassette as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a cassette file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read the cassette {}: {e}", path.display()),
            )
            .with_source(e)
        })?;
        Self::from_json(&text)
    }

    /// Writes the cassette to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot write the cassette {}: {e}", path.display()),
            )
            .with_source(e)
        })
    }
}

/// Request headers worth keeping (besides credential headers, kept as `[redacted]`).
/// `User-Agent` is deliberately absent: it names the tool and gar's version,
/// which change between recording and replay, and replay matches on method and
/// URL only, so a cassette replays under any user agent.
const KEPT_REQUEST_HEADERS: &[&str] = &[
    "accept",
    "content-type",
    "content-range",
    "range",
    "if-none-match",
    "if-match",
    "docker-content-digest",
    "te",
    "grpc-timeout",
    "x-goog-request-params",
    "x-goog-user-project",
    "x-goog-api-client",
];

/// Response headers never kept (they change on every run or describe the connection).
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "date",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
];

/// Collects the exchanges of a recording transport; clones share the cassette.
#[derive(Clone, Default)]
pub struct Recorder {
    cassette: Arc<Mutex<Cassette>>,
    secrets: Arc<Mutex<Vec<SecretString>>>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("interactions", &self.lock().interactions.len())
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// An empty recording.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Cassette> {
        self.cassette.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Also redacts `secret` wherever it appears (URLs, headers, bodies).
    pub fn scrub(&self, secret: &SecretString) {
        if !secret.is_empty() {
            self.secrets
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(secret.clone());
        }
    }

    /// A copy of what was recorded so far.
    pub fn cassette(&self) -> Cassette {
        self.lock().clone()
    }

    /// Writes what was recorded so far to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.cassette().save(path)
    }

    fn scrub_text(&self, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        secrets.iter().fold(text.to_owned(), |acc, s| {
            acc.replace(s.expose_secret(), REDACTED)
        })
    }

    fn scrub_body(&self, headers: &HeaderMap, bytes: &[u8]) -> Option<RecordedBody> {
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let body = RecordedBody::from_bytes(bytes)?;
        Some(match body {
            RecordedBody::Text(text) => {
                let cleaned =
                    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text) {
                        let before = value.clone();
                        redact::json(&mut value);
                        if value == before {
                            text
                        } else {
                            value.to_string()
                        }
                    } else if content_type.starts_with("application/x-www-form-urlencoded") {
                        redact::form(&text)
                    } else {
                        text
                    };
                RecordedBody::Text(self.scrub_text(&cleaned))
            }
            binary => binary,
        })
    }

    fn scrub_headers(
        &self,
        headers: &HeaderMap,
        keep: impl Fn(&HeaderName) -> bool,
    ) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let secret = redact::is_secret_header(name) || value.is_sensitive();
            if !secret && !keep(name) {
                continue;
            }
            let shown = if secret {
                REDACTED.to_owned()
            } else {
                self.scrub_text(&String::from_utf8_lossy(value.as_bytes()))
            };
            out.entry(name.as_str().to_owned())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&shown);
                })
                .or_insert(shown);
        }
        out
    }
}

/// Records the exchanges passing through into a [`Recorder`].
#[derive(Debug, Clone)]
pub struct RecordLayer {
    recorder: Recorder,
}

impl RecordLayer {
    /// Records into `recorder`.
    pub fn new(recorder: Recorder) -> Self {
        Self { recorder }
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            recorder: self.recorder.clone(),
        }
    }
}

/// The service of [`RecordLayer`].
#[derive(Debug, Clone)]
pub struct Record<S> {
    inner: S,
    recorder: Recorder,
}

/// Largest body recorded.
const RECORD_LIMIT: usize = 64 << 20;

impl<S> Service<Request<Body>> for Record<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = future::ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let mut inner = self.inner.clone();
        std::mem::swap(&mut inner, &mut self.inner);
        let recorder = self.recorder.clone();
        future::ResponseFuture::new(async move {
            let (parts, body) = request.into_parts();
            let body = body.collect_bytes(RECORD_LIMIT).await?;
            let recorded_request = RecordedRequest {
                method: parts.method.to_string(),
                url: recorder.scrub_text(&redact::url(&parts.uri)),
                headers: recorder.scrub_headers(&parts.headers, |n| {
                    KEPT_REQUEST_HEADERS.contains(&n.as_str())
                }),
                body: recorder.scrub_body(&parts.headers, &body),
            };
            let request = Request::from_parts(parts, Body::full(body));
            let response = call(&mut inner, request).await?;
            let (parts, body) = response.into_parts();
            let peeked = peek_to_end(body, RECORD_LIMIT).await?;
            if !peeked.complete {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("recording: the answer is larger than {RECORD_LIMIT} bytes"),
                ));
            }
            let bytes = peeked.body.as_bytes().unwrap_or_default().to_vec();
            let trailers = peeked
                .trailers
                .as_ref()
                .map(|t| recorder.scrub_headers(t, |_| true));
            let recorded_response = RecordedResponse {
                status: parts.status.as_u16(),
                headers: recorder.scrub_headers(&parts.headers, |n| {
                    !DROPPED_RESPONSE_HEADERS.contains(&n.as_str())
                }),
                body: recorder.scrub_body(&parts.headers, &bytes),
                trailers,
            };
            recorder.lock().interactions.push(Interaction {
                request: recorded_request,
                response: recorded_response,
            });
            Ok(Response::from_parts(parts, peeked.body))
        })
    }
}

/// Answers requests from a [`Cassette`]; the bottom of a replaying transport.
#[derive(Debug, Clone)]
pub struct Replayer {
    cassette: Arc<Cassette>,
    used: Arc<Mutex<HashMap<(String, String), usize>>>,
}

impl Replayer {
    /// Answers from `cassette`.
    pub fn new(cassette: Cassette) -> Self {
        Self {
            cassette: Arc::new(cassette),
            used: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn answer(&self, method: &str, url: &str) -> Result<Response<Body>, Error> {
        let key = (method.to_owned(), url.to_owned());
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let index = used.get(&key).copied().unwrap_or(0);
        let matching = self
            .cassette
            .interactions
            .iter()
            .filter(|i| i.request.method == method && i.request.url == url);
        let Some(found) = matching.clone().nth(index) else {
            let recorded = matching.count();
            let detail = if recorded > 0 {
                format!("all {recorded} recorded answers to it were already used")
            } else {
                match self.nearest(method, url) {
                    Some(near) => format!("the nearest recorded request is {near}"),
                    None => "the cassette is empty".to_owned(),
                }
            };
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("replay: no recorded answer for {method} {url}; {detail}"),
            )
            .with_source(NotRecorded));
        };
        used.insert(key, index.saturating_add(1));
        build_response(&found.response)
    }

    /// The recorded request closest to `method url`: nearest method and path
    /// first, then nearest query.
    fn nearest(&self, method: &str, url: &str) -> Option<String> {
        let split = |u: &str| -> (String, String) {
            let (path, query) = u.split_once('?').unwrap_or((u, ""));
            (path.to_owned(), query.to_owned())
        };
        let (path, query) = split(url);
        let wanted = format!("{method} {path}");
        self.cassette
            .interactions
            .iter()
            .min_by_key(|i| {
                let (p, q) = split(&i.request.url);
                (
                    edit_distance(&wanted, &format!("{} {p}", i.request.method)),
                    edit_distance(&query, &q),
                )
            })
            .map(|i| format!("{} {}", i.request.method, i.request.url))
    }
}

fn header_map(map: &BTreeMap<String, String>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in map {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

fn build_response(recorded: &RecordedResponse) -> Result<Response<Body>, Error> {
    let body = match &recorded.body {
        Some(b) => b.to_bytes()?,
        None => Bytes::new(),
    };
    let trailers = recorded.trailers.as_ref().map(header_map);
    let mut response = Response::new(Body::full_with_trailers(body, trailers));
    *response.status_mut() = http::StatusCode::from_u16(recorded.status).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("the cassette holds an invalid status {}", recorded.status),
        )
        .with_source(e)
    })?;
    *response.headers_mut() = header_map(&recorded.headers);
    Ok(response)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(usize::from(ca != *cb));
            let delete = previous
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = current
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

impl Service<Request<Body>> for Replayer {
    type Response = Response<Body>;
    type Error = Error;
    type Future = future::ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let result = self.answer(request.method().as_str(), &redact::url(request.uri()));
        future::ResponseFuture::new(async move { result })
    }
}

pub mod future {
    //! The future of the [`Record`](super::Record) and [`Replayer`](super::Replayer) services.
    response_future!("Record");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn bodies_round_trip() {
        assert_eq!(RecordedBody::from_bytes(b""), None);
        let text = RecordedBody::from_bytes(b"{\"a\":1}").unwrap();
        assert_eq!(text, RecordedBody::Text("{\"a\":1}".to_owned()));
        let bin = RecordedBody::from_bytes(&[0xff, 0x00, 0x10]).unwrap();
        assert!(matches!(bin, RecordedBody::Base64(_)));
        assert_eq!(bin.to_bytes().unwrap().as_ref(), &[0xff, 0x00, 0x10]);
        let json = serde_json::to_string(&bin).unwrap();
        assert_eq!(json, "{\"base64\":\"/wAQ\"}");
    }
}
