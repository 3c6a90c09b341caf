//! Names of occurrences, notes and parents: checks before a call, and the
//! [`Resource`] errors are about.

use gar_core::error::{Resource, ResourceKind};
use gar_core::ids::ProjectId;
use gar_core::{Error, ErrorKind};

/// `projects/{project}`.
pub(crate) fn parent(project: &ProjectId) -> String {
    format!("projects/{project}")
}

/// The resource a call on `parent` (`projects/{p}`) is about.
pub(crate) fn project_resource(parent: &str) -> Resource {
    let project = parent.strip_prefix("projects/").unwrap_or(parent);
    let project = project.split('/').next().unwrap_or(project);
    Resource::new(ResourceKind::Project, project, None)
}

/// The resource `name` (`projects/{p}/{collection}/{id}`) stands for; names
/// that do not have that shape are kept whole.
pub(crate) fn resource(name: &str, kind: ResourceKind) -> Resource {
    let collection = match kind {
        ResourceKind::Note => "/notes/",
        _ => "/occurrences/",
    };
    match name.rsplit_once(collection) {
        Some((parent, id)) => Resource::new(kind, id, Some(parent)),
        None => Resource::new(kind, name, None),
    }
}

/// Checks `projects/{p}[/locations/{l}]/{collection}/{id}` before it goes into
/// a URL or a request.
pub(crate) fn check(name: &str, kind: ResourceKind) -> Result<(), Error> {
    let collection = match kind {
        ResourceKind::Note => "notes",
        _ => "occurrences",
    };
    let parts: Vec<&str> = name.split('/').collect();
    let (project, id) = match parts.as_slice() {
        ["projects", p, c, id] if *c == collection => (*p, *id),
        ["projects", p, "locations", _, c, id] if *c == collection => (*p, *id),
        _ => {
            return Err(Error::invalid(
                ErrorKind::InvalidResourceName,
                kind.noun(),
                name,
                format!("expected projects/{{project}}/{collection}/{{id}}"),
            ));
        }
    };
    project.parse::<ProjectId>()?;
    let id_ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | ':' | '@'));
    if !id_ok {
        return Err(Error::invalid(
            ErrorKind::InvalidResourceName,
            kind.noun(),
            name,
            "the id must be letters, digits and - _ . ~ : @",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_split() {
        assert!(
            check(
                "projects/my-project/occurrences/0a-1",
                ResourceKind::Occurrence
            )
            .is_ok()
        );
        assert!(
            check(
                "projects/goog-vulnz/locations/us/notes/CVE-1",
                ResourceKind::Note
            )
            .is_ok()
        );
        for bad in [
            "projects/my-project/notes/CVE-1",
            "projects/my-project/occurrences/",
            "projects/my-project/occurrences/a/b",
            "projects/p/occurrences/a",
            "projects/my-project/occurrences/a?b",
            "occurrences/a",
        ] {
            let e = check(bad, ResourceKind::Occurrence).unwrap_err();
            assert!(e.is_configuration(), "{bad}: {e}");
        }
        let r = resource("projects/p/occurrences/o1", ResourceKind::Occurrence);
        assert_eq!((r.id(), r.parent()), ("o1", Some("projects/p")));
        assert_eq!(project_resource("projects/p/locations/l").id(), "p");
    }
}
