//! Carrying gRPC (tonic) over the transport.
//!
//! tonic's generated clients take any `tower::Service<http::Request<B>>`. Put
//! [`BufferRequestLayer`] in front of a [`Transport`](crate::Transport) so that
//! unary request bodies become replayable (retries and the 401 refresh need
//! that); streaming bodies pass through as streams. The retry, breaker and
//! observability layers read `grpc-status` from trailers-only answers and from
//! trailers.
//!
//! ```
//! use gar_transport::grpc::BufferRequestLayer;
//! use gar_transport::Transport;
//! use tower::ServiceBuilder;
//!
//! let transport = Transport::builder().build().unwrap();
//! let channel = ServiceBuilder::new()
//!     .layer(BufferRequestLayer::new(4 << 20))
//!     .service(transport);
//! // tonic: `MyServiceClient::with_origin(channel, "http://127.0.0.1:50051".parse()?)`
//! # drop(channel);
//! ```

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use gar_core::{Error, ErrorKind};
use http::{Request, Response};
use http_body::Body as HttpBody;
use tower_layer::Layer;
use tower_service::Service;

use crate::util::call;
use crate::{Body, BoxError};

/// Turns `Request<B>` for any body `B` into `Request<Body>`, reading what the
/// body has ready at once (up to a limit) so that unary calls can be replayed.
#[derive(Debug, Clone, Copy)]
pub struct BufferRequestLayer {
    limit: usize,
}

impl BufferRequestLayer {
    /// Buffers request bodies of up to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for BufferRequestLayer {
    type Service = BufferRequest<S>;

    fn layer(&self, inner: S) -> BufferRequest<S> {
        BufferRequest {
            inner,
            limit: self.limit,
        }
    }
}

/// The service of [`BufferRequestLayer`].
#[derive(Debug, Clone)]
pub struct BufferRequest<S> {
    inner: S,
    limit: usize,
}

/// Reads the frames `body` has ready now; a body that ends within `limit` becomes
/// full, anything else a stream that hands out the frames read so far first.
async fn buffer_ready<B>(body: B, limit: usize) -> Result<Body, Error>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut body = Box::pin(body);
    let mut chunks: VecDeque<Bytes> = VecDeque::new();
    let mut size = 0usize;
    loop {
        let next = std::future::poll_fn(|cx: &mut Context<'_>| {
            Poll::Ready(match body.as_mut().poll_frame(cx) {
                Poll::Ready(frame) => Some(frame),
                Poll::Pending => None,
            })
        })
        .await;
        match next {
            // Nothing ready yet: a streaming call; send what we have, then the rest.
            None => return Ok(Body::prefixed_stream(chunks, Body::wrap(PinnedBody(body)))),
            Some(None) => {
                let data: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
                return Ok(Body::full(data));
            }
            Some(Some(Err(e))) => {
                let e: BoxError = e.into();
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("reading the request body failed: {e}"),
                )
                .with_source(e));
            }
            Some(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    size = size.saturating_add(data.len());
                    chunks.push_back(data);
                    if size > limit {
                        return Ok(Body::prefixed_stream(chunks, Body::wrap(PinnedBody(body))));
                    }
                }
            }
        }
    }
}

/// A pinned, boxed body (so it can be wrapped again after partial reads).
struct PinnedBody<B>(Pin<Box<B>>);

impl<B> HttpBody for PinnedBody<B>
where
    B: HttpBody<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
        self.0.as_mut().poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}

impl<S, B> Service<Request<B>> for BufferRequest<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = future::ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut inner = self.inner.clone();
        std::mem::swap(&mut inner, &mut self.inner);
        let limit = self.limit;
        future::ResponseFuture::new(async move {
            let (parts, body) = request.into_parts();
            let body = buffer_ready(body, limit).await?;
            call(&mut inner, Request::from_parts(parts, body)).await
        })
    }
}

pub mod future {
    //! The future of the [`BufferRequest`](super::BufferRequest) service.
    response_future!("BufferRequest");
}
