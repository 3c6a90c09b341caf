//! [`Registry`] (one registry host, its credentials and settings) and
//! [`Repository`] (a repository path on it): the cheap-to-clone handles every
//! operation starts from.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gar_core::Error;
use gar_core::endpoints::{BaseUrl, Scheme};
use gar_core::error::ErrorKind;
use gar_transport::{Body, Transport};
use http::{Response, StatusCode};

use crate::auth::{Authenticator, RegistryAuth, Scope};
use crate::http::{Call, CallBody};

/// The chunk size of [`UploadMode::Chunked`] when the mode is chosen per host.
pub const DEFAULT_CHUNK_SIZE: u64 = 16 * 1024 * 1024;

/// Blobs up to this size go in one `PUT` whose body the transport can replay.
pub const DEFAULT_MONOLITHIC_BELOW: u64 = 1024 * 1024;

/// How blob uploads send their bytes.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UploadMode {
    /// Per host: [`Streamed`](Self::Streamed) on `*.pkg.dev` (GAR refuses
    /// `Content-Range` chunks), [`Chunked`](Self::Chunked) with
    /// [`DEFAULT_CHUNK_SIZE`] elsewhere.
    #[default]
    Auto,
    /// `POST`, then one `PUT` carrying the whole blob.
    Monolithic,
    /// `POST`, one streamed `PATCH` without `Content-Range`, then an empty `PUT`.
    Streamed,
    /// `POST`, `PATCH`es of `chunk_size` bytes with `Content-Range`, then an
    /// empty `PUT`; a failed chunk resumes from the offset the registry reports.
    Chunked {
        /// Bytes per `PATCH`.
        chunk_size: u64,
    },
}

/// Settings shared by every operation of a registry.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) upload_mode: UploadMode,
    pub(crate) max_uploads: usize,
    pub(crate) max_downloads: usize,
    pub(crate) max_resumes: u32,
    pub(crate) min_throughput: u64,
    pub(crate) monolithic_below: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            upload_mode: UploadMode::Auto,
            max_uploads: 5,
            max_downloads: 10,
            max_resumes: 5,
            min_throughput: 256 * 1024,
            monolithic_below: DEFAULT_MONOLITHIC_BELOW,
        }
    }
}

/// Builds a [`Registry`].
#[derive(Debug, Clone)]
pub struct RegistryBuilder {
    base: String,
    transport: Option<Transport>,
    auth: RegistryAuth,
    config: Config,
}

impl RegistryBuilder {
    /// The transport to send through (default: `Transport::builder().build()`).
    /// Give one without credentials: the registry's credentials are
    /// [`auth`](Self::auth)'s business.
    #[must_use]
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The credentials (default: anonymous).
    #[must_use]
    pub fn auth(mut self, auth: RegistryAuth) -> Self {
        self.auth = auth;
        self
    }

    /// How blobs are uploaded (default: [`UploadMode::Auto`]).
    #[must_use]
    pub fn upload_mode(mut self, mode: UploadMode) -> Self {
        self.config.upload_mode = mode;
        self
    }

    /// Blobs uploaded at once by image operations (default 5).
    #[must_use]
    pub fn max_concurrent_uploads(mut self, n: usize) -> Self {
        self.config.max_uploads = n.max(1);
        self
    }

    /// Blobs downloaded at once by image operations (default 10).
    #[must_use]
    pub fn max_concurrent_downloads(mut self, n: usize) -> Self {
        self.config.max_downloads = n.max(1);
        self
    }

    /// How often one blob transfer resumes after a dropped connection or a
    /// failing server before giving up (default 5).
    #[must_use]
    pub fn max_resumes(mut self, n: u32) -> Self {
        self.config.max_resumes = n;
        self
    }

    /// The slowest upload rate tolerated, in bytes per second (default 256 KiB/s):
    /// an upload request may take 60 s plus its size at this rate before it
    /// times out.
    #[must_use]
    pub fn min_upload_throughput(mut self, bytes_per_second: u64) -> Self {
        self.config.min_throughput = bytes_per_second.max(1);
        self
    }

    /// Blobs up to `bytes` go in one replayable `PUT` (default 1 MiB).
    #[must_use]
    pub fn monolithic_below(mut self, bytes: u64) -> Self {
        self.config.monolithic_below = bytes;
        self
    }

    /// The registry handle.
    pub fn build(self) -> Result<Registry, Error> {
        let base: BaseUrl = self.base.parse()?;
        let transport = match self.transport {
            Some(t) => t,
            None => Transport::builder().build()?,
        };
        let https = base.scheme() == Scheme::Https;
        Ok(Registry {
            inner: Arc::new(Inner {
                auth: Authenticator::new(self.auth, base.join("/v2/"), https),
                base,
                transport,
                config: self.config,
                chunks_refused: AtomicBool::new(false),
            }),
        })
    }
}

/// One registry: its base URL, transport, credentials (with their token cache)
/// and transfer settings. Cheap to clone; clones share the token cache.
///
/// ```no_run
/// # async fn demo() -> Result<(), gar_core::Error> {
/// use std::sync::Arc;
/// use gar_auth::{ApplicationDefault, CachedTokenProvider};
/// use gar_oci::{Registry, RegistryAuth};
/// use gar_transport::Transport;
///
/// let transport = Transport::builder().build()?;
/// let credentials = ApplicationDefault::new(transport.token_http()).find().await?;
/// let registry = Registry::builder("https://us-docker.pkg.dev")
///     .transport(transport)
///     .auth(RegistryAuth::google(Arc::new(CachedTokenProvider::new(credentials))))
///     .build()?;
/// let app = registry.repository("my-project/my-repo/app")?;
/// let manifest = app.get_manifest("latest").send().await?;
/// println!("{} is {} bytes", manifest.digest(), manifest.image_size());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    base: BaseUrl,
    transport: Transport,
    auth: Authenticator,
    config: Config,
    /// Set once the registry refused a `Content-Range` chunk.
    chunks_refused: AtomicBool,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.inner.base.to_string())
            .field("auth", &self.inner.auth)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A builder for the registry at `base_url` (`https://us-docker.pkg.dev`,
    /// `http://127.0.0.1:5000`).
    pub fn builder(base_url: &str) -> RegistryBuilder {
        RegistryBuilder {
            base: base_url.to_owned(),
            transport: None,
            auth: RegistryAuth::anonymous(),
            config: Config::default(),
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.base
    }

    /// `host[:port]`, as it appears in image references.
    pub fn host(&self) -> String {
        self.inner.base.authority()
    }

    /// The repository `name` (`project/repository/image` on GAR).
    pub fn repository(&self, name: &str) -> Result<Repository, Error> {
        check_repository_name(name)?;
        Ok(Repository {
            registry: self.clone(),
            name: Arc::from(name),
        })
    }

    /// Checks that the registry answers and accepts the credentials (`GET /v2/`).
    pub async fn ping(&self) -> Result<(), Error> {
        let call = Call::new(http::Method::GET, self.url("/v2/"), "gar.oci.ping");
        let response = self.execute(&call).await?;
        if response.status().is_success() {
            return Ok(());
        }
        let resource =
            gar_core::error::Resource::new(gar_core::error::ResourceKind::Other, self.host(), None);
        Err(crate::http::error_of(response, &resource).await)
    }

    /// Whether `other` is the same registry (same base URL), so that blobs can
    /// be mounted from one repository into another.
    pub fn same_registry(&self, other: &Registry) -> bool {
        self.inner.base == other.inner.base
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The effective upload mode for a blob of `size` bytes.
    pub(crate) fn upload_mode(&self, size: u64) -> UploadMode {
        if size <= self.inner.config.monolithic_below {
            return UploadMode::Monolithic;
        }
        let refused = self.inner.chunks_refused.load(Ordering::Relaxed);
        match self.inner.config.upload_mode {
            UploadMode::Auto if self.is_gar() => UploadMode::Streamed,
            UploadMode::Auto if refused => UploadMode::Streamed,
            UploadMode::Auto => UploadMode::Chunked {
                chunk_size: DEFAULT_CHUNK_SIZE,
            },
            UploadMode::Chunked { .. } if refused => UploadMode::Streamed,
            other => other,
        }
    }

    /// Whether resuming with `Content-Range` is allowed here.
    pub(crate) fn chunks_allowed(&self) -> bool {
        !self.is_gar() && !self.inner.chunks_refused.load(Ordering::Relaxed)
    }

    pub(crate) fn refuse_chunks(&self) {
        self.inner.chunks_refused.store(true, Ordering::Relaxed);
    }

    fn is_gar(&self) -> bool {
        let host = self.inner.base.host();
        host == "pkg.dev" || host.ends_with(".pkg.dev")
    }

    /// `base + path`.
    pub(crate) fn url(&self, path: &str) -> String {
        self.inner.base.join(path)
    }

    /// An absolute URL for a `Location` the registry returned; `same_host` is
    /// false when it points elsewhere (a storage redirect).
    pub(crate) fn resolve(&self, location: &str) -> Result<(String, bool), Error> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let rest = location.split_once("://").map_or("", |(_, r)| r);
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let same = authority.eq_ignore_ascii_case(&self.inner.base.authority());
            return Ok((location.to_owned(), same));
        }
        if location.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                "the registry answered without a Location",
            ));
        }
        Ok((self.inner.base.join(location), true))
    }

    /// Sends `call` with the credentials it needs; after a 401, learns the
    /// challenge, refreshes and sends it once more.
    pub(crate) async fn execute(&self, call: &Call) -> Result<Response<Body>, Error> {
        let transport = &self.inner.transport;
        let auth = &self.inner.auth;
        if !call.authorize {
            return transport.send(call.build(None)?).await;
        }
        let bodyless = matches!(call.body, CallBody::Empty);
        let mut scopes = call.scopes.clone();
        let mut retried = false;
        let mut probed = false;
        loop {
            // Dropped at the end of each attempt: a call that learns the
            // scheme holds back concurrent first calls until it knows it.
            let grant = auth.authorize(transport, &scopes, bodyless).await?;
            let request = call.build(grant.value.clone())?;
            let response = transport.send(request).await?;
            let status = response.status();
            if status != StatusCode::UNAUTHORIZED {
                if !grant.is_learning() {
                    return Ok(response);
                }
                if status.is_success() || status.is_redirection() {
                    auth.answered_open();
                    return Ok(response);
                }
                // Refused or not found without credentials: some registries
                // answer so (hiding private repositories) instead of
                // challenging. Learn the scheme with `GET /v2/`, as if the
                // call had probed first, and send it again when the registry
                // wants credentials (the call has no body to resend).
                drop(grant);
                if probed || !status.is_client_error() || !auth.learn(transport).await? {
                    return Ok(response);
                }
                tracing::debug!(
                    operation = call.operation,
                    "the registry wants credentials; sending the call again with them"
                );
                probed = true;
                continue;
            }
            if retried {
                return Ok(response);
            }
            match auth
                .unauthorized(transport, response.headers(), &grant.sent, &scopes)
                .await?
            {
                Some(wanted) => {
                    tracing::debug!(
                        operation = call.operation,
                        "the registry asked for credentials; sending the call again"
                    );
                    scopes = wanted;
                    // A call sent without credentials to learn the scheme has
                    // not used its retry: it only did what a probe would have.
                    retried = !grant.is_learning();
                }
                None => return Ok(response),
            }
        }
    }

    /// The per-request deadline for sending `bytes` bytes.
    pub(crate) fn upload_timeout(&self, bytes: u64) -> Duration {
        Duration::from_secs(60 + bytes / self.inner.config.min_throughput)
    }
}

/// A repository on a registry (`project/repository/image` on GAR). Cheap to clone.
#[derive(Clone)]
pub struct Repository {
    registry: Registry,
    name: Arc<str>,
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Repository({}/{})", self.registry.host(), self.name)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry.host(), self.name)
    }
}

impl Repository {
    /// The repository path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The registry it lives on.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// `base/v2/{name}/{rest}`.
    pub(crate) fn url(&self, rest: &str) -> String {
        self.registry.url(&format!("/v2/{}/{rest}", self.name))
    }

    pub(crate) fn pull(&self) -> Scope {
        Scope::pull(&self.name)
    }

    pub(crate) fn push(&self) -> Scope {
        Scope::push(&self.name)
    }

    pub(crate) fn delete(&self) -> Scope {
        Scope::delete(&self.name)
    }

    /// A resource for errors about `what` of `kind` in this repository.
    pub(crate) fn resource(
        &self,
        kind: gar_core::error::ResourceKind,
        what: &str,
    ) -> gar_core::error::Resource {
        gar_core::error::Resource::new(kind, what, Some(&self.to_string()))
    }
}

/// Checks a repository path against the Distribution grammar: lower-case
/// components of letters and digits separated by `.`, `_`, `__` or runs of `-`,
/// joined by `/`.
pub(crate) fn check_repository_name(name: &str) -> Result<(), Error> {
    let bad = |reason: &str| {
        Error::invalid(
            ErrorKind::InvalidRepository,
            "repository name",
            name,
            reason,
        )
    };
    if name.is_empty() || name.len() > 255 {
        return Err(bad("it must have 1 to 255 characters"));
    }
    for component in name.split('/') {
        let bytes = component.as_bytes();
        let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
            return Err(bad("it has an empty path component"));
        };
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !alnum(first) || !alnum(last) {
            return Err(bad(
                "each path component starts and ends with a lower-case letter or digit",
            ));
        }
        let mut i = 0;
        while let Some(b) = bytes.get(i) {
            if alnum(b) {
                i += 1;
                continue;
            }
            // A separator: `.`, `_`, `__` or a run of `-`.
            let run = bytes.get(i..).unwrap_or_default();
            let len = match b {
                b'.' => 1,
                b'_' => {
                    if run.get(1) == Some(&b'_') {
                        2
                    } else {
                        1
                    }
                }
                b'-' => run.iter().take_while(|c| **c == b'-').count(),
                _ => {
                    return Err(bad(
                        "only lower-case letters, digits, '.', '_', '-' and '/' are allowed",
                    ));
                }
            };
            i += len;
            if bytes.get(i).is_none_or(|c| !alnum(c)) {
                return Err(bad("separators must sit between letters or digits"));
            }
        }
    }
    Ok(())
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub(crate) fn check_tag(tag: &str) -> Result<(), Error> {
    let ok = tag.len() <= 128
        && tag.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_alphanumeric() || b == b'_' || (i > 0 && matches!(b, b'.' | b'-'))
        })
        && !tag.is_empty();
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            ErrorKind::InvalidTag,
            "tag",
            tag,
            "a tag has 1 to 128 letters, digits, '_', '.' or '-' and does not start with '.' or '-'",
        ))
    }
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference {
    Tag(String),
    Digest(gar_core::ids::Digest),
}

impl Reference {
    pub(crate) fn parse(s: &str) -> Result<Self, Error> {
        if s.contains(':') {
            Ok(Self::Digest(s.parse()?))
        } else {
            check_tag(s)?;
            Ok(Self::Tag(s.to_owned()))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(t) => f.write_str(t),
            Self::Digest(d) => f.write_str(d.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in [
            "a",
            "my-project/my-repo/app",
            "p/r/team/app",
            "a.b/c__d/e---f",
            "x_y/z9",
        ] {
            check_repository_name(ok).unwrap();
        }
        for bad in [
            "", "A/b", "a//b", "/a", "a/", "a-/b", "a___b", "a..b", "a b", "a/-b", "a:b",
        ] {
            let err = check_repository_name(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRepository, "{bad:?}");
        }
    }

    #[test]
    fn tags_and_references() {
        for ok in ["latest", "v1.2.3", "_x", "A-b_c.d"] {
            check_tag(ok).unwrap();
        }
        for bad in ["", ".x", "-x", "a/b", "a b", &"x".repeat(129)] {
            assert_eq!(
                check_tag(bad).unwrap_err().kind(),
                ErrorKind::InvalidTag,
                "{bad:?}"
            );
        }
        let d = crate::digest::sha256(b"x");
        assert_eq!(
            Reference::parse(d.as_str()).unwrap(),
            Reference::Digest(d.clone())
        );
        assert_eq!(Reference::parse("v1").unwrap().to_string(), "v1");
        assert_eq!(
            Reference::parse("sha256:nothex").unwrap_err().kind(),
            ErrorKind::InvalidDigest
        );
    }

    #[test]
    fn upload_modes_per_host_and_locations() {
        let gar = Registry::builder("https://us-docker.pkg.dev")
            .build()
            .unwrap();
        assert_eq!(gar.upload_mode(64 << 20), UploadMode::Streamed);
        assert_eq!(gar.upload_mode(10), UploadMode::Monolithic);
        assert!(!gar.chunks_allowed());
        let other = Registry::builder("http://127.0.0.1:5000").build().unwrap();
        assert_eq!(
            other.upload_mode(64 << 20),
            UploadMode::Chunked {
                chunk_size: DEFAULT_CHUNK_SIZE
            }
        );
        other.refuse_chunks();
        assert_eq!(other.upload_mode(64 << 20), UploadMode::Streamed);
        assert_eq!(
            other.resolve("/v2/a/blobs/uploads/1").unwrap(),
            (
                "http://127.0.0.1:5000/v2/a/blobs/uploads/1".to_owned(),
                true
            )
        );
        assert!(
            other
                .resolve("http://127.0.0.1:5000/v2/x?_state=1")
                .unwrap()
                .1
        );
        assert!(!other.resolve("https://storage.example/x").unwrap().1);
        assert!(other.resolve("").is_err());
        assert!(other.same_registry(&Registry::builder("http://127.0.0.1:5000/").build().unwrap()));
        assert_eq!(
            Registry::builder("ftp://x").build().unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            other.repository("Bad").unwrap_err().kind(),
            ErrorKind::InvalidRepository
        );
        assert_eq!(
            other.repository("ns/app").unwrap().to_string(),
            "127.0.0.1:5000/ns/app"
        );
    }
}
