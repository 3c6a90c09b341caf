//! Full resource names (`projects/p/locations/l/repositories/r/packages/...`) and
//! their percent-encoding rules.
//!
//! Inside a name, package, version, tag and file ids keep `[A-Za-z0-9-._~:@]` as they
//! are and percent-encode everything else, so the docker package `team/app` is
//! `team%2Fapp` and its version `sha256:...` stays as it is. Parsing decodes each id
//! once. [`decode_url_path`] is the server-side rule for URL paths: decode once,
//! but keep `%2F` encoded so that `sub%2Fimg` and `sub%252Fimg` reach the same id.
//!
//! ```
//! use gar_core::names::{PackageName, VersionName};
//!
//! let v: VersionName = "projects/p1-proj/locations/us/repositories/docker/packages/team%2Fapp/versions/sha256:\
//!     2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".parse().unwrap();
//! assert_eq!(v.package().package().as_str(), "team/app");
//! assert_eq!(v.to_string().matches("%2F").count(), 1);
//! let p: PackageName = v.package().clone();
//! assert_eq!(p.repository().repository().as_str(), "docker");
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind, Resource, ResourceKind};
use crate::ids::{Digest, FileId, PackageId, ProjectId, RepositoryId, TagId, VersionId};
use crate::location::Location;

/// Characters an id keeps unencoded inside a resource name.
fn keeps(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'@')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes an id for use inside a resource name (`team/app` -> `team%2Fapp`).
pub fn encode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if keeps(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(
                HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
            ));
            out.push(char::from(
                HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes once; `keep_slash` leaves `%2F` (either case) as it is.
fn decode(input: &str, keep_slash: bool) -> Result<String, Error> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let (Some(h), Some(l)) = (
            bytes.get(i + 1).copied().and_then(hex_value),
            bytes.get(i + 2).copied().and_then(hex_value),
        ) else {
            return Err(Error::invalid(
                ErrorKind::InvalidResourceName,
                "percent-encoding in",
                input,
                format!("'%' at byte {i} is not followed by two hex digits"),
            ));
        };
        let value = h << 4 | l;
        if keep_slash && value == b'/' {
            out.extend_from_slice(b"%2F");
        } else {
            out.push(value);
        }
        i += 3;
    }
    String::from_utf8(out).map_err(|_| {
        Error::invalid(
            ErrorKind::InvalidResourceName,
            "percent-encoding in",
            input,
            "the decoded bytes are not UTF-8",
        )
    })
}

/// Decodes an id taken from a resource name (`team%2Fapp` -> `team/app`).
pub fn decode_id(encoded: &str) -> Result<String, Error> {
    decode(encoded, false)
}

/// Decodes a URL path once, keeping `%2F` encoded: `sub%252Fimg` and `sub%2Fimg`
/// both give `sub%2Fimg`, and `sha256%3Aab` gives `sha256:ab`. The result is a
/// resource name whose ids can be parsed with the name types of this module.
pub fn decode_url_path(path: &str) -> Result<String, Error> {
    decode(path, true)
}

/// Splits `input` into the values of the `collections` it must name in order
/// (`projects/{v}/locations/{v}/...`), with a message naming the wrong segment.
fn split_name<'a>(input: &'a str, collections: &[&str], what: &str) -> Result<Vec<&'a str>, Error> {
    let kind = ErrorKind::InvalidResourceName;
    let shape: Vec<String> = collections
        .iter()
        .map(|c| format!("{c}/{{{}}}", singular(c)))
        .collect();
    let shape = shape.join("/");
    let parts: Vec<&str> = input.split('/').collect();
    if parts.len() != collections.len() * 2 {
        let hint = if parts.len() > collections.len() * 2 {
            "; encode '/' inside an id as %2F"
        } else {
            ""
        };
        return Err(Error::invalid(
            kind,
            what,
            input,
            format!(
                "expected {shape} ({} segments, found {}){hint}",
                collections.len() * 2,
                parts.len()
            ),
        ));
    }
    let mut values = Vec::with_capacity(collections.len());
    for (i, (pair, collection)) in parts.chunks(2).zip(collections).enumerate() {
        let (Some(found), Some(value)) = (pair.first(), pair.get(1)) else {
            return Err(Error::invalid(
                kind,
                what,
                input,
                format!("expected {shape}"),
            ));
        };
        if found != collection {
            return Err(Error::invalid(
                kind,
                what,
                input,
                format!(
                    "segment {} is {found:?} where {collection:?} belongs; expected {shape}",
                    i * 2
                ),
            ));
        }
        if value.is_empty() {
            return Err(Error::invalid(
                kind,
                what,
                input,
                format!("the {} is empty", singular(collection)),
            ));
        }
        values.push(*value);
    }
    Ok(values)
}

fn singular(collection: &str) -> &str {
    match collection {
        "repositories" => "repository",
        "dockerImages" => "dockerImage",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

/// Parses a decoded id, keeping the id type's error kind and naming the whole input.
fn parse_id<T: FromStr<Err = Error>>(encoded: &str) -> Result<T, Error> {
    decode_id(encoded)?.parse()
}

macro_rules! name_serde {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// `projects/{project}/locations/{location}`: the parent of repositories.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocationName {
    project: ProjectId,
    location: Location,
}

impl LocationName {
    /// The name of `location` in `project`.
    pub fn new(project: ProjectId, location: Location) -> Self {
        Self { project, location }
    }

    /// The project.
    pub fn project(&self) -> &ProjectId {
        &self.project
    }

    /// The location.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The repository `repository` in this location.
    pub fn repository(&self, repository: RepositoryId) -> RepositoryName {
        RepositoryName {
            parent: self.clone(),
            repository,
        }
    }

    /// This location as the subject of an error.
    pub fn as_resource(&self) -> Resource {
        Resource::new(
            ResourceKind::Location,
            self.location.as_str(),
            Some(&format!("projects/{}", self.project)),
        )
    }
}

impl fmt::Display for LocationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "projects/{}/locations/{}", self.project, self.location)
    }
}

impl FromStr for LocationName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = split_name(s, &["projects", "locations"], "location name")?;
        location_from(&v)
    }
}

fn location_from(v: &[&str]) -> Result<LocationName, Error> {
    let (Some(p), Some(l)) = (v.first(), v.get(1)) else {
        return Err(Error::new(
            ErrorKind::InvalidResourceName,
            "a location name needs a project and a location",
        ));
    };
    Ok(LocationName {
        project: p.parse()?,
        location: l.parse()?,
    })
}

name_serde!(LocationName);

/// `projects/{p}/locations/{l}/repositories/{r}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName {
    parent: LocationName,
    repository: RepositoryId,
}

impl RepositoryName {
    /// The name of repository `repository` of `project` in `location`.
    pub fn new(project: ProjectId, location: Location, repository: RepositoryId) -> Self {
        Self {
            parent: LocationName::new(project, location),
            repository,
        }
    }

    /// The location name this repository lives in.
    pub fn parent(&self) -> &LocationName {
        &self.parent
    }

    /// The project.
    pub fn project(&self) -> &ProjectId {
        &self.parent.project
    }

    /// The location.
    pub fn location(&self) -> &Location {
        &self.parent.location
    }

    /// The repository id.
    pub fn repository(&self) -> &RepositoryId {
        &self.repository
    }

    /// The package `package` of this repository.
    pub fn package(&self, package: PackageId) -> PackageName {
        PackageName {
            repository: self.clone(),
            package,
        }
    }

    /// The file `file` of this repository.
    pub fn file(&self, file: FileId) -> FileName {
        FileName {
            repository: self.clone(),
            file,
        }
    }

    /// The docker image `image@digest` of this repository.
    pub fn docker_image(&self, image: PackageId, digest: Digest) -> DockerImageName {
        DockerImageName {
            repository: self.clone(),
            image,
            digest,
        }
    }

    /// This repository as the subject of an error.
    pub fn as_resource(&self) -> Resource {
        Resource::new(
            ResourceKind::Repository,
            self.repository.as_str(),
            Some(&self.parent.to_string()),
        )
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/repositories/{}", self.parent, self.repository)
    }
}

const REPO_PATH: [&str; 3] = ["projects", "locations", "repositories"];

fn repository_from(v: &[&str]) -> Result<RepositoryName, Error> {
    let parent = location_from(v)?;
    let r = v.get(2).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidResourceName,
            "a repository name needs a repository",
        )
    })?;
    Ok(RepositoryName {
        parent,
        repository: r.parse()?,
    })
}

impl FromStr for RepositoryName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = split_name(s, &REPO_PATH, "repository name")?;
        repository_from(&v)
    }
}

name_serde!(RepositoryName);

/// `.../repositories/{r}/packages/{package}` (the package id percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageName {
    repository: RepositoryName,
    package: PackageId,
}

impl PackageName {
    /// The repository name.
    pub fn repository(&self) -> &RepositoryName {
        &self.repository
    }

    /// The package id (decoded: `team/app`).
    pub fn package(&self) -> &PackageId {
        &self.package
    }

    /// The version `version` of this package.
    pub fn version(&self, version: VersionId) -> VersionName {
        VersionName {
            package: self.clone(),
            version,
        }
    }

    /// The tag `tag` of this package.
    pub fn tag(&self, tag: TagId) -> TagName {
        TagName {
            package: self.clone(),
            tag,
        }
    }

    /// This package as the subject of an error.
    pub fn as_resource(&self) -> Resource {
        Resource::new(
            ResourceKind::Package,
            self.package.as_str(),
            Some(&self.repository.to_string()),
        )
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/packages/{}",
            self.repository,
            encode_id(self.package.as_str())
        )
    }
}

fn package_from(v: &[&str]) -> Result<PackageName, Error> {
    let repository = repository_from(v)?;
    let p = v.get(3).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidResourceName,
            "a package name needs a package",
        )
    })?;
    Ok(PackageName {
        repository,
        package: parse_id(p)?,
    })
}

impl FromStr for PackageName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = split_name(
            s,
            &["projects", "locations", "repositories", "packages"],
            "package name",
        )?;
        package_from(&v)
    }
}

name_serde!(PackageName);

/// `.../packages/{package}/versions/{version}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionName {
    package: PackageName,
    version: VersionId,
}

impl VersionName {
    /// The package name.
    pub fn package(&self) -> &PackageName {
        &self.package
    }

    /// The version id (decoded).
    pub fn version(&self) -> &VersionId {
        &self.version
    }

    /// This version as the subject of an error.
    pub fn as_resource(&self) -> Resource {
        Resource::new(
            ResourceKind::Version,
            self.version.as_str(),
            Some(&self.package.to_string()),
        )
    }
}

impl fmt::Display for VersionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/versions/{}",
            self.package,
            encode_id(self.version.as_str())
        )
    }
}

impl FromStr for VersionName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = split_name(
            s,
            &[
                "projects",
                "locations",
                "repositories",
                "packages",
                "versions",
            ],
            "version name",
        )?;
        let package = package_from(&v)?;
        let version = v.get(4).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidResourceName,
                "a version name needs a version",
            )
        })?;
        Ok(Self {
            package,
            version: parse_id(version)?,
        })
    }
}

name_serde!(VersionName);

/// `.../packages/{package}/tags/{tag}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName {
    package: PackageName,
    tag: TagId,
}

impl TagName {
    /// The package name.
    pub fn package(&self) -> &PackageName {
        &self.package
    }

    /// The tag id (decoded).
    pub fn tag(&self) -> &TagId {
        &self.tag
    }

    /// This tag as the subject of an error.
    pub fn as_resource(&self) -> Resource {
        Resource::new(
            ResourceKind::Tag,
            self.tag.as_str(),
            Some(&self.package.to_string()),
        )
    }
}

impl fmt::Display for TagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/tags/{}", self.package, encode_id(self.tag.as_str()))
    }
}

impl FromStr for TagName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = split_name(
            s,
            &["projects", "locations", "repositories", "packages", "tags"],
            "tag name",
        )?;
        let package = package_from(&v)?;
        let tag = v
            .get(4)
            .ok_or_else(|| Error::new(ErrorKind::InvalidResourceName, "a tag name needs a tag"))?;
        Ok(Self {
            package,
            tag: parse_id(tag)?,
        })
    }
}

name_serde!(TagName);

/// `.../repositories/{r}/files/{file}` (the file id percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileName {
    repository: RepositoryName,
    file: FileId,
}

impl FileName {
    /// The repository name.
    pub fn repository(&self) -> &RepositoryName {
        &self.repository
    }

    /// The file id (decoded: `com/acme/app.jar`).
    pub fn file(&self) -> &FileId {
        &self.file
    }

    /// This file as the subject of an error.
    pub fn as_resource(&self) -> Resource {
        Resource::new(
            ResourceKind::File,
            self.file.as_str(),
            Some(&self.repository.to_string()),
        )
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/files/{}",
            self.repository,
            encode_id(self.file.as_str())
        )
    }
}

impl FromStr for FileName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = split_name(
            s,
            &["projects", "locations", "repositories", "files"],
            "file name",
        )?;
        let repository = repository_from(&v)?;
        let file = v.get(3).ok_or_else(|| {
            Error::new(ErrorKind::InvalidResourceName, "a file name needs a file")
        })?;
        Ok(Self {
            repository,
            file: parse_id(file)?,
        })
    }
}

name_serde!(FileName);

/// `.../repositories/{r}/dockerImages/{image}@{digest}` (the image path percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DockerImageName {
    repository: RepositoryName,
    image: PackageId,
    digest: Digest,
}

impl DockerImageName {
    /// The repository name.
    pub fn repository(&self) -> &RepositoryName {
        &self.repository
    }

    /// The image path within the repository (`team/app`).
    pub fn image(&self) -> &PackageId {
        &self.image
    }

    /// The manifest digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The image's URI as GAR reports it: `{location}-docker.pkg.dev/{p}/{r}/{image}@{digest}`.
    pub fn uri(&self) -> String {
        format!(
            "{}-docker.pkg.dev/{}/{}/{}@{}",
            self.repository.location(),
            self.repository.project(),
            self.repository.repository(),
            self.image,
            self.digest
        )
    }
}

impl fmt::Display for DockerImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/dockerImages/{}@{}",
            self.repository,
            encode_id(self.image.as_str()),
            self.digest
        )
    }
}

impl FromStr for DockerImageName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = split_name(
            s,
            &["projects", "locations", "repositories", "dockerImages"],
            "docker image name",
        )?;
        let repository = repository_from(&v)?;
        let last = decode_id(v.get(3).copied().unwrap_or_default())?;
        let Some((image, digest)) = last.rsplit_once('@') else {
            return Err(Error::invalid(
                ErrorKind::InvalidResourceName,
                "docker image name",
                s,
                "the last segment must be {image}@{digest}",
            ));
        };
        let image = PackageId::for_format(&crate::format::Format::Docker, image)?;
        Ok(Self {
            repository,
            image,
            digest: digest.parse()?,
        })
    }
}

name_serde!(DockerImageName);

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn encoding_rules() {
        assert_eq!(encode_id("team/app"), "team%2Fapp");
        assert_eq!(encode_id(DIGEST), DIGEST);
        assert_eq!(encode_id("@scope/x"), "@scope%2Fx");
        assert_eq!(encode_id("1.0+local"), "1.0%2Blocal");
        assert_eq!(encode_id("a%b"), "a%25b");
        assert_eq!(decode_id("team%2fapp").unwrap(), "team/app");
        assert_eq!(decode_id("a%25b").unwrap(), "a%b");
        assert_eq!(
            decode_id("%zz").unwrap_err().kind(),
            ErrorKind::InvalidResourceName
        );
        assert_eq!(
            decode_id("%ff").unwrap_err().kind(),
            ErrorKind::InvalidResourceName
        );
        assert_eq!(
            decode_id("abc%2").unwrap_err().kind(),
            ErrorKind::InvalidResourceName
        );
    }

    #[test]
    fn url_paths_reach_the_same_id() {
        let a =
            decode_url_path("/v1/projects/p/packages/sub%252Fimg/versions/sha256%3Aab").unwrap();
        let b = decode_url_path("/v1/projects/p/packages/sub%2Fimg/versions/sha256:ab").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, "/v1/projects/p/packages/sub%2Fimg/versions/sha256:ab");
    }

    #[test]
    fn names_round_trip() {
        let cases = [
            "projects/my-project/locations/us-central1".to_owned(),
            "projects/my-project/locations/us/repositories/docker".to_owned(),
            "projects/my-project/locations/us/repositories/npm/packages/@scope%2Fname".to_owned(),
            format!(
                "projects/123456/locations/europe/repositories/d/packages/team%2Fapp/versions/{DIGEST}"
            ),
            "projects/my-project/locations/asia/repositories/d/packages/app/tags/v1.0".to_owned(),
            "projects/my-project/locations/us/repositories/m/files/com%2Facme%2Fapp-1.0.jar"
                .to_owned(),
            format!(
                "projects/my-project/locations/us/repositories/d/dockerImages/team%2Fapp@{DIGEST}"
            ),
        ];
        assert_eq!(
            cases[0].parse::<LocationName>().unwrap().to_string(),
            cases[0]
        );
        assert_eq!(
            cases[1].parse::<RepositoryName>().unwrap().to_string(),
            cases[1]
        );
        assert_eq!(
            cases[2].parse::<PackageName>().unwrap().to_string(),
            cases[2]
        );
        assert_eq!(
            cases[3].parse::<VersionName>().unwrap().to_string(),
            cases[3]
        );
        assert_eq!(cases[4].parse::<TagName>().unwrap().to_string(), cases[4]);
        assert_eq!(cases[5].parse::<FileName>().unwrap().to_string(), cases[5]);
        let img: DockerImageName = cases[6].parse().unwrap();
        assert_eq!(img.to_string(), cases[6]);
        assert_eq!(
            img.uri(),
            format!("us-docker.pkg.dev/my-project/d/team/app@{DIGEST}")
        );
        // Clients that encode the colon reach the same version.
        let encoded = cases[3].replace("sha256:", "sha256%3A");
        assert_eq!(
            encoded.parse::<VersionName>().unwrap(),
            cases[3].parse::<VersionName>().unwrap()
        );
    }

    #[test]
    fn bad_names_name_the_problem() {
        let err = "projects/my-project/locatons/us"
            .parse::<LocationName>()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResourceName);
        assert!(err.to_string().contains("\"locatons\""), "{err}");
        let err = "projects/my-project/locations/us/repositories/d/packages/team/app"
            .parse::<PackageName>()
            .unwrap_err();
        assert!(err.to_string().contains("%2F"), "{err}");
        let err = "projects/my-project/locations/us-centrl1/repositories/d"
            .parse::<RepositoryName>()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidLocation);
        let err = "projects/my-project/locations/us/repositories/D"
            .parse::<RepositoryName>()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRepository);
        let err = "projects/my-project/locations/us/repositories/d/files/a%2F..%2Fb"
            .parse::<FileName>()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidFile);
        let err = "projects/my-project/locations/us/repositories/d/dockerImages/app"
            .parse::<DockerImageName>()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResourceName);
    }

    #[test]
    fn resources_for_errors() {
        let repo: RepositoryName = "projects/p-project/locations/us-central1/repositories/r"
            .parse()
            .unwrap();
        let err = Error::from_http(404, b"", Some(&repo.as_resource()));
        assert_eq!(
            err.to_string(),
            "repository r not found in projects/p-project/locations/us-central1; check the name or the location"
        );
        let v = repo
            .package("team/app".parse().unwrap())
            .version(DIGEST.parse().unwrap());
        assert_eq!(
            Error::from_http(404, b"", Some(&v.as_resource())).kind(),
            ErrorKind::VersionNotFound
        );
    }
}
