//! The calls of the API, one method of [`Client`] each.

use gar_core::names::{
    DockerImageName, FileName, LocationName, PackageName, RepositoryName, TagName, VersionName,
};
use http::Method;
use serde_json::json;

use crate::cleanup::Cleanup;
use crate::client::{Call, Client};
use crate::download::DownloadFile;
use crate::model::{
    DockerImage, File, Format, GoModule, MavenArtifact, NpmPackage, Operation, Package,
    PythonPackage, Repository, Tag, Version,
};
use crate::request::{
    BatchDeleteVersions, CreateRepository, DeleteVersion, List, LongRunning, Request,
    TestIamPermissions, UpdateRepository, decode_as, decode_empty, finish_empty,
};

impl Client {
    // ---- repositories ---------------------------------------------------------------

    /// Lists the repositories of a project in a location (filter by `name`,
    /// order by `name`, `create_time`, `update_time`).
    pub fn list_repositories(&self, parent: &LocationName) -> List<Repository> {
        let call = Call::get(
            format!("{parent}/repositories"),
            "gar.artifactregistry.repositories.list",
        )
        .on_location(parent);
        List::new(self, call, "repositories")
    }

    /// Reads a repository.
    pub fn get_repository(&self, name: &RepositoryName) -> Request<Repository> {
        let call = Call::get(name.to_string(), "gar.artifactregistry.repositories.get")
            .on_repository(name);
        Request::new(self, call, decode_as)
    }

    /// Creates a repository of `format` with id `id` (long-running).
    pub fn create_repository(
        &self,
        parent: &LocationName,
        id: &str,
        format: Format,
    ) -> CreateRepository {
        CreateRepository::new(self, parent, id, format)
    }

    /// Changes a repository: description, labels, cleanup policies and their
    /// dry-run flag, immutable tags. Only the fields set are sent.
    pub fn update_repository(&self, name: &RepositoryName) -> UpdateRepository {
        UpdateRepository::new(self, name)
    }

    /// Deletes a repository and everything in it (long-running).
    pub fn delete_repository(&self, name: &RepositoryName) -> LongRunning<()> {
        let call = Call::new(
            Method::DELETE,
            name.to_string(),
            "gar.artifactregistry.repositories.delete",
        )
        .on_repository(name);
        LongRunning::new(self, call, finish_empty)
    }

    /// Which of some IAM permissions the caller holds on a repository.
    pub fn test_iam_permissions(&self, name: &RepositoryName) -> TestIamPermissions {
        TestIamPermissions::new(self, name)
    }

    // ---- packages -------------------------------------------------------------------

    /// Lists the packages of a repository (filter by `name`, `annotations`).
    pub fn list_packages(&self, parent: &RepositoryName) -> List<Package> {
        let call = Call::get(
            format!("{parent}/packages"),
            "gar.artifactregistry.packages.list",
        )
        .on_repository(parent);
        List::new(self, call, "packages")
    }

    /// Reads a package.
    pub fn get_package(&self, name: &PackageName) -> Request<Package> {
        let call =
            Call::get(name.to_string(), "gar.artifactregistry.packages.get").on_package(name);
        Request::new(self, call, decode_as)
    }

    /// Deletes a package with its versions, tags and files (long-running).
    pub fn delete_package(&self, name: &PackageName) -> LongRunning<()> {
        let call = Call::new(
            Method::DELETE,
            name.to_string(),
            "gar.artifactregistry.packages.delete",
        )
        .on_package(name);
        LongRunning::new(self, call, finish_empty)
    }

    // ---- versions -------------------------------------------------------------------

    /// Lists the versions of a package (view BASIC or FULL, filter by `name`,
    /// `annotations`, order by `name`, `create_time`, `update_time`).
    pub fn list_versions(&self, parent: &PackageName) -> List<Version> {
        let call = Call::get(
            format!("{parent}/versions"),
            "gar.artifactregistry.versions.list",
        )
        .on_package(parent);
        List::new(self, call, "versions")
    }

    /// Reads a version.
    pub fn get_version(&self, name: &VersionName) -> Request<Version> {
        let call =
            Call::get(name.to_string(), "gar.artifactregistry.versions.get").on_version(name);
        Request::new(self, call, decode_as)
    }

    /// Deletes a version (long-running); a tagged one only with
    /// [`set_force`](DeleteVersion::set_force), which deletes its tags too.
    pub fn delete_version(&self, name: &VersionName) -> DeleteVersion {
        let call = Call::new(
            Method::DELETE,
            name.to_string(),
            "gar.artifactregistry.versions.delete",
        )
        .on_version(name);
        DeleteVersion::new(LongRunning::new(self, call, finish_empty))
    }

    /// Deletes many versions of a package at once, tags included (long-running).
    pub fn batch_delete_versions(&self, parent: &PackageName) -> BatchDeleteVersions {
        BatchDeleteVersions::new(self, parent)
    }

    // ---- tags -----------------------------------------------------------------------

    /// Lists the tags of a package (filter by `name`, `version`).
    pub fn list_tags(&self, parent: &PackageName) -> List<Tag> {
        let call = Call::get(format!("{parent}/tags"), "gar.artifactregistry.tags.list")
            .on_package(parent);
        List::new(self, call, "tags")
    }

    /// Reads a tag.
    pub fn get_tag(&self, name: &TagName) -> Request<Tag> {
        let call = Call::get(name.to_string(), "gar.artifactregistry.tags.get").on_tag(name);
        Request::new(self, call, decode_as)
    }

    /// Creates the tag `name` pointing at `version` (a version of the same package).
    pub fn create_tag(&self, name: &TagName, version: &VersionName) -> Request<Tag> {
        let mut call = Call::new(
            Method::POST,
            format!("{}/tags", name.package()),
            "gar.artifactregistry.tags.create",
        )
        .body(json!({ "name": name.to_string(), "version": version.to_string() }))
        .on_tag_of(name, version);
        call.set_query("tagId", name.tag().to_string());
        Request::new(self, call, decode_as)
    }

    /// Moves the tag `name` to `version`.
    pub fn update_tag(&self, name: &TagName, version: &VersionName) -> Request<Tag> {
        let mut call = Call::new(
            Method::PATCH,
            name.to_string(),
            "gar.artifactregistry.tags.update",
        )
        .body(json!({ "name": name.to_string(), "version": version.to_string() }))
        .idempotent(true)
        .on_tag_of(name, version);
        call.set_query("updateMask", "version");
        Request::new(self, call, decode_as)
    }

    /// Deletes a tag (the version stays).
    pub fn delete_tag(&self, name: &TagName) -> Request<()> {
        let call = Call::new(
            Method::DELETE,
            name.to_string(),
            "gar.artifactregistry.tags.delete",
        )
        .on_tag(name);
        Request::new(self, call, decode_empty)
    }

    // ---- files ----------------------------------------------------------------------

    /// Lists the files of a repository (filter by `name`, `owner`, `annotations`).
    pub fn list_files(&self, parent: &RepositoryName) -> List<File> {
        let call = Call::get(format!("{parent}/files"), "gar.artifactregistry.files.list")
            .on_repository(parent);
        List::new(self, call, "files")
    }

    /// Reads a file's metadata.
    pub fn get_file(&self, name: &FileName) -> Request<File> {
        let call = Call::get(name.to_string(), "gar.artifactregistry.files.get").on_file(name);
        Request::new(self, call, decode_as)
    }

    /// Downloads a file's content as a stream, checked against its SHA-256.
    pub fn download_file(&self, name: &FileName) -> DownloadFile {
        DownloadFile::new(self, name)
    }

    /// Deletes a file (long-running).
    pub fn delete_file(&self, name: &FileName) -> LongRunning<()> {
        let call = Call::new(
            Method::DELETE,
            name.to_string(),
            "gar.artifactregistry.files.delete",
        )
        .on_file(name);
        LongRunning::new(self, call, finish_empty)
    }

    // ---- docker images and format-specific views ------------------------------------

    /// Lists the images of a docker repository (order by `upload_time`, ...).
    pub fn list_docker_images(&self, parent: &RepositoryName) -> List<DockerImage> {
        let call = Call::get(
            format!("{parent}/dockerImages"),
            "gar.artifactregistry.dockerimages.list",
        )
        .on_repository(parent);
        List::new(self, call, "dockerImages")
    }

    /// Reads a docker image (`.../dockerImages/{image}@sha256:...`).
    pub fn get_docker_image(&self, name: &DockerImageName) -> Request<DockerImage> {
        let call = Call::get(name.to_string(), "gar.artifactregistry.dockerimages.get")
            .on_docker_image(name);
        Request::new(self, call, decode_as)
    }

    fn format_list<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        parent: &RepositoryName,
        collection: &'static str,
        operation: &'static str,
    ) -> List<T> {
        let call = Call::get(format!("{parent}/{collection}"), operation).on_repository(parent);
        List::new(self, call, collection)
    }

    /// Lists the Maven artifacts of a Maven repository.
    pub fn list_maven_artifacts(&self, parent: &RepositoryName) -> List<MavenArtifact> {
        self.format_list(
            parent,
            "mavenArtifacts",
            "gar.artifactregistry.mavenartifacts.list",
        )
    }

    /// Lists the npm package versions of an npm repository.
    pub fn list_npm_packages(&self, parent: &RepositoryName) -> List<NpmPackage> {
        self.format_list(
            parent,
            "npmPackages",
            "gar.artifactregistry.npmpackages.list",
        )
    }

    /// Lists the Python package versions of a Python repository.
    pub fn list_python_packages(&self, parent: &RepositoryName) -> List<PythonPackage> {
        self.format_list(
            parent,
            "pythonPackages",
            "gar.artifactregistry.pythonpackages.list",
        )
    }

    /// Lists the Go module versions of a Go repository.
    pub fn list_go_modules(&self, parent: &RepositoryName) -> List<GoModule> {
        self.format_list(parent, "goModules", "gar.artifactregistry.gomodules.list")
    }

    // ---- operations and cleanup -----------------------------------------------------

    /// Reads a long-running operation (`projects/{p}/locations/{l}/operations/{id}`).
    pub fn get_operation(&self, name: &str) -> Request<Operation> {
        let call = Call::get(name, "gar.artifactregistry.operations.get").on_operation(name);
        Request::new(self, call, decode_as)
    }

    /// Evaluates a repository's cleanup policies locally (a dry-run report), or
    /// applies them through batch deletes.
    pub fn cleanup(&self, repository: &RepositoryName) -> Cleanup {
        Cleanup::new(self, repository)
    }
}
