//! The seed: what the emulator starts with. A JSON document declaring projects,
//! locations, repositories of every format, service accounts with public keys,
//! users with refresh tokens, static tokens, role bindings, the metadata
//! server's identity, preloaded images and fault rules; [`Seed::demo`] is the
//! built-in one.
//!
//! ```json
//! {
//!   "projects": [{"id": "demo-project", "number": "123456789012"}],
//!   "repositories": [{"name": "projects/demo-project/locations/us-central1/repositories/docker", "format": "DOCKER"}],
//!   "serviceAccounts": [{"email": "ci@demo-project.iam.gserviceaccount.com",
//!                        "keys": [{"keyId": "k1", "publicKeyPem": "-----BEGIN PUBLIC KEY-----..."}]}],
//!   "users": [{"email": "dev@example.com", "refreshTokens": ["1//refresh"]}],
//!   "tokens": [{"token": "ya29.static", "principal": "user:dev@example.com"}],
//!   "roles": [{"principal": "user:dev@example.com", "role": "writer", "resource": "projects/demo-project"}],
//!   "defaultPrincipal": "user:dev@example.com",
//!   "metadata": {"serviceAccount": "ci@demo-project.iam.gserviceaccount.com", "projectId": "demo-project"},
//!   "images": [{"repository": "projects/demo-project/locations/us-central1/repositories/docker",
//!               "image": "hello", "tags": ["latest"], "layers": ["hello, world\n"]}],
//!   "packages": [{"repository": "projects/demo-project/locations/us-central1/repositories/generic",
//!                 "package": "tool", "annotations": {"team": "infra"},
//!                 "versions": [{"version": "1.0.0", "tags": ["stable"], "ageSeconds": 86400,
//!                               "files": [{"name": "tool:1.0.0:tool.tar.gz", "content": "..."}]}]}],
//!   "faults": {"seed": 42, "rules": [{"operation": "oci.blob.get", "status": 503, "times": 1}]}
//! }
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use gar_core::format::{Format, Mode};
use gar_core::ids::{DigestAlgorithm, FileId, PackageId, TagId, VersionId};
use gar_core::names::RepositoryName;
use gar_core::protojson::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::analysis::seed::{
    DEFAULT_SCAN_DELAY_SECONDS, PACKAGES_LABEL, SeedAnalysis, VulnerabilityRule,
};
use crate::blobs::digest_of;
use crate::faults::FaultRule;
use crate::state::{FileRecord, Package, State, Version, read, write};
use crate::{Error, Result};

/// A seed document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Seed {
    /// Projects (repositories also create theirs).
    pub projects: Vec<SeedProject>,
    /// Repositories.
    pub repositories: Vec<SeedRepository>,
    /// Service accounts.
    pub service_accounts: Vec<SeedServiceAccount>,
    /// Users.
    pub users: Vec<SeedUser>,
    /// Static access tokens.
    pub tokens: Vec<SeedToken>,
    /// Role bindings.
    pub roles: Vec<SeedRole>,
    /// The principal whose token the binary prints (`user:...` or `serviceAccount:...`).
    pub default_principal: Option<String>,
    /// The metadata server's identity.
    pub metadata: Option<SeedMetadata>,
    /// Images to preload.
    pub images: Vec<SeedImage>,
    /// Packages of any format but docker (versions, tags, files) to preload.
    pub packages: Vec<SeedPackage>,
    /// Fault rules in force from the start.
    pub faults: Option<SeedFaults>,
    /// Let anonymous callers pull.
    pub allow_anonymous_read: bool,
    /// Container Analysis: notes, occurrences, vulnerability rules, scan delay.
    pub analysis: Option<SeedAnalysis>,
}

/// A project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedProject {
    /// Its id.
    pub id: String,
    /// Its number (derived from the id when absent).
    pub number: Option<String>,
    /// Locations it uses (repositories add theirs too).
    pub locations: Vec<String>,
}

/// A repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedRepository {
    /// Full name: `projects/{p}/locations/{l}/repositories/{r}`.
    pub name: String,
    /// Format name (`DOCKER`, `maven`, ...) or number.
    pub format: Value,
    /// Mode name; standard when absent.
    pub mode: Option<Value>,
    /// Description.
    pub description: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Docker: immutable tags.
    pub immutable_tags: bool,
}

/// A service account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedServiceAccount {
    /// Its email.
    pub email: String,
    /// Its public keys.
    pub keys: Vec<SeedKey>,
}

/// A service-account public key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedKey {
    /// The key id (`private_key_id` of the key file; the JWT's `kid`).
    pub key_id: Option<String>,
    /// PEM: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
    pub public_key_pem: String,
}

/// A user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedUser {
    /// Email.
    pub email: String,
    /// Refresh tokens accepted by the refresh-token grant.
    pub refresh_tokens: Vec<String>,
    /// The OAuth client id, checked when set.
    pub client_id: Option<String>,
    /// The OAuth client secret, checked when set.
    pub client_secret: Option<String>,
}

/// A static access token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedToken {
    /// The token text.
    pub token: String,
    /// Whose it is.
    pub principal: String,
}

/// A role binding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedRole {
    /// `user:`, `serviceAccount:`, `allUsers` or `allAuthenticatedUsers`.
    pub principal: String,
    /// `reader`, `writer`, `repoAdmin`, `admin` (or `roles/artifactregistry.*`).
    pub role: String,
    /// `projects/{p}` or a repository name.
    pub resource: String,
}

/// The metadata server's identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedMetadata {
    /// Service account email.
    pub service_account: String,
    /// Project id.
    pub project_id: String,
    /// Scopes reported (cloud-platform when empty).
    pub scopes: Vec<String>,
}

/// An image to preload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedImage {
    /// Repository name.
    pub repository: String,
    /// Image path (`team/app`).
    pub image: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Layer contents (text).
    pub layers: Vec<String>,
    /// `docker` for Docker schema 2 media types; OCI otherwise.
    pub media_types: Option<String>,
}

/// A package to preload into a repository of any format but docker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedPackage {
    /// Repository name.
    pub repository: String,
    /// Package id in the repository's format (`com.example:app`, `@scope/name`, ...).
    pub package: String,
    /// Display name (the id when empty).
    pub display_name: String,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Its versions.
    pub versions: Vec<SeedVersion>,
}

/// A version of a seeded package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedVersion {
    /// The version id.
    pub version: String,
    /// Tags pointing at it.
    pub tags: Vec<String>,
    /// Its creation time (RFC 3339); see also `age_seconds`.
    pub create_time: Option<String>,
    /// Its age at start, in seconds, when `create_time` is absent (0: now).
    pub age_seconds: i64,
    /// Description.
    pub description: String,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Files it owns.
    pub files: Vec<SeedFile>,
}

/// A file of a seeded version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedFile {
    /// The file id (a path such as `com/example/app/1.0/app-1.0.jar`).
    pub name: String,
    /// Its content (text).
    pub content: String,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Fault rules of the seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedFaults {
    /// Seed of the probability generator.
    pub seed: u64,
    /// The rules.
    pub rules: Vec<FaultRule>,
}

/// The test-only public key of the demo service account (its private half is
/// `tests/fixtures/test-sa-private-key.pem`).
pub const DEMO_SA_PUBLIC_KEY: &str = include_str!("../tests/fixtures/test-sa-public-key.pem");

/// The test-only private key of the demo service account: committed, public,
/// protecting nothing. Never use it outside tests and demos.
pub const DEMO_SA_PRIVATE_KEY_TEST_ONLY: &str =
    include_str!("../tests/fixtures/test-sa-private-key.pem");

/// A service-account key file (JSON text) of the demo service account whose
/// `token_uri` is `token_uri` (the emulator's `{url}/token`): what
/// `GOOGLE_APPLICATION_CREDENTIALS` points at in tests. Test-only.
pub fn demo_service_account_key(token_uri: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": DEMO_PROJECT,
        "private_key_id": "demo-key-1",
        "private_key": DEMO_SA_PRIVATE_KEY_TEST_ONLY,
        "client_email": DEMO_SERVICE_ACCOUNT,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    })
    .to_string()
}

/// The demo project.
pub const DEMO_PROJECT: &str = "demo-project";
/// The demo user's static token.
pub const DEMO_TOKEN: &str = "ya29.demo-user-token";
/// The demo service account.
pub const DEMO_SERVICE_ACCOUNT: &str = "demo-sa@demo-project.iam.gserviceaccount.com";

impl Seed {
    /// Parses a JSON seed.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::new(format!("the seed is not valid: {e}")))
    }

    /// Reads a JSON seed file; `demo` names the built-in seed.
    pub fn from_file(path: &Path) -> Result<Self> {
        if path.as_os_str() == "demo" {
            return Ok(Self::demo());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(format!("cannot read the seed {}: {e}", path.display())))?;
        Self::from_json(&text)
    }

    /// The built-in demo: project `demo-project` in `us-central1` with one
    /// repository of every format (`docker`, `maven`, `npm`, ...), a user
    /// `demo@example.com` (admin, static token [`DEMO_TOKEN`]), a service account
    /// [`DEMO_SERVICE_ACCOUNT`] (writer; test-only key; also the metadata
    /// server's identity), a reader `viewer@example.com`, the image
    /// `docker/hello:latest`, and in the Maven, npm, Python, Go, Apt, Yum and
    /// Generic repositories a package each with versions (days to weeks old),
    /// tags and files with content.
    pub fn demo() -> Self {
        let loc = "projects/demo-project/locations/us-central1/repositories";
        let formats = [
            ("docker", "DOCKER"),
            ("maven", "MAVEN"),
            ("npm", "NPM"),
            ("python", "PYTHON"),
            ("apt", "APT"),
            ("yum", "YUM"),
            ("go", "GO"),
            ("generic", "GENERIC"),
            ("kfp", "KFP"),
            ("ruby", "RUBY"),
        ];
        let repositories = formats
            .iter()
            .map(|(id, f)| SeedRepository {
                name: format!("{loc}/{id}"),
                format: Value::String((*f).into()),
                description: format!("demo {id} repository"),
                ..SeedRepository::default()
            })
            .collect();
        Self {
            projects: vec![SeedProject {
                id: DEMO_PROJECT.into(),
                number: Some("123456789012".into()),
                locations: vec!["us-central1".into()],
            }],
            repositories,
            service_accounts: vec![SeedServiceAccount {
                email: DEMO_SERVICE_ACCOUNT.into(),
                keys: vec![SeedKey {
                    key_id: Some("demo-key-1".into()),
                    public_key_pem: DEMO_SA_PUBLIC_KEY.into(),
                }],
            }],
            users: vec![
                SeedUser {
                    email: "demo@example.com".into(),
                    refresh_tokens: vec!["1//demo-refresh-token".into()],
                    client_id: None,
                    client_secret: None,
                },
                SeedUser {
                    email: "viewer@example.com".into(),
                    ..SeedUser::default()
                },
            ],
            tokens: vec![
                SeedToken {
                    token: DEMO_TOKEN.into(),
                    principal: "user:demo@example.com".into(),
                },
                SeedToken {
                    token: "ya29.demo-viewer-token".into(),
                    principal: "user:viewer@example.com".into(),
                },
            ],
            roles: vec![
                SeedRole {
                    principal: "user:demo@example.com".into(),
                    role: "admin".into(),
                    resource: format!("projects/{DEMO_PROJECT}"),
                },
                SeedRole {
                    principal: format!("serviceAccount:{DEMO_SERVICE_ACCOUNT}"),
                    role: "writer".into(),
                    resource: format!("projects/{DEMO_PROJECT}"),
                },
                SeedRole {
                    principal: "user:viewer@example.com".into(),
                    role: "reader".into(),
                    resource: format!("projects/{DEMO_PROJECT}"),
                },
            ],
            default_principal: Some("user:demo@example.com".into()),
            metadata: Some(SeedMetadata {
                service_account: DEMO_SERVICE_ACCOUNT.into(),
                project_id: DEMO_PROJECT.into(),
                scopes: Vec::new(),
            }),
            images: vec![SeedImage {
                repository: format!("{loc}/docker"),
                image: "hello".into(),
                tags: vec!["latest".into()],
                layers: vec!["hello from the gar emulator\n".into()],
                media_types: None,
            }],
            packages: demo_packages(loc),
            faults: None,
            allow_anonymous_read: false,
            analysis: Some(SeedAnalysis::demo()),
        }
    }
}

const DAY: i64 = 86_400;

fn demo_version(
    version: &str,
    tags: &[&str],
    age_days: i64,
    files: &[(&str, &str)],
) -> SeedVersion {
    SeedVersion {
        version: version.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        age_seconds: age_days * DAY,
        files: files
            .iter()
            .map(|(name, content)| SeedFile {
                name: (*name).into(),
                content: (*content).into(),
                annotations: BTreeMap::new(),
            })
            .collect(),
        ..SeedVersion::default()
    }
}

fn demo_package(loc: &str, repo: &str, package: &str, versions: Vec<SeedVersion>) -> SeedPackage {
    SeedPackage {
        repository: format!("{loc}/{repo}"),
        package: package.into(),
        versions,
        ..SeedPackage::default()
    }
}

/// Packages, versions, tags and files for every non-docker format of the demo.
fn demo_packages(loc: &str) -> Vec<SeedPackage> {
    let mut generic = demo_package(
        loc,
        "generic",
        "demo-bundle",
        vec![
            demo_version(
                "1.0.0",
                &["stable"],
                60,
                &[("demo-bundle:1.0.0:README.txt", "demo bundle 1.0.0\n")],
            ),
            demo_version(
                "2.0.0",
                &["latest"],
                3,
                &[
                    ("demo-bundle:2.0.0:README.txt", "demo bundle 2.0.0\n"),
                    (
                        "demo-bundle:2.0.0:bundle.tar",
                        "pretend this is a tarball\n",
                    ),
                ],
            ),
        ],
    );
    generic.annotations.insert("team".into(), "platform".into());
    vec![
        demo_package(
            loc,
            "maven",
            "com.example:demo-app",
            vec![
                demo_version(
                    "1.0.0",
                    &[],
                    30,
                    &[
                        (
                            "com/example/demo-app/1.0.0/demo-app-1.0.0.jar",
                            "PK demo jar 1.0.0",
                        ),
                        (
                            "com/example/demo-app/1.0.0/demo-app-1.0.0.pom",
                            "<project>1.0.0</project>",
                        ),
                    ],
                ),
                demo_version(
                    "1.1.0",
                    &[],
                    2,
                    &[
                        (
                            "com/example/demo-app/1.1.0/demo-app-1.1.0.jar",
                            "PK demo jar 1.1.0",
                        ),
                        (
                            "com/example/demo-app/1.1.0/demo-app-1.1.0.pom",
                            "<project>1.1.0</project>",
                        ),
                    ],
                ),
            ],
        ),
        demo_package(
            loc,
            "npm",
            "@demo/widgets",
            vec![
                demo_version(
                    "1.0.0",
                    &["latest"],
                    10,
                    &[(
                        "@demo/widgets/-/@demo/widgets-1.0.0.tgz",
                        "npm tarball 1.0.0",
                    )],
                ),
                demo_version(
                    "1.1.0-beta.1",
                    &["beta"],
                    1,
                    &[(
                        "@demo/widgets/-/@demo/widgets-1.1.0-beta.1.tgz",
                        "npm tarball beta",
                    )],
                ),
            ],
        ),
        demo_package(
            loc,
            "python",
            "demo-tool",
            vec![
                demo_version(
                    "0.1.0",
                    &[],
                    20,
                    &[("demo-tool/demo_tool-0.1.0-py3-none-any.whl", "wheel 0.1.0")],
                ),
                demo_version(
                    "0.2.0",
                    &[],
                    5,
                    &[
                        ("demo-tool/demo_tool-0.2.0-py3-none-any.whl", "wheel 0.2.0"),
                        ("demo-tool/demo_tool-0.2.0.tar.gz", "sdist 0.2.0"),
                    ],
                ),
            ],
        ),
        demo_package(
            loc,
            "go",
            "example.com/demo/mod",
            vec![demo_version(
                "v1.0.0",
                &[],
                7,
                &[
                    (
                        "example.com/demo/mod/@v/v1.0.0.info",
                        "{\"Version\":\"v1.0.0\"}",
                    ),
                    (
                        "example.com/demo/mod/@v/v1.0.0.mod",
                        "module example.com/demo/mod\n",
                    ),
                    ("example.com/demo/mod/@v/v1.0.0.zip", "go module zip"),
                ],
            )],
        ),
        demo_package(
            loc,
            "apt",
            "demo-utils",
            vec![demo_version(
                "1.0-1",
                &[],
                14,
                &[(
                    "pool/d/demo-utils/demo-utils_1.0-1_amd64.deb",
                    "debian package",
                )],
            )],
        ),
        demo_package(
            loc,
            "yum",
            "demo-utils",
            vec![demo_version(
                "1.0-1.x86_64",
                &[],
                14,
                &[("demo-utils-1.0-1.x86_64.rpm", "rpm package")],
            )],
        ),
        generic,
    ]
}

/// Reads a proto enum given as a name (any case) or a number.
pub(crate) fn enum_value<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T> {
    let v = match v {
        Value::String(s) => Value::String(s.to_uppercase()),
        other => other.clone(),
    };
    serde_json::from_value(v.clone())
        .map_err(|e| Error::new(format!("{what} {v} is not valid: {e}")))
}

/// Checks a seed repository and returns its typed parts.
pub(crate) fn repository_parts(r: &SeedRepository) -> Result<(RepositoryName, Format, Mode)> {
    let name: RepositoryName = r.name.parse().map_err(|e: gar_core::Error| {
        Error::new(format!("seed repository {:?}: {}", r.name, e.message()))
    })?;
    let format: Format = enum_value(&r.format, "format")?;
    if matches!(format, Format::Unspecified | Format::Unknown(_)) {
        return Err(Error::new(format!(
            "seed repository {:?} needs a known format",
            r.name
        )));
    }
    let mode: Mode = match &r.mode {
        Some(m) => enum_value(m, "mode")?,
        None => Mode::Standard,
    };
    Ok((name, format, mode))
}

/// Loads the seed's packages (versions, tags, files with their content) into a
/// fresh state.
pub(crate) async fn preload_packages(state: &State, seed: &Seed) -> Result<()> {
    let fail = |what: &str, e: gar_core::Error| Error::new(format!("{what}: {}", e.message()));
    for sp in &seed.packages {
        let repo: RepositoryName = sp
            .repository
            .parse()
            .map_err(|e| fail("seed package repository", e))?;
        let format = read(&state.registry)
            .repository(&repo)
            .map(|r| r.format.clone())
            .ok_or_else(|| {
                Error::new(format!(
                    "seed package {}: {} is not a repository of the seed",
                    sp.package, sp.repository
                ))
            })?;
        if format == Format::Docker {
            return Err(Error::new(format!(
                "seed package {}: docker content is seeded with \"images\"",
                sp.package
            )));
        }
        let package =
            PackageId::for_format(&format, &sp.package).map_err(|e| fail("seed package", e))?;
        let now = state.clock.now();
        let mut versions = Vec::new();
        for sv in &sp.versions {
            let id: VersionId = sv
                .version
                .parse()
                .map_err(|e| fail("seed package version", e))?;
            let create_time = match &sv.create_time {
                Some(t) => t
                    .parse::<Timestamp>()
                    .map_err(|e| fail("seed version createTime", e))?,
                None => {
                    let age = Duration::from_secs(sv.age_seconds.unsigned_abs());
                    let moved = if sv.age_seconds >= 0 {
                        now.checked_sub(age)
                    } else {
                        now.checked_add(age)
                    };
                    moved.unwrap_or(now)
                }
            };
            for t in &sv.tags {
                TagId::for_format(&format, t).map_err(|e| fail("seed version tag", e))?;
            }
            let mut files = Vec::new();
            for f in &sv.files {
                let file: FileId = f.name.parse().map_err(|e| fail("seed file", e))?;
                let bytes = Bytes::from(f.content.clone().into_bytes());
                let digest = digest_of(DigestAlgorithm::Sha256, &bytes)
                    .ok_or_else(|| Error::new("hashing failed"))?;
                let size = bytes.len() as u64;
                state
                    .blobs
                    .put(bytes, &digest)
                    .await
                    .map_err(|e| Error::io("cannot store a seed file", e))?;
                files.push((file, digest, size, f.annotations.clone()));
            }
            versions.push((id, create_time, sv, files));
        }
        let mut reg = write(&state.registry);
        let Some(r) = reg.repository_mut(&repo) else {
            continue;
        };
        let key = package.to_string();
        let mut owners = Vec::new();
        {
            let p = r
                .packages
                .entry(key.clone())
                .or_insert_with(|| Package::new(package.clone(), now));
            p.display_name.clone_from(&sp.display_name);
            p.annotations.extend(sp.annotations.clone());
            for (id, create_time, sv, files) in versions {
                p.create_time = p.create_time.min(create_time);
                p.versions.insert(
                    id.to_string(),
                    Version {
                        create_time,
                        update_time: create_time,
                        description: sv.description.clone(),
                        annotations: sv.annotations.clone(),
                        manifest: None,
                    },
                );
                for t in &sv.tags {
                    p.tags.insert(t.clone(), id.to_string());
                }
                owners.push((id.to_string(), create_time, files));
            }
        }
        for (version, create_time, files) in owners {
            let owner = r.version_name(&key, &version);
            for (file, digest, size, annotations) in files {
                r.files.insert(
                    file.to_string(),
                    FileRecord {
                        size,
                        sha256: digest,
                        create_time,
                        update_time: create_time,
                        owner: owner.clone(),
                        annotations,
                    },
                );
            }
        }
    }
    Ok(())
}
