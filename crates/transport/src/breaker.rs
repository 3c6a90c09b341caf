//! A circuit breaker per endpoint host.
//!
//! - **Closed**: calls pass; 5 consecutive failures open the circuit.
//! - **Open**: calls fail at once with `CircuitOpen`, without touching the
//!   server, for 30 s.
//! - **Half-open**: one probe call at a time passes (the others fail fast); 2
//!   successful probes close the circuit, a failed one opens it again.
//!
//! A failure is a transport error (connection, timeout) or an answer the server
//! gives when it is in trouble: 500, 502, 503, 504, or the gRPC codes
//! `UNAVAILABLE`, `INTERNAL`, `UNKNOWN`, `DATA_LOSS`, `DEADLINE_EXCEEDED`. Every number is
//! configurable and the clock injectable.
//!
//! ```
//! use std::time::Duration;
//! use gar_transport::breaker::{BreakerConfig, CircuitBreakerLayer};
//! use gar_transport::{ClientConfig, HttpsClient};
//! use tower::ServiceBuilder;
//!
//! let breaker = CircuitBreakerLayer::new(BreakerConfig {
//!     open_for: Duration::from_secs(10),
//!     ..BreakerConfig::default()
//! });
//! let service = ServiceBuilder::new()
//!     .layer(breaker.clone())
//!     .service(HttpsClient::new(&ClientConfig::default()).unwrap());
//! assert_eq!(breaker.state("artifactregistry.googleapis.com"), None);
//! # drop(service);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use gar_core::{Error, ErrorKind};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::Body;
use crate::clock::{Clock, TokioClock};
use crate::errors::CircuitOpen;
use crate::util::{authority, call, grpc_status};

/// The breaker's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open a closed circuit (default 5).
    pub failure_threshold: u32,
    /// Successful probes that close a half-open circuit (default 2).
    pub success_threshold: u32,
    /// How long a circuit stays open before probing (default 30 s).
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            success_threshold: 2,
            open_for: Duration::from_secs(30),
        }
    }
}

/// The state of one host's circuit.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls pass.
    Closed,
    /// Calls fail fast.
    Open,
    /// Probe calls pass, one at a time.
    HalfOpen,
}

#[derive(Debug)]
enum HostState {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { successes: u32, probing: bool },
}

#[derive(Debug)]
struct Registry {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    hosts: Mutex<HashMap<String, HostState>>,
}

/// What [`Registry::admit`] decided.
enum Admission {
    Pass { probe: bool },
    Reject { wait: Duration },
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, HostState>> {
        self.hosts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn admit(&self, host: &str) -> Admission {
        let now = self.clock.now();
        let mut hosts = self.lock();
        let state = hosts
            .entry(host.to_owned())
            .or_insert(HostState::Closed { failures: 0 });
        match state {
            HostState::Closed { .. } => Admission::Pass { probe: false },
            HostState::Open { until } => {
                if now >= *until {
                    tracing::info!(host, "circuit half-open: probing");
                    *state = HostState::HalfOpen {
                        successes: 0,
                        probing: true,
                    };
                    Admission::Pass { probe: true }
                } else {
                    Admission::Reject {
                        wait: until.saturating_duration_since(now),
                    }
                }
            }
            HostState::HalfOpen { probing, .. } => {
                if *probing {
                    Admission::Reject {
                        wait: Duration::ZERO,
                    }
                } else {
                    *probing = true;
                    Admission::Pass { probe: true }
                }
            }
        }
    }

    fn record(&self, host: &str, probe: bool, success: Option<bool>) {
        let now = self.clock.now();
        let config = self.config;
        let mut hosts = self.lock();
        let Some(state) = hosts.get_mut(host) else {
            return;
        };
        let open = || HostState::Open {
            until: now.checked_add(config.open_for).unwrap_or(now),
        };
        match (state, success) {
            (HostState::Closed { failures }, Some(true)) => *failures = 0,
            (state @ HostState::Closed { .. }, Some(false)) => {
                if let HostState::Closed { failures } = state {
                    *failures = failures.saturating_add(1);
                    if *failures >= config.failure_threshold {
                        tracing::warn!(host, failures = *failures, "circuit open");
                        *state = open();
                    }
                }
            }
            (state @ HostState::HalfOpen { .. }, outcome) if probe => {
                let HostState::HalfOpen { successes, probing } = state else {
                    return;
                };
                *probing = false;
                match outcome {
                    Some(true) => {
                        *successes = successes.saturating_add(1);
                        if *successes >= config.success_threshold {
                            tracing::info!(host, "circuit closed");
                            *state = HostState::Closed { failures: 0 };
                        }
                    }
                    Some(false) => {
                        tracing::warn!(host, "probe failed: circuit open again");
                        *state = open();
                    }
                    // The probe was cancelled: let the next call probe.
                    None => {}
                }
            }
            _ => {}
        }
    }

    fn state(&self, host: &str) -> Option<CircuitState> {
        let now = self.clock.now();
        self.lock().get(host).map(|s| match s {
            HostState::Closed { .. } => CircuitState::Closed,
            HostState::Open { until } if now >= *until => CircuitState::HalfOpen,
            HostState::Open { .. } => CircuitState::Open,
            HostState::HalfOpen { .. } => CircuitState::HalfOpen,
        })
    }
}

/// One breaker per host; clones share the breakers.
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    registry: Arc<Registry>,
}

impl CircuitBreakerLayer {
    /// Breakers with `config` on tokio's clock.
    pub fn new(config: BreakerConfig) -> Self {
        Self::with_clock(config, Arc::new(TokioClock))
    }

    /// Breakers with `config` reading time from `clock`.
    pub fn with_clock(config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            registry: Arc::new(Registry {
                config,
                clock,
                hosts: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The state of `host`'s circuit (`host[:port]` as in the URL), if it was used.
    pub fn state(&self, host: &str) -> Option<CircuitState> {
        self.registry.state(host)
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreaker<S>;

    fn layer(&self, inner: S) -> CircuitBreaker<S> {
        CircuitBreaker {
            inner,
            registry: self.registry.clone(),
        }
    }
}

/// The service of [`CircuitBreakerLayer`].
#[derive(Debug, Clone)]
pub struct CircuitBreaker<S> {
    inner: S,
    registry: Arc<Registry>,
}

/// Whether an answer counts as the server failing.
fn is_failure(result: &Result<Response<Body>, Error>) -> bool {
    match result {
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionFailed | ErrorKind::Timeout | ErrorKind::DnsResolutionFailed
        ),
        Ok(response) => {
            matches!(response.status().as_u16(), 500 | 502 | 503 | 504)
                || grpc_status(response.headers())
                    .is_some_and(|(code, _)| matches!(code, 2 | 4 | 13 | 14 | 15))
        }
    }
}

/// Reports a cancelled probe if the call is dropped before it finishes.
struct Outcome {
    registry: Arc<Registry>,
    host: String,
    probe: bool,
    done: bool,
}

impl Outcome {
    fn record(mut self, success: bool) {
        self.done = true;
        self.registry.record(&self.host, self.probe, Some(success));
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.done {
            self.registry.record(&self.host, self.probe, None);
        }
    }
}

impl<S> Service<Request<Body>> for CircuitBreaker<S>
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
        let registry = self.registry.clone();
        let host = authority(&request);
        future::ResponseFuture::new(async move {
            let probe = match registry.admit(&host) {
                Admission::Pass { probe } => probe,
                Admission::Reject { wait } => {
                    let mut err = Error::new(
                        ErrorKind::CircuitOpen,
                        format!(
                            "{host} is failing: the circuit breaker is open; calls resume in {wait:?}"
                        ),
                    )
                    .with_source(CircuitOpen { host: host.clone() });
                    if !wait.is_zero() {
                        err = err.with_retry_after(wait);
                    }
                    return Err(err);
                }
            };
            let outcome = Outcome {
                registry,
                host,
                probe,
                done: false,
            };
            let result = call(&mut inner, request).await;
            outcome.record(!is_failure(&result));
            result
        })
    }
}

pub mod future {
    //! The future of the [`CircuitBreaker`](super::CircuitBreaker) service.
    response_future!("CircuitBreaker");
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn registry(clock: &ManualClock) -> Registry {
        Registry {
            config: BreakerConfig::default(),
            clock: Arc::new(clock.clone()),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn pass(r: &Registry) -> bool {
        match r.admit("h") {
            Admission::Pass { probe } => probe,
            Admission::Reject { .. } => panic!("rejected"),
        }
    }

    #[test]
    fn full_cycle_on_a_manual_clock() {
        let clock = ManualClock::new();
        let r = registry(&clock);
        for _ in 0..4 {
            assert!(!pass(&r));
            r.record("h", false, Some(false));
        }
        assert_eq!(r.state("h"), Some(CircuitState::Closed));
        // A success resets the count.
        assert!(!pass(&r));
        r.record("h", false, Some(true));
        for _ in 0..5 {
            assert!(!pass(&r));
            r.record("h", false, Some(false));
        }
        assert_eq!(r.state("h"), Some(CircuitState::Open));
        clock.advance(Duration::from_secs(29));
        match r.admit("h") {
            Admission::Reject { wait } => assert_eq!(wait, Duration::from_secs(1)),
            Admission::Pass { .. } => panic!("passed while open"),
        }
        clock.advance(Duration::from_secs(1));
        assert_eq!(r.state("h"), Some(CircuitState::HalfOpen));
        assert!(pass(&r), "first call after 30 s probes");
        assert!(
            matches!(r.admit("h"), Admission::Reject { .. }),
            "one probe at a time"
        );
        r.record("h", true, Some(true));
        assert!(pass(&r));
        // A cancelled probe frees the slot without a verdict.
        r.record("h", true, None);
        assert!(pass(&r));
        r.record("h", true, Some(true));
        assert_eq!(r.state("h"), Some(CircuitState::Closed));
    }

    #[test]
    fn failed_probe_reopens() {
        let clock = ManualClock::new();
        let r = registry(&clock);
        for _ in 0..5 {
            pass(&r);
            r.record("h", false, Some(false));
        }
        clock.advance(Duration::from_secs(30));
        assert!(pass(&r));
        r.record("h", true, Some(false));
        assert_eq!(r.state("h"), Some(CircuitState::Open));
        clock.advance(Duration::from_secs(29));
        assert!(matches!(r.admit("h"), Admission::Reject { .. }));
        assert_eq!(CircuitState::HalfOpen.to_string(), "half-open");
    }
}
