//! Registry authentication: credentials ([`RegistryAuth`]), the
//! `WWW-Authenticate` challenge flow, and a cache of registry tokens per
//! (repository, actions) with expiry.
//!
//! The first request to a registry goes out without credentials (unless a Google
//! token is sent directly); the registry's 401 names the scheme. For `Basic`,
//! every later request carries the credentials. For `Bearer`, gar asks the
//! challenge's realm for a token covering the repository and actions the call
//! needs (sending the credentials as Basic), caches it until shortly before it
//! expires, and reuses it for every call it covers. A 401 on a call that carried
//! a token drops that token, fetches a fresh one (refreshing a Google access
//! token the realm refuses) and sends the call once more, so a token that expires
//! in the middle of a long push is replaced without failing it.
//!
//! GAR accepts three usernames with Basic credentials: `oauth2accesstoken`
//! (the password is a Google access token; [`RegistryAuth::google`]),
//! `_json_key` (a service-account key file; [`RegistryAuth::json_key`]) and
//! `_json_key_base64` (the same, base64-encoded; [`RegistryAuth::json_key_base64`]).
//! It also accepts a Google access token directly as the bearer token
//! ([`RegistryAuth::google_direct`]), which saves the token exchange.
//!
//! ```
//! use std::sync::Arc;
//! use gar_auth::{SecretString, StaticToken};
//! use gar_oci::RegistryAuth;
//!
//! let anonymous = RegistryAuth::anonymous();
//! let htpasswd = RegistryAuth::basic("ci", SecretString::new("s3cret"));
//! let google = RegistryAuth::google(Arc::new(StaticToken::new(SecretString::new("ya29.t"))));
//! assert!(format!("{htpasswd:?}").contains("[redacted]"));
//! # drop((anonymous, google));
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gar_auth::{AccessToken, SecretString, TokenProvider};
use gar_core::Error;
use gar_core::error::{ErrorKind, Resource, ResourceKind};
use gar_transport::observe::Operation;
use gar_transport::retry::Idempotency;
use gar_transport::{Body, Transport};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use serde::Deserialize;
use tokio::time::Instant;

use crate::http::query_encode;
use crate::wire::Challenge;

/// The username GAR reads a Google access token from.
pub const OAUTH2_ACCESS_TOKEN_USER: &str = "oauth2accesstoken";
/// The username GAR reads a service-account key file (JSON) from.
pub const JSON_KEY_USER: &str = "_json_key";
/// The username GAR reads a base64-encoded service-account key file from.
pub const JSON_KEY_BASE64_USER: &str = "_json_key_base64";

/// Registry tokens without `expires_in` live this long (the token spec's default).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

/// A token is not used once less than this is left (or half its lifetime, if shorter).
const TOKEN_MARGIN: Duration = Duration::from_secs(10);

/// Largest token answer read.
const TOKEN_ANSWER_LIMIT: usize = 1 << 20;

/// The credentials a [`Registry`](crate::Registry) presents.
#[derive(Clone)]
pub struct RegistryAuth {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Anonymous,
    Basic {
        username: String,
        password: SecretString,
    },
    Google(Arc<dyn TokenProvider>),
    GoogleDirect(Arc<dyn TokenProvider>),
}

impl fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Anonymous => f.write_str("RegistryAuth::Anonymous"),
            Kind::Basic { username, password } => f
                .debug_struct("RegistryAuth::Basic")
                .field("username", username)
                .field("password", password)
                .finish(),
            Kind::Google(p) => f.debug_tuple("RegistryAuth::Google").field(p).finish(),
            Kind::GoogleDirect(p) => f
                .debug_tuple("RegistryAuth::GoogleDirect")
                .field(p)
                .finish(),
        }
    }
}

impl Default for RegistryAuth {
    fn default() -> Self {
        Self::anonymous()
    }
}

impl RegistryAuth {
    /// No credentials: anonymous tokens where the registry hands them out.
    pub fn anonymous() -> Self {
        Self {
            kind: Kind::Anonymous,
        }
    }

    /// A username and password (htpasswd registries, or any of GAR's usernames).
    pub fn basic(username: impl Into<String>, password: SecretString) -> Self {
        Self {
            kind: Kind::Basic {
                username: username.into(),
                password,
            },
        }
    }

    /// Google access tokens from `provider`, presented as the password of the
    /// `oauth2accesstoken` user (what `gcloud auth configure-docker` sets up). A
    /// token the registry refuses is invalidated and a fresh one fetched once.
    pub fn google(provider: Arc<dyn TokenProvider>) -> Self {
        Self {
            kind: Kind::Google(provider),
        }
    }

    /// Google access tokens from `provider`, sent directly as
    /// `Authorization: Bearer` on every request (GAR accepts them; no token
    /// exchange).
    pub fn google_direct(provider: Arc<dyn TokenProvider>) -> Self {
        Self {
            kind: Kind::GoogleDirect(provider),
        }
    }

    /// A service-account key file (its JSON text) as the password of `_json_key`.
    pub fn json_key(key_json: SecretString) -> Self {
        Self::basic(JSON_KEY_USER, key_json)
    }

    /// A service-account key file (its JSON text, encoded here) as the password
    /// of `_json_key_base64`.
    pub fn json_key_base64(key_json: &SecretString) -> Self {
        Self::basic(
            JSON_KEY_BASE64_USER,
            SecretString::new(STANDARD.encode(key_json.expose_secret())),
        )
    }

    /// Whether these are no credentials at all.
    pub fn is_anonymous(&self) -> bool {
        matches!(self.kind, Kind::Anonymous)
    }
}

/// Access to one resource: `repository:{name}:{actions}` (or `registry:catalog:*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Scope {
    pub(crate) resource_type: String,
    pub(crate) repository: String,
    pub(crate) actions: BTreeSet<String>,
}

impl Scope {
    /// Pull access to `repository`.
    pub(crate) fn pull(repository: &str) -> Self {
        Self::new(repository, &["pull"])
    }

    /// Pull and push access to `repository`.
    pub(crate) fn push(repository: &str) -> Self {
        Self::new(repository, &["pull", "push"])
    }

    /// Delete access to `repository`.
    pub(crate) fn delete(repository: &str) -> Self {
        Self::new(repository, &["delete"])
    }

    /// Listing the registry's repositories (`registry:catalog:*`).
    pub(crate) fn catalog() -> Self {
        Self {
            resource_type: "registry".to_owned(),
            repository: "catalog".to_owned(),
            actions: std::iter::once("*".to_owned()).collect(),
        }
    }

    pub(crate) fn new(repository: &str, actions: &[&str]) -> Self {
        Self {
            resource_type: "repository".to_owned(),
            repository: repository.to_owned(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// Parses `{type}:{name}:{actions}`.
    fn parse(s: &str) -> Option<Self> {
        let (resource_type, rest) = s.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        let actions: BTreeSet<String> = actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        (!resource_type.is_empty() && !name.is_empty() && !actions.is_empty()).then(|| Self {
            resource_type: resource_type.to_owned(),
            repository: name.to_owned(),
            actions,
        })
    }

    /// The scope string.
    pub(crate) fn render(&self) -> String {
        let actions: Vec<&str> = self.actions.iter().map(String::as_str).collect();
        format!(
            "{}:{}:{}",
            self.resource_type,
            self.repository,
            actions.join(",")
        )
    }

    fn covers(&self, other: &Scope) -> bool {
        self.resource_type == other.resource_type
            && self.repository == other.repository
            && other
                .actions
                .iter()
                .all(|a| self.actions.contains(a) || self.actions.contains("*"))
    }
}

/// Merges scopes of the same repository; the result is sorted.
pub(crate) fn merge(scopes: impl IntoIterator<Item = Scope>) -> Vec<Scope> {
    let mut out: Vec<Scope> = Vec::new();
    for s in scopes {
        match out
            .iter_mut()
            .find(|o| o.resource_type == s.resource_type && o.repository == s.repository)
        {
            Some(o) => o.actions.extend(s.actions),
            None => out.push(s),
        }
    }
    out.sort();
    out
}

/// What the registry asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scheme {
    /// `GET /v2/` answered without asking for credentials.
    Open,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

#[derive(Clone)]
struct CachedToken {
    scopes: Vec<Scope>,
    token: SecretString,
    usable_until: Instant,
}

/// What [`Authenticator::authorize`] grants a call: the `Authorization` to send
/// (if any), what it was, and whether this call is the one learning the
/// registry's scheme.
pub(crate) struct Grant<'a> {
    pub(crate) value: Option<HeaderValue>,
    pub(crate) sent: Sent,
    /// Held while this call, sent without credentials because the scheme is
    /// not known yet, finds it out: concurrent first calls wait for its answer
    /// instead of each being refused.
    learning: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Grant<'_> {
    fn known(value: Option<HeaderValue>, sent: Sent) -> Self {
        Self {
            value,
            sent,
            learning: None,
        }
    }

    /// Whether this call went out to learn the scheme.
    pub(crate) fn is_learning(&self) -> bool {
        self.learning.is_some()
    }
}

/// The `Authorization` a call carried, so that a 401 can drop the right thing.
#[derive(Debug, Clone)]
pub(crate) enum Sent {
    None,
    Basic,
    RegistryToken(SecretString),
    Google(AccessToken),
}

/// The auth state of one registry: credentials, the scheme it asked for, tokens.
pub(crate) struct Authenticator {
    credentials: RegistryAuth,
    scheme: Mutex<Option<Scheme>>,
    tokens: Mutex<Vec<CachedToken>>,
    fetching: tokio::sync::Mutex<()>,
    /// The Google token last sent as a password, to invalidate when refused.
    last_google: Mutex<Option<AccessToken>>,
    /// Held while the first call (or `GET /v2/`) learns the scheme.
    probing: tokio::sync::Mutex<()>,
    ping_url: String,
    https: bool,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("credentials", &self.credentials)
            .field("scheme", &*lock(&self.scheme))
            .field("tokens", &lock(&self.tokens).len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn header_value(text: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(text).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            "the credentials hold characters an HTTP header cannot carry",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl Authenticator {
    pub(crate) fn new(credentials: RegistryAuth, ping_url: String, https: bool) -> Self {
        Self {
            probing: tokio::sync::Mutex::new(()),
            ping_url,
            credentials,
            scheme: Mutex::new(None),
            tokens: Mutex::new(Vec::new()),
            fetching: tokio::sync::Mutex::new(()),
            last_google: Mutex::new(None),
            https,
        }
    }

    /// The `Authorization` header for a call needing `scopes`, as far as gar
    /// knows the registry yet.
    ///
    /// While the scheme is unknown, a call without a body (`bodyless`) goes out
    /// as it is and learns the scheme from its own answer (an open registry
    /// then costs no extra round trip; a 401 costs what a probe would), while
    /// concurrent first calls wait for that answer. A call with a body first
    /// learns the scheme with `GET /v2/`, so that its body is not sent just to
    /// be refused.
    pub(crate) async fn authorize(
        &self,
        transport: &Transport,
        scopes: &[Scope],
        bodyless: bool,
    ) -> Result<Grant<'_>, Error> {
        if let Kind::GoogleDirect(p) = &self.credentials.kind {
            let token = p.token().await?;
            let value = header_value(token.bearer_header().expose_secret())?;
            return Ok(Grant::known(Some(value), Sent::Google(token)));
        }
        let known = lock(&self.scheme).clone();
        let scheme = match known {
            Some(s) => Some(s),
            None if bodyless => {
                let learning = self.probing.lock().await;
                let learned = lock(&self.scheme).clone();
                match learned {
                    Some(s) => Some(s),
                    None => {
                        return Ok(Grant {
                            value: None,
                            sent: Sent::None,
                            learning: Some(learning),
                        });
                    }
                }
            }
            None => self.probe(transport).await?,
        };
        match scheme {
            None | Some(Scheme::Open) => Ok(Grant::known(None, Sent::None)),
            Some(Scheme::Basic) => match self.basic().await? {
                Some(value) => Ok(Grant::known(Some(value), Sent::Basic)),
                None => Ok(Grant::known(None, Sent::None)),
            },
            Some(Scheme::Bearer { realm, service }) => {
                let token = self
                    .token(transport, &realm, service.as_deref(), scopes, None)
                    .await?;
                let value = header_value(&format!("Bearer {}", token.expose_secret()))?;
                Ok(Grant::known(Some(value), Sent::RegistryToken(token)))
            }
        }
    }

    /// Learns from a call sent without credentials to learn the scheme that
    /// the registry served it: it is open (at least for this kind of call; a
    /// later 401 still teaches the scheme).
    pub(crate) fn answered_open(&self) {
        let mut scheme = lock(&self.scheme);
        if scheme.is_none() {
            *scheme = Some(Scheme::Open);
        }
    }

    /// Learns the scheme with `GET /v2/` (unless known by now); returns whether
    /// it asks for credentials.
    pub(crate) async fn learn(&self, transport: &Transport) -> Result<bool, Error> {
        Ok(matches!(
            self.probe(transport).await?,
            Some(Scheme::Basic | Scheme::Bearer { .. })
        ))
    }

    /// Learns from a 401 answer; returns the scopes to retry with, or `None`
    /// when retrying cannot help.
    pub(crate) async fn unauthorized(
        &self,
        transport: &Transport,
        headers: &HeaderMap,
        sent: &Sent,
        scopes: &[Scope],
    ) -> Result<Option<Vec<Scope>>, Error> {
        let challenge = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(Challenge::parse);
        match sent {
            Sent::Google(token) => {
                if let Kind::GoogleDirect(p) = &self.credentials.kind {
                    p.invalidate(token);
                }
                return Ok(Some(scopes.to_vec()));
            }
            Sent::RegistryToken(token) => {
                lock(&self.tokens).retain(|t| t.token != *token);
            }
            Sent::Basic | Sent::None => {}
        }
        let Some(challenge) = challenge else {
            return Ok(None);
        };
        match &challenge {
            Challenge::Basic { .. } => {
                *lock(&self.scheme) = Some(Scheme::Basic);
                match sent {
                    // The credentials were refused; a Google token may be stale.
                    Sent::Basic => {
                        if let Kind::Google(p) = &self.credentials.kind
                            && let Some(old) = lock(&self.last_google).clone()
                        {
                            p.invalidate(&old);
                            return Ok(Some(scopes.to_vec()));
                        }
                        Ok(None)
                    }
                    _ if self.credentials.is_anonymous() => Ok(None),
                    _ => Ok(Some(scopes.to_vec())),
                }
            }
            Challenge::Bearer { .. } => {
                let Some(realm) = challenge.realm().map(str::to_owned) else {
                    return Ok(None);
                };
                self.check_realm(&realm)?;
                let service = challenge.service().map(str::to_owned);
                *lock(&self.scheme) = Some(Scheme::Bearer {
                    realm: realm.clone(),
                    service: service.clone(),
                });
                let asked = challenge
                    .scope()
                    .map(|s| s.split(' ').filter_map(Scope::parse).collect::<Vec<_>>())
                    .unwrap_or_default();
                let wanted = merge(scopes.iter().cloned().chain(asked));
                let rejected = match sent {
                    Sent::RegistryToken(t) => Some(t.clone()),
                    _ => None,
                };
                // Fetch now so that the retry finds it (and a refusal surfaces here).
                self.token(transport, &realm, service.as_deref(), &wanted, rejected)
                    .await?;
                Ok(Some(wanted))
            }
        }
    }

    /// Learns the scheme once with `GET /v2/`, so that a first call with a body
    /// (a streamed one above all) is not sent just to be refused.
    async fn probe(&self, transport: &Transport) -> Result<Option<Scheme>, Error> {
        let _probing = self.probing.lock().await;
        if let Some(s) = lock(&self.scheme).clone() {
            return Ok(Some(s));
        }
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(self.ping_url.as_str())
            .body(Body::empty())
            .map_err(|e| {
                Error::new(ErrorKind::InvalidArgument, format!("bad registry URL: {e}"))
            })?;
        request
            .extensions_mut()
            .insert(Operation::new("gar.oci.ping"));
        let response = transport.send(request).await?;
        let scheme = if response.status() == StatusCode::UNAUTHORIZED {
            let challenge = response
                .headers()
                .get_all(http::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(Challenge::parse);
            match challenge {
                Some(Challenge::Basic { .. }) => Some(Scheme::Basic),
                Some(c @ Challenge::Bearer { .. }) => match c.realm() {
                    Some(realm) => {
                        self.check_realm(realm)?;
                        Some(Scheme::Bearer {
                            realm: realm.to_owned(),
                            service: c.service().map(str::to_owned),
                        })
                    }
                    None => None,
                },
                None => None,
            }
        } else if response.status().is_success() {
            Some(Scheme::Open)
        } else {
            // Not conclusive (a failing registry): calls will learn it from a 401.
            None
        };
        if scheme.is_some() {
            lock(&self.scheme).clone_from(&scheme);
        }
        Ok(scheme)
    }

    fn check_realm(&self, realm: &str) -> Result<(), Error> {
        let ok = realm.starts_with("https://") || (!self.https && realm.starts_with("http://"));
        if ok {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::InvalidResponse,
                format!(
                    "the registry names the token realm {realm:?}; gar only sends credentials to an https realm (or http when the registry itself is plain http)"
                ),
            ))
        }
    }

    /// The Basic header value of the credentials, if any.
    async fn basic(&self) -> Result<Option<HeaderValue>, Error> {
        let Some((user, password)) = self.basic_pair().await? else {
            return Ok(None);
        };
        let encoded = STANDARD.encode(format!("{user}:{}", password.expose_secret()));
        header_value(&format!("Basic {encoded}")).map(Some)
    }

    async fn basic_pair(&self) -> Result<Option<(String, SecretString)>, Error> {
        Ok(match &self.credentials.kind {
            Kind::Anonymous | Kind::GoogleDirect(_) => None,
            Kind::Basic { username, password } => Some((username.clone(), password.clone())),
            Kind::Google(p) => {
                let token = p.token().await?;
                let secret = token.secret().clone();
                *lock(&self.last_google) = Some(token);
                Some((OAUTH2_ACCESS_TOKEN_USER.to_owned(), secret))
            }
        })
    }

    fn cached(&self, scopes: &[Scope], rejected: Option<&SecretString>) -> Option<SecretString> {
        let now = Instant::now();
        let mut tokens = lock(&self.tokens);
        tokens.retain(|t| t.usable_until > now);
        tokens
            .iter()
            .find(|t| {
                Some(&t.token) != rejected
                    && scopes
                        .iter()
                        .all(|need| t.scopes.iter().any(|have| have.covers(need)))
            })
            .map(|t| t.token.clone())
    }

    /// A registry token covering `scopes`: cached, or fetched from `realm` (one
    /// fetch at a time per registry).
    async fn token(
        &self,
        transport: &Transport,
        realm: &str,
        service: Option<&str>,
        scopes: &[Scope],
        rejected: Option<SecretString>,
    ) -> Result<SecretString, Error> {
        if let Some(t) = self.cached(scopes, rejected.as_ref()) {
            return Ok(t);
        }
        let _flight = self.fetching.lock().await;
        if let Some(t) = self.cached(scopes, rejected.as_ref()) {
            return Ok(t);
        }
        let (token, lifetime) = self.fetch(transport, realm, service, scopes).await?;
        let margin = TOKEN_MARGIN.min(lifetime / 2);
        let usable_until = Instant::now() + lifetime.saturating_sub(margin);
        lock(&self.tokens).push(CachedToken {
            scopes: scopes.to_vec(),
            token: token.clone(),
            usable_until,
        });
        Ok(token)
    }

    async fn fetch(
        &self,
        transport: &Transport,
        realm: &str,
        service: Option<&str>,
        scopes: &[Scope],
    ) -> Result<(SecretString, Duration), Error> {
        let mut url = realm.to_owned();
        let mut sep = if realm.contains('?') { '&' } else { '?' };
        if let Some(s) = service {
            url.push(sep);
            url.push_str("service=");
            url.push_str(&query_encode(s));
            sep = '&';
        }
        for s in scopes {
            url.push(sep);
            url.push_str("scope=");
            url.push_str(&query_encode(&s.render()));
            sep = '&';
        }
        let resource = Resource::new(
            ResourceKind::Repository,
            scopes
                .first()
                .map_or_else(|| "(registry)".to_owned(), |s| s.repository.clone()),
            None,
        );
        for attempt in 0..2 {
            let pair = self.basic_pair().await?;
            let mut builder = Request::builder().method(Method::GET).uri(url.as_str());
            if let Some((user, password)) = &pair {
                let encoded = STANDARD.encode(format!("{user}:{}", password.expose_secret()));
                builder = builder.header(
                    http::header::AUTHORIZATION,
                    header_value(&format!("Basic {encoded}"))?,
                );
            }
            let mut request = builder.body(Body::empty()).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!("the token realm {realm:?} is not a usable URL: {e}"),
                )
            })?;
            request.extensions_mut().insert(Idempotency::Idempotent);
            request
                .extensions_mut()
                .insert(Operation::new("gar.oci.token"));
            let response = transport.send(request).await?;
            let status = response.status();
            let body = response
                .into_body()
                .collect_bytes(TOKEN_ANSWER_LIMIT)
                .await?;
            if status.is_success() {
                let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!(
                            "the token realm {realm} answered something that is not a token: {e}"
                        ),
                    )
                })?;
                let token = answer
                    .token
                    .filter(|t| !t.is_empty())
                    .or(answer.access_token)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidResponse,
                            format!("the token realm {realm} answered without a token"),
                        )
                    })?;
                let lifetime = answer
                    .expires_in
                    .filter(|s| *s > 0)
                    .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
                return Ok((SecretString::new(token), lifetime));
            }
            let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            if refused
                && attempt == 0
                && let Kind::Google(p) = &self.credentials.kind
                && let Some(old) = lock(&self.last_google).clone()
            {
                tracing::debug!(
                    "the token realm refused the Google access token; refreshing it once"
                );
                p.invalidate(&old);
                continue;
            }
            let err = Error::from_oci(status.as_u16(), &body, Some(&resource));
            return Err(if refused {
                Error::new(
                    ErrorKind::TokenRefreshFailed,
                    format!(
                        "the token service {realm} refused the credentials for {}: {}",
                        resource.id(),
                        err.server_message().unwrap_or(err.message())
                    ),
                )
                .with_http_status(status.as_u16())
            } else {
                err
            });
        }
        Err(Error::new(
            ErrorKind::TokenRefreshFailed,
            format!("the token service {realm} refused a refreshed token too"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_render_cover_and_merge() {
        let s = Scope::parse("repository:p/r/app:push,pull").unwrap();
        assert_eq!(s.render(), "repository:p/r/app:pull,push");
        assert!(s.covers(&Scope::pull("p/r/app")));
        assert!(!Scope::pull("p/r/app").covers(&s));
        assert!(!s.covers(&Scope::pull("p/r/other")));
        assert!(Scope::new("x", &["*"]).covers(&Scope::delete("x")));
        assert_eq!(Scope::parse("registry:catalog:*"), Some(Scope::catalog()));
        assert!(!Scope::catalog().covers(&Scope::pull("catalog")));
        assert_eq!(Scope::parse("repository::pull"), None);
        let m = merge([Scope::pull("b"), Scope::push("a"), Scope::delete("b")]);
        assert_eq!(
            m.iter().map(Scope::render).collect::<Vec<_>>(),
            vec!["repository:a:pull,push", "repository:b:delete,pull"]
        );
    }

    #[test]
    fn credentials_never_show() {
        let a = RegistryAuth::json_key_base64(&SecretString::new("{\"private_key\":\"k\"}"));
        let text = format!("{a:?}");
        assert!(
            text.contains(JSON_KEY_BASE64_USER) && !text.contains("private_key"),
            "{text}"
        );
        assert!(RegistryAuth::default().is_anonymous());
    }
}
