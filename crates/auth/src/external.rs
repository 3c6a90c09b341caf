//! Workload identity federation (`"type": "external_account"`): a subject token
//! from a file or a URL, exchanged at the STS endpoint (RFC 8693), optionally
//! followed by service-account impersonation.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use gar_core::protojson::Timestamp;
use gar_core::{Error, ErrorKind};
use serde_json::Value;

use crate::http::{HttpClient, bad_url, exchange, post_form};
use crate::oauth::{DEFAULT_LIFETIME, parse_token_answer};
use crate::service_account::{
    check_type, invalid_field, optional_str, parse_json, read_file, required_str,
};
use crate::token::{CLOUD_PLATFORM_SCOPE, TokenFuture, TokenProvider, now};
use crate::{AccessToken, SecretString};

const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Where the subject token comes from.
#[derive(Debug, Clone)]
enum SubjectSource {
    File(PathBuf),
    Url {
        url: String,
        headers: Vec<(String, String)>,
    },
}

/// How the subject token is stored in the file or URL answer.
#[derive(Debug, Clone)]
enum SubjectFormat {
    Text,
    Json { field: String },
}

/// Credentials for workload identity federation, with a file- or URL-sourced
/// subject token. Executable- and AWS-sourced credentials are refused with
/// `ServiceAccountInvalid` naming `credential_source`.
#[derive(Debug, Clone)]
pub struct ExternalAccount {
    audience: String,
    subject_token_type: String,
    token_url: String,
    impersonation_url: Option<String>,
    user_project: Option<String>,
    source: SubjectSource,
    format: SubjectFormat,
    scopes: Vec<String>,
    http: Arc<dyn HttpClient>,
}

impl ExternalAccount {
    /// Parses the JSON text of an `external_account` file.
    pub fn from_json(json: &str, http: Arc<dyn HttpClient>) -> Result<Self, Error> {
        let value = parse_json(json.as_bytes(), "the external-account credentials")?;
        Self::from_value(&value, "external-account credentials", http)
    }

    /// Reads and parses the `external_account` file at `path`.
    pub fn from_file(path: impl AsRef<Path>, http: Arc<dyn HttpClient>) -> Result<Self, Error> {
        let path = path.as_ref();
        let what = format!("external-account credentials {}", path.display());
        let value = parse_json(&read_file(path)?, &what)?;
        Self::from_value(&value, &what, http)
    }

    pub(crate) fn from_value(
        json: &Value,
        what: &str,
        http: Arc<dyn HttpClient>,
    ) -> Result<Self, Error> {
        check_type(json, what, "external_account")?;
        let source = json
            .get("credential_source")
            .filter(|v| v.is_object())
            .ok_or_else(|| invalid_field(what, "credential_source", "is missing"))?;
        let src_what = format!("{what}: credential_source");
        let subject = if let Some(file) = optional_str(source, &src_what, "file")? {
            SubjectSource::File(PathBuf::from(file))
        } else if let Some(url) = optional_str(source, &src_what, "url")? {
            let headers = match source.get("headers") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(map)) => map
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|v| (k.clone(), v.to_owned()))
                            .ok_or_else(|| {
                                invalid_field(
                                    &src_what,
                                    "headers",
                                    "has a value that is not a string",
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(invalid_field(&src_what, "headers", "is not an object"));
                }
            };
            SubjectSource::Url {
                url: url.to_owned(),
                headers,
            }
        } else {
            return Err(invalid_field(
                what,
                "credential_source",
                "has neither `file` nor `url` (executable and AWS sources are not supported)",
            ));
        };
        let format = match source.get("format") {
            None | Some(Value::Null) => SubjectFormat::Text,
            Some(format) => {
                let fmt_what = format!("{src_what}.format");
                match optional_str(format, &fmt_what, "type")?.unwrap_or("text") {
                    "text" => SubjectFormat::Text,
                    "json" => SubjectFormat::Json {
                        field: required_str(format, &fmt_what, "subject_token_field_name")?
                            .to_owned(),
                    },
                    other => {
                        return Err(invalid_field(
                            &fmt_what,
                            "type",
                            &format!("is {other:?}, expected \"text\" or \"json\""),
                        ));
                    }
                }
            }
        };
        let token_url = required_str(json, what, "token_url")?.to_owned();
        if token_url.parse::<http::Uri>().is_err() {
            return Err(invalid_field(what, "token_url", "is not a URL"));
        }
        Ok(Self {
            audience: required_str(json, what, "audience")?.to_owned(),
            subject_token_type: required_str(json, what, "subject_token_type")?.to_owned(),
            token_url,
            impersonation_url: optional_str(json, what, "service_account_impersonation_url")?
                .map(str::to_owned),
            user_project: optional_str(json, what, "workforce_pool_user_project")?
                .map(str::to_owned),
            source: subject,
            format,
            scopes: vec![CLOUD_PLATFORM_SCOPE.to_owned()],
            http,
        })
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

    async fn subject_token(&self) -> Result<SecretString, Error> {
        let raw = match &self.source {
            SubjectSource::File(path) => read_file(path).map_err(|e| {
                Error::new(
                    ErrorKind::TokenRefreshFailed,
                    format!("external account: cannot read the subject token: {e}"),
                )
            })?,
            SubjectSource::Url { url, headers } => {
                let mut builder = http::Request::get(url);
                for (name, value) in headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                let request = builder.body(Bytes::new()).map_err(|e| bad_url(url, e))?;
                exchange(
                    self.http.as_ref(),
                    request,
                    "external account: subject token request",
                )
                .await?
                .to_vec()
            }
        };
        let token = match &self.format {
            SubjectFormat::Text => String::from_utf8_lossy(&raw).trim().to_owned(),
            SubjectFormat::Json { field } => serde_json::from_slice::<Value>(&raw)
                .ok()
                .and_then(|v| v.get(field).and_then(Value::as_str).map(str::to_owned))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::TokenRefreshFailed,
                        format!(
                            "external account: the subject token JSON has no string field `{field}`"
                        ),
                    )
                })?,
        };
        if token.is_empty() {
            return Err(Error::new(
                ErrorKind::TokenRefreshFailed,
                "external account: the subject token is empty",
            ));
        }
        Ok(SecretString::new(token))
    }

    async fn fetch(&self) -> Result<AccessToken, Error> {
        let subject = self.subject_token().await?;
        let scope = if self.impersonation_url.is_some() {
            CLOUD_PLATFORM_SCOPE.to_owned()
        } else {
            self.scopes.join(" ")
        };
        let mut pairs = vec![
            ("grant_type", TOKEN_EXCHANGE_GRANT),
            ("audience", self.audience.as_str()),
            ("scope", scope.as_str()),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("subject_token", subject.expose_secret()),
            ("subject_token_type", self.subject_token_type.as_str()),
        ];
        let options;
        if let Some(project) = &self.user_project {
            options = serde_json::json!({ "userProject": project }).to_string();
            pairs.push(("options", options.as_str()));
        }
        let request = post_form(&self.token_url, &pairs)?;
        tracing::debug!(token_url = %self.token_url, "exchanging an external subject token");
        let what = "external account: token exchange";
        let body = exchange(self.http.as_ref(), request, what).await?;
        let federated = parse_token_answer(&body, what)?;
        match &self.impersonation_url {
            None => Ok(federated),
            Some(url) => impersonate(self.http.as_ref(), url, &federated, &self.scopes).await,
        }
    }
}

/// Exchanges `source` for a token of the service account at `url`
/// (`iamcredentials ... :generateAccessToken`).
pub(crate) async fn impersonate(
    http: &dyn HttpClient,
    url: &str,
    source: &AccessToken,
    scopes: &[String],
) -> Result<AccessToken, Error> {
    let body = serde_json::json!({
        "scope": scopes,
        "lifetime": format!("{}s", DEFAULT_LIFETIME.as_secs()),
    });
    let request = http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::AUTHORIZATION,
            source.bearer_header().expose_secret(),
        )
        .body(Bytes::from(body.to_string()))
        .map_err(|e| bad_url(url, e))?;
    let what = "service-account impersonation";
    tracing::debug!(url = %url, "impersonating a service account");
    let answer = exchange(http, request, what).await?;
    let value: Value = serde_json::from_slice(&answer).map_err(|e| {
        Error::new(
            ErrorKind::TokenRefreshFailed,
            format!("{what}: the answer is not JSON"),
        )
        .with_source(e)
    })?;
    let secret = value
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::TokenRefreshFailed,
                format!("{what}: the answer has no accessToken"),
            )
        })?;
    let lifetime = value
        .get("expireTime")
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::from_str(t).ok())
        .map_or(DEFAULT_LIFETIME, |t| {
            SystemTime::from(t)
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        });
    Ok(AccessToken::new(
        SecretString::new(secret),
        now().checked_add(lifetime),
    ))
}

impl TokenProvider for ExternalAccount {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch())
    }
}
