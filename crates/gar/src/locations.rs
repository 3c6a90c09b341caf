//! Several locations at once: listings gathered concurrently that name the
//! locations that could not be reached, and reads that fail over between
//! replicas in the order given: Artifact Registry API reads
//! ([`Locations::read`]) and registry reads of an image's replicas
//! ([`Locations::read_image`], [`Locations::get_manifest`],
//! [`Locations::get_blob`], [`Locations::list_tags`]). Writes never fail over.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//!
//! # async fn demo(client: gar::Client) -> gar::Result<()> {
//! let locations = client.locations(["us-central1", "europe-west1", "asia-east1"])?;
//! let all = locations.repositories().await;
//! for r in &all.items {
//!     println!("{}", r.name);
//! }
//! for gone in &all.unreachable {
//!     eprintln!("{} could not be listed: {}", gone.location, gone.error);
//! }
//!
//! // The same repository replicated in two regions: read from the first that answers.
//! let replicas = client.locations(["us-east1", "us-west1"])?;
//! let served = replicas
//!     .read(|c| async move { c.repositories()?.get("docker")?.send().await })
//!     .await?;
//! println!("{} answered from {}", served.value.name, served.location);
//! # Ok(()) }
//! ```

use std::future::Future;

use futures_util::future::join_all;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use gar_artifactregistry::model::{DockerImage, Repository};
use gar_core::error::ErrorCategory;
use gar_core::ids::Digest;
use gar_core::location::Location;
use gar_core::{Error, ErrorKind, Result};
use gar_oci::BlobStream;
use gar_oci::manifest::Manifest;

use crate::Client;
use crate::images::ImageName;

impl Client {
    /// A set of locations of the default project, in order of preference; each
    /// is checked against the catalogue before any call.
    pub fn locations<I, S>(&self, locations: I) -> Result<Locations>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut parsed = Vec::new();
        for l in locations {
            let l: Location = l.as_ref().parse()?;
            if !parsed.contains(&l) {
                parsed.push(l);
            }
        }
        if parsed.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidLocation,
                "no location given: name at least one",
            ));
        }
        Ok(Locations {
            client: self.clone(),
            locations: parsed,
        })
    }
}

/// Locations to list across, or to read from with failover; see [`Client::locations`].
#[derive(Debug, Clone)]
pub struct Locations {
    client: Client,
    locations: Vec<Location>,
}

/// A location that failed, and how.
#[derive(Debug)]
#[non_exhaustive]
pub struct LocationFailure {
    /// The location.
    pub location: Location,
    /// What went wrong there.
    pub error: Error,
}

/// What a listing across locations gathered.
#[derive(Debug)]
#[non_exhaustive]
pub struct Across<T> {
    /// The items of every location that answered, location by location in the
    /// order the locations were given.
    pub items: Vec<T>,
    /// The locations that answered.
    pub reached: Vec<Location>,
    /// The locations that did not, with their errors.
    pub unreachable: Vec<LocationFailure>,
}

impl<T> Across<T> {
    /// Whether every location answered.
    pub fn is_complete(&self) -> bool {
        self.unreachable.is_empty()
    }
}

/// A value read with failover, and where it came from.
#[derive(Debug)]
#[non_exhaustive]
pub struct Served<T> {
    /// The value.
    pub value: T,
    /// The location that served it.
    pub location: Location,
    /// The locations tried before it, with their errors.
    pub skipped: Vec<LocationFailure>,
}

/// Whether an error means the location is unavailable (so a replica elsewhere
/// may answer): network failures, server failures, an open circuit, exhausted
/// quota, or a location reported unavailable. Not-found, permission and
/// argument errors are answers, and do not fail over.
pub fn is_unavailable(error: &Error) -> bool {
    matches!(
        error.category(),
        ErrorCategory::Network | ErrorCategory::Server | ErrorCategory::Quota
    ) || error.kind() == ErrorKind::LocationUnavailable
}

impl Locations {
    /// The locations, in order of preference.
    pub fn locations(&self) -> &[Location] {
        &self.locations
    }

    /// Runs `list` for every location at once (with the client's default
    /// location set to it) and gathers what answered; the locations whose call
    /// failed are named in [`Across::unreachable`] with their error.
    pub async fn collect<T, F, Fut>(&self, list: F) -> Across<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<Vec<T>>>,
    {
        let calls = self.locations.iter().map(|l| {
            let fut = list(self.client.at(l));
            async move { (l.clone(), fut.await) }
        });
        let mut across = Across {
            items: Vec::new(),
            reached: Vec::new(),
            unreachable: Vec::new(),
        };
        for (location, outcome) in join_all(calls).await {
            match outcome {
                Ok(items) => {
                    across.items.extend(items);
                    across.reached.push(location);
                }
                Err(error) => across.unreachable.push(LocationFailure { location, error }),
            }
        }
        across
    }

    /// The repositories of every location.
    pub async fn repositories(&self) -> Across<Repository> {
        self.collect(|c| async move { c.repositories()?.list().by_item().try_collect().await })
            .await
    }

    /// The docker images of the repository `repository` (an id) in every location.
    pub async fn docker_images(&self, repository: &str) -> Across<DockerImage> {
        self.collect(|c| async move {
            c.docker_images(repository)?
                .list()
                .by_item()
                .try_collect()
                .await
        })
        .await
    }

    /// Reads from the first location that answers: `read` runs with the client's
    /// default location set to each location in turn, moving on only when the
    /// location is unavailable ([`is_unavailable`]); any other error is the
    /// answer. When every location is unavailable the error is
    /// `LocationUnavailable`, naming each location's failure, with the last
    /// failure as its source.
    pub async fn read<T, F, Fut>(&self, read: F) -> Result<Served<T>>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.read_at(|location| read(self.client.at(location)))
            .await
    }

    /// Reads from `image`'s registry repository with failover: `read` gets the
    /// repository of the image's replica in each location in turn (the same
    /// project, repository and image path; the location `image` names is
    /// ignored), moving on only when the location is unavailable, as
    /// [`read`](Self::read) does. A registry answer such as
    /// `ManifestNotFound` or `BlobNotFound` is the answer. Only reads belong
    /// here: writes (push, tag, delete) go to one location and never fail over.
    ///
    /// ```no_run
    /// # async fn demo(client: gar::Client) -> gar::Result<()> {
    /// let image = client.image("docker/team/app:1.0")?;
    /// let replicas = client.locations(["us-east1", "us-west1"])?;
    /// let served = replicas
    ///     .read_image(&image, |repo| async move { repo.head_manifest("1.0").await })
    ///     .await?;
    /// println!("{:?} from {}", served.value, served.location);
    /// # Ok(()) }
    /// ```
    pub async fn read_image<T, F, Fut>(&self, image: &ImageName, read: F) -> Result<Served<T>>
    where
        F: Fn(gar_oci::Repository) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.read_at(|location| {
            let call = self.client.oci(&image.at(location)).map(&read);
            async move { call?.await }
        })
        .await
    }

    /// The manifest of `image` (by its digest, else tag, else `latest`) from
    /// the first replica that answers; see [`read_image`](Self::read_image).
    pub async fn get_manifest(&self, image: &ImageName) -> Result<Served<Manifest>> {
        let reference = image.reference();
        self.read_image(image, |repo| {
            let reference = reference.clone();
            async move { repo.get_manifest(&reference).send().await }
        })
        .await
    }

    /// The blob `digest` of `image`'s repository from the first replica that
    /// answers; see [`read_image`](Self::read_image). The failover happens
    /// when the download starts: once bytes flow, the stream stays with its
    /// replica (resuming there with `Range` after a dropped connection) and is
    /// verified against `digest` as usual.
    pub async fn get_blob(&self, image: &ImageName, digest: &Digest) -> Result<Served<BlobStream>> {
        self.read_image(image, |repo| {
            let digest = digest.clone();
            async move { repo.get_blob(&digest).send().await }
        })
        .await
    }

    /// The tags of `image`'s repository, streamed from the first replica whose
    /// first page answers; see [`read_image`](Self::read_image). The failover
    /// happens on the first page: later pages come from the same replica (a
    /// failure there ends the stream with that error), so memory stays bounded
    /// by a page whatever the number of tags.
    pub async fn list_tags(
        &self,
        image: &ImageName,
    ) -> Result<Served<BoxStream<'static, Result<String>>>> {
        self.read_image(image, |repo| async move {
            let mut pages = repo.list_tags().by_page();
            let first = pages.try_next().await?.map(|list| list.tags);
            let rest = pages.flat_map(|page| {
                futures_util::stream::iter(match page {
                    Ok(list) => list.tags.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e)],
                })
            });
            Ok(
                futures_util::stream::iter(first.unwrap_or_default().into_iter().map(Ok))
                    .chain(rest)
                    .boxed(),
            )
        })
        .await
    }

    /// The failover loop: `read` runs for each location in turn.
    async fn read_at<T, F, Fut>(&self, read: F) -> Result<Served<T>>
    where
        F: Fn(&Location) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut skipped: Vec<LocationFailure> = Vec::new();
        for location in &self.locations {
            match read(location).await {
                Ok(value) => {
                    return Ok(Served {
                        value,
                        location: location.clone(),
                        skipped,
                    });
                }
                Err(error) if is_unavailable(&error) => skipped.push(LocationFailure {
                    location: location.clone(),
                    error,
                }),
                Err(error) => return Err(error),
            }
        }
        let summary = skipped
            .iter()
            .map(|f| format!("{}: {}", f.location, f.error.message()))
            .collect::<Vec<_>>()
            .join("; ");
        let mut error = Error::new(
            ErrorKind::LocationUnavailable,
            format!("no replica could serve the read ({summary})"),
        );
        if let Some(last) = skipped.pop() {
            error = error.with_source(last.error);
        }
        Err(error)
    }
}
