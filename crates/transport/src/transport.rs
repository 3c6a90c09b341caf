//! [`Transport`]: the whole stack, assembled.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use gar_auth::{HttpClient, HttpFuture, TokenProvider};
use gar_core::{Error, ErrorKind};
use http::header::USER_AGENT;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use opentelemetry::metrics::Meter;
use tower_layer::Layer;
use tower_service::Service;

use crate::auth::AuthLayer;
use crate::breaker::{BreakerConfig, CircuitBreakerLayer, CircuitState};
use crate::client::{ClientConfig, HttpsClient, TlsConfig};
use crate::clock::{Clock, TokioClock};
use crate::observe::{ObserveLayer, Operation};
use crate::record::{Cassette, RecordLayer, Recorder, Replayer};
use crate::retry::{Idempotency, RetryConfig, RetryLayer};
use crate::timeout::TimeoutLayer;
use crate::util::call;
use crate::{Body, body};

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

trait DynService: Send + Sync {
    fn call_boxed(&self, request: Request<Body>) -> BoxFuture;
}

struct Erase<S>(S);

impl<S> DynService for Erase<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Error>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
{
    fn call_boxed(&self, request: Request<Body>) -> BoxFuture {
        let mut service = self.0.clone();
        Box::pin(async move { call(&mut service, request).await })
    }
}

/// A type-erased, cloneable service of the stack.
#[derive(Clone)]
pub(crate) struct Erased(Arc<dyn DynService>);

impl Erased {
    pub(crate) fn new<S>(service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Error>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send,
    {
        Self(Arc::new(Erase(service)))
    }
}

impl fmt::Debug for Erased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Erased")
    }
}

impl Service<Request<Body>> for Erased {
    type Response = Response<Body>;
    type Error = Error;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> BoxFuture {
        self.0.call_boxed(request)
    }
}

/// Where the bottom of the stack sends requests.
#[derive(Debug, Clone, Default)]
enum Mode {
    #[default]
    Live,
    Record(Recorder),
    Replay(Cassette),
}

/// Builds a [`Transport`]; every part has design.md's default.
#[derive(Clone)]
pub struct TransportBuilder {
    client: ClientConfig,
    request_timeout: Option<Duration>,
    retry: Option<RetryConfig>,
    breaker: Option<BreakerConfig>,
    credentials: Option<Arc<dyn TokenProvider>>,
    meter: Option<Meter>,
    clock: Arc<dyn Clock>,
    mode: Mode,
    user_agent: Option<String>,
}

/// gar's own product token in `User-Agent`: `gar/<version>`.
pub const GAR_PRODUCT: &str = concat!("gar/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` a transport sends: `<product> gar/<version>`, or
/// `gar/<version>` without a product. Fails with `InvalidArgument` on a product
/// that is empty or cannot be a header value (control characters, non-ASCII).
pub fn user_agent_value(product: Option<&str>) -> Result<HeaderValue, Error> {
    let Some(product) = product else {
        return Ok(HeaderValue::from_static(GAR_PRODUCT));
    };
    let product = product.trim();
    if product.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the user agent product is empty: name the tool (my-tool/1.2) or set none",
        ));
    }
    if !product.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "the user agent product {product:?} cannot be sent in a User-Agent header: \
                 use printable ASCII (my-tool/1.2)"
            ),
        ));
    }
    HeaderValue::from_str(&format!("{product} {GAR_PRODUCT}")).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("the user agent product {product:?} is not a valid header value"),
        )
        .with_source(e)
    })
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("client", &self.client)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
            .field("credentials", &self.credentials)
            .field("mode", &self.mode)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self {
            client: ClientConfig::default(),
            request_timeout: Some(Duration::from_secs(60)),
            retry: Some(RetryConfig::new()),
            breaker: Some(BreakerConfig::default()),
            credentials: None,
            meter: None,
            clock: Arc::new(TokioClock),
            mode: Mode::Live,
            user_agent: None,
        }
    }
}

impl TransportBuilder {
    /// TLS roots and client certificate.
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.client.tls = tls;
        self
    }

    /// Connection settings (TLS, connect timeout, pool).
    #[must_use]
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.client = config;
        self
    }

    /// Longest wait for a TCP connection (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.client.connect_timeout = timeout;
        self
    }

    /// Longest wait for each attempt's response head (default 60 s); `None` for none.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Retry settings; `None` turns retries off.
    #[must_use]
    pub fn retry(mut self, retry: Option<RetryConfig>) -> Self {
        self.retry = retry;
        self
    }

    /// Circuit-breaker settings; `None` turns the breaker off.
    #[must_use]
    pub fn breaker(mut self, breaker: Option<BreakerConfig>) -> Self {
        self.breaker = breaker;
        self
    }

    /// Where bearer tokens come from (usually a [`gar_auth::CachedTokenProvider`]);
    /// without it requests go out unauthenticated.
    #[must_use]
    pub fn credentials(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Where metrics go (default: `opentelemetry::global::meter("gar")`).
    #[must_use]
    pub fn meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The clock of the breaker, of latency measurements and of `Retry-After` dates.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Records every exchange into `recorder`'s cassette.
    #[must_use]
    pub fn record(mut self, recorder: Recorder) -> Self {
        self.mode = Mode::Record(recorder);
        self
    }

    /// Answers every request from `cassette`, without any network.
    #[must_use]
    pub fn replay(mut self, cassette: Cassette) -> Self {
        self.mode = Mode::Replay(cassette);
        self
    }

    /// A product token naming the tool built on gar (`my-tool/1.2`): every
    /// request then carries `User-Agent: my-tool/1.2 gar/<version>` (without it,
    /// `gar/<version>`). A request that sets its own `User-Agent` keeps it. A
    /// product that cannot be a header value fails [`build`](Self::build) with
    /// `InvalidArgument`, before any request.
    #[must_use]
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// Assembles the stack; fails on settings that cannot work (a user agent
    /// that is not a header value, unusable TLS material) before any request.
    pub fn build(self) -> Result<Transport, Error> {
        let user_agent = user_agent_value(self.user_agent.as_deref())?;
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, user_agent);
        let mut base = match &self.mode {
            Mode::Replay(cassette) => Erased::new(Replayer::new(cassette.clone())),
            Mode::Live => Erased::new(HttpsClient::new(&self.client)?),
            Mode::Record(recorder) => Erased::new(
                RecordLayer::new(recorder.clone()).layer(HttpsClient::new(&self.client)?),
            ),
        };
        if let Some(after) = self.request_timeout {
            base = Erased::new(TimeoutLayer::new(after).layer(base));
        }
        let breaker = self
            .breaker
            .map(|config| CircuitBreakerLayer::with_clock(config, self.clock.clone()));
        if let Some(layer) = &breaker {
            base = Erased::new(layer.layer(base));
        }
        let retry = self
            .retry
            .map(|config| RetryLayer::new(config.with_clock(self.clock.clone())));
        let meter = self
            .meter
            .unwrap_or_else(|| opentelemetry::global::meter("gar"));
        let observe = ObserveLayer::new(meter).with_clock(self.clock.clone());
        let mut transport = Transport {
            base,
            retry,
            observe,
            breaker,
            plain: None,
            authed: None,
            headers: Arc::new(headers),
        };
        transport.plain = Some(transport.assemble(None));
        transport.authed = Some(transport.assemble(self.credentials));
        Ok(transport)
    }
}

/// The transport every gar client sends through: a cheap-to-clone tower
/// `Service<http::Request<Body>>` for REST, OCI and gRPC alike.
///
/// Layers, outside in: default headers (`User-Agent`, see
/// [`TransportBuilder::user_agent`], and [`Transport::with_default_header`]) →
/// observability → retry → auth → circuit breaker → timeout → (record) → HTTPS
/// client (or the replayer). Every HTTP status comes
/// back as a response; errors are failures below HTTP, an open circuit, or
/// credentials that could not produce a token.
///
/// ```no_run
/// use std::sync::Arc;
/// use gar_auth::{ApplicationDefault, CachedTokenProvider};
/// use gar_transport::{Body, Transport};
///
/// # async fn demo() -> Result<(), gar_core::Error> {
/// let transport = Transport::builder().build()?;
/// let credentials = ApplicationDefault::new(transport.token_http()).find().await?;
/// let transport = transport.with_credentials(Arc::new(CachedTokenProvider::new(credentials)));
/// let request = http::Request::get("https://artifactregistry.googleapis.com/v1/projects/p/locations")
///     .body(Body::empty())
///     .unwrap();
/// let response = transport.send(request).await?;
/// let bytes = response.into_body().collect_bytes(1 << 20).await?;
/// # drop(bytes); Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transport {
    base: Erased,
    retry: Option<RetryLayer>,
    observe: ObserveLayer,
    breaker: Option<CircuitBreakerLayer>,
    plain: Option<Erased>,
    authed: Option<Erased>,
    /// Set on every request that lacks them (`User-Agent` at least).
    headers: Arc<HeaderMap>,
}

/// Sets each of `defaults` on `request` unless the request already has it.
fn add_defaults(defaults: &HeaderMap, request: &mut Request<Body>) {
    let headers = request.headers_mut();
    for (name, value) in defaults {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("retry", &self.retry.is_some())
            .field("breaker", &self.breaker.is_some())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A builder with the defaults of design.md.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    fn assemble(&self, credentials: Option<Arc<dyn TokenProvider>>) -> Erased {
        let mut service = self.base.clone();
        if let Some(provider) = credentials {
            service = Erased::new(AuthLayer::new(provider).layer(service));
        }
        if let Some(retry) = &self.retry {
            service = Erased::new(retry.layer(service));
        }
        Erased::new(self.observe.layer(service))
    }

    /// The same stack (sharing connections and breakers) with bearer tokens from
    /// `provider`.
    #[must_use]
    pub fn with_credentials(&self, provider: Arc<dyn TokenProvider>) -> Self {
        let mut copy = self.clone();
        copy.authed = Some(self.assemble(Some(provider)));
        copy
    }

    /// Sends `request` through the stack.
    pub async fn send(&self, mut request: Request<Body>) -> Result<Response<Body>, Error> {
        add_defaults(&self.headers, &mut request);
        let mut service = self.service();
        call(&mut service, request).await
    }

    /// The same stack (sharing connections, breakers and credentials) that also
    /// sets `name: value` on every request lacking that header. gar uses it to
    /// tell an emulator which location's registry a request is for.
    #[must_use]
    pub fn with_default_header(&self, name: HeaderName, value: HeaderValue) -> Self {
        let mut copy = self.clone();
        let mut headers = HeaderMap::clone(&self.headers);
        headers.insert(name, value);
        copy.headers = Arc::new(headers);
        copy
    }

    /// The `User-Agent` this transport sends on requests that set none.
    pub fn user_agent(&self) -> Option<&str> {
        self.headers.get(USER_AGENT).and_then(|v| v.to_str().ok())
    }

    fn service(&self) -> Erased {
        self.authed
            .clone()
            .or_else(|| self.plain.clone())
            .unwrap_or_else(|| self.base.clone())
    }

    /// The state of `host`'s circuit breaker (`host[:port]`), if it was used.
    pub fn circuit_state(&self, host: &str) -> Option<CircuitState> {
        self.breaker.as_ref().and_then(|b| b.state(host))
    }

    /// An [`HttpClient`] for credential sources: this stack without bearer
    /// tokens (token requests must not carry one), with retries and timeouts.
    pub fn token_http(&self) -> Arc<dyn HttpClient> {
        let service = self.plain.clone().unwrap_or_else(|| self.base.clone());
        Arc::new(TokenHttp(service, self.headers.clone()))
    }
}

impl Service<Request<Body>> for Transport {
    type Response = Response<Body>;
    type Error = Error;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> BoxFuture {
        add_defaults(&self.headers, &mut request);
        let mut service = self.service();
        Box::pin(async move { call(&mut service, request).await })
    }
}

/// Largest token-endpoint answer read.
const TOKEN_ANSWER_LIMIT: usize = 1 << 20;

/// [`HttpClient`] over the plain stack, with the transport's default headers.
#[derive(Clone, Debug)]
struct TokenHttp(Erased, Arc<HeaderMap>);

impl HttpClient for TokenHttp {
    fn send(&self, request: Request<Bytes>) -> HttpFuture<'_> {
        let mut service = self.0.clone();
        Box::pin(async move {
            let mut request = request.map(Body::full);
            add_defaults(&self.1, &mut request);
            // Token grants are safe to repeat: a second grant just mints another token.
            request.extensions_mut().insert(Idempotency::Idempotent);
            request
                .extensions_mut()
                .insert(Operation::new("gar.auth.token"));
            let response = call(&mut service, request).await?;
            let (parts, body) = response.into_parts();
            let bytes = body::Body::collect_bytes(body, TOKEN_ANSWER_LIMIT).await?;
            Ok(Response::from_parts(parts, bytes))
        })
    }
}
