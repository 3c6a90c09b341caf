//! Reading the names users type: a short id resolved against the client's
//! default project and location, or a full resource name taken as it is.

use gar_core::ids::{FileId, PackageId, RepositoryId, TagId, VersionId};
use gar_core::names::{
    DockerImageName, FileName, LocationName, PackageName, RepositoryName, TagName, VersionName,
};
use gar_core::{Error, ErrorKind, Result};

use crate::Client;

/// Whether `text` is a full resource name rather than a short id.
fn is_full(text: &str) -> bool {
    text.starts_with("projects/")
}

impl Client {
    /// `projects/{p}/locations/{l}` of the default project and location.
    pub fn location_name(&self) -> Result<LocationName> {
        Ok(LocationName::new(
            self.require_project()?.clone(),
            self.require_location()?.clone(),
        ))
    }

    /// A repository: `docker` (in the default project and location) or
    /// `projects/p/locations/l/repositories/docker`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let client = gar::Client::builder()
    ///     .project("my-project")
    ///     .location("us-central1")
    ///     .credentials(gar::Credentials::Anonymous)
    ///     .build()
    ///     .await?;
    /// let repo = client.repository_name("docker")?;
    /// assert_eq!(repo.to_string(), "projects/my-project/locations/us-central1/repositories/docker");
    /// assert!(client.repository_name("Not_A_Repo").is_err());
    /// # Ok::<(), gar::Error>(()) }).unwrap();
    /// ```
    pub fn repository_name(&self, repository: &str) -> Result<RepositoryName> {
        if is_full(repository) {
            return repository.parse();
        }
        let id: RepositoryId = repository.parse()?;
        Ok(self.location_name()?.repository(id))
    }

    /// A package of `repository`: `team/app`, or a full package name (then
    /// `repository` is not consulted).
    pub fn package_name(&self, repository: &str, package: &str) -> Result<PackageName> {
        if is_full(package) {
            return package.parse();
        }
        let id: PackageId = package.parse()?;
        Ok(self.repository_name(repository)?.package(id))
    }

    /// A version of a package: `1.0.0`, `sha256:...`, or a full version name.
    pub fn version_name(
        &self,
        repository: &str,
        package: &str,
        version: &str,
    ) -> Result<VersionName> {
        if is_full(version) {
            return version.parse();
        }
        let id: VersionId = version.parse()?;
        Ok(self.package_name(repository, package)?.version(id))
    }

    /// A tag of a package: `latest`, or a full tag name.
    pub fn tag_name(&self, repository: &str, package: &str, tag: &str) -> Result<TagName> {
        if is_full(tag) {
            return tag.parse();
        }
        let id: TagId = tag.parse()?;
        Ok(self.package_name(repository, package)?.tag(id))
    }

    /// A file of a repository: `tool:1.0.0:tool.tar.gz` or `a/b/c.txt`, or a full file name.
    pub fn file_name(&self, repository: &str, file: &str) -> Result<FileName> {
        if is_full(file) {
            return file.parse();
        }
        let id: FileId = file.parse()?;
        Ok(self.repository_name(repository)?.file(id))
    }

    /// A docker image entry: `team/app@sha256:...`, or a full
    /// `.../dockerImages/...` name.
    pub fn docker_image_name(&self, repository: &str, image: &str) -> Result<DockerImageName> {
        if is_full(image) {
            return image.parse();
        }
        let Some((path, digest)) = image.rsplit_once('@') else {
            return Err(Error::invalid(
                ErrorKind::InvalidReference,
                "docker image",
                image,
                "name it by digest: image@sha256:<hex>",
            ));
        };
        let id: PackageId = path.parse()?;
        Ok(self
            .repository_name(repository)?
            .docker_image(id, digest.parse()?))
    }
}
