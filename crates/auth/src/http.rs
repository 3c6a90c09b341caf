//! The HTTP seam credential sources talk through.
//!
//! gar-auth builds no HTTP client of its own: the transport crate hands one in
//! (with its TLS settings, timeouts and retries), and tests hand in anything that
//! answers requests.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use gar_core::{Error, ErrorKind};

/// The future an [`HttpClient`] returns.
pub type HttpFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send + 'a>>;

/// Sends one small, fully buffered HTTP request (a token request) and returns the
/// buffered answer, whatever its status. Network failures are errors of the
/// Network kinds.
pub trait HttpClient: Send + Sync + fmt::Debug {
    /// Sends `request`.
    fn send(&self, request: http::Request<Bytes>) -> HttpFuture<'_>;
}

impl<T: HttpClient + ?Sized> HttpClient for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> HttpFuture<'_> {
        (**self).send(request)
    }
}

/// Percent-encodes `value` for `application/x-www-form-urlencoded` and queries.
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A form body from `pairs`.
pub(crate) fn form_body(pairs: &[(&str, &str)]) -> Bytes {
    let joined = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Bytes::from(joined)
}

/// A `POST` of a form body to `url`.
pub(crate) fn post_form(url: &str, pairs: &[(&str, &str)]) -> Result<http::Request<Bytes>, Error> {
    http::Request::post(url)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(form_body(pairs))
        .map_err(|e| bad_url(url, e))
}

/// The error for a token URL that is not a valid URI.
pub(crate) fn bad_url(url: &str, e: http::Error) -> Error {
    Error::new(
        ErrorKind::ServiceAccountInvalid,
        format!("the token URL {url:?} is not a valid URL"),
    )
    .with_source(e)
}

/// Longest part of a server's answer quoted in an error.
const ANSWER_LIMIT: usize = 500;

/// The server's answer, as quoted in a `TokenRefreshFailed` error.
pub(crate) fn quote_answer(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    match trimmed.char_indices().nth(ANSWER_LIMIT) {
        None => trimmed.to_owned(),
        Some((at, _)) => format!("{}…", trimmed.get(..at).unwrap_or_default()),
    }
}

/// Sends `request` and returns the body of a 2xx answer; any other status is a
/// `TokenRefreshFailed` error quoting the server. `what` names the exchange.
pub(crate) async fn exchange(
    http: &dyn HttpClient,
    request: http::Request<Bytes>,
    what: &str,
) -> Result<Bytes, Error> {
    let url = request.uri().clone();
    let response = http.send(request).await.map_err(|e| {
        Error::new(
            ErrorKind::TokenRefreshFailed,
            format!("{what}: could not reach {}: {e}", without_query(&url)),
        )
        .with_source(e)
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response.into_body());
    }
    let answer = quote_answer(response.body());
    Err(Error::new(
        ErrorKind::TokenRefreshFailed,
        format!(
            "{what}: {} answered {}: {answer}",
            without_query(&url),
            status.as_u16(),
        ),
    )
    .with_http_status(status.as_u16())
    .with_server_message(answer))
}

/// `uri` without its query (which may carry secrets).
pub(crate) fn without_query(uri: &http::Uri) -> String {
    let mut out = String::new();
    if let Some(scheme) = uri.scheme_str() {
        out.push_str(scheme);
        out.push_str("://");
    }
    if let Some(authority) = uri.authority() {
        out.push_str(authority.as_str());
    }
    out.push_str(uri.path());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            form_body(&[("grant_type", "x:y"), ("k", "v")]),
            Bytes::from("grant_type=x%3Ay&k=v")
        );
    }

    #[test]
    fn answers_are_quoted_and_cut() {
        assert_eq!(quote_answer(b"  {\"error\":\"x\"}\n"), "{\"error\":\"x\"}");
        let long = "a".repeat(600);
        assert_eq!(quote_answer(long.as_bytes()).chars().count(), 501);
        let uri: http::Uri = "http://h:1/p?access_token=s".parse().unwrap();
        assert_eq!(without_query(&uri), "http://h:1/p");
    }
}
