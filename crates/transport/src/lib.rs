//! `gar-transport`: one hardened HTTP stack for REST, OCI and gRPC.
//!
//! - [`HttpsClient`]: hyper 1 with hyper-util's pool and rustls (ring): TLS 1.2 and
//!   1.3 only, certificates verified against the Mozilla roots plus any
//!   [`TlsConfig`] adds, optional client certificate (mTLS), HTTP/1.1 and HTTP/2
//!   (ALPN, or prior knowledge for plain-HTTP gRPC), connect timeout.
//! - Tower layers, one module each, every one a `Service<http::Request<Body>>`:
//!   [`auth`] (bearer tokens; one refresh and retry after a 401), [`retry`]
//!   (design.md's table, `Retry-After`, jitter, idempotent and replayable requests
//!   only), [`breaker`] (one circuit per host), [`timeout`], [`observe`] (`gar.*`
//!   spans and `gar_*` metrics), [`record`] (cassettes, and replay without network).
//! - [`Transport`]: the assembled stack, a cheap-to-clone tower service; also the
//!   [`gar_auth::HttpClient`] credential sources use ([`Transport::token_http`]).
//!   Every request it sends carries `User-Agent: <product> gar/<version>`
//!   ([`TransportBuilder::user_agent`]; `gar/<version>` by default) unless the
//!   request set its own.
//! - [`Body`]: full (replayable) or streaming (bounded memory) bodies.
//! - [`grpc`]: carrying tonic over the stack.
//!
//! Every HTTP status comes back as a response (the service crates turn error
//! answers into [`gar_core::Error`]s with their own resource context); the
//! stack's own errors are [`gar_core::Error`]s of the Network kinds, an open
//! circuit (`CircuitOpen`), a failed TLS handshake (`TlsHandshakeFailed`), or the
//! Authentication kinds.

#![forbid(unsafe_code)]

#[macro_use]
mod util;

pub mod auth;
mod body;
pub mod breaker;
mod client;
pub mod clock;
mod errors;
pub mod grpc;
pub mod observe;
pub mod record;
pub mod redact;
pub mod retry;
pub mod timeout;
mod transport;

pub use body::{Body, BoxError};
pub use client::{ClientConfig, HttpsClient, TlsConfig};
pub use errors::{is_circuit_open, is_not_recorded, is_tls_failure};
pub use transport::{GAR_PRODUCT, Transport, TransportBuilder, user_agent_value};
