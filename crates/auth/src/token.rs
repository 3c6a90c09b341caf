//! [`AccessToken`] and the [`TokenProvider`] trait every credential implements.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gar_core::Error;

use crate::SecretString;

/// The scope gar asks for unless told otherwise.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The read-only variant of [`CLOUD_PLATFORM_SCOPE`].
pub const CLOUD_PLATFORM_READ_ONLY_SCOPE: &str =
    "https://www.googleapis.com/auth/cloud-platform.read-only";

/// An OAuth 2.0 access token and when it stops working.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    secret: SecretString,
    expires_at: Option<Instant>,
}

impl AccessToken {
    /// A token that expires at `expires_at` (`None`: never, as far as gar knows).
    pub fn new(secret: SecretString, expires_at: Option<Instant>) -> Self {
        Self { secret, expires_at }
    }

    /// A token that expires `lifetime` from now (on tokio's clock, so a paused
    /// test clock applies).
    pub fn expiring_in(secret: SecretString, lifetime: Duration) -> Self {
        Self::new(secret, now().checked_add(lifetime))
    }

    /// The token.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// When the token expires, if known.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    /// How long the token stays valid from `at`; `None` if it never expires.
    pub fn remaining_at(&self, at: Instant) -> Option<Duration> {
        self.expires_at
            .map(|deadline| deadline.saturating_duration_since(at))
    }

    /// The value of an `Authorization` header carrying this token.
    pub fn bearer_header(&self) -> SecretString {
        SecretString::new(format!("Bearer {}", self.secret.expose_secret()))
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &self.secret)
            .field("remaining", &self.remaining_at(now()))
            .finish()
    }
}

/// "Now" on tokio's clock, as a std `Instant` (a paused test clock applies).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The future a [`TokenProvider`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// Something that hands out access tokens: a credential source, a cache, or a test
/// double. This is the seam transport's auth layer uses.
///
/// ```
/// use gar_auth::{AccessToken, SecretString, StaticToken, TokenProvider};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let provider = StaticToken::new(SecretString::new("ya29.token"));
/// let token = provider.token().await.unwrap();
/// assert_eq!(token.secret().expose_secret(), "ya29.token");
/// # });
/// ```
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// A token that is valid now. Sources fetch a new one on every call; caches
    /// return the one they hold while it is fresh.
    fn token(&self) -> TokenFuture<'_>;

    /// Tells the provider that a server rejected `rejected` (HTTP 401). A cache
    /// drops it so that the next [`token`](Self::token) fetches a fresh one; sources
    /// ignore it.
    fn invalidate(&self, rejected: &AccessToken) {
        let _ = rejected;
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn token(&self) -> TokenFuture<'_> {
        (**self).token()
    }

    fn invalidate(&self, rejected: &AccessToken) {
        (**self).invalidate(rejected);
    }
}

/// A fixed access token, for callers that obtain tokens themselves
/// (`gcloud auth print-access-token`, a CI secret).
#[derive(Debug, Clone)]
pub struct StaticToken {
    token: AccessToken,
}

impl StaticToken {
    /// Always hands out `secret`, which gar assumes does not expire.
    pub fn new(secret: SecretString) -> Self {
        Self {
            token: AccessToken::new(secret, None),
        }
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        let token = self.token.clone();
        Box::pin(async move { Ok(token) })
    }
}
