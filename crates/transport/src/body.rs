//! [`Body`]: the request and response body of every gar call.
//!
//! A body is either *full* (bytes in memory, optionally with trailers) or a
//! *stream* (frames produced as they arrive). Full bodies can be replayed, so the
//! retry and auth layers may send them again; streams flow through with bounded
//! memory and are sent once.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use gar_core::{Error, ErrorKind};
use http::HeaderMap;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

/// The error type carried inside streaming bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The body of requests sent through, and responses returned by, the transport.
///
/// ```
/// use bytes::Bytes;
/// use gar_transport::Body;
///
/// let full = Body::from("{\"name\":\"r\"}");
/// assert!(full.try_clone().is_some(), "full bodies replay");
/// let stream = Body::from_stream(futures_util::stream::iter(vec![
///     Ok::<_, std::io::Error>(Bytes::from_static(b"layer bytes")),
/// ]));
/// assert!(stream.try_clone().is_none(), "streams are sent once");
/// ```
pub struct Body {
    kind: Kind,
}

enum Kind {
    Full {
        data: Option<Bytes>,
        trailers: Option<HeaderMap>,
    },
    Stream(UnsyncBoxBody<Bytes, BoxError>),
    /// Frames already read from `rest`, handed out before it.
    Prefixed {
        chunks: VecDeque<Bytes>,
        rest: UnsyncBoxBody<Bytes, BoxError>,
    },
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Self::full(Bytes::new())
    }

    /// A replayable body holding `data`.
    pub fn full(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        Self {
            kind: Kind::Full {
                data: (!data.is_empty()).then_some(data),
                trailers: None,
            },
        }
    }

    /// A replayable body holding `data`, then `trailers` (as gRPC answers carry).
    pub fn full_with_trailers(data: impl Into<Bytes>, trailers: Option<HeaderMap>) -> Self {
        let mut body = Self::full(data);
        if let Kind::Full { trailers: t, .. } = &mut body.kind {
            *t = trailers;
        }
        body
    }

    /// A streaming body from a stream of byte chunks.
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        use futures_util::TryStreamExt as _;
        let frames = stream.map_ok(Frame::data).map_err(Into::into);
        Self::wrap(http_body_util::StreamBody::new(frames))
    }

    /// A streaming body from any `http_body::Body` of `Bytes` (a hyper `Incoming`,
    /// a tonic body, ...).
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self {
            kind: Kind::Stream(body.map_err(Into::into).boxed_unsync()),
        }
    }

    pub(crate) fn prefixed(chunks: VecDeque<Bytes>, rest: Body) -> Self {
        if chunks.is_empty() {
            return rest;
        }
        Self {
            kind: Kind::Prefixed {
                chunks,
                rest: rest.boxed_unsync(),
            },
        }
    }

    /// The frames in `chunks`, then those of `rest` (never replayable).
    pub(crate) fn prefixed_stream(chunks: VecDeque<Bytes>, rest: Body) -> Self {
        Self {
            kind: Kind::Prefixed {
                chunks,
                rest: rest.boxed_unsync(),
            },
        }
    }

    /// A copy of a full body (so the request can be sent again); `None` for streams.
    pub fn try_clone(&self) -> Option<Self> {
        match &self.kind {
            Kind::Full { data, trailers } => Some(Self {
                kind: Kind::Full {
                    data: data.clone(),
                    trailers: trailers.clone(),
                },
            }),
            Kind::Stream(_) | Kind::Prefixed { .. } => None,
        }
    }

    /// The bytes of a full body without consuming it; `None` for streams.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Full { data, .. } => Some(data.as_deref().unwrap_or_default()),
            Kind::Stream(_) | Kind::Prefixed { .. } => None,
        }
    }

    /// Reads the whole body into memory, failing with `InvalidResponse` once more
    /// than `limit` bytes arrive (so a hostile or broken server cannot exhaust memory).
    pub async fn collect_bytes(self, limit: usize) -> Result<Bytes, Error> {
        if let Kind::Full { data, .. } = &self.kind {
            let data = data.clone().unwrap_or_default();
            return if data.len() > limit {
                Err(too_large(limit))
            } else {
                Ok(data)
            };
        }
        let mut body = self;
        let mut out = bytes::BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                Error::new(
                    ErrorKind::ConnectionFailed,
                    format!("reading the body failed: {e}"),
                )
                .with_source(e)
            })?;
            if let Ok(data) = frame.into_data() {
                if out.len().saturating_add(data.len()) > limit {
                    return Err(too_large(limit));
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(out.freeze())
    }
}

fn too_large(limit: usize) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("the body is larger than the {limit}-byte limit"),
    )
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full { data, trailers } => f
                .debug_struct("Body::Full")
                .field("len", &data.as_ref().map_or(0, Bytes::len))
                .field("trailers", &trailers.is_some())
                .finish(),
            Kind::Stream(_) => f.write_str("Body::Stream"),
            Kind::Prefixed { chunks, .. } => f
                .debug_struct("Body::Prefixed")
                .field("buffered_chunks", &chunks.len())
                .finish(),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Self::full(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Self::full(b)
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Self::full(s)
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Self::full(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Self::full(Bytes::from_static(s))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match &mut this.kind {
            Kind::Full { data, trailers } => {
                if let Some(data) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Poll::Ready(trailers.take().map(|t| Ok(Frame::trailers(t))))
            }
            Kind::Stream(inner) => Pin::new(inner).poll_frame(cx),
            Kind::Prefixed { chunks, rest } => {
                if let Some(chunk) = chunks.pop_front() {
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                Pin::new(rest).poll_frame(cx)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full { data, trailers } => data.is_none() && trailers.is_none(),
            Kind::Stream(inner) => inner.is_end_stream(),
            Kind::Prefixed { chunks, rest } => chunks.is_empty() && rest.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Stream(inner) => inner.size_hint(),
            Kind::Prefixed { chunks, rest } => {
                let buffered: u64 = chunks.iter().map(|c| c.len() as u64).sum();
                let inner = rest.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower().saturating_add(buffered));
                if let Some(upper) = inner.upper() {
                    hint.set_upper(upper.saturating_add(buffered));
                }
                hint
            }
        }
    }
}

/// Frames read ahead from a body: the data so far, its trailers if the end was
/// reached, and the body to hand on (which yields every frame again).
pub(crate) struct Peeked {
    pub(crate) trailers: Option<HeaderMap>,
    pub(crate) complete: bool,
    pub(crate) body: Body,
}

/// Reads `body` up to its trailers, as long as at most `limit` bytes arrive.
/// A complete body comes back full (replayable); a longer one comes back as the
/// buffered prefix followed by the rest.
pub(crate) async fn peek_to_end(mut body: Body, limit: usize) -> Result<Peeked, Error> {
    if body.as_bytes().is_some() {
        let trailers = match &body.kind {
            Kind::Full { trailers, .. } => trailers.clone(),
            _ => None,
        };
        return Ok(Peeked {
            trailers,
            complete: true,
            body,
        });
    }
    let mut chunks = VecDeque::new();
    let mut size = 0usize;
    loop {
        let Some(frame) = body.frame().await else {
            let data: Vec<u8> = chunks
                .iter()
                .flat_map(|c: &Bytes| c.iter().copied())
                .collect();
            return Ok(Peeked {
                trailers: None,
                complete: true,
                body: Body::full(data),
            });
        };
        let frame = frame.map_err(|e| {
            Error::new(
                ErrorKind::ConnectionFailed,
                format!("reading the answer failed: {e}"),
            )
            .with_source(e)
        })?;
        match frame.into_data() {
            Ok(data) => {
                size = size.saturating_add(data.len());
                chunks.push_back(data);
                if size > limit {
                    return Ok(Peeked {
                        trailers: None,
                        complete: false,
                        body: Body::prefixed(chunks, body),
                    });
                }
            }
            Err(frame) => {
                let trailers = frame.into_trailers().ok();
                let data: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
                return Ok(Peeked {
                    trailers: trailers.clone(),
                    complete: true,
                    body: Body::full_with_trailers(data, trailers),
                });
            }
        }
    }
}

/// A body that counts the data bytes passing through it.
pub(crate) struct Counted<F: FnMut(u64) + Send + 'static> {
    inner: Body,
    on_bytes: F,
}

impl<F: FnMut(u64) + Send + 'static> Counted<F> {
    pub(crate) fn new(inner: Body, on_bytes: F) -> Self {
        Self { inner, on_bytes }
    }
}

impl<F: FnMut(u64) + Send + Unpin + 'static> http_body::Body for Counted<F> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            (this.on_bytes)(data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
