//! Filters for occurrence and note listings, and the resource URLs they match.
//!
//! ```
//! use gar_containeranalysis::filter::{OccurrenceFilter, resource_url};
//! use gar_proto::grafeas::v1::NoteKind;
//!
//! let image = "projects/my-project/locations/us/repositories/docker/dockerImages/app@sha256:\
//!     2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".parse().unwrap();
//! let f = OccurrenceFilter::new().kind(NoteKind::Vulnerability).resource_url(&resource_url(&image));
//! assert_eq!(f.to_string(),
//!     "kind=\"VULNERABILITY\" AND resourceUrl=\"https://us-docker.pkg.dev/my-project/docker/app@sha256:\
//!      2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\"");
//! ```

use std::fmt;

use gar_core::names::DockerImageName;
use gar_proto::grafeas::v1::NoteKind;

/// The resource URL Container Analysis uses for an image:
/// `https://{location}-docker.pkg.dev/{project}/{repository}/{image}@sha256:...`.
pub fn resource_url(image: &DockerImageName) -> String {
    format!("https://{}", image.uri())
}

/// A conjunction of conditions on occurrences, printed in the API's filter syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OccurrenceFilter {
    terms: Vec<String>,
}

fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl OccurrenceFilter {
    /// A filter that matches everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only occurrences of `kind`.
    pub fn kind(mut self, kind: NoteKind) -> Self {
        self.terms
            .push(format!("kind={}", quote(kind.as_str_name())));
        self
    }

    /// Only occurrences on the resource at `url` (the filter key is `resourceUrl`,
    /// although the field is `resourceUri`).
    pub fn resource_url(mut self, url: &str) -> Self {
        self.terms.push(format!("resourceUrl={}", quote(url)));
        self
    }

    /// Only occurrences of the note `note_name` (`projects/{p}/notes/{n}`).
    pub fn note_name(mut self, note_name: &str) -> Self {
        self.terms.push(format!("noteName={}", quote(note_name)));
        self
    }

    /// Only occurrences on `image` (its [`resource_url`]).
    pub fn image(self, image: &DockerImageName) -> Self {
        self.resource_url(&resource_url(image))
    }

    /// Whether the filter has no condition.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

impl From<OccurrenceFilter> for String {
    fn from(f: OccurrenceFilter) -> String {
        f.to_string()
    }
}

impl fmt::Display for OccurrenceFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.terms.join(" AND "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_composition() {
        assert_eq!(OccurrenceFilter::new().to_string(), "");
        assert!(OccurrenceFilter::new().is_empty());
        let f = OccurrenceFilter::new()
            .kind(NoteKind::Discovery)
            .note_name("projects/goog-analysis/notes/PACKAGE_VULNERABILITY")
            .resource_url("https://x/\"y\\");
        assert_eq!(
            f.to_string(),
            r#"kind="DISCOVERY" AND noteName="projects/goog-analysis/notes/PACKAGE_VULNERABILITY" AND resourceUrl="https://x/\"y\\""#
        );
        let image: DockerImageName =
            "projects/my-project/locations/europe-west1/repositories/r/dockerImages/team%2Fapp@sha256:\
             2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
                .parse()
                .unwrap();
        let s: String = OccurrenceFilter::new().image(&image).into();
        assert_eq!(
            s,
            "resourceUrl=\"https://europe-west1-docker.pkg.dev/my-project/r/team/app@sha256:\
             2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\""
        );
    }
}
