//! The metadata server of GCE, GKE (Workload Identity), Cloud Run and friends.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gar_core::{Error, ErrorKind};

use crate::AccessToken;
use crate::http::{HttpClient, bad_url, exchange, form_encode};
use crate::oauth::parse_token_answer;
use crate::token::{CLOUD_PLATFORM_SCOPE, TokenFuture, TokenProvider};

/// The metadata server's host name.
pub const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";

/// The environment variable that overrides [`DEFAULT_METADATA_HOST`] (`host[:port]`).
pub const METADATA_HOST_ENV: &str = "GCE_METADATA_HOST";

const TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";

/// Tokens of the service account attached to the machine or the Kubernetes service
/// account, from `http://{host}/computeMetadata/v1/.../token` with
/// `Metadata-Flavor: Google`.
#[derive(Debug, Clone)]
pub struct MetadataServer {
    host: String,
    scopes: Option<Vec<String>>,
    http: Arc<dyn HttpClient>,
}

impl MetadataServer {
    /// The metadata server at `GCE_METADATA_HOST` if set, else `metadata.google.internal`.
    pub fn new(http: Arc<dyn HttpClient>) -> Self {
        let host = std::env::var(METADATA_HOST_ENV).ok();
        Self::with_host(host.as_deref().unwrap_or(DEFAULT_METADATA_HOST), http)
    }

    /// The metadata server at `host` (`host[:port]`).
    pub fn with_host(host: &str, http: Arc<dyn HttpClient>) -> Self {
        Self {
            host: host.trim().trim_end_matches('/').to_owned(),
            scopes: None,
            http,
        }
    }

    /// Asks for `scopes` (the server's default is the VM's scopes, usually `cloud-platform`).
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.scopes = (scopes != [CLOUD_PLATFORM_SCOPE]).then_some(scopes);
        self
    }

    /// The `host[:port]` asked.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn request(&self, path_and_query: &str) -> Result<http::Request<Bytes>, Error> {
        let url = format!("http://{}{path_and_query}", self.host);
        http::Request::get(&url)
            .header("metadata-flavor", "Google")
            .body(Bytes::new())
            .map_err(|e| bad_url(&url, e))
    }

    /// Whether a metadata server answers at the host within `wait` (it must send
    /// `Metadata-Flavor: Google` back).
    pub async fn is_available(&self, wait: Duration) -> bool {
        let Ok(request) = self.request("/computeMetadata/v1/") else {
            return false;
        };
        match tokio::time::timeout(wait, self.http.send(request)).await {
            Ok(Ok(response)) => response
                .headers()
                .get("metadata-flavor")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"google")),
            _ => false,
        }
    }

    async fn fetch(&self) -> Result<AccessToken, Error> {
        let path = match &self.scopes {
            Some(scopes) => format!("{TOKEN_PATH}?scopes={}", form_encode(&scopes.join(","))),
            None => TOKEN_PATH.to_owned(),
        };
        let request = self.request(&path)?;
        let what = format!("metadata server {}", self.host);
        tracing::debug!(host = %self.host, "requesting a token from the metadata server");
        let body = exchange(self.http.as_ref(), request, &what).await?;
        parse_token_answer(&body, &what).map_err(|e| {
            if e.kind() == ErrorKind::TokenRefreshFailed {
                e
            } else {
                Error::new(ErrorKind::TokenRefreshFailed, e.to_string())
            }
        })
    }
}

impl TokenProvider for MetadataServer {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch())
    }
}
