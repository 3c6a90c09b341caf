//! The identity endpoints: the OAuth2 token endpoint (`/token`), the metadata
//! server (`/computeMetadata/v1/...`) and the Docker token endpoint (`/v2/token`).

use http::header::{CONTENT_TYPE, HeaderName};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::keys::Jwt;
use super::{AuthError, Caller, Permission, Principal, TOKEN_LIFETIME};
use crate::oci::{self, error::OciError};
use crate::router::Ctx;
use crate::wire::{self, Resp, first, header, parse_pairs, query_of};

/// An OAuth2 error answer (`{"error","error_description"}`).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Resp {
    wire::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn token_answer(token: &str, expires_in: i64, scope: Option<&str>) -> Resp {
    let mut body = json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"});
    if let (Some(scope), Some(obj)) = (scope, body.as_object_mut()) {
        obj.insert("scope".into(), Value::String(scope.to_owned()));
    }
    wire::json(StatusCode::OK, &body)
}

/// `POST /token`: the JWT-bearer grant of service accounts and the
/// refresh-token grant of users, as Google's token endpoint answers them.
pub(crate) async fn oauth_token(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    if req.method() != Method::POST {
        return oauth_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "the token endpoint takes POST",
        );
    }
    let is_json =
        header(req.headers(), CONTENT_TYPE).is_some_and(|c| c.starts_with("application/json"));
    let Ok(body) = wire::read_limited(req.into_body(), 64 * 1024).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is unreadable",
        );
    };
    let params: Vec<(String, String)> = if is_json {
        match serde_json::from_slice::<serde_json::Map<String, Value>>(&body) {
            Ok(m) => m
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect(),
            Err(_) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the body is not JSON",
                );
            }
        }
    } else {
        parse_pairs(&String::from_utf8_lossy(&body))
    };
    let state = &ctx.state;
    let now = state.clock.unix();
    match first(&params, "grant_type") {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let Some(assertion) = first(&params, "assertion") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing required parameter: assertion",
                );
            };
            match jwt_bearer(ctx, assertion, now) {
                Ok((principal, scope)) => {
                    let (token, expires_in) = state.identity.issue(principal, now);
                    token_answer(&token, expires_in - 1, scope.as_deref())
                }
                Err(description) => {
                    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &description)
                }
            }
        }
        Some("refresh_token") => {
            let refresh = first(&params, "refresh_token").unwrap_or_default();
            let client_id = first(&params, "client_id");
            let client_secret = first(&params, "client_secret");
            let found = {
                let dir = state.identity.directory();
                dir.users
                    .iter()
                    .find(|(_, u)| u.refresh_tokens.iter().any(|t| t == refresh))
                    .map(|(email, u)| (email.clone(), u.clone()))
            };
            let Some((email, user)) = found else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request");
            };
            if user
                .client_id
                .as_deref()
                .is_some_and(|c| Some(c) != client_id)
                || user
                    .client_secret
                    .as_deref()
                    .is_some_and(|c| Some(c) != client_secret)
            {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "The OAuth client was not found.",
                );
            }
            let (token, expires_in) = state.identity.issue(Principal::User(email), now);
            token_answer(&token, expires_in - 1, first(&params, "scope"))
        }
        Some(other) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type",
        ),
    }
}

/// Verifies a JWT-bearer assertion: known issuer, RS256 signature by one of its
/// keys, audience the token endpoint, a lifetime of at most an hour around now.
fn jwt_bearer(ctx: &Ctx, assertion: &str, now: i64) -> Result<(Principal, Option<String>), String> {
    let jwt = Jwt::parse(assertion).map_err(|e| format!("Invalid JWT: {e:?}"))?;
    let iss = jwt
        .claim("iss")
        .ok_or("Invalid JWT: the claim set has no iss")?
        .to_owned();
    let keys: Vec<_> = {
        let dir = ctx.state.identity.directory();
        let sa = dir
            .service_accounts
            .get(&iss)
            .ok_or_else(|| format!("Invalid grant: account not found ({iss})"))?;
        sa.keys
            .iter()
            .filter(|(id, _)| match (jwt.kid(), id) {
                (Some(kid), Some(id)) => kid == id,
                _ => true,
            })
            .map(|(_, k)| k.clone())
            .collect()
    };
    if keys.is_empty() {
        return Err(format!(
            "Invalid JWT Signature: no key {} for {iss}",
            jwt.kid().unwrap_or("")
        ));
    }
    jwt.verify(&keys).map_err(|e| match e {
        super::keys::JwtError::Signature => "Invalid JWT Signature.".to_owned(),
        other => format!("Invalid JWT: {other:?}"),
    })?;
    let aud = jwt.claim("aud").unwrap_or_default();
    let aud_ok =
        aud.ends_with("/token") && (aud.starts_with("https://") || aud.starts_with("http://"));
    if !aud_ok {
        return Err(format!(
            "Invalid JWT: the audience {aud:?} is not a token endpoint (such as {}/token)",
            ctx.base_url()
        ));
    }
    let (Some(iat), Some(exp)) = (jwt.number("iat"), jwt.number("exp")) else {
        return Err("Invalid JWT: iat and exp are required".into());
    };
    let skew = 300;
    if exp <= now - skew || iat > now + skew || exp - iat > TOKEN_LIFETIME + skew || exp <= iat {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    if jwt.claim("target_audience").is_some() {
        return Err("ID tokens (target_audience) are not issued by this emulator".into());
    }
    Ok((
        Principal::ServiceAccount(iss),
        jwt.claim("scope").map(str::to_owned),
    ))
}

fn metadata_text(status: StatusCode, body: &str) -> Resp {
    let mut r = wire::text(status, body);
    wire::set_header(&mut r, HeaderName::from_static("metadata-flavor"), "Google");
    r
}

fn metadata_json(value: &Value) -> Resp {
    let mut r = wire::json(StatusCode::OK, value);
    wire::set_header(&mut r, HeaderName::from_static("metadata-flavor"), "Google");
    r
}

/// The metadata server: `/computeMetadata/v1/instance/service-accounts/{default|email}/{token,email,scopes}`,
/// `/computeMetadata/v1/project/{project-id,numeric-project-id}`; every request
/// needs `Metadata-Flavor: Google`, as on GCE.
pub(crate) async fn metadata(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let flavor_ok = header(req.headers(), "metadata-flavor").is_some_and(|v| v == "Google");
    if !flavor_ok {
        return metadata_text(
            StatusCode::FORBIDDEN,
            "Missing required header: Metadata-Flavor (expected \"Google\")\n",
        );
    }
    if req.headers().contains_key("x-forwarded-for") {
        return metadata_text(
            StatusCode::FORBIDDEN,
            "Requests with X-Forwarded-For are refused\n",
        );
    }
    if req.method() != Method::GET {
        return metadata_text(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed\n");
    }
    let path = req.uri().path();
    if path == "/" || path == "/computeMetadata" || path == "/computeMetadata/" {
        return metadata_text(StatusCode::OK, "computeMetadata/\n");
    }
    let q = query_of(req.uri());
    let Some(md) = ctx.state.identity.directory().metadata.clone() else {
        return metadata_text(
            StatusCode::NOT_FOUND,
            "This emulator's seed declares no metadata identity\n",
        );
    };
    let rest = path.trim_start_matches("/computeMetadata/v1/");
    match rest.trim_end_matches('/') {
        "" | "/computeMetadata/v1" => {
            return metadata_text(StatusCode::OK, "instance/\nproject/\n");
        }
        "project" => return metadata_text(StatusCode::OK, "numeric-project-id\nproject-id\n"),
        "project/project-id" => return metadata_text(StatusCode::OK, &md.project_id),
        "project/numeric-project-id" => return metadata_text(StatusCode::OK, &md.project_number),
        "instance/service-accounts" => {
            return metadata_text(
                StatusCode::OK,
                &format!("default/\n{}/\n", md.service_account),
            );
        }
        _ => {}
    }
    let Some(sa_path) = rest.strip_prefix("instance/service-accounts/") else {
        return metadata_text(StatusCode::NOT_FOUND, "Not found\n");
    };
    let (account, leaf) = sa_path.split_once('/').unwrap_or((sa_path, ""));
    if account != "default" && account != md.service_account {
        return metadata_text(StatusCode::NOT_FOUND, "Not found\n");
    }
    match leaf.trim_end_matches('/') {
        "token" => {
            let state = &ctx.state;
            let (token, expires_in) = state.identity.issue(
                Principal::ServiceAccount(md.service_account.clone()),
                state.clock.unix(),
            );
            let mut r = metadata_json(
                &json!({"access_token": token, "expires_in": expires_in - 1, "token_type": "Bearer"}),
            );
            if let Some(scopes) = first(&q, "scopes") {
                // Accepted as GCE does; the emulator does not narrow tokens by scope.
                let _ = scopes;
            }
            wire::set_header(&mut r, CONTENT_TYPE, "application/json");
            r
        }
        "email" => metadata_text(StatusCode::OK, &md.service_account),
        "scopes" => metadata_text(StatusCode::OK, &format!("{}\n", md.scopes.join("\n"))),
        "aliases" => metadata_text(StatusCode::OK, "default\n"),
        "" if first(&q, "recursive") == Some("true") => metadata_json(&json!({
            "aliases": ["default"],
            "email": md.service_account,
            "scopes": md.scopes,
        })),
        "" => metadata_text(StatusCode::OK, "aliases\nemail\nidentity\nscopes\ntoken\n"),
        _ => metadata_text(StatusCode::NOT_FOUND, "Not found\n"),
    }
}

/// The IAM permission a registry action needs.
pub(crate) fn action_permission(action: &str) -> Permission {
    match action {
        "pull" => Permission::Read,
        "push" => Permission::Write,
        _ => Permission::Delete,
    }
}

/// `GET /v2/token?service=...&scope=repository:{p}/{r}/{img}:pull,push`: a
/// registry token carrying the requested actions the caller holds.
pub(crate) async fn docker_token(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let state = &ctx.state;
    let now = state.clock.unix();
    let caller = match state.identity.authenticate(req.headers(), now) {
        Ok(Caller::Principal { principal, .. }) => Some(principal),
        Ok(Caller::Anonymous | Caller::AnonymousToken(_)) => None,
        Err(e) => {
            let message = match e {
                AuthError::Expired => "the access token has expired; refresh it".to_owned(),
                AuthError::Invalid(m) => m,
            };
            return oci::error::respond(ctx, OciError::unauthorized(&message), None);
        }
    };
    let q = query_of(req.uri());
    let mut access = Vec::new();
    for (_, value) in q.iter().filter(|(k, _)| k == "scope") {
        for scope in value.split(' ').filter(|s| !s.is_empty()) {
            let Some((kind, rest)) = scope.split_once(':') else {
                continue;
            };
            let Some((name, actions)) = rest.rsplit_once(':') else {
                continue;
            };
            if kind != "repository" {
                continue;
            }
            let repo = oci::OciName::parse(name)
                .ok()
                .and_then(|n| oci::resolve_repository(ctx, &n).map(|r| r.name));
            let granted: Vec<String> = actions
                .split(',')
                .filter(|a| !a.is_empty())
                .filter(|a| match &repo {
                    Some(r) => state
                        .identity
                        .allowed(caller.as_ref(), r, action_permission(a)),
                    // Unknown repositories: granted, so that the registry answers 404 NAME_UNKNOWN.
                    None => caller.is_some(),
                })
                .map(str::to_owned)
                .collect();
            access.push((name.to_owned(), granted));
        }
    }
    let token = state.identity.issue_registry(caller, access, now);
    wire::json(
        StatusCode::OK,
        &json!({
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_LIFETIME,
            "issued_at": state.clock.now().to_string(),
        }),
    )
}
