//! gar-transport against servers started on loopback inside the tests: flaky
//! HTTP APIs, token endpoints, TLS and mTLS servers, an h2c gRPC server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support {
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::future::Future;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};

    use bytes::Bytes;
    use gar_transport::Body;
    use http_body_util::BodyExt;
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::SubscriberExt;

    /// What a test server saw of one request.
    #[derive(Debug, Clone)]
    pub struct Seen {
        pub method: String,
        pub path_and_query: String,
        pub version: http::Version,
        pub headers: http::HeaderMap,
        pub body: Bytes,
    }

    impl Seen {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name).and_then(|v| v.to_str().ok())
        }
    }

    type Handler = Arc<
        dyn Fn(Seen, usize) -> Pin<Box<dyn Future<Output = http::Response<Body>> + Send>>
            + Send
            + Sync,
    >;

    /// A TLS connection's protocol version and how many client certificates it showed.
    pub type TlsSession = (Option<rustls::ProtocolVersion>, usize);

    /// How a server treats its connections.
    #[derive(Clone)]
    pub enum Mode {
        Plain,
        Tls(Arc<rustls::ServerConfig>),
        /// Resets the first `n` connections without answering.
        ResetFirst(usize),
    }

    pub struct Server {
        pub addr: SocketAddr,
        pub requests: Arc<AtomicUsize>,
        pub connections: Arc<AtomicUsize>,
        pub seen: Arc<Mutex<Vec<Seen>>>,
        /// Per TLS connection: the protocol version and how many client certificates were shown.
        pub tls_sessions: Arc<Mutex<Vec<TlsSession>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Server {
        pub async fn start<F, Fut>(handler: F) -> Self
        where
            F: Fn(Seen, usize) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = http::Response<Body>> + Send + 'static,
        {
            Self::start_with(Mode::Plain, handler).await
        }

        pub async fn start_with<F, Fut>(mode: Mode, handler: F) -> Self
        where
            F: Fn(Seen, usize) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = http::Response<Body>> + Send + 'static,
        {
            let handler: Handler = Arc::new(move |seen, n| Box::pin(handler(seen, n)));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let requests = Arc::new(AtomicUsize::new(0));
            let connections = Arc::new(AtomicUsize::new(0));
            let seen = Arc::new(Mutex::new(Vec::new()));
            let tls_sessions = Arc::new(Mutex::new(Vec::new()));
            let (r, c, s, cc) = (
                requests.clone(),
                connections.clone(),
                seen.clone(),
                tls_sessions.clone(),
            );
            let task = tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let index = c.fetch_add(1, Ordering::SeqCst);
                    let (handler, r, s, cc, mode) = (
                        handler.clone(),
                        r.clone(),
                        s.clone(),
                        cc.clone(),
                        mode.clone(),
                    );
                    tokio::spawn(async move {
                        let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                            let (handler, r, s) = (handler.clone(), r.clone(), s.clone());
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|c| c.to_bytes())
                                    .unwrap_or_default();
                                let seen = Seen {
                                    method: parts.method.to_string(),
                                    path_and_query: parts
                                        .uri
                                        .path_and_query()
                                        .map(|p| p.to_string())
                                        .unwrap_or_default(),
                                    version: parts.version,
                                    headers: parts.headers,
                                    body,
                                };
                                s.lock().unwrap().push(seen.clone());
                                let n = r.fetch_add(1, Ordering::SeqCst);
                                Ok::<_, Infallible>(handler(seen, n).await)
                            }
                        });
                        let builder =
                            hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                        match mode {
                            Mode::Plain => {
                                let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                            }
                            Mode::ResetFirst(n) if index < n => {
                                // Wait for the request, then close without reading it:
                                // the kernel answers with a reset.
                                let _ = stream.readable().await;
                                let _ = stream.set_zero_linger();
                                drop(stream);
                            }
                            Mode::ResetFirst(_) => {
                                let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                            }
                            Mode::Tls(config) => {
                                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                                let Ok(tls) = acceptor.accept(stream).await else {
                                    return;
                                };
                                let session = tls.get_ref().1;
                                let presented = session.peer_certificates().map_or(0, <[_]>::len);
                                cc.lock()
                                    .unwrap()
                                    .push((session.protocol_version(), presented));
                                let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
                            }
                        }
                    });
                }
            });
            Self {
                addr,
                requests,
                connections,
                seen,
                tls_sessions,
                task,
            }
        }

        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }

        pub fn https_url(&self, path: &str) -> String {
            format!("https://{}{path}", self.addr)
        }

        pub fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }

        pub fn connections(&self) -> usize {
            self.connections.load(Ordering::SeqCst)
        }

        pub fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }

        pub fn tls_sessions(&self) -> Vec<TlsSession> {
            self.tls_sessions.lock().unwrap().clone()
        }

        pub fn stop(self) {}
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    pub fn respond(status: u16, body: &str) -> http::Response<Body> {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    pub const KEY_PEM: &str = include_str!("../../auth/tests/data/sa-key.pem");

    pub fn sa_json(token_uri: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "proj",
            "private_key_id": "kid-1",
            "private_key": KEY_PEM,
            "client_email": "robot@proj.iam.gserviceaccount.com",
            "token_uri": token_uri,
        })
        .to_string()
    }

    /// A token endpoint handing out `tok-0`, `tok-1`, ... (prefixed by `prefix`).
    pub async fn token_server(prefix: &'static str) -> Server {
        Server::start(move |_, n| async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            respond(
                200,
                &format!(
                    r#"{{"access_token":"{prefix}{n}","expires_in":3600,"token_type":"Bearer"}}"#
                ),
            )
        })
        .await
    }

    pub fn get(url: &str) -> http::Request<Body> {
        http::Request::get(url).body(Body::empty()).unwrap()
    }

    pub async fn text(response: http::Response<Body>) -> String {
        let bytes = response.into_body().collect_bytes(1 << 20).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    // ---- tracing capture: one global subscriber for the whole binary ----

    #[derive(Clone, Default)]
    pub struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// A span as recorded: its name and every field recorded on it.
    #[derive(Debug, Clone, Default)]
    pub struct SpanRecord {
        pub name: String,
        pub fields: HashMap<String, String>,
    }

    #[derive(Default)]
    struct Spans {
        by_id: Mutex<HashMap<u64, SpanRecord>>,
    }

    struct FieldVisitor<'a>(&'a mut HashMap<String, String>);

    impl Visit for FieldVisitor<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }

    struct SpanLayer(Arc<Spans>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SpanLayer {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            _ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let mut record = SpanRecord {
                name: attrs.metadata().name().to_owned(),
                fields: HashMap::new(),
            };
            attrs.record(&mut FieldVisitor(&mut record.fields));
            self.0.by_id.lock().unwrap().insert(id.into_u64(), record);
        }

        fn on_record(
            &self,
            id: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            _ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if let Some(record) = self.0.by_id.lock().unwrap().get_mut(&id.into_u64()) {
                values.record(&mut FieldVisitor(&mut record.fields));
            }
        }
    }

    struct Global {
        logs: Capture,
        spans: Arc<Spans>,
    }

    static GLOBAL: OnceLock<Global> = OnceLock::new();

    /// Installs the global TRACE subscriber; every test calls it first.
    pub fn init_tracing() {
        GLOBAL.get_or_init(|| {
            let logs = Capture::default();
            let spans = Arc::new(Spans::default());
            let subscriber = tracing_subscriber::registry()
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(logs.clone())
                        .with_ansi(false),
                )
                .with(SpanLayer(spans.clone()))
                .with(tracing_subscriber::filter::LevelFilter::TRACE);
            tracing::subscriber::set_global_default(subscriber).unwrap();
            Global { logs, spans }
        });
    }

    pub fn captured_logs() -> String {
        let g = GLOBAL.get().unwrap();
        String::from_utf8_lossy(&g.logs.0.lock().unwrap()).into_owned()
    }

    /// Every span recorded so far whose `gar.operation` is `operation`.
    pub fn spans_of(operation: &str) -> Vec<SpanRecord> {
        let g = GLOBAL.get().unwrap();
        g.spans
            .by_id
            .lock()
            .unwrap()
            .values()
            .filter(|s| s.fields.get("gar.operation").map(String::as_str) == Some(operation))
            .cloned()
            .collect()
    }

    // ---- certificates ----

    pub struct Pki {
        pub ca_pem: String,
        pub server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
        pub server_key: rustls::pki_types::PrivateKeyDer<'static>,
        pub client_cert_pem: String,
        pub client_key_pem: String,
        pub ca_der: rustls::pki_types::CertificateDer<'static>,
    }

    pub fn pki() -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "gar test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(vec!["client.gar.test".to_owned()]).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "gar test client");
        let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();
        Pki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            server_chain: vec![server_cert.der().clone()],
            server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    pub fn server_tls(
        pki: &Pki,
        versions: &[&'static rustls::SupportedProtocolVersion],
        require_client_cert: bool,
    ) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(pki.ca_der.clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let mut config = builder
            .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

mod retry {
    use std::time::Duration;

    use gar_core::ErrorKind;
    use gar_transport::Body;
    use gar_transport::Transport;
    use gar_transport::retry::{Attempts, Idempotency, RetryConfig};
    use tokio::time::Instant;

    use crate::support::*;

    fn transport() -> Transport {
        Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .build()
            .unwrap()
    }

    fn status(code: u16) -> http::Response<Body> {
        respond(
            code,
            &format!(r#"{{"error":{{"code":{code},"message":"m"}}}}"#),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn quota_429_honours_retry_after_seconds() {
        init_tracing();
        let server = Server::start(|_, n| async move {
            if n < 2 {
                http::Response::builder()
                    .status(429)
                    .header("retry-after", "7")
                    .body(Body::from("{}"))
                    .unwrap()
            } else {
                respond(200, "{\"ok\":true}")
            }
        })
        .await;
        let start = Instant::now();
        let response = transport().send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.extensions().get::<Attempts>(), Some(&Attempts(3)));
        assert_eq!(start.elapsed(), Duration::from_secs(14));
        assert_eq!(server.requests(), 3);
        assert_eq!(text(response).await, "{\"ok\":true}");
    }

    #[tokio::test(start_paused = true)]
    async fn quota_429_without_retry_after_backs_off_from_30s_for_5_attempts() {
        init_tracing();
        let server = Server::start(|_, _| async { status(429) }).await;
        let start = Instant::now();
        let response = transport().send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 429, "the last answer is returned");
        assert_eq!(response.extensions().get::<Attempts>(), Some(&Attempts(5)));
        assert_eq!(server.requests(), 5);
        assert_eq!(start.elapsed(), Duration::from_secs(30 + 60 + 120 + 240));
        assert!(text(response).await.contains("\"code\":429"));
    }

    #[tokio::test(start_paused = true)]
    async fn internal_500_three_attempts_from_1s() {
        init_tracing();
        let server = Server::start(|_, _| async { status(500) }).await;
        let start = Instant::now();
        let response = transport().send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(server.requests(), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(1 + 2));
    }

    #[tokio::test(start_paused = true)]
    async fn unavailable_503_three_attempts_from_2s() {
        init_tracing();
        let server = Server::start(|_, n| async move {
            if n < 2 {
                status(503)
            } else {
                respond(200, "{}")
            }
        })
        .await;
        let start = Instant::now();
        let response = transport().send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(server.requests(), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(2 + 4));
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_three_attempts_fixed_1s() {
        init_tracing();
        let server = Server::start(|_, _| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            respond(200, "{}")
        })
        .await;
        let transport = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .request_timeout(Some(Duration::from_secs(5)))
            .build()
            .unwrap();
        let start = Instant::now();
        let err = transport.send(get(&server.url("/slow"))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(server.requests(), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(5 + 1 + 5 + 1 + 5));
    }

    #[tokio::test(start_paused = true)]
    async fn connection_resets_are_retried_like_503() {
        init_tracing();
        let server =
            Server::start_with(Mode::ResetFirst(2), |_, _| async { respond(200, "{}") }).await;
        let start = Instant::now();
        let response = transport().send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(server.connections(), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(2 + 4));
        // Without a server at all, the error is ConnectionFailed after 3 attempts.
        let addr = server.addr;
        server.stop();
        let err = transport()
            .send(get(&format!("http://{addr}/gone")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionFailed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_post_is_not_retried_unless_marked_idempotent() {
        init_tracing();
        let server = Server::start(|_, _| async { status(503) }).await;
        let post = || {
            http::Request::post(server.url("/v1/x"))
                .body(Body::from("{}"))
                .unwrap()
        };
        let response = transport().send(post()).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(server.requests(), 1);
        let mut marked = post();
        marked.extensions_mut().insert(Idempotency::Idempotent);
        transport().send(marked).await.unwrap();
        assert_eq!(server.requests(), 4);
        // A GET marked not idempotent, and a GET with a streaming body, go once.
        let mut once = get(&server.url("/x"));
        once.extensions_mut().insert(Idempotency::NotIdempotent);
        transport().send(once).await.unwrap();
        assert_eq!(server.requests(), 5);
        let streaming = http::Request::put(server.url("/upload"))
            .body(Body::from_stream(futures_util::stream::iter(vec![Ok::<
                _,
                std::io::Error,
            >(
                bytes::Bytes::from_static(b"chunk"),
            )])))
            .unwrap();
        transport().send(streaming).await.unwrap();
        assert_eq!(server.requests(), 6);
        assert_eq!(server.seen()[5].body.as_ref(), b"chunk");
    }

    #[tokio::test(start_paused = true)]
    async fn the_error_body_decides_the_kind() {
        init_tracing();
        // 429 for an exhausted storage quota is not worth retrying.
        let server = Server::start(|_, _| async {
            respond(
                429,
                r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Storage quota exceeded"}}"#,
            )
        })
        .await;
        let response = transport().send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(server.requests(), 1);
        // A RetryInfo detail sets the wait when there is no Retry-After header.
        let server = Server::start(|_, n| async move {
            if n == 0 {
                respond(
                    429,
                    r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"slow down",
                    "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"4s"}]}}"#,
                )
            } else {
                respond(200, "{}")
            }
        })
        .await;
        let start = Instant::now();
        let response = transport().send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(start.elapsed(), Duration::from_secs(4));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_http_dates_use_the_injected_wall_clock() {
        init_tracing();
        let base = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let clock = gar_transport::clock::ManualClock::at(base);
        let date = httpdate::fmt_http_date(base + Duration::from_secs(9));
        let server = Server::start(move |_, n| {
            let date = date.clone();
            async move {
                if n == 0 {
                    http::Response::builder()
                        .status(503)
                        .header("retry-after", date)
                        .body(Body::empty())
                        .unwrap()
                } else {
                    respond(200, "{}")
                }
            }
        })
        .await;
        let transport = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .clock(std::sync::Arc::new(clock))
            .build()
            .unwrap();
        let start = Instant::now();
        let response = transport.send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(start.elapsed(), Duration::from_secs(9));
        // A wait longer than the configured limit is not taken.
        let server = Server::start(|_, _| async {
            http::Response::builder()
                .status(503)
                .header("retry-after", "3600")
                .body(Body::empty())
                .unwrap()
        })
        .await;
        let transport = Transport::builder()
            .retry(Some(
                RetryConfig::new()
                    .with_jitter(0.0)
                    .with_max_retry_after(Duration::from_secs(60)),
            ))
            .breaker(None)
            .build()
            .unwrap();
        let start = Instant::now();
        let response = transport.send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(server.requests(), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_shortens_waits_within_bounds() {
        init_tracing();
        let server = Server::start(|_, _| async { status(500) }).await;
        let transport = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.5)))
            .breaker(None)
            .build()
            .unwrap();
        let start = Instant::now();
        transport.send(get(&server.url("/x"))).await.unwrap();
        let elapsed = start.elapsed();
        // Waits of 1 s and 2 s, each shortened by up to half.
        assert!(elapsed <= Duration::from_secs(3), "{elapsed:?}");
        assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
        assert_eq!(server.requests(), 3);
    }
}

mod breaker {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use gar_core::ErrorKind;
    use gar_transport::breaker::CircuitState;
    use gar_transport::retry::RetryConfig;
    use gar_transport::{Transport, is_circuit_open};
    use tokio::time::Instant;

    use crate::support::*;

    async fn switchable() -> (Server, Arc<AtomicBool>) {
        let healthy = Arc::new(AtomicBool::new(false));
        let h = healthy.clone();
        let server = Server::start(move |_, _| {
            let ok = h.load(Ordering::SeqCst);
            async move {
                if ok {
                    respond(200, "{}")
                } else {
                    respond(503, "{}")
                }
            }
        })
        .await;
        (server, healthy)
    }

    fn no_retry() -> Transport {
        Transport::builder().retry(None).build().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_5_failures_fails_fast_then_half_opens_and_closes() {
        init_tracing();
        let (server, healthy) = switchable().await;
        let other = Server::start(|_, _| async { respond(200, "{}") }).await;
        let transport = no_retry();
        let host = server.addr.to_string();
        for i in 1..=5 {
            let response = transport.send(get(&server.url("/x"))).await.unwrap();
            assert_eq!(response.status(), 503);
            let expected = if i < 5 {
                CircuitState::Closed
            } else {
                CircuitState::Open
            };
            assert_eq!(transport.circuit_state(&host), Some(expected), "after {i}");
        }
        // Open: fail fast, without touching the server.
        let err = transport.send(get(&server.url("/x"))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CircuitOpen);
        assert!(err.is_circuit_open() && !err.is_retryable());
        assert!(is_circuit_open(&err));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(server.requests(), 5);
        // Another host has its own breaker.
        let response = transport.send(get(&other.url("/y"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            transport.circuit_state(&other.addr.to_string()),
            Some(CircuitState::Closed)
        );

        tokio::time::sleep(Duration::from_secs(29)).await;
        assert!(transport.send(get(&server.url("/x"))).await.is_err());
        assert_eq!(server.requests(), 5);

        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(transport.circuit_state(&host), Some(CircuitState::HalfOpen));
        healthy.store(true, Ordering::SeqCst);
        let response = transport.send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(transport.circuit_state(&host), Some(CircuitState::HalfOpen));
        let response = transport.send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(transport.circuit_state(&host), Some(CircuitState::Closed));
        assert_eq!(server.requests(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_opens_the_circuit_again() {
        init_tracing();
        let (server, healthy) = switchable().await;
        let transport = no_retry();
        let host = server.addr.to_string();
        for _ in 0..5 {
            transport.send(get(&server.url("/x"))).await.unwrap();
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        let response = transport.send(get(&server.url("/x"))).await.unwrap();
        assert_eq!(response.status(), 503, "the probe reached the server");
        assert_eq!(server.requests(), 6);
        assert_eq!(transport.circuit_state(&host), Some(CircuitState::Open));
        assert!(is_circuit_open(
            &transport.send(get(&server.url("/x"))).await.unwrap_err()
        ));
        assert_eq!(server.requests(), 6);
        tokio::time::sleep(Duration::from_secs(30)).await;
        healthy.store(true, Ordering::SeqCst);
        for _ in 0..2 {
            assert_eq!(
                transport
                    .send(get(&server.url("/x")))
                    .await
                    .unwrap()
                    .status(),
                200
            );
        }
        assert_eq!(transport.circuit_state(&host), Some(CircuitState::Closed));
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_circuit_is_not_retried() {
        init_tracing();
        let (server, _) = switchable().await;
        let transport = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .build()
            .unwrap();
        // 3 attempts, then 2 more: the fifth failure opens the circuit mid-call.
        transport.send(get(&server.url("/x"))).await.unwrap();
        let err = transport.send(get(&server.url("/x"))).await.unwrap_err();
        assert!(is_circuit_open(&err));
        assert_eq!(server.requests(), 5);
        let start = Instant::now();
        let err = transport.send(get(&server.url("/x"))).await.unwrap_err();
        assert!(is_circuit_open(&err));
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "no backoff for a rejected call"
        );
        assert_eq!(server.requests(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn connection_failures_count_too() {
        init_tracing();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let transport = no_retry();
        for _ in 0..5 {
            let err = transport
                .send(get(&format!("http://{addr}/")))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionFailed);
        }
        let err = transport
            .send(get(&format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert!(is_circuit_open(&err), "{err}");
    }
}

mod auth {
    use std::sync::Arc;

    use gar_auth::{
        CachedTokenProvider, ServiceAccountCredentials, ServiceAccountKey, TokenProvider,
    };
    use gar_core::ErrorKind;
    use gar_transport::Transport;
    use gar_transport::retry::RetryConfig;

    use crate::support::*;

    fn stack(token_url: &str) -> (Transport, Arc<dyn TokenProvider>) {
        let base = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .build()
            .unwrap();
        let key = ServiceAccountKey::from_json(&sa_json(token_url)).unwrap();
        let provider: Arc<dyn TokenProvider> = Arc::new(CachedTokenProvider::new(
            ServiceAccountCredentials::new(key, base.token_http()),
        ));
        (base.with_credentials(provider.clone()), provider)
    }

    #[tokio::test(start_paused = true)]
    async fn a_401_refreshes_the_token_once_and_retries() {
        init_tracing();
        let tokens = token_server("tok-").await;
        let api = Server::start(|seen, _| async move {
            match seen.header("authorization") {
                Some("Bearer tok-1") => respond(200, "{\"ok\":1}"),
                _ => respond(401, r#"{"error":{"code":401,"status":"UNAUTHENTICATED"}}"#),
            }
        })
        .await;
        let (transport, _) = stack(&tokens.url("/token"));
        let response = transport.send(get(&api.url("/v1/x"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(tokens.requests(), 2);
        let seen: Vec<_> = api
            .seen()
            .iter()
            .map(|s| s.header("authorization").unwrap().to_owned())
            .collect();
        assert_eq!(seen, ["Bearer tok-0", "Bearer tok-1"]);
        // Later calls use the new token without asking again.
        transport.send(get(&api.url("/v1/y"))).await.unwrap();
        assert_eq!(tokens.requests(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_401_is_returned_after_exactly_one_refresh() {
        init_tracing();
        let tokens = token_server("tok-").await;
        let api = Server::start(|_, _| async { respond(401, "{}") }).await;
        let (transport, _) = stack(&tokens.url("/token"));
        let response = transport.send(get(&api.url("/v1/x"))).await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(api.requests(), 2);
        assert_eq!(tokens.requests(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn hundred_concurrent_calls_make_one_token_request() {
        init_tracing();
        let tokens = token_server("tok-").await;
        let api = Server::start(|_, _| async { respond(200, "{}") }).await;
        let (transport, _) = stack(&tokens.url("/token"));
        let mut calls = Vec::new();
        for i in 0..100 {
            let transport = transport.clone();
            let url = api.url(&format!("/v1/{i}"));
            calls.push(tokio::spawn(async move { transport.send(get(&url)).await }));
        }
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().status(), 200);
        }
        assert_eq!(tokens.requests(), 1);
        assert_eq!(api.requests(), 100);
        assert!(
            api.seen()
                .iter()
                .all(|s| s.header("authorization") == Some("Bearer tok-0"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_existing_authorization_header_is_kept() {
        init_tracing();
        let tokens = token_server("tok-").await;
        let api = Server::start(|_, _| async { respond(401, "{}") }).await;
        let (transport, _) = stack(&tokens.url("/token"));
        let mut request = get(&api.url("/v2/"));
        request
            .headers_mut()
            .insert("authorization", "Basic b2F1dGg6eA==".parse().unwrap());
        let response = transport.send(request).await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(tokens.requests(), 0);
        assert_eq!(api.requests(), 1);
        assert_eq!(
            api.seen()[0].header("authorization"),
            Some("Basic b2F1dGg6eA==")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_token_is_an_authentication_error() {
        init_tracing();
        let tokens = Server::start(|_, _| async {
            respond(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT"}"#,
            )
        })
        .await;
        let api = Server::start(|_, _| async { respond(200, "{}") }).await;
        let (transport, _) = stack(&tokens.url("/token"));
        let err = transport.send(get(&api.url("/v1/x"))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenRefreshFailed);
        assert!(err.to_string().contains("invalid_grant"), "{err}");
        assert_eq!(api.requests(), 0);
        assert_eq!(
            tokens.requests(),
            1,
            "a 400 from the token endpoint is not retried"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn token_requests_are_retried_by_the_stack() {
        init_tracing();
        let tokens = Server::start(|_, n| async move {
            if n == 0 {
                respond(503, "{}")
            } else {
                respond(200, r#"{"access_token":"late","expires_in":3600}"#)
            }
        })
        .await;
        let api = Server::start(|_, _| async { respond(200, "{}") }).await;
        let (transport, _) = stack(&tokens.url("/token"));
        assert_eq!(
            transport
                .send(get(&api.url("/v1/x")))
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(tokens.requests(), 2);
        assert_eq!(api.seen()[0].header("authorization"), Some("Bearer late"));
    }
}

mod tls {
    use gar_core::ErrorKind;
    use gar_transport::{TlsConfig, Transport, is_tls_failure};

    use crate::support::*;

    fn client(tls: TlsConfig) -> Transport {
        Transport::builder().tls(tls).build().unwrap()
    }

    #[tokio::test]
    async fn an_unknown_ca_is_refused_then_accepted_once_added() {
        init_tracing();
        let pki = pki();
        let config = server_tls(
            &pki,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
            false,
        );
        let server =
            Server::start_with(Mode::Tls(config), |_, _| async { respond(200, "{}") }).await;
        let err = client(TlsConfig::new())
            .send(get(&server.https_url("/v1/x")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TlsHandshakeFailed);
        assert!(is_tls_failure(&err), "{err}");
        assert!(err.to_string().contains("certificate"), "{err}");
        assert_eq!(
            server.connections(),
            1,
            "certificate errors are not retried"
        );
        assert_eq!(server.requests(), 0);

        let trusted = TlsConfig::new()
            .add_root_pem(pki.ca_pem.as_bytes())
            .unwrap();
        let response = client(trusted)
            .send(get(&server.https_url("/v1/x")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), http::Version::HTTP_2, "ALPN chose h2");
        assert_eq!(
            server.tls_sessions().last().unwrap().0,
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        // Trusting only our CA works too; a different CA does not.
        let only_ours = TlsConfig::new()
            .without_public_roots()
            .add_root_pem(pki.ca_pem.as_bytes())
            .unwrap();
        assert_eq!(
            client(only_ours)
                .send(get(&server.https_url("/")))
                .await
                .unwrap()
                .status(),
            200
        );
        let other = pki_other_ca();
        let err = client(TlsConfig::new().add_root_pem(other.as_bytes()).unwrap())
            .send(get(&server.https_url("/")))
            .await
            .unwrap_err();
        assert!(is_tls_failure(&err), "{err}");
    }

    fn pki_other_ca() -> String {
        pki().ca_pem
    }

    #[tokio::test]
    async fn tls_1_2_and_1_3_both_negotiate() {
        init_tracing();
        let pki = pki();
        let trusted = TlsConfig::new()
            .add_root_pem(pki.ca_pem.as_bytes())
            .unwrap();
        for (version, expected) in [
            (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
            (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
        ] {
            let config = server_tls(&pki, &[version], false);
            let server =
                Server::start_with(Mode::Tls(config), |_, _| async { respond(200, "{}") }).await;
            let response = client(trusted.clone())
                .send(get(&server.https_url("/")))
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(server.tls_sessions()[0].0, Some(expected));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_certificate_is_presented_when_configured() {
        init_tracing();
        let pki = pki();
        let config = server_tls(
            &pki,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
            true,
        );
        let server =
            Server::start_with(Mode::Tls(config), |_, _| async { respond(200, "{}") }).await;
        let trusted = TlsConfig::new()
            .add_root_pem(pki.ca_pem.as_bytes())
            .unwrap();
        let err = client(trusted.clone())
            .send(get(&server.https_url("/")))
            .await
            .unwrap_err();
        assert!(err.is_network(), "{err}");
        assert!(
            is_tls_failure(&err),
            "a refused handshake is not retried: {err}"
        );
        assert!(err.to_string().contains("CertificateRequired"), "{err}");
        assert_eq!(server.requests(), 0);
        let with_identity = trusted
            .with_client_identity_pem(
                pki.client_cert_pem.as_bytes(),
                pki.client_key_pem.as_bytes(),
            )
            .unwrap();
        let response = client(with_identity)
            .send(get(&server.https_url("/")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            server.tls_sessions().last().unwrap().1,
            1,
            "one client certificate shown"
        );
    }

    #[test]
    fn bad_pem_is_a_configuration_error() {
        init_tracing();
        let err = TlsConfig::new()
            .add_root_pem(b"not a certificate")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let err = TlsConfig::new()
            .with_client_identity_pem(b"", b"")
            .unwrap_err();
        assert!(err.is_configuration());
    }
}

mod observe {
    use gar_transport::observe::Operation;
    use gar_transport::retry::RetryConfig;
    use gar_transport::{Body, Transport};
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    use crate::support::*;

    /// The sum of every data point of the counter `name` whose attributes include `with`.
    fn counter(metrics: &[ResourceMetrics], name: &str, with: &[(&str, &str)]) -> u64 {
        let mut total = 0;
        for rm in metrics {
            for sm in rm.scope_metrics() {
                for m in sm.metrics().filter(|m| m.name() == name) {
                    if let AggregatedMetrics::U64(MetricData::Sum(sum)) = m.data() {
                        for dp in sum.data_points() {
                            let attrs: Vec<(String, String)> = dp
                                .attributes()
                                .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                                .collect();
                            if with
                                .iter()
                                .all(|(k, v)| attrs.iter().any(|(ak, av)| ak == k && av == v))
                            {
                                total += dp.value();
                            }
                        }
                    }
                }
            }
        }
        total
    }

    fn histogram_count(metrics: &[ResourceMetrics], name: &str, op: &str) -> u64 {
        let mut total = 0;
        for rm in metrics {
            for sm in rm.scope_metrics() {
                for m in sm.metrics().filter(|m| m.name() == name) {
                    assert_eq!(m.unit(), "s");
                    if let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() {
                        for dp in h.data_points() {
                            if dp.attributes().any(|kv| {
                                kv.key.as_str() == "gar.operation" && kv.value.to_string() == op
                            }) {
                                total += dp.count();
                            }
                        }
                    }
                }
            }
        }
        total
    }

    #[tokio::test(start_paused = true)]
    async fn metrics_and_spans_are_recorded() {
        init_tracing();
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let server = Server::start(|seen, n| async move {
            match seen.path_and_query.split('?').next().unwrap() {
                "/ok" => respond(200, "hello"),
                "/flaky" if seen.header("x-attempt-marker").is_none() && n == 3 => {
                    respond(503, "{}")
                }
                "/flaky" => respond(200, "{}"),
                _ => respond(
                    404,
                    r#"{"error":{"code":404,"status":"NOT_FOUND","message":"no"}}"#,
                ),
            }
        })
        .await;
        let transport = Transport::builder()
            .meter(provider.meter("gar"))
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .build()
            .unwrap();
        let op = |name: &'static str| {
            Operation::new(name)
                .with_attribute("gar.project", "proj")
                .with_attribute("gar.repository", "repo")
                .with_attribute("not.known", "ignored")
        };

        let mut request = get(&server.url("/ok?access_token=SPAN-SECRET&pageSize=2"));
        request.extensions_mut().insert(op("gar.test.metrics.get"));
        let response = transport.send(request).await.unwrap();
        assert_eq!(text(response).await, "hello");

        let mut request = http::Request::post(server.url("/missing"))
            .body(Body::from("12345678901"))
            .unwrap();
        request
            .extensions_mut()
            .insert(op("gar.test.metrics.create"));
        let response = transport.send(request).await.unwrap();
        assert_eq!(response.status(), 404);
        let body_len = text(response).await.len() as u64;

        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..3)
            .map(|_| Ok(bytes::Bytes::from_static(b"abcd")))
            .collect();
        let mut request = http::Request::put(server.url("/ok"))
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .unwrap();
        request
            .extensions_mut()
            .insert(op("gar.test.metrics.upload"));
        transport.send(request).await.unwrap();

        let mut request = get(&server.url("/flaky"));
        request
            .extensions_mut()
            .insert(op("gar.test.metrics.flaky"));
        assert_eq!(transport.send(request).await.unwrap().status(), 200);

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = listener.local_addr().unwrap();
        drop(listener);
        let mut request = get(&format!("http://{closed}/"));
        request.extensions_mut().insert(op("gar.test.metrics.down"));
        assert!(transport.send(request).await.is_err());

        provider.force_flush().unwrap();
        let metrics = exporter.get_finished_metrics().unwrap();
        let ops = "gar_operations_total";
        assert_eq!(
            counter(
                &metrics,
                ops,
                &[
                    ("gar.operation", "gar.test.metrics.get"),
                    ("outcome", "ok"),
                    ("http.request.method", "GET")
                ]
            ),
            1
        );
        assert_eq!(
            counter(
                &metrics,
                ops,
                &[
                    ("gar.operation", "gar.test.metrics.create"),
                    ("outcome", "error")
                ]
            ),
            1
        );
        assert_eq!(
            counter(
                &metrics,
                ops,
                &[
                    ("gar.operation", "gar.test.metrics.flaky"),
                    ("outcome", "ok")
                ]
            ),
            1,
            "one call, however many attempts"
        );
        assert_eq!(
            counter(
                &metrics,
                "gar_errors_total",
                &[
                    ("gar.operation", "gar.test.metrics.create"),
                    ("error.type", "NOT_FOUND")
                ]
            ),
            1
        );
        assert_eq!(
            counter(
                &metrics,
                "gar_errors_total",
                &[
                    ("gar.operation", "gar.test.metrics.down"),
                    ("error.type", "CONNECTION_FAILED")
                ]
            ),
            1
        );
        assert_eq!(
            counter(
                &metrics,
                "gar_errors_total",
                &[("gar.operation", "gar.test.metrics.get")]
            ),
            0
        );
        assert_eq!(
            counter(
                &metrics,
                "gar_bytes_downloaded_total",
                &[("gar.operation", "gar.test.metrics.get")]
            ),
            5
        );
        assert_eq!(
            counter(
                &metrics,
                "gar_bytes_downloaded_total",
                &[("gar.operation", "gar.test.metrics.create")]
            ),
            body_len
        );
        assert_eq!(
            counter(
                &metrics,
                "gar_bytes_uploaded_total",
                &[("gar.operation", "gar.test.metrics.create")]
            ),
            11
        );
        assert_eq!(
            counter(
                &metrics,
                "gar_bytes_uploaded_total",
                &[("gar.operation", "gar.test.metrics.upload")]
            ),
            12
        );
        assert_eq!(
            histogram_count(
                &metrics,
                "gar_operation_latency_seconds",
                "gar.test.metrics.get"
            ),
            1
        );
        assert_eq!(
            histogram_count(
                &metrics,
                "gar_operation_latency_seconds",
                "gar.test.metrics.down"
            ),
            1
        );

        let spans = spans_of("gar.test.metrics.get");
        assert_eq!(spans.len(), 1);
        let span = &spans[0];
        assert_eq!(span.name, "gar.call");
        assert_eq!(span.fields["otel.name"], "gar.test.metrics.get");
        assert_eq!(span.fields["http.request.method"], "GET");
        assert_eq!(span.fields["http.response.status_code"], "200");
        assert_eq!(span.fields["gar.project"], "proj");
        assert_eq!(span.fields["gar.repository"], "repo");
        assert_eq!(span.fields["gar.attempts"], "1");
        assert_eq!(span.fields["server.address"], server.addr.to_string());
        assert!(!span.fields.contains_key("not.known"));
        let url = &span.fields["url.full"];
        assert!(
            url.contains("access_token=[redacted]") && url.contains("pageSize=2"),
            "{url}"
        );
        assert!(!captured_logs().contains("SPAN-SECRET"));
        let flaky = &spans_of("gar.test.metrics.flaky")[0];
        assert_eq!(flaky.fields["gar.attempts"], "2");
        let create = &spans_of("gar.test.metrics.create")[0];
        assert_eq!(create.fields["error.type"], "NOT_FOUND");
        let down = &spans_of("gar.test.metrics.down")[0];
        assert_eq!(down.fields["error.type"], "CONNECTION_FAILED");
        // Without an operation, calls are `gar.http.request`.
        transport.send(get(&server.url("/ok"))).await.unwrap();
        assert!(!spans_of("gar.http.request").is_empty());
    }
}

mod record {
    use gar_transport::record::{Cassette, Recorder};
    use gar_transport::{Body, Transport, is_not_recorded};

    use crate::support::*;

    async fn api() -> Server {
        Server::start(|seen, n| async move {
            match (seen.method.as_str(), seen.path_and_query.as_str()) {
                ("GET", p) if p.starts_with("/v1/repos") => http::Response::builder()
                    .header("content-type", "application/json")
                    .header("x-request-number", n.to_string())
                    .header("set-cookie", "session=COOKIE-SECRET")
                    .body(Body::from(format!(r#"{{"repositories":[],"n":{n}}}"#)))
                    .unwrap(),
                ("POST", "/upload") => {
                    let mut answer = seen.body.to_vec();
                    answer.reverse();
                    http::Response::builder()
                        .status(201)
                        .header("content-type", "application/octet-stream")
                        .body(Body::from(answer))
                        .unwrap()
                }
                _ => respond(404, r#"{"error":{"code":404,"status":"NOT_FOUND"}}"#),
            }
        })
        .await
    }

    fn requests(base: &str) -> Vec<http::Request<Body>> {
        let binary: Vec<u8> = (0..=255u8).collect();
        vec![
            get(&format!("{base}/v1/repos?access_token=QUERY-SECRET")),
            get(&format!("{base}/v1/repos?access_token=QUERY-SECRET")),
            http::Request::post(format!("{base}/upload"))
                .header("content-type", "application/octet-stream")
                .header("authorization", "Bearer HEADER-SECRET")
                .body(Body::from(binary))
                .unwrap(),
            get(&format!("{base}/missing")),
        ]
    }

    async fn run(transport: &Transport, base: &str) -> Vec<(u16, Option<String>, Vec<u8>)> {
        let mut out = Vec::new();
        for request in requests(base) {
            let response = transport.send(request).await.unwrap();
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = response.into_body().collect_bytes(1 << 20).await.unwrap();
            out.push((status, content_type, body.to_vec()));
        }
        out
    }

    #[tokio::test]
    async fn record_then_replay_without_the_server() {
        init_tracing();
        let server = api().await;
        let base = format!("http://{}", server.addr);
        let recorder = Recorder::new();
        let live = Transport::builder()
            .record(recorder.clone())
            .build()
            .unwrap();
        let recorded = run(&live, &base).await;
        assert_eq!(recorded[0].0, 200);
        assert_ne!(
            recorded[0].2, recorded[1].2,
            "two different answers to one URL"
        );
        assert_eq!(recorded[2].0, 201);
        assert_eq!(recorded[3].0, 404);

        let dir = std::env::temp_dir().join(format!("gar-cassette-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cassette.json");
        recorder.save(&path).unwrap();
        let json = std::fs::read_to_string(&path).unwrap();
        for secret in ["QUERY-SECRET", "HEADER-SECRET", "COOKIE-SECRET"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert!(json.contains("\"base64\""), "binary bodies are base64");
        assert!(json.contains("\"authorization\": \"[redacted]\""), "{json}");

        // Stop the server: nothing listens there any more.
        let addr = server.addr;
        server.stop();
        tokio::task::yield_now().await;
        assert!(std::net::TcpStream::connect(addr).is_err());

        let cassette = Cassette::load(&path).unwrap();
        assert_eq!(cassette.interactions.len(), 4);
        let offline = Transport::builder()
            .replay(cassette.clone())
            .build()
            .unwrap();
        let replayed = run(&offline, &base).await;
        assert_eq!(replayed, recorded);

        // A request the cassette lacks names itself and the nearest recording.
        let err = offline
            .send(get(&format!("{base}/v1/repoz")))
            .await
            .unwrap_err();
        assert!(is_not_recorded(&err));
        let text = err.to_string();
        assert!(text.contains(&format!("GET {base}/v1/repoz")), "{text}");
        assert!(
            text.contains(&format!("nearest recorded request is GET {base}/v1/repos")),
            "{text}"
        );
        // A third identical request has no third answer.
        let err = offline
            .send(get(&format!("{base}/v1/repos?access_token=OTHER")))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("already used"), "{err}");
        // Replay is deterministic: a fresh replayer answers the same again.
        let again = Transport::builder().replay(cassette).build().unwrap();
        assert_eq!(run(&again, &base).await, recorded);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

mod redaction {
    use std::sync::Arc;

    use gar_auth::{
        CachedTokenProvider, SecretString, ServiceAccountCredentials, ServiceAccountKey,
    };
    use gar_transport::Transport;
    use gar_transport::record::Recorder;

    use crate::support::*;

    #[tokio::test]
    async fn a_full_auth_flow_leaves_no_secret_in_logs_spans_or_cassettes() {
        init_tracing();
        let tokens = token_server("ya29.TOKEN-SECRET-").await;
        let api = Server::start(|seen, _| async move {
            if seen.header("authorization") == Some("Bearer ya29.TOKEN-SECRET-1") {
                http::Response::builder()
                    .header("content-type", "application/json")
                    .header("set-cookie", "sid=COOKIE-SECRET")
                    .body(gar_transport::Body::from(r#"{"name":"projects/p"}"#))
                    .unwrap()
            } else {
                respond(401, "{}")
            }
        })
        .await;
        let recorder = Recorder::new();
        let base = Transport::builder()
            .record(recorder.clone())
            .build()
            .unwrap();
        let key = ServiceAccountKey::from_json(&sa_json(&tokens.url("/token"))).unwrap();
        let credentials = ServiceAccountCredentials::new(key.clone(), base.token_http());
        let provider = Arc::new(CachedTokenProvider::new(credentials.clone()));
        let transport = base.with_credentials(provider.clone());
        let response = transport
            .send(get(&api.url("/v1/projects/p")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(tokens.requests(), 2, "a 401 forced one refresh");
        let token = gar_auth::TokenProvider::token(provider.as_ref())
            .await
            .unwrap();
        recorder.scrub(&SecretString::new("never-seen"));
        tracing::trace!(
            ?token,
            ?provider,
            ?credentials,
            ?key,
            ?transport,
            "end of the flow"
        );

        let cassette = recorder.cassette().to_json();
        assert!(
            cassette.contains("/token") && cassette.contains("/v1/projects/p"),
            "{cassette}"
        );
        assert!(cassette.contains("assertion=[redacted]"), "{cassette}");
        assert!(
            cassette.contains(r#"\"access_token\":\"[redacted]\""#),
            "{cassette}"
        );
        let everything = format!("{}\n{cassette}", captured_logs());
        assert!(everything.contains("end of the flow"));
        assert!(
            everything.contains("gar.auth.token"),
            "token requests are traced too"
        );
        for secret in ["TOKEN-SECRET", "COOKIE-SECRET", "PRIVATE KEY", "eyJ"] {
            assert!(!everything.contains(secret), "{secret} leaked");
        }
        let key_line = KEY_PEM.lines().nth(5).unwrap();
        assert!(!everything.contains(key_line), "the private key leaked");
    }
}

mod grpc {
    use std::time::Duration;

    use bytes::{BufMut, Bytes, BytesMut};
    use gar_transport::grpc::BufferRequestLayer;
    use gar_transport::retry::{Idempotency, RetryConfig};
    use gar_transport::{Body, Transport};
    use http_body_util::BodyExt;
    use tokio::time::Instant;
    use tower::{Service, ServiceBuilder, ServiceExt};

    use crate::support::*;

    fn frame(message: &[u8]) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u8(0);
        out.put_u32(message.len() as u32);
        out.put_slice(message);
        out.freeze()
    }

    fn grpc_answer(message: &[u8], code: u32) -> http::Response<Body> {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", code.to_string().parse().unwrap());
        if code != 0 {
            trailers.insert("grpc-message", "try%20later".parse().unwrap());
        }
        http::Response::builder()
            .header("content-type", "application/grpc")
            .body(Body::full_with_trailers(frame(message), Some(trailers)))
            .unwrap()
    }

    fn trailers_only(code: u32) -> http::Response<Body> {
        http::Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", code.to_string())
            .body(Body::empty())
            .unwrap()
    }

    fn call(server: &Server, message: &'static [u8]) -> http::Request<Body> {
        let mut request = http::Request::post(server.url("/grafeas.v1.Grafeas/GetOccurrence"))
            .version(http::Version::HTTP_2)
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Body::from(frame(message)))
            .unwrap();
        request.extensions_mut().insert(Idempotency::Idempotent);
        request
    }

    #[tokio::test(start_paused = true)]
    async fn grpc_status_in_trailers_and_trailers_only_answers_drives_retries() {
        init_tracing();
        let server = Server::start(|seen, n| async move {
            assert_eq!(seen.version, http::Version::HTTP_2, "h2c prior knowledge");
            match n {
                0 => grpc_answer(b"", 14),
                1 => trailers_only(8),
                _ => grpc_answer(&seen.body[5..], 0),
            }
        })
        .await;
        let transport = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .build()
            .unwrap();
        let start = Instant::now();
        let response = transport.send(call(&server, b"echo me")).await.unwrap();
        // UNAVAILABLE waits 2 s; RESOURCE_EXHAUSTED (Quota, second backoff step) 60 s.
        assert_eq!(start.elapsed(), Duration::from_secs(2 + 60));
        assert_eq!(server.requests(), 3);
        let collected = response.into_body().collect().await.unwrap();
        assert_eq!(collected.trailers().unwrap()["grpc-status"], "0");
        assert_eq!(&collected.to_bytes()[5..], b"echo me");
    }

    #[tokio::test(start_paused = true)]
    async fn any_request_body_is_buffered_for_replay() {
        init_tracing();
        let server = Server::start(|seen, n| async move {
            if n == 0 {
                grpc_answer(b"", 13)
            } else {
                grpc_answer(&seen.body[5..], 0)
            }
        })
        .await;
        let transport = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .build()
            .unwrap();
        // A foreign body type (as tonic's is) goes through BufferRequestLayer.
        let mut channel = ServiceBuilder::new()
            .layer(BufferRequestLayer::new(1 << 20))
            .service(transport);
        let mut request = http::Request::post(server.url("/grafeas.v1.Grafeas/GetNote"))
            .version(http::Version::HTTP_2)
            .header("content-type", "application/grpc")
            .body(http_body_util::Full::new(frame(b"ping")))
            .unwrap();
        request.extensions_mut().insert(Idempotency::Idempotent);
        let response =
            ServiceExt::<http::Request<http_body_util::Full<Bytes>>>::ready(&mut channel)
                .await
                .unwrap()
                .call(request)
                .await
                .unwrap();
        let collected = response.into_body().collect().await.unwrap();
        assert_eq!(collected.trailers().unwrap()["grpc-status"], "0");
        assert_eq!(&collected.to_bytes()[5..], b"ping");
        assert_eq!(
            server.requests(),
            2,
            "INTERNAL was retried with the buffered body"
        );
    }
}

mod tonic_client {
    use bytes::{Buf, BufMut, Bytes};
    use gar_auth::{SecretString, StaticToken};
    use gar_transport::Transport;
    use gar_transport::grpc::BufferRequestLayer;
    use gar_transport::retry::{Idempotency, RetryConfig};
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
    use tower::ServiceBuilder;

    use crate::support::*;

    /// Messages as raw bytes: enough to drive tonic's client without generated code.
    #[derive(Debug, Clone, Default)]
    struct RawCodec;

    impl Codec for RawCodec {
        type Encode = Bytes;
        type Decode = Bytes;
        type Encoder = RawCodec;
        type Decoder = RawCodec;
        fn encoder(&mut self) -> RawCodec {
            RawCodec
        }
        fn decoder(&mut self) -> RawCodec {
            RawCodec
        }
    }

    impl Encoder for RawCodec {
        type Item = Bytes;
        type Error = tonic::Status;
        fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
            dst.put_slice(&item);
            Ok(())
        }
    }

    impl Decoder for RawCodec {
        type Item = Bytes;
        type Error = tonic::Status;
        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
            Ok(Some(src.copy_to_bytes(src.remaining())))
        }
    }

    fn answer(message: &[u8], code: u32, text: &str) -> http::Response<gar_transport::Body> {
        let mut framed = Vec::new();
        framed.push(0u8);
        framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
        framed.extend_from_slice(message);
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", code.to_string().parse().unwrap());
        if !text.is_empty() {
            trailers.insert("grpc-message", text.parse().unwrap());
        }
        http::Response::builder()
            .header("content-type", "application/grpc")
            .body(gar_transport::Body::full_with_trailers(
                framed,
                Some(trailers),
            ))
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn tonic_runs_over_the_stack_with_auth_and_retries() {
        init_tracing();
        let server = Server::start(|seen, n| async move {
            assert_eq!(seen.version, http::Version::HTTP_2);
            assert_eq!(seen.header("authorization"), Some("Bearer grpc-token"));
            match seen.path_and_query.as_str() {
                "/test.Echo/Say" if n == 0 => answer(b"", 14, "warming%20up"),
                "/test.Echo/Say" => answer(&seen.body[5..], 0, ""),
                _ => answer(b"", 5, "no%20such%20thing"),
            }
        })
        .await;
        let transport = Transport::builder()
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .build()
            .unwrap()
            .with_credentials(std::sync::Arc::new(StaticToken::new(SecretString::new(
                "grpc-token",
            ))));
        let channel = ServiceBuilder::new()
            .layer(BufferRequestLayer::new(1 << 20))
            .service(transport);
        let origin: http::Uri = server.url("").parse().unwrap();
        let mut grpc = tonic::client::Grpc::with_origin(channel, origin);

        grpc.ready().await.unwrap();
        let mut request = tonic::Request::new(Bytes::from_static(b"hello over gar"));
        request.extensions_mut().insert(Idempotency::Idempotent);
        let answer = grpc
            .unary(
                request,
                http::uri::PathAndQuery::from_static("/test.Echo/Say"),
                RawCodec,
            )
            .await
            .unwrap();
        assert_eq!(answer.into_inner(), Bytes::from_static(b"hello over gar"));
        assert_eq!(server.requests(), 2, "UNAVAILABLE was retried");

        grpc.ready().await.unwrap();
        let status = grpc
            .unary(
                tonic::Request::new(Bytes::from_static(b"?")),
                http::uri::PathAndQuery::from_static("/test.Echo/Missing"),
                RawCodec,
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert_eq!(status.message(), "no such thing");
        assert_eq!(server.requests(), 3, "NOT_FOUND is not retried");
    }
}

mod streaming {
    use std::time::Duration;

    use bytes::Bytes;
    use gar_transport::{Body, Transport};
    use http_body_util::BodyExt;
    use tokio::sync::{mpsc, oneshot};

    use crate::support::*;

    const CHUNK: usize = 1 << 20;

    /// The server sends one chunk, then waits for the client to say it arrived
    /// before sending the rest: a transport that buffered whole answers would
    /// never hand the first chunk over, and the test would time out.
    #[tokio::test]
    async fn downloads_flow_chunk_by_chunk() {
        init_tracing();
        let (ack_tx, ack_rx) = oneshot::channel::<()>();
        let ack_rx = std::sync::Arc::new(tokio::sync::Mutex::new(Some(ack_rx)));
        let server = Server::start(move |_, _| {
            let ack_rx = ack_rx.clone();
            async move {
                let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(1);
                tokio::spawn(async move {
                    tx.send(Ok(Bytes::from(vec![1u8; CHUNK]))).await.unwrap();
                    let ack = ack_rx.lock().await.take().unwrap();
                    ack.await.unwrap();
                    for _ in 0..63 {
                        tx.send(Ok(Bytes::from(vec![2u8; CHUNK]))).await.unwrap();
                    }
                });
                let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|item| (item, rx))
                });
                http::Response::builder()
                    .header("content-type", "application/octet-stream")
                    .body(Body::from_stream(stream))
                    .unwrap()
            }
        })
        .await;
        let transport = Transport::builder().build().unwrap();
        let run = async {
            let response = transport.send(get(&server.url("/blob"))).await.unwrap();
            let mut body = response.into_body();
            let mut total = 0usize;
            let mut largest = 0usize;
            let mut ack = Some(ack_tx);
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    total += data.len();
                    largest = largest.max(data.len());
                    if total >= CHUNK
                        && let Some(ack) = ack.take()
                    {
                        ack.send(()).unwrap();
                    }
                }
            }
            (total, largest)
        };
        let (total, largest) = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the first chunk arrived before the rest was sent");
        assert_eq!(total, 64 * CHUNK);
        assert!(largest <= CHUNK, "frames stay chunk-sized: {largest}");
    }

    /// The request body produces its second chunk only after the server has read
    /// the first: a transport that buffered request bodies would deadlock.
    #[tokio::test]
    async fn uploads_flow_chunk_by_chunk() {
        init_tracing();
        let (seen_tx, seen_rx) = mpsc::channel::<usize>(16);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let svc =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let seen_tx = seen_tx.clone();
                    async move {
                        let mut body = req.into_body();
                        let mut total = 0usize;
                        while let Some(frame) = body.frame().await {
                            if let Ok(data) = frame.unwrap().into_data() {
                                total += data.len();
                                let _ = seen_tx.send(total).await;
                            }
                        }
                        Ok::<_, std::convert::Infallible>(http::Response::new(
                            http_body_util::Full::new(Bytes::from(total.to_string())),
                        ))
                    }
                });
            hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await
                .unwrap();
        });
        let chunks = futures_util::stream::unfold((0usize, seen_rx), |(i, mut seen)| async move {
            if i == 32 {
                return None;
            }
            if i > 0 {
                // Wait until the server has the previous chunk.
                loop {
                    let total = seen.recv().await?;
                    if total >= i * CHUNK {
                        break;
                    }
                }
            }
            Some((
                Ok::<_, std::io::Error>(Bytes::from(vec![7u8; CHUNK])),
                (i + 1, seen),
            ))
        });
        let transport = Transport::builder().build().unwrap();
        let request = http::Request::put(format!("http://{addr}/upload"))
            .body(Body::from_stream(chunks))
            .unwrap();
        let response = tokio::time::timeout(Duration::from_secs(60), transport.send(request))
            .await
            .expect("the upload streamed")
            .unwrap();
        assert_eq!(text(response).await, (32 * CHUNK).to_string());
        server.abort();
    }
}

mod connect {
    use std::time::Duration;

    use gar_core::ErrorKind;
    use gar_transport::Transport;
    use gar_transport::retry::RetryConfig;
    use tokio::time::Instant;

    use crate::support::*;

    /// A listener whose accept queue is full drops further SYNs, so a connect
    /// to it hangs until the connect timeout fires.
    #[tokio::test(start_paused = true)]
    async fn the_connect_timeout_fires_and_is_retried_as_a_timeout() {
        init_tracing();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        for _ in 0..8 {
            let fill = tokio::net::TcpSocket::new_v4().unwrap();
            match tokio::time::timeout(Duration::from_millis(100), fill.connect(addr)).await {
                Ok(Ok(stream)) => held.push(stream),
                _ => break,
            }
        }
        let transport = Transport::builder()
            .connect_timeout(Duration::from_secs(3))
            .retry(Some(RetryConfig::new().with_jitter(0.0)))
            .breaker(None)
            .build()
            .unwrap();
        let start = Instant::now();
        let err = transport
            .send(get(&format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(3 + 1 + 3 + 1 + 3));
        drop((listener, held));
    }
}

/// gar-auth's providers against the emulator, a peer nobody wrote for these tests:
/// each obtains a token from the emulator's identity endpoints, and the emulator's
/// registry accepts it (and refuses the call without it).
mod emulator_identity {
    use std::sync::Arc;

    use gar_auth::{
        CachedTokenProvider, MetadataServer, SecretString, ServiceAccountCredentials,
        ServiceAccountKey, StaticToken, TokenProvider,
    };
    use gar_emulator::{Emulator, EmulatorHandle, Seed, seed};
    use gar_transport::{Body, Transport};

    async fn emulator() -> EmulatorHandle {
        Emulator::builder()
            .seed(Seed::demo())
            .start()
            .await
            .unwrap()
    }

    /// `GET /v2/` through `transport`: 200 when the emulator accepts the token.
    async fn ping(transport: &Transport, emu: &EmulatorHandle) -> u16 {
        let request = http::Request::get(format!("{}/v2/", emu.url()))
            .body(Body::empty())
            .unwrap();
        transport.send(request).await.unwrap().status().as_u16()
    }

    fn base() -> Transport {
        Transport::builder().build().unwrap()
    }

    #[tokio::test]
    async fn without_credentials_the_registry_refuses() {
        let emu = emulator().await;
        assert_eq!(ping(&base(), &emu).await, 401);
        emu.shutdown().await;
    }

    #[tokio::test]
    async fn service_account_key() {
        let emu = emulator().await;
        let transport = base();
        let key_json = seed::demo_service_account_key(&format!("{}/token", emu.url()));
        let key = ServiceAccountKey::from_json(&key_json).unwrap();
        let provider: Arc<dyn TokenProvider> = Arc::new(CachedTokenProvider::new(
            ServiceAccountCredentials::new(key, transport.token_http()),
        ));
        let token = provider.token().await.unwrap();
        assert!(!token.secret().expose_secret().is_empty());
        assert!(
            token.expires_at().is_some(),
            "the emulator states a lifetime"
        );
        assert_eq!(ping(&transport.with_credentials(provider), &emu).await, 200);
        emu.shutdown().await;
    }

    #[tokio::test]
    async fn metadata_server() {
        let emu = emulator().await;
        let transport = base();
        let host = emu.url().trim_start_matches("http://").to_owned();
        let metadata = MetadataServer::with_host(&host, transport.token_http());
        assert!(
            metadata
                .is_available(std::time::Duration::from_secs(2))
                .await
        );
        let provider: Arc<dyn TokenProvider> = Arc::new(CachedTokenProvider::new(metadata));
        assert_eq!(ping(&transport.with_credentials(provider), &emu).await, 200);
        emu.shutdown().await;
    }

    #[tokio::test]
    async fn static_token() {
        let emu = emulator().await;
        let good: Arc<dyn TokenProvider> = Arc::new(StaticToken::new(SecretString::new(
            seed::DEMO_TOKEN.to_owned(),
        )));
        assert_eq!(ping(&base().with_credentials(good), &emu).await, 200);
        let bad: Arc<dyn TokenProvider> = Arc::new(StaticToken::new(SecretString::new(
            "ya29.not-a-token".to_owned(),
        )));
        assert_eq!(ping(&base().with_credentials(bad), &emu).await, 401);
        emu.shutdown().await;
    }
}

mod user_agent {
    use std::sync::Arc;

    use gar_auth::{CachedTokenProvider, ServiceAccountCredentials, ServiceAccountKey};
    use gar_core::ErrorKind;
    use gar_transport::record::{Cassette, Recorder};
    use gar_transport::{Body, GAR_PRODUCT, Transport};

    use crate::support::*;

    async fn ok_server() -> Server {
        Server::start(|_, _| async move { respond(200, "{}") }).await
    }

    #[tokio::test]
    async fn every_request_carries_gar_and_the_product() {
        let server = ok_server().await;
        let plain = Transport::builder().build().unwrap();
        assert_eq!(plain.user_agent(), Some(GAR_PRODUCT));
        plain.send(get(&server.url("/a"))).await.unwrap();
        let tool = Transport::builder()
            .user_agent("my-tool/1.2")
            .build()
            .unwrap();
        tool.send(get(&server.url("/b"))).await.unwrap();
        // A request that names its own User-Agent keeps it.
        let own = http::Request::get(server.url("/c"))
            .header("user-agent", "curl/8")
            .body(Body::empty())
            .unwrap();
        tool.send(own).await.unwrap();
        // Through the tower Service impl too (what tonic uses).
        let mut service = tool.clone();
        tower::ServiceExt::oneshot(&mut service, get(&server.url("/d")))
            .await
            .unwrap();
        let seen = server.seen();
        assert!(GAR_PRODUCT.starts_with("gar/"), "{GAR_PRODUCT}");
        assert_eq!(seen[0].header("user-agent"), Some(GAR_PRODUCT));
        let expected = format!("my-tool/1.2 {GAR_PRODUCT}");
        assert_eq!(seen[1].header("user-agent"), Some(expected.as_str()));
        assert_eq!(seen[2].header("user-agent"), Some("curl/8"));
        assert_eq!(seen[3].header("user-agent"), Some(expected.as_str()));
        for s in &seen {
            assert_eq!(s.headers.get_all("user-agent").iter().count(), 1);
        }
    }

    #[tokio::test]
    async fn token_requests_carry_it_too() {
        let tokens = token_server("tok-").await;
        let api = ok_server().await;
        let base = Transport::builder().user_agent("robot/7").build().unwrap();
        let key = ServiceAccountKey::from_json(&sa_json(&tokens.url("/token"))).unwrap();
        let credentials = ServiceAccountCredentials::new(key, base.token_http());
        let transport = base.with_credentials(Arc::new(CachedTokenProvider::new(credentials)));
        transport.send(get(&api.url("/v1/x"))).await.unwrap();
        let expected = format!("robot/7 {GAR_PRODUCT}");
        assert_eq!(
            tokens.seen()[0].header("user-agent"),
            Some(expected.as_str())
        );
        assert_eq!(api.seen()[0].header("user-agent"), Some(expected.as_str()));
        assert_eq!(api.seen()[0].header("authorization"), Some("Bearer tok-0"));
    }

    #[tokio::test]
    async fn a_product_that_is_no_header_value_fails_the_build() {
        for bad in ["", "  ", "tool\r\nX-Evil: 1", "tool\u{7f}", "outil/été"] {
            let err = Transport::builder().user_agent(bad).build().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}: {err}");
        }
        let ok = Transport::builder()
            .user_agent(" spaced tool/1 (linux) ")
            .build()
            .unwrap();
        assert_eq!(
            ok.user_agent(),
            Some(format!("spaced tool/1 (linux) {GAR_PRODUCT}").as_str())
        );
    }

    #[tokio::test]
    async fn default_headers_are_added_unless_the_request_has_them() {
        let server = ok_server().await;
        let transport = Transport::builder().build().unwrap().with_default_header(
            http::HeaderName::from_static("x-forwarded-host"),
            http::HeaderValue::from_static("europe-west1-docker.pkg.dev"),
        );
        transport.send(get(&server.url("/a"))).await.unwrap();
        let own = http::Request::get(server.url("/b"))
            .header("x-forwarded-host", "mine")
            .body(Body::empty())
            .unwrap();
        transport.send(own).await.unwrap();
        let seen = server.seen();
        assert_eq!(
            seen[0].header("x-forwarded-host"),
            Some("europe-west1-docker.pkg.dev")
        );
        assert_eq!(seen[0].header("user-agent"), Some(GAR_PRODUCT));
        assert_eq!(seen[1].header("x-forwarded-host"), Some("mine"));
    }

    #[tokio::test]
    async fn a_cassette_recorded_with_another_user_agent_replays() {
        let server = ok_server().await;
        let recorder = Recorder::new();
        let live = Transport::builder()
            .user_agent("recorder/1")
            .record(recorder.clone())
            .build()
            .unwrap();
        live.send(get(&server.url("/v1/x?a=1"))).await.unwrap();
        let cassette: Cassette = recorder.cassette();
        // The User-Agent is not part of what a cassette keeps or matches on.
        assert!(!cassette.to_json().contains("recorder/1"));
        let offline = Transport::builder()
            .user_agent("replayer/2")
            .replay(cassette)
            .build()
            .unwrap();
        let response = offline.send(get(&server.url("/v1/x?a=1"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(server.requests(), 1, "the replay touched no network");
    }
}
