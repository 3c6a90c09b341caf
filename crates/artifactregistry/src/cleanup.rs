//! Cleanup policies run from the client: a dry-run report of what a
//! repository's policies would delete (and what they keep, and why), and an
//! apply mode that deletes exactly the report's deletions through batch deletes.
//!
//! The evaluation is `gar_core::cleanup`'s (the emulator's cleanup pass runs the
//! same code). Versions are read package by package, so memory holds one
//! package's versions at a time; `mostRecentVersions` counts per package, so
//! evaluating package by package decides exactly what evaluating the whole
//! repository at once would.
//!
//! ```no_run
//! use gar_artifactregistry::Client;
//! use gar_core::cleanup::CleanupPolicies;
//! use gar_core::names::RepositoryName;
//!
//! # async fn demo(client: Client) -> Result<(), gar_core::Error> {
//! let repo: RepositoryName = "projects/my-project/locations/us/repositories/builds".parse()?;
//! let policies = CleanupPolicies::from_gcloud_json(r#"[
//!   {"name": "old", "action": {"type": "Delete"}, "condition": {"olderThan": "30d"}},
//!   {"name": "releases", "action": {"type": "Keep"}, "condition": {"tagPrefixes": ["release"]}}
//! ]"#)?;
//! let plan = client.cleanup(&repo).set_policies(policies).report().await?;
//! for name in plan.deletions() {
//!     println!("would delete {name}");
//! }
//! let applied = client.cleanup(&repo).apply().await?; // the repository's own policies
//! println!("deleted {} versions", applied.deleted.len());
//! # Ok(()) }
//! ```

use futures_util::TryStreamExt;
use gar_core::cleanup::{CleanupPolicies, CleanupReport, Outcome, VersionDecision, VersionInfo};
use gar_core::names::{PackageName, RepositoryName, TagName, VersionName};
use gar_core::protojson::Timestamp;
use gar_core::{Error, ErrorKind};

use crate::client::Client;
use crate::lro::PollingPolicy;
use crate::model::{Version, VersionView};

/// The most versions one batch delete carries.
const BATCH: usize = 1000;

/// Evaluates or applies a repository's cleanup policies; see [`Client::cleanup`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is run"]
pub struct Cleanup {
    client: Client,
    repository: RepositoryName,
    policies: Option<CleanupPolicies>,
    now: Option<Timestamp>,
    force: bool,
    polling: Option<PollingPolicy>,
}

/// What the policies decide for a repository: the dry-run report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CleanupPlan {
    /// The repository.
    pub repository: RepositoryName,
    /// Whether the repository is in cleanup dry-run mode (`cleanupPolicyDryRun`).
    pub dry_run: bool,
    /// The policies evaluated.
    pub policies: CleanupPolicies,
    /// A decision per version: deleted by which DELETE policies, kept by which
    /// KEEP policies (and against which DELETE ones), or not selected.
    pub report: CleanupReport,
}

impl CleanupPlan {
    /// The full name of the version a decision is about.
    pub fn version_name(&self, d: &VersionDecision) -> VersionName {
        self.repository
            .package(d.package.clone())
            .version(d.version.clone())
    }

    /// The versions the policies delete.
    pub fn deletions(&self) -> impl Iterator<Item = VersionName> + '_ {
        self.report.deletions().map(|d| self.version_name(d))
    }
}

/// What [`Cleanup::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CleanupApplied {
    /// The evaluation that was applied.
    pub plan: CleanupPlan,
    /// The versions deleted.
    pub deleted: Vec<VersionName>,
    /// Versions the batch deletes reported as not deleted (gone meanwhile).
    pub failed: Vec<String>,
}

impl Cleanup {
    pub(crate) fn new(client: &Client, repository: &RepositoryName) -> Self {
        Self {
            client: client.clone(),
            repository: repository.clone(),
            policies: None,
            now: None,
            force: false,
            polling: None,
        }
    }

    /// Evaluates these policies instead of the repository's own.
    pub fn set_policies(mut self, policies: CleanupPolicies) -> Self {
        self.policies = Some(policies);
        self
    }

    /// The instant ages are measured against (default: now).
    pub fn set_now(mut self, now: Timestamp) -> Self {
        self.now = Some(now);
        self
    }

    /// Lets [`apply`](Self::apply) delete even though the repository is in
    /// cleanup dry-run mode.
    pub fn set_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Polls the batch deletes' operations with `polling` instead of the client's policy.
    pub fn with_polling(mut self, polling: PollingPolicy) -> Self {
        self.polling = Some(polling);
        self
    }

    async fn start(&self) -> Result<(CleanupPolicies, bool, Timestamp), Error> {
        let repo = self.client.get_repository(&self.repository).send().await?;
        let policies = self
            .policies
            .clone()
            .unwrap_or_else(|| repo.cleanup_policies.clone());
        policies.validate()?;
        Ok((
            policies,
            repo.cleanup_policy_dry_run,
            self.now.unwrap_or_else(Timestamp::now),
        ))
    }

    /// The decisions for one package's versions.
    async fn evaluate_package(
        &self,
        policies: &CleanupPolicies,
        package: &PackageName,
        now: Timestamp,
    ) -> Result<Vec<VersionDecision>, Error> {
        let mut infos = Vec::new();
        let mut undated = Vec::new();
        let mut versions = self
            .client
            .list_versions(package)
            .set_view(VersionView::Full)
            .set_page_size(1000)
            .by_item();
        while let Some(v) = versions.try_next().await? {
            match version_info(&v)? {
                Some(info) => infos.push(info),
                // A version without a creation time cannot be aged: never selected.
                None => undated.push(v.version_name()?),
            }
        }
        let mut decisions = policies.evaluate(&infos, now).decisions;
        decisions.extend(undated.into_iter().map(|n| VersionDecision {
            package: n.package().package().clone(),
            version: n.version().clone(),
            outcome: Outcome::NotSelected,
        }));
        Ok(decisions)
    }

    /// The dry-run report: what the policies would delete and keep, deleting nothing.
    pub async fn report(self) -> Result<CleanupPlan, Error> {
        let (policies, dry_run, now) = self.start().await?;
        let mut decisions = Vec::new();
        let mut packages = self.client.list_packages(&self.repository).by_item();
        while let Some(p) = packages.try_next().await? {
            decisions.extend(
                self.evaluate_package(&policies, &p.package_name()?, now)
                    .await?,
            );
        }
        Ok(CleanupPlan {
            repository: self.repository.clone(),
            dry_run,
            policies,
            report: CleanupReport {
                evaluated_at: now,
                decisions,
            },
        })
    }

    /// Deletes what the policies delete, through batch deletes, package by
    /// package. Refused (`FailedPrecondition`, nothing deleted) when the
    /// repository is in cleanup dry-run mode, unless [`set_force`](Self::set_force).
    /// Versions a KEEP policy matches are never deleted.
    pub async fn apply(self) -> Result<CleanupApplied, Error> {
        let (policies, dry_run, now) = self.start().await?;
        if dry_run && !self.force {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "the repository {} is in cleanup dry-run mode (cleanupPolicyDryRun), so nothing was deleted; \
                     turn the mode off, or use set_force(true) to delete anyway",
                    self.repository
                ),
            ));
        }
        let mut decisions = Vec::new();
        let mut deleted = Vec::new();
        let mut failed = Vec::new();
        let mut packages = self.client.list_packages(&self.repository).by_item();
        while let Some(p) = packages.try_next().await? {
            let package = p.package_name()?;
            let package_decisions = self.evaluate_package(&policies, &package, now).await?;
            let doomed: Vec<VersionName> = package_decisions
                .iter()
                .filter(|d| matches!(d.outcome, Outcome::Delete { .. }))
                .map(|d| package.version(d.version.clone()))
                .collect();
            for chunk in doomed.chunks(BATCH) {
                let mut batch = self.client.batch_delete_versions(&package).set_names(chunk);
                if let Some(p) = &self.polling {
                    batch = batch.with_polling(p.clone());
                }
                let outcome = batch.send().await?;
                for name in chunk {
                    let text = name.to_string();
                    if outcome.failed_versions.contains(&text) {
                        failed.push(text);
                    } else {
                        deleted.push(name.clone());
                    }
                }
            }
            decisions.extend(package_decisions);
        }
        Ok(CleanupApplied {
            plan: CleanupPlan {
                repository: self.repository.clone(),
                dry_run,
                policies,
                report: CleanupReport {
                    evaluated_at: now,
                    decisions,
                },
            },
            deleted,
            failed,
        })
    }
}

/// What the evaluator needs of a version read with view FULL; `None` without a
/// creation time.
fn version_info(v: &Version) -> Result<Option<VersionInfo>, Error> {
    let Some(create_time) = v.create_time else {
        return Ok(None);
    };
    let name = v.version_name()?;
    let mut tags = Vec::with_capacity(v.related_tags.len());
    for t in &v.related_tags {
        let tag: TagName = t.name.parse()?;
        tags.push(tag.tag().clone());
    }
    Ok(Some(
        VersionInfo::new(
            name.package().package().clone(),
            name.version().clone(),
            create_time,
        )
        .with_tags(tags),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tag;

    #[test]
    fn versions_become_evaluator_input() {
        let base = "projects/my-project/locations/us/repositories/r/packages/team%2Fapp";
        let v = Version {
            name: format!("{base}/versions/1.0"),
            create_time: Some("2024-01-01T00:00:00Z".parse().unwrap()),
            related_tags: vec![Tag {
                name: format!("{base}/tags/release-1"),
                version: format!("{base}/versions/1.0"),
            }],
            ..Version::default()
        };
        let info = version_info(&v).unwrap().unwrap();
        assert_eq!(info.package.as_str(), "team/app");
        assert_eq!(info.version.as_str(), "1.0");
        assert_eq!(info.tags[0].as_str(), "release-1");
        let undated = Version {
            create_time: None,
            ..v
        };
        assert!(version_info(&undated).unwrap().is_none());
    }
}
