//! The resources of the Artifact Registry REST API v1, in their ProtoJSON form.
//!
//! Field names are the API's (camelCase on the wire), int64 values are read from
//! strings or numbers and written as strings, enums are read by name or number
//! (unknown values are kept), and unknown fields are ignored, so a newer server never
//! breaks an older client.
//!
//! ```
//! use gar_artifactregistry::model::{Repository, Format};
//!
//! let r: Repository = serde_json::from_str(r#"{
//!   "name": "projects/my-project/locations/us/repositories/docker",
//!   "format": 1, "sizeBytes": "1024", "createTime": "2024-01-01T00:00:00Z",
//!   "aFieldFromTheFuture": true
//! }"#).unwrap();
//! assert_eq!(r.format, Format::Docker);
//! assert_eq!(r.size_bytes, 1024);
//! assert_eq!(r.repository_name().unwrap().repository().as_str(), "docker");
//! ```

use std::collections::BTreeMap;

use gar_core::Error;
use gar_core::cleanup::CleanupPolicies;
use gar_core::names::{
    DockerImageName, FileName, PackageName, RepositoryName, TagName, VersionName,
};
use gar_core::protojson::{self, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use gar_core::format::{Format, Mode};

gar_core::proto_enum! {
    /// How much of a version a read returns.
    pub enum VersionView {
        /// Not set (BASIC).
        Unspecified = 0 => "VERSION_VIEW_UNSPECIFIED",
        /// Without related tags.
        Basic = 1 => "BASIC",
        /// With related tags.
        Full = 2 => "FULL",
    }
}

gar_core::proto_enum! {
    /// The algorithm of a file hash.
    pub enum HashType {
        /// Not set.
        Unspecified = 0 => "HASH_TYPE_UNSPECIFIED",
        /// SHA-256.
        Sha256 = 1 => "SHA256",
        /// MD5.
        Md5 = 2 => "MD5",
        /// SHA-256 of a directory listing.
        DirsumSha256 = 3 => "DIRSUM_SHA256",
    }
}

/// Docker-specific repository settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerRepositoryConfig {
    /// Whether a tag, once set, can never move to another image.
    #[serde(default)]
    pub immutable_tags: bool,
}

/// Maven-specific repository settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MavenRepositoryConfig {
    /// Whether snapshot versions may be overwritten.
    #[serde(default)]
    pub allow_snapshot_overwrites: bool,
    /// `RELEASE`, `SNAPSHOT` or unspecified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_policy: Option<String>,
}

/// A repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    /// `projects/{p}/locations/{l}/repositories/{r}`.
    #[serde(default)]
    pub name: String,
    /// The package format.
    #[serde(default)]
    pub format: Format,
    /// A description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// User labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
    /// The Cloud KMS key that encrypts it, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kms_key_name: String,
    /// Standard, virtual or remote.
    #[serde(default)]
    pub mode: Mode,
    /// Docker settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_config: Option<DockerRepositoryConfig>,
    /// Maven settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maven_config: Option<MavenRepositoryConfig>,
    /// Cleanup policies, by id.
    #[serde(default, skip_serializing_if = "CleanupPolicies::is_empty")]
    pub cleanup_policies: CleanupPolicies,
    /// Whether cleanup policies only report (dry run) instead of deleting.
    #[serde(default)]
    pub cleanup_policy_dry_run: bool,
    /// The storage used, in bytes.
    #[serde(default, with = "protojson::int64")]
    pub size_bytes: i64,
    /// The vulnerability-scanning settings, as the API returns them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability_scanning_config: Option<Value>,
    /// The registry URI (`us-docker.pkg.dev/p/r`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registry_uri: String,
}

impl Repository {
    /// The parsed resource name.
    pub fn repository_name(&self) -> Result<RepositoryName, Error> {
        self.name.parse()
    }
}

/// A package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    /// `.../repositories/{r}/packages/{package}`.
    #[serde(default)]
    pub name: String,
    /// The display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Package {
    /// The parsed resource name.
    pub fn package_name(&self) -> Result<PackageName, Error> {
        self.name.parse()
    }
}

/// A hash of a file or version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hash {
    /// The algorithm.
    #[serde(default, rename = "type")]
    pub hash_type: HashType,
    /// The hash bytes, base64 on the wire.
    #[serde(default, with = "base64_bytes")]
    pub value: Vec<u8>,
}

impl Hash {
    /// The hash as lowercase hex.
    pub fn hex(&self) -> String {
        self.value.iter().map(|b| format!("{b:02x}")).collect()
    }
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        // ProtoJSON accepts both alphabets, with or without padding.
        let trimmed = text.trim_end_matches('=');
        let padded = format!("{trimmed}{}", "=".repeat((4 - trimmed.len() % 4) % 4));
        STANDARD
            .decode(&padded)
            .or_else(|_| URL_SAFE.decode(&padded))
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}

/// A tag: a name pointing at a version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// `.../packages/{package}/tags/{tag}`.
    #[serde(default)]
    pub name: String,
    /// The full name of the version it points at.
    #[serde(default)]
    pub version: String,
}

impl Tag {
    /// The parsed resource name.
    pub fn tag_name(&self) -> Result<TagName, Error> {
        self.name.parse()
    }

    /// The parsed version name.
    pub fn version_name(&self) -> Result<VersionName, Error> {
        self.version.parse()
    }
}

/// A version of a package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// `.../packages/{package}/versions/{version}`.
    #[serde(default)]
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
    /// The tags that point at it (only with view FULL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_tags: Vec<Tag>,
    /// Format-specific metadata (for docker: imageSizeBytes, mediaType, buildTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Content hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<Hash>,
}

impl Version {
    /// The parsed resource name.
    pub fn version_name(&self) -> Result<VersionName, Error> {
        self.name.parse()
    }
}

/// A file of a repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    /// `.../repositories/{r}/files/{file}`.
    #[serde(default)]
    pub name: String,
    /// Its size in bytes.
    #[serde(default, with = "protojson::int64")]
    pub size_bytes: i64,
    /// Its hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
    /// The version (or other resource) that owns it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl File {
    /// The parsed resource name.
    pub fn file_name(&self) -> Result<FileName, Error> {
        self.name.parse()
    }

    /// The hash of type `hash_type`, if the file has one.
    pub fn hash(&self, hash_type: &HashType) -> Option<&Hash> {
        self.hashes.iter().find(|h| h.hash_type == *hash_type)
    }
}

/// One platform manifest of a docker image index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// The manifest digest.
    #[serde(default)]
    pub digest: String,
    /// The manifest media type.
    #[serde(default)]
    pub media_type: String,
    /// Operating-system version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os_version: String,
    /// Operating-system features.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

/// A docker image entry of a repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerImage {
    /// `.../repositories/{r}/dockerImages/{image}@sha256:...`.
    #[serde(default)]
    pub name: String,
    /// `{location}-docker.pkg.dev/{p}/{r}/{image}@sha256:...`.
    #[serde(default)]
    pub uri: String,
    /// Its tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Its size in bytes.
    #[serde(default, with = "protojson::int64")]
    pub image_size_bytes: i64,
    /// When it was pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<Timestamp>,
    /// The manifest media type.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    /// When it was built, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
    /// The artifact type, for OCI artifacts.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub artifact_type: String,
    /// The platform manifests of an index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_manifests: Vec<ImageManifest>,
}

impl DockerImage {
    /// The parsed resource name.
    pub fn docker_image_name(&self) -> Result<DockerImageName, Error> {
        self.name.parse()
    }
}

/// A Maven artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MavenArtifact {
    /// `.../repositories/{r}/mavenArtifacts/{artifact}`.
    #[serde(default)]
    pub name: String,
    /// The URI of its POM.
    #[serde(default)]
    pub pom_uri: String,
    /// The group id.
    #[serde(default)]
    pub group_id: String,
    /// The artifact id.
    #[serde(default)]
    pub artifact_id: String,
    /// The version.
    #[serde(default)]
    pub version: String,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
}

/// An npm package version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NpmPackage {
    /// `.../repositories/{r}/npmPackages/{package}`.
    #[serde(default)]
    pub name: String,
    /// The package name (`@scope/name`).
    #[serde(default)]
    pub package_name: String,
    /// The version.
    #[serde(default)]
    pub version: String,
    /// Its dist-tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
}

/// A Python package version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PythonPackage {
    /// `.../repositories/{r}/pythonPackages/{package}`.
    #[serde(default)]
    pub name: String,
    /// Where to download it.
    #[serde(default)]
    pub uri: String,
    /// The package name.
    #[serde(default)]
    pub package_name: String,
    /// The version.
    #[serde(default)]
    pub version: String,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
}

/// A Go module version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoModule {
    /// `.../repositories/{r}/goModules/{module}`.
    #[serde(default)]
    pub name: String,
    /// The version.
    #[serde(default)]
    pub version: String,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Timestamp>,
}

/// The `google.rpc.Status` of a failed operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The canonical code.
    #[serde(default)]
    pub code: i32,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// Error details, as the API returns them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Value>,
}

/// A long-running operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// `projects/{p}/locations/{l}/operations/{id}`.
    #[serde(default)]
    pub name: String,
    /// Whether it has finished.
    #[serde(default)]
    pub done: bool,
    /// Service-specific progress data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// The failure, when done and failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
    /// The result, when done and successful (with its `@type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

impl Operation {
    /// The outcome of a finished operation: its response, or its error mapped to
    /// the taxonomy. `None` while it runs.
    pub fn outcome(&self) -> Option<Result<Option<&Value>, Error>> {
        if !self.done {
            return None;
        }
        Some(match &self.error {
            Some(status) if status.code != 0 => {
                let code = gar_core::error::GrpcCode::from_i32(status.code);
                Err(Error::from_grpc(code, &status.message, None))
            }
            _ => Ok(self.response.as_ref()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_read_and_write_protojson() {
        let r: Repository = serde_json::from_value(serde_json::json!({
            "name": "projects/p-project/locations/us-central1/repositories/docker",
            "format": "DOCKER", "mode": 1, "sizeBytes": 5,
            "dockerConfig": {"immutableTags": true},
            "cleanupPolicyDryRun": true,
            "cleanupPolicies": {"d": {"id": "d", "action": "DELETE", "condition": {"olderThan": "86400s"}}},
        }))
        .unwrap();
        assert_eq!(
            (r.format.clone(), r.mode.clone(), r.size_bytes),
            (Format::Docker, Mode::Standard, 5)
        );
        assert_eq!(r.cleanup_policies.len(), 1);
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["sizeBytes"], "5");
        assert_eq!(out["format"], "DOCKER");
        assert_eq!(out["mode"], "STANDARD_REPOSITORY");
        assert_eq!(
            out["cleanupPolicies"]["d"]["condition"]["olderThan"],
            "86400s"
        );
        assert_eq!(serde_json::from_value::<Repository>(out).unwrap(), r);

        let f: File = serde_json::from_value(serde_json::json!({
            "name": "projects/p-project/locations/us/repositories/m/files/a%2Fb.jar",
            "sizeBytes": "3",
            "hashes": [{"type": "SHA256", "value": "LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564="}, {"type": 2, "value": "rL0Y20zC-Fzt72VPzMSk2A"}],
        }))
        .unwrap();
        assert_eq!(f.file_name().unwrap().file().as_str(), "a/b.jar");
        assert_eq!(
            f.hash(&HashType::Sha256).unwrap().hex(),
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
        );
        assert_eq!(f.hash(&HashType::Md5).unwrap().value.len(), 16);

        let unknown: Repository =
            serde_json::from_value(serde_json::json!({"format": "HELM"})).unwrap();
        assert_eq!(serde_json::to_value(&unknown).unwrap()["format"], "HELM");
    }

    #[test]
    fn operations_report_their_outcome() {
        let running: Operation =
            serde_json::from_value(serde_json::json!({"name": "op", "done": false})).unwrap();
        assert!(running.outcome().is_none());
        let ok: Operation = serde_json::from_value(serde_json::json!({
            "name": "op", "done": true, "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}
        }))
        .unwrap();
        assert!(ok.outcome().unwrap().unwrap().is_some());
        let failed: Operation = serde_json::from_value(serde_json::json!({
            "name": "op", "done": true, "error": {"code": 9, "message": "tagged; use force"}
        }))
        .unwrap();
        let err = failed.outcome().unwrap().unwrap_err();
        assert_eq!(err.kind(), gar_core::ErrorKind::FailedPrecondition);
        assert_eq!(err.server_message(), Some("tagged; use force"));
    }
}
