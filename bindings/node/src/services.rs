//! The Artifact Registry areas of the facade: repositories, packages, versions,
//! tags, files, docker images and cleanup. Each method resolves the facade's
//! handle (which checks ids before any request), sets what the options carry,
//! and starts the call.

use std::collections::HashMap;

use gar::artifactregistry::List;
use gar::model::{Format, Mode, VersionView};
use napi_derive::napi;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::NativeClient;
use crate::convert::to_json;
use crate::error::{invalid, to_napi};
use crate::lists::first_page;
use crate::task::{Task, failed, start};

/// Options of a list call.
#[napi(object)]
#[derive(Default)]
pub struct ListOptions {
    /// Items per page (the server's default when absent).
    pub page_size: Option<i32>,
    /// Resume from this page token.
    pub page_token: Option<String>,
    /// A filter (`name="..."`, with `*` wildcards and `AND`/`OR`).
    pub filter: Option<String>,
    /// The order (`create_time desc`).
    pub order_by: Option<String>,
    /// Versions only: `BASIC` or `FULL` (with related tags).
    pub view: Option<String>,
}

/// Fields of a repository to set on creation or update.
#[napi(object)]
#[derive(Default)]
pub struct RepositoryFields {
    /// Its mode (creation only): `STANDARD_REPOSITORY`, `VIRTUAL_REPOSITORY`, `REMOTE_REPOSITORY`.
    pub mode: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its labels.
    pub labels: Option<HashMap<String, String>>,
    /// Its cleanup policies, in the REST shape (a map by id).
    pub cleanup_policies: Option<Value>,
    /// Whether cleanup policies only report.
    pub cleanup_policy_dry_run: Option<bool>,
    /// Docker: immutable tags.
    pub immutable_tags: Option<bool>,
}

/// Options of a cleanup evaluation or application.
#[napi(object)]
#[derive(Default)]
pub struct CleanupOptions {
    /// Policies to evaluate instead of the repository's own (REST shape, a map by id).
    pub policies: Option<Value>,
    /// The instant ages are measured against (RFC 3339), now by default.
    pub now: Option<String>,
    /// Apply: delete tagged versions too.
    pub force: Option<bool>,
}

fn no(what: &str, option: &str) -> gar::Error {
    invalid(
        gar::ErrorKind::InvalidArgument,
        format!("{what} cannot take the option {option}"),
    )
}

/// The options every list takes (page size and token).
fn paged<T>(mut list: List<T>, o: &ListOptions) -> List<T>
where
    T: DeserializeOwned + Send + 'static,
{
    if let Some(n) = o.page_size {
        list = list.set_page_size(n);
    }
    if let Some(t) = &o.page_token {
        list = list.set_page_token(t.clone());
    }
    list
}

/// Lists that can be filtered and ordered set both; others refuse them.
macro_rules! list_with {
    ($list:expr, $o:expr, filter, order) => {{
        let mut l = paged($list, &$o);
        if let Some(f) = $o.filter.clone() {
            l = l.set_filter(f);
        }
        if let Some(ob) = $o.order_by.clone() {
            l = l.set_order_by(ob);
        }
        Ok::<_, gar::Error>(l)
    }};
    ($list:expr, $o:expr, filter, $what:literal) => {{
        if $o.order_by.is_some() {
            Err(no($what, "orderBy"))
        } else {
            let mut l = paged($list, &$o);
            if let Some(f) = $o.filter.clone() {
                l = l.set_filter(f);
            }
            Ok(l)
        }
    }};
    ($list:expr, $o:expr, order, $what:literal) => {{
        if $o.filter.is_some() {
            Err(no($what, "filter"))
        } else {
            let mut l = paged($list, &$o);
            if let Some(ob) = $o.order_by.clone() {
                l = l.set_order_by(ob);
            }
            Ok(l)
        }
    }};
}

fn no_view(o: &ListOptions, what: &str) -> gar::Result<()> {
    if o.view.is_some() {
        return Err(no(what, "view"));
    }
    Ok(())
}

fn view(name: &str) -> gar::Result<VersionView> {
    match name.parse::<VersionView>() {
        Ok(v @ (VersionView::Basic | VersionView::Full)) => Ok(v),
        _ => Err(invalid(
            gar::ErrorKind::InvalidArgument,
            format!("unknown version view {name:?}: use BASIC or FULL"),
        )),
    }
}

/// Starts `send()` of a request builder made by `make`, returning its JSON.
fn json_task<R, T, F, Fut>(make: impl FnOnce() -> gar::Result<R>, send: F) -> Task
where
    F: FnOnce(R) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = gar::Result<T>> + Send + 'static,
    R: Send + 'static,
    T: Serialize,
{
    match make() {
        Ok(req) => start(async move { to_json(&send(req).await?) }),
        Err(e) => failed(e),
    }
}

macro_rules! repository_setters {
    ($req:expr, $f:expr) => {{
        let mut r = $req;
        if let Some(d) = $f.description {
            r = r.set_description(d);
        }
        if let Some(l) = $f.labels {
            r = r.set_labels(l);
        }
        if let Some(p) = $f.cleanup_policies {
            let policies = gar_core::cleanup::CleanupPolicies::from_rest_value(&p)?;
            r = r.set_cleanup_policies(&policies);
        }
        if let Some(d) = $f.cleanup_policy_dry_run {
            r = r.set_cleanup_policy_dry_run(d);
        }
        if let Some(i) = $f.immutable_tags {
            r = r.set_immutable_tags(i);
        }
        r
    }};
}

fn cleanup_request(
    client: &gar::Client,
    repository: &str,
    o: CleanupOptions,
) -> gar::Result<gar::artifactregistry::Cleanup> {
    let mut c = client.cleanup(repository)?;
    if let Some(p) = o.policies {
        c = c.set_policies(gar_core::cleanup::CleanupPolicies::from_rest_value(&p)?);
    }
    if let Some(now) = o.now {
        c = c.set_now(now.parse()?);
    }
    if let Some(force) = o.force {
        c = c.set_force(force);
    }
    Ok(c)
}

/// A cleanup plan as JSON: every decision with its reasons.
fn plan_json(plan: &gar::artifactregistry::CleanupPlan) -> Value {
    use gar_core::cleanup::Outcome;
    let decisions: Vec<Value> = plan
        .report
        .decisions
        .iter()
        .map(|d| {
            let (action, by, overrides) = match &d.outcome {
                Outcome::Delete { by } => ("DELETE", by.clone(), Vec::new()),
                Outcome::Keep { by, overrides } => ("KEEP", by.clone(), overrides.clone()),
                Outcome::NotSelected => ("NOT_SELECTED", Vec::new(), Vec::new()),
            };
            json!({
                "package": d.package.to_string(),
                "version": d.version.to_string(),
                "name": plan.version_name(d).to_string(),
                "action": action,
                "by": by,
                "overrides": overrides,
            })
        })
        .collect();
    json!({
        "repository": plan.repository.to_string(),
        "dryRun": plan.dry_run,
        "policies": plan.policies.to_rest_value(),
        "evaluatedAt": plan.report.evaluated_at.to_string(),
        "decisions": decisions,
        "deletions": plan.deletions().map(|n| n.to_string()).collect::<Vec<_>>(),
    })
}

#[napi]
impl NativeClient {
    // ---- repositories -------------------------------------------------------------

    /// Lists the repositories of the default project and location.
    #[napi]
    pub fn repositories_list(&self, options: Option<ListOptions>) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let list = (|| {
            no_view(&o, "a repository list")?;
            list_with!(self.inner.repositories()?.list(), o, filter, order)
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Reads a repository.
    #[napi]
    pub fn repositories_get(&self, repository: String) -> Task {
        json_task(|| self.inner.repositories()?.get(&repository), |r| r.send())
    }

    /// Creates a repository and waits until it exists.
    #[napi]
    pub fn repositories_create(
        &self,
        repository: String,
        format: String,
        fields: Option<RepositoryFields>,
    ) -> Task {
        json_task(
            || {
                let f = fields.unwrap_or_default();
                let mut req = self
                    .inner
                    .repositories()?
                    .create(&repository, format.parse::<Format>().unwrap_or_default());
                if let Some(mode) = &f.mode {
                    req = req.set_mode(mode.parse::<Mode>().unwrap_or_default());
                }
                Ok(repository_setters!(req, f))
            },
            |r| r.send(),
        )
    }

    /// Changes a repository's description, labels, cleanup policies or tag immutability.
    #[napi]
    pub fn repositories_update(&self, repository: String, fields: RepositoryFields) -> Task {
        json_task(
            || {
                if fields.mode.is_some() {
                    return Err(no("a repository update", "mode"));
                }
                let req = self.inner.repositories()?.update(&repository)?;
                Ok(repository_setters!(req, fields))
            },
            |r| r.send(),
        )
    }

    /// Deletes a repository with everything in it.
    #[napi]
    pub fn repositories_delete(&self, repository: String) -> Task {
        json_task(
            || self.inner.repositories()?.delete(&repository),
            |r| r.send(),
        )
    }

    /// Which of `permissions` the caller holds on a repository.
    #[napi]
    pub fn repositories_test_iam_permissions(
        &self,
        repository: String,
        permissions: Vec<String>,
    ) -> Task {
        json_task(
            || {
                Ok(self
                    .inner
                    .repositories()?
                    .test_iam_permissions(&repository)?
                    .set_permissions(permissions))
            },
            |r| r.send(),
        )
    }

    // ---- packages ------------------------------------------------------------------

    /// Lists the packages of a repository.
    #[napi]
    pub fn packages_list(
        &self,
        repository: String,
        options: Option<ListOptions>,
    ) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let list = (|| {
            no_view(&o, "a package list")?;
            list_with!(self.inner.packages(&repository)?.list(), o, filter, order)
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Reads a package.
    #[napi]
    pub fn packages_get(&self, repository: String, package: String) -> Task {
        json_task(
            || self.inner.packages(&repository)?.get(&package),
            |r| r.send(),
        )
    }

    /// Deletes a package with its versions, tags and files.
    #[napi]
    pub fn packages_delete(&self, repository: String, package: String) -> Task {
        json_task(
            || self.inner.packages(&repository)?.delete(&package),
            |r| r.send(),
        )
    }

    // ---- versions ------------------------------------------------------------------

    /// Lists the versions of a package.
    #[napi]
    pub fn versions_list(
        &self,
        repository: String,
        package: String,
        options: Option<ListOptions>,
    ) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let list = (|| {
            let mut l = list_with!(
                self.inner.versions(&repository, &package)?.list(),
                o,
                filter,
                order
            )?;
            if let Some(v) = &o.view {
                l = l.set_view(view(v)?);
            }
            Ok::<_, gar::Error>(l)
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Reads a version (`FULL` view adds its tags).
    #[napi]
    pub fn versions_get(
        &self,
        repository: String,
        package: String,
        version: String,
        view_name: Option<String>,
    ) -> Task {
        json_task(
            || {
                let mut req = self.inner.versions(&repository, &package)?.get(&version)?;
                if let Some(v) = &view_name {
                    req = req.set_view(view(v)?);
                }
                Ok(req)
            },
            |r| r.send(),
        )
    }

    /// Deletes a version; a tagged one only with `force`.
    #[napi]
    pub fn versions_delete(
        &self,
        repository: String,
        package: String,
        version: String,
        force: Option<bool>,
    ) -> Task {
        json_task(
            || {
                Ok(self
                    .inner
                    .versions(&repository, &package)?
                    .delete(&version)?
                    .set_force(force.unwrap_or(false)))
            },
            |r| r.send(),
        )
    }

    /// Deletes several versions at once; returns `{ failedVersions }`.
    #[napi]
    pub fn versions_batch_delete(
        &self,
        repository: String,
        package: String,
        versions: Vec<String>,
        validate_only: Option<bool>,
    ) -> Task {
        json_task(
            || {
                let ids: Vec<&str> = versions.iter().map(String::as_str).collect();
                Ok(self
                    .inner
                    .versions(&repository, &package)?
                    .batch_delete(&ids)?
                    .set_validate_only(validate_only.unwrap_or(false)))
            },
            |r| async move {
                let out = r.send().await?;
                Ok(json!({ "failedVersions": out.failed_versions }))
            },
        )
    }

    // ---- tags ----------------------------------------------------------------------

    /// Lists the tags of a package.
    #[napi]
    pub fn tags_list(
        &self,
        repository: String,
        package: String,
        options: Option<ListOptions>,
    ) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let list = (|| {
            no_view(&o, "a tag list")?;
            list_with!(
                self.inner.tags(&repository, &package)?.list(),
                o,
                filter,
                "a tag list"
            )
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Reads a tag.
    #[napi]
    pub fn tags_get(&self, repository: String, package: String, tag: String) -> Task {
        json_task(
            || self.inner.tags(&repository, &package)?.get(&tag),
            |r| r.send(),
        )
    }

    /// Creates `tag` on `version`.
    #[napi]
    pub fn tags_create(
        &self,
        repository: String,
        package: String,
        tag: String,
        version: String,
    ) -> Task {
        json_task(
            || {
                self.inner
                    .tags(&repository, &package)?
                    .create(&tag, &version)
            },
            |r| r.send(),
        )
    }

    /// Moves `tag` to `version`.
    #[napi]
    pub fn tags_update(
        &self,
        repository: String,
        package: String,
        tag: String,
        version: String,
    ) -> Task {
        json_task(
            || {
                self.inner
                    .tags(&repository, &package)?
                    .update(&tag, &version)
            },
            |r| r.send(),
        )
    }

    /// Deletes a tag (the version stays).
    #[napi]
    pub fn tags_delete(&self, repository: String, package: String, tag: String) -> Task {
        json_task(
            || self.inner.tags(&repository, &package)?.delete(&tag),
            |r| r.send(),
        )
    }

    // ---- files ---------------------------------------------------------------------

    /// Lists the files of a repository.
    #[napi]
    pub fn files_list(
        &self,
        repository: String,
        options: Option<ListOptions>,
    ) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let list = (|| {
            no_view(&o, "a file list")?;
            list_with!(self.inner.files(&repository)?.list(), o, filter, order)
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Reads a file's metadata.
    #[napi]
    pub fn files_get(&self, repository: String, file: String) -> Task {
        json_task(|| self.inner.files(&repository)?.get(&file), |r| r.send())
    }

    /// Deletes a file.
    #[napi]
    pub fn files_delete(&self, repository: String, file: String) -> Task {
        json_task(
            || self.inner.files(&repository)?.delete(&file),
            |r| r.send(),
        )
    }

    // ---- docker images -------------------------------------------------------------

    /// Lists the docker images of a repository.
    #[napi]
    pub fn docker_images_list(
        &self,
        repository: String,
        options: Option<ListOptions>,
    ) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let list = (|| {
            no_view(&o, "a docker image list")?;
            list_with!(
                self.inner.docker_images(&repository)?.list(),
                o,
                order,
                "a docker image list"
            )
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Reads a docker image (`image@sha256:...` or a full name).
    #[napi]
    pub fn docker_images_get(&self, repository: String, image: String) -> Task {
        json_task(
            || self.inner.docker_images(&repository)?.get(&image),
            |r| r.send(),
        )
    }

    // ---- cleanup -------------------------------------------------------------------

    /// Evaluates a repository's cleanup policies (or the given ones) without
    /// deleting anything: the dry-run report.
    #[napi]
    pub fn cleanup_report(&self, repository: String, options: Option<CleanupOptions>) -> Task {
        match cleanup_request(&self.inner, &repository, options.unwrap_or_default()) {
            Ok(c) => start(async move { Ok(plan_json(&c.report().await?)) }),
            Err(e) => failed(e),
        }
    }

    /// Applies a repository's cleanup policies (or the given ones): deletes what
    /// they select, through batch deletes.
    #[napi]
    pub fn cleanup_apply(&self, repository: String, options: Option<CleanupOptions>) -> Task {
        match cleanup_request(&self.inner, &repository, options.unwrap_or_default()) {
            Ok(c) => start(async move {
                let applied = c.apply().await?;
                Ok(json!({
                    "plan": plan_json(&applied.plan),
                    "deleted": applied.deleted.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "failed": applied.failed,
                }))
            }),
            Err(e) => failed(e),
        }
    }
}
