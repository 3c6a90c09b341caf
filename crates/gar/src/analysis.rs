//! Vulnerabilities (Container Analysis) and the image report: docker image
//! metadata, platforms and the vulnerability summary of many images, gathered
//! with bounded concurrency.
//!
//! ```no_run
//! # async fn demo(client: gar::Client) -> gar::Result<()> {
//! let report = client.image_report("docker")?.with_concurrency(8).send().await?;
//! for row in &report {
//!     let counts = row.vulnerabilities.as_ref().ok();
//!     println!(
//!         "{} {:?} {} bytes, {} vulnerabilities",
//!         row.image.uri,
//!         row.image.tags,
//!         row.image.image_size_bytes,
//!         counts.map_or(0, |c| c.total.total)
//!     );
//! }
//! # Ok(()) }
//! ```

use futures_util::{StreamExt, TryStreamExt, stream};
use gar_artifactregistry::model::DockerImage;
pub use gar_containeranalysis::Protocol;
use gar_containeranalysis::report::ResourceCounts;
use gar_core::names::{DockerImageName, RepositoryName};
use gar_core::{Error, Result};

use crate::Client;
use crate::images::ImageName;

/// The default number of images an [`ImageReport`] reads at once.
pub const DEFAULT_REPORT_CONCURRENCY: usize = 8;

impl Client {
    /// The Container Analysis client (gRPC by default, see
    /// [`ClientBuilder::analysis_protocol`](crate::ClientBuilder::analysis_protocol)),
    /// over this client's transport: occurrences, notes, the vulnerability
    /// summary, an image's vulnerability report and the wait for its analysis.
    pub fn vulnerabilities(&self) -> Result<gar_containeranalysis::Client> {
        gar_containeranalysis::Client::builder()
            .transport(self.transport().clone())
            .endpoints(self.endpoints())
            .protocol(self.analysis_protocol())
            .build()
    }

    /// A report over the docker images of a repository: tags, size, upload time,
    /// platforms, and each image's vulnerability counts.
    pub fn image_report(&self, repository: &str) -> Result<ImageReport> {
        Ok(ImageReport {
            client: self.clone(),
            repository: self.repository_name(repository)?,
            only: None,
            concurrency: DEFAULT_REPORT_CONCURRENCY,
        })
    }
}

/// One platform of an image: an entry of an index, or what a single image
/// manifest's config names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Platform {
    /// Operating system (`linux`).
    pub os: String,
    /// CPU architecture (`amd64`).
    pub architecture: String,
    /// CPU variant (`v8`), if any.
    pub variant: String,
    /// Operating-system version (Windows builds), if any.
    pub os_version: String,
    /// The digest of the image manifest for this platform (the image's own
    /// digest for a single-manifest image).
    pub digest: String,
}

impl Platform {
    fn of(p: &gar_oci::manifest::ImagePlatform) -> Self {
        Self {
            os: p.platform.os.clone(),
            architecture: p.platform.architecture.clone(),
            variant: p.platform.variant.clone().unwrap_or_default(),
            os_version: p.platform.os_version.clone().unwrap_or_default(),
            digest: p.digest.to_string(),
        }
    }
}

/// One row of an [`ImageReport`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ImageSummary {
    /// The image as the Artifact Registry API lists it (uri, tags, size, upload time).
    pub image: DockerImage,
    /// Its platforms: an index's entries, or the one a single image manifest's
    /// config names (read from the registry). Empty for an artifact, and when
    /// they could not be read ([`platforms_error`](Self::platforms_error)).
    pub platforms: Vec<Platform>,
    /// Why the platforms could not be read (a malformed or oversized config is
    /// `ManifestInvalid`), if so; the rest of the row stands.
    pub platforms_error: Option<Error>,
    /// Its vulnerability counts by severity, or why they could not be read.
    pub vulnerabilities: std::result::Result<ResourceCounts, Error>,
}

/// Builds the report of [`Client::image_report`].
#[derive(Debug, Clone)]
#[must_use = "a report does nothing until it is sent"]
pub struct ImageReport {
    client: Client,
    repository: RepositoryName,
    only: Option<Vec<String>>,
    concurrency: usize,
}

impl ImageReport {
    /// Only the images at these paths (`hello`, `team/app`), all their digests.
    pub fn set_images<S: Into<String>>(mut self, images: impl IntoIterator<Item = S>) -> Self {
        self.only = Some(images.into_iter().map(Into::into).collect());
        self
    }

    /// How many images are read at once (default [`DEFAULT_REPORT_CONCURRENCY`]).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Lists the images, then reads the vulnerability summary of each (and,
    /// for a single-manifest image, its config's platform from the registry),
    /// at most `concurrency` images at a time; the rows keep the listing's
    /// order (newest upload first). A failed listing fails the report; a failed
    /// summary or platform read is kept in its row.
    pub async fn send(self) -> Result<Vec<ImageSummary>> {
        let api = self.client.api(self.repository.location())?;
        let analysis = self.client.vulnerabilities()?;
        let project = self.repository.project().clone();
        let mut images: Vec<DockerImage> = api
            .list_docker_images(&self.repository)
            .set_order_by("upload_time desc")
            .by_item()
            .try_collect()
            .await?;
        if let Some(only) = &self.only {
            images.retain(|i| {
                i.docker_image_name()
                    .is_ok_and(|n| only.iter().any(|o| o == n.image().as_str()))
            });
        }
        let client = &self.client;
        let rows = stream::iter(images.into_iter().map(|image| {
            let analysis = analysis.clone();
            let project = project.clone();
            async move {
                let (vulnerabilities, (platforms, platforms_error)) =
                    match image.docker_image_name() {
                        Ok(name) => {
                            futures_util::future::join(
                                counts(&analysis, &project, &name),
                                platforms(client, &name, &image),
                            )
                            .await
                        }
                        Err(e) => {
                            let again = Error::new(e.kind(), e.message());
                            (Err(e), (Vec::new(), Some(again)))
                        }
                    };
                ImageSummary {
                    image,
                    platforms,
                    platforms_error,
                    vulnerabilities,
                }
            }
        }))
        .buffered(self.concurrency)
        .collect::<Vec<_>>()
        .await;
        Ok(rows)
    }
}

/// The platforms of an image: those the API lists (an index's), else what the
/// registry says ([`gar_oci::Repository::get_platforms`]: an index's entries,
/// or the platform of a single manifest's config); with the error that kept
/// them away, if any.
pub(crate) async fn platforms(
    client: &Client,
    name: &DockerImageName,
    image: &DockerImage,
) -> (Vec<Platform>, Option<Error>) {
    if !image.image_manifests.is_empty() {
        let listed = image
            .image_manifests
            .iter()
            .map(|m| Platform {
                os: m.os.clone(),
                architecture: m.architecture.clone(),
                variant: m.variant.clone(),
                os_version: m.os_version.clone(),
                digest: m.digest.clone(),
            })
            .collect();
        return (listed, None);
    }
    let image_name = ImageName {
        repository: name.repository().clone(),
        image: name.image().clone(),
        tag: None,
        digest: Some(name.digest().clone()),
    };
    let read = async {
        client
            .oci(&image_name)?
            .get_platforms(name.digest().as_str())
            .await
    };
    match read.await {
        Ok(found) => (found.iter().map(Platform::of).collect(), None),
        Err(e) => (Vec::new(), Some(e)),
    }
}

pub(crate) async fn counts(
    analysis: &gar_containeranalysis::Client,
    project: &gar_core::ids::ProjectId,
    image: &DockerImageName,
) -> Result<ResourceCounts> {
    let summary = analysis
        .vulnerability_summary(project)
        .for_image(image)
        .send()
        .await?;
    let url = gar_containeranalysis::filter::resource_url(image);
    Ok(summary.resource(&url).cloned().unwrap_or_default())
}
