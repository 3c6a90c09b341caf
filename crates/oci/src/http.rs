//! One call to the registry: its request (rebuilt for each attempt, so that a
//! streamed body can be produced again after a 401), and turning error answers
//! into [`gar_core::Error`]s.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gar_core::Error;
use gar_core::error::{ErrorKind, Resource};
use gar_transport::Body;
use gar_transport::observe::Operation;
use gar_transport::retry::Idempotency;
use gar_transport::timeout::RequestTimeout;
use http::header::{AUTHORIZATION, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, Response};

use crate::auth::Scope;

/// Largest error body read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Makes a fresh request body for each attempt.
pub(crate) type BodyFactory = Arc<dyn Fn() -> Result<Body, Error> + Send + Sync>;

/// The body of a [`Call`].
#[derive(Clone)]
pub(crate) enum CallBody {
    /// No body.
    Empty,
    /// Bytes in memory (replayable by the transport's retries).
    Full(Bytes),
    /// A stream, made anew for each attempt.
    Factory(BodyFactory),
}

impl fmt::Debug for CallBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Full(b) => write!(f, "Full({} bytes)", b.len()),
            Self::Factory(_) => f.write_str("Factory"),
        }
    }
}

/// One request to the registry, described so that it can be built again.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) headers: Vec<(HeaderName, String)>,
    pub(crate) body: CallBody,
    pub(crate) operation: &'static str,
    pub(crate) attributes: Vec<(&'static str, String)>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) scopes: Vec<Scope>,
    /// Whether to send credentials (not to hosts a redirect names).
    pub(crate) authorize: bool,
}

impl Call {
    pub(crate) fn new(method: Method, url: String, operation: &'static str) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: CallBody::Empty,
            operation,
            attributes: Vec::new(),
            idempotent: None,
            timeout: None,
            scopes: Vec::new(),
            authorize: true,
        }
    }

    pub(crate) fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn body(mut self, body: CallBody) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn scope(mut self, scope: Scope) -> Self {
        self.scopes.push(scope);
        self
    }

    pub(crate) fn attribute(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push((key, value.into()));
        self
    }

    pub(crate) fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    pub(crate) fn timeout(mut self, after: Duration) -> Self {
        self.timeout = Some(after);
        self
    }

    pub(crate) fn unauthorized(mut self) -> Self {
        self.authorize = false;
        self
    }

    /// The request, with `authorization` if given.
    pub(crate) fn build(&self, authorization: Option<HeaderValue>) -> Result<Request<Body>, Error> {
        let body = match &self.body {
            CallBody::Empty => Body::empty(),
            CallBody::Full(b) => Body::full(b.clone()),
            CallBody::Factory(f) => f()?,
        };
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name, value.as_str());
        }
        if let Some(a) = authorization {
            builder = builder.header(AUTHORIZATION, a);
        }
        let mut request = builder.body(body).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("cannot build the request {} {}: {e}", self.method, self.url),
            )
        })?;
        let mut op = Operation::new(self.operation);
        for (k, v) in &self.attributes {
            op = op.with_attribute(k, v.clone());
        }
        request.extensions_mut().insert(op);
        if let Some(i) = self.idempotent {
            request.extensions_mut().insert(if i {
                Idempotency::Idempotent
            } else {
                Idempotency::NotIdempotent
            });
        }
        if let Some(t) = self.timeout {
            request.extensions_mut().insert(RequestTimeout(t));
        }
        Ok(request)
    }
}

/// The error an answer carries, about `resource`.
pub(crate) async fn error_of(response: Response<Body>, resource: &Resource) -> Error {
    let status = response.status().as_u16();
    let retry_after = header(response.headers(), http::header::RETRY_AFTER)
        .and_then(|v| gar_transport::retry::parse_retry_after(v, std::time::SystemTime::now()));
    let body = response
        .into_body()
        .collect_bytes(ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    let err = Error::from_oci(status, &body, Some(resource));
    match retry_after {
        Some(wait) => err.with_retry_after(wait),
        None => err,
    }
}

/// A header's text.
pub(crate) fn header(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Percent-encodes a query value (everything but the unreserved characters).
pub(crate) fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `url` with `key=value` appended to its query.
pub(crate) fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={}", query_encode(value))
}

/// Whether an error is worth resuming a transfer after: the network broke, or
/// the server was overloaded or failing.
pub(crate) fn is_transient(err: &Error) -> bool {
    err.is_retryable() && err.kind() != ErrorKind::TokenExpired
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            query_encode("repository:p/r/app:pull,push"),
            "repository%3Ap%2Fr%2Fapp%3Apull%2Cpush"
        );
        assert_eq!(
            with_query("/u?_state=x", "digest", "sha256:ab"),
            "/u?_state=x&digest=sha256%3Aab"
        );
        assert_eq!(with_query("/u", "n", "5"), "/u?n=5");
    }

    #[test]
    fn calls_rebuild_with_their_extensions() {
        let call = Call::new(Method::PUT, "http://h/v2/x".into(), "gar.oci.manifest.put")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(CallBody::Full(Bytes::from_static(b"{}")))
            .attribute("gar.tag", "v1")
            .idempotent(true)
            .timeout(Duration::from_secs(5));
        let r = call
            .build(Some(HeaderValue::from_static("Bearer t")))
            .unwrap();
        assert_eq!(r.headers()["authorization"], "Bearer t");
        assert_eq!(
            r.extensions().get::<Operation>().unwrap().name(),
            "gar.oci.manifest.put"
        );
        assert_eq!(
            r.extensions().get::<RequestTimeout>(),
            Some(&RequestTimeout(Duration::from_secs(5)))
        );
        assert_eq!(r.body().as_bytes(), Some(&b"{}"[..]));
        let bad = Call::new(Method::GET, "not a url".into(), "x");
        assert_eq!(
            bad.build(None).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}
