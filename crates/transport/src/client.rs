//! [`HttpsClient`]: hyper 1 + hyper-util's pool + rustls (ring), HTTP/1.1 and
//! HTTP/2, TLS 1.2 and 1.3 only, certificates always verified.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use gar_core::{Error, ErrorKind};
use http::{Request, Response, Version};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower_service::Service;

use crate::Body;
use crate::errors::network_error;

/// TLS settings: which roots to trust and which certificate to present.
///
/// By default the Mozilla roots (webpki-roots) are trusted; add roots for a private
/// CA or a TLS emulator, or drop the public ones to trust only yours.
#[derive(Clone, Default)]
pub struct TlsConfig {
    extra_roots: Vec<CertificateDer<'static>>,
    without_public_roots: bool,
    identity: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("extra_roots", &self.extra_roots.len())
            .field("without_public_roots", &self.without_public_roots)
            .field("client_certificate", &self.identity.is_some())
            .finish()
    }
}

fn tls_config_error(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("{what}: {detail}"))
}

impl TlsConfig {
    /// Trust the public (Mozilla) roots only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also trusts every certificate in `pem` (one or more `CERTIFICATE` blocks).
    pub fn add_root_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_config_error("the root certificate PEM is invalid", e))?;
        if certs.is_empty() {
            return Err(tls_config_error(
                "the root certificate PEM is invalid",
                "it holds no CERTIFICATE block",
            ));
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }

    /// Also trusts the DER certificate `der`.
    #[must_use]
    pub fn add_root_der(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(CertificateDer::from(der));
        self
    }

    /// Trusts only the roots added with [`add_root_pem`](Self::add_root_pem).
    #[must_use]
    pub fn without_public_roots(mut self) -> Self {
        self.without_public_roots = true;
        self
    }

    /// Presents the certificate chain `cert_pem` with its private key `key_pem`
    /// (PKCS#8, PKCS#1 or SEC1) to servers that ask (mTLS).
    pub fn with_client_identity_pem(
        mut self,
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, Error> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_config_error("the client certificate PEM is invalid", e))?;
        if chain.is_empty() {
            return Err(tls_config_error(
                "the client certificate PEM is invalid",
                "it holds no CERTIFICATE block",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
            tls_config_error("the client key PEM is invalid", "no private key found")
        })?;
        self.identity = Some((chain, Arc::new(key)));
        Ok(self)
    }

    /// The rustls configuration: ring, TLS 1.3 and 1.2, ALPN h2 and http/1.1.
    pub(crate) fn rustls(&self) -> Result<rustls::ClientConfig, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| tls_config_error("TLS setup failed", e))?;
        let mut roots = rustls::RootCertStore::empty();
        if !self.without_public_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &self.extra_roots {
            roots
                .add(cert.clone())
                .map_err(|e| tls_config_error("an extra root certificate is unusable", e))?;
        }
        let builder = builder.with_root_certificates(roots);
        let config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| tls_config_error("the client certificate is unusable", e))?,
        };
        Ok(config)
    }
}

/// Settings of an [`HttpsClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// TLS roots and client identity.
    pub tls: TlsConfig,
    /// Longest wait for a TCP connection (default 10 s).
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept (default 90 s).
    pub pool_idle_timeout: Duration,
    /// Most idle connections kept per host (default 32).
    pub pool_max_idle_per_host: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            tls: TlsConfig::default(),
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 32,
        }
    }
}

type Inner = Client<HttpsConnector<HttpConnector>, Body>;

/// The bottom of the stack: sends requests over pooled connections.
///
/// `https` connections negotiate HTTP/2 or HTTP/1.1 by ALPN. Plain `http`
/// requests go out as HTTP/1.1, or with HTTP/2 prior knowledge (h2c) when the
/// request's version is HTTP/2, as gRPC clients set it. Every status is a
/// response; only failures below HTTP are errors (`ConnectionFailed`, `Timeout`,
/// `DnsResolutionFailed`).
#[derive(Clone, Debug)]
pub struct HttpsClient {
    negotiated: Inner,
    h2c: Inner,
}

impl HttpsClient {
    /// A client with `config`.
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        let tls = config.tls.rustls()?;
        let connector = || {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_nodelay(true);
            http.set_connect_timeout(Some(config.connect_timeout));
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls.clone())
                .https_or_http()
                .enable_http1()
                .enable_http2()
                .wrap_connector(http)
        };
        let builder = || {
            let mut b = Client::builder(TokioExecutor::new());
            b.pool_timer(TokioTimer::new())
                .timer(TokioTimer::new())
                .pool_idle_timeout(config.pool_idle_timeout)
                .pool_max_idle_per_host(config.pool_max_idle_per_host);
            b
        };
        let negotiated = builder().build(connector());
        let h2c = builder().http2_only(true).build(connector());
        Ok(Self { negotiated, h2c })
    }
}

impl Service<Request<Body>> for HttpsClient {
    type Response = Response<Body>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let h2c = request.version() == Version::HTTP_2
            && request.uri().scheme() == Some(&http::uri::Scheme::HTTP);
        let client = if h2c {
            self.h2c.clone()
        } else {
            self.negotiated.clone()
        };
        let host = request
            .uri()
            .authority()
            .map_or_else(String::new, |a| a.to_string());
        let mut request = request;
        if !h2c && request.version() == Version::HTTP_2 {
            // Let ALPN decide; hyper refuses an HTTP/2 request on an HTTP/1 connection.
            *request.version_mut() = Version::HTTP_11;
        }
        Box::pin(async move {
            let response = client
                .request(request)
                .await
                .map_err(|e| network_error(&host, Box::new(e)))?;
            Ok(response.map(Body::wrap))
        })
    }
}
