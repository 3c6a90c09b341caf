//! User credentials (`"type": "authorized_user"`): the refresh-token grant.

use std::path::Path;
use std::sync::Arc;

use gar_core::Error;
use serde_json::Value;

use crate::http::{HttpClient, exchange, post_form};
use crate::oauth::parse_token_answer;
use crate::service_account::{
    GOOGLE_TOKEN_URI, check_type, invalid_field, optional_str, parse_json, read_file, required_str,
};
use crate::token::{TokenFuture, TokenProvider};
use crate::{AccessToken, SecretString};

/// The credentials `gcloud auth application-default login` writes: a client id and
/// secret and a refresh token, exchanged at the token endpoint for access tokens.
#[derive(Debug, Clone)]
pub struct AuthorizedUser {
    client_id: String,
    client_secret: SecretString,
    refresh_token: SecretString,
    token_uri: String,
    quota_project_id: Option<String>,
    http: Arc<dyn HttpClient>,
}

impl AuthorizedUser {
    /// Parses the JSON text of an `authorized_user` file.
    pub fn from_json(json: &str, http: Arc<dyn HttpClient>) -> Result<Self, Error> {
        let value = parse_json(json.as_bytes(), "the user credentials")?;
        Self::from_value(&value, "user credentials", http)
    }

    /// Reads and parses the `authorized_user` file at `path`.
    pub fn from_file(path: impl AsRef<Path>, http: Arc<dyn HttpClient>) -> Result<Self, Error> {
        let path = path.as_ref();
        let what = format!("user credentials {}", path.display());
        let value = parse_json(&read_file(path)?, &what)?;
        Self::from_value(&value, &what, http)
    }

    pub(crate) fn from_value(
        json: &Value,
        what: &str,
        http: Arc<dyn HttpClient>,
    ) -> Result<Self, Error> {
        check_type(json, what, "authorized_user")?;
        let token_uri = optional_str(json, what, "token_uri")?
            .unwrap_or(GOOGLE_TOKEN_URI)
            .to_owned();
        if token_uri.parse::<http::Uri>().is_err() {
            return Err(invalid_field(what, "token_uri", "is not a URL"));
        }
        Ok(Self {
            client_id: required_str(json, what, "client_id")?.to_owned(),
            client_secret: SecretString::new(required_str(json, what, "client_secret")?),
            refresh_token: SecretString::new(required_str(json, what, "refresh_token")?),
            token_uri,
            quota_project_id: optional_str(json, what, "quota_project_id")?.map(str::to_owned),
            http,
        })
    }

    /// The project billed for quota, if the file names one.
    pub fn quota_project_id(&self) -> Option<&str> {
        self.quota_project_id.as_deref()
    }

    async fn fetch(&self) -> Result<AccessToken, Error> {
        let request = post_form(
            &self.token_uri,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &self.client_id),
                ("client_secret", self.client_secret.expose_secret()),
                ("refresh_token", self.refresh_token.expose_secret()),
            ],
        )?;
        let what = "user credentials: refresh-token grant";
        tracing::debug!(token_uri = %self.token_uri, "refreshing user credentials");
        let body = exchange(self.http.as_ref(), request, what).await?;
        parse_token_answer(&body, what)
    }
}

impl TokenProvider for AuthorizedUser {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch())
    }
}
