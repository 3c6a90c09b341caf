#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! gar-auth against token endpoints, metadata servers and STS servers started on
//! loopback inside the tests.

mod support {
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::future::Future;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use gar_auth::{HttpClient, HttpFuture};
    use gar_core::{Error, ErrorKind};
    use http_body_util::{BodyExt, Full};
    use hyper::service::service_fn;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    /// What a test server saw of one request.
    #[derive(Debug, Clone)]
    pub struct Seen {
        pub method: String,
        pub path_and_query: String,
        pub headers: http::HeaderMap,
        pub body: Bytes,
    }

    impl Seen {
        pub fn form(&self) -> HashMap<String, String> {
            String::from_utf8_lossy(&self.body)
                .split('&')
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((decode(k), decode(v)))
                })
                .collect()
        }

        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name).and_then(|v| v.to_str().ok())
        }
    }

    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    type Handler = Arc<
        dyn Fn(Seen, usize) -> Pin<Box<dyn Future<Output = http::Response<Bytes>> + Send>>
            + Send
            + Sync,
    >;

    /// A loopback HTTP/1.1 server answering with `handler(request, index)`.
    pub struct TestServer {
        pub addr: SocketAddr,
        pub count: Arc<AtomicUsize>,
        pub seen: Arc<Mutex<Vec<Seen>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl TestServer {
        pub async fn start<F, Fut>(handler: F) -> Self
        where
            F: Fn(Seen, usize) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = http::Response<Bytes>> + Send + 'static,
        {
            let handler: Handler = Arc::new(move |seen, n| Box::pin(handler(seen, n)));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let count = Arc::new(AtomicUsize::new(0));
            let seen = Arc::new(Mutex::new(Vec::new()));
            let (c, s) = (count.clone(), seen.clone());
            let task = tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let (handler, c, s) = (handler.clone(), c.clone(), s.clone());
                    tokio::spawn(async move {
                        let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                            let (handler, c, s) = (handler.clone(), c.clone(), s.clone());
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                let seen = Seen {
                                    method: parts.method.to_string(),
                                    path_and_query: parts
                                        .uri
                                        .path_and_query()
                                        .map(|p| p.to_string())
                                        .unwrap_or_default(),
                                    headers: parts.headers,
                                    body,
                                };
                                s.lock().unwrap().push(seen.clone());
                                let n = c.fetch_add(1, Ordering::SeqCst);
                                let response = handler(seen, n).await;
                                Ok::<_, Infallible>(response.map(Full::new))
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            });
            Self {
                addr,
                count,
                seen,
                task,
            }
        }

        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }

        pub fn count(&self) -> usize {
            self.count.load(Ordering::SeqCst)
        }

        pub fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    pub fn json(status: u16, body: &str) -> http::Response<Bytes> {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    /// A plain-HTTP client for the tests (transport provides the real one).
    #[derive(Debug, Clone)]
    pub struct PlainHttp(Client<HttpConnector, Full<Bytes>>);

    impl PlainHttp {
        pub fn shared() -> Arc<dyn HttpClient> {
            Arc::new(Self(Client::builder(TokioExecutor::new()).build_http()))
        }
    }

    impl HttpClient for PlainHttp {
        fn send(&self, request: http::Request<Bytes>) -> HttpFuture<'_> {
            let client = self.0.clone();
            Box::pin(async move {
                let response = client
                    .request(request.map(Full::new))
                    .await
                    .map_err(|e| Error::new(ErrorKind::ConnectionFailed, e.to_string()))?;
                let (parts, body) = response.into_parts();
                let body = body
                    .collect()
                    .await
                    .map_err(|e| Error::new(ErrorKind::ConnectionFailed, e.to_string()))?
                    .to_bytes();
                Ok(http::Response::from_parts(parts, body))
            })
        }
    }

    /// Everything logged, by every test of this binary, at TRACE.
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

    static LOGS: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();

    /// Installs one global TRACE subscriber for the whole binary. Every test calls
    /// it first, so no call site is ever registered without it.
    pub fn init_tracing() {
        LOGS.get_or_init(|| {
            let capture = Capture::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(capture.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            capture
        });
    }

    pub fn captured_logs() -> String {
        let capture = LOGS.get().expect("init_tracing ran");
        String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
    }

    pub const KEY_PEM: &str = include_str!("data/sa-key.pem");
    pub const KEY_PKCS1_PEM: &str = include_str!("data/sa-key-pkcs1.pem");

    pub fn sa_json(token_uri: &str, pem: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "proj",
            "private_key_id": "kid-1",
            "private_key": pem,
            "client_email": "robot@proj.iam.gserviceaccount.com",
            "client_id": "123",
            "token_uri": token_uri,
        })
        .to_string()
    }
}

mod sources {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use gar_auth::*;
    use gar_core::ErrorKind;
    use ring::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};

    use crate::support::*;

    fn public_key_der() -> Vec<u8> {
        let body: String = KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = STANDARD.decode(body).unwrap();
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        pair.public_key().as_ref().to_vec()
    }

    #[tokio::test]
    async fn service_account_signs_a_jwt_bearer_grant() {
        init_tracing();
        let server = TestServer::start(|seen, _| async move {
            assert_eq!(seen.method, "POST");
            assert_eq!(seen.path_and_query, "/token");
            assert_eq!(
                seen.header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            json(
                200,
                r#"{"access_token":"ya29.sa-token","expires_in":3599,"token_type":"Bearer"}"#,
            )
        })
        .await;
        let key = ServiceAccountKey::from_json(&sa_json(&server.url("/token"), KEY_PEM)).unwrap();
        assert_eq!(key.client_email(), "robot@proj.iam.gserviceaccount.com");
        assert_eq!(key.project_id(), Some("proj"));
        let creds = ServiceAccountCredentials::new(key, PlainHttp::shared());
        let token = creds.token().await.unwrap();
        assert_eq!(token.secret().expose_secret(), "ya29.sa-token");
        let left = token.remaining_at(std::time::Instant::now()).unwrap();
        assert!(left.as_secs() > 3500 && left.as_secs() <= 3599, "{left:?}");

        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        let form = seen[0].form();
        assert_eq!(
            form["grant_type"],
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        );
        let jwt = &form["assertion"];
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "kid-1");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "robot@proj.iam.gserviceaccount.com");
        assert_eq!(claims["aud"], server.url("/token"));
        assert_eq!(claims["scope"], CLOUD_PLATFORM_SCOPE);
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            3600
        );
        // The signature verifies with the key's public half.
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let public = public_key_der();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the JWT signature verifies");
    }

    #[tokio::test]
    async fn pkcs1_keys_and_custom_scopes_work() {
        init_tracing();
        let server = TestServer::start(|_, _| async {
            json(200, r#"{"access_token":"t","expires_in":60}"#)
        })
        .await;
        let key = ServiceAccountKey::from_json(&sa_json(&server.url("/t"), KEY_PKCS1_PEM)).unwrap();
        let creds = ServiceAccountCredentials::new(key, PlainHttp::shared())
            .with_scopes([CLOUD_PLATFORM_READ_ONLY_SCOPE]);
        creds.token().await.unwrap();
        let jwt = server.seen()[0].form()["assertion"].clone();
        let claims = jwt.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["scope"], CLOUD_PLATFORM_READ_ONLY_SCOPE);
    }

    #[tokio::test]
    async fn refused_grants_carry_the_server_answer() {
        init_tracing();
        let server = TestServer::start(|_, _| async {
            json(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            )
        })
        .await;
        let key = ServiceAccountKey::from_json(&sa_json(&server.url("/token"), KEY_PEM)).unwrap();
        let err = ServiceAccountCredentials::new(key, PlainHttp::shared())
            .token()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenRefreshFailed);
        assert_eq!(err.http_status(), Some(400));
        assert!(
            err.server_message()
                .is_some_and(|m| m.contains("invalid_grant")),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("invalid_grant"), "{text}");
        assert!(text.contains("Invalid JWT Signature."), "{text}");
        assert!(
            text.contains("robot@proj.iam.gserviceaccount.com"),
            "{text}"
        );
        // An answer without a token is refused too.
        let server =
            TestServer::start(|_, _| async { json(200, r#"{"token_type":"Bearer"}"#) }).await;
        let key = ServiceAccountKey::from_json(&sa_json(&server.url("/token"), KEY_PEM)).unwrap();
        let err = ServiceAccountCredentials::new(key, PlainHttp::shared())
            .token()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenRefreshFailed);
        assert!(err.to_string().contains("no access_token"), "{err}");
    }

    #[tokio::test]
    async fn unreachable_token_endpoint_is_a_refresh_failure() {
        init_tracing();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let key = ServiceAccountKey::from_json(&sa_json(&format!("http://{addr}/token"), KEY_PEM))
            .unwrap();
        let err = ServiceAccountCredentials::new(key, PlainHttp::shared())
            .token()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenRefreshFailed);
        assert!(err.to_string().contains("could not reach"), "{err}");
    }

    #[tokio::test]
    async fn authorized_user_uses_the_refresh_token_grant() {
        init_tracing();
        let server = TestServer::start(|seen, _| async move {
            let form = seen.form();
            assert_eq!(form["grant_type"], "refresh_token");
            assert_eq!(form["client_id"], "cid.apps.googleusercontent.com");
            assert_eq!(form["client_secret"], "csecret");
            assert_eq!(form["refresh_token"], "1//refresh");
            json(200, r#"{"access_token":"ya29.user","expires_in":"3599"}"#)
        })
        .await;
        let file = serde_json::json!({
            "type": "authorized_user",
            "client_id": "cid.apps.googleusercontent.com",
            "client_secret": "csecret",
            "refresh_token": "1//refresh",
            "token_uri": server.url("/oauth/token"),
            "quota_project_id": "billing",
        });
        let user = AuthorizedUser::from_json(&file.to_string(), PlainHttp::shared()).unwrap();
        assert_eq!(user.quota_project_id(), Some("billing"));
        let debug = format!("{user:?}");
        assert!(
            !debug.contains("csecret") && !debug.contains("1//refresh"),
            "{debug}"
        );
        let token = user.token().await.unwrap();
        assert_eq!(token.secret().expose_secret(), "ya29.user");
        assert_eq!(server.count(), 1);
        // A missing field is named.
        let err = AuthorizedUser::from_json(
            r#"{"type":"authorized_user","client_id":"x","client_secret":"y"}"#,
            PlainHttp::shared(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServiceAccountInvalid);
        assert!(err.to_string().contains("`refresh_token`"), "{err}");
    }

    #[tokio::test]
    async fn metadata_server_needs_the_flavor_header() {
        init_tracing();
        let server = TestServer::start(|seen, _| async move {
            if seen.header("metadata-flavor") != Some("Google") {
                return json(403, "missing Metadata-Flavor");
            }
            match seen.path_and_query.as_str() {
                "/computeMetadata/v1/" => http::Response::builder()
                    .header("metadata-flavor", "Google")
                    .body(bytes::Bytes::new())
                    .unwrap(),
                p if p
                    .starts_with("/computeMetadata/v1/instance/service-accounts/default/token") =>
                {
                    json(
                        200,
                        r#"{"access_token":"ya29.gce","expires_in":1800,"token_type":"Bearer"}"#,
                    )
                }
                _ => json(404, "no"),
            }
        })
        .await;
        let host = server.addr.to_string();
        let md = MetadataServer::with_host(&host, PlainHttp::shared());
        assert!(md.is_available(std::time::Duration::from_secs(1)).await);
        assert_eq!(
            md.token().await.unwrap().secret().expose_secret(),
            "ya29.gce"
        );
        let md = md.with_scopes(["https://www.googleapis.com/auth/a", "b"]);
        md.token().await.unwrap();
        let seen = server.seen();
        assert_eq!(
            seen.last().unwrap().path_and_query,
            "/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fa%2Cb"
        );
        assert!(
            seen.iter()
                .all(|s| s.header("metadata-flavor") == Some("Google"))
        );
    }

    #[tokio::test]
    async fn external_account_exchanges_a_file_token_and_impersonates() {
        init_tracing();
        let server = TestServer::start(|seen, _| async move {
            match seen.path_and_query.as_str() {
                "/sts" => {
                    let form = seen.form();
                    assert_eq!(
                        form["grant_type"],
                        "urn:ietf:params:oauth:grant-type:token-exchange"
                    );
                    assert_eq!(form["subject_token"], "oidc-subject");
                    assert_eq!(form["subject_token_type"], "urn:ietf:params:oauth:token-type:jwt");
                    assert_eq!(form["audience"], "//iam.googleapis.com/projects/1/pools/p/providers/x");
                    assert_eq!(form["scope"], CLOUD_PLATFORM_SCOPE);
                    json(200, r#"{"access_token":"federated","expires_in":3600,"issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#)
                }
                "/impersonate" => {
                    assert_eq!(seen.header("authorization"), Some("Bearer federated"));
                    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
                    assert_eq!(body["scope"][0], CLOUD_PLATFORM_SCOPE);
                    let expire = gar_core::protojson::Timestamp::now()
                        .checked_add(std::time::Duration::from_secs(1200))
                        .unwrap();
                    json(200, &format!(r#"{{"accessToken":"impersonated","expireTime":"{expire}"}}"#))
                }
                other => panic!("unexpected {other}"),
            }
        })
        .await;
        let dir = std::env::temp_dir().join(format!("gar-auth-ext-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let subject = dir.join("subject.json");
        std::fs::write(&subject, r#"{"id_token":"oidc-subject"}"#).unwrap();
        let file = serde_json::json!({
            "type": "external_account",
            "audience": "//iam.googleapis.com/projects/1/pools/p/providers/x",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": server.url("/sts"),
            "service_account_impersonation_url": server.url("/impersonate"),
            "credential_source": {"file": subject, "format": {"type": "json", "subject_token_field_name": "id_token"}},
        });
        let ext = ExternalAccount::from_json(&file.to_string(), PlainHttp::shared()).unwrap();
        let token = ext.token().await.unwrap();
        assert_eq!(token.secret().expose_secret(), "impersonated");
        let left = token
            .remaining_at(std::time::Instant::now())
            .unwrap()
            .as_secs();
        assert!((1100..=1200).contains(&left), "{left}");
        assert_eq!(server.count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn external_account_reads_a_url_subject_token() {
        init_tracing();
        let server = TestServer::start(|seen, _| async move {
            match seen.path_and_query.as_str() {
                "/subject" => {
                    assert_eq!(seen.header("x-identity"), Some("yes"));
                    json(200, "url-subject\n")
                }
                "/sts" => {
                    assert_eq!(seen.form()["subject_token"], "url-subject");
                    json(200, r#"{"access_token":"federated","expires_in":600}"#)
                }
                other => panic!("unexpected {other}"),
            }
        })
        .await;
        let file = serde_json::json!({
            "type": "external_account",
            "audience": "aud",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": server.url("/sts"),
            "credential_source": {"url": server.url("/subject"), "headers": {"x-identity": "yes"}},
        });
        let ext = ExternalAccount::from_json(&file.to_string(), PlainHttp::shared()).unwrap();
        assert_eq!(
            ext.token().await.unwrap().secret().expose_secret(),
            "federated"
        );
        // Unsupported sources are named.
        let err = ExternalAccount::from_json(
            r#"{"type":"external_account","audience":"a","subject_token_type":"t","token_url":"http://x/","credential_source":{"environment_id":"aws1"}}"#,
            PlainHttp::shared(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServiceAccountInvalid);
        assert!(err.to_string().contains("`credential_source`"), "{err}");
    }

    #[tokio::test]
    async fn impersonated_service_account_files_exchange_the_source_token() {
        init_tracing();
        let server = TestServer::start(|seen, _| async move {
            match seen.path_and_query.as_str() {
                "/token" => {
                    assert_eq!(seen.form()["grant_type"], "refresh_token");
                    json(200, r#"{"access_token":"user-token","expires_in":3600}"#)
                }
                "/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken" =>
                {
                    assert_eq!(seen.header("authorization"), Some("Bearer user-token"));
                    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
                    assert_eq!(body["scope"][0], CLOUD_PLATFORM_READ_ONLY_SCOPE);
                    json(
                        200,
                        r#"{"accessToken":"sa-token","expireTime":"2999-01-01T00:00:00Z"}"#,
                    )
                }
                other => panic!("unexpected {other}"),
            }
        })
        .await;
        let file = serde_json::json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": server.url("/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken"),
            "source_credentials": {
                "type": "authorized_user", "client_id": "c", "client_secret": "s",
                "refresh_token": "r", "token_uri": server.url("/token"),
            },
        });
        let creds = Credentials::from_json(
            &file.to_string(),
            &[CLOUD_PLATFORM_READ_ONLY_SCOPE.to_owned()],
            PlainHttp::shared(),
        )
        .unwrap();
        assert!(
            creds.origin().starts_with("impersonated_service_account"),
            "{}",
            creds.origin()
        );
        assert_eq!(
            creds.token().await.unwrap().secret().expose_secret(),
            "sa-token"
        );
        assert_eq!(server.count(), 2);
    }

    #[test]
    fn unknown_credential_types_are_named() {
        init_tracing();
        let err = Credentials::from_json(
            r#"{"type":"gdch_service_account"}"#,
            &[],
            PlainHttp::shared(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServiceAccountInvalid);
        assert!(err.to_string().contains("`type`"), "{err}");
        let err = Credentials::from_json(r#"{"client_email":"x"}"#, &[], PlainHttp::shared())
            .unwrap_err();
        assert!(err.to_string().contains("`type` is missing"), "{err}");
    }
}

mod adc {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::time::Duration;

    use gar_auth::*;
    use gar_core::ErrorKind;

    use crate::support::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("gar-adc-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn env(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        move |k| map.get(k).cloned()
    }

    async fn token_server(token: &'static str) -> TestServer {
        TestServer::start(move |seen, _| async move {
            if seen.path_and_query == "/computeMetadata/v1/" {
                return http::Response::builder()
                    .header("metadata-flavor", "Google")
                    .body(bytes::Bytes::new())
                    .unwrap();
            }
            json(
                200,
                &format!(r#"{{"access_token":"{token}","expires_in":3600}}"#),
            )
        })
        .await
    }

    fn closed_port() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    }

    #[tokio::test]
    async fn order_is_env_file_then_well_known_file_then_metadata() {
        init_tracing();
        let env_server = token_server("from-env").await;
        let gcloud_server = token_server("from-gcloud").await;
        let metadata = token_server("from-metadata").await;
        let dir = TempDir::new("order");
        let key_path = dir.0.join("key.json");
        std::fs::write(&key_path, sa_json(&env_server.url("/token"), KEY_PEM)).unwrap();
        let gcloud_dir = dir.0.join("gcloud");
        std::fs::create_dir_all(&gcloud_dir).unwrap();
        let user = serde_json::json!({
            "type": "authorized_user", "client_id": "c", "client_secret": "s",
            "refresh_token": "r", "token_uri": gcloud_server.url("/token"),
        });
        std::fs::write(
            gcloud_dir.join("application_default_credentials.json"),
            user.to_string(),
        )
        .unwrap();

        let all = [
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                key_path.display().to_string(),
            ),
            ("CLOUDSDK_CONFIG", gcloud_dir.display().to_string()),
            ("GCE_METADATA_HOST", metadata.addr.to_string()),
        ];
        let adc = ApplicationDefault::new(PlainHttp::shared()).with_env(env(&all));
        let creds = adc.find().await.unwrap();
        assert!(
            creds.origin().starts_with("service_account from"),
            "{}",
            creds.origin()
        );
        assert_eq!(creds.project_id(), Some("proj"));
        assert_eq!(
            creds.token().await.unwrap().secret().expose_secret(),
            "from-env"
        );

        let adc = ApplicationDefault::new(PlainHttp::shared()).with_env(env(&all[1..]));
        let creds = adc.find().await.unwrap();
        assert!(
            creds.origin().starts_with("authorized_user"),
            "{}",
            creds.origin()
        );
        assert_eq!(
            creds.token().await.unwrap().secret().expose_secret(),
            "from-gcloud"
        );

        // HOME is used when CLOUDSDK_CONFIG is not set.
        let home = dir.0.join("home");
        let home_gcloud = home.join(".config").join("gcloud");
        std::fs::create_dir_all(&home_gcloud).unwrap();
        std::fs::copy(
            gcloud_dir.join("application_default_credentials.json"),
            home_gcloud.join("application_default_credentials.json"),
        )
        .unwrap();
        let adc = ApplicationDefault::new(PlainHttp::shared())
            .with_env(env(&[("HOME", home.display().to_string())]));
        assert_eq!(
            adc.well_known_file().unwrap(),
            home_gcloud.join("application_default_credentials.json")
        );
        assert!(
            adc.find()
                .await
                .unwrap()
                .origin()
                .starts_with("authorized_user")
        );

        let adc = ApplicationDefault::new(PlainHttp::shared()).with_env(env(&all[2..]));
        let creds = adc.find().await.unwrap();
        assert!(
            creds.origin().contains("metadata server"),
            "{}",
            creds.origin()
        );
        assert_eq!(
            creds.token().await.unwrap().secret().expose_secret(),
            "from-metadata"
        );
    }

    #[tokio::test]
    async fn nothing_found_lists_every_place_searched() {
        init_tracing();
        let dir = TempDir::new("none");
        let port = closed_port();
        let adc = ApplicationDefault::new(PlainHttp::shared())
            .with_env(env(&[
                ("CLOUDSDK_CONFIG", dir.0.display().to_string()),
                ("GCE_METADATA_HOST", port.clone()),
            ]))
            .with_metadata_wait(Duration::from_secs(2));
        let err = adc.find().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CredentialsNotFound);
        let text = err.to_string();
        assert!(
            text.contains("GOOGLE_APPLICATION_CREDENTIALS (not set)"),
            "{text}"
        );
        assert!(
            text.contains(
                &dir.0
                    .join("application_default_credentials.json")
                    .display()
                    .to_string()
            ),
            "{text}"
        );
        assert!(
            text.contains(&format!("metadata server at http://{port}")),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_bad_file_is_reported_not_skipped() {
        init_tracing();
        let dir = TempDir::new("bad");
        let path = dir.0.join("key.json");
        std::fs::write(&path, r#"{"type":"service_account","client_email":"x@y"}"#).unwrap();
        let adc = ApplicationDefault::new(PlainHttp::shared()).with_env(env(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            path.display().to_string(),
        )]));
        let err = adc.find().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServiceAccountInvalid);
        assert!(
            err.to_string().contains("`private_key` is missing"),
            "{err}"
        );
        let missing = dir.0.join("missing.json");
        let adc = ApplicationDefault::new(PlainHttp::shared()).with_env(env(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            missing.display().to_string(),
        )]));
        let err = adc.find().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CredentialsNotFound);
        assert!(err.to_string().contains("missing.json"), "{err}");
    }
}

mod cache {
    use std::time::Duration;

    use gar_auth::*;
    use gar_core::ErrorKind;
    use tokio::time::Instant;

    use crate::support::*;

    fn sa(server: &TestServer) -> ServiceAccountCredentials {
        let key = ServiceAccountKey::from_json(&sa_json(&server.url("/token"), KEY_PEM)).unwrap();
        ServiceAccountCredentials::new(key, PlainHttp::shared())
    }

    #[tokio::test(start_paused = true)]
    async fn hundred_concurrent_callers_cause_one_token_request() {
        init_tracing();
        let server = TestServer::start(|_, n| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            json(
                200,
                &format!(r#"{{"access_token":"tok-{n}","expires_in":3600}}"#),
            )
        })
        .await;
        let cache = CachedTokenProvider::new(sa(&server));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let cache = cache.clone();
            tasks.push(tokio::spawn(async move { cache.token().await }));
        }
        for task in tasks {
            let token = task.await.unwrap().unwrap();
            assert_eq!(token.secret().expose_secret(), "tok-0");
        }
        assert_eq!(server.count(), 1);
        // And later callers are served from the cache.
        cache.token().await.unwrap();
        assert_eq!(server.count(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_failure() {
        init_tracing();
        let server = TestServer::start(|_, _| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            json(401, r#"{"error":"invalid_client"}"#)
        })
        .await;
        let cache = CachedTokenProvider::new(sa(&server));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let cache = cache.clone();
            tasks.push(tokio::spawn(async move { cache.token().await }));
        }
        for task in tasks {
            let err = task.await.unwrap().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TokenRefreshFailed);
            assert!(err.to_string().contains("invalid_client"), "{err}");
        }
        assert_eq!(server.count(), 1);
        // A later caller tries again.
        assert!(cache.token().await.is_err());
        assert_eq!(server.count(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_in_the_background_at_80_percent_of_the_lifetime() {
        init_tracing();
        let server = TestServer::start(|_, n| async move {
            if n > 0 {
                // The refresh is slow: a caller waiting for it would notice.
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            json(
                200,
                &format!(r#"{{"access_token":"tok-{n}","expires_in":100}}"#),
            )
        })
        .await;
        let cache = CachedTokenProvider::new(sa(&server));
        let start = Instant::now();
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "tok-0"
        );
        assert_eq!(server.count(), 1);

        tokio::time::sleep_until(start + Duration::from_secs(79)).await;
        assert_eq!(server.count(), 1, "no refresh before 80 %");

        tokio::time::sleep_until(start + Duration::from_secs(81)).await;
        assert_eq!(server.count(), 2, "the background refresh started at 80 %");
        // While it runs, callers get the current token without waiting.
        let before = Instant::now();
        let token = cache.token().await.unwrap();
        assert_eq!(Instant::now(), before, "the caller did not wait");
        assert_eq!(token.secret().expose_secret(), "tok-0");

        tokio::time::sleep_until(start + Duration::from_secs(87)).await;
        let before = Instant::now();
        let token = cache.token().await.unwrap();
        assert_eq!(Instant::now(), before);
        assert_eq!(token.secret().expose_secret(), "tok-1");
        assert_eq!(server.count(), 2);
        // The next refresh is scheduled from the new token's lifetime: 80 s after
        // it arrived at 85 s.
        tokio::time::sleep_until(start + Duration::from_secs(164)).await;
        assert_eq!(server.count(), 2);
        tokio::time::sleep_until(start + Duration::from_secs(166)).await;
        assert_eq!(server.count(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_background_refresh_keeps_the_token_and_tries_again() {
        init_tracing();
        let server = TestServer::start(|_, n| async move {
            if n == 1 {
                json(503, r#"{"error":"backend_error"}"#)
            } else {
                json(
                    200,
                    &format!(r#"{{"access_token":"tok-{n}","expires_in":100}}"#),
                )
            }
        })
        .await;
        let cache = CachedTokenProvider::new(sa(&server));
        let start = Instant::now();
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "tok-0"
        );
        // At 80 s the refresh fails; the old token (20 s left) is still handed out.
        tokio::time::sleep_until(start + Duration::from_secs(81)).await;
        assert_eq!(server.count(), 2);
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "tok-0"
        );
        // The next try comes after half the remaining lifetime (10 s).
        tokio::time::sleep_until(start + Duration::from_secs(89)).await;
        assert_eq!(server.count(), 2);
        tokio::time::sleep_until(start + Duration::from_secs(91)).await;
        assert_eq!(server.count(), 3);
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "tok-2"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expired_tokens_are_not_handed_out() {
        init_tracing();
        let server = TestServer::start(|_, n| async move {
            json(
                200,
                &format!(r#"{{"access_token":"tok-{n}","expires_in":30}}"#),
            )
        })
        .await;
        // A fraction of 0.95 puts the refresh inside the 10 s margin: without a
        // working background refresh the cache must still refuse stale tokens.
        let cache = CachedTokenProvider::with_refresh_fraction(sa(&server), 0.95);
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "tok-0"
        );
        let stale = cache.cached().unwrap();
        cache.invalidate(&stale);
        assert!(cache.cached().is_none());
        assert_eq!(
            cache.token().await.unwrap().secret().expose_secret(),
            "tok-1"
        );
        tokio::time::sleep(Duration::from_secs(21)).await;
        assert!(cache.cached().is_none(), "9 s left is inside the margin");
        let t = cache.token().await.unwrap();
        assert_ne!(t.secret().expose_secret(), "tok-1");
    }

    #[tokio::test(start_paused = true)]
    async fn invalidation_only_drops_the_rejected_token() {
        init_tracing();
        let server = TestServer::start(|_, n| async move {
            json(
                200,
                &format!(r#"{{"access_token":"tok-{n}","expires_in":3600}}"#),
            )
        })
        .await;
        let cache = CachedTokenProvider::new(sa(&server));
        let first = cache.token().await.unwrap();
        cache.invalidate(&first);
        let second = cache.token().await.unwrap();
        assert_eq!(second.secret().expose_secret(), "tok-1");
        // A late 401 for the old token does not throw away the new one.
        cache.invalidate(&first);
        assert_eq!(cache.token().await.unwrap(), second);
        assert_eq!(server.count(), 2);
        let debug = format!("{cache:?}");
        assert!(!debug.contains("tok-1"), "{debug}");
    }
}

mod redaction {
    use gar_auth::*;

    use crate::support::*;

    #[tokio::test]
    async fn trace_logs_and_debug_output_hold_no_secret() {
        init_tracing();
        let server = TestServer::start(|_, _| async {
            json(
                200,
                r#"{"access_token":"ya29.SECRET-ACCESS","expires_in":3600}"#,
            )
        })
        .await;
        let key = ServiceAccountKey::from_json(&sa_json(&server.url("/token"), KEY_PEM)).unwrap();
        let creds = ServiceAccountCredentials::new(key, PlainHttp::shared());
        let cache = CachedTokenProvider::new(creds.clone());
        let token = cache.token().await.unwrap();
        tracing::info!(?token, ?creds, ?cache, "after the redaction flow");
        // Everything every test of this binary logged so far, at TRACE, plus the
        // Debug output of every value that holds a secret.
        let mut everything = captured_logs();
        everything.push_str(&format!("{token:?} {creds:?} {cache:?} {:?}", creds.key()));
        assert!(
            everything.contains("requesting a service-account token"),
            "{everything}"
        );
        assert!(everything.contains("after the redaction flow"));
        assert!(!everything.contains("SECRET-ACCESS"), "{everything}");
        let key_body = KEY_PEM.lines().nth(3).unwrap();
        assert!(!everything.contains(key_body), "{everything}");
        assert!(!everything.contains("PRIVATE KEY"), "{everything}");
        assert!(!everything.contains("assertion"), "{everything}");
    }
}
