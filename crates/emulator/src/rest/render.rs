//! The JSON of each resource, in ProtoJSON form (camelCase, int64 as strings,
//! enums by name), built from the shared resource tree; and the conversion of
//! enums to numbers for `$alt=json;enum-encoding=int`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gar_core::cleanup::{Action, TagState};
use gar_core::format::{Format, Mode};
use gar_core::names::encode_id;
use gar_core::protojson::Timestamp;
use serde_json::{Map, Value, json};

use super::list::{Entry, Key};
use crate::state::{FileRecord, Package, Repository, Version};

/// The format-specific collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatView {
    /// `mavenArtifacts` of MAVEN repositories.
    Maven,
    /// `npmPackages` of NPM repositories.
    Npm,
    /// `pythonPackages` of PYTHON repositories.
    Python,
    /// `goModules` of GO repositories.
    Go,
}

impl FormatView {
    /// The view a collection name stands for.
    pub(crate) fn from_collection(c: &str) -> Option<Self> {
        match c {
            "mavenArtifacts" => Some(Self::Maven),
            "npmPackages" => Some(Self::Npm),
            "pythonPackages" => Some(Self::Python),
            "goModules" => Some(Self::Go),
            _ => None,
        }
    }

    /// The collection name (and the list's JSON key).
    pub(crate) fn collection(self) -> &'static str {
        match self {
            Self::Maven => "mavenArtifacts",
            Self::Npm => "npmPackages",
            Self::Python => "pythonPackages",
            Self::Go => "goModules",
        }
    }

    /// The format whose repositories hold this collection.
    pub(crate) fn format(self) -> Format {
        match self {
            Self::Maven => Format::Maven,
            Self::Npm => Format::Npm,
            Self::Python => Format::Python,
            Self::Go => Format::Go,
        }
    }

    /// The permission prefix (`artifactregistry.mavenartifacts`).
    pub(crate) fn permission(self) -> &'static str {
        match self {
            Self::Maven => "artifactregistry.mavenartifacts",
            Self::Npm => "artifactregistry.npmpackages",
            Self::Python => "artifactregistry.pythonpackages",
            Self::Go => "artifactregistry.gomodules",
        }
    }
}

fn time(t: &Timestamp) -> Value {
    Value::String(t.to_string())
}

fn insert_nonempty_map(
    out: &mut Map<String, Value>,
    key: &str,
    map: &std::collections::BTreeMap<String, String>,
) {
    if !map.is_empty() {
        out.insert(key.to_owned(), json!(map));
    }
}

/// The host serving a repository's packages: `{location}-{format}.pkg.dev`.
pub(crate) fn package_host(r: &Repository) -> String {
    format!(
        "{}-{}.pkg.dev",
        r.name.location(),
        r.format.host_suffix().unwrap_or("docker")
    )
}

/// `projects/.../repositories/{r}/packages/{pkg}`.
pub(crate) fn package_name(r: &Repository, package: &str) -> String {
    format!("{}/packages/{}", r.name, encode_id(package))
}

/// `.../packages/{pkg}/tags/{tag}`.
pub(crate) fn tag_name(r: &Repository, package: &str, tag: &str) -> String {
    format!("{}/tags/{}", package_name(r, package), encode_id(tag))
}

/// `.../repositories/{r}/files/{f}`.
pub(crate) fn file_name(r: &Repository, file: &str) -> String {
    format!("{}/files/{}", r.name, encode_id(file))
}

/// `.../dockerImages/{img}@{digest}`.
pub(crate) fn docker_image_name(r: &Repository, package: &str, version: &str) -> String {
    format!("{}/dockerImages/{}@{version}", r.name, encode_id(package))
}

/// The size a repository takes: its blobs and files.
fn size_bytes(r: &Repository) -> u64 {
    r.blobs.values().sum::<u64>() + r.files.values().map(|f| f.size).sum::<u64>()
}

/// A repository.
pub(crate) fn repository(r: &Repository) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(r.name.to_string()));
    out.insert("format".into(), json!(r.format.name()));
    if !r.description.is_empty() {
        out.insert("description".into(), json!(r.description));
    }
    insert_nonempty_map(&mut out, "labels", &r.labels);
    out.insert("createTime".into(), time(&r.create_time));
    out.insert("updateTime".into(), time(&r.update_time));
    out.insert("mode".into(), json!(r.mode.name()));
    if r.format == Format::Docker {
        out.insert(
            "dockerConfig".into(),
            json!({ "immutableTags": r.immutable_tags }),
        );
    }
    if !r.cleanup_policies.is_empty() {
        out.insert("cleanupPolicies".into(), r.cleanup_policies.to_rest_value());
    }
    if r.cleanup_policy_dry_run {
        out.insert("cleanupPolicyDryRun".into(), json!(true));
    }
    out.insert("sizeBytes".into(), json!(size_bytes(r).to_string()));
    out.insert(
        "registryUri".into(),
        json!(format!(
            "{}/{}/{}",
            package_host(r),
            r.name.project(),
            r.name.repository()
        )),
    );
    Value::Object(out)
}

/// A repository as a list entry.
pub(crate) fn repository_entry(r: &Repository) -> Entry {
    Entry::new(r.name.to_string(), repository(r)).times(&r.create_time, &r.update_time)
}

/// A package as a list entry.
pub(crate) fn package_entry(r: &Repository, key: &str, p: &Package) -> Entry {
    let name = package_name(r, key);
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert(
        "displayName".into(),
        json!(if p.display_name.is_empty() {
            key
        } else {
            p.display_name.as_str()
        }),
    );
    out.insert("createTime".into(), time(&p.create_time));
    out.insert("updateTime".into(), time(&p.update_time));
    insert_nonempty_map(&mut out, "annotations", &p.annotations);
    let mut e = Entry::new(name, Value::Object(out)).times(&p.create_time, &p.update_time);
    e.annotations.clone_from(&p.annotations);
    e
}

/// A version as a list entry; `full` adds its related tags.
pub(crate) fn version_entry(
    r: &Repository,
    key: &str,
    p: &Package,
    vkey: &str,
    v: &Version,
    full: bool,
) -> Entry {
    let name = r.version_name(key, vkey);
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    if !v.description.is_empty() {
        out.insert("description".into(), json!(v.description));
    }
    out.insert("createTime".into(), time(&v.create_time));
    out.insert("updateTime".into(), time(&v.update_time));
    if full {
        let tags: Vec<Value> = p
            .tags_of(vkey)
            .iter()
            .map(|t| json!({"name": tag_name(r, key, t), "version": name}))
            .collect();
        if !tags.is_empty() {
            out.insert("relatedTags".into(), Value::Array(tags));
        }
    }
    if let Some(m) = &v.manifest {
        let mut meta = Map::new();
        meta.insert(
            "name".into(),
            json!(docker_image_name(r, key, m.digest.as_str())),
        );
        meta.insert("imageSizeBytes".into(), json!(m.image_size.to_string()));
        meta.insert("mediaType".into(), json!(m.media_type));
        if let Some(a) = &m.artifact_type {
            meta.insert("artifactType".into(), json!(a));
        }
        out.insert("metadata".into(), Value::Object(meta));
    }
    insert_nonempty_map(&mut out, "annotations", &v.annotations);
    let mut e = Entry::new(name, Value::Object(out)).times(&v.create_time, &v.update_time);
    e.annotations.clone_from(&v.annotations);
    e
}

/// A tag as a list entry.
pub(crate) fn tag_entry(r: &Repository, key: &str, tag: &str, vkey: &str) -> Entry {
    let name = tag_name(r, key, tag);
    let version = r.version_name(key, vkey);
    let mut e = Entry::new(name.clone(), json!({"name": name, "version": version}));
    e.fields.push(("version", version));
    e
}

/// A file as a list entry.
pub(crate) fn file_entry(r: &Repository, key: &str, f: &FileRecord) -> Entry {
    let name = file_name(r, key);
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert("sizeBytes".into(), json!(f.size.to_string()));
    out.insert(
        "hashes".into(),
        json!([{"type": "SHA256", "value": STANDARD.encode(f.sha256.to_bytes())}]),
    );
    out.insert("createTime".into(), time(&f.create_time));
    out.insert("updateTime".into(), time(&f.update_time));
    if !f.owner.is_empty() {
        out.insert("owner".into(), json!(f.owner));
    }
    insert_nonempty_map(&mut out, "annotations", &f.annotations);
    let mut e = Entry::new(name, Value::Object(out)).times(&f.create_time, &f.update_time);
    e.fields.push(("owner", f.owner.clone()));
    e.annotations.clone_from(&f.annotations);
    e
}

/// A docker image (a version with a manifest) as a list entry.
pub(crate) fn docker_image_entry(
    r: &Repository,
    key: &str,
    p: &Package,
    vkey: &str,
    v: &Version,
) -> Option<Entry> {
    let m = v.manifest.as_ref()?;
    let name = docker_image_name(r, key, vkey);
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert(
        "uri".into(),
        json!(format!(
            "{}-docker.pkg.dev/{}/{}/{key}@{vkey}",
            r.name.location(),
            r.name.project(),
            r.name.repository()
        )),
    );
    let tags = p.tags_of(vkey);
    if !tags.is_empty() {
        out.insert("tags".into(), json!(tags));
    }
    out.insert("imageSizeBytes".into(), json!(m.image_size.to_string()));
    out.insert("uploadTime".into(), time(&v.create_time));
    out.insert("mediaType".into(), json!(m.media_type));
    out.insert("updateTime".into(), time(&v.update_time));
    if let Some(a) = &m.artifact_type {
        out.insert("artifactType".into(), json!(a));
    }
    if !m.platforms.is_empty() {
        let manifests: Vec<Value> = m
            .platforms
            .iter()
            .map(|p| {
                let get = |k: &str| p.get(k).cloned().unwrap_or(Value::Null);
                let mut o = Map::new();
                for (from, to) in [
                    ("architecture", "architecture"),
                    ("os", "os"),
                    ("digest", "digest"),
                    ("mediaType", "mediaType"),
                    ("os.version", "osVersion"),
                    ("os.features", "osFeatures"),
                    ("variant", "variant"),
                ] {
                    let v = get(from);
                    if !v.is_null() {
                        o.insert(to.to_owned(), v);
                    }
                }
                Value::Object(o)
            })
            .collect();
        out.insert("imageManifests".into(), Value::Array(manifests));
    }
    let mut e = Entry::new(name, Value::Object(out));
    e.keys.push(("upload_time", Key::time(&v.create_time)));
    e.keys.push(("update_time", Key::time(&v.update_time)));
    e.keys
        .push(("image_size_bytes", Key::Int(i128::from(m.image_size))));
    Some(e)
}

/// One format-specific item (a Maven artifact, npm package, Python package or Go
/// module version) as a list entry.
pub(crate) fn format_entry(
    view: FormatView,
    r: &Repository,
    key: &str,
    p: &Package,
    vkey: &str,
    v: &Version,
) -> Entry {
    let collection = view.collection();
    let id = format!("{}:{}", encode_id(key), encode_id(vkey));
    let name = format!("{}/{collection}/{id}", r.name);
    let host = package_host(r);
    let base = format!("{host}/{}/{}", r.name.project(), r.name.repository());
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    match view {
        FormatView::Maven => {
            let (group, artifact) = key.split_once(':').unwrap_or(("", key));
            out.insert(
                "pomUri".into(),
                json!(format!(
                    "https://{base}/{}/{artifact}/{vkey}/{artifact}-{vkey}.pom",
                    group.replace('.', "/")
                )),
            );
            out.insert("groupId".into(), json!(group));
            out.insert("artifactId".into(), json!(artifact));
            out.insert("version".into(), json!(vkey));
        }
        FormatView::Npm => {
            out.insert("packageName".into(), json!(key));
            out.insert("version".into(), json!(vkey));
            let tags = p.tags_of(vkey);
            if !tags.is_empty() {
                out.insert("tags".into(), json!(tags));
            }
        }
        FormatView::Python => {
            out.insert("uri".into(), json!(format!("https://{base}/simple/{key}/")));
            out.insert("packageName".into(), json!(key));
            out.insert("version".into(), json!(vkey));
        }
        FormatView::Go => {
            out.insert("version".into(), json!(vkey));
        }
    }
    out.insert("createTime".into(), time(&v.create_time));
    out.insert("updateTime".into(), time(&v.update_time));
    Entry::new(name, Value::Object(out)).times(&v.create_time, &v.update_time)
}

fn number_of<T: std::str::FromStr>(s: &str, f: impl Fn(&T) -> Option<i32>) -> Option<i32> {
    s.parse::<T>().ok().and_then(|v| f(&v))
}

fn hash_type_number(s: &str) -> Option<i32> {
    match s {
        "HASH_TYPE_UNSPECIFIED" => Some(0),
        "SHA256" => Some(1),
        "MD5" => Some(2),
        "DIRSUM_SHA256" => Some(3),
        _ => None,
    }
}

/// Rewrites enum names as numbers (`$alt=json;enum-encoding=int`): repository
/// `format` and `mode`, cleanup-policy `action` and `tagState`, hash `type`.
pub(crate) fn enums_to_numbers(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(enums_to_numbers),
        Value::Object(map) => {
            let is_hash = map.contains_key("value") && map.contains_key("type");
            for (k, child) in map.iter_mut() {
                let n = match (k.as_str(), child.as_str()) {
                    ("format", Some(s)) => number_of::<Format>(s, Format::number),
                    ("mode", Some(s)) => number_of::<Mode>(s, Mode::number),
                    ("action", Some(s)) => number_of::<Action>(s, Action::number),
                    ("tagState", Some(s)) => number_of::<TagState>(s, TagState::number),
                    ("type", Some(s)) if is_hash => hash_type_number(s),
                    ("labels" | "annotations" | "metadata", _) => continue,
                    _ => {
                        enums_to_numbers(child);
                        continue;
                    }
                };
                if let Some(n) = n {
                    *child = json!(n);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_become_numbers() {
        let mut v = json!({
            "repositories": [{"format": "DOCKER", "mode": "REMOTE_REPOSITORY", "labels": {"format": "DOCKER"},
              "cleanupPolicies": {"a": {"action": "KEEP", "condition": {"tagState": "UNTAGGED"}}}}],
            "hashes": [{"type": "MD5", "value": "x"}],
            "@type": "t",
        });
        enums_to_numbers(&mut v);
        assert_eq!(v["repositories"][0]["format"], 1);
        assert_eq!(v["repositories"][0]["mode"], 3);
        assert_eq!(v["repositories"][0]["labels"]["format"], "DOCKER");
        assert_eq!(v["repositories"][0]["cleanupPolicies"]["a"]["action"], 2);
        assert_eq!(
            v["repositories"][0]["cleanupPolicies"]["a"]["condition"]["tagState"],
            2
        );
        assert_eq!(v["hashes"][0]["type"], 2);
        assert_eq!(v["@type"], "t");
    }
}
