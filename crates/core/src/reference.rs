//! Image references: `registry/path[:tag][@digest]`.
//!
//! ```
//! use gar_core::reference::ImageReference;
//!
//! let r: ImageReference = "us-central1-docker.pkg.dev/proj-123/repo/team/app:1.0".parse().unwrap();
//! assert_eq!(r.registry(), "us-central1-docker.pkg.dev");
//! assert_eq!(r.repository(), "proj-123/repo/team/app");
//! assert_eq!(r.tag(), Some("1.0"));
//! let gar = r.gar().unwrap();
//! assert_eq!(gar.location.as_str(), "us-central1");
//! assert_eq!(gar.image.as_str(), "team/app");
//!
//! let local: ImageReference = "127.0.0.1:5000/ns/app:1.0".parse().unwrap();
//! assert_eq!(local.registry(), "127.0.0.1:5000");
//! assert!(local.gar().is_none());
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind};
use crate::format::Format;
use crate::ids::{Digest, PackageId, ProjectId, RepositoryId, docker_path_error, docker_tag_error};
use crate::location::Location;
use crate::names::RepositoryName;

/// The registry assumed when a reference names none, as docker does.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// A reference to an image: a registry, a repository path, and a tag, a digest or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// What an image reference on `{location}-docker.pkg.dev` names in GAR's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GarImage {
    /// The location of the registry host.
    pub location: Location,
    /// The project (first path component).
    pub project: ProjectId,
    /// The repository (second path component).
    pub repository: RepositoryId,
    /// The image path inside the repository (the rest: `team/app`).
    pub image: PackageId,
}

impl GarImage {
    /// The repository's full resource name.
    pub fn repository_name(&self) -> RepositoryName {
        RepositoryName::new(
            self.project.clone(),
            self.location.clone(),
            self.repository.clone(),
        )
    }
}

fn bad(input: &str, reason: impl fmt::Display) -> Error {
    Error::invalid(
        ErrorKind::InvalidReference,
        "image reference",
        input,
        reason,
    )
}

/// Checks `host[:port]`: DNS labels, an IPv4 address or a bracketed IPv6 address.
fn registry_error(registry: &str) -> Option<String> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((v6, tail)) = rest.split_once(']') else {
            return Some(format!("{registry:?} has an unclosed '['"));
        };
        if v6.is_empty()
            || !v6
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Some(format!("{registry:?} is not a valid IPv6 host"));
        }
        let port = match tail {
            "" => None,
            t => match t.strip_prefix(':') {
                Some(p) => Some(p),
                None => {
                    return Some(format!(
                        "{registry:?} has text after ']' that is not a port"
                    ));
                }
            },
        };
        (None, port)
    } else {
        match registry.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty()
            || port.len() > 5
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err())
    {
        return Some(format!(
            "the port of {registry:?} is not a number from 0 to 65535"
        ));
    }
    if let Some(host) = host {
        if host.is_empty() || host.len() > 253 {
            return Some(format!("the registry host {host:?} is empty or too long"));
        }
        for label in host.split('.') {
            let ok = !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Some(format!(
                    "the registry host {host:?} has the invalid label {label:?}"
                ));
            }
        }
    }
    None
}

impl ImageReference {
    /// A reference from its parts, each checked.
    pub fn new(
        registry: &str,
        repository: &str,
        tag: Option<&str>,
        digest: Option<Digest>,
    ) -> Result<Self, Error> {
        let shown = format!("{registry}/{repository}");
        if let Some(reason) = registry_error(registry) {
            return Err(bad(&shown, reason));
        }
        if let Some(reason) = docker_path_error(repository) {
            return Err(bad(&shown, format!("the repository path: {reason}")));
        }
        if let Some(t) = tag
            && let Some(reason) = docker_tag_error(t)
        {
            return Err(bad(&shown, format!("the tag {t:?}: {reason}")));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The image `image` of GAR repository `repository`, on its docker host.
    pub fn for_gar(
        repository: &RepositoryName,
        image: &PackageId,
        tag: Option<&str>,
        digest: Option<Digest>,
    ) -> Result<Self, Error> {
        Self::new(
            &format!("{}-docker.pkg.dev", repository.location()),
            &format!(
                "{}/{}/{}",
                repository.project(),
                repository.repository(),
                image
            ),
            tag,
            digest,
        )
    }

    /// The registry host, with its port if any (`us-docker.pkg.dev`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path on the registry (`proj/repo/team/app`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference has one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to ask the registry for: the digest if there is one, else the tag,
    /// else `latest`.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// The same image with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Result<Self, Error> {
        Self::new(&self.registry, &self.repository, Some(tag), None)
    }

    /// The same image pinned to `digest` (the tag is kept for display).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// GAR's reading of the reference, when the registry is `{location}-docker.pkg.dev`
    /// and the path is `{project}/{repository}/{image...}`.
    pub fn gar(&self) -> Option<GarImage> {
        let location = self
            .registry
            .strip_suffix("-docker.pkg.dev")?
            .parse()
            .ok()?;
        let mut parts = self.repository.splitn(3, '/');
        let project = parts.next()?.parse().ok()?;
        let repository = parts.next()?.parse().ok()?;
        let image = PackageId::for_format(&Format::Docker, parts.next()?).ok()?;
        Some(GarImage {
            location,
            project,
            repository,
            image,
        })
    }
}

impl FromStr for ImageReference {
    type Err = Error;

    /// Parses `[registry/]path[:tag][@digest]`. The first component is the registry
    /// when it has a `.` or a `:` or is `localhost`; otherwise the registry is
    /// `docker.io`, as docker assumes.
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.is_empty() {
            return Err(bad(s, "it is empty"));
        }
        if s.len() > 4096 {
            return Err(bad(s, "it is longer than 4096 characters"));
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(s, format!("it contains the character {c:?}")));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) => (
                rest,
                Some(d.parse::<Digest>().map_err(|e| bad(s, e.message()))?),
            ),
            None => (s, None),
        };
        // A tag is a ':' after the last '/'.
        let last_slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
                (rest.get(..colon).unwrap_or_default(), rest.get(colon + 1..))
            }
            _ => (rest, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':']) || first == "localhost" || first.starts_with('[') =>
            {
                (first, path.to_owned())
            }
            Some(_) => (DEFAULT_REGISTRY, name.to_owned()),
            None => (DEFAULT_REGISTRY, format!("library/{name}")),
        };
        if let Some(reason) = registry_error(registry) {
            return Err(bad(s, reason));
        }
        if let Some(reason) = docker_path_error(&path) {
            return Err(bad(s, format!("the repository path {path:?}: {reason}")));
        }
        if let Some(t) = tag
            && let Some(reason) = docker_tag_error(t)
        {
            return Err(bad(s, format!("the tag {t:?}: {reason}")));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: path,
            tag: tag.map(str::to_owned),
            digest,
        })
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl Serialize for ImageReference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImageReference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn parses_and_prints() {
        let full = format!("us-central1-docker.pkg.dev/proj-123/repo/team/app:tag@sha256:{HEX}");
        let r: ImageReference = full.parse().unwrap();
        assert_eq!(r.tag(), Some("tag"));
        assert_eq!(r.digest().unwrap().hex(), HEX);
        assert_eq!(r.to_string(), full);
        assert_eq!(r.manifest_reference(), format!("sha256:{HEX}"));
        let gar = r.gar().unwrap();
        assert_eq!(
            gar.repository_name().to_string(),
            "projects/proj-123/locations/us-central1/repositories/repo"
        );

        for (input, registry, path, tag) in [
            ("alpine", "docker.io", "library/alpine", None),
            ("alpine:3.20", "docker.io", "library/alpine", Some("3.20")),
            ("ns/app", "docker.io", "ns/app", None),
            ("localhost/app", "localhost", "app", None),
            ("localhost:5000/a/b:c", "localhost:5000", "a/b", Some("c")),
            ("[::1]:5000/app:v1", "[::1]:5000", "app", Some("v1")),
            (
                "127.0.0.1:5000/ns/app:1.0",
                "127.0.0.1:5000",
                "ns/app",
                Some("1.0"),
            ),
        ] {
            let r: ImageReference = input.parse().unwrap();
            assert_eq!(
                (r.registry(), r.repository(), r.tag()),
                (registry, path, tag),
                "{input}"
            );
            let again: ImageReference = r.to_string().parse().unwrap();
            assert_eq!(again, r);
        }
        assert_eq!(
            "ns/app"
                .parse::<ImageReference>()
                .unwrap()
                .manifest_reference(),
            "latest"
        );
    }

    #[test]
    fn rejects_bad_references() {
        for (input, needle) in [
            ("", "empty"),
            ("Upper/app", "'U'"),
            ("reg.io/app:", "tag"),
            ("reg.io/app:-x", "tag"),
            ("reg.io/app@sha256:abc", "3 digits"),
            ("reg.io:99999/app", "port"),
            ("reg..io/app", "label"),
            ("reg.io//app", "empty path component"),
            ("reg.io/app name", "' '"),
            ("reg.io/../app", "component"),
        ] {
            let err = input.parse::<ImageReference>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidReference, "{input}");
            assert!(err.to_string().contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn gar_needs_the_docker_host_shape() {
        assert!(
            "us-docker.pkg.dev/p/app:1"
                .parse::<ImageReference>()
                .unwrap()
                .gar()
                .is_none()
        );
        assert!(
            "nowhere-docker.pkg.dev/proj-123/r/app"
                .parse::<ImageReference>()
                .unwrap()
                .gar()
                .is_none()
        );
        let repo: RepositoryName = "projects/proj-123/locations/europe/repositories/r"
            .parse()
            .unwrap();
        let r =
            ImageReference::for_gar(&repo, &"team/app".parse().unwrap(), Some("v1"), None).unwrap();
        assert_eq!(
            r.to_string(),
            "europe-docker.pkg.dev/proj-123/r/team/app:v1"
        );
        assert_eq!(r.with_tag("v2").unwrap().tag(), Some("v2"));
    }
}
