//! Manifest parsing and validation: the four media types GAR stores (Docker v2
//! schema 2 manifest and manifest list, OCI image manifest and index), their
//! descriptors, `subject` and `artifactType`.

use std::collections::BTreeMap;

use gar_core::ids::Digest;
use serde_json::{Value, json};

use super::error::OciError;

/// OCI image manifest.
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest.
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker v2 schema 2 manifest list.
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Manifests larger than this are refused.
pub(crate) const MAX_MANIFEST: usize = 4 * 1024 * 1024;

/// A content descriptor.
#[derive(Debug, Clone)]
pub(crate) struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// Digest.
    pub digest: Digest,
    /// Size.
    pub size: u64,
    /// `urls`: foreign layers need not be present.
    pub foreign: bool,
    /// `platform`, for index entries.
    pub platform: Option<Value>,
}

/// A parsed, structurally valid manifest.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// Its media type.
    pub media_type: String,
    /// OCI 1.1 artifact type: `artifactType`, else the config's media type.
    pub artifact_type: Option<String>,
    /// The `subject` descriptor.
    pub subject: Option<Descriptor>,
    /// Blobs (config first, then layers) of an image manifest.
    pub blobs: Vec<Descriptor>,
    /// Manifests of an index.
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

fn invalid(message: impl Into<String>) -> OciError {
    OciError::manifest_invalid(&message.into())
}

fn descriptor(v: &Value, what: &str) -> Result<Descriptor, OciError> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(format!("{what} is not a descriptor object")))?;
    let media_type = obj
        .get("mediaType")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{what} has no mediaType")))?
        .to_owned();
    let digest_text = obj
        .get("digest")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{what} has no digest")))?;
    let digest: Digest = digest_text
        .parse()
        .map_err(|_| invalid(format!("{what} has the invalid digest {digest_text:?}")))?;
    let size = obj
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid(format!("{what} has no non-negative integer size")))?;
    let foreign = obj
        .get("urls")
        .and_then(Value::as_array)
        .is_some_and(|u| !u.is_empty())
        || media_type.contains("foreign")
        || media_type.contains("nondistributable");
    Ok(Descriptor {
        media_type,
        digest,
        size,
        foreign,
        platform: obj.get("platform").cloned(),
    })
}

fn descriptors(v: Option<&Value>, what: &str) -> Result<Vec<Descriptor>, OciError> {
    let Some(v) = v else {
        return Err(invalid(format!("the manifest has no {what} array")));
    };
    let arr = v
        .as_array()
        .ok_or_else(|| invalid(format!("{what} is not an array")))?;
    arr.iter()
        .enumerate()
        .map(|(i, d)| descriptor(d, &format!("{what}[{i}]")))
        .collect()
}

/// Parses `body` sent with `content_type`.
pub(crate) fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Parsed, OciError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("the manifest is not JSON: {e}")))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| invalid("the manifest is not a JSON object"))?;
    let declared = obj.get("mediaType").and_then(Value::as_str);
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "application/octet-stream");
    if let (Some(h), Some(d)) = (header, declared)
        && h != d
    {
        return Err(invalid(format!(
            "the Content-Type {h} differs from the manifest's mediaType {d}"
        )));
    }
    let media_type = match header.or(declared) {
        Some(m) => m.to_owned(),
        None if obj.contains_key("manifests") => OCI_INDEX.to_owned(),
        None => OCI_MANIFEST.to_owned(),
    };
    if media_type.starts_with("application/vnd.docker.distribution.manifest.v1") {
        return Err(OciError::manifest_invalid(
            "Docker image manifest schema 1 is not supported; push schema 2 or OCI",
        )
        .detail(json!({"mediaType": media_type})));
    }
    let is_index = media_type == OCI_INDEX || media_type == DOCKER_LIST;
    let is_image = media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST;
    if !is_index && !is_image {
        return Err(invalid(format!(
            "the manifest media type {media_type:?} is not supported"
        )));
    }
    if obj.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    let annotations: BTreeMap<String, String> = obj
        .get("annotations")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let subject = obj
        .get("subject")
        .map(|s| descriptor(s, "subject"))
        .transpose()?;
    let mut artifact_type = obj
        .get("artifactType")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (blobs, manifests) = if is_image {
        let config = descriptor(
            obj.get("config")
                .ok_or_else(|| invalid("the manifest has no config"))?,
            "config",
        )?;
        if artifact_type.is_none() {
            artifact_type = Some(config.media_type.clone());
        }
        let mut blobs = vec![config];
        blobs.extend(descriptors(obj.get("layers"), "layers")?);
        (blobs, Vec::new())
    } else {
        (Vec::new(), descriptors(obj.get("manifests"), "manifests")?)
    };
    Ok(Parsed {
        media_type,
        artifact_type,
        subject,
        blobs,
        manifests,
        annotations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn image_and_index() {
        let m = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D, "size": 3},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": D, "size": 3}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": D, "size": 3}});
        let p = parse(Some(OCI_MANIFEST), m.to_string().as_bytes()).unwrap();
        assert_eq!(p.blobs.len(), 2);
        assert_eq!(
            p.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert!(p.subject.is_some());
        let i = json!({"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": D, "size": 3,
            "platform": {"architecture": "amd64", "os": "linux"}}]});
        let p = parse(None, i.to_string().as_bytes()).unwrap();
        assert_eq!(p.media_type, OCI_INDEX);
        assert_eq!(p.manifests.len(), 1);
    }

    #[test]
    fn refusals() {
        assert!(parse(None, b"not json").is_err());
        let v1 = json!({"schemaVersion": 1, "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws"});
        assert_eq!(
            parse(None, v1.to_string().as_bytes()).unwrap_err().code,
            "MANIFEST_INVALID"
        );
        let m = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "x", "digest": "sha256:bad", "size": 3}, "layers": []});
        assert!(parse(None, m.to_string().as_bytes()).is_err());
        let m = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "x", "digest": D, "size": 3}, "layers": []});
        assert!(parse(Some(DOCKER_MANIFEST), m.to_string().as_bytes()).is_err());
        assert!(parse(Some("application/x-unknown"), b"{\"schemaVersion\":2}").is_err());
    }
}
