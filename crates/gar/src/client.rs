//! [`Client`] and its builder: project, location, credentials, endpoints, and the
//! transport settings every service call shares.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gar_artifactregistry::PollingPolicy;
use gar_auth::{
    ApplicationDefault, CachedTokenProvider, Credentials as FileCredentials, SecretString,
    StaticToken, TokenProvider,
};
use gar_core::endpoints::Endpoints;
use gar_core::endpoints::Surface;
use gar_core::error::ErrorKind;
use gar_core::ids::ProjectId;
use gar_core::location::Location;
use gar_core::{Error, Result};
use gar_transport::breaker::BreakerConfig;
use gar_transport::record::{Cassette, Recorder};
use gar_transport::retry::RetryConfig;
use gar_transport::{TlsConfig, Transport};

/// The environment variable that sends every surface to an emulator
/// (`127.0.0.1:8080` or `http://127.0.0.1:8080`).
pub const EMULATOR_HOST_ENV: &str = "ARTIFACT_REGISTRY_EMULATOR_HOST";

/// The environment variable holding the access token to present to an emulator
/// (its ready line prints one).
pub const EMULATOR_TOKEN_ENV: &str = "ARTIFACT_REGISTRY_EMULATOR_TOKEN";

/// The OAuth scope gar asks for.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Where credentials come from.
#[non_exhaustive]
#[derive(Clone, Default)]
pub enum Credentials {
    /// Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's
    /// well-known file, then the metadata server. Against an emulator without
    /// either, the token of `ARTIFACT_REGISTRY_EMULATOR_TOKEN`, else none.
    #[default]
    ApplicationDefault,
    /// A credentials file (service-account key, `authorized_user`, `external_account`,
    /// `impersonated_service_account`).
    File(PathBuf),
    /// The JSON text of a credentials file.
    Json(SecretString),
    /// A fixed access token (it is not refreshed).
    AccessToken(SecretString),
    /// Any token provider.
    Provider(Arc<dyn TokenProvider>),
    /// No credentials (anonymous reads, where the registry allows them).
    Anonymous,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApplicationDefault => f.write_str("ApplicationDefault"),
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            Self::Json(_) => f.write_str("Json([redacted])"),
            Self::AccessToken(_) => f.write_str("AccessToken([redacted])"),
            Self::Provider(_) => f.write_str("Provider(..)"),
            Self::Anonymous => f.write_str("Anonymous"),
        }
    }
}

/// How many blob transfers run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency {
    /// Parallel uploads (default 5).
    pub uploads: usize,
    /// Parallel downloads (default 10).
    pub downloads: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Self {
            uploads: 5,
            downloads: 10,
        }
    }
}

/// Record every exchange to a cassette, or replay one without a network.
#[derive(Debug, Clone)]
pub enum Recording {
    /// Record into this file when [`Client::save_recording`] is called.
    Record(PathBuf),
    /// Answer from this cassette; no network is touched.
    Replay(PathBuf),
}

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    project: Option<String>,
    location: Option<String>,
    credentials: Credentials,
    endpoints: Option<Endpoints>,
    emulator: Option<String>,
    retry: Option<RetryConfig>,
    breaker: Option<BreakerConfig>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Option<Duration>>,
    tls: Option<TlsConfig>,
    concurrency: Concurrency,
    user_agent: Option<String>,
    recording: Option<Recording>,
    polling: Option<PollingPolicy>,
    analysis_protocol: gar_containeranalysis::Protocol,
    env: EnvLookup,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("project", &self.project)
            .field("location", &self.location)
            .field("credentials", &self.credentials)
            .field("endpoints", &self.endpoints)
            .field("emulator", &self.emulator)
            .field("concurrency", &self.concurrency)
            .field("recording", &self.recording)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            project: None,
            location: None,
            credentials: Credentials::default(),
            endpoints: None,
            emulator: None,
            retry: None,
            breaker: None,
            connect_timeout: None,
            request_timeout: None,
            tls: None,
            concurrency: Concurrency::default(),
            user_agent: None,
            recording: None,
            polling: None,
            analysis_protocol: gar_containeranalysis::Protocol::default(),
            env: Arc::new(|name| std::env::var(name).ok()),
        }
    }
}

impl ClientBuilder {
    /// The default project (checked when the client is built).
    #[must_use]
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The default location (checked against the catalogue when the client is built).
    #[must_use]
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Where credentials come from (Application Default Credentials by default).
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sends every surface to the emulator at `base_url` (`http://127.0.0.1:PORT`).
    /// Without this, `ARTIFACT_REGISTRY_EMULATOR_HOST` does the same.
    #[must_use]
    pub fn emulator(mut self, base_url: impl Into<String>) -> Self {
        self.emulator = Some(base_url.into());
        self
    }

    /// Explicit endpoints (Google's global ones by default; [`Endpoints::regional`]
    /// for the regional API hosts).
    #[must_use]
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = Some(endpoints);
        self
    }

    /// Retry settings (design.md's table by default); `None` turns retries off.
    #[must_use]
    pub fn retry(mut self, retry: Option<RetryConfig>) -> Self {
        self.retry = Some(retry.unwrap_or_else(|| {
            let mut off = RetryConfig::new();
            for class in ALL_CLASSES {
                off = off.with_policy(class, gar_core::error::RetryClass::Never.default_policy());
            }
            off
        }));
        self
    }

    /// Circuit-breaker thresholds.
    #[must_use]
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// The connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The timeout of each request until its response head (60 s by default; `None`
    /// for no timeout).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// TLS roots and client certificate.
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// How many blob transfers run at once.
    #[must_use]
    pub fn concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// A product token naming the tool built on gar (`my-tool/1.2`): every
    /// request (REST, registry, gRPC, token requests) then carries
    /// `User-Agent: my-tool/1.2 gar/<version>`; without it, `gar/<version>`.
    /// A product that cannot be a header value fails [`build`](Self::build)
    /// with `InvalidArgument`, before any request.
    #[must_use]
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// How long-running operations (deletes, repository creation) are polled.
    #[must_use]
    pub fn polling(mut self, polling: PollingPolicy) -> Self {
        self.polling = Some(polling);
        self
    }

    /// How Container Analysis is called: gRPC (the default) or REST.
    #[must_use]
    pub fn analysis_protocol(mut self, protocol: gar_containeranalysis::Protocol) -> Self {
        self.analysis_protocol = protocol;
        self
    }

    /// Record to, or replay from, a cassette.
    #[must_use]
    pub fn recording(mut self, recording: Recording) -> Self {
        self.recording = Some(recording);
        self
    }

    /// Reads environment variables through `lookup` instead of the process
    /// environment: for tests and for embedders that keep configuration elsewhere.
    #[must_use]
    pub fn environment(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Arc::new(lookup);
        self
    }

    /// Reads environment variables from `vars` only.
    #[must_use]
    pub fn environment_map(self, vars: HashMap<String, String>) -> Self {
        self.environment(move |name| vars.get(name).cloned())
    }

    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    /// Checks the configuration, finds credentials, and builds the client. Fails
    /// before any service call on a bad project, location or emulator URL, and on
    /// credentials that cannot be found or used.
    pub async fn build(self) -> Result<Client> {
        let project = self
            .project
            .as_deref()
            .map(str::parse::<ProjectId>)
            .transpose()?;
        let location = self
            .location
            .as_deref()
            .map(str::parse::<Location>)
            .transpose()?;
        let emulator = self
            .emulator
            .clone()
            .or_else(|| self.var(EMULATOR_HOST_ENV))
            .map(|host| normalize_emulator(&host));
        let endpoints = match (&emulator, &self.endpoints) {
            (Some(url), _) => Endpoints::emulator(url).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "the emulator address {url:?} is not usable: {}",
                        e.message()
                    ),
                )
            })?,
            (None, Some(e)) => e.clone(),
            (None, None) => Endpoints::google(),
        };

        let mut transport = Transport::builder();
        if let Some(retry) = self.retry.clone() {
            transport = transport.retry(Some(retry));
        }
        if let Some(breaker) = self.breaker {
            transport = transport.breaker(Some(breaker));
        }
        if let Some(timeout) = self.connect_timeout {
            transport = transport.connect_timeout(timeout);
        }
        if let Some(timeout) = self.request_timeout {
            transport = transport.request_timeout(timeout);
        }
        if let Some(tls) = self.tls.clone() {
            transport = transport.tls(tls);
        }
        if let Some(product) = &self.user_agent {
            transport = transport.user_agent(product.trim());
        }
        let mut recorder = None;
        match &self.recording {
            Some(Recording::Record(_)) => {
                let r = Recorder::new();
                transport = transport.record(r.clone());
                recorder = Some(r);
            }
            Some(Recording::Replay(path)) => {
                transport = transport.replay(Cassette::load(path)?);
            }
            None => {}
        }
        let base = transport.build()?;

        let provider = self.provider(&base, emulator.is_some()).await?;
        if let (Some(r), Some(p)) = (&recorder, &provider) {
            // Never let a token reach the cassette, whatever header carries it.
            if let Ok(token) = p.token().await {
                r.scrub(token.secret());
            }
        }
        let registry_transport = base.clone();
        let transport = match &provider {
            Some(p) => base.with_credentials(p.clone()),
            None => base,
        };
        Ok(Client {
            project,
            location,
            inner: Arc::new(Inner {
                endpoints,
                emulator,
                transport,
                registry_transport,
                credentials: provider,
                concurrency: self.concurrency,
                user_agent: self.user_agent.map(|p| p.trim().to_owned()),
                recorder,
                recording: self.recording,
                polling: self.polling.unwrap_or_default(),
                analysis_protocol: self.analysis_protocol,
                apis: std::sync::Mutex::new(Vec::new()),
            }),
        })
    }

    async fn provider(
        &self,
        base: &Transport,
        emulator: bool,
    ) -> Result<Option<Arc<dyn TokenProvider>>> {
        let http = base.token_http();
        let scopes = [CLOUD_PLATFORM_SCOPE.to_owned()];
        Ok(match &self.credentials {
            Credentials::Anonymous => None,
            Credentials::AccessToken(t) => Some(Arc::new(StaticToken::new(t.clone()))),
            Credentials::Provider(p) => Some(p.clone()),
            Credentials::File(path) => {
                let c = FileCredentials::from_file(path, &scopes, http)?;
                Some(Arc::new(CachedTokenProvider::new(c)))
            }
            Credentials::Json(json) => {
                let c = FileCredentials::from_json(json.expose_secret(), &scopes, http)?;
                Some(Arc::new(CachedTokenProvider::new(c)))
            }
            Credentials::ApplicationDefault => {
                if emulator && let Some(token) = self.var(EMULATOR_TOKEN_ENV) {
                    return Ok(Some(Arc::new(StaticToken::new(SecretString::new(token)))));
                }
                let env = self.env.clone();
                let adc = ApplicationDefault::new(http).with_env(move |name| env(name));
                let adc = if emulator {
                    adc.with_metadata_wait(Duration::from_millis(200))
                } else {
                    adc
                };
                match adc.find().await {
                    Ok(c) => Some(Arc::new(CachedTokenProvider::new(c))),
                    // An emulator may allow anonymous reads; its answers say when not.
                    Err(e) if emulator && e.kind() == ErrorKind::CredentialsNotFound => None,
                    Err(e) => return Err(e),
                }
            }
        })
    }
}

const ALL_CLASSES: [gar_core::error::RetryClass; 5] = [
    gar_core::error::RetryClass::AfterTokenRefresh,
    gar_core::error::RetryClass::Quota,
    gar_core::error::RetryClass::Internal,
    gar_core::error::RetryClass::Unavailable,
    gar_core::error::RetryClass::Timeout,
];

/// `127.0.0.1:8080` -> `http://127.0.0.1:8080`; URLs with a scheme are kept.
fn normalize_emulator(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    if host.starts_with("http://") || host.starts_with("https://") {
        host.to_owned()
    } else {
        format!("http://{host}")
    }
}

struct Inner {
    endpoints: Endpoints,
    emulator: Option<String>,
    transport: Transport,
    /// The same transport without credentials: registries exchange them at
    /// their challenge's realm themselves.
    registry_transport: Transport,
    credentials: Option<Arc<dyn TokenProvider>>,
    concurrency: Concurrency,
    user_agent: Option<String>,
    recorder: Option<Recorder>,
    recording: Option<Recording>,
    polling: PollingPolicy,
    analysis_protocol: gar_containeranalysis::Protocol,
    /// The Artifact Registry clients built so far, one per location (see `api`).
    apis: std::sync::Mutex<Vec<(Location, gar_artifactregistry::Client)>>,
}

/// How many locations' Artifact Registry clients a client keeps.
const API_CACHE: usize = 8;

/// The gar client: one cheap-to-clone handle over one transport (connections,
/// retries, circuit breakers and credentials are shared by every clone).
///
/// ```no_run
/// # async fn demo() -> gar_core::Result<()> {
/// let client = gar::Client::builder()
///     .project("my-project")
///     .location("us-central1")
///     .build()
///     .await?;
/// assert_eq!(client.location().map(|l| l.as_str()), Some("us-central1"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    project: Option<ProjectId>,
    location: Option<Location>,
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("project", &self.project)
            .field("location", &self.location)
            .field("endpoints", &self.inner.endpoints)
            .field("authenticated", &self.inner.credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The default project, if one was set.
    pub fn project(&self) -> Option<&ProjectId> {
        self.project.as_ref()
    }

    /// The default project, or an error that says how to set one.
    pub fn require_project(&self) -> Result<&ProjectId> {
        self.project().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidProject,
                "no project given: set one with Client::builder().project(..) or pass it to the call",
            )
        })
    }

    /// The default location, if one was set.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    /// The default location, or an error that says how to set one.
    pub fn require_location(&self) -> Result<&Location> {
        self.location().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidLocation,
                "no location given: set one with Client::builder().location(..) or pass it to the call",
            )
        })
    }

    /// The same client (sharing connections, credentials and breakers) with
    /// another default project; fails on a malformed id before any call.
    pub fn with_project(&self, project: &str) -> Result<Self> {
        let mut c = self.clone();
        c.project = Some(project.parse()?);
        Ok(c)
    }

    /// The same client with another default location; fails on an unknown
    /// location before any call.
    pub fn with_location(&self, location: &str) -> Result<Self> {
        let mut c = self.clone();
        c.location = Some(location.parse()?);
        Ok(c)
    }

    /// The same client with `location` as its default location.
    pub fn at(&self, location: &Location) -> Self {
        let mut c = self.clone();
        c.location = Some(location.clone());
        c
    }

    /// The Artifact Registry REST client for resources in `location` (the
    /// regional API host with [`Endpoints::regional`], else the global one or
    /// the emulator), over this client's transport.
    pub fn api(&self, location: &Location) -> Result<gar_artifactregistry::Client> {
        // Built once per location and shared (a client is a handle over the
        // one transport): every call needs one, and building it formats the
        // endpoint's URL. Building is cheap and does no I/O, so under the lock.
        let mut apis = self
            .inner
            .apis
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, api)) = apis.iter().find(|(l, _)| l == location) {
            return Ok(api.clone());
        }
        let url = self
            .inner
            .endpoints
            .url(Surface::ArtifactRegistry, location);
        let api = gar_artifactregistry::Client::builder()
            .transport(self.inner.transport.clone())
            .endpoint(url.to_string())
            .polling(self.inner.polling.clone())
            .build()?;
        if apis.len() < API_CACHE {
            apis.push((location.clone(), api.clone()));
        }
        Ok(api)
    }

    /// How Container Analysis is called.
    pub fn analysis_protocol(&self) -> gar_containeranalysis::Protocol {
        self.inner.analysis_protocol
    }

    /// How long-running operations are polled.
    pub fn polling(&self) -> &PollingPolicy {
        &self.inner.polling
    }

    /// Where each surface is served.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// The emulator's base URL, when the client talks to one.
    pub fn emulator(&self) -> Option<&str> {
        self.inner.emulator.as_deref()
    }

    /// The shared transport (with credentials, if any).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The transport without credentials, for clients that authenticate on their
    /// own (the docker registry's challenge).
    pub(crate) fn registry_transport(&self) -> &Transport {
        &self.inner.registry_transport
    }

    /// The token provider, if the client is authenticated.
    pub fn token_provider(&self) -> Option<&Arc<dyn TokenProvider>> {
        self.inner.credentials.as_ref()
    }

    /// The current access token (fetched or refreshed as needed), for tools that
    /// hand it to others (the docker credential helper).
    pub async fn access_token(&self) -> Result<SecretString> {
        match &self.inner.credentials {
            Some(p) => Ok(p.token().await?.secret().clone()),
            None => Err(Error::new(
                ErrorKind::CredentialsNotFound,
                "this client has no credentials: build it with Credentials other than Anonymous",
            )),
        }
    }

    /// How many blob transfers run at once.
    pub fn concurrency(&self) -> Concurrency {
        self.inner.concurrency
    }

    /// The product set with [`ClientBuilder::user_agent`], if any (the header
    /// sent is [`Transport::user_agent`]: the product, then `gar/<version>`).
    pub fn user_agent(&self) -> Option<&str> {
        self.inner.user_agent.as_deref()
    }

    /// Writes what was recorded so far to the cassette named in
    /// [`Recording::Record`]; an error when the client is not recording.
    pub fn save_recording(&self) -> Result<PathBuf> {
        match (&self.inner.recorder, &self.inner.recording) {
            (Some(r), Some(Recording::Record(path))) => {
                r.save(path)?;
                Ok(path.clone())
            }
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                "this client is not recording: build it with .recording(Recording::Record(path))",
            )),
        }
    }
}
