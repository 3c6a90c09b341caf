//! The admin surface under `/_emulator/`, answered only to loopback peers:
//!
//! | request | effect |
//! | --- | --- |
//! | `GET /_emulator/health` | `{"status":"ok"}` |
//! | `GET /_emulator/faults` | the rules with their `fired` counters |
//! | `POST /_emulator/faults` | add a rule, or `{"seed": n, "rules": [...]}`; answers the ids |
//! | `DELETE /_emulator/faults[/{id}]` | remove all rules, or one |
//! | `GET /_emulator/requests` | the request log (`?operation=` pattern filter) |
//! | `DELETE /_emulator/requests` | clear the log |
//! | `POST /_emulator/clock` | `{"advanceSeconds": n}`: move the clock (token expiry) |
//! | `POST /_emulator/tokens` | `{"principal": "user:a@b"}`: mint an access token |
//! | `POST /_emulator/cleanup` | run the cleanup policies (`{"repository"?, "now"?, "dryRun"?}`); answers the report |
//! | `GET/POST /_emulator/operations` | `{"pendingPolls": n}`: new long-running operations stay pending for n polls |

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Mutex;

use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::faults::{FaultRule, glob};
use crate::identity::Principal;
use crate::router::Ctx;
use crate::state::lock;
use crate::wire::{self, Resp, first, query_of};

/// How many requests the log keeps.
const LOG_CAPACITY: usize = 10_000;

/// One logged request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// When it arrived (RFC 3339).
    pub time: String,
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The raw query.
    pub query: String,
    /// The operation (see the fault module).
    pub operation: String,
    /// The status answered; `None` when the connection was dropped.
    pub status: Option<u16>,
    /// The fault rule that fired, if any.
    pub fault: Option<String>,
    /// The scheme of its `Authorization` header (`Bearer`, `Basic`), if any.
    pub authorization: Option<String>,
    /// Its `User-Agent` header, as received.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The location it was about: named by its registry host
    /// (`X-Forwarded-Host`, else `Host`: `europe-west1-docker.pkg.dev`), else
    /// by the `/locations/{location}/` of its path.
    #[serde(default)]
    pub location: Option<String>,
    /// Time until the response head, in milliseconds.
    pub duration_ms: u64,
}

/// The request log: a bounded ring.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<RequestRecord>>,
}

impl RequestLog {
    /// Appends a record, dropping the oldest past capacity.
    pub(crate) fn push(&self, r: RequestRecord) {
        let mut e = lock(&self.entries);
        if e.len() >= LOG_CAPACITY {
            e.pop_front();
        }
        e.push_back(r);
    }

    /// Every record, oldest first.
    pub(crate) fn all(&self) -> Vec<RequestRecord> {
        lock(&self.entries).iter().cloned().collect()
    }

    /// Empties the log.
    pub(crate) fn clear(&self) {
        lock(&self.entries).clear();
    }
}

/// Whether a peer may use the admin surface.
pub(crate) fn admin_allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

fn bad(message: &str) -> Resp {
    wire::google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

async fn body_json(req: Request<Incoming>) -> Result<Value, Resp> {
    let bytes = wire::read_limited(req.into_body(), 1 << 20)
        .await
        .map_err(|_| bad("the body is unreadable or over 1 MiB"))?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| bad(&format!("the body is not JSON: {e}")))
}

/// Serves `/_emulator/...`.
pub(crate) async fn handle(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    if !admin_allowed(ctx.peer.ip()) {
        return wire::google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "the admin surface answers only on loopback",
        );
    }
    let state = &ctx.state;
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let method = req.method().clone();
    match (method, path.as_str()) {
        (Method::GET, "/_emulator/health") => wire::json(StatusCode::OK, &json!({"status": "ok"})),
        (Method::GET, "/_emulator/faults") => {
            wire::json(StatusCode::OK, &json!({"rules": state.faults.list()}))
        }
        (Method::POST, "/_emulator/faults") => {
            let body = match body_json(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let (seed, rules) = match body.get("rules") {
                Some(rules) => (body.get("seed").and_then(Value::as_u64), rules.clone()),
                None => (
                    body.get("seed").and_then(Value::as_u64),
                    Value::Array(vec![body.clone()]),
                ),
            };
            let rules: Vec<FaultRule> = match serde_json::from_value(rules) {
                Ok(r) => r,
                Err(e) => return bad(&format!("not a fault rule: {e}")),
            };
            if let Some(seed) = seed {
                state.faults.reseed(seed);
            }
            if let Some(err) = rules.iter().find_map(|r| r.validate().err()) {
                return bad(&err);
            }
            let mut ids = Vec::new();
            for rule in rules {
                match state.faults.add(rule) {
                    Ok(id) => ids.push(id),
                    Err(e) => return bad(&e),
                }
            }
            wire::json(StatusCode::OK, &json!({"ids": ids}))
        }
        (Method::DELETE, "/_emulator/faults") => {
            state.faults.clear();
            wire::json(StatusCode::OK, &json!({}))
        }
        (Method::DELETE, p) if p.starts_with("/_emulator/faults/") => {
            let id = p.trim_start_matches("/_emulator/faults/");
            if state.faults.remove(id) {
                wire::json(StatusCode::OK, &json!({}))
            } else {
                wire::google_error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    &format!("no fault rule {id}"),
                )
            }
        }
        (Method::GET, "/_emulator/requests") => {
            let q = query_of(req.uri());
            let filter = first(&q, "operation").map(str::to_owned);
            let records: Vec<RequestRecord> = state
                .requests
                .all()
                .into_iter()
                .filter(|r| filter.as_deref().is_none_or(|f| glob(f, &r.operation)))
                .collect();
            wire::json(StatusCode::OK, &json!({"requests": records}))
        }
        (Method::DELETE, "/_emulator/requests") => {
            state.requests.clear();
            wire::json(StatusCode::OK, &json!({}))
        }
        (Method::POST, "/_emulator/clock") => {
            let body = match body_json(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let Some(secs) = body.get("advanceSeconds").and_then(Value::as_i64) else {
                return bad("expected {\"advanceSeconds\": n}");
            };
            state.clock.advance(secs);
            wire::json(
                StatusCode::OK,
                &json!({"now": state.clock.now().to_string()}),
            )
        }
        (Method::POST, "/_emulator/tokens") => {
            let body = match body_json(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let Some(principal) = body
                .get("principal")
                .and_then(Value::as_str)
                .and_then(Principal::parse)
            else {
                return bad("expected {\"principal\": \"user:EMAIL\" | \"serviceAccount:EMAIL\"}");
            };
            if !state.identity.knows(&principal) {
                return wire::google_error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    &format!("{principal} is not declared by the seed"),
                );
            }
            let (token, expires_in) = state.identity.issue(principal, state.clock.unix());
            wire::json(
                StatusCode::OK,
                &json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"}),
            )
        }
        (Method::POST, "/_emulator/cleanup") => crate::rest::admin_cleanup(ctx, req).await,
        (Method::GET | Method::POST, "/_emulator/operations") => {
            crate::rest::admin_operations(ctx, req).await
        }
        (_, p) => wire::google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("no admin endpoint {p}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_admin() {
        assert!(admin_allowed("127.0.0.1".parse().unwrap()));
        assert!(admin_allowed("127.8.9.1".parse().unwrap()));
        assert!(admin_allowed("::1".parse().unwrap()));
        assert!(admin_allowed("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!admin_allowed("10.0.0.1".parse().unwrap()));
        assert!(!admin_allowed("192.168.1.2".parse().unwrap()));
        assert!(!admin_allowed("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!admin_allowed("2001:db8::1".parse().unwrap()));
    }
}
