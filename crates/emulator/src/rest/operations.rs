//! Long-running operations (`google.longrunning.Operation`).
//!
//! The work of an operation is done when it is requested; what the setting on
//! `/_emulator/operations` (`{"pendingPolls": n}`) changes is what clients see:
//! with `n > 0` the operation is answered as not done, and so are the first `n`
//! polls of `GET /v1/{name}`; the next poll answers it done with its `response`
//! (with `@type`) or `error` (a `google.rpc.Status`).

use std::collections::HashMap;

use gar_core::names::{LocationName, RepositoryName};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::{Map, Value, json};

use super::{Call, On, authorize, invalid, not_found};
use crate::blobs::random_hex;
use crate::identity::Permission;
use crate::router::Ctx;
use crate::wire::{self, Resp};

/// Operations kept at most; the oldest finished ones go first.
const CAPACITY: usize = 10_000;

/// The type URL of `google.protobuf.Empty`.
pub(crate) const EMPTY: &str = "type.googleapis.com/google.protobuf.Empty";
/// The type URL of Artifact Registry's operation metadata.
pub(crate) const METADATA: &str =
    "type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata";

#[derive(Debug)]
struct Stored {
    seq: u64,
    polls_left: u32,
    done: Value,
    /// The repository the operation is about: reading it needs read access there.
    scope: RepositoryName,
}

/// The operations of this run, by name.
#[derive(Debug, Default)]
pub(crate) struct Store {
    next: u64,
    ops: HashMap<String, Stored>,
}

/// How an operation ended: a response (with `@type`) or a `google.rpc.Status`
/// (code, message).
pub(crate) type Outcome = Result<Value, (i32, String)>;

/// Starts an operation about the repository `scope` that ended with `outcome`;
/// returns the answer to the call that started it.
pub(crate) fn start(
    ctx: &Ctx,
    call: &Call,
    scope: &RepositoryName,
    metadata: Value,
    outcome: Outcome,
) -> Resp {
    let parent = scope.parent();
    let name = format!(
        "{parent}/operations/{}-{}-{}-{}-{}",
        random_hex(4),
        random_hex(2),
        random_hex(2),
        random_hex(2),
        random_hex(6)
    );
    let mut done = Map::new();
    done.insert("name".into(), json!(name));
    done.insert("metadata".into(), metadata);
    done.insert("done".into(), json!(true));
    match outcome {
        Ok(response) => done.insert("response".into(), response),
        Err((code, message)) => {
            done.insert("error".into(), json!({"code": code, "message": message}))
        }
    };
    let done = Value::Object(done);
    let polls = ctx.state.rest.pending_polls();
    let mut store = ctx.state.rest.store();
    if store.ops.len() >= CAPACITY
        && let Some(oldest) = store
            .ops
            .iter()
            .min_by_key(|(_, s)| (s.polls_left > 0, s.seq))
            .map(|(k, _)| k.clone())
    {
        store.ops.remove(&oldest);
    }
    store.next += 1;
    let seq = store.next;
    store.ops.insert(
        name,
        Stored {
            seq,
            polls_left: polls,
            done: done.clone(),
            scope: scope.clone(),
        },
    );
    drop(store);
    call.ok(if polls > 0 { pending(&done) } else { done })
}

/// The not-done form of a finished operation.
fn pending(done: &Value) -> Value {
    json!({"name": done.get("name"), "metadata": done.get("metadata")})
}

/// `GET /v1/{parent}/operations/{id}`.
pub(crate) fn get(ctx: &Ctx, call: &Call, parent: &LocationName, id: &str) -> Resp {
    if call.method != Method::GET {
        return invalid("operations are read with GET");
    }
    let name = format!("{parent}/operations/{id}");
    let scope = ctx
        .state
        .rest
        .store()
        .ops
        .get(&name)
        .map(|op| op.scope.clone());
    let on = match &scope {
        Some(repo) => On::Repository(repo),
        None => On::Project(parent),
    };
    if let Err(r) = authorize(
        ctx,
        call,
        on,
        Permission::Read,
        "artifactregistry.operations.get",
    ) {
        return r;
    }
    let mut store = ctx.state.rest.store();
    let Some(op) = store.ops.get_mut(&name) else {
        return not_found("Operation", &name);
    };
    let answer = if op.polls_left > 0 {
        op.polls_left -= 1;
        pending(&op.done)
    } else {
        op.done.clone()
    };
    drop(store);
    call.ok(answer)
}

/// `GET|POST /_emulator/operations`: reads or sets `{"pendingPolls": n}`.
pub(crate) async fn admin_operations(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let rest = &ctx.state.rest;
    if req.method() == Method::POST {
        let Ok(bytes) = wire::read_limited(req.into_body(), 1 << 16).await else {
            return invalid("the body is unreadable");
        };
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let Some(n) = body
            .get("pendingPolls")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
        else {
            return invalid("expected {\"pendingPolls\": n}");
        };
        rest.set_pending_polls(n);
    }
    wire::json(
        StatusCode::OK,
        &json!({"pendingPolls": rest.pending_polls()}),
    )
}
