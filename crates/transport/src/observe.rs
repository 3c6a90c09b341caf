//! Observability: a `tracing` span per call and the `gar_*` metrics through the
//! `opentelemetry` API.
//!
//! Callers name the operation with an [`Operation`] in the request's extensions
//! (`gar.artifactregistry.repositories.list`, `gar.oci.blob.get`, ...). The span is
//! `gar.call`, with `otel.name` and `gar.operation` set to that name (so
//! OpenTelemetry exporters show the `gar.*` name), plus `http.request.method`,
//! `server.address`, `url.full` (secrets in the query redacted),
//! `http.response.status_code`, `gar.attempts`, `error.type`, and the caller's
//! attributes among [`Operation::KNOWN_ATTRIBUTES`].
//!
//! | metric | type | attributes |
//! | --- | --- | --- |
//! | `gar_operations_total` | counter | `gar.operation`, `http.request.method`, `outcome` (`ok`, `error`) |
//! | `gar_operation_latency_seconds` | histogram (until the response head) | `gar.operation`, `outcome` |
//! | `gar_errors_total` | counter | `gar.operation`, `error.type` (a gar error code) |
//! | `gar_bytes_uploaded_total` | counter (request body bytes) | `gar.operation` |
//! | `gar_bytes_downloaded_total` | counter (response body bytes, as read) | `gar.operation` |
//!
//! ```
//! use gar_transport::observe::{ObserveLayer, Operation};
//! use gar_transport::{Body, ClientConfig, HttpsClient};
//! use tower::ServiceBuilder;
//!
//! let service = ServiceBuilder::new()
//!     .layer(ObserveLayer::new(opentelemetry::global::meter("gar")))
//!     .service(HttpsClient::new(&ClientConfig::default()).unwrap());
//! let mut request = http::Request::get("https://artifactregistry.googleapis.com/v1/projects/p/locations/l/repositories")
//!     .body(Body::empty())
//!     .unwrap();
//! request.extensions_mut().insert(
//!     Operation::new("gar.artifactregistry.repositories.list")
//!         .with_attribute("gar.project", "p")
//!         .with_attribute("gar.location", "l"),
//! );
//! # drop((service, request));
//! ```

use std::borrow::Cow;
use std::sync::Arc;
use std::task::{Context, Poll};

use gar_core::Error;
use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::Body;
use crate::body::Counted;
use crate::clock::{Clock, TokioClock};
use crate::redact;
use crate::retry::Attempts;
use crate::util::{authority, call, grpc_status};

/// The name and attributes of the operation a request belongs to; put it in the
/// request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    name: Cow<'static, str>,
    attributes: Vec<(&'static str, String)>,
}

impl Operation {
    /// The attribute keys recorded on the span; others are ignored.
    pub const KNOWN_ATTRIBUTES: &'static [&'static str] = &[
        "gar.project",
        "gar.location",
        "gar.repository",
        "gar.package",
        "gar.version",
        "gar.tag",
        "gar.image",
        "gar.digest",
        "gar.resource",
    ];

    /// An operation called `name` (by convention `gar.<surface>.<resource>.<verb>`).
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            attributes: Vec::new(),
        }
    }

    /// Adds the attribute `key` (one of [`KNOWN_ATTRIBUTES`](Self::KNOWN_ATTRIBUTES)).
    #[must_use]
    pub fn with_attribute(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push((key, value.into()));
        self
    }

    /// The operation's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug)]
struct Metrics {
    operations: Counter<u64>,
    latency: Histogram<f64>,
    errors: Counter<u64>,
    uploaded: Counter<u64>,
    downloaded: Counter<u64>,
}

impl Metrics {
    fn new(meter: &Meter) -> Self {
        Self {
            operations: meter
                .u64_counter("gar_operations_total")
                .with_description("Calls made by gar, by operation and outcome.")
                .build(),
            latency: meter
                .f64_histogram("gar_operation_latency_seconds")
                .with_description("Time from a call's start to its response head (or failure).")
                .with_unit("s")
                .build(),
            errors: meter
                .u64_counter("gar_errors_total")
                .with_description("Failed calls, by operation and gar error code.")
                .build(),
            uploaded: meter
                .u64_counter("gar_bytes_uploaded_total")
                .with_description("Request body bytes sent.")
                .with_unit("By")
                .build(),
            downloaded: meter
                .u64_counter("gar_bytes_downloaded_total")
                .with_description("Response body bytes received.")
                .with_unit("By")
                .build(),
        }
    }
}

/// Adds the span and the metrics; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
}

impl ObserveLayer {
    /// Records the metrics through `meter` (for example
    /// `opentelemetry::global::meter("gar")`).
    pub fn new(meter: Meter) -> Self {
        Self {
            metrics: Arc::new(Metrics::new(&meter)),
            clock: Arc::new(TokioClock),
        }
    }

    /// Measures latency on `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
            clock: self.clock.clone(),
        }
    }
}

/// The service of [`ObserveLayer`].
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
}

impl<S> Service<Request<Body>> for Observe<S>
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
        let metrics = self.metrics.clone();
        let clock = self.clock.clone();
        let operation = request
            .extensions()
            .get::<Operation>()
            .cloned()
            .unwrap_or_else(|| Operation::new("gar.http.request"));
        let method = request.method().to_string();
        let span = tracing::info_span!(
            "gar.call",
            otel.name = %operation.name,
            gar.operation = %operation.name,
            http.request.method = %method,
            server.address = %authority(&request),
            url.full = %redact::url(request.uri()),
            http.response.status_code = Empty,
            gar.attempts = Empty,
            error.type = Empty,
            gar.project = Empty,
            gar.location = Empty,
            gar.repository = Empty,
            gar.package = Empty,
            gar.version = Empty,
            gar.tag = Empty,
            gar.image = Empty,
            gar.digest = Empty,
            gar.resource = Empty,
        );
        for (key, value) in &operation.attributes {
            if Operation::KNOWN_ATTRIBUTES.contains(key) {
                span.record(*key, value.as_str());
            }
        }
        let name = operation.name.to_string();
        let op_attr = KeyValue::new("gar.operation", name.clone());
        // Upload bytes: a full body counts at once (it is sent whole, perhaps more
        // than once by retries); a stream counts as it flows.
        let request = {
            let (parts, body) = request.into_parts();
            let body = match body.as_bytes() {
                Some(bytes) => {
                    if !bytes.is_empty() {
                        metrics
                            .uploaded
                            .add(bytes.len() as u64, std::slice::from_ref(&op_attr));
                    }
                    body
                }
                None => {
                    let (counter, attr) = (metrics.uploaded.clone(), op_attr.clone());
                    Body::wrap(Counted::new(body, move |n| {
                        counter.add(n, std::slice::from_ref(&attr));
                    }))
                }
            };
            Request::from_parts(parts, body)
        };
        let future_span = span.clone();
        future::ResponseFuture::new(
            async move {
                let started = clock.now();
                let result = call(&mut inner, request).await;
                let elapsed = clock.now().saturating_duration_since(started).as_secs_f64();
                let (outcome, error_type) = match &result {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        span.record("http.response.status_code", status);
                        if let Some(Attempts(n)) = response.extensions().get::<Attempts>() {
                            span.record("gar.attempts", n);
                        }
                        let grpc_failure = grpc_status(response.headers())
                            .filter(|(code, _)| *code != 0)
                            .map(|(code, message)| {
                                Error::from_grpc(
                                    gar_core::error::GrpcCode::from_i32(code),
                                    &message,
                                    None,
                                )
                            });
                        if let Some(err) = grpc_failure {
                            ("error", Some(err.code()))
                        } else if status >= 400 {
                            ("error", Some(Error::from_http(status, b"", None).code()))
                        } else {
                            ("ok", None)
                        }
                    }
                    Err(e) => ("error", Some(e.code())),
                };
                if let Some(code) = error_type {
                    span.record("error.type", code);
                    metrics
                        .errors
                        .add(1, &[op_attr.clone(), KeyValue::new("error.type", code)]);
                    tracing::debug!(error.type = code, "call failed");
                }
                metrics.operations.add(
                    1,
                    &[
                        op_attr.clone(),
                        KeyValue::new("http.request.method", method),
                        KeyValue::new("outcome", outcome),
                    ],
                );
                metrics.latency.record(
                    elapsed,
                    &[op_attr.clone(), KeyValue::new("outcome", outcome)],
                );
                result.map(|response| {
                    let (parts, body) = response.into_parts();
                    let counter = metrics.downloaded.clone();
                    let body = Body::wrap(Counted::new(body, move |n| {
                        counter.add(n, std::slice::from_ref(&op_attr));
                    }));
                    Response::from_parts(parts, body)
                })
            }
            .instrument(future_span),
        )
    }
}

pub mod future {
    //! The future of the [`Observe`](super::Observe) service.
    response_future!("Observe");
}
