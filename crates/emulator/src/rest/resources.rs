//! The handlers: one function per call, over the shared resource tree.

use gar_core::cleanup::CleanupPolicies;
use gar_core::format::{Format, Mode};
use gar_core::ids::{RepositoryId, TagId};
use gar_core::names::{
    DockerImageName, FileName, LocationName, PackageName, RepositoryName, TagName, VersionName,
};
use gar_core::protojson::Timestamp;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::list::{self, Entry, Spec};
use super::operations::{self, EMPTY, METADATA};
use super::render::{self, FormatView};
use super::{Call, On, Target, already_exists, authorize, invalid, not_found, precondition};
use crate::identity::Permission;
use crate::router::Ctx;
use crate::state::{FileRecord, Package, Repository, read, write};
use crate::wire::{self, Resp};

type Result<T, E = Resp> = std::result::Result<T, E>;

/// The type URL of a Repository in an operation's response.
const REPOSITORY_TYPE: &str = "type.googleapis.com/google.devtools.artifactregistry.v1.Repository";
/// The type URL of the metadata of `versions:batchDelete`.
const BATCH_METADATA: &str =
    "type.googleapis.com/google.devtools.artifactregistry.v1.BatchDeleteVersionsMetadata";

/// Routes a parsed call to its handler.
pub(crate) async fn dispatch(ctx: &Ctx, call: Call, target: Target, body: Incoming) -> Resp {
    use Method as M;
    let method = call.method.clone();
    let verb = call.verb.clone();
    let result = match (target, method, verb.as_deref()) {
        (Target::Operation(loc, id), _, None) => Ok(operations::get(ctx, &call, &loc, &id)),
        (Target::Repositories(loc), M::GET, None) => list_repositories(ctx, &call, &loc),
        (Target::Repositories(loc), M::POST, None) => {
            create_repository(ctx, &call, &loc, body).await
        }
        (Target::Repository(r), M::GET, None) => get_repository(ctx, &call, &r),
        (Target::Repository(r), M::PATCH, None) => update_repository(ctx, &call, &r, body).await,
        (Target::Repository(r), M::DELETE, None) => delete_repository(ctx, &call, &r).await,
        (Target::Repository(r), M::POST, Some("testIamPermissions")) => {
            test_iam_permissions(ctx, &call, &r, body).await
        }
        (Target::Packages(r), M::GET, None) => list_packages(ctx, &call, &r),
        (Target::Package(p), M::GET, None) => get_package(ctx, &call, &p),
        (Target::Package(p), M::DELETE, None) => delete_package(ctx, &call, &p).await,
        (Target::Versions(p), M::GET, None) => list_versions(ctx, &call, &p),
        (Target::Versions(p), M::POST, Some("batchDelete")) => {
            batch_delete(ctx, &call, &p, body).await
        }
        (Target::Version(v), M::GET, None) => get_version(ctx, &call, &v),
        (Target::Version(v), M::DELETE, None) => delete_version(ctx, &call, &v).await,
        (Target::Tags(p), M::GET, None) => list_tags(ctx, &call, &p),
        (Target::Tags(p), M::POST, None) => create_tag(ctx, &call, &p, body).await,
        (Target::Tag(t), M::GET, None) => get_tag(ctx, &call, &t),
        (Target::Tag(t), M::PATCH, None) => update_tag(ctx, &call, &t, body).await,
        (Target::Tag(t), M::DELETE, None) => delete_tag(ctx, &call, &t).await,
        (Target::Files(r), M::GET, None) => list_files(ctx, &call, &r),
        (Target::File(f), M::GET, None) => get_file(ctx, &call, &f),
        (Target::File(f), M::GET, Some("download")) => download_file(ctx, &call, &f).await,
        (Target::File(f), M::DELETE, None) => delete_file(ctx, &call, &f).await,
        (Target::DockerImages(r), M::GET, None) => list_docker_images(ctx, &call, &r),
        (Target::DockerImage(d), M::GET, None) => get_docker_image(ctx, &call, &d),
        (Target::FormatList(r, view), M::GET, None) => list_format(ctx, &call, &r, view),
        (Target::FormatItem(r, view, name), M::GET, None) => {
            get_format_item(ctx, &call, &r, view, &name)
        }
        (_, method, verb) => Err(wire::google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!(
                "{method}{} is not a method of this resource",
                verb.map(|v| format!(" :{v}")).unwrap_or_default()
            ),
        )),
    };
    result.unwrap_or_else(|r| r)
}

async fn body_json(body: Incoming) -> Result<Value> {
    let bytes = wire::read_limited(body, 4 << 20)
        .await
        .map_err(|_| invalid("the request body is unreadable or larger than 4 MiB"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(&format!("the request body is not JSON: {e}")))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(invalid("the request body must be a JSON object"))
    }
}

/// Reads the repository `name` (after the caller's permission was checked).
fn with_repo<T>(
    ctx: &Ctx,
    name: &RepositoryName,
    f: impl FnOnce(&Repository) -> Result<T>,
) -> Result<T> {
    let reg = read(&ctx.state.registry);
    let repo = reg
        .repository(name)
        .ok_or_else(|| not_found("Repository", &name.to_string()))?;
    f(repo)
}

/// Changes the repository `name`.
fn with_repo_mut<T>(
    ctx: &Ctx,
    name: &RepositoryName,
    f: impl FnOnce(&mut Repository) -> Result<T>,
) -> Result<T> {
    let mut reg = write(&ctx.state.registry);
    let repo = reg
        .repository_mut(name)
        .ok_or_else(|| not_found("Repository", &name.to_string()))?;
    f(repo)
}

/// Checks that the caller holds `permission`, a read permission, in the repository
/// `repo`, then reads the repository with `f`.
fn read_in<T>(
    ctx: &Ctx,
    call: &Call,
    repo: &RepositoryName,
    permission: &str,
    f: impl FnOnce(&Repository) -> Result<T>,
) -> Result<T> {
    authorize(
        ctx,
        call,
        On::Repository(repo),
        Permission::Read,
        permission,
    )?;
    with_repo(ctx, repo, f)
}

/// Changes the repository `name` with `f` (given the time now), then saves the state.
async fn change_repo<T>(
    ctx: &Ctx,
    name: &RepositoryName,
    f: impl FnOnce(&mut Repository, Timestamp) -> Result<T>,
) -> Result<T> {
    let now = ctx.state.clock.now();
    let out = with_repo_mut(ctx, name, |r| f(r, now))?;
    ctx.state.save().await;
    Ok(out)
}

/// Checks that the caller holds `permission`, a delete permission, in the repository
/// `repo`, then deletes with `delete` (given the time now) and saves the state.
async fn delete_in(
    ctx: &Ctx,
    call: &Call,
    repo: &RepositoryName,
    permission: &str,
    delete: impl FnOnce(&mut Repository, Timestamp) -> Result<()>,
) -> Result<()> {
    authorize(
        ctx,
        call,
        On::Repository(repo),
        Permission::Delete,
        permission,
    )?;
    change_repo(ctx, repo, delete).await
}

/// Answers a list call with one page (as the call and `spec` say) of `entries`,
/// the collection under `parent`.
fn answer_page(call: &Call, parent: &str, entries: Vec<Entry>, spec: Spec) -> Result<Resp> {
    let page = list::page(call, parent, entries, spec)?;
    Ok(call.ok(page))
}

/// The answer of a delete: an operation, already done, with an empty response.
fn deleted(ctx: &Ctx, call: &Call, scope: &RepositoryName) -> Resp {
    operations::start(ctx, call, scope, metadata(), Ok(empty_response()))
}

/// The package `name` in `r`, or its NOT_FOUND.
fn package_in<'r>(r: &'r Repository, name: &PackageName) -> Result<&'r Package> {
    r.packages
        .get(name.package().as_str())
        .ok_or_else(|| package_missing(name))
}

/// The package `name` in `r`, to change, or its NOT_FOUND.
fn package_in_mut<'r>(r: &'r mut Repository, name: &PackageName) -> Result<&'r mut Package> {
    r.packages
        .get_mut(name.package().as_str())
        .ok_or_else(|| package_missing(name))
}

/// The file `name` in `r`, or its NOT_FOUND.
fn file_in<'r>(r: &'r Repository, name: &FileName) -> Result<&'r FileRecord> {
    r.files
        .get(name.file().as_str())
        .ok_or_else(|| file_missing(name))
}

fn package_missing(name: &PackageName) -> Resp {
    not_found("Package", &name.to_string())
}

fn version_missing(name: &VersionName) -> Resp {
    not_found("Version", &name.to_string())
}

fn tag_missing(name: &TagName) -> Resp {
    not_found("Tag", &name.to_string())
}

fn file_missing(name: &FileName) -> Resp {
    not_found("File", &name.to_string())
}

fn metadata() -> Value {
    json!({ "@type": METADATA })
}

fn empty_response() -> Value {
    json!({ "@type": EMPTY })
}

/// The project id a name's project (id or number) stands for.
fn canonical_project(ctx: &Ctx, project: &str) -> String {
    read(&ctx.state.registry)
        .project(project)
        .map_or_else(|| project.to_owned(), |p| p.id.to_string())
}

fn same_repository(ctx: &Ctx, a: &RepositoryName, b: &RepositoryName) -> bool {
    a.location() == b.location()
        && a.repository() == b.repository()
        && canonical_project(ctx, a.project().as_str())
            == canonical_project(ctx, b.project().as_str())
}

// ---- repositories -------------------------------------------------------------------

const REPOSITORY_LIST: Spec = Spec {
    key: "repositories",
    filter_fields: &["name"],
    order_fields: &["name", "create_time", "update_time"],
};

fn list_repositories(ctx: &Ctx, call: &Call, loc: &LocationName) -> Result<Resp> {
    authorize(
        ctx,
        call,
        On::Project(loc),
        Permission::Read,
        "artifactregistry.repositories.list",
    )?;
    let entries: Vec<Entry> = {
        let reg = read(&ctx.state.registry);
        reg.project(loc.project().as_str())
            .and_then(|p| p.locations.get(loc.location().as_str()))
            .map(|l| {
                l.repositories
                    .values()
                    .map(render::repository_entry)
                    .collect()
            })
            .unwrap_or_default()
    };
    answer_page(call, &loc.to_string(), entries, REPOSITORY_LIST)
}

fn get_repository(ctx: &Ctx, call: &Call, name: &RepositoryName) -> Result<Resp> {
    let v = read_in(ctx, call, name, "artifactregistry.repositories.get", |r| {
        Ok(render::repository(r))
    })?;
    Ok(call.ok(v))
}

fn parse_enum<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T> {
    serde_json::from_value(v.clone()).map_err(|e| invalid(&format!("{what}: {e}")))
}

/// The repository settings a create or update body carries, applied to `repo`;
/// `fields` limits which (camelCase paths).
fn apply_repository_fields(repo: &mut Repository, body: &Value, fields: &[String]) -> Result<()> {
    for field in fields {
        let value = |path: &[&str]| {
            let mut v = body;
            for p in path {
                v = v.get(*p)?;
            }
            Some(v.clone())
        };
        match field.as_str() {
            "description" => {
                repo.description = value(&["description"])
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
            }
            "labels" => {
                repo.labels = match value(&["labels"]) {
                    None | Some(Value::Null) => Default::default(),
                    Some(v) => parse_enum(&v, "labels")?,
                };
            }
            "cleanupPolicies" => {
                let policies = match value(&["cleanupPolicies"]) {
                    None | Some(Value::Null) => CleanupPolicies::default(),
                    Some(v) => {
                        CleanupPolicies::from_rest_value(&v).map_err(|e| invalid(e.message()))?
                    }
                };
                policies.validate().map_err(|e| invalid(e.message()))?;
                repo.cleanup_policies = policies;
            }
            "cleanupPolicyDryRun" => {
                repo.cleanup_policy_dry_run = value(&["cleanupPolicyDryRun"])
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
            }
            "dockerConfig" | "dockerConfig.immutableTags" => {
                repo.immutable_tags = value(&["dockerConfig", "immutableTags"])
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
            }
            "format" | "mode" | "name" | "createTime" | "updateTime" | "sizeBytes"
            | "registryUri" => {}
            other => {
                return Err(invalid(&format!(
                    "the field {other:?} cannot be set on this emulator's repositories"
                )));
            }
        }
    }
    Ok(())
}

fn camel_path(path: &str) -> String {
    path.split('.')
        .map(|seg| {
            let mut out = String::new();
            let mut up = false;
            for c in seg.chars() {
                if c == '_' {
                    up = true;
                } else if up {
                    out.push(c.to_ascii_uppercase());
                    up = false;
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join(".")
}

async fn create_repository(
    ctx: &Ctx,
    call: &Call,
    loc: &LocationName,
    body: Incoming,
) -> Result<Resp> {
    authorize(
        ctx,
        call,
        On::Project(loc),
        Permission::Admin,
        "artifactregistry.repositories.create",
    )?;
    let body = body_json(body).await?;
    let id_text = call
        .param("repositoryId")
        .ok_or_else(|| invalid("repositoryId is required"))?;
    let id: RepositoryId = id_text
        .parse()
        .map_err(|e: gar_core::Error| invalid(e.message()))?;
    let format: Format = match body.get("format") {
        Some(v) => parse_enum(v, "format")?,
        None => Format::Unspecified,
    };
    if matches!(format, Format::Unspecified | Format::Unknown(_)) {
        return Err(invalid(
            "format is required: DOCKER, MAVEN, NPM, PYTHON, APT, YUM, GO, GENERIC, ...",
        ));
    }
    let mode: Mode = match body.get("mode") {
        Some(v) => parse_enum(v, "mode")?,
        None => Mode::Standard,
    };
    let name = loc.repository(id);
    let now = ctx.state.clock.now();
    let mut repo = Repository::new(name.clone(), format, now);
    repo.mode = if mode == Mode::Unspecified {
        Mode::Standard
    } else {
        mode
    };
    let fields: Vec<String> = body
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    apply_repository_fields(&mut repo, &body, &fields)?;
    let json = {
        let mut reg = write(&ctx.state.registry);
        if reg.repository(&name).is_some() {
            return Err(already_exists(&format!(
                "the repository {name} already exists"
            )));
        }
        let mut json = render::repository(&repo);
        reg.insert_repository(repo);
        if let Some(o) = json.as_object_mut() {
            o.insert("@type".into(), json!(REPOSITORY_TYPE));
        }
        json
    };
    ctx.state.save().await;
    Ok(operations::start(ctx, call, &name, metadata(), Ok(json)))
}

async fn update_repository(
    ctx: &Ctx,
    call: &Call,
    name: &RepositoryName,
    body: Incoming,
) -> Result<Resp> {
    authorize(
        ctx,
        call,
        On::Repository(name),
        Permission::Admin,
        "artifactregistry.repositories.update",
    )?;
    let body = body_json(body).await?;
    let fields: Vec<String> = match call.param("updateMask").filter(|m| !m.is_empty()) {
        Some(mask) => mask
            .split(',')
            .map(|f| camel_path(f.trim()))
            .filter(|f| !f.is_empty())
            .collect(),
        None => body
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
    };
    for f in &fields {
        if matches!(f.as_str(), "format" | "mode" | "name") {
            return Err(invalid(&format!(
                "the field {f:?} of a repository cannot change"
            )));
        }
    }
    let json = change_repo(ctx, name, |repo, now| {
        let mut copy = repo.clone();
        apply_repository_fields(&mut copy, &body, &fields)?;
        copy.update_time = now;
        *repo = copy;
        Ok(render::repository(repo))
    })
    .await?;
    Ok(call.ok(json))
}

async fn delete_repository(ctx: &Ctx, call: &Call, name: &RepositoryName) -> Result<Resp> {
    authorize(
        ctx,
        call,
        On::Repository(name),
        Permission::Admin,
        "artifactregistry.repositories.delete",
    )?;
    {
        let mut reg = write(&ctx.state.registry);
        let project = reg
            .project(name.project().as_str())
            .map(|p| p.id.to_string())
            .unwrap_or_default();
        let removed = reg
            .projects
            .get_mut(&project)
            .and_then(|p| p.locations.get_mut(name.location().as_str()))
            .and_then(|l| l.repositories.remove(name.repository().as_str()));
        if removed.is_none() {
            return Err(not_found("Repository", &name.to_string()));
        }
    }
    ctx.state.save().await;
    Ok(deleted(ctx, call, name))
}

/// The role level an IAM permission needs, for `testIamPermissions`.
fn permission_level(p: &str) -> Option<Permission> {
    let rest = p.strip_prefix("artifactregistry.")?;
    let (resource, verb) = rest.split_once('.')?;
    Some(match (resource, verb) {
        ("repositories", "create" | "update" | "delete" | "setIamPolicy" | "getIamPolicy") => {
            Permission::Admin
        }
        ("repositories", "deleteArtifacts") | (_, "delete") => Permission::Delete,
        ("repositories", "uploadArtifacts") | (_, "create" | "update") => Permission::Write,
        ("repositories", "downloadArtifacts" | "readViaVirtualRepository")
        | (_, "get" | "list" | "download") => Permission::Read,
        _ => return None,
    })
}

async fn test_iam_permissions(
    ctx: &Ctx,
    call: &Call,
    name: &RepositoryName,
    body: Incoming,
) -> Result<Resp> {
    let body = body_json(body).await?;
    let asked: Vec<String> = match body.get("permissions") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => parse_enum(v, "permissions")?,
    };
    let granted: Vec<&String> = asked
        .iter()
        .filter(|p| {
            permission_level(p)
                .is_some_and(|level| authorize(ctx, call, On::Repository(name), level, p).is_ok())
        })
        .collect();
    Ok(call.ok(if granted.is_empty() {
        json!({})
    } else {
        json!({ "permissions": granted })
    }))
}

// ---- packages -----------------------------------------------------------------------

const PACKAGE_LIST: Spec = Spec {
    key: "packages",
    filter_fields: &["name", "annotations"],
    order_fields: &["name", "create_time", "update_time"],
};

fn list_packages(ctx: &Ctx, call: &Call, name: &RepositoryName) -> Result<Resp> {
    let entries = read_in(ctx, call, name, "artifactregistry.packages.list", |r| {
        Ok(r.packages
            .iter()
            .map(|(k, p)| render::package_entry(r, k, p))
            .collect())
    })?;
    answer_page(call, &name.to_string(), entries, PACKAGE_LIST)
}

fn get_package(ctx: &Ctx, call: &Call, name: &PackageName) -> Result<Resp> {
    let repo = name.repository();
    let v = read_in(ctx, call, repo, "artifactregistry.packages.get", |r| {
        let p = package_in(r, name)?;
        Ok(render::package_entry(r, name.package().as_str(), p).json)
    })?;
    Ok(call.ok(v))
}

async fn delete_package(ctx: &Ctx, call: &Call, name: &PackageName) -> Result<Resp> {
    let repo = name.repository();
    delete_in(
        ctx,
        call,
        repo,
        "artifactregistry.packages.delete",
        |r, now| {
            if r.delete_package(name.package().as_str(), now) {
                Ok(())
            } else {
                Err(package_missing(name))
            }
        },
    )
    .await?;
    Ok(deleted(ctx, call, repo))
}

// ---- versions -----------------------------------------------------------------------

const VERSION_LIST: Spec = Spec {
    key: "versions",
    filter_fields: &["name", "annotations"],
    order_fields: &["name", "create_time", "update_time"],
};

/// `view`: BASIC (default) or FULL, by name or number.
fn full_view(call: &Call) -> Result<bool> {
    match call.param("view").unwrap_or_default() {
        "" | "BASIC" | "1" | "VERSION_VIEW_UNSPECIFIED" | "0" => Ok(false),
        "FULL" | "2" => Ok(true),
        other => Err(invalid(&format!("view {other:?} is not BASIC or FULL"))),
    }
}

fn list_versions(ctx: &Ctx, call: &Call, name: &PackageName) -> Result<Resp> {
    let repo = name.repository();
    authorize(
        ctx,
        call,
        On::Repository(repo),
        Permission::Read,
        "artifactregistry.versions.list",
    )?;
    let full = full_view(call)?;
    let entries = with_repo(ctx, repo, |r| {
        let key = name.package().as_str();
        let p = package_in(r, name)?;
        Ok(p.versions
            .iter()
            .map(|(vk, v)| render::version_entry(r, key, p, vk, v, full))
            .collect())
    })?;
    answer_page(call, &name.to_string(), entries, VERSION_LIST)
}

fn get_version(ctx: &Ctx, call: &Call, name: &VersionName) -> Result<Resp> {
    let package = name.package();
    let repo = package.repository();
    authorize(
        ctx,
        call,
        On::Repository(repo),
        Permission::Read,
        "artifactregistry.versions.get",
    )?;
    let full = full_view(call)?;
    let v = with_repo(ctx, repo, |r| {
        let key = package.package().as_str();
        let p = package_in(r, package)?;
        let vk = name.version().as_str();
        let v = p.versions.get(vk).ok_or_else(|| version_missing(name))?;
        Ok(render::version_entry(r, key, p, vk, v, full).json)
    })?;
    Ok(call.ok(v))
}

async fn delete_version(ctx: &Ctx, call: &Call, name: &VersionName) -> Result<Resp> {
    let package = name.package();
    let repo = package.repository();
    delete_in(ctx, call, repo, "artifactregistry.versions.delete", |r, now| {
        let vk = name.version().as_str();
        let p = package_in(r, package)?;
        if !p.versions.contains_key(vk) {
            return Err(version_missing(name));
        }
        let tags = p.tags_of(vk);
        if !tags.is_empty() && !call.flag("force") {
            return Err(precondition(&format!(
                "version {name} has tags ({}); delete them first or set force=true to delete them with it",
                tags.join(", ")
            )));
        }
        r.delete_version(package.package().as_str(), vk, now);
        Ok(())
    })
    .await?;
    Ok(deleted(ctx, call, repo))
}

async fn batch_delete(
    ctx: &Ctx,
    call: &Call,
    parent: &PackageName,
    body: Incoming,
) -> Result<Resp> {
    let repo = parent.repository();
    authorize(
        ctx,
        call,
        On::Repository(repo),
        Permission::Delete,
        "artifactregistry.versions.delete",
    )?;
    let body = body_json(body).await?;
    let names: Vec<String> = match body.get("names") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => parse_enum(v, "names")?,
    };
    if names.is_empty() {
        return Err(invalid("names is required: the versions to delete"));
    }
    if names.len() > 10_000 {
        return Err(invalid(
            "at most 10000 versions can be deleted in one batch",
        ));
    }
    let validate_only = body
        .get("validateOnly")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut parsed = Vec::with_capacity(names.len());
    for n in &names {
        let v: VersionName = n
            .parse()
            .map_err(|e: gar_core::Error| invalid(e.message()))?;
        if !same_repository(ctx, v.package().repository(), repo) {
            return Err(invalid(&format!(
                "the version {n} is not in the repository {repo}"
            )));
        }
        parsed.push((n.clone(), v));
    }
    let now = ctx.state.clock.now();
    let failed = with_repo_mut(ctx, repo, |r| {
        let mut failed = Vec::new();
        for (text, v) in &parsed {
            let pk = v.package().package().as_str();
            let vk = v.version().as_str();
            let exists = r
                .packages
                .get(pk)
                .is_some_and(|p| p.versions.contains_key(vk));
            if !exists {
                failed.push(text.clone());
            } else if !validate_only {
                r.delete_version(pk, vk, now);
            }
        }
        Ok(failed)
    })?;
    if !validate_only {
        ctx.state.save().await;
    }
    let mut meta = json!({ "@type": BATCH_METADATA });
    if !failed.is_empty()
        && let Some(o) = meta.as_object_mut()
    {
        o.insert("failedVersions".into(), json!(failed));
    }
    Ok(operations::start(
        ctx,
        call,
        repo,
        meta,
        Ok(empty_response()),
    ))
}

// ---- tags ---------------------------------------------------------------------------

const TAG_LIST: Spec = Spec {
    key: "tags",
    filter_fields: &["name", "version"],
    order_fields: &[],
};

fn list_tags(ctx: &Ctx, call: &Call, name: &PackageName) -> Result<Resp> {
    let repo = name.repository();
    let entries = read_in(ctx, call, repo, "artifactregistry.tags.list", |r| {
        let key = name.package().as_str();
        Ok(package_in(r, name)?
            .tags
            .iter()
            .map(|(t, v)| render::tag_entry(r, key, t, v))
            .collect())
    })?;
    answer_page(call, &name.to_string(), entries, TAG_LIST)
}

fn get_tag(ctx: &Ctx, call: &Call, name: &TagName) -> Result<Resp> {
    let package = name.package();
    let repo = package.repository();
    let v = read_in(ctx, call, repo, "artifactregistry.tags.get", |r| {
        let t = name.tag().as_str();
        let version = package_in(r, package)?
            .tags
            .get(t)
            .ok_or_else(|| tag_missing(name))?;
        Ok(render::tag_entry(r, package.package().as_str(), t, version).json)
    })?;
    Ok(call.ok(v))
}

/// The version a tag body points at, checked to be a version of `package`.
fn tag_target(ctx: &Ctx, body: &Value, package: &PackageName) -> Result<VersionName> {
    let text = body
        .get("version")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("the tag's version is required (a full version name)"))?;
    let v: VersionName = text
        .parse()
        .map_err(|e: gar_core::Error| invalid(e.message()))?;
    if v.package().package() != package.package()
        || !same_repository(ctx, v.package().repository(), package.repository())
    {
        return Err(invalid(&format!(
            "the version {v} is not a version of the package {package}"
        )));
    }
    Ok(v)
}

async fn create_tag(ctx: &Ctx, call: &Call, package: &PackageName, body: Incoming) -> Result<Resp> {
    let repo = package.repository();
    authorize(
        ctx,
        call,
        On::Repository(repo),
        Permission::Write,
        "artifactregistry.tags.create",
    )?;
    let body = body_json(body).await?;
    let tag_text = match call.param("tagId").filter(|t| !t.is_empty()) {
        Some(t) => t.to_owned(),
        None => body
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| n.parse::<TagName>().ok())
            .map(|n| n.tag().to_string())
            .ok_or_else(|| invalid("tagId is required"))?,
    };
    let version = tag_target(ctx, &body, package)?;
    let json = change_repo(ctx, repo, |r, now| {
        let tag = TagId::for_format(&r.format, &tag_text).map_err(|e| invalid(e.message()))?;
        let key = package.package().as_str();
        let vk = version.version().as_str();
        let tag_name = render::tag_name(r, key, tag.as_str());
        let p = package_in_mut(r, package)?;
        if !p.versions.contains_key(vk) {
            return Err(version_missing(&version));
        }
        if p.tags.contains_key(tag.as_str()) {
            return Err(already_exists(&format!(
                "the tag {tag_name} already exists"
            )));
        }
        p.tags.insert(tag.to_string(), vk.to_owned());
        p.update_time = now;
        Ok(render::tag_entry(r, key, tag.as_str(), vk).json)
    })
    .await?;
    Ok(call.ok(json))
}

async fn update_tag(ctx: &Ctx, call: &Call, name: &TagName, body: Incoming) -> Result<Resp> {
    let package = name.package();
    let repo = package.repository();
    authorize(
        ctx,
        call,
        On::Repository(repo),
        Permission::Write,
        "artifactregistry.tags.update",
    )?;
    let body = body_json(body).await?;
    if let Some(mask) = call.param("updateMask").filter(|m| !m.is_empty())
        && mask.split(',').any(|f| f.trim() != "version")
    {
        return Err(invalid(
            "only the tag's version can be updated (updateMask=version)",
        ));
    }
    let version = tag_target(ctx, &body, package)?;
    let json = change_repo(ctx, repo, |r, now| {
        let immutable = r.format == Format::Docker && r.immutable_tags;
        let key = package.package().as_str();
        let vk = version.version().as_str();
        let t = name.tag().as_str();
        let p = package_in_mut(r, package)?;
        let current = p.tags.get(t).cloned().ok_or_else(|| tag_missing(name))?;
        if !p.versions.contains_key(vk) {
            return Err(version_missing(&version));
        }
        if immutable && current != vk {
            return Err(precondition(&format!(
                "the tag {name} is immutable in its repository and cannot move"
            )));
        }
        p.tags.insert(t.to_owned(), vk.to_owned());
        p.update_time = now;
        Ok(render::tag_entry(r, key, t, vk).json)
    })
    .await?;
    Ok(call.ok(json))
}

async fn delete_tag(ctx: &Ctx, call: &Call, name: &TagName) -> Result<Resp> {
    let package = name.package();
    let repo = package.repository();
    delete_in(ctx, call, repo, "artifactregistry.tags.delete", |r, now| {
        let immutable = r.format == Format::Docker && r.immutable_tags;
        let p = package_in_mut(r, package)?;
        if !p.tags.contains_key(name.tag().as_str()) {
            return Err(tag_missing(name));
        }
        if immutable {
            return Err(precondition(&format!(
                "the tag {name} is immutable in its repository and cannot be deleted"
            )));
        }
        p.tags.remove(name.tag().as_str());
        p.update_time = now;
        Ok(())
    })
    .await?;
    Ok(call.ok(json!({})))
}

// ---- files --------------------------------------------------------------------------

const FILE_LIST: Spec = Spec {
    key: "files",
    filter_fields: &["name", "owner", "annotations"],
    order_fields: &["name", "create_time", "update_time"],
};

fn list_files(ctx: &Ctx, call: &Call, name: &RepositoryName) -> Result<Resp> {
    let entries = read_in(ctx, call, name, "artifactregistry.files.list", |r| {
        Ok(r.files
            .iter()
            .map(|(k, f)| render::file_entry(r, k, f))
            .collect())
    })?;
    answer_page(call, &name.to_string(), entries, FILE_LIST)
}

fn get_file(ctx: &Ctx, call: &Call, name: &FileName) -> Result<Resp> {
    let repo = name.repository();
    let v = read_in(ctx, call, repo, "artifactregistry.files.get", |r| {
        let f = file_in(r, name)?;
        Ok(render::file_entry(r, name.file().as_str(), f).json)
    })?;
    Ok(call.ok(v))
}

async fn download_file(ctx: &Ctx, call: &Call, name: &FileName) -> Result<Resp> {
    let repo = name.repository();
    let (digest, size) = read_in(ctx, call, repo, "artifactregistry.files.download", |r| {
        let f = file_in(r, name)?;
        Ok((f.sha256.clone(), f.size))
    })?;
    let body = if size == 0 {
        wire::empty()
    } else {
        ctx.state
            .blobs
            .stream(&digest, 0, size)
            .await
            .map_err(|e| {
                wire::google_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    &format!("the content of {name} cannot be read: {e}"),
                )
            })?
    };
    let mut resp = wire::response(StatusCode::OK, body);
    wire::set_header(&mut resp, CONTENT_TYPE, "application/octet-stream");
    wire::set_header(&mut resp, CONTENT_LENGTH, &size.to_string());
    Ok(resp)
}

async fn delete_file(ctx: &Ctx, call: &Call, name: &FileName) -> Result<Resp> {
    let repo = name.repository();
    delete_in(
        ctx,
        call,
        repo,
        "artifactregistry.files.delete",
        |r, now| {
            if r.files.remove(name.file().as_str()).is_none() {
                return Err(file_missing(name));
            }
            r.update_time = now;
            Ok(())
        },
    )
    .await?;
    Ok(deleted(ctx, call, repo))
}

// ---- docker images and format-specific views ---------------------------------------

const DOCKER_LIST: Spec = Spec {
    key: "dockerImages",
    filter_fields: &[],
    order_fields: &["name", "upload_time", "update_time", "image_size_bytes"],
};

fn require_format(r: &Repository, format: &Format, collection: &str) -> Result<()> {
    if r.format == *format {
        Ok(())
    } else {
        Err(precondition(&format!(
            "the repository {} has format {}; {collection} are listed in {} repositories",
            r.name, r.format, format
        )))
    }
}

fn docker_entries(r: &Repository) -> Vec<Entry> {
    r.packages
        .iter()
        .flat_map(|(k, p)| {
            p.versions
                .iter()
                .filter_map(move |(vk, v)| render::docker_image_entry(r, k, p, vk, v))
        })
        .collect()
}

fn list_docker_images(ctx: &Ctx, call: &Call, name: &RepositoryName) -> Result<Resp> {
    let entries = read_in(ctx, call, name, "artifactregistry.dockerimages.list", |r| {
        require_format(r, &Format::Docker, "dockerImages")?;
        Ok(docker_entries(r))
    })?;
    answer_page(call, &name.to_string(), entries, DOCKER_LIST)
}

fn get_docker_image(ctx: &Ctx, call: &Call, name: &DockerImageName) -> Result<Resp> {
    let repo = name.repository();
    let v = read_in(ctx, call, repo, "artifactregistry.dockerimages.get", |r| {
        require_format(r, &Format::Docker, "dockerImages")?;
        let key = name.image().as_str();
        let vk = name.digest().as_str();
        r.packages
            .get(key)
            .and_then(|p| {
                p.versions
                    .get(vk)
                    .and_then(|v| render::docker_image_entry(r, key, p, vk, v))
            })
            .map(|e| e.json)
            .ok_or_else(|| not_found("DockerImage", &name.to_string()))
    })?;
    Ok(call.ok(v))
}

fn format_entries(r: &Repository, view: FormatView) -> Vec<Entry> {
    r.packages
        .iter()
        .flat_map(|(k, p)| {
            p.versions
                .iter()
                .map(move |(vk, v)| render::format_entry(view, r, k, p, vk, v))
        })
        .collect()
}

fn list_format(ctx: &Ctx, call: &Call, name: &RepositoryName, view: FormatView) -> Result<Resp> {
    let permission = format!("{}.list", view.permission());
    let entries = read_in(ctx, call, name, &permission, |r| {
        require_format(r, &view.format(), view.collection())?;
        Ok(format_entries(r, view))
    })?;
    let spec = Spec {
        key: view.collection(),
        filter_fields: &[],
        order_fields: &[],
    };
    answer_page(call, &name.to_string(), entries, spec)
}

fn get_format_item(
    ctx: &Ctx,
    call: &Call,
    repo: &RepositoryName,
    view: FormatView,
    name: &str,
) -> Result<Resp> {
    let wanted = gar_core::names::decode_id(name).unwrap_or_else(|_| name.to_owned());
    let permission = format!("{}.get", view.permission());
    let v = read_in(ctx, call, repo, &permission, |r| {
        require_format(r, &view.format(), view.collection())?;
        format_entries(r, view)
            .into_iter()
            .find(|e| {
                e.name == name || gar_core::names::decode_id(&e.name).is_ok_and(|n| n == wanted)
            })
            .map(|e| e.json)
            .ok_or_else(|| not_found("Version", name))
    })?;
    Ok(call.ok(v))
}
