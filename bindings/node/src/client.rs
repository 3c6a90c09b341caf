//! The client: options from JavaScript to the facade's builder.

use std::collections::HashMap;

use gar::{Concurrency, Credentials, Recording, SecretString};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::millis;
use crate::error::{invalid, to_napi};
use crate::task::{Task, start_local};

/// Where credentials come from (the facade's `Credentials`).
#[napi(object)]
pub struct CredentialsOptions {
    /// `applicationDefault` (the default), `file`, `json`, `accessToken` or `anonymous`.
    pub kind: String,
    /// The file path (`file`), the JSON text (`json`) or the token (`accessToken`).
    pub value: Option<String>,
}

/// Blob transfers at once.
#[napi(object)]
pub struct ConcurrencyOptions {
    /// Parallel uploads.
    pub uploads: Option<u32>,
    /// Parallel downloads.
    pub downloads: Option<u32>,
}

/// Everything `gar::ClientBuilder` takes that JavaScript can express.
#[napi(object)]
pub struct ClientOptions {
    /// The default project.
    pub project: Option<String>,
    /// The default location.
    pub location: Option<String>,
    /// The emulator's base URL (else `ARTIFACT_REGISTRY_EMULATOR_HOST`).
    pub emulator: Option<String>,
    /// Credentials (Application Default Credentials when absent).
    pub credentials: Option<CredentialsOptions>,
    /// `false` turns retries off.
    pub retry: Option<bool>,
    /// Connect timeout in milliseconds.
    pub connect_timeout_ms: Option<u32>,
    /// Request timeout in milliseconds (until the response head); 0 for none.
    pub request_timeout_ms: Option<u32>,
    /// Blob transfers at once.
    pub concurrency: Option<ConcurrencyOptions>,
    /// A product token naming the tool built on gar.
    pub user_agent: Option<String>,
    /// Record every exchange, to be saved to this file by `saveRecording()`.
    pub record: Option<String>,
    /// Answer from this cassette, without a network.
    pub replay: Option<String>,
    /// Environment variables to read instead of the process environment.
    pub env: Option<HashMap<String, String>>,
    /// Container Analysis over `grpc` (the default) or `rest`.
    pub analysis_protocol: Option<String>,
    /// Use the regional Artifact Registry API hosts instead of the global one.
    pub regional_endpoints: Option<bool>,
}

fn credentials(c: CredentialsOptions) -> gar::Result<Credentials> {
    let value = |what: &str| {
        c.value.clone().ok_or_else(|| {
            invalid(
                gar::ErrorKind::InvalidArgument,
                format!("credentials of kind {:?} need {what}", c.kind),
            )
        })
    };
    Ok(match c.kind.as_str() {
        "applicationDefault" => Credentials::ApplicationDefault,
        "file" => Credentials::File(value("a path")?.into()),
        "json" => Credentials::Json(SecretString::new(value("the JSON text")?)),
        "accessToken" => Credentials::AccessToken(SecretString::new(value("a token")?)),
        "anonymous" => Credentials::Anonymous,
        other => {
            return Err(invalid(
                gar::ErrorKind::InvalidArgument,
                format!(
                    "unknown credentials kind {other:?}: use applicationDefault, file, json, accessToken or anonymous"
                ),
            ));
        }
    })
}

fn builder(o: ClientOptions) -> gar::Result<gar::ClientBuilder> {
    let mut b = gar::Client::builder();
    if let Some(p) = o.project {
        b = b.project(p);
    }
    if let Some(l) = o.location {
        b = b.location(l);
    }
    if let Some(e) = o.emulator {
        b = b.emulator(e);
    }
    if let Some(c) = o.credentials {
        b = b.credentials(credentials(c)?);
    }
    if o.retry == Some(false) {
        b = b.retry(None);
    }
    if let Some(ms) = o.connect_timeout_ms {
        b = b.connect_timeout(millis(ms));
    }
    if let Some(ms) = o.request_timeout_ms {
        b = b.request_timeout((ms > 0).then(|| millis(ms)));
    }
    if let Some(c) = o.concurrency {
        let d = Concurrency::default();
        let n = |v: Option<u32>, default: usize| {
            v.map_or(default, |v| usize::try_from(v).unwrap_or(default))
        };
        b = b.concurrency(Concurrency {
            uploads: n(c.uploads, d.uploads),
            downloads: n(c.downloads, d.downloads),
        });
    }
    if let Some(ua) = o.user_agent {
        b = b.user_agent(ua);
    }
    match (o.record, o.replay) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                gar::ErrorKind::InvalidArgument,
                "record and replay cannot both be set",
            ));
        }
        (Some(path), None) => b = b.recording(Recording::Record(path.into())),
        (None, Some(path)) => b = b.recording(Recording::Replay(path.into())),
        (None, None) => {}
    }
    if let Some(env) = o.env {
        b = b.environment_map(env);
    }
    match o.analysis_protocol.as_deref() {
        None | Some("grpc") => {}
        Some("rest") => b = b.analysis_protocol(gar::Protocol::Rest),
        Some(other) => {
            return Err(invalid(
                gar::ErrorKind::InvalidArgument,
                format!("unknown analysis protocol {other:?}: use grpc or rest"),
            ));
        }
    }
    if o.regional_endpoints == Some(true) {
        b = b.endpoints(gar::Endpoints::regional());
    }
    Ok(b)
}

/// A built `gar::Client`.
#[napi]
pub struct NativeClient {
    pub(crate) inner: gar::Client,
}

/// Checks the options, finds credentials and builds the client (the facade's
/// `ClientBuilder::build`).
#[napi]
pub async fn connect(options: ClientOptions) -> napi::Result<NativeClient> {
    let b = builder(options).map_err(|e| to_napi(&e))?;
    let inner = b.build().await.map_err(|e| to_napi(&e))?;
    Ok(NativeClient { inner })
}

#[napi]
impl NativeClient {
    /// The default project, if one was set.
    #[napi(getter)]
    pub fn project(&self) -> Option<String> {
        self.inner.project().map(ToString::to_string)
    }

    /// The default location, if one was set.
    #[napi(getter)]
    pub fn location(&self) -> Option<String> {
        self.inner.location().map(ToString::to_string)
    }

    /// The emulator's base URL, when the client talks to one.
    #[napi(getter)]
    pub fn emulator(&self) -> Option<String> {
        self.inner.emulator().map(str::to_owned)
    }

    /// Whether the client has credentials.
    #[napi(getter)]
    pub fn authenticated(&self) -> bool {
        self.inner.token_provider().is_some()
    }

    /// The same client with another default project.
    #[napi]
    pub fn with_project(&self, project: String) -> napi::Result<NativeClient> {
        self.inner
            .with_project(&project)
            .map(|inner| NativeClient { inner })
            .map_err(|e| to_napi(&e))
    }

    /// The same client with another default location.
    #[napi]
    pub fn with_location(&self, location: String) -> napi::Result<NativeClient> {
        self.inner
            .with_location(&location)
            .map(|inner| NativeClient { inner })
            .map_err(|e| to_napi(&e))
    }

    /// The current access token (usually cached: a local task).
    #[napi]
    pub fn access_token(&self) -> Task {
        let c = self.inner.clone();
        start_local(async move {
            let t = c.access_token().await?;
            Ok(Value::String(t.expose_secret().to_owned()))
        })
    }

    /// Writes the recording to its cassette; returns the path.
    #[napi]
    pub fn save_recording(&self) -> napi::Result<String> {
        self.inner
            .save_recording()
            .map(|p| p.display().to_string())
            .map_err(|e| to_napi(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ClientOptions {
        ClientOptions {
            project: None,
            location: None,
            emulator: None,
            credentials: None,
            retry: None,
            connect_timeout_ms: None,
            request_timeout_ms: None,
            concurrency: None,
            user_agent: None,
            record: None,
            replay: None,
            env: None,
            analysis_protocol: None,
            regional_endpoints: None,
        }
    }

    #[test]
    fn credentials_kinds_map_to_the_facade() {
        let c = |kind: &str, value: Option<&str>| {
            credentials(CredentialsOptions {
                kind: kind.into(),
                value: value.map(Into::into),
            })
        };
        assert!(matches!(c("anonymous", None), Ok(Credentials::Anonymous)));
        assert!(matches!(
            c("file", Some("/k.json")),
            Ok(Credentials::File(_))
        ));
        assert!(matches!(
            c("accessToken", Some("t")),
            Ok(Credentials::AccessToken(_))
        ));
        assert_eq!(
            c("file", None).unwrap_err().kind(),
            gar::ErrorKind::InvalidArgument
        );
        assert_eq!(
            c("magic", None).unwrap_err().kind(),
            gar::ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn record_and_replay_exclude_each_other() {
        let mut o = options();
        o.record = Some("a".into());
        o.replay = Some("b".into());
        assert!(builder(o).is_err());
        assert!(builder(options()).is_ok());
        let mut o = options();
        o.analysis_protocol = Some("carrier-pigeon".into());
        assert!(builder(o).is_err());
    }
}
