//! The one entry point of every request: classify it into a surface and an
//! operation, apply fault rules, dispatch to the surface's handler, log it.
//!
//! Surfaces, by what the request looks like:
//!
//! | request | surface | module |
//! | --- | --- | --- |
//! | `content-type: application/grpc*` | Container Analysis / Grafeas over gRPC | `analysis` |
//! | `/_emulator/...` | admin (loopback only) | `admin` |
//! | `/token`, `/oauth2/v4/token` | OAuth2 token endpoint | `identity::endpoints` |
//! | `/computeMetadata/...`, `/` with `Metadata-Flavor` | metadata server | `identity::endpoints` |
//! | `/v2/token` | Docker token endpoint | `identity::endpoints` |
//! | `/v2/...` | Docker/OCI Distribution | `oci` |
//! | `/v1/projects/{p}[/locations/{l}]/{occurrences,notes}...` | Container Analysis REST | `analysis` |
//! | `/v1/...` | Artifact Registry REST v1 | `rest` |
//!
//! A new surface adds a [`Route`] variant, a line in [`classify`] and an arm in
//! [`dispatch`]; faults, logging and the admin surface then apply to it unchanged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::header::{CONTENT_TYPE, HOST, RETRY_AFTER};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::faults::Effect;
use crate::oci;
use crate::state::State;
use crate::wire::{self, Body, BodyFault, BoxError, FaultyBody, Resp, header};

/// What a handler knows about its request besides the request itself.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The shared state.
    pub state: Arc<State>,
    /// The peer's address.
    pub peer: SocketAddr,
    /// The authority the client used (`Host`), for absolute URLs it is given back.
    pub host: String,
    /// The registry host the client meant when it names one in
    /// `X-Forwarded-Host` (a proxy, or gar's emulator mode telling which
    /// location's `{location}-docker.pkg.dev` a request is for). It selects the
    /// location like `Host` does; absolute URLs keep using `host`.
    pub forwarded_host: Option<String>,
}

impl Ctx {
    /// The host that selects the registry's location: `X-Forwarded-Host`, else `Host`.
    pub(crate) fn registry_host(&self) -> &str {
        self.forwarded_host.as_deref().unwrap_or(&self.host)
    }

    /// The location a request is about: the one its registry host names
    /// (`europe-west1-docker.pkg.dev`), else the `/locations/{location}/`
    /// segment of its path (REST).
    pub(crate) fn location_of(&self, path: &str) -> Option<String> {
        crate::state::location_of_host(self.registry_host()).or_else(|| {
            let rest = path.split_once("/locations/")?.1;
            let location = rest.split('/').next()?;
            (!location.is_empty()).then(|| location.to_owned())
        })
    }

    /// `http://{host}`: the base URL as the client sees it.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.host)
    }
}

/// The surface (and, for OCI, the operation) of a request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    /// `/_emulator/...`.
    Admin,
    /// A gRPC call (Container Analysis).
    Grpc,
    /// The OAuth2 token endpoint.
    OAuthToken,
    /// The metadata server (`token`: an access-token request).
    Metadata {
        /// Whether the path asks for a token.
        token: bool,
    },
    /// The Docker token endpoint.
    DockerToken,
    /// The OCI Distribution API.
    Oci(oci::Route),
    /// The Artifact Registry REST API.
    Rest,
    /// The Container Analysis REST API.
    AnalysisRest,
    /// Anything else.
    NotFound,
}

impl Route {
    /// The operation name fault rules and the request log use.
    pub(crate) fn operation(&self, method: &Method) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Grpc => "grpc",
            Self::OAuthToken => "oauth.token",
            Self::Metadata { token: true } => "metadata.token",
            Self::Metadata { token: false } => "metadata.get",
            Self::DockerToken => "oci.token",
            Self::Oci(r) => r.operation(method),
            Self::Rest => "rest",
            Self::AnalysisRest => "analysis.rest",
            Self::NotFound => "unknown",
        }
    }

    fn is_oci(&self) -> bool {
        matches!(self, Self::Oci(_) | Self::DockerToken)
    }
}

/// Classifies a request by its path, method and content type.
pub(crate) fn classify<B>(req: &Request<B>) -> Route {
    let path = req.uri().path();
    if header(req.headers(), CONTENT_TYPE).is_some_and(|c| c.starts_with("application/grpc")) {
        return Route::Grpc;
    }
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Route::Admin;
    }
    if path == "/token" || path == "/oauth2/v4/token" || path == "/oauth2/v3/token" {
        return Route::OAuthToken;
    }
    if path.starts_with("/computeMetadata/") || path == "/computeMetadata" {
        return Route::Metadata {
            token: path.trim_end_matches('/').ends_with("/token"),
        };
    }
    if path == "/" && req.headers().contains_key("metadata-flavor") {
        return Route::Metadata { token: false };
    }
    if path == "/v2/token" {
        return Route::DockerToken;
    }
    if path == "/v2" || path.starts_with("/v2/") {
        return match oci::classify(req.method(), path) {
            Some(r) => Route::Oci(r),
            None => Route::NotFound,
        };
    }
    if path.starts_with("/v1/") {
        if crate::analysis::is_analysis_path(path) {
            return Route::AnalysisRest;
        }
        return Route::Rest;
    }
    Route::NotFound
}

/// Serves one request: the service function of every connection.
pub(crate) async fn serve(ctx: Ctx, req: Request<Incoming>) -> Result<Resp, BoxError> {
    let started = Instant::now();
    let route = classify(&req);
    if route == Route::Admin {
        return Ok(crate::admin::handle(&ctx, req).await);
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let operation = route.operation(&method);
    let auth = header(req.headers(), http::header::AUTHORIZATION)
        .and_then(|a| a.split(' ').next())
        .map(str::to_owned);
    let location = ctx.location_of(&path);
    let user_agent = header(req.headers(), http::header::USER_AGENT).map(str::to_owned);
    let decision = ctx
        .state
        .faults
        .decide(method.as_str(), &path, operation, location.as_deref());
    if let Some(ms) = decision.as_ref().and_then(|d| d.delay_ms) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let fault = decision.as_ref().map(|d| d.rule.clone());
    let record = |status: Option<u16>| crate::admin::RequestRecord {
        time: ctx.state.clock.now().to_string(),
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        operation: operation.to_owned(),
        status,
        fault: fault.clone(),
        authorization: auth.clone(),
        user_agent: user_agent.clone(),
        location: location.clone(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let resp = match decision.and_then(|d| d.effect) {
        Some(Effect::Status {
            status,
            retry_after,
        }) => fault_response(&route, status, retry_after),
        Some(Effect::Reset) => {
            ctx.state.requests.push(record(None));
            return Err("fault injection: connection reset".into());
        }
        Some(Effect::Truncate(n)) => {
            with_body_fault(dispatch(&ctx, route, req).await, BodyFault::Truncate(n))
        }
        Some(Effect::Corrupt) => {
            with_body_fault(dispatch(&ctx, route, req).await, BodyFault::Corrupt)
        }
        None => dispatch(&ctx, route, req).await,
    };
    ctx.state
        .requests
        .push(record(Some(resp.status().as_u16())));
    Ok(resp)
}

fn with_body_fault(resp: Resp, fault: BodyFault) -> Resp {
    resp.map(|b: Body| FaultyBody::new(b, fault).boxed_unsync())
}

async fn dispatch(ctx: &Ctx, route: Route, req: Request<Incoming>) -> Resp {
    match route {
        Route::Oci(r) => oci::handle(ctx, r, req).await,
        Route::DockerToken => crate::identity::endpoints::docker_token(ctx, req).await,
        Route::OAuthToken => crate::identity::endpoints::oauth_token(ctx, req).await,
        Route::Metadata { .. } => crate::identity::endpoints::metadata(ctx, req).await,
        Route::Grpc => crate::analysis::handle_grpc(ctx, req).await,
        Route::AnalysisRest => crate::analysis::handle_rest(ctx, req).await,
        Route::Rest => crate::rest::handle(ctx, req).await,
        Route::Admin | Route::NotFound => wire::google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("no such endpoint: {} {}", req.method(), req.uri().path()),
        ),
    }
}

/// The gRPC "Trailers-Only" answer `UNIMPLEMENTED` (status 12), for gRPC methods the
/// emulator does not serve.
pub(crate) fn grpc_unimplemented(path: &str) -> Resp {
    grpc_status(
        12,
        &format!("method {path} is not implemented by this emulator"),
    )
}

/// A gRPC Trailers-Only response with `code`.
pub(crate) fn grpc_status(code: u16, message: &str) -> Resp {
    let mut r = wire::response(StatusCode::OK, wire::empty());
    wire::set_header(&mut r, CONTENT_TYPE, "application/grpc");
    wire::set_header(
        &mut r,
        http::HeaderName::from_static("grpc-status"),
        &code.to_string(),
    );
    wire::set_header(
        &mut r,
        http::HeaderName::from_static("grpc-message"),
        &wire::query_encode(message),
    );
    r
}

fn fault_response(route: &Route, status: u16, retry_after: Option<u64>) -> Resp {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = format!("fault injected by the emulator: {status}");
    let mut resp = if route.is_oci() {
        oci::error::fault(code, &message)
    } else if *route == Route::Grpc {
        let grpc = match status {
            400 => 3,
            401 => 16,
            403 => 7,
            404 => 5,
            409 => 6,
            429 => 8,
            501 => 12,
            503 => 14,
            504 => 4,
            _ => 13,
        };
        grpc_status(grpc, &message)
    } else {
        wire::google_error(code, wire::grpc_status_name(code), &message)
    };
    if let Some(secs) = retry_after {
        wire::set_header(&mut resp, RETRY_AFTER, &secs.to_string());
    }
    resp
}

/// The authority of a request: `Host`, or the URI's, or `fallback`.
pub(crate) fn authority_of<B>(req: &Request<B>, fallback: &str) -> String {
    header(req.headers(), HOST)
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| fallback.to_owned())
}
