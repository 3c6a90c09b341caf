//! Validated ids: the single segments of Artifact Registry names.
//!
//! Each id type checks its input once, on construction (`FromStr`, `new`), and
//! prints back exactly what it holds, so `s.parse::<T>()?.to_string() == s` for
//! every accepted `s` (Python names are normalised first: see [`PackageId::for_format`]).
//! Errors name the offending character or part.
//!
//! ```
//! use gar_core::ids::{Digest, PackageId, ProjectId, RepositoryId};
//! use gar_core::format::Format;
//!
//! let project: ProjectId = "my-project".parse().unwrap();
//! let repo: RepositoryId = "docker-prod".parse().unwrap();
//! let pkg = PackageId::for_format(&Format::Python, "Django_REST.framework").unwrap();
//! assert_eq!(pkg.as_str(), "django-rest-framework");
//! let err = "My_Repo".parse::<RepositoryId>().unwrap_err();
//! assert_eq!(err.to_string(),
//!     "invalid repository id \"My_Repo\": character 'M' at position 0 is not allowed; \
//!      use lowercase letters, digits and hyphens, starting with a letter");
//! assert!("sha256:abc".parse::<Digest>().is_err());
//! # let _ = (project, repo);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind};
use crate::format::Format;

/// Describes the first character of `input` that `allowed` refuses.
fn first_bad_char(input: &str, allowed: impl Fn(char) -> bool) -> Option<String> {
    input
        .chars()
        .enumerate()
        .find(|(_, c)| !allowed(*c))
        .map(|(i, c)| format!("character {c:?} at position {i} is not allowed"))
}

fn check_length(kind: ErrorKind, what: &str, input: &str, max: usize) -> Result<(), Error> {
    if input.is_empty() {
        return Err(Error::invalid(kind, what, input, "it is empty"));
    }
    let len = input.chars().count();
    if len > max {
        return Err(Error::invalid(
            kind,
            what,
            input,
            format!("it is {len} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

/// Checks a path-like id (`a/b/c`): no empty, `.` or `..` segments, no leading or
/// trailing slash.
fn check_segments(kind: ErrorKind, what: &str, input: &str) -> Result<(), Error> {
    for (i, segment) in input.split('/').enumerate() {
        let reason = match segment {
            "" if i == 0 => Some("it starts with '/'".to_owned()),
            "" => Some("it has an empty path segment ('//' or a trailing '/')".to_owned()),
            "." | ".." => Some(format!(
                "path segment {i} is {segment:?}; relative segments are not allowed"
            )),
            _ => None,
        };
        if let Some(reason) = reason {
            return Err(Error::invalid(kind, what, input, reason));
        }
    }
    Ok(())
}

/// Characters allowed in generic ids: printable ASCII without space and without
/// the characters that URLs and shells treat specially.
fn generic_char(c: char) -> bool {
    c.is_ascii_graphic()
        && !matches!(
            c,
            '%' | '?' | '#' | '\\' | '"' | '<' | '>' | '`' | '{' | '}' | '|' | '^'
        )
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self, Error> {
                s.parse()
            }
        }
    };
}

string_id! {
    /// A Google Cloud project: an id (`my-project`, 6–30 lowercase letters, digits
    /// and hyphens), a domain-scoped id (`example.com:my-project`) or a project number.
    ProjectId
}

impl ProjectId {
    /// Whether this is a project number rather than an id.
    pub fn is_number(&self) -> bool {
        self.0.bytes().all(|b| b.is_ascii_digit())
    }
}

fn check_plain_project(kind: ErrorKind, input: &str, part: &str) -> Result<(), Error> {
    let what = "project id";
    let n = part.chars().count();
    if !(6..=30).contains(&n) {
        return Err(Error::invalid(
            kind,
            what,
            input,
            format!("{part:?} is {n} characters long; a project id has 6 to 30"),
        ));
    }
    if let Some(bad) = first_bad_char(part, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    }) {
        return Err(Error::invalid(
            kind,
            what,
            input,
            format!("{bad}; use lowercase letters, digits and hyphens"),
        ));
    }
    if !part.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Error::invalid(
            kind,
            what,
            input,
            "a project id starts with a lowercase letter",
        ));
    }
    if part.ends_with('-') {
        return Err(Error::invalid(
            kind,
            what,
            input,
            "a project id cannot end with a hyphen",
        ));
    }
    Ok(())
}

impl FromStr for ProjectId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let kind = ErrorKind::InvalidProject;
        let what = "project id";
        check_length(kind, what, s, 94)?;
        if s.bytes().all(|b| b.is_ascii_digit()) {
            if s.starts_with('0') || s.len() > 20 {
                return Err(Error::invalid(
                    kind,
                    what,
                    s,
                    "a project number has 1 to 20 digits and no leading zero",
                ));
            }
            return Ok(Self(s.to_owned()));
        }
        match s.split_once(':') {
            Some((domain, project)) => {
                if domain.is_empty()
                    || !domain.contains('.')
                    || domain.starts_with(['.', '-'])
                    || domain.ends_with(['.', '-'])
                    || domain.contains("..")
                {
                    return Err(Error::invalid(
                        kind,
                        what,
                        s,
                        format!(
                            "{domain:?} is not a domain; a domain-scoped id looks like example.com:my-project"
                        ),
                    ));
                }
                if let Some(bad) = first_bad_char(domain, |c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
                }) {
                    return Err(Error::invalid(
                        kind,
                        what,
                        s,
                        format!("in the domain, {bad}"),
                    ));
                }
                check_plain_project(kind, s, project)?;
            }
            None => check_plain_project(kind, s, s)?,
        }
        Ok(Self(s.to_owned()))
    }
}

string_id! {
    /// A repository id: 1–63 lowercase letters, digits and hyphens, starting with a
    /// letter and ending with a letter or digit.
    RepositoryId
}

impl FromStr for RepositoryId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let kind = ErrorKind::InvalidRepository;
        let what = "repository id";
        check_length(kind, what, s, 63)?;
        let advice = "use lowercase letters, digits and hyphens, starting with a letter";
        if let Some(bad) = first_bad_char(s, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        }) {
            return Err(Error::invalid(kind, what, s, format!("{bad}; {advice}")));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(Error::invalid(
                kind,
                what,
                s,
                format!("it must start with a letter; {advice}"),
            ));
        }
        if s.ends_with('-') {
            return Err(Error::invalid(
                kind,
                what,
                s,
                "it must end with a letter or a digit",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_id! {
    /// A package id. `FromStr` applies the rules every format shares (1–1024
    /// printable characters, path segments without `.`/`..`); [`PackageId::for_format`]
    /// applies the format's own grammar too: docker image paths with slashes, Maven
    /// `group:artifact`, npm `@scope/name`, normalised Python names, Go module paths,
    /// Debian and RPM package names.
    PackageId
}

/// Longest package, version or file id accepted.
const MAX_ID: usize = 1024;

impl FromStr for PackageId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        check_generic(ErrorKind::InvalidPackage, "package id", s, MAX_ID)?;
        Ok(Self(s.to_owned()))
    }
}

fn check_generic(kind: ErrorKind, what: &str, s: &str, max: usize) -> Result<(), Error> {
    check_length(kind, what, s, max)?;
    if let Some(bad) = first_bad_char(s, generic_char) {
        return Err(Error::invalid(
            kind,
            what,
            s,
            format!("{bad}; use printable ASCII without spaces, %, ?, # or \\"),
        ));
    }
    check_segments(kind, what, s)
}

/// Checks one component of a docker image path: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
pub(crate) fn docker_component_error(component: &str) -> Option<String> {
    if component.is_empty() {
        return Some("it has an empty path component".to_owned());
    }
    if let Some(bad) = first_bad_char(component, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
    }) {
        return Some(format!(
            "in component {component:?}, {bad}; docker image names use lowercase letters, digits and the separators . _ __ -"
        ));
    }
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return Some(format!(
            "component {component:?} must start and end with a lowercase letter or digit"
        ));
    }
    // Separators: a single '.', one or two '_', or any run of '-'; never mixed.
    let mut sep = String::new();
    for c in component.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            let ok = sep.is_empty()
                || sep == "."
                || sep == "_"
                || sep == "__"
                || sep.chars().all(|s| s == '-');
            if !ok {
                return Some(format!(
                    "component {component:?} has the separator {sep:?}; use one '.', one or two '_', or hyphens"
                ));
            }
            sep.clear();
        } else {
            sep.push(c);
        }
    }
    None
}

/// Checks a docker image path (`team/app`): components joined by `/`, at most 255
/// characters in all.
pub(crate) fn docker_path_error(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("it is empty".to_owned());
    }
    if path.len() > 255 {
        return Some(format!(
            "it is {} characters long; a docker repository path has at most 255",
            path.len()
        ));
    }
    path.split('/').find_map(docker_component_error)
}

fn maven_error(s: &str) -> Option<String> {
    let Some((group, artifact)) = s.split_once(':') else {
        return Some(
            "a Maven package is group:artifact, such as com.google.guava:guava".to_owned(),
        );
    };
    let part_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if group.is_empty() || group.split('.').any(str::is_empty) {
        return Some(format!("the group id {group:?} has an empty part"));
    }
    if let Some(bad) = first_bad_char(group, part_ok) {
        return Some(format!("in the group id, {bad}"));
    }
    if artifact.is_empty() {
        return Some("the artifact id is empty".to_owned());
    }
    if let Some(bad) = first_bad_char(artifact, part_ok) {
        return Some(format!("in the artifact id, {bad}"));
    }
    None
}

fn npm_error(s: &str) -> Option<String> {
    if s.len() > 214 {
        return Some(format!("it is {} characters long; npm allows 214", s.len()));
    }
    let name_ok = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_' | '~')
    };
    let check_part = |part: &str, label: &str| -> Option<String> {
        if part.is_empty() {
            return Some(format!("the {label} is empty"));
        }
        if part.starts_with(['.', '_']) {
            return Some(format!("the {label} {part:?} cannot start with '.' or '_'"));
        }
        first_bad_char(part, name_ok)
            .map(|bad| format!("in the {label}, {bad}; npm names are lowercase and URL-safe"))
    };
    match s.strip_prefix('@') {
        Some(rest) => {
            let Some((scope, name)) = rest.split_once('/') else {
                return Some("a scoped npm name is @scope/name".to_owned());
            };
            check_part(scope, "scope").or_else(|| check_part(name, "name"))
        }
        None => check_part(s, "name"),
    }
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
fn normalise_python(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_sep = false;
    for c in s.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    out
}

fn python_error(s: &str) -> Option<String> {
    if let Some(bad) = first_bad_char(s, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
    }) {
        return Some(format!(
            "{bad}; Python names use letters, digits, '-', '_' and '.'"
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !s.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Some("a Python name starts and ends with a letter or digit".to_owned());
    }
    None
}

fn go_error(s: &str) -> Option<String> {
    let mut elements = s.split('/');
    let domain = elements.next().unwrap_or_default();
    if !domain.contains('.') {
        return Some(format!(
            "the first element {domain:?} of a Go module path is a domain with a dot, such as example.com"
        ));
    }
    if domain.starts_with('-') {
        return Some(format!("the domain {domain:?} cannot start with '-'"));
    }
    if let Some(bad) = first_bad_char(domain, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')
    }) {
        return Some(format!("in the domain, {bad}"));
    }
    for element in s.split('/') {
        if element.is_empty() {
            return Some("it has an empty path element".to_owned());
        }
        if element.starts_with('.') || element.ends_with('.') {
            return Some(format!(
                "the element {element:?} cannot start or end with '.'"
            ));
        }
        if let Some(bad) = first_bad_char(element, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-')
        }) {
            return Some(format!("in the element {element:?}, {bad}"));
        }
    }
    None
}

fn apt_error(s: &str) -> Option<String> {
    if s.len() < 2 {
        return Some("a Debian package name has at least two characters".to_owned());
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Some("a Debian package name starts with a lowercase letter or digit".to_owned());
    }
    first_bad_char(s, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.')
    })
    .map(|bad| format!("{bad}; Debian names use lowercase letters, digits, '+', '-' and '.'"))
}

fn yum_error(s: &str) -> Option<String> {
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("an RPM package name starts with a letter or digit".to_owned());
    }
    first_bad_char(s, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_')
    })
    .map(|bad| format!("{bad}; RPM names use letters, digits, '+', '-', '.' and '_'"))
}

impl PackageId {
    /// A package id checked against `format`'s grammar. Python names are normalised
    /// (PEP 503: `Django_REST.framework` becomes `django-rest-framework`), as GAR
    /// stores them.
    pub fn for_format(format: &Format, s: &str) -> Result<Self, Error> {
        let generic: Self = s.parse()?;
        let problem = match format {
            Format::Docker => docker_path_error(s),
            Format::Maven => maven_error(s),
            Format::Npm => npm_error(s),
            Format::Python => python_error(s),
            Format::Go => go_error(s),
            Format::Apt => apt_error(s),
            Format::Yum => yum_error(s),
            _ => None,
        };
        if let Some(reason) = problem {
            return Err(Error::invalid(
                ErrorKind::InvalidPackage,
                &format!("{} package name", format.name().to_lowercase()),
                s,
                reason,
            ));
        }
        Ok(match format {
            Format::Python => Self(normalise_python(s)),
            _ => generic,
        })
    }
}

string_id! {
    /// A version id: 1–1024 printable characters (`1.2.3`, `1.0-SNAPSHOT`,
    /// `v0.3.1`); for docker, the manifest digest (see [`VersionId::for_format`]).
    VersionId
}

impl FromStr for VersionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        check_generic(ErrorKind::InvalidVersion, "version id", s, MAX_ID)?;
        Ok(Self(s.to_owned()))
    }
}

impl VersionId {
    /// A version id checked for `format`: a docker version is a digest.
    pub fn for_format(format: &Format, s: &str) -> Result<Self, Error> {
        let v: Self = s.parse()?;
        if *format == Format::Docker {
            s.parse::<Digest>().map_err(|e| {
                Error::invalid(
                    ErrorKind::InvalidVersion,
                    "docker version id",
                    s,
                    format!("a docker version is a manifest digest ({})", e.message()),
                )
            })?;
        }
        Ok(v)
    }

    /// The version of a docker image: its manifest digest.
    pub fn from_digest(digest: &Digest) -> Self {
        Self(digest.to_string())
    }
}

string_id! {
    /// A tag id: 1–128 printable characters without `/` (`latest`, `v1.2`, `beta`).
    /// Docker tags are stricter: see [`TagId::for_format`].
    TagId
}

impl FromStr for TagId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let kind = ErrorKind::InvalidTag;
        let what = "tag";
        check_length(kind, what, s, 128)?;
        if let Some(bad) = first_bad_char(s, |c| generic_char(c) && c != '/') {
            return Err(Error::invalid(
                kind,
                what,
                s,
                format!("{bad}; tags are printable ASCII without spaces or '/'"),
            ));
        }
        if s == "." || s == ".." {
            return Err(Error::invalid(kind, what, s, "'.' and '..' are not tags"));
        }
        Ok(Self(s.to_owned()))
    }
}

/// The docker tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn docker_tag_error(s: &str) -> Option<String> {
    if s.is_empty() || s.len() > 128 {
        return Some("a docker tag has 1 to 128 characters".to_owned());
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Some("a docker tag starts with a letter, digit or '_'".to_owned());
    }
    first_bad_char(s, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
    })
    .map(|bad| format!("{bad}; docker tags use letters, digits, '_', '.' and '-'"))
}

impl TagId {
    /// A tag checked for `format`: docker tags follow the docker tag grammar.
    pub fn for_format(format: &Format, s: &str) -> Result<Self, Error> {
        let t: Self = s.parse()?;
        if *format == Format::Docker
            && let Some(reason) = docker_tag_error(s)
        {
            return Err(Error::invalid(
                ErrorKind::InvalidTag,
                "docker tag",
                s,
                reason,
            ));
        }
        Ok(t)
    }
}

string_id! {
    /// A file id: a relative path of 1–1024 printable characters
    /// (`com/acme/app/1.0/app-1.0.jar`), without `.`/`..` segments.
    FileId
}

impl FromStr for FileId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        check_generic(ErrorKind::InvalidFile, "file id", s, MAX_ID)?;
        Ok(Self(s.to_owned()))
    }
}

/// A content digest: `sha256:` with 64 or `sha512:` with 128 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
}

/// The hash algorithm of a [`Digest`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256 (64 hex digits).
    Sha256,
    /// SHA-512 (128 hex digits).
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm's name in a digest (`"sha256"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// The number of hex digits of its digests.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

impl Digest {
    /// The digest of `algorithm` whose encoded part is `hex`.
    pub fn new(algorithm: DigestAlgorithm, hex: &str) -> Result<Self, Error> {
        format!("{}:{hex}", algorithm.name()).parse()
    }

    /// The digest of raw hash bytes (32 for SHA-256, 64 for SHA-512).
    pub fn from_bytes(algorithm: DigestAlgorithm, hash: &[u8]) -> Result<Self, Error> {
        Self::new(algorithm, &hex_string(hash))
    }

    /// The SHA-256 digest whose hash bytes are `hash`.
    pub fn from_sha256(hash: &[u8; 32]) -> Self {
        Self {
            text: format!("sha256:{}", hex_string(hash)),
        }
    }

    /// The SHA-512 digest whose hash bytes are `hash`.
    pub fn from_sha512(hash: &[u8; 64]) -> Self {
        Self {
            text: format!("sha512:{}", hex_string(hash)),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        if self.text.starts_with("sha512:") {
            DigestAlgorithm::Sha512
        } else {
            DigestAlgorithm::Sha256
        }
    }

    /// The hex part, after the colon.
    pub fn hex(&self) -> &str {
        self.text
            .split_once(':')
            .map_or(self.text.as_str(), |(_, h)| h)
    }

    /// The whole digest as text (`sha256:...`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The hash bytes the hex part encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.hex()
            .as_bytes()
            .chunks(2)
            .filter_map(|pair| {
                let s = std::str::from_utf8(pair).ok()?;
                u8::from_str_radix(s, 16).ok()
            })
            .collect()
    }
}

fn hex_string(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xF] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let kind = ErrorKind::InvalidDigest;
        let what = "digest";
        let Some((algo, hex)) = s.split_once(':') else {
            return Err(Error::invalid(
                kind,
                what,
                s,
                "expected algorithm:hex, such as sha256:<64 hex digits>",
            ));
        };
        let algorithm = match algo {
            "sha256" => DigestAlgorithm::Sha256,
            "sha512" => DigestAlgorithm::Sha512,
            other => {
                return Err(Error::invalid(
                    kind,
                    what,
                    s,
                    format!("the algorithm {other:?} is not supported; use sha256 or sha512"),
                ));
            }
        };
        if let Some(bad) = first_bad_char(hex, |c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
            return Err(Error::invalid(
                kind,
                what,
                s,
                format!("in the hex part, {bad}; use lowercase hex digits"),
            ));
        }
        if hex.len() != algorithm.hex_len() {
            return Err(Error::invalid(
                kind,
                what,
                s,
                format!(
                    "the hex part has {} digits; {} needs {}",
                    hex.len(),
                    algo,
                    algorithm.hex_len()
                ),
            ));
        }
        Ok(Self { text: s.to_owned() })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of<T: FromStr<Err = Error>>(s: &str) -> ErrorKind {
        match s.parse::<T>() {
            Ok(_) => panic!("{s:?} was accepted"),
            Err(e) => e.kind(),
        }
    }

    #[test]
    fn projects() {
        for ok in [
            "my-project",
            "abcdef",
            "a23456789012345678901234567890",
            "123456789012",
            "example.com:my-project",
        ] {
            assert_eq!(ok.parse::<ProjectId>().unwrap().as_str(), ok);
        }
        assert!("123456789012".parse::<ProjectId>().unwrap().is_number());
        for bad in [
            "",
            "short",
            "My-Project",
            "1project",
            "project-",
            "my_project",
            "a234567890123456789012345678901",
            ":my-project",
            "example:my-project",
            "0123",
        ] {
            assert_eq!(
                kind_of::<ProjectId>(bad),
                ErrorKind::InvalidProject,
                "{bad}"
            );
        }
        let err = "my_project".parse::<ProjectId>().unwrap_err();
        assert!(err.to_string().contains("'_' at position 2"), "{err}");
    }

    #[test]
    fn repositories() {
        for ok in ["r", "docker-prod", "a1", &"a".repeat(63)] {
            assert!(ok.parse::<RepositoryId>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1repo",
            "repo-",
            "Repo",
            "re_po",
            "re/po",
            &"a".repeat(64),
        ] {
            assert_eq!(
                kind_of::<RepositoryId>(bad),
                ErrorKind::InvalidRepository,
                "{bad}"
            );
        }
    }

    #[test]
    fn packages_by_format() {
        let ok: &[(Format, &str, &str)] = &[
            (Format::Docker, "team/app", "team/app"),
            (Format::Docker, "a.b_c__d---e/f", "a.b_c__d---e/f"),
            (
                Format::Maven,
                "com.google.guava:guava",
                "com.google.guava:guava",
            ),
            (Format::Npm, "@scope/name", "@scope/name"),
            (Format::Npm, "left-pad", "left-pad"),
            (Format::Python, "Foo__Bar.baz", "foo-bar-baz"),
            (
                Format::Go,
                "example.com/org/mod/v2",
                "example.com/org/mod/v2",
            ),
            (Format::Apt, "libc6", "libc6"),
            (Format::Apt, "g++", "g++"),
            (Format::Yum, "NetworkManager", "NetworkManager"),
            (Format::Generic, "anything:goes", "anything:goes"),
        ];
        for (format, input, stored) in ok {
            let p = PackageId::for_format(format, input).unwrap();
            assert_eq!(p.as_str(), *stored);
            // Printing and parsing again gives the same value.
            assert_eq!(PackageId::for_format(format, p.as_str()).unwrap(), p);
        }
        let bad: &[(Format, &str, &str)] = &[
            (Format::Docker, "Team/app", "'T'"),
            (Format::Docker, "team//app", "empty"),
            (Format::Docker, "team/app-", "end"),
            (Format::Docker, "team/a._b", "separator"),
            (Format::Maven, "guava", "group:artifact"),
            (Format::Maven, "com..google:guava", "empty part"),
            (Format::Npm, "@scope", "@scope/name"),
            (Format::Npm, "_private", "cannot start"),
            (Format::Npm, "Upper", "'U'"),
            (Format::Python, "-foo", "starts and ends"),
            (Format::Go, "mymodule", "domain"),
            (Format::Apt, "a", "two characters"),
            (Format::Yum, "-x", "starts"),
            (Format::Generic, "../etc/passwd", "relative"),
            (Format::Generic, "a b", "' '"),
        ];
        for (format, input, needle) in bad {
            let err = PackageId::for_format(format, input).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidPackage, "{input}");
            assert!(err.to_string().contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn versions_tags_files() {
        assert!("1.0-SNAPSHOT".parse::<VersionId>().is_ok());
        let d = format!("sha256:{}", "a".repeat(64));
        assert!(VersionId::for_format(&Format::Docker, &d).is_ok());
        assert_eq!(
            VersionId::for_format(&Format::Docker, "1.0")
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidVersion
        );
        assert_eq!(kind_of::<VersionId>(".."), ErrorKind::InvalidVersion);
        assert!("latest".parse::<TagId>().is_ok());
        assert!("v1:2@x".parse::<TagId>().is_ok());
        assert_eq!(kind_of::<TagId>("a/b"), ErrorKind::InvalidTag);
        assert_eq!(
            TagId::for_format(&Format::Docker, ".hidden")
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidTag
        );
        assert_eq!(
            TagId::for_format(&Format::Docker, "v1:2")
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidTag
        );
        assert!("com/acme/app/1.0/app-1.0.jar".parse::<FileId>().is_ok());
        for bad in ["/abs", "a/../b", "a//b", "a/", "a\\b", ""] {
            assert_eq!(kind_of::<FileId>(bad), ErrorKind::InvalidFile, "{bad}");
        }
    }

    #[test]
    fn digests() {
        let hex = "0123456789abcdef".repeat(4);
        let d: Digest = format!("sha256:{hex}").parse().unwrap();
        assert_eq!(d.algorithm(), DigestAlgorithm::Sha256);
        assert_eq!(d.hex(), hex);
        assert_eq!(
            Digest::from_bytes(DigestAlgorithm::Sha256, &d.to_bytes()).unwrap(),
            d
        );
        let d512: Digest = format!("sha512:{}", "f".repeat(128)).parse().unwrap();
        assert_eq!(d512.algorithm(), DigestAlgorithm::Sha512);
        let cases = [
            ("sha256:abc", "3 digits"),
            (&*format!("sha256:{}", "A".repeat(64)), "'A'"),
            (&*format!("md5:{}", "a".repeat(32)), "\"md5\""),
            ("sha256", "algorithm:hex"),
            (&*format!("sha512:{}", "a".repeat(64)), "needs 128"),
        ];
        for (bad, needle) in cases {
            let err = bad.parse::<Digest>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidDigest);
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn serde_validates() {
        let r: RepositoryId = serde_json::from_str(r#""docker-prod""#).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), r#""docker-prod""#);
        assert!(serde_json::from_str::<RepositoryId>(r#""Bad""#).is_err());
    }
}
