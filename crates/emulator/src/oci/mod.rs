//! The Docker/OCI Distribution API v2 with GAR's path shape
//! `/v2/{project}/{repository}/{image...}/...`: ping, tags, manifests, blobs,
//! uploads (monolithic, streamed, chunked), cross-repository mount, referrers.

pub(crate) mod error;
pub(crate) mod manifest;

use std::collections::BTreeSet;

use bytes::Bytes;
use gar_core::format::Format;
use gar_core::ids::{
    Digest, DigestAlgorithm, PackageId, ProjectId, RepositoryId, TagId, VersionId,
};
use gar_core::names::RepositoryName;
use http::header::{
    ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderName, LINK, LOCATION,
    RANGE,
};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::blobs::{CommitError, Spill, digest_of, random_hex};
use crate::identity::endpoints::action_permission;
use crate::identity::{AuthError, Caller};
use crate::router::Ctx;
use crate::state::{
    ManifestInfo, Package, UploadData, UploadRef, UploadSession, Version, lock, read, write,
};
use crate::wire::{self, Resp, empty, first, header, percent_decode, query_of, set_header};
use error::{OciError, respond};

const DOCKER_CONTENT_DIGEST: HeaderName = HeaderName::from_static("docker-content-digest");
const DOCKER_UPLOAD_UUID: HeaderName = HeaderName::from_static("docker-upload-uuid");
const OCI_SUBJECT: HeaderName = HeaderName::from_static("oci-subject");
const OCI_FILTERS_APPLIED: HeaderName = HeaderName::from_static("oci-filters-applied");
const API_VERSION: HeaderName = HeaderName::from_static("docker-distribution-api-version");

/// Seconds after which an upload session is dropped when a new one starts.
const UPLOAD_TTL: i64 = 24 * 3600;

/// An OCI request, by path shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/v2/`.
    Ping,
    /// `/v2/{name}/tags/list`.
    Tags(String),
    /// `/v2/{name}/manifests/{reference}`.
    Manifest(String, String),
    /// `/v2/{name}/blobs/{digest}`.
    Blob(String, String),
    /// `/v2/{name}/blobs/uploads/`.
    UploadStart(String),
    /// `/v2/{name}/blobs/uploads/{id}`.
    Upload(String, String),
    /// `/v2/{name}/referrers/{digest}`.
    Referrers(String, String),
    /// Any other `/v2/...` path.
    Unknown,
}

impl Route {
    /// The operation name.
    pub(crate) fn operation(&self, method: &Method) -> &'static str {
        let m = method.as_str();
        match self {
            Self::Ping => "oci.ping",
            Self::Tags(_) => "oci.tags.list",
            Self::Manifest(..) => match m {
                "HEAD" => "oci.manifest.head",
                "PUT" => "oci.manifest.put",
                "DELETE" => "oci.manifest.delete",
                _ => "oci.manifest.get",
            },
            Self::Blob(..) => match m {
                "HEAD" => "oci.blob.head",
                "DELETE" => "oci.blob.delete",
                _ => "oci.blob.get",
            },
            Self::UploadStart(_) => "oci.upload.start",
            Self::Upload(..) => match m {
                "PATCH" => "oci.upload.patch",
                "PUT" => "oci.upload.put",
                "DELETE" => "oci.upload.cancel",
                _ => "oci.upload.status",
            },
            Self::Referrers(..) => "oci.referrers",
            Self::Unknown => "oci.unknown",
        }
    }
}

/// Classifies a `/v2` path.
pub(crate) fn classify(_method: &Method, path: &str) -> Option<Route> {
    if path == "/v2" || path == "/v2/" {
        return Some(Route::Ping);
    }
    let rest = path.strip_prefix("/v2/")?;
    let dec = |s: &str| percent_decode(s, false);
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some(Route::Tags(dec(name)));
    }
    if let Some(name) = rest
        .strip_suffix("/blobs/uploads/")
        .or_else(|| rest.strip_suffix("/blobs/uploads"))
    {
        return Some(Route::UploadStart(dec(name)));
    }
    if let Some((name, id)) = rest.rsplit_once("/blobs/uploads/")
        && !id.contains('/')
    {
        return Some(Route::Upload(dec(name), dec(id)));
    }
    if let Some((name, reference)) = rest.rsplit_once("/manifests/")
        && !reference.contains('/')
    {
        return Some(Route::Manifest(dec(name), dec(reference)));
    }
    if let Some((name, digest)) = rest.rsplit_once("/blobs/")
        && !digest.contains('/')
    {
        return Some(Route::Blob(dec(name), dec(digest)));
    }
    if let Some((name, digest)) = rest.rsplit_once("/referrers/")
        && !digest.contains('/')
    {
        return Some(Route::Referrers(dec(name), dec(digest)));
    }
    Some(Route::Unknown)
}

/// A repository path of the registry: `{project}/{repository}/{image...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OciName {
    /// The project (a domain-scoped `example.com/p` becomes `example.com:p`).
    pub project: ProjectId,
    /// The repository.
    pub repository: RepositoryId,
    /// The image path.
    pub image: PackageId,
    /// The path as given.
    pub full: String,
}

impl OciName {
    /// Parses and validates a repository path.
    pub(crate) fn parse(full: &str) -> Result<Self, OciError> {
        let parts: Vec<&str> = full.split('/').collect();
        let domain_scoped = parts.len() >= 4 && parts.first().is_some_and(|p| p.contains('.'));
        let (project, rest) = if domain_scoped {
            (
                format!(
                    "{}:{}",
                    parts.first().copied().unwrap_or(""),
                    parts.get(1).copied().unwrap_or("")
                ),
                parts.get(2..).unwrap_or_default(),
            )
        } else {
            (
                parts.first().copied().unwrap_or("").to_owned(),
                parts.get(1..).unwrap_or_default(),
            )
        };
        let (Some(repo), Some(image)) = (rest.first(), rest.get(1..).filter(|i| !i.is_empty()))
        else {
            return Err(OciError::name_invalid(&format!(
                "invalid repository name {full:?}: expected {{project}}/{{repository}}/{{image}}"
            )));
        };
        let project: ProjectId = project
            .parse()
            .map_err(|e: gar_core::Error| OciError::name_invalid(e.message()))?;
        let repository: RepositoryId = repo
            .parse()
            .map_err(|e: gar_core::Error| OciError::name_invalid(e.message()))?;
        let image = PackageId::for_format(&Format::Docker, &image.join("/"))
            .map_err(|e| OciError::name_invalid(e.message()))?;
        Ok(Self {
            project,
            repository,
            image,
            full: full.to_owned(),
        })
    }
}

/// What a handler needs of the resolved repository.
#[derive(Debug, Clone)]
pub(crate) struct RepoRef {
    /// Its full name.
    pub name: RepositoryName,
    /// Its format.
    pub format: Format,
    /// Whether its tags are immutable.
    pub immutable_tags: bool,
}

/// Finds the repository of `name` (any location; see [`crate::state::Registry::find_repository`]).
pub(crate) fn resolve_repository(ctx: &Ctx, name: &OciName) -> Option<RepoRef> {
    let reg = read(&ctx.state.registry);
    reg.find_repository(
        name.project.as_str(),
        &name.repository,
        Some(ctx.registry_host()),
        Some(name.image.as_str()),
    )
    .map(|r| RepoRef {
        name: r.name.clone(),
        format: r.format.clone(),
        immutable_tags: r.immutable_tags,
    })
}

fn covers(access: &[(String, Vec<String>)], name: &str, action: &str) -> bool {
    access
        .iter()
        .any(|(n, actions)| n == name && actions.iter().any(|a| a == action || a == "*"))
}

fn challenge_scope(name: &str, action: &str) -> String {
    match action {
        "push" => format!("repository:{name}:pull,push"),
        other => format!("repository:{name}:{other}"),
    }
}

/// Authenticates and authorizes `action` (`pull`, `push`, `delete`) on `name`.
/// Anonymous callers get 401 (so clients fetch a token), authenticated callers
/// without the role 403, a registry token without the action 401 `insufficient_scope`.
pub(crate) fn access(
    ctx: &Ctx,
    headers: &HeaderMap,
    name: &OciName,
    action: &str,
) -> Result<RepoRef, Resp> {
    let state = &ctx.state;
    let scope = challenge_scope(&name.full, action);
    let caller = match state.identity.authenticate(headers, state.clock.unix()) {
        Ok(c) => c,
        Err(e) => {
            let mut err = OciError::unauthorized(&match e {
                AuthError::Expired => "the access token has expired".to_owned(),
                AuthError::Invalid(m) => m,
            });
            err.challenge_error = Some("invalid_token");
            return Err(respond(ctx, err, Some(&scope)));
        }
    };
    let perm = action_permission(action);
    let repo = resolve_repository(ctx, name);
    let unauthorized = || {
        respond(
            ctx,
            OciError::unauthorized("authentication required"),
            Some(&scope),
        )
    };
    match &caller {
        Caller::Anonymous | Caller::AnonymousToken(_) => {
            let Some(repo) = repo else {
                return Err(unauthorized());
            };
            if !state.identity.allowed(None, &repo.name, perm) {
                return Err(unauthorized());
            }
            if let Caller::AnonymousToken(a) = &caller
                && !covers(a, &name.full, action)
            {
                let mut err = OciError::unauthorized("the token does not cover this action");
                err.challenge_error = Some("insufficient_scope");
                return Err(respond(ctx, err, Some(&scope)));
            }
            check_format(ctx, repo)
        }
        Caller::Principal {
            principal,
            scope: token_scope,
        } => {
            let Some(repo) = repo else {
                return Err(respond(
                    ctx,
                    OciError::name_unknown(&format!(
                        "repository {}/{} not found in project {}",
                        name.project, name.repository, name.project
                    )),
                    None,
                ));
            };
            if !state.identity.allowed(Some(principal), &repo.name, perm) {
                return Err(respond(
                    ctx,
                    OciError::denied(&format!(
                        "Permission \"artifactregistry.repositories.{}\" denied on resource \"{}\" for {principal}",
                        match action {
                            "pull" => "downloadArtifacts",
                            "push" => "uploadArtifacts",
                            _ => "deleteArtifacts",
                        },
                        repo.name
                    )),
                    None,
                ));
            }
            if let Some(a) = token_scope
                && !covers(a, &name.full, action)
            {
                let mut err = OciError::unauthorized("the token does not cover this action");
                err.challenge_error = Some("insufficient_scope");
                return Err(respond(ctx, err, Some(&scope)));
            }
            check_format(ctx, repo)
        }
    }
}

fn check_format(ctx: &Ctx, repo: RepoRef) -> Result<RepoRef, Resp> {
    if repo.format == Format::Docker {
        Ok(repo)
    } else {
        Err(respond(
            ctx,
            OciError::name_unknown(&format!(
                "repository {} has format {}; the Docker API serves DOCKER repositories",
                repo.name, repo.format
            )),
            None,
        ))
    }
}

/// An empty answer with `Content-Length: 0`.
fn no_body(status: StatusCode) -> Resp {
    let mut r = wire::response(status, empty());
    set_header(&mut r, CONTENT_LENGTH, "0");
    r
}

/// Serves one OCI request.
pub(crate) async fn handle(ctx: &Ctx, route: Route, req: Request<Incoming>) -> Resp {
    let mut resp = match route {
        Route::Ping => ping(ctx, &req),
        Route::Tags(name) => with_name(ctx, &name, |n| tags_list(ctx, &req, n)),
        Route::Manifest(name, reference) => match OciName::parse(&name) {
            Err(e) => respond(ctx, e, None),
            Ok(n) => match *req.method() {
                Method::GET | Method::HEAD => get_manifest(ctx, &req, &n, &reference).await,
                Method::PUT => put_manifest(ctx, req, &n, &reference).await,
                Method::DELETE => delete_manifest(ctx, &req, &n, &reference).await,
                _ => unsupported(ctx),
            },
        },
        Route::Blob(name, digest) => match OciName::parse(&name) {
            Err(e) => respond(ctx, e, None),
            Ok(n) => match *req.method() {
                Method::GET | Method::HEAD => get_blob(ctx, &req, &n, &digest).await,
                Method::DELETE => match access(ctx, req.headers(), &n, "delete") {
                    Err(r) => r,
                    Ok(_) => respond(
                        ctx,
                        OciError::new(
                            StatusCode::METHOD_NOT_ALLOWED,
                            "UNSUPPORTED",
                            "deleting blobs is not supported; delete the manifests that use them",
                        ),
                        None,
                    ),
                },
                _ => unsupported(ctx),
            },
        },
        Route::UploadStart(name) => match OciName::parse(&name) {
            Err(e) => respond(ctx, e, None),
            Ok(n) if req.method() == Method::POST => start_upload(ctx, req, &n).await,
            Ok(_) => unsupported(ctx),
        },
        Route::Upload(name, id) => match OciName::parse(&name) {
            Err(e) => respond(ctx, e, None),
            Ok(n) => match *req.method() {
                Method::PATCH => patch_upload(ctx, req, &n, &id).await,
                Method::PUT => put_upload(ctx, req, &n, &id).await,
                Method::GET => upload_status(ctx, &req, &n, &id).await,
                Method::DELETE => cancel_upload(ctx, &req, &n, &id),
                _ => unsupported(ctx),
            },
        },
        Route::Referrers(name, digest) => match OciName::parse(&name) {
            Err(e) => respond(ctx, e, None),
            Ok(n) if req.method() == Method::GET => referrers(ctx, &req, &n, &digest),
            Ok(_) => unsupported(ctx),
        },
        Route::Unknown => respond(
            ctx,
            OciError::new(
                StatusCode::NOT_FOUND,
                "UNSUPPORTED",
                format!("no such endpoint: {}", req.uri().path()),
            ),
            None,
        ),
    };
    set_header(&mut resp, API_VERSION, "registry/2.0");
    resp
}

fn with_name(ctx: &Ctx, name: &str, f: impl FnOnce(&OciName) -> Resp) -> Resp {
    match OciName::parse(name) {
        Ok(n) => f(&n),
        Err(e) => respond(ctx, e, None),
    }
}

fn unsupported(ctx: &Ctx) -> Resp {
    respond(
        ctx,
        OciError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "the method is not supported here",
        ),
        None,
    )
}

fn ping(ctx: &Ctx, req: &Request<Incoming>) -> Resp {
    let state = &ctx.state;
    match state
        .identity
        .authenticate(req.headers(), state.clock.unix())
    {
        Ok(Caller::Anonymous) if !state.identity.directory().anonymous_read => {
            respond(ctx, OciError::unauthorized("authentication required"), None)
        }
        Ok(_) => wire::json(StatusCode::OK, &json!({})),
        Err(e) => {
            let mut err = OciError::unauthorized(&e.to_string());
            err.challenge_error = Some("invalid_token");
            respond(ctx, err, None)
        }
    }
}

fn tags_list(ctx: &Ctx, req: &Request<Incoming>, name: &OciName) -> Resp {
    let repo = match access(ctx, req.headers(), name, "pull") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let q = query_of(req.uri());
    let n = match first(&q, "n").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return respond(
                ctx,
                OciError::new(
                    StatusCode::BAD_REQUEST,
                    "PAGINATION_NUMBER_INVALID",
                    "n is not a number",
                ),
                None,
            );
        }
    };
    let last = first(&q, "last").map(str::to_owned);
    let reg = read(&ctx.state.registry);
    let Some(r) = reg.repository(&repo.name) else {
        return respond(ctx, OciError::name_unknown(&name.full), None);
    };
    let image = name.image.as_str();
    let prefix = format!("{image}/");
    let children: BTreeSet<String> = r
        .packages
        .keys()
        .filter_map(|k| k.strip_prefix(&prefix))
        .filter_map(|rest| rest.split('/').next())
        .map(str::to_owned)
        .collect();
    let package = r.packages.get(image);
    if package.is_none() && children.is_empty() {
        return respond(
            ctx,
            OciError::name_unknown(&format!(
                "repository name not known to registry: {}",
                name.full
            )),
            None,
        );
    }
    let all: Vec<&String> = package
        .map(|p| {
            p.tags
                .keys()
                .filter(|t| last.as_ref().is_none_or(|l| *t > l))
                .collect()
        })
        .unwrap_or_default();
    let take = n.unwrap_or(all.len());
    let page: Vec<&String> = all.iter().take(take).copied().collect();
    let more = all.len() > page.len() && take > 0;
    let mut manifests = serde_json::Map::new();
    if let Some(p) = package {
        for (vid, v) in &p.versions {
            if let Some(m) = &v.manifest {
                manifests.insert(
                    vid.clone(),
                    json!({
                        "imageSizeBytes": m.image_size.to_string(),
                        "layerId": "",
                        "mediaType": m.media_type,
                        "tag": p.tags_of(vid),
                        "timeCreatedMs": v.create_time.unix_millis().to_string(),
                        "timeUploadedMs": v.update_time.unix_millis().to_string(),
                    }),
                );
            }
        }
    }
    let body = json!({
        "child": children,
        "manifest": manifests,
        "name": name.full,
        "tags": page,
    });
    let mut resp = wire::json(StatusCode::OK, &body);
    if more && let Some(last_tag) = page.last() {
        wire::append_header(
            &mut resp,
            LINK,
            &format!(
                "</v2/{}/tags/list?n={}&last={}>; rel=\"next\"",
                name.full,
                take,
                wire::query_encode(last_tag)
            ),
        );
    }
    resp
}

/// Looks up the manifest `reference` (tag or digest) of `image` in `repo`.
fn find_manifest(
    ctx: &Ctx,
    repo: &RepositoryName,
    image: &str,
    reference: &str,
) -> Option<ManifestInfo> {
    let reg = read(&ctx.state.registry);
    let package = reg.repository(repo)?.packages.get(image)?;
    let version = if reference.contains(':') {
        reference.to_owned()
    } else {
        package.tags.get(reference)?.clone()
    };
    package.versions.get(&version)?.manifest.clone()
}

async fn get_manifest(ctx: &Ctx, req: &Request<Incoming>, name: &OciName, reference: &str) -> Resp {
    let repo = match access(ctx, req.headers(), name, "pull") {
        Ok(r) => r,
        Err(r) => return r,
    };
    if reference.contains(':') && reference.parse::<Digest>().is_err() {
        return respond(
            ctx,
            OciError::digest_invalid(&format!("invalid digest {reference:?}")),
            None,
        );
    }
    let Some(info) = find_manifest(ctx, &repo.name, name.image.as_str(), reference) else {
        return respond(ctx, OciError::manifest_unknown(reference), None);
    };
    let bytes = match ctx.state.blobs.read(&info.digest).await {
        Ok(b) => b,
        Err(_) => return respond(ctx, OciError::manifest_unknown(reference), None),
    };
    let len = bytes.len();
    let mut resp = if req.method() == Method::HEAD {
        wire::response(StatusCode::OK, empty())
    } else {
        wire::response(StatusCode::OK, wire::full(bytes))
    };
    set_header(&mut resp, CONTENT_TYPE, &info.media_type);
    set_header(&mut resp, CONTENT_LENGTH, &len.to_string());
    set_header(&mut resp, DOCKER_CONTENT_DIGEST, info.digest.as_str());
    set_header(&mut resp, ETAG, &format!("\"{}\"", info.digest));
    resp
}

async fn put_manifest(ctx: &Ctx, req: Request<Incoming>, name: &OciName, reference: &str) -> Resp {
    let repo = match access(ctx, req.headers(), name, "push") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let by_digest = reference.contains(':');
    let ref_digest = if by_digest {
        match reference.parse::<Digest>() {
            Ok(d) => Some(d),
            Err(e) => return respond(ctx, OciError::digest_invalid(e.message()), None),
        }
    } else {
        if let Err(e) = TagId::for_format(&Format::Docker, reference) {
            return respond(
                ctx,
                OciError::new(StatusCode::BAD_REQUEST, "TAG_INVALID", e.message())
                    .detail(json!({"tag": reference})),
                None,
            );
        }
        None
    };
    let content_type = header(req.headers(), CONTENT_TYPE).map(str::to_owned);
    let bytes = match wire::read_limited(req.into_body(), manifest::MAX_MANIFEST).await {
        Ok(b) => b,
        Err(wire::ReadError::TooLarge) => {
            return respond(
                ctx,
                OciError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "MANIFEST_INVALID",
                    "the manifest is larger than 4 MiB",
                ),
                None,
            );
        }
        Err(wire::ReadError::Io(e)) => return respond(ctx, OciError::manifest_invalid(&e), None),
    };
    let parsed = match manifest::parse(content_type.as_deref(), &bytes) {
        Ok(p) => p,
        Err(e) => return respond(ctx, e, None),
    };
    let algorithm = ref_digest
        .as_ref()
        .map_or(DigestAlgorithm::Sha256, Digest::algorithm);
    let Some(digest) = digest_of(algorithm, &bytes) else {
        return respond(ctx, OciError::internal("hashing failed"), None);
    };
    if let Some(expected) = &ref_digest
        && *expected != digest
    {
        return respond(
            ctx,
            OciError::digest_invalid(&format!(
                "the manifest's digest is {digest}, not {expected}"
            ))
            .detail(json!({"expected": expected.to_string(), "actual": digest.to_string()})),
            None,
        );
    }
    // Referenced content must be present.
    let image = name.image.as_str();
    let (image_size, platforms) = {
        let reg = read(&ctx.state.registry);
        let Some(r) = reg.repository(&repo.name) else {
            return respond(ctx, OciError::name_unknown(&name.full), None);
        };
        let package = r.packages.get(image);
        for d in parsed.blobs.iter().filter(|d| !d.foreign) {
            if !r.blobs.contains_key(d.digest.as_str()) {
                return respond(
                    ctx,
                    OciError::new(
                        StatusCode::BAD_REQUEST,
                        "MANIFEST_BLOB_UNKNOWN",
                        format!("blob unknown to registry: {}", d.digest),
                    )
                    .detail(json!({"digest": d.digest.to_string()})),
                    None,
                );
            }
        }
        let mut size = bytes.len() as u64;
        for d in &parsed.manifests {
            let child = package
                .and_then(|p| p.versions.get(d.digest.as_str()))
                .and_then(|v| v.manifest.as_ref());
            match child {
                Some(c) => size += c.image_size,
                None => {
                    return respond(
                        ctx,
                        OciError::new(
                            StatusCode::BAD_REQUEST,
                            "MANIFEST_BLOB_UNKNOWN",
                            format!("manifest unknown to registry: {}", d.digest),
                        )
                        .detail(json!({"digest": d.digest.to_string()})),
                        None,
                    );
                }
            }
        }
        size += parsed.blobs.iter().map(|d| d.size).sum::<u64>();
        if repo.immutable_tags
            && !by_digest
            && let Some(current) = package.and_then(|p| p.tags.get(reference))
            && *current != digest.to_string()
        {
            return respond(
                ctx,
                OciError::new(
                    StatusCode::BAD_REQUEST,
                    "TAG_INVALID",
                    format!(
                        "tag {reference} is immutable in repository {} and already points to {current}",
                        repo.name
                    ),
                ),
                None,
            );
        }
        let platforms: Vec<Value> = parsed
            .manifests
            .iter()
            .map(|d| {
                let mut p = d.platform.clone().unwrap_or_else(|| json!({}));
                if let Some(o) = p.as_object_mut() {
                    o.insert("digest".into(), json!(d.digest.to_string()));
                    o.insert("mediaType".into(), json!(d.media_type));
                }
                p
            })
            .collect();
        (size, platforms)
    };
    if let Err(e) = ctx.state.blobs.put(bytes.clone(), &digest).await {
        return respond(
            ctx,
            OciError::internal(&format!("could not store the manifest: {e}")),
            None,
        );
    }
    let info = ManifestInfo {
        digest: digest.clone(),
        media_type: parsed.media_type.clone(),
        size: bytes.len() as u64,
        artifact_type: parsed.artifact_type.clone(),
        subject: parsed.subject.as_ref().map(|s| s.digest.clone()),
        annotations: parsed.annotations.clone(),
        blobs: parsed.blobs.iter().map(|d| d.digest.clone()).collect(),
        children: parsed.manifests.iter().map(|d| d.digest.clone()).collect(),
        image_size,
        platforms,
    };
    {
        let now = ctx.state.clock.now();
        let mut reg = write(&ctx.state.registry);
        let Some(r) = reg.repository_mut(&repo.name) else {
            return respond(ctx, OciError::name_unknown(&name.full), None);
        };
        r.update_time = now;
        let package = r
            .packages
            .entry(image.to_owned())
            .or_insert_with(|| Package::new(name.image.clone(), now));
        package.update_time = now;
        let version_id = VersionId::from_digest(&digest).to_string();
        let version = package
            .versions
            .entry(version_id.clone())
            .or_insert_with(|| Version {
                create_time: now,
                update_time: now,
                description: String::new(),
                annotations: info.annotations.clone(),
                manifest: None,
            });
        version.update_time = now;
        version.manifest = Some(info);
        if !by_digest {
            package.tags.insert(reference.to_owned(), version_id);
        }
    }
    ctx.state.save().await;
    crate::analysis::manifest_pushed(ctx, &repo.name, image, &digest).await;
    let mut resp = no_body(StatusCode::CREATED);
    set_header(
        &mut resp,
        LOCATION,
        &format!("/v2/{}/manifests/{}", name.full, digest),
    );
    set_header(&mut resp, DOCKER_CONTENT_DIGEST, digest.as_str());
    if let Some(subject) = &parsed.subject {
        set_header(&mut resp, OCI_SUBJECT, subject.digest.as_str());
    }
    resp
}

async fn delete_manifest(
    ctx: &Ctx,
    req: &Request<Incoming>,
    name: &OciName,
    reference: &str,
) -> Resp {
    let repo = match access(ctx, req.headers(), name, "delete") {
        Ok(r) => r,
        Err(r) => return r,
    };
    if reference.contains(':') && reference.parse::<Digest>().is_err() {
        return respond(
            ctx,
            OciError::digest_invalid(&format!("invalid digest {reference:?}")),
            None,
        );
    }
    let found = {
        let now = ctx.state.clock.now();
        let mut reg = write(&ctx.state.registry);
        let image = name.image.as_str();
        let r = reg.repository_mut(&repo.name);
        let found = match r.and_then(|r| r.packages.get_mut(image).map(|p| (p, &mut r.update_time)))
        {
            None => false,
            Some((p, repo_time)) => {
                let removed = if reference.contains(':') {
                    let had = p.versions.remove(reference).is_some();
                    p.tags.retain(|_, v| v != reference);
                    had
                } else {
                    p.tags.remove(reference).is_some()
                };
                if removed {
                    p.update_time = now;
                    *repo_time = now;
                }
                removed
            }
        };
        if let Some(r) = reg.repository_mut(&repo.name)
            && r.packages
                .get(image)
                .is_some_and(|p| p.versions.is_empty() && p.tags.is_empty())
        {
            r.packages.remove(image);
        }
        found
    };
    if !found {
        return respond(ctx, OciError::manifest_unknown(reference), None);
    }
    ctx.state.save().await;
    no_body(StatusCode::ACCEPTED)
}

/// A parsed `Range: bytes=...` request against `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// No range (or one the server may ignore): the whole content.
    Whole,
    /// The inclusive range `start..=end`.
    Part(u64, u64),
    /// Cannot be satisfied.
    Unsatisfiable,
}

/// Parses a single-range `Range` header.
pub(crate) fn parse_range(value: Option<&str>, size: u64) -> ByteRange {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return ByteRange::Unsatisfiable;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        match b.parse::<u64>() {
            Ok(0) | Err(_) => None,
            Ok(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
        }
    } else {
        match (a.parse::<u64>(), b) {
            (Ok(s), "") => Some((s, size.saturating_sub(1))),
            (Ok(s), b) => b
                .parse::<u64>()
                .ok()
                .filter(|e| *e >= s)
                .map(|e| (s, e.min(size.saturating_sub(1)))),
            _ => None,
        }
    };
    match range {
        Some((s, e)) if size > 0 && s < size && s <= e => ByteRange::Part(s, e),
        _ => ByteRange::Unsatisfiable,
    }
}

async fn get_blob(ctx: &Ctx, req: &Request<Incoming>, name: &OciName, digest: &str) -> Resp {
    let Ok(d) = digest.parse::<Digest>() else {
        return respond(
            ctx,
            OciError::digest_invalid(&format!("invalid digest {digest:?}")),
            None,
        );
    };
    let repo = match access(ctx, req.headers(), name, "pull") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let linked = read(&ctx.state.registry)
        .repository(&repo.name)
        .is_some_and(|r| r.blobs.contains_key(d.as_str()));
    let size = if linked {
        ctx.state.blobs.size(&d).await
    } else {
        None
    };
    let Some(size) = size else {
        let mut r = respond(ctx, OciError::blob_unknown(d.as_str()), None);
        if req.method() == Method::HEAD {
            *r.body_mut() = empty();
        }
        return r;
    };
    let head = req.method() == Method::HEAD;
    let range = if head {
        ByteRange::Whole
    } else {
        parse_range(header(req.headers(), RANGE), size)
    };
    let (status, start, len) = match range {
        ByteRange::Whole => (StatusCode::OK, 0, size),
        ByteRange::Part(s, e) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        ByteRange::Unsatisfiable => {
            let mut r = respond(
                ctx,
                OciError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "BLOB_UNKNOWN",
                    "the range cannot be satisfied",
                )
                .detail(json!({"size": size})),
                None,
            );
            set_header(&mut r, CONTENT_RANGE, &format!("bytes */{size}"));
            return r;
        }
    };
    let body = if head || len == 0 {
        empty()
    } else {
        match ctx.state.blobs.stream(&d, start, len).await {
            Ok(b) => b,
            Err(e) => {
                return respond(
                    ctx,
                    OciError::internal(&format!("could not read the blob: {e}")),
                    None,
                );
            }
        }
    };
    let mut resp = wire::response(status, body);
    set_header(&mut resp, CONTENT_TYPE, "application/octet-stream");
    set_header(&mut resp, CONTENT_LENGTH, &len.to_string());
    set_header(&mut resp, DOCKER_CONTENT_DIGEST, d.as_str());
    set_header(&mut resp, ACCEPT_RANGES, "bytes");
    set_header(&mut resp, ETAG, &format!("\"{d}\""));
    if status == StatusCode::PARTIAL_CONTENT {
        set_header(
            &mut resp,
            CONTENT_RANGE,
            &format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    resp
}

/// Links a stored blob into a repository and saves.
async fn link_blob(ctx: &Ctx, repo: &RepositoryName, digest: &Digest, size: u64) {
    {
        let mut reg = write(&ctx.state.registry);
        if let Some(r) = reg.repository_mut(repo) {
            r.blobs.insert(digest.to_string(), size);
        }
    }
    ctx.state.save().await;
}

fn blob_created(name: &OciName, digest: &Digest) -> Resp {
    let mut resp = no_body(StatusCode::CREATED);
    set_header(
        &mut resp,
        LOCATION,
        &format!("/v2/{}/blobs/{digest}", name.full),
    );
    set_header(&mut resp, DOCKER_CONTENT_DIGEST, digest.as_str());
    resp
}

fn upload_url(name: &OciName, id: &str) -> String {
    format!("/v2/{}/blobs/uploads/{id}", name.full)
}

fn range_value(len: u64) -> String {
    format!("0-{}", len.saturating_sub(1))
}

fn upload_accepted(status: StatusCode, name: &OciName, id: &str, len: u64) -> Resp {
    let mut resp = no_body(status);
    set_header(&mut resp, LOCATION, &upload_url(name, id));
    set_header(&mut resp, RANGE, &range_value(len));
    set_header(&mut resp, DOCKER_UPLOAD_UUID, id);
    resp
}

/// Streams a request body into `spill`; the bytes written, or a connection error.
async fn stream_into(
    spill: &mut Spill,
    mut body: Incoming,
    progress: Option<&std::sync::atomic::AtomicU64>,
) -> Result<u64, String> {
    let mut written = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("the upload was interrupted: {e}"))?;
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            spill
                .write(&data)
                .await
                .map_err(|e| format!("could not write the upload: {e}"))?;
            written += data.len() as u64;
            if let Some(p) = progress {
                p.store(spill.len(), std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    Ok(written)
}

async fn commit_spill(ctx: &Ctx, spill: Spill, digest: &Digest) -> Result<u64, Resp> {
    match ctx.state.blobs.commit(spill, digest).await {
        Ok(size) => Ok(size),
        Err(CommitError::Mismatch { actual }) => Err(respond(
            ctx,
            OciError::digest_invalid(&format!("the content's digest is {actual}, not {digest}"))
                .detail(json!({"expected": digest.to_string(), "actual": actual})),
            None,
        )),
        Err(CommitError::Io(e)) => Err(respond(
            ctx,
            OciError::internal(&format!("could not store the blob: {e}")),
            None,
        )),
    }
}

async fn start_upload(ctx: &Ctx, req: Request<Incoming>, name: &OciName) -> Resp {
    let repo = match access(ctx, req.headers(), name, "push") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let q = query_of(req.uri());
    if let Some(mount) = first(&q, "mount")
        && let Ok(digest) = mount.parse::<Digest>()
        && let Some(size) = mountable(ctx, &req, &repo, &digest, first(&q, "from")).await
    {
        link_blob(ctx, &repo.name, &digest, size).await;
        return blob_created(name, &digest);
    }
    let mut spill = match ctx.state.blobs.spill().await {
        Ok(s) => s,
        Err(e) => {
            return respond(
                ctx,
                OciError::internal(&format!("could not start the upload: {e}")),
                None,
            );
        }
    };
    if let Some(d) = first(&q, "digest") {
        let Ok(digest) = d.parse::<Digest>() else {
            return respond(
                ctx,
                OciError::digest_invalid(&format!("invalid digest {d:?}")),
                None,
            );
        };
        if let Err(e) = stream_into(&mut spill, req.into_body(), None).await {
            return respond(
                ctx,
                OciError::new(StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID", e),
                None,
            );
        }
        return match commit_spill(ctx, spill, &digest).await {
            Ok(size) => {
                link_blob(ctx, &repo.name, &digest, size).await;
                blob_created(name, &digest)
            }
            Err(r) => r,
        };
    }
    let id = random_hex(16);
    let now = ctx.state.clock.unix();
    let upload = UploadSession {
        started: now,
        repository: repo.name.clone(),
        image: name.image.to_string(),
        received: std::sync::atomic::AtomicU64::new(0),
        data: tokio::sync::Mutex::new(UploadData {
            spill: Some(spill),
            patches: 0,
        }),
    };
    {
        let mut uploads = lock(&ctx.state.uploads);
        // Sessions abandoned for a day expire (their spill files go with them).
        uploads.retain(|_, u| u.started > now - UPLOAD_TTL || u.data.try_lock().is_err());
        uploads.insert(id.clone(), std::sync::Arc::new(upload));
    }
    upload_accepted(StatusCode::ACCEPTED, name, &id, 0)
}

/// The size of `digest` if the caller may mount it from `from` (or it is already in `repo`).
async fn mountable(
    ctx: &Ctx,
    req: &Request<Incoming>,
    repo: &RepoRef,
    digest: &Digest,
    from: Option<&str>,
) -> Option<u64> {
    let in_target = read(&ctx.state.registry)
        .repository(&repo.name)
        .and_then(|r| r.blobs.get(digest.as_str()).copied());
    if in_target.is_some() {
        return in_target;
    }
    let from = OciName::parse(from?).ok()?;
    let source = access(ctx, req.headers(), &from, "pull").ok()?;
    let size = read(&ctx.state.registry)
        .repository(&source.name)
        .and_then(|r| r.blobs.get(digest.as_str()).copied())?;
    ctx.state.blobs.size(digest).await.filter(|s| *s == size)
}

fn find_upload(ctx: &Ctx, name: &OciName, repo: &RepoRef, id: &str) -> Result<UploadRef, Resp> {
    let upload = lock(&ctx.state.uploads).get(id).cloned();
    let Some(upload) = upload else {
        return Err(respond(ctx, OciError::upload_unknown(id), None));
    };
    // The session must belong to this repository and image.
    if upload.repository != repo.name || upload.image != name.image.as_str() {
        return Err(respond(ctx, OciError::upload_unknown(id), None));
    }
    Ok(upload)
}

/// Parses `Content-Range: {start}-{end}` (also with a `bytes ` prefix).
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let v = value.trim();
    let v = v
        .strip_prefix("bytes ")
        .or_else(|| v.strip_prefix("bytes="))
        .unwrap_or(v);
    let v = v.split('/').next().unwrap_or(v);
    let (a, b) = v.split_once('-')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (b >= a).then_some((a, b))
}

fn range_invalid(ctx: &Ctx, name: &OciName, id: &str, len: u64, message: &str) -> Resp {
    let mut resp = respond(
        ctx,
        OciError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            message,
        ),
        None,
    );
    set_header(&mut resp, LOCATION, &upload_url(name, id));
    set_header(&mut resp, RANGE, &range_value(len));
    set_header(&mut resp, DOCKER_UPLOAD_UUID, id);
    resp
}

fn chunked_refused(ctx: &Ctx) -> Resp {
    respond(
        ctx,
        OciError::new(
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED",
            "Artifact Registry does not support chunked uploads; send the blob in one PATCH or PUT",
        ),
        None,
    )
}

async fn patch_upload(ctx: &Ctx, req: Request<Incoming>, name: &OciName, id: &str) -> Resp {
    let repo = match access(ctx, req.headers(), name, "push") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let upload = match find_upload(ctx, name, &repo, id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut guard = upload.data.lock().await;
    let u = &mut *guard;
    let Some(spill) = u.spill.as_mut() else {
        return respond(ctx, OciError::upload_unknown(id), None);
    };
    let current = spill.len();
    let content_range = header(req.headers(), CONTENT_RANGE).map(str::to_owned);
    if ctx.state.config.gar_quirks && (content_range.is_some() || u.patches > 0) {
        return chunked_refused(ctx);
    }
    let declared = header(req.headers(), CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    let mut expect = None;
    if let Some(cr) = &content_range {
        let Some((start, end)) = parse_content_range(cr) else {
            return range_invalid(
                ctx,
                name,
                id,
                current,
                &format!("invalid Content-Range {cr:?}"),
            );
        };
        if start != current {
            return range_invalid(
                ctx,
                name,
                id,
                current,
                &format!("the chunk starts at {start}; the upload has {current} bytes"),
            );
        }
        let len = end - start + 1;
        if declared.is_some_and(|d| d != len) {
            return range_invalid(
                ctx,
                name,
                id,
                current,
                "Content-Length does not match Content-Range",
            );
        }
        expect = Some(len);
    }
    let written = match stream_into(spill, req.into_body(), Some(&upload.received)).await {
        Ok(w) => w,
        Err(e) => {
            return respond(
                ctx,
                OciError::new(StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID", e),
                None,
            );
        }
    };
    let len = spill.len();
    if expect.is_some_and(|e| e != written) {
        drop(guard);
        lock(&ctx.state.uploads).remove(id);
        return respond(
            ctx,
            OciError::new(
                StatusCode::BAD_REQUEST,
                "SIZE_INVALID",
                "the chunk's length differs from its Content-Range",
            ),
            None,
        );
    }
    if written > 0 {
        u.patches += 1;
    }
    upload_accepted(StatusCode::ACCEPTED, name, id, len)
}

async fn put_upload(ctx: &Ctx, req: Request<Incoming>, name: &OciName, id: &str) -> Resp {
    let repo = match access(ctx, req.headers(), name, "push") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let upload = match find_upload(ctx, name, &repo, id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let q = query_of(req.uri());
    let Some(digest) = first(&q, "digest") else {
        return respond(
            ctx,
            OciError::digest_invalid("the digest query parameter is required"),
            None,
        );
    };
    let Ok(digest) = digest.parse::<Digest>() else {
        return respond(
            ctx,
            OciError::digest_invalid(&format!("invalid digest {digest:?}")),
            None,
        );
    };
    let mut u = upload.data.lock().await;
    let declared = header(req.headers(), CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if ctx.state.config.gar_quirks && u.patches > 0 && declared.is_some_and(|d| d > 0) {
        return chunked_refused(ctx);
    }
    let Some(mut spill) = u.spill.take() else {
        return respond(ctx, OciError::upload_unknown(id), None);
    };
    if let Some(cr) = header(req.headers(), CONTENT_RANGE)
        && parse_content_range(cr).is_none_or(|(s, _)| s != spill.len())
    {
        let len = spill.len();
        u.spill = Some(spill);
        return range_invalid(ctx, name, id, len, &format!("invalid Content-Range {cr:?}"));
    }
    if let Err(e) = stream_into(&mut spill, req.into_body(), Some(&upload.received)).await {
        u.spill = Some(spill);
        return respond(
            ctx,
            OciError::new(StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID", e),
            None,
        );
    }
    drop(u);
    lock(&ctx.state.uploads).remove(id);
    match commit_spill(ctx, spill, &digest).await {
        Ok(size) => {
            link_blob(ctx, &repo.name, &digest, size).await;
            blob_created(name, &digest)
        }
        Err(r) => r,
    }
}

async fn upload_status(ctx: &Ctx, req: &Request<Incoming>, name: &OciName, id: &str) -> Resp {
    let repo = match access(ctx, req.headers(), name, "push") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let upload = match find_upload(ctx, name, &repo, id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let len = upload.received.load(std::sync::atomic::Ordering::Relaxed);
    upload_accepted(StatusCode::NO_CONTENT, name, id, len)
}

fn cancel_upload(ctx: &Ctx, req: &Request<Incoming>, name: &OciName, id: &str) -> Resp {
    let repo = match access(ctx, req.headers(), name, "push") {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Err(r) = find_upload(ctx, name, &repo, id) {
        return r;
    }
    lock(&ctx.state.uploads).remove(id);
    no_body(StatusCode::NO_CONTENT)
}

fn referrers(ctx: &Ctx, req: &Request<Incoming>, name: &OciName, digest: &str) -> Resp {
    let Ok(subject) = digest.parse::<Digest>() else {
        return respond(
            ctx,
            OciError::digest_invalid(&format!("invalid digest {digest:?}")),
            None,
        );
    };
    let repo = match access(ctx, req.headers(), name, "pull") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let q = query_of(req.uri());
    let filter = first(&q, "artifactType").map(str::to_owned);
    let reg = read(&ctx.state.registry);
    let mut manifests = Vec::new();
    if let Some(p) = reg
        .repository(&repo.name)
        .and_then(|r| r.packages.get(name.image.as_str()))
    {
        for v in p.versions.values() {
            let Some(m) = &v.manifest else { continue };
            if m.subject.as_ref() != Some(&subject) {
                continue;
            }
            if let Some(f) = &filter
                && m.artifact_type.as_deref() != Some(f.as_str())
            {
                continue;
            }
            let mut d =
                json!({"mediaType": m.media_type, "digest": m.digest.to_string(), "size": m.size});
            if let Some(o) = d.as_object_mut() {
                if let Some(t) = &m.artifact_type {
                    o.insert("artifactType".into(), json!(t));
                }
                if !m.annotations.is_empty() {
                    o.insert("annotations".into(), json!(m.annotations));
                }
            }
            manifests.push(d);
        }
    }
    let body =
        json!({"schemaVersion": 2, "mediaType": manifest::OCI_INDEX, "manifests": manifests});
    let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    let len = bytes.len();
    let mut resp = wire::response(StatusCode::OK, wire::full(bytes));
    set_header(&mut resp, CONTENT_TYPE, manifest::OCI_INDEX);
    set_header(&mut resp, CONTENT_LENGTH, &len.to_string());
    if filter.is_some() {
        set_header(&mut resp, OCI_FILTERS_APPLIED, "artifactType");
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let m = Method::GET;
        assert_eq!(classify(&m, "/v2/"), Some(Route::Ping));
        assert_eq!(
            classify(&m, "/v2/p/r/a/b/manifests/latest"),
            Some(Route::Manifest("p/r/a/b".into(), "latest".into()))
        );
        assert_eq!(
            classify(&m, "/v2/p/r/img/blobs/uploads/"),
            Some(Route::UploadStart("p/r/img".into()))
        );
        assert_eq!(
            classify(&m, "/v2/p/r/img/blobs/uploads/abc"),
            Some(Route::Upload("p/r/img".into(), "abc".into()))
        );
        assert_eq!(
            classify(&m, "/v2/p/r/img/blobs/sha256%3Aab"),
            Some(Route::Blob("p/r/img".into(), "sha256:ab".into()))
        );
        assert_eq!(
            classify(&m, "/v2/p/r/img/tags/list"),
            Some(Route::Tags("p/r/img".into()))
        );
        assert_eq!(classify(&m, "/v2/_catalog"), Some(Route::Unknown));
    }

    #[test]
    fn names() {
        let n = OciName::parse("my-project/docker/team/app").unwrap();
        assert_eq!(n.image.as_str(), "team/app");
        let d = OciName::parse("example.com/my-project/docker/app").unwrap();
        assert_eq!(d.project.as_str(), "example.com:my-project");
        assert!(OciName::parse("p1-proj/docker").is_err());
        assert!(OciName::parse("my-project/Docker/app").is_err());
        assert!(OciName::parse("my-project/docker/App").is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), ByteRange::Whole);
        assert_eq!(parse_range(Some("bytes=0-4"), 10), ByteRange::Part(0, 4));
        assert_eq!(parse_range(Some("bytes=5-"), 10), ByteRange::Part(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), ByteRange::Part(7, 9));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), ByteRange::Part(8, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), ByteRange::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), ByteRange::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), ByteRange::Whole);
        assert_eq!(parse_content_range("0-9"), Some((0, 9)));
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, 19)));
        assert_eq!(parse_content_range("9-0"), None);
    }
}
