//! The [`Client`] handle and the plumbing every call shares: URLs, request
//! naming for observability, idempotency marks, and the mapping of error answers.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use gar_core::error::{Resource, ResourceKind};
use gar_core::names::{
    DockerImageName, FileName, LocationName, PackageName, RepositoryName, TagName, VersionName,
};
use gar_core::{Error, ErrorKind};
use gar_transport::observe::Operation as Observed;
use gar_transport::retry::Idempotency;
use gar_transport::{Body, Transport};
use http::{Method, Request, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::lro::PollingPolicy;

/// The Artifact Registry API's public endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://artifactregistry.googleapis.com";

/// Largest JSON answer read (a page of 1000 versions with metadata is well below).
const JSON_LIMIT: usize = 64 << 20;
/// Largest error body read.
const ERROR_LIMIT: usize = 1 << 20;

/// A client of the Artifact Registry REST API v1: a cheap-to-clone handle over a
/// [`Transport`] (which brings authentication, retries, the circuit breaker and
/// observability). Every call returns a request builder: `set_*` for request
/// fields, `with_*` for per-call options, then `send()`; lists also give
/// `by_page()` and `by_item()` streams, and long-running calls `start()`.
///
/// ```no_run
/// use futures_util::TryStreamExt;
/// use gar_artifactregistry::{Client, model::VersionView};
/// use gar_core::names::PackageName;
///
/// # async fn demo(transport: gar_transport::Transport) -> Result<(), gar_core::Error> {
/// let client = Client::new(transport);
/// let package: PackageName =
///     "projects/my-project/locations/us/repositories/docker/packages/team%2Fapp".parse()?;
/// let mut versions = client
///     .list_versions(&package)
///     .set_view(VersionView::Full)
///     .set_order_by("create_time desc")
///     .by_item();
/// while let Some(v) = versions.try_next().await? {
///     println!("{} {:?}", v.name, v.related_tags);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    endpoint: String,
    polling: PollingPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("polling", &self.inner.polling)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`].
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    transport: Option<Transport>,
    endpoint: Option<String>,
    polling: PollingPolicy,
}

impl ClientBuilder {
    /// The transport to send through (default: `Transport::builder().build()`,
    /// without credentials).
    #[must_use]
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The API's base URL (default [`DEFAULT_ENDPOINT`]; a regional endpoint or an
    /// emulator's URL otherwise).
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// How long-running operations are polled (default [`PollingPolicy::default`]).
    #[must_use]
    pub fn polling(mut self, polling: PollingPolicy) -> Self {
        self.polling = polling;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, Error> {
        let transport = match self.transport {
            Some(t) => t,
            None => Transport::builder().build()?,
        };
        let endpoint = self
            .endpoint
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(Error::invalid(
                ErrorKind::InvalidArgument,
                "endpoint",
                &endpoint,
                "it must be an http:// or https:// URL",
            ));
        }
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                endpoint,
                polling: self.polling,
            }),
        })
    }
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client of the public endpoint over `transport`.
    pub fn new(transport: Transport) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                endpoint: DEFAULT_ENDPOINT.to_owned(),
                polling: PollingPolicy::default(),
            }),
        }
    }

    /// The base URL calls go to.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The transport calls go through.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The default polling of long-running operations.
    pub fn polling(&self) -> &PollingPolicy {
        &self.inner.polling
    }

    fn url(&self, call: &Call) -> String {
        let mut url = format!("{}/v1/{}", self.inner.endpoint, escape_path(&call.path));
        if let Some(verb) = call.verb {
            url.push(':');
            url.push_str(verb);
        }
        let mut sep = '?';
        for (k, v) in &call.query {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&query_escape(v));
            sep = '&';
        }
        url
    }

    /// Sends `call`; error answers become errors about the call's subjects.
    pub(crate) async fn send_raw(&self, call: &Call) -> Result<Response<Body>, Error> {
        let mut builder = Request::builder()
            .method(call.method.clone())
            .uri(self.url(call));
        let body = match &call.body {
            Some(v) => {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
                Body::full(serde_json::to_vec(v).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("cannot encode the request: {e}"),
                    )
                })?)
            }
            None => Body::empty(),
        };
        let mut request = builder.body(body).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("cannot build the request for {}: {e}", call.path),
            )
        })?;
        let mut observed = Observed::new(call.operation);
        for (k, v) in &call.attributes {
            observed = observed.with_attribute(k, v.clone());
        }
        request.extensions_mut().insert(observed);
        if let Some(idempotent) = call.idempotent {
            request.extensions_mut().insert(if idempotent {
                Idempotency::Idempotent
            } else {
                Idempotency::NotIdempotent
            });
        }
        let response = self.inner.transport.send(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect_bytes(ERROR_LIMIT)
            .await
            .unwrap_or_default();
        Err(map_error(status, &body, &call.subjects))
    }

    /// Sends `call` and reads its JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, Error> {
        let response = self.send_raw(call).await?;
        let bytes: Bytes = response.into_body().collect_bytes(JSON_LIMIT).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::InvalidResponse,
                format!(
                    "the answer to {} is not what the API defines: {e}",
                    call.operation
                ),
            )
        })
    }
}

/// One HTTP call of the API, as the builders describe it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    /// The resource name (ids percent-encoded as in names), without `/v1/`.
    pub path: String,
    pub verb: Option<&'static str>,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// `gar.artifactregistry.<resource>.<verb>`.
    pub operation: &'static str,
    pub attributes: Vec<(&'static str, String)>,
    /// The resources an error may be about, outermost first; the last by default.
    pub subjects: Vec<Resource>,
    pub idempotent: Option<bool>,
}

impl Call {
    pub(crate) fn new(method: Method, path: impl Into<String>, operation: &'static str) -> Self {
        Self {
            method,
            path: path.into(),
            verb: None,
            query: Vec::new(),
            body: None,
            operation,
            attributes: Vec::new(),
            subjects: Vec::new(),
            idempotent: None,
        }
    }

    pub(crate) fn get(path: impl Into<String>, operation: &'static str) -> Self {
        Self::new(Method::GET, path, operation)
    }

    pub(crate) fn verb(mut self, verb: &'static str) -> Self {
        self.verb = Some(verb);
        self
    }

    pub(crate) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    /// Sets (replacing) a query parameter.
    pub(crate) fn set_query(&mut self, key: &'static str, value: impl Into<String>) {
        self.query.retain(|(k, _)| *k != key);
        self.query.push((key, value.into()));
    }

    /// About a location.
    pub(crate) fn on_location(mut self, l: &LocationName) -> Self {
        self.attributes
            .push(("gar.project", l.project().to_string()));
        self.attributes
            .push(("gar.location", l.location().to_string()));
        self
    }

    /// About a repository (and its location).
    pub(crate) fn on_repository(self, r: &RepositoryName) -> Self {
        let mut c = self.on_location(r.parent());
        c.attributes
            .push(("gar.repository", r.repository().to_string()));
        c.subjects.push(r.as_resource());
        c
    }

    /// About a package (and its repository).
    pub(crate) fn on_package(self, p: &PackageName) -> Self {
        let mut c = self.on_repository(p.repository());
        c.attributes.push(("gar.package", p.package().to_string()));
        c.subjects.push(p.as_resource());
        c
    }

    /// About a version.
    pub(crate) fn on_version(self, v: &VersionName) -> Self {
        let mut c = self.on_package(v.package());
        c.attributes.push(("gar.version", v.version().to_string()));
        c.subjects.push(v.as_resource());
        c
    }

    /// About a tag.
    pub(crate) fn on_tag(self, t: &TagName) -> Self {
        let mut c = self.on_package(t.package());
        c.attributes.push(("gar.tag", t.tag().to_string()));
        c.subjects.push(t.as_resource());
        c
    }

    /// About a tag pointed at `version` (which an error may be about too).
    pub(crate) fn on_tag_of(mut self, t: &TagName, version: &VersionName) -> Self {
        self.subjects.push(version.as_resource());
        self.on_tag(t)
    }

    /// About a file.
    pub(crate) fn on_file(self, f: &FileName) -> Self {
        let mut c = self.on_repository(f.repository());
        c.attributes.push(("gar.resource", f.to_string()));
        c.subjects.push(f.as_resource());
        c
    }

    /// About a docker image.
    pub(crate) fn on_docker_image(self, d: &DockerImageName) -> Self {
        let mut c = self.on_repository(d.repository());
        c.attributes.push(("gar.image", d.image().to_string()));
        c.attributes.push(("gar.digest", d.digest().to_string()));
        c.subjects.push(Resource::new(
            ResourceKind::DockerImage,
            format!("{}@{}", d.image(), d.digest()),
            Some(&d.repository().to_string()),
        ));
        c
    }

    /// About an operation.
    pub(crate) fn on_operation(mut self, name: &str) -> Self {
        self.attributes.push(("gar.resource", name.to_owned()));
        self.subjects
            .push(Resource::new(ResourceKind::Operation, name, None));
        self
    }
}

/// Escapes a resource name for a URL path so that the server's one decoding
/// gives back the name: `team%2Fapp` travels as `team%252Fapp`.
pub(crate) fn escape_path(name: &str) -> String {
    name.replace('%', "%25")
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The resource an error body names in a `google.rpc.ResourceInfo` detail.
fn named_kind(body: &[u8]) -> Option<ResourceKind> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let details = v.get("error")?.get("details")?.as_array()?;
    details.iter().find_map(|d| {
        let ty = d.get("@type")?.as_str()?;
        if !ty.ends_with("google.rpc.ResourceInfo") {
            return None;
        }
        let rt = d.get("resourceType")?.as_str()?;
        let last = rt.rsplit(['/', '.']).next().unwrap_or(rt);
        Some(match last.to_ascii_lowercase().as_str() {
            "repository" => ResourceKind::Repository,
            "package" => ResourceKind::Package,
            "version" => ResourceKind::Version,
            "tag" => ResourceKind::Tag,
            "file" => ResourceKind::File,
            "dockerimage" => ResourceKind::DockerImage,
            "operation" => ResourceKind::Operation,
            _ => return None,
        })
    })
}

/// The error of an error answer: the subject is the resource the body names
/// (a missing repository when a version was asked for), else the call's own.
pub(crate) fn map_error(status: u16, body: &[u8], subjects: &[Resource]) -> Error {
    let named = named_kind(body).and_then(|kind| subjects.iter().find(|r| r.kind() == kind));
    Error::from_http(status, body, named.or(subjects.last()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_travel_double_encoded() {
        assert_eq!(
            escape_path(
                "projects/p/locations/l/repositories/r/packages/team%2Fapp/versions/sha256:ab"
            ),
            "projects/p/locations/l/repositories/r/packages/team%252Fapp/versions/sha256:ab"
        );
        assert_eq!(query_escape("name=\"a b\"*"), "name%3D%22a%20b%22%2A");
    }

    #[test]
    fn not_found_answers_name_their_resource() {
        let v: VersionName =
            "projects/my-project/locations/us/repositories/r/packages/p/versions/1"
                .parse()
                .unwrap();
        let call = Call::get(v.to_string(), "t").on_version(&v);
        let body = |kind: &str| {
            serde_json::to_vec(
                &serde_json::json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "gone",
                "details": [{"@type": "type.googleapis.com/google.rpc.ResourceInfo",
                             "resourceType": format!("artifactregistry.googleapis.com/{kind}")}]}}),
            )
            .unwrap()
        };
        for (kind, expected) in [
            ("Repository", ErrorKind::RepositoryNotFound),
            ("Package", ErrorKind::PackageNotFound),
            ("Version", ErrorKind::VersionNotFound),
            ("Tag", ErrorKind::VersionNotFound),
        ] {
            assert_eq!(
                map_error(404, &body(kind), &call.subjects).kind(),
                expected,
                "{kind}"
            );
        }
        assert_eq!(
            map_error(404, b"not json", &call.subjects).kind(),
            ErrorKind::VersionNotFound
        );
        assert_eq!(
            map_error(403, b"{}", &call.subjects).kind(),
            ErrorKind::RepositoryAccessDenied
        );
    }
}
