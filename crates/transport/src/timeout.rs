//! A deadline on each call: the response head must arrive within it.
//!
//! The body is not covered, so large downloads stream for as long as they need;
//! the connect timeout lives in [`ClientConfig`](crate::ClientConfig).
//!
//! ```
//! use std::time::Duration;
//! use gar_transport::timeout::TimeoutLayer;
//! use gar_transport::{ClientConfig, HttpsClient};
//! use tower::ServiceBuilder;
//!
//! let service = ServiceBuilder::new()
//!     .layer(TimeoutLayer::new(Duration::from_secs(30)))
//!     .service(HttpsClient::new(&ClientConfig::default()).unwrap());
//! # drop(service);
//! ```

use std::task::{Context, Poll};
use std::time::Duration;

use gar_core::Error;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::Body;
use crate::errors::timeout_error;
use crate::util::{authority, call};

/// A per-request override of the deadline, put in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Duration);

/// Fails calls whose answer does not start within the deadline (`Timeout`).
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    after: Duration,
}

impl TimeoutLayer {
    /// A deadline of `after` per call.
    pub fn new(after: Duration) -> Self {
        Self { after }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            after: self.after,
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    after: Duration,
}

impl<S> Service<Request<Body>> for Timeout<S>
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
        let after = request
            .extensions()
            .get::<RequestTimeout>()
            .map_or(self.after, |t| t.0);
        let host = authority(&request);
        future::ResponseFuture::new(async move {
            match tokio::time::timeout(after, call(&mut inner, request)).await {
                Ok(result) => result,
                Err(_) => Err(timeout_error(&host, after)),
            }
        })
    }
}

pub mod future {
    //! The future of the [`Timeout`](super::Timeout) service.
    response_future!("Timeout");
}
