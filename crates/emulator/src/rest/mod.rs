//! The Artifact Registry REST API v1 (`/v1/projects/{p}/locations/{l}/...`).
//!
//! | path under `/v1/projects/{p}/locations/{l}/` | methods |
//! | --- | --- |
//! | `repositories` | GET list, POST create (`repositoryId`; long-running) |
//! | `repositories/{r}` | GET, PATCH (`updateMask`), DELETE (long-running) |
//! | `repositories/{r}:testIamPermissions` | POST |
//! | `repositories/{r}/packages[/{pkg}]` | GET list, GET, DELETE (long-running) |
//! | `.../packages/{pkg}/versions[/{v}]` | GET list (`view`), GET, DELETE (`force`; long-running) |
//! | `.../packages/{pkg}/versions:batchDelete` | POST (`names`, `validateOnly`; long-running) |
//! | `.../packages/{pkg}/tags[/{t}]` | GET list, POST create (`tagId`), GET, PATCH, DELETE |
//! | `repositories/{r}/files[/{f}]` | GET list, GET, DELETE (long-running) |
//! | `repositories/{r}/files/{f}:download` | GET (`alt=media`): the content, streamed |
//! | `repositories/{r}/dockerImages[/{img}@{digest}]` | GET list, GET |
//! | `repositories/{r}/{mavenArtifacts,npmPackages,pythonPackages,goModules}[/{id}]` | GET list, GET |
//! | `operations/{id}` | GET |
//!
//! The URL path is percent-decoded once keeping `%2F` (so `sha256%3A…` and
//! `sha256:…`, `sub%252Fimg` and `sub%2Fimg` reach the same resource); ids are
//! then decoded by the name types of `gar_core::names`. Enums are read by name or
//! number; `$alt=json;enum-encoding=int` writes them as numbers. Every call is
//! authenticated and authorized against the identity module's roles; errors carry
//! `google.rpc.Status` bodies, not-found errors a `google.rpc.ResourceInfo` detail
//! naming the missing resource. Long-running operations are done at once, or
//! pending for the number of polls set on `/_emulator/operations`.

mod cleanup;
mod filter;
mod list;
mod operations;
mod render;
mod resources;

use std::sync::atomic::{AtomicU32, Ordering};

use gar_core::names::{
    DockerImageName, FileName, LocationName, PackageName, RepositoryName, TagName, VersionName,
    decode_url_path,
};
use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::identity::{AuthError, Caller, Permission, Principal};
use crate::router::Ctx;
use crate::state::{lock, read};
use crate::wire::{self, Resp};

pub(crate) use cleanup::admin_cleanup;
pub(crate) use operations::admin_operations;

/// Runtime state of the REST surface: long-running operations and their setting.
#[derive(Debug, Default)]
pub(crate) struct RestState {
    /// Operations by name.
    operations: std::sync::Mutex<operations::Store>,
    /// How many polls new operations stay pending for (0: done at once).
    pending_polls: AtomicU32,
}

impl RestState {
    fn pending_polls(&self) -> u32 {
        self.pending_polls.load(Ordering::Relaxed)
    }

    fn set_pending_polls(&self, n: u32) {
        self.pending_polls.store(n, Ordering::Relaxed);
    }

    fn store(&self) -> std::sync::MutexGuard<'_, operations::Store> {
        lock(&self.operations)
    }
}

/// Which handler a path reaches.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// `operations/{id}`.
    Operation(LocationName, String),
    /// `repositories`.
    Repositories(LocationName),
    /// `repositories/{r}`.
    Repository(RepositoryName),
    /// `repositories/{r}/packages`.
    Packages(RepositoryName),
    /// `.../packages/{pkg}`.
    Package(PackageName),
    /// `.../packages/{pkg}/versions`.
    Versions(PackageName),
    /// `.../versions/{v}`.
    Version(VersionName),
    /// `.../packages/{pkg}/tags`.
    Tags(PackageName),
    /// `.../tags/{t}`.
    Tag(TagName),
    /// `repositories/{r}/files`.
    Files(RepositoryName),
    /// `repositories/{r}/files/{f}`.
    File(FileName),
    /// `repositories/{r}/dockerImages`.
    DockerImages(RepositoryName),
    /// `repositories/{r}/dockerImages/{img}@{digest}`.
    DockerImage(DockerImageName),
    /// `repositories/{r}/{mavenArtifacts|npmPackages|pythonPackages|goModules}`.
    FormatList(RepositoryName, render::FormatView),
    /// One item of a format-specific collection (its full name).
    FormatItem(RepositoryName, render::FormatView, String),
}

/// Custom methods the API defines (`...:verb`).
const VERBS: &[&str] = &[
    "batchDelete",
    "testIamPermissions",
    "getIamPolicy",
    "setIamPolicy",
    "download",
];

/// What every handler knows of its call.
#[derive(Debug)]
pub(crate) struct Call {
    /// The method.
    pub method: Method,
    /// The decoded query pairs.
    pub query: Vec<(String, String)>,
    /// `$alt=json;enum-encoding=int`: enums as numbers.
    pub int_enums: bool,
    /// The authenticated caller (`None`: anonymous).
    pub caller: Option<Principal>,
    /// The custom method, if any.
    pub verb: Option<String>,
}

impl Call {
    /// The first value of a query parameter given in camelCase or snake_case.
    pub(crate) fn param(&self, camel: &str) -> Option<&str> {
        let snake = list::snake_case(camel);
        self.query
            .iter()
            .find(|(k, _)| *k == camel || *k == snake)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean query parameter (`true`/`1`).
    pub(crate) fn flag(&self, camel: &str) -> bool {
        self.param(camel)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }

    /// A JSON answer, with enums as numbers when the caller asked for them.
    pub(crate) fn json(&self, status: StatusCode, mut value: Value) -> Resp {
        if self.int_enums {
            render::enums_to_numbers(&mut value);
        }
        wire::json(status, &value)
    }

    /// A 200 JSON answer.
    pub(crate) fn ok(&self, value: Value) -> Resp {
        self.json(StatusCode::OK, value)
    }
}

/// Serves one Artifact Registry REST call.
pub(crate) async fn handle(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let raw = req.uri().path().to_owned();
    let decoded = match decode_url_path(raw.trim_start_matches("/v1/")) {
        Ok(p) => p,
        Err(e) => return invalid(e.message()),
    };
    let (path, verb) = split_verb(&decoded);
    let target = match parse_target(path) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let caller = match authenticate(ctx, req.headers()) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let query = wire::query_of(req.uri());
    let int_enums = query
        .iter()
        .any(|(k, v)| (k == "$alt" || k == "alt") && v.contains("enum-encoding=int"));
    let call = Call {
        method: req.method().clone(),
        query,
        int_enums,
        caller,
        verb: verb.map(str::to_owned),
    };
    resources::dispatch(ctx, call, target, req.into_body()).await
}

/// Splits a trailing custom method (`versions:batchDelete`) off the path.
fn split_verb(path: &str) -> (&str, Option<&str>) {
    let last_start = path.rfind('/').map_or(0, |i| i + 1);
    let last = path.get(last_start..).unwrap_or_default();
    if let Some((_, verb)) = last.rsplit_once(':')
        && VERBS.contains(&verb)
    {
        let cut = path.len() - verb.len() - 1;
        return (path.get(..cut).unwrap_or(path), Some(verb));
    }
    (path, None)
}

fn parse<T: std::str::FromStr<Err = gar_core::Error>>(segments: &[&str]) -> Result<T, Resp> {
    segments
        .join("/")
        .parse()
        .map_err(|e: gar_core::Error| invalid(e.message()))
}

fn parse_target(path: &str) -> Result<Target, Resp> {
    let s: Vec<&str> = path.split('/').collect();
    let unknown = || {
        wire::google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("/v1/{path} is not an Artifact Registry resource served by this emulator"),
        )
    };
    let at = |i: usize| s.get(i).copied().unwrap_or_default();
    if s.len() < 5 || at(0) != "projects" || at(2) != "locations" {
        return Err(unknown());
    }
    let prefix = |n: usize| s.get(..n).unwrap_or_default();
    match (s.len(), at(4)) {
        (5, "repositories") => return Ok(Target::Repositories(parse(prefix(4))?)),
        (6, "operations") => {
            return Ok(Target::Operation(parse(prefix(4))?, at(5).to_owned()));
        }
        (6, "repositories") => return Ok(Target::Repository(parse(prefix(6))?)),
        (_, "repositories") => {}
        _ => return Err(unknown()),
    }
    let repo = || parse::<RepositoryName>(prefix(6));
    let collection = at(6);
    let format_view = render::FormatView::from_collection(collection);
    match (s.len(), collection, at(8)) {
        (7, "packages", _) => Ok(Target::Packages(repo()?)),
        (7, "files", _) => Ok(Target::Files(repo()?)),
        (7, "dockerImages", _) => Ok(Target::DockerImages(repo()?)),
        (7, _, _) if format_view.is_some() => Ok(Target::FormatList(
            repo()?,
            format_view.ok_or_else(unknown)?,
        )),
        (8, "packages", _) => Ok(Target::Package(parse(prefix(8))?)),
        (8, "files", _) => Ok(Target::File(parse(prefix(8))?)),
        (8, "dockerImages", _) => Ok(Target::DockerImage(parse(prefix(8))?)),
        (8, _, _) if format_view.is_some() => Ok(Target::FormatItem(
            repo()?,
            format_view.ok_or_else(unknown)?,
            prefix(8).join("/"),
        )),
        (9, "packages", "versions") => Ok(Target::Versions(parse(prefix(8))?)),
        (9, "packages", "tags") => Ok(Target::Tags(parse(prefix(8))?)),
        (10, "packages", "versions") => Ok(Target::Version(parse(prefix(10))?)),
        (10, "packages", "tags") => Ok(Target::Tag(parse(prefix(10))?)),
        _ => Err(unknown()),
    }
}

/// The caller of a request, or the 401 answer for credentials that do not work.
fn authenticate(ctx: &Ctx, headers: &HeaderMap) -> Result<Option<Principal>, Resp> {
    match ctx
        .state
        .identity
        .authenticate(headers, ctx.state.clock.unix())
    {
        Ok(Caller::Anonymous) => Ok(None),
        Ok(Caller::Principal {
            principal,
            scope: None,
        }) => Ok(Some(principal)),
        Ok(Caller::Principal { scope: Some(_), .. } | Caller::AnonymousToken(_)) => {
            Err(unauthenticated(
                "Request had invalid authentication credentials. A Docker registry token is not an OAuth 2 access token.",
            ))
        }
        Err(AuthError::Expired) => Err(unauthenticated(
            "Request had invalid authentication credentials. The OAuth 2 access token has expired.",
        )),
        Err(AuthError::Invalid(m)) => Err(unauthenticated(&format!(
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential ({m})."
        ))),
    }
}

/// What a permission check is about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum On<'a> {
    /// The project of a location (listing or creating repositories, operations).
    Project(&'a LocationName),
    /// A repository (everything inside it).
    Repository(&'a RepositoryName),
}

/// Checks that the caller holds `perm` (named `permission` in messages).
pub(crate) fn authorize(
    ctx: &Ctx,
    call: &Call,
    on: On<'_>,
    perm: Permission,
    permission: &str,
) -> Result<(), Resp> {
    let identity = &ctx.state.identity;
    let caller = call.caller.as_ref();
    let canonical_project = |p: &str| {
        read(&ctx.state.registry)
            .project(p)
            .map_or_else(|| p.to_owned(), |x| x.id.to_string())
    };
    let (allowed, resource) = match on {
        On::Project(loc) => {
            let project = canonical_project(loc.project().as_str());
            (
                identity.allowed_project(caller, &project, perm),
                format!("projects/{project}"),
            )
        }
        On::Repository(name) => {
            let project = canonical_project(name.project().as_str());
            let canonical = RepositoryName::new(
                project.parse().unwrap_or_else(|_| name.project().clone()),
                name.location().clone(),
                name.repository().clone(),
            );
            (
                identity.allowed(caller, &canonical, perm),
                canonical.to_string(),
            )
        }
    };
    if allowed {
        return Ok(());
    }
    match caller {
        None => Err(unauthenticated(
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        )),
        Some(principal) => Err(denied(permission, &resource, principal)),
    }
}

/// A `google.rpc.Status` error answer with `details`.
pub(crate) fn error_with(status: StatusCode, message: &str, details: Vec<Value>) -> Resp {
    let mut error = json!({
        "code": status.as_u16(),
        "message": message,
        "status": wire::grpc_status_name(status),
    });
    if !details.is_empty()
        && let Some(o) = error.as_object_mut()
    {
        o.insert("details".into(), Value::Array(details));
    }
    wire::json(status, &json!({ "error": error }))
}

/// 400 `INVALID_ARGUMENT`.
pub(crate) fn invalid(message: &str) -> Resp {
    wire::google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// 400 `FAILED_PRECONDITION`.
pub(crate) fn precondition(message: &str) -> Resp {
    wire::google_error(StatusCode::BAD_REQUEST, "FAILED_PRECONDITION", message)
}

/// 409 `ALREADY_EXISTS`.
pub(crate) fn already_exists(message: &str) -> Resp {
    wire::google_error(StatusCode::CONFLICT, "ALREADY_EXISTS", message)
}

/// 404 `NOT_FOUND` about `name`, a resource of `kind` (`Repository`, `Package`,
/// `Version`, `Tag`, `File`, `DockerImage`, `Operation`), with a `ResourceInfo` detail.
pub(crate) fn not_found(kind: &str, name: &str) -> Resp {
    let noun = match kind {
        "DockerImage" => "docker image".to_owned(),
        other => other.to_ascii_lowercase(),
    };
    error_with(
        StatusCode::NOT_FOUND,
        &format!("Requested entity was not found: {noun} {name:?} does not exist."),
        vec![json!({
            "@type": "type.googleapis.com/google.rpc.ResourceInfo",
            "resourceType": format!("artifactregistry.googleapis.com/{kind}"),
            "resourceName": name,
        })],
    )
}

/// 401 `UNAUTHENTICATED` with a Bearer challenge.
pub(crate) fn unauthenticated(message: &str) -> Resp {
    let mut r = wire::google_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    wire::set_header(
        &mut r,
        WWW_AUTHENTICATE,
        "Bearer realm=\"https://accounts.google.com/\"",
    );
    r
}

/// 403 `PERMISSION_DENIED`, as IAM words it, with an `ErrorInfo` detail.
pub(crate) fn denied(permission: &str, resource: &str, principal: &Principal) -> Resp {
    error_with(
        StatusCode::FORBIDDEN,
        &format!(
            "Permission '{permission}' denied on resource '{resource}' (or it may not exist) for {principal}."
        ),
        vec![json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "IAM_PERMISSION_DENIED",
            "domain": "artifactregistry.googleapis.com",
            "metadata": {"permission": permission, "resource": resource},
        })],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_split_only_when_known() {
        assert_eq!(
            split_verb("projects/p/locations/l/repositories/r/packages/a/versions:batchDelete"),
            (
                "projects/p/locations/l/repositories/r/packages/a/versions",
                Some("batchDelete")
            )
        );
        let v = "projects/p/locations/l/repositories/r/packages/a/versions/sha256:ab";
        assert_eq!(split_verb(v), (v, None));
        assert_eq!(
            split_verb("projects/p/locations/l/repositories/r/files/a:1:b.txt:download"),
            (
                "projects/p/locations/l/repositories/r/files/a:1:b.txt",
                Some("download")
            )
        );
    }

    #[test]
    fn targets_parse() {
        let base = "projects/my-project/locations/us-central1/repositories/r";
        assert!(matches!(
            parse_target(&format!("{base}/packages/team%2Fapp/versions/sha256:{}", "a".repeat(64))),
            Ok(Target::Version(v)) if v.package().package().as_str() == "team/app"
        ));
        assert!(matches!(
            parse_target(&format!("{base}/packages/a/tags/latest")),
            Ok(Target::Tag(_))
        ));
        assert!(matches!(
            parse_target(&format!("{base}/mavenArtifacts/com.a:b:1.0")),
            Ok(Target::FormatItem(..))
        ));
        assert!(matches!(
            parse_target("projects/my-project/locations/us-central1/operations/x"),
            Ok(Target::Operation(..))
        ));
        assert!(parse_target(&format!("{base}/unknown")).is_err());
        assert!(parse_target("projects/my-project/locations/mars/repositories").is_err());
    }
}
