//! `gar-auth`: where gar's access tokens come from.
//!
//! - Credential sources, each a [`TokenProvider`]: [`ServiceAccountCredentials`]
//!   (JWT-bearer grant, RS256), [`AuthorizedUser`] (refresh-token grant),
//!   [`MetadataServer`] (GCE, GKE Workload Identity; honours `GCE_METADATA_HOST`),
//!   [`ExternalAccount`] (workload identity federation), [`StaticToken`].
//! - [`ApplicationDefault`]: the ADC search (`GOOGLE_APPLICATION_CREDENTIALS`,
//!   gcloud's well-known file, the metadata server), and [`Credentials`], which
//!   reads a credentials file of any supported `type`.
//! - [`CachedTokenProvider`]: expiry, background refresh at 80 % of a token's
//!   lifetime, single-flight fetching, invalidation after a 401.
//! - [`SecretString`]: keys and tokens that `Debug`, `Display`, logs and spans
//!   never show.
//!
//! gar-auth sends its few requests through the [`HttpClient`] seam; the transport
//! crate provides the implementation. Failures are [`gar_core::Error`]s of the
//! Authentication kinds: `CredentialsNotFound` (listing every place searched),
//! `ServiceAccountInvalid` (naming the bad field), `TokenRefreshFailed` (quoting
//! the server's answer).
//!
//! The grants are small and written here rather than taken from yup-oauth2: it
//! hard-codes Google's endpoints for user credentials and impersonation, ignores
//! `GCE_METADATA_HOST`, keeps a token cache of its own (which would defeat the
//! single-flight cache and 401 invalidation), builds its own HTTP client outside
//! the transport's TLS settings, and reports errors without the field or server
//! answer gar's taxonomy asks for.

#![forbid(unsafe_code)]

mod adc;
mod cache;
mod external;
mod http;
mod metadata;
mod oauth;
mod secret;
mod service_account;
mod token;
mod user;

pub use adc::{ApplicationDefault, CREDENTIALS_ENV, Credentials};
pub use cache::CachedTokenProvider;
pub use external::ExternalAccount;
pub use http::{HttpClient, HttpFuture};
pub use metadata::{DEFAULT_METADATA_HOST, METADATA_HOST_ENV, MetadataServer};
pub use secret::SecretString;
pub use service_account::{GOOGLE_TOKEN_URI, ServiceAccountCredentials, ServiceAccountKey};
pub use token::{
    AccessToken, CLOUD_PLATFORM_READ_ONLY_SCOPE, CLOUD_PLATFORM_SCOPE, StaticToken, TokenFuture,
    TokenProvider,
};
pub use user::AuthorizedUser;
