//! Application Default Credentials: finding credentials the way Google's tools do,
//! and [`Credentials`], which dispatches a credentials file on its `type`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gar_core::{Error, ErrorKind};
use serde_json::Value;

use crate::external::{ExternalAccount, impersonate};
use crate::http::HttpClient;
use crate::metadata::{DEFAULT_METADATA_HOST, METADATA_HOST_ENV, MetadataServer};
use crate::service_account::{invalid_field, optional_str, parse_json, read_file, required_str};
use crate::token::{CLOUD_PLATFORM_SCOPE, TokenFuture, TokenProvider};
use crate::{AccessToken, AuthorizedUser, ServiceAccountCredentials, ServiceAccountKey};

/// The environment variable naming a credentials file.
pub const CREDENTIALS_ENV: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// Credentials of any supported kind, with a note of where they came from.
#[derive(Clone)]
pub struct Credentials {
    provider: Arc<dyn TokenProvider>,
    origin: String,
    project_id: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("origin", &self.origin)
            .field("project_id", &self.project_id)
            .field("provider", &self.provider)
            .finish()
    }
}

impl Credentials {
    /// Wraps any provider; `origin` says where it came from (for messages).
    pub fn from_provider(provider: Arc<dyn TokenProvider>, origin: impl Into<String>) -> Self {
        Self {
            provider,
            origin: origin.into(),
            project_id: None,
        }
    }

    /// Credentials from the JSON text of a credentials file of any supported
    /// `type`: `service_account`, `authorized_user`, `external_account`,
    /// `impersonated_service_account`.
    pub fn from_json(
        json: &str,
        scopes: &[String],
        http: Arc<dyn HttpClient>,
    ) -> Result<Self, Error> {
        let value = parse_json(json.as_bytes(), "the credentials")?;
        Self::from_value(&value, "credentials", "JSON text", scopes, http)
    }

    /// Credentials from the file at `path`, of any supported `type`.
    pub fn from_file(
        path: impl AsRef<Path>,
        scopes: &[String],
        http: Arc<dyn HttpClient>,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let what = format!("credentials file {}", path.display());
        let value = parse_json(&read_file(path)?, &what)?;
        Self::from_value(&value, &what, &path.display().to_string(), scopes, http)
    }

    fn from_value(
        json: &Value,
        what: &str,
        origin: &str,
        scopes: &[String],
        http: Arc<dyn HttpClient>,
    ) -> Result<Self, Error> {
        let kind = required_str(json, what, "type")?;
        let project_id = optional_str(json, what, "project_id")?
            .or(optional_str(json, what, "quota_project_id")?)
            .map(str::to_owned);
        let provider: Arc<dyn TokenProvider> = match kind {
            "service_account" => Arc::new(
                ServiceAccountCredentials::new(ServiceAccountKey::from_value(json, what)?, http)
                    .with_scopes(scopes.iter().cloned()),
            ),
            "authorized_user" => Arc::new(AuthorizedUser::from_value(json, what, http)?),
            "external_account" => Arc::new(
                ExternalAccount::from_value(json, what, http)?.with_scopes(scopes.iter().cloned()),
            ),
            "impersonated_service_account" => {
                let url = required_str(json, what, "service_account_impersonation_url")?;
                let source = json
                    .get("source_credentials")
                    .filter(|v| v.is_object())
                    .ok_or_else(|| invalid_field(what, "source_credentials", "is missing"))?;
                let inner_what = format!("{what}: source_credentials");
                let cloud = [CLOUD_PLATFORM_SCOPE.to_owned()];
                let inner = Self::from_value(source, &inner_what, origin, &cloud, http.clone())?;
                Arc::new(Impersonated {
                    source: inner.provider,
                    url: url.to_owned(),
                    scopes: scopes.to_vec(),
                    http,
                })
            }
            other => {
                return Err(invalid_field(
                    what,
                    "type",
                    &format!(
                        "is {other:?}; supported: service_account, authorized_user, \
                         external_account, impersonated_service_account"
                    ),
                ));
            }
        };
        Ok(Self {
            provider,
            origin: format!("{kind} from {origin}"),
            project_id,
        })
    }

    /// Where the credentials came from (`"service_account from /path/key.json"`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The project the credentials file names, if any.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }
}

impl TokenProvider for Credentials {
    fn token(&self) -> TokenFuture<'_> {
        self.provider.token()
    }

    fn invalidate(&self, rejected: &AccessToken) {
        self.provider.invalidate(rejected);
    }
}

/// `impersonated_service_account`: a source credential exchanged for a token of
/// another service account.
#[derive(Debug)]
struct Impersonated {
    source: Arc<dyn TokenProvider>,
    url: String,
    scopes: Vec<String>,
    http: Arc<dyn HttpClient>,
}

impl TokenProvider for Impersonated {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let source = self.source.token().await?;
            impersonate(self.http.as_ref(), &self.url, &source, &self.scopes).await
        })
    }
}

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The Application Default Credentials search: `GOOGLE_APPLICATION_CREDENTIALS`,
/// then gcloud's well-known file, then the metadata server.
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(http: Arc<dyn gar_auth::HttpClient>) -> Result<(), gar_core::Error> {
/// use gar_auth::{ApplicationDefault, CachedTokenProvider, TokenProvider};
///
/// let credentials = ApplicationDefault::new(http).find().await?;
/// println!("using {}", credentials.origin());
/// let cached = CachedTokenProvider::new(credentials);
/// let _token = cached.token().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ApplicationDefault {
    http: Arc<dyn HttpClient>,
    scopes: Vec<String>,
    env: EnvLookup,
    metadata_wait: Duration,
}

impl fmt::Debug for ApplicationDefault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationDefault")
            .field("scopes", &self.scopes)
            .field("metadata_wait", &self.metadata_wait)
            .finish_non_exhaustive()
    }
}

impl ApplicationDefault {
    /// The search over the process environment, with the `cloud-platform` scope.
    pub fn new(http: Arc<dyn HttpClient>) -> Self {
        Self {
            http,
            scopes: vec![CLOUD_PLATFORM_SCOPE.to_owned()],
            env: Arc::new(|name| std::env::var(name).ok()),
            metadata_wait: Duration::from_secs(3),
        }
    }

    /// Asks for `scopes` instead of `cloud-platform`.
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Reads environment variables through `lookup` instead of the process
    /// environment (`GOOGLE_APPLICATION_CREDENTIALS`, `CLOUDSDK_CONFIG`, `HOME`,
    /// `APPDATA`, `GCE_METADATA_HOST`).
    #[must_use]
    pub fn with_env(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Arc::new(lookup);
        self
    }

    /// How long to wait for the metadata server to answer (default 3 s).
    #[must_use]
    pub fn with_metadata_wait(mut self, wait: Duration) -> Self {
        self.metadata_wait = wait;
        self
    }

    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    /// gcloud's well-known file, if a config directory can be determined.
    pub fn well_known_file(&self) -> Option<PathBuf> {
        let dir = if let Some(dir) = self.var("CLOUDSDK_CONFIG") {
            PathBuf::from(dir)
        } else if cfg!(windows) {
            PathBuf::from(self.var("APPDATA")?).join("gcloud")
        } else {
            PathBuf::from(self.var("HOME")?)
                .join(".config")
                .join("gcloud")
        };
        Some(dir.join("application_default_credentials.json"))
    }

    /// Runs the search. Fails with `CredentialsNotFound` listing every place
    /// searched, or with the error of the first credentials found but unusable.
    pub async fn find(&self) -> Result<Credentials, Error> {
        let mut searched = Vec::new();
        match self.var(CREDENTIALS_ENV) {
            Some(path) => {
                tracing::debug!(path = %path, "ADC: using {CREDENTIALS_ENV}");
                return Credentials::from_file(&path, &self.scopes, self.http.clone()).map_err(
                    |e| {
                        if e.kind() == ErrorKind::CredentialsNotFound {
                            Error::new(
                                ErrorKind::CredentialsNotFound,
                                format!("{CREDENTIALS_ENV} names {path}, which does not exist"),
                            )
                        } else {
                            e
                        }
                    },
                );
            }
            None => searched.push(format!(
                "the environment variable {CREDENTIALS_ENV} (not set)"
            )),
        }
        match self.well_known_file() {
            Some(path) if path.is_file() => {
                tracing::debug!(path = %path.display(), "ADC: using gcloud's well-known file");
                return Credentials::from_file(&path, &self.scopes, self.http.clone());
            }
            Some(path) => searched.push(format!("gcloud's file {} (absent)", path.display())),
            None => searched.push(
                "gcloud's well-known file (no CLOUDSDK_CONFIG, HOME or APPDATA to find it)"
                    .to_owned(),
            ),
        }
        let host = self
            .var(METADATA_HOST_ENV)
            .unwrap_or_else(|| DEFAULT_METADATA_HOST.to_owned());
        let metadata =
            MetadataServer::with_host(&host, self.http.clone()).with_scopes(self.scopes.clone());
        if metadata.is_available(self.metadata_wait).await {
            tracing::debug!(host = %host, "ADC: using the metadata server");
            return Ok(Credentials::from_provider(
                Arc::new(metadata),
                format!("the metadata server at {host}"),
            ));
        }
        searched.push(format!(
            "the metadata server at http://{host} (no answer within {:?})",
            self.metadata_wait
        ));
        Err(Error::new(
            ErrorKind::CredentialsNotFound,
            format!(
                "no Google credentials found; searched {}. Run `gcloud auth application-default \
                 login`, set {CREDENTIALS_ENV} to a key file, or run on Google Cloud",
                searched.join(", then ")
            ),
        ))
    }
}
