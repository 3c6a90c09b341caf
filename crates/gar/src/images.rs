//! Docker images named the way people type them: `docker/team/app:1.0` (in the
//! default project and location), `docker/app@sha256:...`, or a full reference
//! (`us-central1-docker.pkg.dev/my-project/docker/app:1.0`, or the emulator's
//! `127.0.0.1:PORT/my-project/docker/app:1.0`).
//!
//! Images move through the registry with `gar-oci` (pushes from and pulls into
//! OCI image layouts, copies across repositories, locations and projects, with
//! progress callbacks and bounded concurrency); their metadata comes from the
//! Artifact Registry API and their vulnerability counts from Container Analysis.
//!
//! ```no_run
//! use gar::Layout;
//!
//! # async fn demo(client: gar::Client) -> gar::Result<()> {
//! let image = client.image("docker/team/app:1.0")?;
//! let layout = Layout::open("./app-layout").await?;
//! let pushed = client.push_image(&layout, &image)?.send().await?;
//! let copy = client.image("europe-west1-docker.pkg.dev/my-project/mirror/team/app:1.0")?;
//! client.copy_image(&image, &copy)?.send().await?;
//! let details = client.inspect_image(&image).await?;
//! println!("{} is {} bytes, {:?}", pushed.digest, details.image.image_size_bytes, details.image.tags);
//! # Ok(()) }
//! ```

use std::fmt;

use gar_artifactregistry::model::DockerImage;
use gar_containeranalysis::report::ResourceCounts;
use gar_core::endpoints::Surface;
use gar_core::ids::{Digest, PackageId, ProjectId, RepositoryId, TagId};
use gar_core::location::Location;
use gar_core::names::{DockerImageName, RepositoryName};
use gar_core::reference::ImageReference;
use gar_core::{Error, ErrorKind, Result};
use gar_oci::layout::Layout;
use gar_oci::{CopyImage, PullImage, PushImage, Registry, RegistryAuth};

use crate::Client;
use crate::analysis::Platform;

/// An image of a GAR docker repository, with a tag, a digest or both.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageName {
    /// The repository.
    pub repository: RepositoryName,
    /// The image path inside it (`team/app`).
    pub image: PackageId,
    /// The tag, if named.
    pub tag: Option<TagId>,
    /// The digest, if named.
    pub digest: Option<Digest>,
}

impl ImageName {
    /// The docker image entry of `digest` (or of the digest named).
    pub fn docker_image_name(&self, digest: Option<&Digest>) -> Option<DockerImageName> {
        let digest = digest.or(self.digest.as_ref())?;
        Some(
            self.repository
                .docker_image(self.image.clone(), digest.clone()),
        )
    }

    /// The same image (project, repository, image path, tag and digest) in
    /// another location: its replica there.
    pub fn at(&self, location: &Location) -> ImageName {
        ImageName {
            repository: RepositoryName::new(
                self.repository.project().clone(),
                location.clone(),
                self.repository.repository().clone(),
            ),
            ..self.clone()
        }
    }

    /// What to ask a registry for: the digest if named, else the tag, else `latest`.
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_string(),
            (None, None) => "latest".to_owned(),
        }
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.repository.project(),
            self.repository.repository(),
            self.image
        )?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// An image's metadata, platforms and vulnerability counts; see [`Client::inspect_image`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ImageDetails {
    /// The image, resolved to its digest.
    pub name: DockerImageName,
    /// As the Artifact Registry API describes it (tags, size, upload time, media type).
    pub image: DockerImage,
    /// Its platforms: an index's entries (as the Artifact Registry API lists
    /// them, else as the index declares them), or the one a single image
    /// manifest's config names. Empty for an artifact, and when they could not
    /// be read ([`platforms_error`](Self::platforms_error) then says why).
    pub platforms: Vec<Platform>,
    /// Why the platforms could not be read (a malformed or oversized config is
    /// `ManifestInvalid`; the registry's own errors as they came), if so.
    pub platforms_error: Option<Error>,
    /// Its vulnerability counts, or why they could not be read.
    pub vulnerabilities: std::result::Result<ResourceCounts, Error>,
}

fn split_reference(text: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match text.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (text, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest.get(last_slash..).and_then(|tail| tail.rfind(':')) {
        Some(colon) => {
            let at = last_slash + colon;
            (rest.get(..at).unwrap_or(rest), rest.get(at + 1..), digest)
        }
        None => (rest, None, digest),
    }
}

impl Client {
    /// Reads an image name: `repo/image[:tag][@digest]` in the default project
    /// and location, or a full reference on a `{location}-docker.pkg.dev` host
    /// or on the emulator. Checked before any call.
    pub fn image(&self, text: &str) -> Result<ImageName> {
        let first = text.split('/').next().unwrap_or_default();
        let full = first.contains('.') || first.contains(':') || first == "localhost";
        if full {
            let reference: ImageReference = text.parse()?;
            if let Some(g) = reference.gar() {
                return Ok(ImageName {
                    repository: g.repository_name(),
                    image: g.image,
                    tag: reference.tag().map(str::parse).transpose()?,
                    digest: reference.digest().cloned(),
                });
            }
            let emulator = self.endpoints().override_url().map(|u| u.authority());
            if emulator.as_deref() != Some(reference.registry()) {
                return Err(Error::invalid(
                    ErrorKind::InvalidReference,
                    "image reference",
                    text,
                    "it is not on a {location}-docker.pkg.dev host (nor on the emulator)",
                ));
            }
            let mut parts = reference.repository().splitn(3, '/');
            let (Some(project), Some(repository), Some(image)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::invalid(
                    ErrorKind::InvalidReference,
                    "image reference",
                    text,
                    "the path must be project/repository/image",
                ));
            };
            return Ok(ImageName {
                repository: RepositoryName::new(
                    project.parse::<ProjectId>()?,
                    self.require_location()?.clone(),
                    repository.parse::<RepositoryId>()?,
                ),
                image: image.parse()?,
                tag: reference.tag().map(str::parse).transpose()?,
                digest: reference.digest().cloned(),
            });
        }
        let (path, tag, digest) = split_reference(text);
        let Some((repository, image)) = path.split_once('/') else {
            return Err(Error::invalid(
                ErrorKind::InvalidReference,
                "image",
                text,
                "name it repository/image[:tag][@sha256:...]",
            ));
        };
        Ok(ImageName {
            repository: self.repository_name(repository)?,
            image: image.parse()?,
            tag: tag.map(str::parse).transpose()?,
            digest: digest.map(str::parse).transpose()?,
        })
    }

    /// The reference docker and other tools use for `image`: on the emulator's
    /// address when the client talks to one, else on `{location}-docker.pkg.dev`.
    pub fn image_reference(&self, image: &ImageName) -> Result<ImageReference> {
        let registry = self
            .endpoints()
            .url(Surface::Docker, image.repository.location())
            .authority();
        ImageReference::new(
            &registry,
            &format!(
                "{}/{}/{}",
                image.repository.project(),
                image.repository.repository(),
                image.image
            ),
            image.tag.as_ref().map(TagId::as_str),
            image.digest.clone(),
        )
    }

    /// The image's docker image entry: the digest named, or the one its tag
    /// (`latest` when none) points at, read from the Artifact Registry API.
    pub async fn resolve_image(&self, image: &ImageName) -> Result<DockerImageName> {
        if let Some(name) = image.docker_image_name(None) {
            return Ok(name);
        }
        let tag: TagId = match &image.tag {
            Some(t) => t.clone(),
            None => "latest".parse()?,
        };
        let package = image.repository.package(image.image.clone());
        let tag = self
            .api(image.repository.location())?
            .get_tag(&package.tag(tag))
            .send()
            .await?;
        let version = tag.version_name()?;
        let digest: Digest = version.version().as_str().parse()?;
        Ok(image.repository.docker_image(image.image.clone(), digest))
    }

    /// An image's metadata (tags, size, upload time), platforms and
    /// vulnerability counts. The platforms of a single-manifest image come from
    /// its config blob, read from the registry (bounded and verified); a
    /// config that cannot be read leaves the platforms empty and says why in
    /// [`ImageDetails::platforms_error`] rather than failing the call.
    pub async fn inspect_image(&self, image: &ImageName) -> Result<ImageDetails> {
        let name = self.resolve_image(image).await?;
        let api = self.api(image.repository.location())?;
        let entry = api.get_docker_image(&name).send().await?;
        let analysis = self.vulnerabilities()?;
        let vulnerabilities =
            crate::analysis::counts(&analysis, name.repository().project(), &name).await;
        let (platforms, platforms_error) = crate::analysis::platforms(self, &name, &entry).await;
        Ok(ImageDetails {
            platforms,
            platforms_error,
            name,
            image: entry,
            vulnerabilities,
        })
    }

    /// The docker registry of `location` (`{location}-docker.pkg.dev`, or the
    /// emulator), with this client's credentials exchanged at the registry's
    /// challenge, its concurrency limits and transport. When one URL serves
    /// every location (the emulator), its requests name the location's host in
    /// `X-Forwarded-Host` (`europe-west1-docker.pkg.dev`), which the emulator
    /// reads as the `Host` of that location's registry.
    pub fn registry(&self, location: &Location) -> Result<Registry> {
        let base = self.endpoints().url(Surface::Docker, location);
        let mut transport = self.registry_transport().clone();
        if self.endpoints().override_url().is_some() {
            let host = format!("{location}-docker.pkg.dev");
            let value = http::HeaderValue::from_str(&host).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidLocation,
                    format!("the location {location} cannot name a registry host"),
                )
                .with_source(e)
            })?;
            transport = transport
                .with_default_header(http::HeaderName::from_static("x-forwarded-host"), value);
        }
        let auth = match self.token_provider() {
            Some(p) => RegistryAuth::google(p.clone()),
            None => RegistryAuth::anonymous(),
        };
        let concurrency = self.concurrency();
        Registry::builder(&base.to_string())
            .transport(transport)
            .auth(auth)
            .max_concurrent_uploads(concurrency.uploads)
            .max_concurrent_downloads(concurrency.downloads)
            .build()
    }

    /// The registry repository of `image` (`project/repository/image`): manifests,
    /// tags, blobs and referrers.
    pub fn oci(&self, image: &ImageName) -> Result<gar_oci::Repository> {
        self.registry(image.repository.location())?
            .repository(&format!(
                "{}/{}/{}",
                image.repository.project(),
                image.repository.repository(),
                image.image
            ))
    }

    /// Pushes the image of an OCI image layout as `image` (tagged with its tag, if
    /// named); `with_progress` reports bytes per blob and overall.
    pub fn push_image(&self, layout: &Layout, image: &ImageName) -> Result<PushImage> {
        let push = self.oci(image)?.push_image(layout);
        Ok(match &image.tag {
            Some(t) => push.with_tag(t.as_str()),
            None => push,
        })
    }

    /// Pulls `image` (by digest, else tag, else `latest`) into an OCI image layout.
    pub fn pull_image(&self, image: &ImageName, layout: &Layout) -> Result<PullImage> {
        Ok(self.oci(image)?.pull_image(&image.reference(), layout))
    }

    /// Copies `from` to `to` (any locations or projects; blobs are mounted within
    /// one registry), every platform of an index; tagged with `to`'s tag if named.
    pub fn copy_image(&self, from: &ImageName, to: &ImageName) -> Result<CopyImage> {
        let copy = self
            .oci(from)?
            .copy_image(&from.reference(), &self.oci(to)?);
        Ok(match &to.tag {
            Some(t) => copy.with_tag(t.as_str()),
            None => copy,
        })
    }

    /// Deletes an image (its version, with every tag pointing at it), waiting
    /// for the operation; returns what was deleted.
    pub async fn delete_image(&self, image: &ImageName) -> Result<DockerImageName> {
        let name = self.resolve_image(image).await?;
        let version = name
            .repository()
            .package(name.image().clone())
            .version(name.digest().to_string().parse()?);
        self.api(image.repository.location())?
            .delete_version(&version)
            .set_force(true)
            .send()
            .await?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_references_split_at_the_last_colon_of_the_last_segment() {
        assert_eq!(split_reference("docker/app"), ("docker/app", None, None));
        assert_eq!(
            split_reference("docker/team/app:1.0"),
            ("docker/team/app", Some("1.0"), None)
        );
        assert_eq!(
            split_reference("docker/app:v1@sha256:00"),
            ("docker/app", Some("v1"), Some("sha256:00"))
        );
        assert_eq!(
            split_reference("docker/app@sha256:00"),
            ("docker/app", None, Some("sha256:00"))
        );
    }
}
