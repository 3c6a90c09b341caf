//! The emulator's cleanup pass, run on demand: `POST /_emulator/cleanup`.
//!
//! It evaluates each repository's cleanup policies with the same evaluator the
//! client uses (`gar_core::cleanup`) at the emulator's clock (or the `now` the
//! request gives) and deletes the versions the report selects, with their tags
//! and files, unless the repository is in dry-run (`cleanupPolicyDryRun`) or the
//! request says `"dryRun": true`.
//!
//! ```json
//! {"repository": "projects/p/locations/l/repositories/r", "now": "2024-06-01T00:00:00Z", "dryRun": false}
//! ```
//!
//! Without `repository`, every repository with policies is processed. The answer
//! lists, per repository, whether it ran dry, the versions deleted, and the
//! decision for every version (`DELETE`, `KEEP` with the policies that keep it
//! and those it overrides, or `NONE`).

use gar_core::cleanup::{CleanupReport, Outcome, VersionInfo};
use gar_core::ids::{TagId, VersionId};
use gar_core::names::RepositoryName;
use gar_core::protojson::Timestamp;
use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::invalid;
use crate::router::Ctx;
use crate::state::{Repository, write};
use crate::wire::{self, Resp};

/// What the evaluator needs of a repository's versions.
fn versions_of(r: &Repository) -> Vec<VersionInfo> {
    let mut out = Vec::new();
    for p in r.packages.values() {
        for (vk, v) in &p.versions {
            let Ok(version) = vk.parse::<VersionId>() else {
                continue;
            };
            let tags = p
                .tags_of(vk)
                .iter()
                .filter_map(|t| t.parse::<TagId>().ok())
                .collect::<Vec<_>>();
            out.push(VersionInfo::new(p.id.clone(), version, v.create_time).with_tags(tags));
        }
    }
    out
}

fn decision_json(r: &Repository, report: &CleanupReport) -> Vec<Value> {
    report
        .decisions
        .iter()
        .map(|d| {
            let name = r.version_name(d.package.as_str(), d.version.as_str());
            match &d.outcome {
                Outcome::Delete { by } => json!({"version": name, "action": "DELETE", "policies": by}),
                Outcome::Keep { by, overrides } => {
                    json!({"version": name, "action": "KEEP", "policies": by, "overrides": overrides})
                }
                _ => json!({"version": name, "action": "NONE"}),
            }
        })
        .collect()
}

/// Runs the pass on one repository; returns its part of the answer.
fn run(r: &mut Repository, now: Timestamp, dry_run_asked: bool) -> Value {
    let report = r.cleanup_policies.evaluate(&versions_of(r), now);
    let dry_run = dry_run_asked || r.cleanup_policy_dry_run;
    let mut deleted = Vec::new();
    if !dry_run {
        for d in report.deletions() {
            let name = r.version_name(d.package.as_str(), d.version.as_str());
            if r.delete_version(d.package.as_str(), d.version.as_str(), now) {
                deleted.push(name);
            }
        }
    }
    json!({
        "name": r.name.to_string(),
        "dryRun": dry_run,
        "evaluatedAt": now.to_string(),
        "deleted": deleted,
        "decisions": decision_json(r, &report),
    })
}

/// `POST /_emulator/cleanup`.
pub(crate) async fn admin_cleanup(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let Ok(bytes) = wire::read_limited(req.into_body(), 1 << 16).await else {
        return invalid("the body is unreadable");
    };
    let body: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return invalid(&format!("the body is not JSON: {e}")),
        }
    };
    let now = match body.get("now").and_then(Value::as_str) {
        Some(t) => match t.parse::<Timestamp>() {
            Ok(t) => t,
            Err(e) => return invalid(e.message()),
        },
        None => ctx.state.clock.now(),
    };
    let dry_run = body.get("dryRun").and_then(Value::as_bool).unwrap_or(false);
    let only: Option<RepositoryName> = match body.get("repository").and_then(Value::as_str) {
        Some(n) => match n.parse() {
            Ok(n) => Some(n),
            Err(e) => return invalid(e.message()),
        },
        None => None,
    };
    let results = {
        let mut reg = write(&ctx.state.registry);
        match &only {
            Some(name) => match reg.repository_mut(name) {
                Some(r) => vec![run(r, now, dry_run)],
                None => return super::not_found("Repository", &name.to_string()),
            },
            None => reg
                .projects
                .values_mut()
                .flat_map(|p| p.locations.values_mut())
                .flat_map(|l| l.repositories.values_mut())
                .filter(|r| !r.cleanup_policies.is_empty())
                .map(|r| run(r, now, dry_run))
                .collect::<Vec<_>>(),
        }
    };
    ctx.state.save().await;
    wire::json(StatusCode::OK, &json!({ "repositories": results }))
}
