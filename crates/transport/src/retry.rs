//! Retries by design.md's table: per-kind attempts and backoff from
//! [`RetryClass::default_policy`], `Retry-After` honoured, jitter, and only for
//! requests that are safe to repeat and whose body can be replayed.
//!
//! | answer | class | attempts | backoff |
//! | --- | --- | --- | --- |
//! | 429, `RESOURCE_EXHAUSTED` | Quota | 5 | exponential from 30 s; `Retry-After` wins |
//! | 500, `INTERNAL`, `UNKNOWN` | Internal | 3 | exponential from 1 s |
//! | 502, 503, `UNAVAILABLE`, connection failures | Unavailable | 3 | exponential from 2 s |
//! | 408, 504, `DEADLINE_EXCEEDED`, timeouts | Timeout | 3 | fixed 1 s |
//!
//! 401 is the auth layer's business; every other answer is returned as is. The
//! kind comes from gar-core's mapping of the status and, for error answers, the
//! `google.rpc.Status` body (so a 429 that says the storage quota is exhausted is
//! not retried). gRPC answers are classified by `grpc-status`, read from the
//! headers of a trailers-only answer or from the trailers.
//!
//! ```
//! use std::time::Duration;
//! use gar_core::error::{RetryClass, RetryPolicy};
//! use gar_transport::retry::{RetryConfig, RetryLayer};
//! use gar_transport::{ClientConfig, HttpsClient};
//! use tower::ServiceBuilder;
//!
//! let config = RetryConfig::new()
//!     .with_policy(RetryClass::Internal, RetryPolicy {
//!         max_attempts: 5,
//!         initial_backoff: Duration::from_millis(200),
//!         multiplier: 2,
//!         max_backoff: Duration::from_secs(5),
//!         honour_retry_after: true,
//!     })
//!     .with_jitter(0.1);
//! let service = ServiceBuilder::new()
//!     .layer(RetryLayer::new(config))
//!     .service(HttpsClient::new(&ClientConfig::default()).unwrap());
//! # drop(service);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use gar_core::Error;
use gar_core::error::{GrpcCode, RetryClass, RetryPolicy};
use http::{Method, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::Body;
use crate::body::peek_to_end;
use crate::clock::{Clock, TokioClock};
use crate::errors::{is_circuit_open, is_not_recorded, is_tls_failure};
use crate::util::{call, grpc_status, is_grpc, try_clone_request};

/// Marks a request as safe (or not) to send more than once, overriding the
/// method's default: `GET`, `HEAD`, `OPTIONS`, `PUT` and `DELETE` are idempotent,
/// `POST` and `PATCH` are not.
///
/// ```
/// use gar_transport::{Body, retry::Idempotency};
///
/// let mut request = http::Request::post("https://example.com/v1/x:batchGet")
///     .body(Body::from("{}"))
///     .unwrap();
/// request.extensions_mut().insert(Idempotency::Idempotent);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Sending it twice does no harm.
    Idempotent,
    /// Never send it twice.
    NotIdempotent,
}

/// How many attempts the retry layer made for a call; in the extensions of the
/// response it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts(pub u32);

/// What the retry layer does, per [`RetryClass`].
#[derive(Clone)]
pub struct RetryConfig {
    policies: HashMap<RetryClass, RetryPolicy>,
    jitter: f64,
    max_retry_after: Duration,
    inspect_limit: usize,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RetryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryConfig")
            .field("policies", &self.policies)
            .field("jitter", &self.jitter)
            .field("max_retry_after", &self.max_retry_after)
            .finish_non_exhaustive()
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryConfig {
    /// design.md's table, 20 % jitter, `Retry-After` honoured up to 10 minutes.
    pub fn new() -> Self {
        Self {
            policies: HashMap::new(),
            jitter: 0.2,
            max_retry_after: Duration::from_secs(600),
            inspect_limit: 64 * 1024,
            clock: Arc::new(TokioClock),
        }
    }

    /// Uses `policy` for `class`.
    #[must_use]
    pub fn with_policy(mut self, class: RetryClass, policy: RetryPolicy) -> Self {
        self.policies.insert(class, policy);
        self
    }

    /// Shortens each computed wait by a random fraction of up to `fraction`
    /// (clamped to 0..=1; 0 turns jitter off). A server's `Retry-After` is used as given.
    #[must_use]
    pub fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// Gives up instead of waiting when a server asks for more than `limit`.
    #[must_use]
    pub fn with_max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// Reads wall-clock time (for `Retry-After` dates) from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The policy used for `class`.
    pub fn policy(&self, class: RetryClass) -> RetryPolicy {
        self.policies
            .get(&class)
            .copied()
            .unwrap_or_else(|| class.default_policy())
    }
}

/// Retries failed calls; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct RetryLayer {
    config: Arc<RetryConfig>,
    rng: Arc<Rng>,
}

impl RetryLayer {
    /// A layer with `config`.
    pub fn new(config: RetryConfig) -> Self {
        Self {
            config: Arc::new(config),
            rng: Arc::new(Rng::new()),
        }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Retry<S> {
        Retry {
            inner,
            config: self.config.clone(),
            rng: self.rng.clone(),
        }
    }
}

/// The service of [`RetryLayer`].
#[derive(Debug, Clone)]
pub struct Retry<S> {
    inner: S,
    config: Arc<RetryConfig>,
    rng: Arc<Rng>,
}

/// Whether `request` may be sent more than once.
fn may_repeat(request: &Request<Body>) -> bool {
    match request.extensions().get::<Idempotency>() {
        Some(Idempotency::Idempotent) => true,
        Some(Idempotency::NotIdempotent) => false,
        None => matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
        ),
    }
}

/// The verdict on one attempt.
struct Verdict {
    class: RetryClass,
    retry_after: Option<Duration>,
    what: String,
}

/// Parses a `Retry-After` value (RFC 9110 §10.2.3): delay-seconds (`120`) or an
/// HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`), read against `now` (pass the
/// transport's [`Clock::system_now`] to stay on an injected clock). A date in
/// the past means no wait; anything else unreadable is `None`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use gar_transport::retry::parse_retry_after;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
/// let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
/// assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

impl<S> Retry<S> {
    /// Classifies an answer, reading a small error body or a gRPC answer's
    /// trailers when needed. Returns the (possibly rebuilt) response.
    async fn classify(
        config: &RetryConfig,
        result: Result<Response<Body>, Error>,
        replayable: bool,
    ) -> (Result<Response<Body>, Error>, Option<Verdict>) {
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                if is_circuit_open(&e) || is_tls_failure(&e) || is_not_recorded(&e) {
                    return (Err(e), None);
                }
                let verdict = Verdict {
                    class: e.retry_class(),
                    retry_after: e.retry_after(),
                    what: e.kind().code().to_owned(),
                };
                return (Err(e), Some(verdict));
            }
        };
        let status = response.status();
        let header_wait = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, config.clock.system_now()));
        if is_grpc(response.headers()) && status == StatusCode::OK {
            if let Some((code, message)) = grpc_status(response.headers()) {
                let verdict = grpc_verdict(code, &message, header_wait);
                return (Ok(response), verdict);
            }
            if !replayable {
                return (Ok(response), None);
            }
            let (parts, body) = response.into_parts();
            return match peek_to_end(body, config.inspect_limit).await {
                Ok(peeked) => {
                    let verdict = peeked
                        .trailers
                        .as_ref()
                        .and_then(grpc_status)
                        .and_then(|(code, message)| grpc_verdict(code, &message, header_wait));
                    (Ok(Response::from_parts(parts, peeked.body)), verdict)
                }
                Err(e) => {
                    let verdict = Verdict {
                        class: e.retry_class(),
                        retry_after: None,
                        what: e.kind().code().to_owned(),
                    };
                    (Err(e), Some(verdict))
                }
            };
        }
        let candidate = matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504);
        if !candidate || !replayable {
            return (Ok(response), None);
        }
        let (parts, body) = response.into_parts();
        let peeked = match peek_to_end(body, config.inspect_limit).await {
            Ok(peeked) => peeked,
            Err(e) => {
                let verdict = Verdict {
                    class: e.retry_class(),
                    retry_after: None,
                    what: e.kind().code().to_owned(),
                };
                return (Err(e), Some(verdict));
            }
        };
        let text = if peeked.complete {
            peeked.body.as_bytes().unwrap_or_default()
        } else {
            &[]
        };
        let err = Error::from_http(status.as_u16(), text, None);
        let verdict = Verdict {
            class: err.retry_class(),
            retry_after: header_wait.or(err.retry_after()),
            what: format!("HTTP {} ({})", status.as_u16(), err.kind().code()),
        };
        (Ok(Response::from_parts(parts, peeked.body)), Some(verdict))
    }
}

fn grpc_verdict(code: i32, message: &str, header_wait: Option<Duration>) -> Option<Verdict> {
    if code == 0 {
        return None;
    }
    let err = Error::from_grpc(GrpcCode::from_i32(code), message, None);
    Some(Verdict {
        class: err.retry_class(),
        retry_after: header_wait,
        what: format!("gRPC {}", GrpcCode::from_i32(code).name()),
    })
}

impl<S> Service<Request<Body>> for Retry<S>
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
        let config = self.config.clone();
        let rng = self.rng.clone();
        future::ResponseFuture::new(async move {
            let repeatable = may_repeat(&request);
            let mut request = request;
            let mut attempt: u32 = 1;
            loop {
                let again = if repeatable {
                    try_clone_request(&request)
                } else {
                    None
                };
                let result = call(&mut inner, request).await;
                let (result, verdict) = Self::classify(&config, result, again.is_some()).await;
                let (Some(verdict), Some(next)) = (verdict, again) else {
                    return with_attempts(result, attempt);
                };
                if matches!(
                    verdict.class,
                    RetryClass::Never | RetryClass::AfterTokenRefresh
                ) {
                    return with_attempts(result, attempt);
                }
                let policy = config.policy(verdict.class);
                if attempt >= policy.max_attempts {
                    tracing::debug!(attempt, answer = %verdict.what, "giving up: no attempts left");
                    return with_attempts(result, attempt);
                }
                let wait = match verdict.retry_after.filter(|_| policy.honour_retry_after) {
                    Some(asked) if asked > config.max_retry_after => {
                        tracing::debug!(?asked, "giving up: the server asks for too long a wait");
                        return with_attempts(result, attempt);
                    }
                    Some(asked) => asked,
                    None => rng.shorten(policy.backoff(attempt), config.jitter),
                };
                drop(result);
                tracing::debug!(attempt, answer = %verdict.what, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt = attempt.saturating_add(1);
                request = next;
            }
        })
    }
}

fn with_attempts(
    result: Result<Response<Body>, Error>,
    attempts: u32,
) -> Result<Response<Body>, Error> {
    result.map(|mut response| {
        response.extensions_mut().insert(Attempts(attempts));
        response
    })
}

/// A tiny xorshift generator for jitter (no cryptographic use).
#[derive(Debug)]
struct Rng(AtomicU64);

impl Rng {
    fn new() -> Self {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0x9e37_79b9_7f4a_7c15);
        Self(AtomicU64::new(hasher.finish() | 1))
    }

    /// A number in `[0, 1)`.
    fn next_unit(&self) -> f64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `wait` shortened by a random part of up to `fraction`.
    fn shorten(&self, wait: Duration, fraction: f64) -> Duration {
        if fraction <= 0.0 {
            return wait;
        }
        wait.mul_f64(1.0 - fraction * self.next_unit())
    }
}

pub mod future {
    //! The future of the [`Retry`](super::Retry) service.
    response_future!("Retry");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(42))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn jitter_stays_in_bounds() {
        let rng = Rng::new();
        let base = Duration::from_secs(10);
        let mut seen_short = false;
        for _ in 0..1000 {
            let d = rng.shorten(base, 0.2);
            assert!(d <= base && d >= Duration::from_secs(8), "{d:?}");
            seen_short |= d < Duration::from_millis(9900);
        }
        assert!(seen_short, "jitter varies the wait");
        assert_eq!(rng.shorten(base, 0.0), base);
    }

    #[test]
    fn methods_and_markers() {
        let mut r = Request::get("http://h/").body(Body::empty()).unwrap();
        assert!(may_repeat(&r));
        r.extensions_mut().insert(Idempotency::NotIdempotent);
        assert!(!may_repeat(&r));
        let mut r = Request::post("http://h/").body(Body::empty()).unwrap();
        assert!(!may_repeat(&r));
        r.extensions_mut().insert(Idempotency::Idempotent);
        assert!(may_repeat(&r));
        let r = Request::patch("http://h/").body(Body::empty()).unwrap();
        assert!(!may_repeat(&r));
        let r = Request::delete("http://h/").body(Body::empty()).unwrap();
        assert!(may_repeat(&r));
    }

    #[test]
    fn config_defaults_follow_the_table() {
        let c = RetryConfig::new();
        assert_eq!(c.policy(RetryClass::Quota).max_attempts, 5);
        let custom = RetryPolicy {
            max_attempts: 9,
            ..RetryClass::Internal.default_policy()
        };
        let c = c.with_policy(RetryClass::Internal, custom);
        assert_eq!(c.policy(RetryClass::Internal).max_attempts, 9);
        assert_eq!(c.with_jitter(f64::NAN).jitter, 0.0);
    }
}
