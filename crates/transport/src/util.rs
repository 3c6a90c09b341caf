//! Small helpers the layers share.

use gar_core::Error;
use http::{Request, Response};
use tower_service::Service;

use crate::Body;

/// Waits until `service` is ready, then calls it.
pub(crate) async fn call<S>(
    service: &mut S,
    request: Request<Body>,
) -> Result<Response<Body>, Error>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Error>,
{
    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

/// A copy of `request` if its body can be replayed.
pub(crate) fn try_clone_request(request: &Request<Body>) -> Option<Request<Body>> {
    let body = request.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

/// `host[:port]` of the request's URI (`""` when it has none).
pub(crate) fn authority(request: &Request<Body>) -> String {
    request
        .uri()
        .authority()
        .map_or_else(String::new, |a| a.to_string())
}

/// Whether the message is gRPC (`content-type: application/grpc...`).
pub(crate) fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// The gRPC status in `headers` (a trailers-only answer, or trailers): code and message.
pub(crate) fn grpc_status(headers: &http::HeaderMap) -> Option<(i32, String)> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let message = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .unwrap_or_default();
    Some((code, message))
}

/// Decodes `%XX` escapes (as `grpc-message` uses them).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Defines `ResponseFuture`, the boxed response future of a layer's service.
macro_rules! response_future {
    ($service:literal) => {
        use std::future::Future as _StdFuture;
        use std::pin::Pin as _Pin;
        use std::task::{Context as _Context, Poll as _Poll};

        #[doc = concat!("The response future of [`", $service, "`](super::", $service, ").")]
        pub struct ResponseFuture {
            inner: _Pin<
                Box<
                    dyn _StdFuture<Output = Result<http::Response<crate::Body>, gar_core::Error>>
                        + Send,
                >,
            >,
        }

        impl ResponseFuture {
            #[allow(dead_code)]
            pub(crate) fn new(
                f: impl _StdFuture<Output = Result<http::Response<crate::Body>, gar_core::Error>>
                + Send
                + 'static,
            ) -> Self {
                Self { inner: Box::pin(f) }
            }
        }

        impl std::fmt::Debug for ResponseFuture {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!($service, "::ResponseFuture"))
            }
        }

        impl _StdFuture for ResponseFuture {
            type Output = Result<http::Response<crate::Body>, gar_core::Error>;

            fn poll(mut self: _Pin<&mut Self>, cx: &mut _Context<'_>) -> _Poll<Self::Output> {
                self.inner.as_mut().poll(cx)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_headers() {
        let mut h = http::HeaderMap::new();
        assert!(grpc_status(&h).is_none());
        h.insert("grpc-status", "14".parse().unwrap());
        h.insert("grpc-message", "try%20again%".parse().unwrap());
        assert_eq!(grpc_status(&h), Some((14, "try again%".to_owned())));
        h.insert("content-type", "application/grpc+proto".parse().unwrap());
        assert!(is_grpc(&h));
    }

    #[test]
    fn cloning_needs_a_full_body() {
        let mut req = Request::post("http://h/x").body(Body::from("abc")).unwrap();
        req.extensions_mut().insert(7u8);
        let copy = try_clone_request(&req).unwrap();
        assert_eq!(copy.method(), "POST");
        assert_eq!(copy.extensions().get::<u8>(), Some(&7));
        assert_eq!(copy.body().as_bytes(), Some(&b"abc"[..]));
        assert_eq!(authority(&req), "h");
        let streaming = Request::new(Body::from_stream(futures_util::stream::empty::<
            Result<bytes::Bytes, std::io::Error>,
        >()));
        assert!(try_clone_request(&streaming).is_none());
    }
}
