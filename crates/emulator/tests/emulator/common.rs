//! Test helpers: a plain hyper client, digests, JWT signing, image pushes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use gar_emulator::{Emulator, EmulatorHandle, Seed};
use http::{HeaderMap, Method, Request};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type ReqBody = UnsyncBoxBody<Bytes, BoxError>;

pub const SA_PRIVATE: &str = include_str!("../fixtures/test-sa-private-key.pem");
pub const OTHER_PRIVATE: &str = include_str!("../fixtures/test-other-private-key.pem");
pub const DEMO_TOKEN: &str = gar_emulator::seed::DEMO_TOKEN;
pub const VIEWER_TOKEN: &str = "ya29.demo-viewer-token";
pub const SA: &str = gar_emulator::seed::DEMO_SERVICE_ACCOUNT;
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A response read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first OCI error code of the body.
    pub fn oci_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

pub fn full(b: impl Into<Bytes>) -> ReqBody {
    Full::new(b.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A plain HTTP/1.1 client (or h2c with prior knowledge).
#[derive(Clone)]
pub struct Client {
    inner: HyperClient<HttpConnector, ReqBody>,
    pub base: String,
    pub auth: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            inner: HyperClient::builder(TokioExecutor::new()).build_http(),
            base: base.to_owned(),
            auth: None,
        }
    }

    pub fn h2(base: &str) -> Self {
        Self {
            inner: HyperClient::builder(TokioExecutor::new())
                .http2_only(true)
                .build_http(),
            base: base.to_owned(),
            auth: None,
        }
    }

    pub fn bearer(mut self, token: &str) -> Self {
        self.auth = Some(format!("Bearer {token}"));
        self
    }

    pub fn basic(mut self, user: &str, pass: &str) -> Self {
        self.auth = Some(format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{pass}"))
        ));
        self
    }

    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: ReqBody,
    ) -> Result<http::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut b = Request::builder().method(method).uri(url);
        if let Some(a) = &self.auth {
            b = b.header("authorization", a);
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.inner.request(b.body(body).unwrap()).await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: ReqBody,
    ) -> Resp {
        let r = self.send_raw(method, path, headers, body).await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, &[], full(Bytes::new())).await
    }

    pub async fn head(&self, path: &str) -> Resp {
        self.send(Method::HEAD, path, &[], full(Bytes::new())).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, &[], full(Bytes::new()))
            .await
    }

    pub async fn post_json(&self, path: &str, v: &Value) -> Resp {
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            full(serde_json::to_vec(v).unwrap()),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, form: &str) -> Resp {
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            full(form.to_owned()),
        )
        .await
    }

    /// Monolithic upload: POST then PUT with the content.
    pub async fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let r = self
            .send(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/"),
                &[],
                full(Bytes::new()),
            )
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
        let loc = r.header("location").unwrap().to_owned();
        let sep = if loc.contains('?') { '&' } else { '?' };
        let r = self
            .send(
                Method::PUT,
                &format!("{loc}{sep}digest={digest}"),
                &[("content-type", "application/octet-stream")],
                full(data.to_vec()),
            )
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
        digest
    }

    /// Pushes config + layers + an OCI manifest under `reference`; returns the manifest and its digest.
    pub async fn push_image(
        &self,
        repo: &str,
        reference: &str,
        layers: &[&[u8]],
    ) -> (Vec<u8>, String) {
        let config = br#"{"architecture":"amd64","os":"linux"}"#;
        let config_digest = self.push_blob(repo, config).await;
        let mut descs = Vec::new();
        for l in layers {
            let d = self.push_blob(repo, l).await;
            descs.push(json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": l.len()}));
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": descs,
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let r = self
            .put_manifest(repo, reference, OCI_MANIFEST, &bytes)
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let digest = sha256(&bytes);
        assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
        (bytes, digest)
    }

    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Resp {
        self.send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("content-type", media_type)],
            full(bytes.to_vec()),
        )
        .await
    }
}

pub fn sha256(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn pem_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    STANDARD.decode(b64).unwrap()
}

/// Signs an RS256 JWT with a PKCS#8 PEM key.
pub fn sign_jwt(private_pem: &str, header: &Value, claims: &Value) -> String {
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&pem_der(private_pem)).unwrap();
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// A service-account key file of the demo account.
pub fn key_file(token_uri: &str) -> Value {
    serde_json::from_str(&gar_emulator::seed::demo_service_account_key(token_uri)).unwrap()
}

pub async fn demo() -> EmulatorHandle {
    Emulator::builder()
        .seed(Seed::demo())
        .start()
        .await
        .unwrap()
}

/// Percent-encodes a query value.
pub fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
