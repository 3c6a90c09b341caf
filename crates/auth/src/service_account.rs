//! Service-account keys: the JWT-bearer grant (RFC 7523) signed with RS256.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gar_core::{Error, ErrorKind};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::Value;

use crate::http::{HttpClient, exchange, post_form};
use crate::oauth::parse_token_answer;
use crate::token::{CLOUD_PLATFORM_SCOPE, TokenFuture, TokenProvider};
use crate::{AccessToken, SecretString};

/// Google's token endpoint, used when a key file names none.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How long the signed assertion is valid (Google's maximum).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);

/// A parsed service-account key (`"type": "service_account"`).
///
/// The private key is parsed up front, so a bad key fails here, naming the field,
/// not at the first request.
#[derive(Clone)]
pub struct ServiceAccountKey {
    client_email: String,
    private_key_id: Option<String>,
    project_id: Option<String>,
    token_uri: String,
    signer: Arc<RsaKeyPair>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

/// The error for field `field` of a key.
pub(crate) fn invalid_field(what: &str, field: &str, problem: &str) -> Error {
    Error::new(
        ErrorKind::ServiceAccountInvalid,
        format!("{what}: field `{field}` {problem}"),
    )
}

/// The string field `field` of `json`, or an error naming it.
pub(crate) fn required_str<'a>(json: &'a Value, what: &str, field: &str) -> Result<&'a str, Error> {
    match json.get(field) {
        None | Some(Value::Null) => Err(invalid_field(what, field, "is missing")),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(invalid_field(what, field, "is empty")),
        Some(_) => Err(invalid_field(what, field, "is not a string")),
    }
}

/// The optional string field `field` of `json`.
pub(crate) fn optional_str<'a>(
    json: &'a Value,
    what: &str,
    field: &str,
) -> Result<Option<&'a str>, Error> {
    match json.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid_field(what, field, "is not a string")),
    }
}

/// Checks that the optional `type` field of `json` is `expected`.
pub(crate) fn check_type(json: &Value, what: &str, expected: &str) -> Result<(), Error> {
    match optional_str(json, what, "type")? {
        Some(kind) if kind != expected => Err(invalid_field(
            what,
            "type",
            &format!("is {kind:?}, expected {expected:?}"),
        )),
        _ => Ok(()),
    }
}

/// Parses JSON text of a credentials file; `what` names it in errors.
pub(crate) fn parse_json(text: &[u8], what: &str) -> Result<Value, Error> {
    let value: Value = serde_json::from_slice(text).map_err(|e| {
        Error::new(
            ErrorKind::ServiceAccountInvalid,
            format!(
                "{what} is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Error::new(
            ErrorKind::ServiceAccountInvalid,
            format!("{what} is not a JSON object"),
        ))
    }
}

/// Reads the credentials file at `path`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::CredentialsNotFound
        } else {
            ErrorKind::ServiceAccountInvalid
        };
        Error::new(
            kind,
            format!("cannot read credentials file {}: {e}", path.display()),
        )
        .with_source(e)
    })
}

impl ServiceAccountKey {
    /// Parses the JSON text of a key file.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let value = parse_json(json.as_bytes(), "the service-account key")?;
        Self::from_value(&value, "service-account key")
    }

    /// Reads and parses the key file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = read_file(path)?;
        let what = format!("service-account key {}", path.display());
        let value = parse_json(&text, &what)?;
        Self::from_value(&value, &what)
    }

    pub(crate) fn from_value(json: &Value, what: &str) -> Result<Self, Error> {
        check_type(json, what, "service_account")?;
        let client_email = required_str(json, what, "client_email")?.to_owned();
        let pem = required_str(json, what, "private_key")?;
        let signer = parse_private_key(pem)
            .map_err(|problem| invalid_field(what, "private_key", problem))?;
        let token_uri = optional_str(json, what, "token_uri")?
            .unwrap_or(GOOGLE_TOKEN_URI)
            .to_owned();
        if token_uri.parse::<http::Uri>().is_err() {
            return Err(invalid_field(what, "token_uri", "is not a URL"));
        }
        Ok(Self {
            client_email,
            private_key_id: optional_str(json, what, "private_key_id")?.map(str::to_owned),
            project_id: optional_str(json, what, "project_id")?.map(str::to_owned),
            token_uri,
            signer: Arc::new(signer),
        })
    }

    /// The service account's e-mail address.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The project the key belongs to, if the file says.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// Where tokens are requested.
    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// A signed JWT-bearer assertion for `scopes`, issued at `issued_at`.
    pub(crate) fn assertion(
        &self,
        scopes: &[String],
        issued_at: SystemTime,
    ) -> Result<SecretString, Error> {
        let iat = issued_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let (Some(kid), Some(map)) = (&self.private_key_id, header.as_object_mut()) {
            map.insert("kid".to_owned(), Value::String(kid.clone()));
        }
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": scopes.join(" "),
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat.saturating_add(ASSERTION_LIFETIME.as_secs()),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.signer.public().modulus_len()];
        self.signer
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| {
                Error::new(
                    ErrorKind::ServiceAccountInvalid,
                    "signing the JWT assertion with the service-account key failed",
                )
            })?;
        Ok(SecretString::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// Parses a PEM RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
fn parse_private_key(pem: &str) -> Result<RsaKeyPair, &'static str> {
    let (label, der) = pem_decode(pem).ok_or("is not a PEM-encoded private key")?;
    match label.as_str() {
        "PRIVATE KEY" => {
            RsaKeyPair::from_pkcs8(&der).map_err(|_| "is not a valid PKCS#8 RSA private key")
        }
        "RSA PRIVATE KEY" => {
            RsaKeyPair::from_der(&der).map_err(|_| "is not a valid PKCS#1 RSA private key")
        }
        _ => Err("holds a PEM block that is not an RSA private key"),
    }
}

/// The label and bytes of the first PEM block in `text`.
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = text.get(start + "-----BEGIN ".len()..)?;
    let label_end = rest.find("-----")?;
    let label = rest.get(..label_end)?.to_owned();
    let body_start = label_end + "-----".len();
    let end_marker = format!("-----END {label}-----");
    let body_end = rest.find(&end_marker)?;
    let body: String = rest
        .get(body_start..body_end)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body).ok()?;
    Some((label, der))
}

/// Tokens for a service account, by the JWT-bearer grant to its `token_uri`.
///
/// Every call to [`token`](TokenProvider::token) asks the token endpoint; wrap it in a
/// [`CachedTokenProvider`](crate::CachedTokenProvider).
#[derive(Debug, Clone)]
pub struct ServiceAccountCredentials {
    key: ServiceAccountKey,
    scopes: Vec<String>,
    http: Arc<dyn HttpClient>,
}

impl ServiceAccountCredentials {
    /// Credentials for `key`, asking for the `cloud-platform` scope through `http`.
    pub fn new(key: ServiceAccountKey, http: Arc<dyn HttpClient>) -> Self {
        Self {
            key,
            scopes: vec![CLOUD_PLATFORM_SCOPE.to_owned()],
            http,
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

    /// The key.
    pub fn key(&self) -> &ServiceAccountKey {
        &self.key
    }

    async fn fetch(&self) -> Result<AccessToken, Error> {
        let assertion = self.key.assertion(&self.scopes, SystemTime::now())?;
        let request = post_form(
            &self.key.token_uri,
            &[
                ("grant_type", JWT_BEARER_GRANT),
                ("assertion", assertion.expose_secret()),
            ],
        )?;
        let what = format!("service account {}: token request", self.key.client_email);
        tracing::debug!(client_email = %self.key.client_email, token_uri = %self.key.token_uri, "requesting a service-account token");
        let body = exchange(self.http.as_ref(), request, &what).await?;
        parse_token_answer(&body, &what)
    }
}

impl TokenProvider for ServiceAccountCredentials {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_name_the_field() {
        let cases = [
            (r#"{"type":"service_account"}"#, "client_email", "missing"),
            (
                r#"{"type":"service_account","client_email":"a@b","private_key":"nope"}"#,
                "private_key",
                "PEM",
            ),
            (
                r#"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#,
                "private_key",
                "PKCS#8",
            ),
            (r#"{"type":"authorized_user"}"#, "type", "authorized_user"),
            (r#"{"client_email":7}"#, "client_email", "not a string"),
            (r#"{"client_email":""}"#, "client_email", "empty"),
        ];
        for (json, field, problem) in cases {
            let err = ServiceAccountKey::from_json(json).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ServiceAccountInvalid, "{json}");
            let text = err.to_string();
            assert!(text.contains(&format!("`{field}`")), "{text}");
            assert!(text.contains(problem), "{text}");
        }
        let err = ServiceAccountKey::from_json("{not json").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServiceAccountInvalid);
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = ServiceAccountKey::from_json("[1]").unwrap_err();
        assert!(err.to_string().contains("not a JSON object"), "{err}");
    }

    #[test]
    fn pem_blocks() {
        let (label, der) =
            pem_decode("junk\n-----BEGIN X Y-----\nAQID\nBA==\n-----END X Y-----\n").unwrap();
        assert_eq!(label, "X Y");
        assert_eq!(der, vec![1, 2, 3, 4]);
        assert!(pem_decode("-----BEGIN X-----\nAQID").is_none());
        assert!(
            parse_private_key("-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----")
                .is_err()
        );
    }
}
