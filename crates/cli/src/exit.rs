//! Exit codes, so that scripts can tell failures apart:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | any other failure (a conflict, a corrupt download, a local I/O error) |
//! | 2 | usage: bad arguments, names or configuration, found before any call |
//! | 3 | not found: the repository, package, version, tag, file, image or blob does not exist |
//! | 4 | authentication or authorization: no or bad credentials, permission denied |
//! | 5 | transient: network, timeout, server unavailable, quota; trying later may work |

use gar::{Error, ErrorCategory, ErrorKind};

/// Any other failure.
pub const OTHER: u8 = 1;
/// Bad arguments, names or configuration.
pub const USAGE: u8 = 2;
/// The resource does not exist.
pub const NOT_FOUND: u8 = 3;
/// No or bad credentials, or not allowed.
pub const AUTH: u8 = 4;
/// Network, server or quota failures that may pass.
pub const TRANSIENT: u8 = 5;

/// The exit code of an error.
pub fn code(e: &Error) -> u8 {
    if e.is_not_found() {
        return NOT_FOUND;
    }
    match e.category() {
        ErrorCategory::Configuration => USAGE,
        ErrorCategory::Authentication | ErrorCategory::Authorization => AUTH,
        ErrorCategory::Network | ErrorCategory::Quota => TRANSIENT,
        _ => match e.kind() {
            ErrorKind::FormatMismatch => USAGE,
            ErrorKind::LocationUnavailable
            | ErrorKind::ServiceUnavailable
            | ErrorKind::InternalError
            | ErrorKind::CircuitOpen => TRANSIENT,
            _ if e.is_retryable() => TRANSIENT,
            _ => OTHER,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_codes() {
        for (kind, expected) in [
            (ErrorKind::InvalidRepository, USAGE),
            (ErrorKind::InvalidArgument, USAGE),
            (ErrorKind::RepositoryNotFound, NOT_FOUND),
            (ErrorKind::ManifestNotFound, NOT_FOUND),
            (ErrorKind::BlobNotFound, NOT_FOUND),
            (ErrorKind::CredentialsNotFound, AUTH),
            (ErrorKind::PermissionDenied, AUTH),
            (ErrorKind::Timeout, TRANSIENT),
            (ErrorKind::ServiceUnavailable, TRANSIENT),
            (ErrorKind::RequestsExceeded, TRANSIENT),
            (ErrorKind::CircuitOpen, TRANSIENT),
            (ErrorKind::AlreadyExists, OTHER),
            (ErrorKind::BlobDigestMismatch, OTHER),
            (ErrorKind::Io, OTHER),
        ] {
            assert_eq!(code(&Error::new(kind, "x")), expected, "{kind:?}");
        }
    }
}
