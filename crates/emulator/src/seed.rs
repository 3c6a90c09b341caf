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
//!   "faults": {"seed": 42, "rules": [{"operation": "oci.blob.get", "status": 503, "times": 1}]}
//! }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use gar_core::format::{Format, Mode};
use gar_core::names::RepositoryName;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::FaultRule;
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
    /// Fault rules in force from the start.
    pub faults: Option<SeedFaults>,
    /// Let anonymous callers pull.
    pub allow_anonymous_read: bool,
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
    /// server's identity), a reader `viewer@example.com` and the image
    /// `docker/hello:latest`.
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
            faults: None,
            allow_anonymous_read: false,
        }
    }
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
