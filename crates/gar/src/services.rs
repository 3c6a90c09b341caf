//! Handles for the Artifact Registry resources: repositories, packages,
//! versions, tags, files, docker images and cleanup.
//!
//! Each handle is bound to its parent resource (resolved from short ids against
//! the client's default project and location, or from full names) and returns
//! the request builders of `gar-artifactregistry` (`set_*`, `with_*`, `send()`,
//! and `by_page()` / `by_item()` on lists). Malformed ids are refused with a
//! typed error before any request is sent.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//!
//! # async fn demo(client: gar::Client) -> gar::Result<()> {
//! let repos: Vec<_> = client.repositories()?.list().by_item().try_collect().await?;
//! let versions: Vec<_> = client
//!     .versions("docker", "team/app")?
//!     .list()
//!     .set_order_by("create_time desc")
//!     .by_item()
//!     .try_collect()
//!     .await?;
//! client.tags("docker", "team/app")?.create("stable", "sha256:0123...")?.send().await?;
//! # let _ = (repos, versions); Ok(()) }
//! ```

use gar_artifactregistry::model::{DockerImage, File, Format, Package, Repository, Tag, Version};
use gar_artifactregistry::{
    BatchDeleteVersions, Cleanup, CreateRepository, DeleteVersion, DownloadFile, List, LongRunning,
    Request, TestIamPermissions, UpdateRepository,
};
use gar_core::Result;
use gar_core::ids::{FileId, PackageId, RepositoryId, TagId, VersionId};
use gar_core::names::{LocationName, PackageName, RepositoryName};

use crate::Client;

impl Client {
    /// The repositories of the default project and location.
    pub fn repositories(&self) -> Result<Repositories> {
        let parent = self.location_name()?;
        Ok(Repositories {
            api: self.api(parent.location())?,
            parent,
        })
    }

    /// The packages of a repository (`docker` or a full repository name).
    pub fn packages(&self, repository: &str) -> Result<Packages> {
        let repository = self.repository_name(repository)?;
        Ok(Packages {
            api: self.api(repository.location())?,
            repository,
        })
    }

    /// The versions of a package.
    pub fn versions(&self, repository: &str, package: &str) -> Result<Versions> {
        let package = self.package_name(repository, package)?;
        Ok(Versions {
            api: self.api(package.repository().location())?,
            package,
        })
    }

    /// The tags of a package.
    pub fn tags(&self, repository: &str, package: &str) -> Result<Tags> {
        let package = self.package_name(repository, package)?;
        Ok(Tags {
            api: self.api(package.repository().location())?,
            package,
        })
    }

    /// The files of a repository.
    pub fn files(&self, repository: &str) -> Result<Files> {
        let repository = self.repository_name(repository)?;
        Ok(Files {
            api: self.api(repository.location())?,
            repository,
        })
    }

    /// The docker image entries of a docker repository, as the Artifact
    /// Registry API lists them (tags, size, upload time, platforms).
    pub fn docker_images(&self, repository: &str) -> Result<DockerImages> {
        let repository = self.repository_name(repository)?;
        Ok(DockerImages {
            api: self.api(repository.location())?,
            repository,
        })
    }

    /// A repository's cleanup policies: a dry-run report of what they would
    /// delete and keep (and why), or their application through batch deletes.
    pub fn cleanup(&self, repository: &str) -> Result<Cleanup> {
        let repository = self.repository_name(repository)?;
        Ok(self.api(repository.location())?.cleanup(&repository))
    }
}

/// The repositories of one project and location; see [`Client::repositories`].
#[derive(Debug, Clone)]
pub struct Repositories {
    api: gar_artifactregistry::Client,
    parent: LocationName,
}

impl Repositories {
    /// The project and location.
    pub fn parent(&self) -> &LocationName {
        &self.parent
    }

    fn name(&self, id: &str) -> Result<RepositoryName> {
        if id.starts_with("projects/") {
            return id.parse();
        }
        Ok(self.parent.repository(id.parse::<RepositoryId>()?))
    }

    /// Lists them.
    pub fn list(&self) -> List<Repository> {
        self.api.list_repositories(&self.parent)
    }

    /// Reads one.
    pub fn get(&self, repository: &str) -> Result<Request<Repository>> {
        Ok(self.api.get_repository(&self.name(repository)?))
    }

    /// Creates one (long-running; `send()` waits until it exists).
    pub fn create(&self, repository: &str, format: Format) -> CreateRepository {
        self.api.create_repository(&self.parent, repository, format)
    }

    /// Changes one (description, labels, cleanup policies, immutable tags).
    pub fn update(&self, repository: &str) -> Result<UpdateRepository> {
        Ok(self.api.update_repository(&self.name(repository)?))
    }

    /// Deletes one with everything in it (long-running).
    pub fn delete(&self, repository: &str) -> Result<LongRunning<()>> {
        Ok(self.api.delete_repository(&self.name(repository)?))
    }

    /// Which of some IAM permissions the caller holds on one.
    pub fn test_iam_permissions(&self, repository: &str) -> Result<TestIamPermissions> {
        Ok(self.api.test_iam_permissions(&self.name(repository)?))
    }
}

/// The packages of one repository; see [`Client::packages`].
#[derive(Debug, Clone)]
pub struct Packages {
    api: gar_artifactregistry::Client,
    repository: RepositoryName,
}

impl Packages {
    /// The repository.
    pub fn repository(&self) -> &RepositoryName {
        &self.repository
    }

    fn name(&self, package: &str) -> Result<PackageName> {
        if package.starts_with("projects/") {
            return package.parse();
        }
        Ok(self.repository.package(package.parse::<PackageId>()?))
    }

    /// Lists them.
    pub fn list(&self) -> List<Package> {
        self.api.list_packages(&self.repository)
    }

    /// Reads one.
    pub fn get(&self, package: &str) -> Result<Request<Package>> {
        Ok(self.api.get_package(&self.name(package)?))
    }

    /// Deletes one with its versions, tags and files (long-running).
    pub fn delete(&self, package: &str) -> Result<LongRunning<()>> {
        Ok(self.api.delete_package(&self.name(package)?))
    }
}

/// The versions of one package; see [`Client::versions`].
#[derive(Debug, Clone)]
pub struct Versions {
    api: gar_artifactregistry::Client,
    package: PackageName,
}

impl Versions {
    /// The package.
    pub fn package(&self) -> &PackageName {
        &self.package
    }

    fn name(&self, version: &str) -> Result<gar_core::names::VersionName> {
        if version.starts_with("projects/") {
            return version.parse();
        }
        Ok(self.package.version(version.parse::<VersionId>()?))
    }

    /// Lists them.
    pub fn list(&self) -> List<Version> {
        self.api.list_versions(&self.package)
    }

    /// Reads one.
    pub fn get(&self, version: &str) -> Result<Request<Version>> {
        Ok(self.api.get_version(&self.name(version)?))
    }

    /// Deletes one (long-running); a tagged one only with `set_force(true)`.
    pub fn delete(&self, version: &str) -> Result<DeleteVersion> {
        Ok(self.api.delete_version(&self.name(version)?))
    }

    /// Deletes several at once (long-running).
    pub fn batch_delete(&self, versions: &[&str]) -> Result<BatchDeleteVersions> {
        let names = versions
            .iter()
            .map(|v| self.name(v))
            .collect::<Result<Vec<_>>>()?;
        Ok(self
            .api
            .batch_delete_versions(&self.package)
            .set_names(names.iter()))
    }
}

/// The tags of one package; see [`Client::tags`].
#[derive(Debug, Clone)]
pub struct Tags {
    api: gar_artifactregistry::Client,
    package: PackageName,
}

impl Tags {
    /// The package.
    pub fn package(&self) -> &PackageName {
        &self.package
    }

    fn name(&self, tag: &str) -> Result<gar_core::names::TagName> {
        if tag.starts_with("projects/") {
            return tag.parse();
        }
        Ok(self.package.tag(tag.parse::<TagId>()?))
    }

    fn version(&self, version: &str) -> Result<gar_core::names::VersionName> {
        if version.starts_with("projects/") {
            return version.parse();
        }
        Ok(self.package.version(version.parse::<VersionId>()?))
    }

    /// Lists them.
    pub fn list(&self) -> List<Tag> {
        self.api.list_tags(&self.package)
    }

    /// Reads one.
    pub fn get(&self, tag: &str) -> Result<Request<Tag>> {
        Ok(self.api.get_tag(&self.name(tag)?))
    }

    /// Creates `tag` pointing at `version`.
    pub fn create(&self, tag: &str, version: &str) -> Result<Request<Tag>> {
        Ok(self
            .api
            .create_tag(&self.name(tag)?, &self.version(version)?))
    }

    /// Moves `tag` to `version`.
    pub fn update(&self, tag: &str, version: &str) -> Result<Request<Tag>> {
        Ok(self
            .api
            .update_tag(&self.name(tag)?, &self.version(version)?))
    }

    /// Deletes one (the version stays).
    pub fn delete(&self, tag: &str) -> Result<Request<()>> {
        Ok(self.api.delete_tag(&self.name(tag)?))
    }
}

/// The files of one repository; see [`Client::files`].
#[derive(Debug, Clone)]
pub struct Files {
    api: gar_artifactregistry::Client,
    repository: RepositoryName,
}

impl Files {
    /// The repository.
    pub fn repository(&self) -> &RepositoryName {
        &self.repository
    }

    fn name(&self, file: &str) -> Result<gar_core::names::FileName> {
        if file.starts_with("projects/") {
            return file.parse();
        }
        Ok(self.repository.file(file.parse::<FileId>()?))
    }

    /// Lists them.
    pub fn list(&self) -> List<File> {
        self.api.list_files(&self.repository)
    }

    /// Reads one's metadata.
    pub fn get(&self, file: &str) -> Result<Request<File>> {
        Ok(self.api.get_file(&self.name(file)?))
    }

    /// Downloads one's content as a stream checked against its SHA-256.
    pub fn download(&self, file: &str) -> Result<DownloadFile> {
        Ok(self.api.download_file(&self.name(file)?))
    }

    /// Deletes one (long-running).
    pub fn delete(&self, file: &str) -> Result<LongRunning<()>> {
        Ok(self.api.delete_file(&self.name(file)?))
    }
}

/// The docker image entries of one repository; see [`Client::docker_images`].
#[derive(Debug, Clone)]
pub struct DockerImages {
    api: gar_artifactregistry::Client,
    repository: RepositoryName,
}

impl DockerImages {
    /// The repository.
    pub fn repository(&self) -> &RepositoryName {
        &self.repository
    }

    /// Lists them (order by `upload_time desc` for the newest first).
    pub fn list(&self) -> List<DockerImage> {
        self.api.list_docker_images(&self.repository)
    }

    /// Reads one: `team/app@sha256:...` or a full `.../dockerImages/...` name.
    pub fn get(&self, image: &str) -> Result<Request<DockerImage>> {
        let name = if image.starts_with("projects/") {
            image.parse()?
        } else {
            let (path, digest) = image.rsplit_once('@').ok_or_else(|| {
                gar_core::Error::invalid(
                    gar_core::ErrorKind::InvalidReference,
                    "docker image",
                    image,
                    "name it by digest: image@sha256:<hex>",
                )
            })?;
            self.repository
                .docker_image(path.parse::<PackageId>()?, digest.parse()?)
        };
        Ok(self.api.get_docker_image(&name))
    }
}
