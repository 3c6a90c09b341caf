//! [`CachedTokenProvider`]: one token shared by every caller, refreshed in the
//! background before it expires, fetched by one caller at a time.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use gar_core::{Error, ErrorKind};
use tokio::task::AbortHandle;

use crate::AccessToken;
use crate::token::{TokenFuture, TokenProvider, now};

/// Tokens with less than this left are treated as expired.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// After a failed background refresh, the next try waits at most this long.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// Caches the tokens of another provider.
///
/// - **Expiry**: a token is handed out while more than 10 s of it remain.
/// - **Background refresh**: when 80 % of a token's lifetime has passed, a
///   background task fetches the next one, so callers never wait for a refresh of
///   a token that is still valid.
/// - **Single flight**: however many callers ask at once, one request goes to the
///   token endpoint; the others wait for its answer (success or failure).
/// - **Invalidation**: [`invalidate`](TokenProvider::invalidate) (after a 401)
///   drops the rejected token, so the next caller fetches a new one.
///
/// Cheap to clone; clones share the cache.
///
/// ```
/// use std::sync::Arc;
/// use gar_auth::{CachedTokenProvider, SecretString, StaticToken, TokenProvider};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let cache = CachedTokenProvider::new(StaticToken::new(SecretString::new("t")));
/// assert_eq!(cache.token().await.unwrap().secret().expose_secret(), "t");
/// # });
/// ```
#[derive(Clone)]
pub struct CachedTokenProvider {
    shared: Arc<Shared>,
}

struct Shared {
    source: Box<dyn TokenProvider>,
    refresh_fraction: f64,
    state: Mutex<State>,
    /// Held by whoever is fetching; the single-flight gate.
    flight: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    token: Option<AccessToken>,
    /// Bumped after every fetch, successful or not.
    generation: u64,
    /// The failure of the last fetch, handed to callers that waited for it.
    last_failure: Option<(ErrorKind, String)>,
    timer: Option<AbortHandle>,
}

impl fmt::Debug for CachedTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("CachedTokenProvider")
            .field("source", &self.shared.source)
            .field("token", &state.token)
            .field("refresh_fraction", &self.shared.refresh_fraction)
            .finish()
    }
}

impl CachedTokenProvider {
    /// Caches the tokens of `source`, refreshing at 80 % of their lifetime.
    pub fn new(source: impl TokenProvider + 'static) -> Self {
        Self::with_refresh_fraction(source, 0.8)
    }

    /// Caches the tokens of `source`, refreshing when `fraction` (clamped to
    /// 0.1..=0.95) of their lifetime has passed.
    pub fn with_refresh_fraction(source: impl TokenProvider + 'static, fraction: f64) -> Self {
        let fraction = if fraction.is_nan() {
            0.8
        } else {
            fraction.clamp(0.1, 0.95)
        };
        Self {
            shared: Arc::new(Shared {
                source: Box::new(source),
                refresh_fraction: fraction,
                state: Mutex::new(State::default()),
                flight: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The cached token, if one is held and still fresh; never fetches.
    pub fn cached(&self) -> Option<AccessToken> {
        fresh(&self.shared.lock(), now())
    }
}

/// `state`'s token if it has more than [`EXPIRY_MARGIN`] left at `at`.
fn fresh(state: &State, at: Instant) -> Option<AccessToken> {
    let token = state.token.as_ref()?;
    match token.remaining_at(at) {
        None => Some(token.clone()),
        Some(left) if left > EXPIRY_MARGIN => Some(token.clone()),
        Some(_) => None,
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh token, fetching one (single flight) if needed.
    async fn get(self: &Arc<Self>) -> Result<AccessToken, Error> {
        let generation = {
            let state = self.lock();
            if let Some(token) = fresh(&state, now()) {
                return Ok(token);
            }
            state.generation
        };
        let _flight = self.flight.lock().await;
        {
            let state = self.lock();
            if let Some(token) = fresh(&state, now()) {
                return Ok(token);
            }
            if let (true, Some((kind, message))) =
                (state.generation != generation, &state.last_failure)
            {
                // We waited for another caller's fetch, and it failed: share its answer
                // instead of hammering the token endpoint once per waiter.
                return Err(Error::new(*kind, message.clone()));
            }
        }
        self.fetch_locked().await
    }

    /// Fetches a token; the caller holds the flight gate.
    async fn fetch_locked(self: &Arc<Self>) -> Result<AccessToken, Error> {
        tracing::debug!("fetching an access token");
        let result = self.source.token().await;
        let mut state = self.lock();
        state.generation = state.generation.wrapping_add(1);
        match &result {
            Ok(token) => {
                state.token = Some(token.clone());
                state.last_failure = None;
                let at = now();
                if let Some(left) = token.remaining_at(at) {
                    let wait = left.mul_f64(self.refresh_fraction);
                    self.schedule(&mut state, at.checked_add(wait).unwrap_or(at));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "fetching an access token failed");
                state.last_failure = Some((e.kind(), e.to_string()));
            }
        }
        result
    }

    /// Arranges a background refresh at `when`, replacing any earlier one.
    fn schedule(self: &Arc<Self>, state: &mut State, when: Instant) {
        if let Some(old) = state.timer.take() {
            old.abort();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Self> = Arc::downgrade(self);
        let task = runtime.spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(when)).await;
            if let Some(shared) = weak.upgrade() {
                shared.refresh_in_background().await;
            }
        });
        state.timer = Some(task.abort_handle());
    }

    async fn refresh_in_background(self: &Arc<Self>) {
        let _flight = self.flight.lock().await;
        tracing::debug!("refreshing the access token in the background");
        if self.fetch_locked().await.is_err() {
            // Keep the current token while it lasts and try again later.
            let mut state = self.lock();
            let at = now();
            let left = state
                .token
                .as_ref()
                .and_then(|t| t.remaining_at(at))
                .unwrap_or(Duration::ZERO);
            if left > EXPIRY_MARGIN {
                let wait = (left / 2).min(RETRY_AFTER_FAILURE);
                self.schedule(&mut state, at.checked_add(wait).unwrap_or(at));
            }
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(timer) = state.timer.take() {
            timer.abort();
        }
    }
}

impl TokenProvider for CachedTokenProvider {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.shared.get())
    }

    fn invalidate(&self, rejected: &AccessToken) {
        let mut state = self.shared.lock();
        if state
            .token
            .as_ref()
            .is_some_and(|t| t.secret() == rejected.secret())
        {
            tracing::debug!("dropping a rejected access token");
            state.token = None;
            if let Some(timer) = state.timer.take() {
                timer.abort();
            }
        }
        drop(state);
        self.shared.source.invalidate(rejected);
    }
}
