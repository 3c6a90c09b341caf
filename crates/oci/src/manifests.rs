//! Manifest calls: get (verified), head, put, delete; tag deletion.

use bytes::Bytes;
use futures_util::StreamExt;
use gar_core::Error;
use gar_core::error::{ErrorKind, ResourceKind};
use gar_core::ids::Digest;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};

use crate::http::{Call, CallBody, error_of, header};
use crate::manifest::{
    Descriptor, ImageConfig, ImageManifest, ImagePlatform, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES,
    Manifest, ManifestBody, media_types,
};
use crate::registry::{Reference, Repository};

const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";

impl Repository {
    /// Gets the manifest `reference` (a tag or a digest).
    ///
    /// The bytes are checked against the digest asked for, or else against the
    /// registry's `Docker-Content-Digest` (`ManifestDigestMismatch` when they
    /// differ); manifests over 4 MiB are refused.
    pub fn get_manifest(&self, reference: &str) -> GetManifest {
        GetManifest {
            repo: self.clone(),
            reference: reference.to_owned(),
            accept: media_types::ACCEPT_ALL.to_owned(),
        }
    }

    /// Asks whether the manifest `reference` exists, without its body: its
    /// descriptor, or `None`.
    pub async fn head_manifest(&self, reference: &str) -> Result<Option<Descriptor>, Error> {
        let r = Reference::parse(reference)?;
        let call = Call::new(
            Method::HEAD,
            self.url(&format!("manifests/{r}")),
            "gar.oci.manifest.head",
        )
        .header(ACCEPT, media_types::ACCEPT_ALL)
        .scope(self.pull())
        .attribute("gar.image", self.name())
        .attribute("gar.resource", r.to_string());
        let response = self.registry().execute(&call).await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(
                error_of(response, &self.resource(ResourceKind::Manifest, reference)).await,
            );
        }
        let headers = response.headers();
        let media_type = header(headers, CONTENT_TYPE)
            .unwrap_or(media_types::OCI_MANIFEST)
            .to_owned();
        let size = header(headers, CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let digest = header(headers, DOCKER_CONTENT_DIGEST).and_then(|v| v.parse::<Digest>().ok());
        match (digest, size) {
            (Some(digest), Some(size)) => Ok(Some(Descriptor {
                size,
                digest,
                ..Descriptor::of(&media_type, b"")
            })),
            // The registry did not say: fetch it and compute.
            _ => {
                let m = self.get_manifest(reference).send().await?;
                Ok(Some(m.descriptor()))
            }
        }
    }

    /// Puts `manifest` under `reference` (a tag, or its own digest); returns
    /// its digest. Manifests over 4 MiB are refused before sending.
    pub fn put_manifest(&self, reference: &str, manifest: &Manifest) -> PutManifest {
        PutManifest {
            repo: self.clone(),
            reference: reference.to_owned(),
            manifest: manifest.clone(),
        }
    }

    /// Deletes the manifest `digest` (and every tag pointing at it).
    pub async fn delete_manifest(&self, digest: &Digest) -> Result<(), Error> {
        self.delete_reference(digest.as_str(), ResourceKind::Manifest)
            .await
    }

    /// Deletes the tag `tag`, keeping the manifest it points at.
    pub async fn delete_tag(&self, tag: &str) -> Result<(), Error> {
        crate::registry::check_tag(tag)?;
        self.delete_reference(tag, ResourceKind::Tag).await
    }

    async fn delete_reference(&self, reference: &str, kind: ResourceKind) -> Result<(), Error> {
        let call = Call::new(
            Method::DELETE,
            self.url(&format!("manifests/{reference}")),
            "gar.oci.manifest.delete",
        )
        .scope(self.delete())
        .attribute("gar.image", self.name())
        .attribute("gar.resource", reference);
        let response = self.registry().execute(&call).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(error_of(response, &self.resource(kind, reference)).await)
    }
}

/// A manifest get; see [`Repository::get_manifest`].
#[derive(Debug, Clone)]
pub struct GetManifest {
    repo: Repository,
    reference: String,
    accept: String,
}

impl GetManifest {
    /// Accepts only these media types (default: the four manifest types).
    #[must_use]
    pub fn with_accept(mut self, media_types: &[&str]) -> Self {
        self.accept = media_types.join(", ");
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<Manifest, Error> {
        let reference = Reference::parse(&self.reference)?;
        let repo = &self.repo;
        let resource = repo.resource(ResourceKind::Manifest, &self.reference);
        let call = Call::new(
            Method::GET,
            repo.url(&format!("manifests/{reference}")),
            "gar.oci.manifest.get",
        )
        .header(ACCEPT, self.accept.as_str())
        .scope(repo.pull())
        .attribute("gar.image", repo.name())
        .attribute("gar.resource", reference.to_string());
        let response = repo.registry().execute(&call).await?;
        if !response.status().is_success() {
            return Err(error_of(response, &resource).await);
        }
        let headers = response.headers().clone();
        let too_large = || {
            Error::new(
                ErrorKind::ManifestInvalid,
                format!(
                    "the manifest {} of {repo} is over {MAX_MANIFEST_BYTES} bytes; registries accept at most 4 MiB",
                    self.reference
                ),
            )
        };
        if header(&headers, CONTENT_LENGTH)
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > MAX_MANIFEST_BYTES as u64)
        {
            return Err(too_large());
        }
        let bytes = response
            .into_body()
            .collect_bytes(MAX_MANIFEST_BYTES)
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::InvalidResponse {
                    too_large()
                } else {
                    e
                }
            })?;
        let content_type = header(&headers, CONTENT_TYPE);
        let expected = match &reference {
            Reference::Digest(d) => Some(d.clone()),
            Reference::Tag(_) => {
                header(&headers, DOCKER_CONTENT_DIGEST).and_then(|v| v.parse::<Digest>().ok())
            }
        };
        let raw = bytes.to_vec();
        let parsed = match &expected {
            Some(d) => Manifest::parse_verified(raw, content_type, d),
            None => Manifest::parse(raw, content_type),
        };
        parsed.map_err(|e| {
            let message = format!("{repo} {}: {}", self.reference, e.message());
            Error::new(e.kind(), message).with_resource(resource)
        })
    }
}

/// A manifest put; see [`Repository::put_manifest`].
#[derive(Debug, Clone)]
pub struct PutManifest {
    repo: Repository,
    reference: String,
    manifest: Manifest,
}

impl PutManifest {
    /// Sends the request; returns the manifest's digest.
    pub async fn send(self) -> Result<Digest, Error> {
        let reference = Reference::parse(&self.reference)?;
        let repo = &self.repo;
        let m = &self.manifest;
        let resource = repo.resource(ResourceKind::Manifest, &self.reference);
        if m.raw().len() > MAX_MANIFEST_BYTES {
            return Err(Error::new(
                ErrorKind::ManifestInvalid,
                format!(
                    "the manifest is {} bytes; registries accept at most {MAX_MANIFEST_BYTES}",
                    m.raw().len()
                ),
            ));
        }
        if let Reference::Digest(d) = &reference
            && d != m.digest()
        {
            return Err(Error::new(
                ErrorKind::ManifestDigestMismatch,
                format!(
                    "the manifest hashes to {}, so it cannot be put under {d}",
                    m.digest()
                ),
            ));
        }
        let call = Call::new(
            Method::PUT,
            repo.url(&format!("manifests/{reference}")),
            "gar.oci.manifest.put",
        )
        .header(CONTENT_TYPE, m.media_type())
        .body(CallBody::Full(Bytes::copy_from_slice(m.raw())))
        .scope(repo.push())
        .attribute("gar.image", repo.name())
        .attribute("gar.resource", reference.to_string())
        .attribute("gar.digest", m.digest().to_string());
        let response = repo.registry().execute(&call).await?;
        if !response.status().is_success() {
            return Err(error_of(response, &resource).await);
        }
        if let Some(said) =
            header(response.headers(), DOCKER_CONTENT_DIGEST).and_then(|v| v.parse::<Digest>().ok())
            && said.algorithm() == m.digest().algorithm()
            && said != *m.digest()
        {
            return Err(Error::new(
                ErrorKind::ManifestDigestMismatch,
                format!(
                    "the registry stored the manifest as {said}, not as {}; it changed the bytes",
                    m.digest()
                ),
            )
            .with_resource(resource));
        }
        Ok(m.digest().clone())
    }
}

impl Repository {
    /// Reads the config blob of the image manifest `manifest` and its platform
    /// fields: refused before any request when the descriptor says it is over
    /// [`MAX_CONFIG_BYTES`] (`ManifestInvalid`), verified against the
    /// descriptor's digest and size (`BlobDigestMismatch`), and parsed by
    /// [`ImageConfig::parse`] (`ManifestInvalid` when it is not an image config
    /// naming its platform, or when the descriptor's media type is an
    /// artifact's rather than an image config's).
    pub async fn get_config(&self, manifest: &ImageManifest) -> Result<ImageConfig, Error> {
        let config = &manifest.config;
        let resource = self.resource(ResourceKind::Blob, &config.digest.to_string());
        let problem = |message: String| {
            Error::new(
                ErrorKind::ManifestInvalid,
                format!("{self}: the config {}: {message}", config.digest),
            )
            .with_resource(resource.clone())
        };
        if !ImageConfig::is_image_config(&config.media_type) {
            return Err(problem(format!(
                "its media type {:?} is not an image config's",
                config.media_type
            )));
        }
        if config.size > MAX_CONFIG_BYTES {
            return Err(problem(format!(
                "its descriptor says {} bytes, over the {MAX_CONFIG_BYTES}-byte limit",
                config.size
            )));
        }
        let mut stream = self
            .get_blob(&config.digest)
            .with_size(config.size)
            .send()
            .await?;
        let mut bytes = Vec::with_capacity(usize::try_from(config.size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if u64::try_from(bytes.len().saturating_add(chunk.len())).unwrap_or(u64::MAX)
                > MAX_CONFIG_BYTES
            {
                return Err(problem(format!(
                    "the registry sent over {MAX_CONFIG_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        ImageConfig::parse(&bytes).map_err(|e| problem(e.message().to_owned()))
    }

    /// The platforms of the manifest `reference` (a tag or a digest): for an
    /// index, those its entries declare (entries without a platform are left
    /// out), in the index's order; for an image manifest, the one its config
    /// names (read with [`get_config`](Self::get_config); errors as there).
    /// An artifact (an image manifest whose config is not an image config)
    /// has none.
    pub async fn get_platforms(&self, reference: &str) -> Result<Vec<ImagePlatform>, Error> {
        let manifest = self.get_manifest(reference).send().await?;
        match manifest.body() {
            ManifestBody::Index(index) => Ok(index
                .manifests
                .iter()
                .filter_map(|d| {
                    d.platform
                        .as_ref()
                        .map(|p| ImagePlatform::new(p.clone(), d.digest.clone()))
                })
                .collect()),
            ManifestBody::Image(image) => {
                if !ImageConfig::is_image_config(&image.config.media_type) {
                    return Ok(Vec::new());
                }
                let config = self.get_config(image).await?;
                Ok(vec![ImagePlatform::new(
                    config.platform(),
                    manifest.digest().clone(),
                )])
            }
        }
    }
}
