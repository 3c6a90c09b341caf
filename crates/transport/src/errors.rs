//! Turning failures below HTTP (connect, TLS, reset, timeout) into gar errors, and
//! the markers the layers use to recognise each other's errors.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use gar_core::{Error, ErrorKind};

/// The source of an error the circuit breaker returned without calling the server.
#[derive(Debug)]
pub(crate) struct CircuitOpen {
    pub(crate) host: String,
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the circuit breaker for {} is open", self.host)
    }
}

impl StdError for CircuitOpen {}

/// The source of an error for a TLS handshake that failed (bad certificate,
/// no common protocol version): retrying cannot help.
#[derive(Debug)]
pub(crate) struct TlsFailure {
    pub(crate) detail: String,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLS handshake failed: {}", self.detail)
    }
}

impl StdError for TlsFailure {}

/// The source of an error a replaying transport returned for a request its
/// cassette lacks.
#[derive(Debug)]
pub(crate) struct NotRecorded;

impl fmt::Display for NotRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request is not in the cassette")
    }
}

impl StdError for NotRecorded {}

/// Whether `err` (or its source) is a `T`.
pub(crate) fn has_source<T: StdError + 'static>(err: &Error) -> bool {
    StdError::source(err).is_some_and(|s| s.is::<T>())
}

/// Whether `err` is the circuit breaker refusing a call (same as
/// `err.kind() == ErrorKind::CircuitOpen`).
pub fn is_circuit_open(err: &Error) -> bool {
    err.kind() == ErrorKind::CircuitOpen || has_source::<CircuitOpen>(err)
}

/// Whether `err` is a failed TLS handshake (same as
/// `err.kind() == ErrorKind::TlsHandshakeFailed`).
pub fn is_tls_failure(err: &Error) -> bool {
    err.kind() == ErrorKind::TlsHandshakeFailed || has_source::<TlsFailure>(err)
}

/// Whether `err` is a replaying transport that has no recording of the request.
pub fn is_not_recorded(err: &Error) -> bool {
    has_source::<NotRecorded>(err)
}

/// Every error in `err`'s chain, looking inside `io::Error`s too.
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e);
        if out.len() > 32 {
            break;
        }
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    out
}

/// The gar error for a failed exchange with `host` (`hyper_util` client errors,
/// I/O errors, ...).
pub(crate) fn network_error(host: &str, err: Box<dyn StdError + Send + Sync + 'static>) -> Error {
    let links = chain(err.as_ref());
    if let Some(tls) = links.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        let detail = tls.to_string();
        return Error::new(
            ErrorKind::TlsHandshakeFailed,
            format!("TLS handshake with {host} failed: {detail}"),
        )
        .with_source(TlsFailure { detail });
    }
    let text: Vec<String> = links.iter().map(ToString::to_string).collect();
    let joined = text.join(": ");
    // rustls reports alerts received after the handshake (a server refusing our
    // client certificate under TLS 1.3) as I/O errors carrying only text.
    if let Some(alert) = text.iter().find(|t| t.starts_with("received fatal alert")) {
        return Error::new(
            ErrorKind::TlsHandshakeFailed,
            format!("TLS with {host} failed: {alert}"),
        )
        .with_source(TlsFailure {
            detail: alert.clone(),
        });
    }
    let io_kind = links
        .iter()
        .find_map(|e| e.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    let kind = if joined.contains("dns error") || joined.contains("failed to lookup address") {
        ErrorKind::DnsResolutionFailed
    } else if io_kind == Some(std::io::ErrorKind::TimedOut) || joined.contains("timed out") {
        ErrorKind::Timeout
    } else {
        ErrorKind::ConnectionFailed
    };
    let what = match kind {
        ErrorKind::DnsResolutionFailed => format!("cannot resolve {host}"),
        ErrorKind::Timeout => format!("connecting to {host} timed out"),
        _ => format!("the connection to {host} failed"),
    };
    Error::new(kind, format!("{what}: {joined}")).with_source(err)
}

/// The error for a call to `host` that got no answer within `after`.
pub(crate) fn timeout_error(host: &str, after: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("{host} did not answer within {after:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(text: &str, io: std::io::ErrorKind) -> ErrorKind {
        let inner = std::io::Error::new(io, text.to_owned());
        network_error("h:1", Box::new(inner)).kind()
    }

    #[test]
    fn failures_below_http_map_to_network_kinds() {
        use std::io::ErrorKind as Io;
        assert_eq!(
            kind_of("dns error: failed to lookup address information", Io::Other),
            ErrorKind::DnsResolutionFailed
        );
        assert_eq!(
            kind_of("connect timed out", Io::TimedOut),
            ErrorKind::Timeout
        );
        assert_eq!(
            kind_of("connection reset by peer", Io::ConnectionReset),
            ErrorKind::ConnectionFailed
        );
        let tls = std::io::Error::new(Io::InvalidData, rustls::Error::General("bad".to_owned()));
        let err = network_error("h:1", Box::new(tls));
        assert!(is_tls_failure(&err));
        assert!(
            err.to_string().contains("TLS handshake with h:1 failed"),
            "{err}"
        );
        let alert = std::io::Error::new(Io::InvalidData, "received fatal alert: HandshakeFailure");
        assert!(is_tls_failure(&network_error("h:1", Box::new(alert))));
        let t = timeout_error("h:1", Duration::from_secs(5));
        assert_eq!(t.kind(), ErrorKind::Timeout);
        assert!(!is_circuit_open(&t) && !is_not_recorded(&t));
    }
}
