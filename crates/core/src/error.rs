//! The one error type of gar: a stable taxonomy of kinds, retry classes, and the
//! mapping from HTTP statuses, `google.rpc.Status` bodies, gRPC codes and OCI error
//! bodies onto it.
//!
//! Every failure a gar crate reports is an [`Error`]. Callers branch on
//! [`Error::kind`] (or the `is_*` predicates), never on message text. The kind's
//! [`ErrorKind::code`] is a stable upper-case string (`MANIFEST_NOT_FOUND`) that the
//! CLI's JSON output and the Node binding expose as-is.
//!
//! ```
//! use gar_core::error::{Error, ErrorKind, Resource, ResourceKind};
//!
//! let body = br#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}"#;
//! let repo = Resource::new(ResourceKind::Repository, "r", Some("projects/p/locations/us-central1"));
//! let err = Error::from_http(404, body, Some(&repo));
//! assert_eq!(err.kind(), ErrorKind::RepositoryNotFound);
//! assert!(err.is_not_found());
//! assert!(!err.is_retryable());
//! assert_eq!(
//!     err.to_string(),
//!     "repository r not found in projects/p/locations/us-central1; check the name or the location \
//!      (server: Requested entity was not found.)"
//! );
//! ```

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::protojson;

/// The broad family an [`ErrorKind`] belongs to; the rows of the taxonomy.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// The caller's input or configuration is wrong (bad names, bad arguments).
    Configuration,
    /// Credentials are missing, invalid or could not be turned into a token.
    Authentication,
    /// The caller is authenticated but not allowed.
    Authorization,
    /// A repository-level failure.
    Repository,
    /// A package, version, tag or file failure.
    Package,
    /// A manifest failure.
    Manifest,
    /// A blob failure.
    Blob,
    /// A quota was exhausted.
    Quota,
    /// The network failed before an answer arrived.
    Network,
    /// The server failed or answered something unusable.
    Server,
    /// The request conflicts with the current state of the resource.
    Conflict,
    /// Anything else: a generic missing resource, a cancelled call, local I/O.
    Other,
}

impl ErrorCategory {
    /// The stable upper-case name of the category (`"MANIFEST"`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Configuration => "CONFIGURATION",
            Self::Authentication => "AUTHENTICATION",
            Self::Authorization => "AUTHORIZATION",
            Self::Repository => "REPOSITORY",
            Self::Package => "PACKAGE",
            Self::Manifest => "MANIFEST",
            Self::Blob => "BLOB",
            Self::Quota => "QUOTA",
            Self::Network => "NETWORK",
            Self::Server => "SERVER",
            Self::Conflict => "CONFLICT",
            Self::Other => "OTHER",
        }
    }
}

macro_rules! error_kinds {
    ($( $(#[$doc:meta])* $variant:ident => $category:ident, $code:literal; )*) => {
        /// What went wrong, precisely enough to act on. Stable across releases;
        /// new kinds may be added.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorKind {
            /// Every kind, in taxonomy order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The category (taxonomy row) of this kind.
            pub fn category(self) -> ErrorCategory {
                match self {
                    $( Self::$variant => ErrorCategory::$category, )*
                }
            }

            /// The stable upper-case code of this kind (`"MANIFEST_NOT_FOUND"`).
            pub fn code(self) -> &'static str {
                match self {
                    $( Self::$variant => $code, )*
                }
            }

            /// The kind whose [`code`](Self::code) is `code`.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $( $code => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

error_kinds! {
    /// A project id or number is malformed.
    InvalidProject => Configuration, "INVALID_PROJECT";
    /// A location is not a known Artifact Registry location.
    InvalidLocation => Configuration, "INVALID_LOCATION";
    /// A repository id is malformed.
    InvalidRepository => Configuration, "INVALID_REPOSITORY";
    /// A package name is malformed for its format.
    InvalidPackage => Configuration, "INVALID_PACKAGE";
    /// A version id is malformed.
    InvalidVersion => Configuration, "INVALID_VERSION";
    /// A tag is malformed.
    InvalidTag => Configuration, "INVALID_TAG";
    /// A file id is malformed.
    InvalidFile => Configuration, "INVALID_FILE";
    /// A digest is malformed (algorithm or hex length).
    InvalidDigest => Configuration, "INVALID_DIGEST";
    /// An image reference is malformed.
    InvalidReference => Configuration, "INVALID_REFERENCE";
    /// A full resource name (`projects/.../...`) is malformed.
    InvalidResourceName => Configuration, "INVALID_RESOURCE_NAME";
    /// Some other argument or setting is invalid (HTTP 400, `INVALID_ARGUMENT`).
    InvalidArgument => Configuration, "INVALID_ARGUMENT";
    /// The request is valid but the resource is not in a state that allows it.
    FailedPrecondition => Configuration, "FAILED_PRECONDITION";

    /// No credentials were found in any of the places searched.
    CredentialsNotFound => Authentication, "CREDENTIALS_NOT_FOUND";
    /// The server rejected the access token (HTTP 401, `UNAUTHENTICATED`).
    TokenExpired => Authentication, "TOKEN_EXPIRED";
    /// The token endpoint refused to issue or refresh a token.
    TokenRefreshFailed => Authentication, "TOKEN_REFRESH_FAILED";
    /// A service-account key is unusable (bad JSON, missing field, bad private key).
    ServiceAccountInvalid => Authentication, "SERVICE_ACCOUNT_INVALID";

    /// The caller lacks a permission (HTTP 403, `PERMISSION_DENIED`).
    PermissionDenied => Authorization, "PERMISSION_DENIED";
    /// The caller may not use the project (or the API is disabled in it).
    ProjectAccessDenied => Authorization, "PROJECT_ACCESS_DENIED";
    /// The caller may not use the repository.
    RepositoryAccessDenied => Authorization, "REPOSITORY_ACCESS_DENIED";

    /// The repository does not exist.
    RepositoryNotFound => Repository, "REPOSITORY_NOT_FOUND";
    /// The repository holds another format than the operation needs.
    FormatMismatch => Repository, "FORMAT_MISMATCH";
    /// The repository's location cannot be reached.
    LocationUnavailable => Repository, "LOCATION_UNAVAILABLE";

    /// The package does not exist.
    PackageNotFound => Package, "PACKAGE_NOT_FOUND";
    /// The version does not exist.
    VersionNotFound => Package, "VERSION_NOT_FOUND";
    /// The tag does not exist.
    TagNotFound => Package, "TAG_NOT_FOUND";
    /// The file does not exist.
    FileNotFound => Package, "FILE_NOT_FOUND";

    /// The manifest does not exist.
    ManifestNotFound => Manifest, "MANIFEST_NOT_FOUND";
    /// The manifest is malformed, too large, or references missing blobs.
    ManifestInvalid => Manifest, "MANIFEST_INVALID";
    /// The manifest's bytes do not hash to the expected digest.
    ManifestDigestMismatch => Manifest, "MANIFEST_DIGEST_MISMATCH";
    /// The manifest's media type or schema is not supported.
    SchemaNotSupported => Manifest, "SCHEMA_NOT_SUPPORTED";

    /// The blob does not exist.
    BlobNotFound => Blob, "BLOB_NOT_FOUND";
    /// A blob upload was refused or broke off.
    BlobUploadFailed => Blob, "BLOB_UPLOAD_FAILED";
    /// The blob's bytes do not hash to the expected digest.
    BlobDigestMismatch => Blob, "BLOB_DIGEST_MISMATCH";

    /// The project's storage quota is used up.
    StorageExceeded => Quota, "STORAGE_EXCEEDED";
    /// Too many requests (HTTP 429, `RESOURCE_EXHAUSTED`).
    RequestsExceeded => Quota, "REQUESTS_EXCEEDED";
    /// The download (egress) quota is used up.
    DownloadExceeded => Quota, "DOWNLOAD_EXCEEDED";

    /// The connection could not be made or broke off.
    ConnectionFailed => Network, "CONNECTION_FAILED";
    /// The call did not finish in time (`DEADLINE_EXCEEDED`, HTTP 408/504).
    Timeout => Network, "TIMEOUT";
    /// The host name did not resolve.
    DnsResolutionFailed => Network, "DNS_RESOLUTION_FAILED";
    /// The TLS handshake failed (untrusted certificate, no common protocol version,
    /// a refused client certificate); retrying cannot help.
    TlsHandshakeFailed => Network, "TLS_HANDSHAKE_FAILED";

    /// The server failed (HTTP 500, `INTERNAL`, `UNKNOWN`, `DATA_LOSS`).
    InternalError => Server, "INTERNAL_ERROR";
    /// The service is unavailable (HTTP 502/503, `UNAVAILABLE`).
    ServiceUnavailable => Server, "SERVICE_UNAVAILABLE";
    /// gar's circuit breaker for the host is open after repeated failures: the call
    /// was refused without reaching the server. Not retried; the breaker probes again
    /// after its cool-down.
    CircuitOpen => Server, "CIRCUIT_OPEN";
    /// The server does not implement the operation (HTTP 501, `UNIMPLEMENTED`, OCI `UNSUPPORTED`).
    Unimplemented => Server, "UNIMPLEMENTED";
    /// The server answered something gar cannot understand.
    InvalidResponse => Server, "INVALID_RESPONSE";

    /// The resource already exists (HTTP 409, `ALREADY_EXISTS`).
    AlreadyExists => Conflict, "ALREADY_EXISTS";
    /// A concurrent change won (`ABORTED`).
    Aborted => Conflict, "ABORTED";

    /// Some other resource does not exist (an operation, an occurrence, a note).
    NotFound => Other, "NOT_FOUND";
    /// The call was cancelled by the caller.
    Cancelled => Other, "CANCELLED";
    /// A local file or stream failed.
    Io => Other, "IO";
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The retry row an error belongs to (design.md's table); transport's retry layer
/// reads the attempts and backoff from the matching [`RetryPolicy`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryClass {
    /// Not retried.
    Never,
    /// HTTP 401: retried once, after the token is refreshed.
    AfterTokenRefresh,
    /// HTTP 429: 5 attempts, exponential from 30 s; `Retry-After` wins.
    Quota,
    /// HTTP 500: 3 attempts, exponential from 1 s.
    Internal,
    /// HTTP 503 and failed connections: 3 attempts, exponential from 2 s.
    Unavailable,
    /// Timeouts: 3 attempts, fixed 1 s.
    Timeout,
}

/// How often and how patiently one [`RetryClass`] is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first one included (1 means "never retried").
    pub max_attempts: u32,
    /// The wait before the second attempt.
    pub initial_backoff: Duration,
    /// Factor applied to the wait after each attempt (1 for a fixed backoff).
    pub multiplier: u32,
    /// Upper bound on one wait.
    pub max_backoff: Duration,
    /// Whether a server's `Retry-After` (or `RetryInfo`) replaces the computed wait.
    pub honour_retry_after: bool,
}

impl RetryPolicy {
    /// The wait before attempt number `attempt + 1`, where `attempt` counts the
    /// attempts already made (1 after the first failure). Jitter is the caller's.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let factor = self.multiplier.max(1).saturating_pow(exponent);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

impl RetryClass {
    /// The default policy of this class, as design.md's table gives it.
    pub fn default_policy(self) -> RetryPolicy {
        let (max_attempts, initial, multiplier, max, retry_after) = match self {
            Self::Never => (1, 0, 1, 0, false),
            Self::AfterTokenRefresh => (2, 0, 1, 0, false),
            Self::Quota => (5, 30, 2, 300, true),
            Self::Internal => (3, 1, 2, 30, true),
            Self::Unavailable => (3, 2, 2, 30, true),
            Self::Timeout => (3, 1, 1, 1, false),
        };
        RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_secs(initial),
            multiplier,
            max_backoff: Duration::from_secs(max),
            honour_retry_after: retry_after,
        }
    }
}

impl ErrorKind {
    /// The retry row of this kind.
    pub fn retry_class(self) -> RetryClass {
        match self {
            Self::TokenExpired => RetryClass::AfterTokenRefresh,
            Self::RequestsExceeded | Self::DownloadExceeded => RetryClass::Quota,
            Self::InternalError => RetryClass::Internal,
            Self::ServiceUnavailable | Self::ConnectionFailed | Self::LocationUnavailable => {
                RetryClass::Unavailable
            }
            Self::Timeout => RetryClass::Timeout,
            _ => RetryClass::Never,
        }
    }
}

/// The canonical gRPC status codes (`google.rpc.Code`), without any gRPC library type.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrpcCode {
    /// 0
    Ok,
    /// 1
    Cancelled,
    /// 2
    Unknown,
    /// 3
    InvalidArgument,
    /// 4
    DeadlineExceeded,
    /// 5
    NotFound,
    /// 6
    AlreadyExists,
    /// 7
    PermissionDenied,
    /// 8
    ResourceExhausted,
    /// 9
    FailedPrecondition,
    /// 10
    Aborted,
    /// 11
    OutOfRange,
    /// 12
    Unimplemented,
    /// 13
    Internal,
    /// 14
    Unavailable,
    /// 15
    DataLoss,
    /// 16
    Unauthenticated,
}

const GRPC_CODES: [(GrpcCode, &str); 17] = [
    (GrpcCode::Ok, "OK"),
    (GrpcCode::Cancelled, "CANCELLED"),
    (GrpcCode::Unknown, "UNKNOWN"),
    (GrpcCode::InvalidArgument, "INVALID_ARGUMENT"),
    (GrpcCode::DeadlineExceeded, "DEADLINE_EXCEEDED"),
    (GrpcCode::NotFound, "NOT_FOUND"),
    (GrpcCode::AlreadyExists, "ALREADY_EXISTS"),
    (GrpcCode::PermissionDenied, "PERMISSION_DENIED"),
    (GrpcCode::ResourceExhausted, "RESOURCE_EXHAUSTED"),
    (GrpcCode::FailedPrecondition, "FAILED_PRECONDITION"),
    (GrpcCode::Aborted, "ABORTED"),
    (GrpcCode::OutOfRange, "OUT_OF_RANGE"),
    (GrpcCode::Unimplemented, "UNIMPLEMENTED"),
    (GrpcCode::Internal, "INTERNAL"),
    (GrpcCode::Unavailable, "UNAVAILABLE"),
    (GrpcCode::DataLoss, "DATA_LOSS"),
    (GrpcCode::Unauthenticated, "UNAUTHENTICATED"),
];

impl GrpcCode {
    /// The code for its number; numbers outside 0..=16 are `Unknown`, as gRPC specifies.
    pub fn from_i32(n: i32) -> Self {
        usize::try_from(n)
            .ok()
            .and_then(|i| GRPC_CODES.get(i))
            .map_or(Self::Unknown, |(c, _)| *c)
    }

    /// The code's number.
    pub fn as_i32(self) -> i32 {
        GRPC_CODES
            .iter()
            .position(|(c, _)| *c == self)
            .and_then(|i| i32::try_from(i).ok())
            .unwrap_or(2)
    }

    /// The code's canonical name (`"NOT_FOUND"`).
    pub fn name(self) -> &'static str {
        GRPC_CODES
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("UNKNOWN", |(_, n)| n)
    }

    /// The code with this canonical name.
    pub fn from_name(name: &str) -> Option<Self> {
        GRPC_CODES.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
    }

    /// The code an HTTP status corresponds to (the mapping of `google.rpc.Code`).
    pub fn from_http_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Ok,
            400 => Self::InvalidArgument,
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            408 | 504 => Self::DeadlineExceeded,
            409 => Self::AlreadyExists,
            412 => Self::FailedPrecondition,
            416 => Self::OutOfRange,
            429 => Self::ResourceExhausted,
            499 => Self::Cancelled,
            501 => Self::Unimplemented,
            502 | 503 => Self::Unavailable,
            405 | 411 | 413..=415 | 417..=428 | 430..=498 => Self::InvalidArgument,
            500 | 505..=599 => Self::Internal,
            _ => Self::Unknown,
        }
    }

    /// The HTTP status this code is usually carried with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Ok => 200,
            Self::Cancelled => 499,
            Self::InvalidArgument | Self::FailedPrecondition | Self::OutOfRange => 400,
            Self::DeadlineExceeded => 504,
            Self::NotFound => 404,
            Self::AlreadyExists | Self::Aborted => 409,
            Self::PermissionDenied => 403,
            Self::ResourceExhausted => 429,
            Self::Unimplemented => 501,
            Self::Unavailable => 503,
            Self::Unauthenticated => 401,
            Self::Unknown | Self::Internal | Self::DataLoss => 500,
        }
    }
}

impl fmt::Display for GrpcCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What sort of thing a [`Resource`] is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// A project.
    Project,
    /// A location of a project.
    Location,
    /// A repository.
    Repository,
    /// A package.
    Package,
    /// A version of a package.
    Version,
    /// A tag of a package.
    Tag,
    /// A file of a repository.
    File,
    /// A docker image entry of a repository.
    DockerImage,
    /// An OCI manifest (by tag or digest).
    Manifest,
    /// An OCI blob.
    Blob,
    /// An OCI upload session.
    Upload,
    /// A long-running operation.
    Operation,
    /// A Grafeas occurrence.
    Occurrence,
    /// A Grafeas note.
    Note,
    /// Anything else.
    Other,
}

impl ResourceKind {
    /// The lower-case noun used in messages (`"repository"`).
    pub fn noun(self) -> &'static str {
        match self {
            Self::Project => "project",
            Self::Location => "location",
            Self::Repository => "repository",
            Self::Package => "package",
            Self::Version => "version",
            Self::Tag => "tag",
            Self::File => "file",
            Self::DockerImage => "docker image",
            Self::Manifest => "manifest",
            Self::Blob => "blob",
            Self::Upload => "upload",
            Self::Operation => "operation",
            Self::Occurrence => "occurrence",
            Self::Note => "note",
            Self::Other => "resource",
        }
    }

    fn lives_in_repository(self) -> bool {
        matches!(
            self,
            Self::Repository
                | Self::Package
                | Self::Version
                | Self::Tag
                | Self::File
                | Self::DockerImage
                | Self::Manifest
                | Self::Blob
                | Self::Upload
        )
    }
}

/// The resource a call was about: gives errors their precise kind (which NotFound)
/// and their message ("repository r not found in projects/p/locations/l").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    kind: ResourceKind,
    id: String,
    parent: Option<String>,
}

impl Resource {
    /// A resource of `kind` named `id`, optionally inside `parent`.
    pub fn new(kind: ResourceKind, id: impl Into<String>, parent: Option<&str>) -> Self {
        Self {
            kind,
            id: id.into(),
            parent: parent.map(str::to_owned),
        }
    }

    /// What sort of resource this is.
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// Its id within the parent (or the whole name when there is no parent).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name of its parent, if known.
    pub fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.noun(), self.id)?;
        if let Some(parent) = &self.parent {
            write!(f, " in {parent}")?;
        }
        Ok(())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error of every gar operation.
///
/// Opaque on purpose: read it through [`kind`](Self::kind), the `is_*` predicates and
/// the accessors. `Display` gives one sentence that says what to do; the underlying
/// cause, if any, is reached through [`std::error::Error::source`].
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    http_status: Option<u16>,
    grpc_code: Option<GrpcCode>,
    oci_code: Option<String>,
    server_message: Option<String>,
    retry_after: Option<Duration>,
    resource: Option<Resource>,
    source: Option<BoxError>,
}

/// Longest server message or input echoed back in an error message.
const ECHO_LIMIT: usize = 300;

/// `text` cut to at most `limit` characters, with an ellipsis when cut.
pub(crate) fn truncate_for_message(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or_default()),
    }
}

impl Error {
    /// An error of `kind` whose message is `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                http_status: None,
                grpc_code: None,
                oci_code: None,
                server_message: None,
                retry_after: None,
                resource: None,
                source: None,
            }),
        }
    }

    /// The error a parser reports: `invalid {what} "{input}": {reason}`. Long inputs
    /// are shortened in the message.
    pub fn invalid(kind: ErrorKind, what: &str, input: &str, reason: impl fmt::Display) -> Self {
        let shown = truncate_for_message(input, 80);
        Self::new(kind, format!("invalid {what} {shown:?}: {reason}"))
    }

    /// Attaches the underlying cause, reachable through `source()`.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Records the resource the call was about.
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.inner.resource = Some(resource);
        self
    }

    /// Records how long the server asked the client to wait before retrying.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.inner.retry_after = Some(wait);
        self
    }

    /// Records the server's own message (for example a token endpoint's answer).
    pub fn with_server_message(mut self, message: impl Into<String>) -> Self {
        self.inner.server_message = Some(message.into());
        self
    }

    /// Records the HTTP status of the answer.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.inner.http_status = Some(status);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The taxonomy row of [`kind`](Self::kind).
    pub fn category(&self) -> ErrorCategory {
        self.inner.kind.category()
    }

    /// The stable code of the kind (`"MANIFEST_NOT_FOUND"`).
    pub fn code(&self) -> &'static str {
        self.inner.kind.code()
    }

    /// The message, without the cause chain.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The HTTP status of the failed answer, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.inner.http_status
    }

    /// The gRPC status code (or the canonical code a REST error body carried).
    pub fn grpc_code(&self) -> Option<GrpcCode> {
        self.inner.grpc_code
    }

    /// The OCI error code of the first entry of an OCI error body (`"MANIFEST_UNKNOWN"`).
    pub fn oci_code(&self) -> Option<&str> {
        self.inner.oci_code.as_deref()
    }

    /// The server's own message, unchanged.
    pub fn server_message(&self) -> Option<&str> {
        self.inner.server_message.as_deref()
    }

    /// How long the server asked to wait before retrying (`Retry-After`, `RetryInfo`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The resource the call was about, if known.
    pub fn resource(&self) -> Option<&Resource> {
        self.inner.resource.as_ref()
    }

    /// The retry row this error belongs to.
    pub fn retry_class(&self) -> RetryClass {
        self.inner.kind.retry_class()
    }

    /// Whether repeating the same request may succeed.
    ///
    /// # Troubleshooting
    /// gar's transport already retried a retryable error as often as its policy
    /// allows before you see it; a retryable error that reaches you means the
    /// service stayed unhealthy. Raise the attempts or look at the service's status.
    pub fn is_retryable(&self) -> bool {
        self.retry_class() != RetryClass::Never
    }

    /// Whether something was not found (any of the NotFound kinds).
    ///
    /// # Troubleshooting
    /// Check the project, the location and the spelling of the name; the message
    /// names the parent that was searched.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::RepositoryNotFound
                | ErrorKind::PackageNotFound
                | ErrorKind::VersionNotFound
                | ErrorKind::TagNotFound
                | ErrorKind::FileNotFound
                | ErrorKind::ManifestNotFound
                | ErrorKind::BlobNotFound
                | ErrorKind::NotFound
        )
    }

    /// Whether the input or configuration is wrong; fix it, do not retry.
    pub fn is_configuration(&self) -> bool {
        self.category() == ErrorCategory::Configuration
    }

    /// Whether authentication failed.
    ///
    /// # Troubleshooting
    /// The message lists where credentials were looked for; set
    /// `GOOGLE_APPLICATION_CREDENTIALS` or run on a machine with a metadata server.
    pub fn is_authentication(&self) -> bool {
        self.category() == ErrorCategory::Authentication
    }

    /// Whether the caller lacks a permission.
    ///
    /// # Troubleshooting
    /// Grant the principal a role such as `roles/artifactregistry.reader` (or
    /// `writer`) on the repository or project the message names.
    pub fn is_authorization(&self) -> bool {
        self.category() == ErrorCategory::Authorization
    }

    /// Whether a quota was exhausted.
    pub fn is_quota(&self) -> bool {
        self.category() == ErrorCategory::Quota
    }

    /// Whether the network failed before an answer arrived.
    pub fn is_network(&self) -> bool {
        self.category() == ErrorCategory::Network
    }

    /// Whether the call ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// Whether gar's circuit breaker refused the call without reaching the server.
    ///
    /// # Troubleshooting
    /// The host failed repeatedly just before; the breaker lets a probe through after
    /// its cool-down (30 s by default). Look at the earlier errors for the cause.
    pub fn is_circuit_open(&self) -> bool {
        self.kind() == ErrorKind::CircuitOpen
    }

    /// Whether the server failed.
    pub fn is_server(&self) -> bool {
        self.category() == ErrorCategory::Server
    }

    /// Whether the request conflicts with the resource's state (already exists, aborted).
    pub fn is_conflict(&self) -> bool {
        self.category() == ErrorCategory::Conflict
    }

    /// Whether downloaded or uploaded bytes did not match their digest.
    ///
    /// # Troubleshooting
    /// The data was corrupted in transit or the registry holds a corrupt object;
    /// nothing was kept. Retry, then check the registry's copy.
    pub fn is_digest_mismatch(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::ManifestDigestMismatch | ErrorKind::BlobDigestMismatch
        )
    }

    /// The error an HTTP answer of a Google API carries: `status` and a
    /// `google.rpc.Status` JSON body (`{"error":{"code","message","status","details"}}`),
    /// about `resource` when the caller knows it. Bodies that are not JSON are kept
    /// as the server message.
    pub fn from_http(status: u16, body: &[u8], resource: Option<&Resource>) -> Self {
        let parsed = GoogleStatus::parse(body);
        let code = parsed
            .status
            .as_deref()
            .and_then(GrpcCode::from_name)
            .filter(|c| *c != GrpcCode::Ok)
            .unwrap_or_else(|| GrpcCode::from_http_status(status));
        let server_message = parsed.message.or_else(|| plain_text(body));
        let mut err = Self::mapped(code, server_message, resource, &parsed.reasons);
        err.inner.http_status = Some(status);
        if let Some(wait) = parsed.retry_delay {
            err.inner.retry_after = Some(wait);
        }
        err
    }

    /// The error of a failed gRPC call: its status code and message.
    pub fn from_grpc(code: GrpcCode, message: &str, resource: Option<&Resource>) -> Self {
        let server_message = (!message.is_empty()).then(|| message.to_owned());
        Self::mapped(code, server_message, resource, &[])
    }

    /// The error of a failed Docker/OCI registry call: its HTTP status and an OCI
    /// error body (`{"errors":[{"code","message","detail"}]}`). The first entry's
    /// code decides the kind; without one, the HTTP status does.
    pub fn from_oci(status: u16, body: &[u8], resource: Option<&Resource>) -> Self {
        let first = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            let entry = v.get("errors")?.as_array()?.first()?.clone();
            let code = entry.get("code")?.as_str()?.to_owned();
            let message = entry
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some((code, message))
        });
        let Some((oci_code, message)) = first else {
            // Not an OCI body: some registries answer with a Google error body or text.
            let mut err = Self::from_http(status, body, resource);
            if err.inner.kind == ErrorKind::TokenExpired {
                err.inner.message = auth_message(resource);
            }
            return err;
        };
        let kind = oci_kind(&oci_code, status, resource);
        let mut err = Self::with_kind(
            kind,
            message,
            resource,
            Some(GrpcCode::from_http_status(status)),
        );
        err.inner.http_status = Some(status);
        err.inner.oci_code = Some(oci_code);
        err
    }

    fn mapped(
        code: GrpcCode,
        server_message: Option<String>,
        resource: Option<&Resource>,
        reasons: &[String],
    ) -> Self {
        let kind = grpc_kind(code, server_message.as_deref(), resource, reasons);
        Self::with_kind(kind, server_message, resource, Some(code))
    }

    fn with_kind(
        kind: ErrorKind,
        server_message: Option<String>,
        resource: Option<&Resource>,
        code: Option<GrpcCode>,
    ) -> Self {
        let mut message = kind_message(kind, resource);
        if let Some(server) = server_message.as_deref().filter(|m| !m.is_empty()) {
            message.push_str(" (server: ");
            message.push_str(&truncate_for_message(server, ECHO_LIMIT));
            message.push(')');
        }
        let mut err = Self::new(kind, message);
        err.inner.grpc_code = code;
        err.inner.server_message = server_message;
        err.inner.resource = resource.cloned();
        err
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(s) = self.inner.http_status {
            d.field("http_status", &s);
        }
        if let Some(c) = self.inner.grpc_code {
            d.field("grpc_code", &c);
        }
        if let Some(c) = &self.inner.oci_code {
            d.field("oci_code", c);
        }
        if let Some(r) = &self.inner.retry_after {
            d.field("retry_after", r);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// The fields of a `google.rpc.Status` error body that matter for mapping.
#[derive(Default)]
struct GoogleStatus {
    status: Option<String>,
    message: Option<String>,
    reasons: Vec<String>,
    retry_delay: Option<Duration>,
}

impl GoogleStatus {
    fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        // Some Google front ends wrap the body in a one-element array.
        let value = match value {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        let Some(error) = value.get("error") else {
            return Self::default();
        };
        let mut out = Self {
            status: error
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ..Self::default()
        };
        for detail in error
            .get("details")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let ty = detail.get("@type").and_then(Value::as_str).unwrap_or("");
            if ty.ends_with("google.rpc.ErrorInfo") {
                if let Some(reason) = detail.get("reason").and_then(Value::as_str) {
                    out.reasons.push(reason.to_owned());
                }
            } else if ty.ends_with("google.rpc.RetryInfo") {
                out.retry_delay = detail
                    .get("retryDelay")
                    .and_then(Value::as_str)
                    .and_then(|d| protojson::parse_duration(d).ok());
            }
        }
        out
    }
}

fn plain_text(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| truncate_for_message(text, ECHO_LIMIT))
}

fn grpc_kind(
    code: GrpcCode,
    message: Option<&str>,
    resource: Option<&Resource>,
    reasons: &[String],
) -> ErrorKind {
    let lower = message.unwrap_or("").to_ascii_lowercase();
    let has_reason = |r: &str| reasons.iter().any(|x| x == r);
    match code {
        GrpcCode::Ok | GrpcCode::Unknown | GrpcCode::Internal | GrpcCode::DataLoss => {
            ErrorKind::InternalError
        }
        GrpcCode::Cancelled => ErrorKind::Cancelled,
        GrpcCode::InvalidArgument | GrpcCode::OutOfRange => match resource.map(Resource::kind) {
            Some(ResourceKind::Manifest) if lower.contains("manifest") => {
                ErrorKind::ManifestInvalid
            }
            _ => ErrorKind::InvalidArgument,
        },
        GrpcCode::FailedPrecondition => {
            if lower.contains("format") && resource.is_some_and(|r| r.kind().lives_in_repository())
            {
                ErrorKind::FormatMismatch
            } else {
                ErrorKind::FailedPrecondition
            }
        }
        GrpcCode::DeadlineExceeded => ErrorKind::Timeout,
        GrpcCode::NotFound => not_found_kind(resource),
        GrpcCode::AlreadyExists => ErrorKind::AlreadyExists,
        GrpcCode::Aborted => ErrorKind::Aborted,
        GrpcCode::PermissionDenied => {
            if has_reason("RATE_LIMIT_EXCEEDED") || has_reason("RESOURCE_EXHAUSTED") {
                ErrorKind::RequestsExceeded
            } else if has_reason("SERVICE_DISABLED")
                || has_reason("BILLING_DISABLED")
                || has_reason("CONSUMER_INVALID")
                || has_reason("USER_PROJECT_DENIED")
            {
                ErrorKind::ProjectAccessDenied
            } else {
                match resource.map(Resource::kind) {
                    Some(k) if k.lives_in_repository() => ErrorKind::RepositoryAccessDenied,
                    Some(ResourceKind::Project | ResourceKind::Location) => {
                        ErrorKind::ProjectAccessDenied
                    }
                    _ => ErrorKind::PermissionDenied,
                }
            }
        }
        GrpcCode::ResourceExhausted => {
            if lower.contains("storage") {
                ErrorKind::StorageExceeded
            } else if lower.contains("download") || lower.contains("egress") {
                ErrorKind::DownloadExceeded
            } else {
                ErrorKind::RequestsExceeded
            }
        }
        GrpcCode::Unimplemented => ErrorKind::Unimplemented,
        GrpcCode::Unavailable => ErrorKind::ServiceUnavailable,
        GrpcCode::Unauthenticated => ErrorKind::TokenExpired,
    }
}

fn not_found_kind(resource: Option<&Resource>) -> ErrorKind {
    match resource.map(Resource::kind) {
        Some(ResourceKind::Repository) => ErrorKind::RepositoryNotFound,
        Some(ResourceKind::Package | ResourceKind::DockerImage) => ErrorKind::PackageNotFound,
        Some(ResourceKind::Version) => ErrorKind::VersionNotFound,
        Some(ResourceKind::Tag) => ErrorKind::TagNotFound,
        Some(ResourceKind::File) => ErrorKind::FileNotFound,
        Some(ResourceKind::Manifest) => ErrorKind::ManifestNotFound,
        Some(ResourceKind::Blob) => ErrorKind::BlobNotFound,
        Some(ResourceKind::Upload) => ErrorKind::BlobUploadFailed,
        _ => ErrorKind::NotFound,
    }
}

/// The kind an OCI error code stands for (Distribution spec, error codes table).
fn oci_kind(code: &str, status: u16, resource: Option<&Resource>) -> ErrorKind {
    let rk = resource.map(Resource::kind);
    match code {
        "BLOB_UNKNOWN" => ErrorKind::BlobNotFound,
        "BLOB_UPLOAD_INVALID" | "BLOB_UPLOAD_UNKNOWN" | "SIZE_INVALID" | "RANGE_INVALID" => {
            ErrorKind::BlobUploadFailed
        }
        "DIGEST_INVALID" => match rk {
            Some(ResourceKind::Manifest) => ErrorKind::ManifestDigestMismatch,
            _ => ErrorKind::BlobDigestMismatch,
        },
        "MANIFEST_BLOB_UNKNOWN" | "MANIFEST_INVALID" | "MANIFEST_UNVERIFIED" => {
            ErrorKind::ManifestInvalid
        }
        "MANIFEST_UNKNOWN" => ErrorKind::ManifestNotFound,
        "NAME_INVALID" => ErrorKind::InvalidRepository,
        "NAME_UNKNOWN" => ErrorKind::RepositoryNotFound,
        "TAG_INVALID" => ErrorKind::InvalidTag,
        "PAGINATION_NUMBER_INVALID" => ErrorKind::InvalidArgument,
        "UNAUTHORIZED" => ErrorKind::TokenExpired,
        "DENIED" => ErrorKind::RepositoryAccessDenied,
        "UNSUPPORTED" => ErrorKind::Unimplemented,
        "TOOMANYREQUESTS" => ErrorKind::RequestsExceeded,
        _ => {
            let code = GrpcCode::from_http_status(status);
            grpc_kind(code, None, resource, &[])
        }
    }
}

fn auth_message(resource: Option<&Resource>) -> String {
    kind_message(ErrorKind::TokenExpired, resource)
}

/// The sentence a kind is reported with: what failed, where, and what to do.
fn kind_message(kind: ErrorKind, resource: Option<&Resource>) -> String {
    let what = resource.map_or_else(|| "the resource".to_owned(), ToString::to_string);
    // "repository r not found in projects/p/locations/l; ..."
    let not_found = |fallback: &str, advice: &str| match resource {
        Some(r) => {
            let mut s = format!("{} {} not found", r.kind().noun(), r.id());
            if let Some(p) = r.parent() {
                s.push_str(" in ");
                s.push_str(p);
            }
            format!("{s}; {advice}")
        }
        None => format!("{fallback} not found; {advice}"),
    };
    match kind {
        ErrorKind::RepositoryNotFound => {
            not_found("the repository", "check the name or the location")
        }
        ErrorKind::PackageNotFound => {
            not_found("the package", "check the package name and the repository")
        }
        ErrorKind::VersionNotFound => not_found(
            "the version",
            "list the package's versions to see which exist",
        ),
        ErrorKind::TagNotFound => {
            not_found("the tag", "list the package's tags to see which exist")
        }
        ErrorKind::FileNotFound => {
            not_found("the file", "list the repository's files to see which exist")
        }
        ErrorKind::ManifestNotFound => {
            not_found("the manifest", "check the tag or digest and the image path")
        }
        ErrorKind::BlobNotFound => {
            not_found("the blob", "check the digest, or push the blob first")
        }
        ErrorKind::NotFound => not_found("the resource", "check the name"),
        ErrorKind::BlobUploadFailed => format!(
            "the blob upload for {what} was refused or is no longer known; start the upload again"
        ),
        ErrorKind::BlobDigestMismatch => format!(
            "the bytes of {what} do not match their digest; nothing was kept, retry the transfer"
        ),
        ErrorKind::ManifestDigestMismatch => format!(
            "the manifest bytes of {what} do not match their digest; nothing was kept, retry"
        ),
        ErrorKind::ManifestInvalid => {
            format!(
                "the registry refused the manifest for {what} as invalid; check that its blobs were pushed and its media type is right"
            )
        }
        ErrorKind::SchemaNotSupported => {
            format!("the manifest schema of {what} is not supported")
        }
        ErrorKind::InvalidRepository => {
            format!("the registry refused the repository name of {what} as invalid")
        }
        ErrorKind::InvalidTag => format!("the registry refused the tag of {what} as invalid"),
        ErrorKind::InvalidArgument => {
            format!("the request about {what} was refused as invalid; check its arguments")
        }
        ErrorKind::FailedPrecondition => {
            format!("{what} is not in a state that allows this request; check its current state")
        }
        ErrorKind::FormatMismatch => format!(
            "{what} has another format than this operation needs; use a repository of the right format"
        ),
        ErrorKind::TokenExpired => format!(
            "the access token was rejected for {what} (expired or revoked) even after a refresh; check the credentials"
        ),
        ErrorKind::PermissionDenied => format!(
            "permission denied on {what}; grant the caller an Artifact Registry role that allows this"
        ),
        ErrorKind::ProjectAccessDenied => format!(
            "access to the project of {what} is denied; check that the Artifact Registry API is enabled and the caller has a role in the project"
        ),
        ErrorKind::RepositoryAccessDenied => format!(
            "access to {what} is denied; grant the caller roles/artifactregistry.reader (or writer) on the repository"
        ),
        ErrorKind::StorageExceeded => {
            format!(
                "the storage quota is exhausted while writing {what}; delete old versions (see cleanup policies) or raise the quota"
            )
        }
        ErrorKind::RequestsExceeded => format!(
            "the request quota is exhausted for {what}; gar backed off and retried, slow down or raise the quota"
        ),
        ErrorKind::DownloadExceeded => {
            format!("the download quota is exhausted for {what}; wait or raise the quota")
        }
        ErrorKind::Timeout => format!(
            "the call about {what} timed out; gar retried it, raise the timeout or check the network"
        ),
        ErrorKind::InternalError => format!(
            "the server failed with an internal error on {what}; gar retried it, try again later"
        ),
        ErrorKind::ServiceUnavailable => {
            format!("the service is unavailable for {what}; gar retried it, try again later")
        }
        ErrorKind::Unimplemented => {
            format!("the server does not support this operation on {what}")
        }
        ErrorKind::AlreadyExists => {
            format!("{what} already exists; use another name or update the existing one")
        }
        ErrorKind::Aborted => {
            format!("a concurrent change to {what} aborted the request; read it again and retry")
        }
        ErrorKind::Cancelled => format!("the call about {what} was cancelled"),
        ErrorKind::CircuitOpen => format!(
            "the call about {what} was refused by gar's circuit breaker after repeated failures; it retries after the cool-down"
        ),
        other => format!("{} on {what}", other.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> Resource {
        Resource::new(
            ResourceKind::Repository,
            "r",
            Some("projects/p/locations/us-central1"),
        )
    }

    fn google_body(code: u16, status: &str, message: &str) -> Vec<u8> {
        serde_json::json!({"error": {"code": code, "status": status, "message": message}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn http_table_rows() {
        // (HTTP status, canonical status, resource kind, expected kind, retry class)
        let rows: &[(u16, &str, Option<ResourceKind>, ErrorKind, RetryClass)] = &[
            (
                400,
                "INVALID_ARGUMENT",
                None,
                ErrorKind::InvalidArgument,
                RetryClass::Never,
            ),
            (
                401,
                "UNAUTHENTICATED",
                None,
                ErrorKind::TokenExpired,
                RetryClass::AfterTokenRefresh,
            ),
            (
                403,
                "PERMISSION_DENIED",
                None,
                ErrorKind::PermissionDenied,
                RetryClass::Never,
            ),
            (
                403,
                "PERMISSION_DENIED",
                Some(ResourceKind::Repository),
                ErrorKind::RepositoryAccessDenied,
                RetryClass::Never,
            ),
            (
                403,
                "PERMISSION_DENIED",
                Some(ResourceKind::Project),
                ErrorKind::ProjectAccessDenied,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::Repository),
                ErrorKind::RepositoryNotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::Package),
                ErrorKind::PackageNotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::Version),
                ErrorKind::VersionNotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::Tag),
                ErrorKind::TagNotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::File),
                ErrorKind::FileNotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::Manifest),
                ErrorKind::ManifestNotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::Blob),
                ErrorKind::BlobNotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                Some(ResourceKind::Operation),
                ErrorKind::NotFound,
                RetryClass::Never,
            ),
            (
                404,
                "NOT_FOUND",
                None,
                ErrorKind::NotFound,
                RetryClass::Never,
            ),
            (
                409,
                "ALREADY_EXISTS",
                None,
                ErrorKind::AlreadyExists,
                RetryClass::Never,
            ),
            (409, "ABORTED", None, ErrorKind::Aborted, RetryClass::Never),
            (
                400,
                "FAILED_PRECONDITION",
                None,
                ErrorKind::FailedPrecondition,
                RetryClass::Never,
            ),
            (
                429,
                "RESOURCE_EXHAUSTED",
                None,
                ErrorKind::RequestsExceeded,
                RetryClass::Quota,
            ),
            (
                500,
                "INTERNAL",
                None,
                ErrorKind::InternalError,
                RetryClass::Internal,
            ),
            (
                501,
                "UNIMPLEMENTED",
                None,
                ErrorKind::Unimplemented,
                RetryClass::Never,
            ),
            (
                503,
                "UNAVAILABLE",
                None,
                ErrorKind::ServiceUnavailable,
                RetryClass::Unavailable,
            ),
            (
                504,
                "DEADLINE_EXCEEDED",
                None,
                ErrorKind::Timeout,
                RetryClass::Timeout,
            ),
        ];
        for (status, canonical, rk, kind, class) in rows {
            let resource = rk.map(|k| Resource::new(k, "x", Some("projects/p")));
            let body = google_body(*status, canonical, "m");
            let err = Error::from_http(*status, &body, resource.as_ref());
            assert_eq!(err.kind(), *kind, "{status} {canonical} {rk:?}");
            assert_eq!(err.retry_class(), *class, "{status} {canonical}");
            assert_eq!(err.http_status(), Some(*status));
            assert_eq!(err.grpc_code().map(GrpcCode::name), Some(*canonical));
            assert_eq!(err.server_message(), Some("m"));
            // Without a body, the HTTP status alone gives the same kind for the
            // table's own rows.
            if !matches!(*canonical, "ABORTED" | "FAILED_PRECONDITION") {
                let bare = Error::from_http(*status, b"", resource.as_ref());
                assert_eq!(bare.kind(), *kind, "bare {status}");
            }
        }
    }

    #[test]
    fn grpc_table_rows() {
        let rows: &[(GrpcCode, ErrorKind, bool)] = &[
            (GrpcCode::InvalidArgument, ErrorKind::InvalidArgument, false),
            (GrpcCode::Unauthenticated, ErrorKind::TokenExpired, true),
            (
                GrpcCode::PermissionDenied,
                ErrorKind::PermissionDenied,
                false,
            ),
            (GrpcCode::NotFound, ErrorKind::NotFound, false),
            (
                GrpcCode::ResourceExhausted,
                ErrorKind::RequestsExceeded,
                true,
            ),
            (GrpcCode::Internal, ErrorKind::InternalError, true),
            (GrpcCode::Unavailable, ErrorKind::ServiceUnavailable, true),
            (GrpcCode::DeadlineExceeded, ErrorKind::Timeout, true),
            (GrpcCode::Cancelled, ErrorKind::Cancelled, false),
            (GrpcCode::Unknown, ErrorKind::InternalError, true),
            (GrpcCode::DataLoss, ErrorKind::InternalError, true),
            (GrpcCode::Unimplemented, ErrorKind::Unimplemented, false),
            (GrpcCode::AlreadyExists, ErrorKind::AlreadyExists, false),
            (GrpcCode::Aborted, ErrorKind::Aborted, false),
            (GrpcCode::OutOfRange, ErrorKind::InvalidArgument, false),
            (
                GrpcCode::FailedPrecondition,
                ErrorKind::FailedPrecondition,
                false,
            ),
        ];
        for (code, kind, retryable) in rows {
            let err = Error::from_grpc(*code, "boom", None);
            assert_eq!(err.kind(), *kind, "{code}");
            assert_eq!(err.is_retryable(), *retryable, "{code}");
            assert_eq!(err.grpc_code(), Some(*code));
            assert_eq!(err.http_status(), None);
            assert_eq!(err.server_message(), Some("boom"));
            assert!(err.to_string().contains("(server: boom)"), "{err}");
        }
        let occ = Resource::new(ResourceKind::Occurrence, "o1", Some("projects/p"));
        let err = Error::from_grpc(GrpcCode::NotFound, "", Some(&occ));
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            "occurrence o1 not found in projects/p; check the name"
        );
        assert_eq!(err.server_message(), None);
    }

    #[test]
    fn grpc_code_numbers_round_trip() {
        for n in 0..=16 {
            let code = GrpcCode::from_i32(n);
            assert_eq!(code.as_i32(), n);
            assert_eq!(GrpcCode::from_name(code.name()), Some(code));
        }
        assert_eq!(GrpcCode::from_i32(17), GrpcCode::Unknown);
        assert_eq!(GrpcCode::from_i32(-1), GrpcCode::Unknown);
        assert_eq!(GrpcCode::from_name("nope"), None);
    }

    #[test]
    fn oci_codes() {
        let manifest = Resource::new(ResourceKind::Manifest, "app:1", Some("p/r"));
        let blob = Resource::new(ResourceKind::Blob, "sha256:00", Some("p/r"));
        let rows: &[(&str, u16, &Resource, ErrorKind)] = &[
            ("BLOB_UNKNOWN", 404, &blob, ErrorKind::BlobNotFound),
            (
                "BLOB_UPLOAD_INVALID",
                400,
                &blob,
                ErrorKind::BlobUploadFailed,
            ),
            (
                "BLOB_UPLOAD_UNKNOWN",
                404,
                &blob,
                ErrorKind::BlobUploadFailed,
            ),
            ("DIGEST_INVALID", 400, &blob, ErrorKind::BlobDigestMismatch),
            (
                "DIGEST_INVALID",
                400,
                &manifest,
                ErrorKind::ManifestDigestMismatch,
            ),
            (
                "MANIFEST_BLOB_UNKNOWN",
                400,
                &manifest,
                ErrorKind::ManifestInvalid,
            ),
            (
                "MANIFEST_INVALID",
                400,
                &manifest,
                ErrorKind::ManifestInvalid,
            ),
            (
                "MANIFEST_UNKNOWN",
                404,
                &manifest,
                ErrorKind::ManifestNotFound,
            ),
            (
                "MANIFEST_UNVERIFIED",
                400,
                &manifest,
                ErrorKind::ManifestInvalid,
            ),
            ("NAME_INVALID", 400, &manifest, ErrorKind::InvalidRepository),
            (
                "NAME_UNKNOWN",
                404,
                &manifest,
                ErrorKind::RepositoryNotFound,
            ),
            ("SIZE_INVALID", 400, &blob, ErrorKind::BlobUploadFailed),
            ("TAG_INVALID", 400, &manifest, ErrorKind::InvalidTag),
            ("UNAUTHORIZED", 401, &manifest, ErrorKind::TokenExpired),
            ("DENIED", 403, &manifest, ErrorKind::RepositoryAccessDenied),
            ("UNSUPPORTED", 405, &blob, ErrorKind::Unimplemented),
            ("TOOMANYREQUESTS", 429, &blob, ErrorKind::RequestsExceeded),
            ("RANGE_INVALID", 416, &blob, ErrorKind::BlobUploadFailed),
            (
                "PAGINATION_NUMBER_INVALID",
                400,
                &blob,
                ErrorKind::InvalidArgument,
            ),
            ("SOMETHING_NEW", 503, &blob, ErrorKind::ServiceUnavailable),
        ];
        for (code, status, resource, kind) in rows {
            let body = format!(
                r#"{{"errors":[{{"code":"{code}","message":"msg {code}","detail":{{"x":1}}}},{{"code":"OTHER"}}]}}"#
            );
            let err = Error::from_oci(*status, body.as_bytes(), Some(resource));
            assert_eq!(err.kind(), *kind, "{code}");
            assert_eq!(err.oci_code(), Some(*code));
            assert_eq!(err.http_status(), Some(*status));
            assert_eq!(err.server_message(), Some(format!("msg {code}").as_str()));
        }
        // A body that is not OCI JSON falls back to the status.
        let err = Error::from_oci(404, b"404 page not found", Some(&manifest));
        assert_eq!(err.kind(), ErrorKind::ManifestNotFound);
        assert_eq!(err.oci_code(), None);
        assert_eq!(err.server_message(), Some("404 page not found"));
    }

    #[test]
    fn messages_say_what_to_do() {
        let err = Error::from_http(404, b"", Some(&repo()));
        assert_eq!(
            err.to_string(),
            "repository r not found in projects/p/locations/us-central1; check the name or the location"
        );
        let err = Error::from_http(
            403,
            &google_body(403, "PERMISSION_DENIED", "no"),
            Some(&repo()),
        );
        assert!(
            err.to_string().contains("roles/artifactregistry.reader"),
            "{err}"
        );
    }

    #[test]
    fn error_details_refine_the_kind() {
        let body = br#"{"error":{"code":403,"status":"PERMISSION_DENIED","message":"API disabled",
            "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED"}]}}"#;
        assert_eq!(
            Error::from_http(403, body, None).kind(),
            ErrorKind::ProjectAccessDenied
        );
        let body = br#"[{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"slow down",
            "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"12.5s"}]}}]"#;
        let err = Error::from_http(429, body, None);
        assert_eq!(err.kind(), ErrorKind::RequestsExceeded);
        assert_eq!(err.retry_after(), Some(Duration::from_millis(12_500)));
        let body = google_body(429, "RESOURCE_EXHAUSTED", "Storage quota exceeded");
        let err = Error::from_http(429, &body, None);
        assert_eq!(err.kind(), ErrorKind::StorageExceeded);
        assert!(!err.is_retryable());
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            assert!(seen.insert(kind.code()), "duplicate {}", kind.code());
            assert_eq!(ErrorKind::from_code(kind.code()), Some(*kind));
        }
    }

    #[test]
    fn retry_policies_follow_the_table() {
        let q = RetryClass::Quota.default_policy();
        assert_eq!(q.max_attempts, 5);
        assert_eq!(q.backoff(1), Duration::from_secs(30));
        assert_eq!(q.backoff(2), Duration::from_secs(60));
        assert!(q.honour_retry_after);
        let i = RetryClass::Internal.default_policy();
        assert_eq!(
            (i.max_attempts, i.backoff(1), i.backoff(2)),
            (3, Duration::from_secs(1), Duration::from_secs(2))
        );
        let u = RetryClass::Unavailable.default_policy();
        assert_eq!(
            (u.max_attempts, u.backoff(1), u.backoff(2)),
            (3, Duration::from_secs(2), Duration::from_secs(4))
        );
        let t = RetryClass::Timeout.default_policy();
        assert_eq!(
            (t.max_attempts, t.backoff(1), t.backoff(2)),
            (3, Duration::from_secs(1), Duration::from_secs(1))
        );
        assert_eq!(RetryClass::Never.default_policy().max_attempts, 1);
        assert_eq!(
            RetryClass::AfterTokenRefresh.default_policy().max_attempts,
            2
        );
        // Growth is capped.
        assert_eq!(q.backoff(40), Duration::from_secs(300));
    }

    #[test]
    fn source_chain_and_debug() {
        let err = Error::new(ErrorKind::TokenRefreshFailed, "refused")
            .with_server_message("invalid_grant");
        assert_eq!(err.server_message(), Some("invalid_grant"));
        assert!(!Error::new(ErrorKind::TlsHandshakeFailed, "x").is_retryable());
        let open = Error::new(ErrorKind::CircuitOpen, "x");
        assert!(open.is_circuit_open() && open.is_server() && !open.is_retryable());
        let io = std::io::Error::other("disk full");
        let err = Error::new(ErrorKind::Io, "writing layer failed").with_source(io);
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk full"));
        assert_eq!(err.to_string(), "writing layer failed");
        assert!(format!("{err:?}").contains("Io"));
    }
}
