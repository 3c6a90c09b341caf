//! Manifests: the four media types, typed models that keep the exact bytes, digest
//! verification, and platform selection from an index.
//!
//! A [`Manifest`] is what a registry returned (or what will be pushed): its raw bytes,
//! their digest and media type, and the parsed [`ManifestBody`]. The bytes are never
//! re-serialized, so pushing a pulled manifest elsewhere is byte-identical and keeps
//! its digest.
//!
//! ```
//! use gar_oci::manifest::{Manifest, ManifestKind, media_types};
//!
//! let raw = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
//!   {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,
//!    "digest":"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
//!    "platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}"#;
//! let m = Manifest::parse(raw.to_vec(), Some(media_types::OCI_INDEX)).unwrap();
//! assert_eq!(m.kind(), ManifestKind::OciIndex);
//! let arm = m.as_index().unwrap().select("linux/arm64".parse().unwrap());
//! assert!(arm.is_some());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use gar_core::Error;
use gar_core::error::ErrorKind;
use gar_core::ids::Digest;
use serde::{Deserialize, Serialize};

use crate::digest::{DigestHasher, sha256};

/// Media types gar knows.
pub mod media_types {
    /// Docker image manifest, schema 2.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Docker gzip layer.
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// OCI gzip layer.
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// OCI uncompressed layer.
    pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    /// OCI zstd layer.
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// The OCI empty descriptor (`{}`), for artifacts without a config.
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// Docker schema 1 (signed), which registries no longer accept.
    pub const DOCKER_SCHEMA1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// Docker schema 1.
    pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";

    /// The `Accept` header value that asks for any of the four manifest types.
    pub const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
}

/// The largest manifest registries accept (and gar sends or reads).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Which of the four manifest formats a manifest is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// Docker image manifest, schema 2.
    DockerManifest,
    /// Docker manifest list.
    DockerManifestList,
    /// OCI image manifest.
    OciManifest,
    /// OCI image index.
    OciIndex,
}

impl ManifestKind {
    /// The kind with this media type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        // Parameters such as `; charset=utf-8` are ignored.
        let base = media_type.split(';').next().unwrap_or("").trim();
        Some(match base {
            media_types::DOCKER_MANIFEST => Self::DockerManifest,
            media_types::DOCKER_MANIFEST_LIST => Self::DockerManifestList,
            media_types::OCI_MANIFEST => Self::OciManifest,
            media_types::OCI_INDEX => Self::OciIndex,
            _ => return None,
        })
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::DockerManifest => media_types::DOCKER_MANIFEST,
            Self::DockerManifestList => media_types::DOCKER_MANIFEST_LIST,
            Self::OciManifest => media_types::OCI_MANIFEST,
            Self::OciIndex => media_types::OCI_INDEX,
        }
    }

    /// Whether it lists other manifests (index or manifest list).
    pub fn is_index(self) -> bool {
        matches!(self, Self::DockerManifestList | Self::OciIndex)
    }
}

/// A reference to content: its media type, digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the content.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Other places the content may be fetched from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform of a manifest listed in an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type of a manifest listed in an index (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor of `bytes` with `media_type`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest: sha256(bytes),
            size: bytes.len() as u64,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }
}

/// An operating system and CPU architecture (`linux/arm64/v8`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, ...).
    pub architecture: String,
    /// Operating system (`linux`, `windows`, ...).
    pub os: String,
    /// Operating-system version (Windows builds).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating-system features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// `os/architecture`, with no variant.
    pub fn new(os: &str, architecture: &str) -> Self {
        Self {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            ..Self::default()
        }
    }

    /// The normal form used for matching: `x86_64` is `amd64`, `aarch64` is `arm64`,
    /// and `arm64` without a variant is `arm64/v8`.
    pub fn normalized(&self) -> Self {
        let os = self.os.to_ascii_lowercase();
        let (architecture, default_variant) = match self.architecture.to_ascii_lowercase().as_str()
        {
            "x86_64" | "x86-64" | "amd64" => ("amd64".to_owned(), None),
            "aarch64" | "arm64" => ("arm64".to_owned(), Some("v8")),
            "armhf" => ("arm".to_owned(), Some("v7")),
            "armel" => ("arm".to_owned(), Some("v6")),
            "i386" | "386" => ("386".to_owned(), None),
            other => (other.to_owned(), None),
        };
        let variant = self
            .variant
            .as_deref()
            .map(str::to_ascii_lowercase)
            .or_else(|| default_variant.map(str::to_owned));
        Self {
            architecture,
            os,
            variant,
            ..self.clone()
        }
    }

    /// Whether a manifest for `self` runs where `wanted` is asked for: same OS and
    /// architecture after normalisation, and the same variant when `wanted` names one.
    pub fn satisfies(&self, wanted: &Platform) -> bool {
        let (have, want) = (self.normalized(), wanted.normalized());
        have.os == want.os
            && have.architecture == want.architecture
            && (wanted.variant.is_none() || have.variant == want.variant)
            && want
                .os_version
                .as_ref()
                .is_none_or(|v| have.os_version.as_ref() == Some(v))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;
    /// Parses `os/architecture[/variant]`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Self::new(os, arch)),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Self {
                variant: Some((*variant).to_owned()),
                ..Self::new(os, arch)
            }),
            _ => Err(Error::invalid(
                ErrorKind::InvalidArgument,
                "platform",
                s,
                "expected os/architecture[/variant], such as linux/arm64/v8",
            )),
        }
    }
}

/// An image manifest (Docker schema 2 or OCI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type (required for Docker, recommended for OCI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image config.
    pub config: Descriptor,
    /// The layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An index of manifests (OCI index or Docker manifest list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The listed manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// The manifest for `wanted`: an exact variant match first, then the first entry
    /// that satisfies it. Attestation entries (`unknown/unknown`) never match.
    pub fn select(&self, wanted: Platform) -> Option<&Descriptor> {
        let candidates = || {
            self.manifests
                .iter()
                .filter(|d| d.platform.as_ref().is_some_and(|p| p.satisfies(&wanted)))
        };
        let exact = wanted.normalized().variant;
        candidates()
            .find(|d| d.platform.as_ref().map(|p| p.normalized().variant) == Some(exact.clone()))
            .or_else(|| candidates().next())
    }

    /// The platforms the index offers, in order (entries without one are skipped).
    pub fn platforms(&self) -> Vec<&Platform> {
        self.manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .collect()
    }
}

/// The parsed content of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestBody {
    /// An image manifest.
    Image(Box<ImageManifest>),
    /// An index or manifest list.
    Index(Box<ImageIndex>),
}

/// A manifest with its exact bytes, digest and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    raw: Vec<u8>,
    digest: Digest,
    kind: ManifestKind,
    body: ManifestBody,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::new(ErrorKind::ManifestInvalid, reason)
}

impl Manifest {
    /// Parses `raw` as the manifest type `content_type` says, or, without one (or a
    /// generic JSON type), as its `mediaType` field says, or by its shape.
    pub fn parse(raw: Vec<u8>, content_type: Option<&str>) -> Result<Self, Error> {
        if raw.len() > MAX_MANIFEST_BYTES {
            return Err(invalid(format!(
                "the manifest is {} bytes; registries accept at most {MAX_MANIFEST_BYTES}",
                raw.len()
            )));
        }
        let value: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| invalid(format!("the manifest is not valid JSON: {e}")))?;
        let field_owned = value
            .get("mediaType")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let field = field_owned.as_deref();
        let schema = value
            .get("schemaVersion")
            .and_then(serde_json::Value::as_u64);
        let header_kind = content_type.and_then(ManifestKind::from_media_type);
        let kind = match (header_kind, field.and_then(ManifestKind::from_media_type)) {
            (Some(h), _) => h,
            (None, Some(f)) => f,
            (None, None) => {
                let named = field.or(content_type.filter(|c| !c.starts_with("application/json")));
                if schema == Some(1) || named.is_some_and(|m| m.contains("manifest.v1")) {
                    return Err(Error::new(
                        ErrorKind::SchemaNotSupported,
                        "Docker schema 1 manifests are not supported; push the image again with a current docker or buildkit",
                    ));
                }
                if let Some(other) = named {
                    return Err(Error::new(
                        ErrorKind::SchemaNotSupported,
                        format!(
                            "the media type {other:?} is not a manifest type gar supports (Docker schema 2, manifest list, OCI manifest, OCI index)"
                        ),
                    ));
                }
                // No media type anywhere (allowed by OCI): go by shape.
                if value.get("manifests").is_some() {
                    ManifestKind::OciIndex
                } else {
                    ManifestKind::OciManifest
                }
            }
        };
        if schema != Some(2) {
            return Err(invalid(format!(
                "schemaVersion must be 2, found {schema:?}"
            )));
        }
        if let Some(f) = field
            && ManifestKind::from_media_type(f) != Some(kind)
        {
            return Err(invalid(format!(
                "the manifest says its mediaType is {f:?} but was served as {}",
                kind.media_type()
            )));
        }
        let body = if kind.is_index() {
            ManifestBody::Index(
                serde_json::from_value(value)
                    .map_err(|e| invalid(format!("the index is malformed: {e}")))?,
            )
        } else {
            ManifestBody::Image(
                serde_json::from_value(value)
                    .map_err(|e| invalid(format!("the manifest is malformed: {e}")))?,
            )
        };
        if kind == ManifestKind::DockerManifest && field.is_none() {
            return Err(invalid(
                "a Docker schema 2 manifest must carry its mediaType",
            ));
        }
        let digest = sha256(&raw);
        Ok(Self {
            raw,
            digest,
            kind,
            body,
        })
    }

    /// Parses `raw` and checks that it hashes to `expected` (the digest asked for, or
    /// the registry's `Docker-Content-Digest`): a `ManifestDigestMismatch` otherwise.
    pub fn parse_verified(
        raw: Vec<u8>,
        content_type: Option<&str>,
        expected: &Digest,
    ) -> Result<Self, Error> {
        let mut hasher = DigestHasher::for_digest(expected);
        hasher.update(&raw);
        let actual = hasher.finish();
        if actual != *expected {
            return Err(Error::new(
                ErrorKind::ManifestDigestMismatch,
                format!(
                    "the manifest received hashes to {actual}, not to the expected {expected}; it was discarded"
                ),
            ));
        }
        let mut m = Self::parse(raw, content_type)?;
        m.digest = expected.clone();
        Ok(m)
    }

    /// Serializes an image manifest (compact JSON) to push.
    pub fn from_image(manifest: &ImageManifest) -> Result<Self, Error> {
        let kind = match manifest.media_type.as_deref() {
            Some(mt) => ManifestKind::from_media_type(mt)
                .filter(|k| !k.is_index())
                .ok_or_else(|| invalid(format!("{mt:?} is not an image manifest media type")))?,
            None => ManifestKind::OciManifest,
        };
        let raw = serde_json::to_vec(manifest).map_err(|e| invalid(e.to_string()))?;
        Self::parse(raw, Some(kind.media_type()))
    }

    /// Serializes an index (compact JSON) to push.
    pub fn from_index(index: &ImageIndex) -> Result<Self, Error> {
        let kind = match index.media_type.as_deref() {
            Some(mt) => ManifestKind::from_media_type(mt)
                .filter(|k| k.is_index())
                .ok_or_else(|| invalid(format!("{mt:?} is not an index media type")))?,
            None => ManifestKind::OciIndex,
        };
        let raw = serde_json::to_vec(index).map_err(|e| invalid(e.to_string()))?;
        Self::parse(raw, Some(kind.media_type()))
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The bytes, consuming the manifest.
    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    /// The digest of the bytes.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The format.
    pub fn kind(&self) -> ManifestKind {
        self.kind
    }

    /// The media type to send as `Content-Type`.
    pub fn media_type(&self) -> &'static str {
        self.kind.media_type()
    }

    /// The parsed content.
    pub fn body(&self) -> &ManifestBody {
        &self.body
    }

    /// The image manifest, if this is one.
    pub fn as_image(&self) -> Option<&ImageManifest> {
        match &self.body {
            ManifestBody::Image(m) => Some(m),
            ManifestBody::Index(_) => None,
        }
    }

    /// The index, if this is one.
    pub fn as_index(&self) -> Option<&ImageIndex> {
        match &self.body {
            ManifestBody::Index(i) => Some(i),
            ManifestBody::Image(_) => None,
        }
    }

    /// A descriptor of this manifest (to list it in an index or refer to it).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type().to_owned(),
            digest: self.digest.clone(),
            size: self.raw.len() as u64,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }

    /// The blobs an image manifest references: its config, then its layers.
    pub fn blobs(&self) -> Vec<&Descriptor> {
        match &self.body {
            ManifestBody::Image(m) => std::iter::once(&m.config).chain(m.layers.iter()).collect(),
            ManifestBody::Index(_) => Vec::new(),
        }
    }

    /// The manifest this one refers to (OCI 1.1 `subject`), if any.
    pub fn subject(&self) -> Option<&Descriptor> {
        match &self.body {
            ManifestBody::Image(m) => m.subject.as_ref(),
            ManifestBody::Index(i) => i.subject.as_ref(),
        }
    }

    /// The total size of an image: manifest, config and layers.
    pub fn image_size(&self) -> u64 {
        self.raw.len() as u64 + self.blobs().iter().map(|d| d.size).sum::<u64>()
    }
}

/// The largest image config gar reads (configs are small JSON documents; the
/// biggest seen in practice are well under 1 MiB).
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// The platform fields of an image config blob (the OCI image config or the
/// Docker image config, which agree on them). Other fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageConfig {
    /// The platform fields (`architecture`, `os`, `os.version`, `os.features`,
    /// `variant`), read in place from the config's top level.
    #[serde(flatten)]
    pub fields: Platform,
}

impl ImageConfig {
    /// Whether `media_type` is that of an image config (OCI or Docker), rather
    /// than an artifact's config, which holds no platform.
    pub fn is_image_config(media_type: &str) -> bool {
        media_type == media_types::OCI_CONFIG || media_type == media_types::DOCKER_CONFIG
    }

    /// Parses an image config: a JSON object whose `architecture` and `os` (both
    /// required by the image spec) are non-empty strings. Anything else is a
    /// `ManifestInvalid` error naming the problem; configs over
    /// [`MAX_CONFIG_BYTES`] are refused.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_CONFIG_BYTES {
            return Err(invalid(format!(
                "the image config is {} bytes, over the {MAX_CONFIG_BYTES}-byte limit",
                bytes.len()
            )));
        }
        let config: Self = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("the image config is not valid: {e}")))?;
        if config.fields.architecture.trim().is_empty() || config.fields.os.trim().is_empty() {
            return Err(invalid(
                "the image config names no platform: its architecture or os is empty",
            ));
        }
        Ok(config)
    }

    /// The platform the config describes.
    pub fn platform(&self) -> Platform {
        Platform {
            variant: self.fields.variant.clone().filter(|v| !v.is_empty()),
            ..self.fields.clone()
        }
    }
}

/// A platform an image runs on and the image manifest serving it; see
/// [`Repository::get_platforms`](crate::Repository::get_platforms).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImagePlatform {
    /// The platform.
    pub platform: Platform,
    /// The digest of the image manifest for it (the manifest itself for a
    /// single-manifest image, an entry of the index otherwise).
    pub digest: Digest,
}

impl ImagePlatform {
    /// A platform served by the manifest `digest`.
    pub fn new(platform: Platform, digest: Digest) -> Self {
        Self { platform, digest }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_configs_name_their_platform() {
        let c = ImageConfig::parse(
            br#"{"architecture":"arm","os":"linux","variant":"v7","config":{"Env":[]}}"#,
        )
        .unwrap();
        assert_eq!(c.platform().to_string(), "linux/arm/v7");
        let w = ImageConfig::parse(
            br#"{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1","variant":""}"#,
        )
        .unwrap();
        assert_eq!(w.platform().os_version.as_deref(), Some("10.0.17763.1"));
        assert_eq!(w.platform().variant, None);
        for bad in [
            &b"[]"[..],
            b"null",
            b"{",
            br#"{"os":"linux"}"#,
            br#"{"architecture":" ","os":"linux"}"#,
        ] {
            let err = ImageConfig::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ManifestInvalid);
        }
        let huge = vec![b' '; usize::try_from(MAX_CONFIG_BYTES).unwrap() + 1];
        assert!(
            ImageConfig::parse(&huge)
                .unwrap_err()
                .message()
                .contains("limit")
        );
        assert!(ImageConfig::is_image_config(media_types::DOCKER_CONFIG));
        assert!(!ImageConfig::is_image_config(media_types::OCI_EMPTY));
    }

    use super::*;

    const D1: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    const D2: &str = "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";

    fn docker_manifest() -> Vec<u8> {
        format!(
            r#"{{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {{"mediaType": "application/vnd.docker.container.image.v1+json", "size": 3, "digest": "{D1}"}},
   "layers": [{{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3, "digest": "{D2}"}}]
}}"#
        )
        .into_bytes()
    }

    fn index(entries: &[(&str, &str, Option<&str>)]) -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media_types::OCI_INDEX.into()),
            artifact_type: None,
            manifests: entries
                .iter()
                .enumerate()
                .map(|(i, (os, arch, variant))| Descriptor {
                    platform: Some(Platform {
                        variant: variant.map(str::to_owned),
                        ..Platform::new(os, arch)
                    }),
                    ..Descriptor::of(media_types::OCI_MANIFEST, format!("m{i}").as_bytes())
                })
                .collect(),
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn keeps_exact_bytes_and_digest() {
        let raw = docker_manifest();
        let m = Manifest::parse(raw.clone(), Some(media_types::DOCKER_MANIFEST)).unwrap();
        assert_eq!(m.raw(), raw.as_slice());
        assert_eq!(m.digest(), &sha256(&raw));
        assert_eq!(m.kind(), ManifestKind::DockerManifest);
        assert_eq!(m.blobs().len(), 2);
        assert_eq!(m.image_size(), raw.len() as u64 + 6);
        // Without a Content-Type the mediaType field decides.
        assert_eq!(Manifest::parse(raw.clone(), None).unwrap(), m);
        assert_eq!(
            Manifest::parse(raw.clone(), Some("application/json")).unwrap(),
            m
        );
        let verified = Manifest::parse_verified(raw.clone(), None, m.digest()).unwrap();
        assert_eq!(verified, m);
        let err = Manifest::parse_verified(raw, None, &D1.parse().unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ManifestDigestMismatch);
    }

    #[test]
    fn four_media_types() {
        let img = ImageManifest {
            schema_version: 2,
            media_type: Some(media_types::OCI_MANIFEST.into()),
            artifact_type: None,
            config: Descriptor::of(media_types::OCI_CONFIG, b"{}"),
            layers: vec![Descriptor::of(media_types::OCI_LAYER_GZIP, b"layer")],
            subject: None,
            annotations: BTreeMap::new(),
        };
        let m = Manifest::from_image(&img).unwrap();
        assert_eq!(m.kind(), ManifestKind::OciManifest);
        assert_eq!(m.as_image(), Some(&img));
        let docker = ImageManifest {
            media_type: Some(media_types::DOCKER_MANIFEST.into()),
            ..img.clone()
        };
        assert_eq!(
            Manifest::from_image(&docker).unwrap().kind(),
            ManifestKind::DockerManifest
        );
        let idx = index(&[("linux", "amd64", None)]);
        assert_eq!(
            Manifest::from_index(&idx).unwrap().kind(),
            ManifestKind::OciIndex
        );
        let list = ImageIndex {
            media_type: Some(media_types::DOCKER_MANIFEST_LIST.into()),
            ..idx.clone()
        };
        let m = Manifest::from_index(&list).unwrap();
        assert_eq!(m.kind(), ManifestKind::DockerManifestList);
        assert_eq!(m.as_index().unwrap().manifests.len(), 1);
        // An OCI manifest without mediaType is recognised by shape.
        let bare = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{}","size":2,"digest":"{D1}"}},"layers":[]}}"#,
            media_types::OCI_CONFIG
        );
        assert_eq!(
            Manifest::parse(bare.into_bytes(), None).unwrap().kind(),
            ManifestKind::OciManifest
        );
        let bare_index = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert_eq!(
            Manifest::parse(bare_index.as_bytes().to_vec(), None)
                .unwrap()
                .kind(),
            ManifestKind::OciIndex
        );
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        let cases: Vec<(Vec<u8>, Option<&str>, ErrorKind, &str)> = vec![
            (
                b"not json".to_vec(),
                None,
                ErrorKind::ManifestInvalid,
                "not valid JSON",
            ),
            (
                br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#.to_vec(),
                None,
                ErrorKind::SchemaNotSupported,
                "schema 1",
            ),
            (
                br#"{"schemaVersion":2,"mediaType":"application/vnd.example+json"}"#.to_vec(),
                None,
                ErrorKind::SchemaNotSupported,
                "application/vnd.example+json",
            ),
            (
                br#"{"schemaVersion":3,"manifests":[]}"#.to_vec(),
                Some(media_types::OCI_INDEX),
                ErrorKind::ManifestInvalid,
                "schemaVersion",
            ),
            (
                docker_manifest(),
                Some(media_types::OCI_INDEX),
                ErrorKind::ManifestInvalid,
                "served as",
            ),
            (
                br#"{"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"sha256:abc"}}"#
                    .to_vec(),
                Some(media_types::OCI_MANIFEST),
                ErrorKind::ManifestInvalid,
                "malformed",
            ),
            (
                vec![b' '; MAX_MANIFEST_BYTES + 1],
                None,
                ErrorKind::ManifestInvalid,
                "at most",
            ),
        ];
        for (raw, ct, kind, needle) in cases {
            let err = Manifest::parse(raw, ct).unwrap_err();
            assert_eq!(err.kind(), kind, "{needle}");
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn platform_selection() {
        let idx = index(&[
            ("linux", "amd64", None),
            ("linux", "arm", Some("v6")),
            ("linux", "arm", Some("v7")),
            ("linux", "arm64", Some("v8")),
            ("unknown", "unknown", None),
            ("windows", "amd64", None),
        ]);
        let pick = |p: &str| idx.select(p.parse().unwrap()).map(|d| d.digest.clone());
        let digest_of = |i: usize| idx.manifests[i].digest.clone();
        assert_eq!(pick("linux/amd64"), Some(digest_of(0)));
        assert_eq!(pick("linux/x86_64"), Some(digest_of(0)));
        assert_eq!(pick("linux/arm/v7"), Some(digest_of(2)));
        assert_eq!(pick("linux/arm"), Some(digest_of(1)));
        assert_eq!(pick("linux/aarch64"), Some(digest_of(3)));
        assert_eq!(pick("linux/arm64/v8"), Some(digest_of(3)));
        assert_eq!(pick("windows/amd64"), Some(digest_of(5)));
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(idx.platforms().len(), 6);
        assert_eq!(
            Platform::from_str("linux/arm/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
        for bad in ["linux", "", "linux/", "a/b/c/d", "linux/arm 64"] {
            assert_eq!(
                bad.parse::<Platform>().unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn digests_stream() {
        let mut h = DigestHasher::sha256();
        for chunk in b"abcdefghij".chunks(3) {
            h.update(chunk);
        }
        assert_eq!(h.bytes(), 10);
        assert_eq!(h.finish(), sha256(b"abcdefghij"));
        let mut h = DigestHasher::sha256();
        h.update(b"x");
        let err = h.verify(&sha256(b"y")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BlobDigestMismatch);
        let mut h = DigestHasher::new(gar_core::ids::DigestAlgorithm::Sha512);
        h.update(b"");
        assert_eq!(
            h.finish().to_string(),
            "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
    }
}
