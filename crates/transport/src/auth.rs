//! Bearer-token injection, with one token refresh and one retry after a 401.
//!
//! ```
//! use std::sync::Arc;
//! use gar_auth::{CachedTokenProvider, SecretString, StaticToken};
//! use gar_transport::auth::AuthLayer;
//! use gar_transport::{ClientConfig, HttpsClient};
//! use tower::ServiceBuilder;
//!
//! let tokens = CachedTokenProvider::new(StaticToken::new(SecretString::new("ya29.t")));
//! let client = HttpsClient::new(&ClientConfig::default()).unwrap();
//! let service = ServiceBuilder::new()
//!     .layer(AuthLayer::new(Arc::new(tokens)))
//!     .service(client);
//! # drop(service);
//! ```

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use gar_auth::{AccessToken, TokenProvider};
use gar_core::{Error, ErrorKind};
use http::{HeaderValue, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::Body;
use crate::util::{call, grpc_status, try_clone_request};

/// Adds `Authorization: Bearer` to requests that carry no `Authorization` yet.
#[derive(Clone)]
pub struct AuthLayer {
    provider: Arc<dyn TokenProvider>,
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("provider", &self.provider)
            .finish()
    }
}

impl AuthLayer {
    /// Tokens come from `provider` (usually a [`gar_auth::CachedTokenProvider`]).
    pub fn new(provider: Arc<dyn TokenProvider>) -> Self {
        Self { provider }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            provider: self.provider.clone(),
        }
    }
}

/// The service of [`AuthLayer`].
///
/// When the server answers 401 (or gRPC `UNAUTHENTICATED`), the token is
/// invalidated, a new one fetched, and a replayable request sent once more; a
/// second 401 is returned to the caller. Requests that already carry an
/// `Authorization` header (a registry token, say) pass untouched.
#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    provider: Arc<dyn TokenProvider>,
}

impl<S: fmt::Debug> fmt::Debug for Auth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("inner", &self.inner)
            .field("provider", &self.provider)
            .finish()
    }
}

fn authorize(request: &mut Request<Body>, token: &AccessToken) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(token.bearer_header().expose_secret()).map_err(|_| {
        Error::new(
            ErrorKind::TokenRefreshFailed,
            "the access token holds characters an HTTP header cannot carry",
        )
    })?;
    value.set_sensitive(true);
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, value);
    Ok(())
}

fn is_unauthenticated(response: &Response<Body>) -> bool {
    response.status() == StatusCode::UNAUTHORIZED
        || grpc_status(response.headers()).is_some_and(|(code, _)| code == 16)
}

impl<S> Service<Request<Body>> for Auth<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = future::ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let mut inner = self.inner.clone();
        std::mem::swap(&mut inner, &mut self.inner);
        let provider = self.provider.clone();
        future::ResponseFuture::new(async move {
            if request.headers().contains_key(http::header::AUTHORIZATION) {
                return call(&mut inner, request).await;
            }
            let token = provider.token().await?;
            let again = try_clone_request(&request);
            authorize(&mut request, &token)?;
            let response = call(&mut inner, request).await?;
            if !is_unauthenticated(&response) {
                return Ok(response);
            }
            tracing::debug!("the server rejected the access token; refreshing it once");
            provider.invalidate(&token);
            let Some(mut again) = again else {
                return Ok(response);
            };
            let fresh = provider.token().await?;
            if fresh.secret() == token.secret() {
                // The provider cannot do better (a static token): the 401 stands.
                return Ok(response);
            }
            drop(response);
            authorize(&mut again, &fresh)?;
            call(&mut inner, again).await
        })
    }
}

pub mod future {
    //! The future of the [`Auth`](super::Auth) service.
    response_future!("Auth");
}
