//! Identity and authorization: principals (users, service accounts), their
//! keys, refresh tokens and static tokens from the seed; access tokens issued at
//! run time; Docker registry tokens with repository scopes; role bindings per
//! project or repository.
//!
//! Roles follow Artifact Registry's predefined roles: `reader` (pull, list),
//! `writer` (+ push, tag), `repoAdmin` (+ delete), `admin` (+ repository
//! management). A binding on `projects/{p}` covers every repository of the project.

pub(crate) mod endpoints;
pub(crate) mod keys;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gar_core::names::RepositoryName;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use serde_json::Value;

use crate::blobs::random_hex;
use crate::state::{lock, read};
use keys::RsaKey;

/// Lifetime of issued access and registry tokens, in seconds.
pub(crate) const TOKEN_LIFETIME: i64 = 3600;

/// An authenticated identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Principal {
    /// `user:{email}`.
    User(String),
    /// `serviceAccount:{email}`.
    ServiceAccount(String),
}

impl Principal {
    /// Parses `user:x` or `serviceAccount:x`.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if let Some(e) = s.strip_prefix("user:") {
            return Some(Self::User(e.to_owned()));
        }
        s.strip_prefix("serviceAccount:")
            .map(|e| Self::ServiceAccount(e.to_owned()))
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(e) => write!(f, "user:{e}"),
            Self::ServiceAccount(e) => write!(f, "serviceAccount:{e}"),
        }
    }
}

/// Who a binding grants a role to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    /// One principal.
    One(Principal),
    /// Anyone, also anonymous callers.
    AllUsers,
    /// Any authenticated caller.
    AllAuthenticatedUsers,
}

impl Member {
    /// Parses a member string.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "allUsers" => Some(Self::AllUsers),
            "allAuthenticatedUsers" => Some(Self::AllAuthenticatedUsers),
            other => Principal::parse(other).map(Self::One),
        }
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Permission {
    /// Pull, get, list.
    Read,
    /// Push, tag.
    Write,
    /// Delete versions, tags, manifests.
    Delete,
    /// Manage repositories.
    Admin,
}

/// A predefined role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `roles/artifactregistry.reader`.
    Reader,
    /// `roles/artifactregistry.writer`.
    Writer,
    /// `roles/artifactregistry.repoAdmin`.
    RepoAdmin,
    /// `roles/artifactregistry.admin`.
    Admin,
}

impl Role {
    /// Parses a short (`writer`) or full (`roles/artifactregistry.writer`) role name.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let short = s.strip_prefix("roles/artifactregistry.").unwrap_or(s);
        match short {
            "reader" => Some(Self::Reader),
            "writer" => Some(Self::Writer),
            "repoAdmin" => Some(Self::RepoAdmin),
            "admin" | "roles/owner" | "owner" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Whether the role carries `p`.
    pub(crate) fn grants(self, p: Permission) -> bool {
        let level = match self {
            Self::Reader => Permission::Read,
            Self::Writer => Permission::Write,
            Self::RepoAdmin => Permission::Delete,
            Self::Admin => Permission::Admin,
        };
        p <= level
    }
}

/// A role granted on a resource (`projects/p` or a repository name).
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// Who.
    pub member: Member,
    /// What.
    pub role: Role,
    /// Where.
    pub resource: String,
}

/// A service account and its public keys.
#[derive(Debug, Clone)]
pub(crate) struct ServiceAccount {
    /// Public keys by id (`None` when the seed gave none).
    pub keys: Vec<(Option<String>, RsaKey)>,
}

/// A user with refresh tokens (the `authorized_user` credential).
#[derive(Debug, Clone, Default)]
pub(crate) struct User {
    /// Refresh tokens that trade for access tokens.
    pub refresh_tokens: Vec<String>,
    /// The OAuth client id the refresh token belongs to, if checked.
    pub client_id: Option<String>,
    /// The client secret, if checked.
    pub client_secret: Option<String>,
}

/// The identity the metadata server hands out.
#[derive(Debug, Clone)]
pub(crate) struct MetadataIdentity {
    /// Its service account email.
    pub service_account: String,
    /// The project the "instance" runs in.
    pub project_id: String,
    /// The project number.
    pub project_number: String,
    /// OAuth scopes it reports.
    pub scopes: Vec<String>,
}

/// What the seed declares.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    /// Service accounts by email.
    pub service_accounts: BTreeMap<String, ServiceAccount>,
    /// Users by email.
    pub users: BTreeMap<String, User>,
    /// Static access tokens.
    pub static_tokens: HashMap<String, Principal>,
    /// Role bindings.
    pub bindings: Vec<Binding>,
    /// The metadata server's identity.
    pub metadata: Option<MetadataIdentity>,
    /// Everyone may read everything (`--allow-anonymous-read`).
    pub anonymous_read: bool,
}

#[derive(Debug, Clone)]
struct Issued {
    principal: Principal,
    expires: i64,
}

/// Access a registry token carries: repository path -> actions.
pub(crate) type Access = Vec<(String, Vec<String>)>;

#[derive(Debug, Clone)]
struct RegistryGrant {
    principal: Option<Principal>,
    access: Access,
    expires: i64,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Caller {
    /// No credentials.
    Anonymous,
    /// A registry token without a principal (anonymous `/v2/token`).
    AnonymousToken(Access),
    /// An authenticated principal; `scope` limits a registry token's reach.
    Principal {
        /// Who.
        principal: Principal,
        /// Registry-token access, if the credential was one.
        scope: Option<Access>,
    },
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// Unknown, malformed or wrong.
    Invalid(String),
    /// Known but expired.
    Expired,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(m) => f.write_str(m),
            Self::Expired => f.write_str("the access token has expired"),
        }
    }
}

/// Principals, tokens and bindings.
#[derive(Debug, Default)]
pub(crate) struct Identity {
    dir: RwLock<Directory>,
    tokens: Mutex<HashMap<String, Issued>>,
    registry_tokens: Mutex<HashMap<String, RegistryGrant>>,
}

/// Usernames under which Basic auth carries an OAuth access token as password.
fn is_token_user(user: &str) -> bool {
    matches!(user, "oauth2accesstoken" | "_token" | "_dcgcloud_token") || user.starts_with("_dcgcr")
}

impl Identity {
    /// An identity over `dir`.
    pub(crate) fn new(dir: Directory) -> Self {
        Self {
            dir: RwLock::new(dir),
            ..Self::default()
        }
    }

    /// The directory, to read.
    pub(crate) fn directory(&self) -> std::sync::RwLockReadGuard<'_, Directory> {
        read(&self.dir)
    }

    /// Issues an access token for `principal`; returns it and its lifetime.
    pub(crate) fn issue(&self, principal: Principal, now: i64) -> (String, i64) {
        let token = format!("ya29.emu-{}", random_hex(24));
        let mut tokens = lock(&self.tokens);
        if tokens.len() > 50_000 {
            tokens.retain(|_, t| t.expires > now);
        }
        tokens.insert(
            token.clone(),
            Issued {
                principal,
                expires: now + TOKEN_LIFETIME,
            },
        );
        (token, TOKEN_LIFETIME)
    }

    /// Issues a registry token carrying `access`.
    pub(crate) fn issue_registry(
        &self,
        principal: Option<Principal>,
        access: Access,
        now: i64,
    ) -> String {
        let token = format!("emu-registry.{}", random_hex(24));
        let mut tokens = lock(&self.registry_tokens);
        if tokens.len() > 50_000 {
            tokens.retain(|_, t| t.expires > now);
        }
        tokens.insert(
            token.clone(),
            RegistryGrant {
                principal,
                access,
                expires: now + TOKEN_LIFETIME,
            },
        );
        token
    }

    /// The principal an OAuth access token (issued or static) stands for.
    pub(crate) fn access_token(&self, token: &str, now: i64) -> Result<Principal, AuthError> {
        if let Some(p) = self.directory().static_tokens.get(token) {
            return Ok(p.clone());
        }
        let issued = lock(&self.tokens).get(token).cloned();
        match issued {
            Some(t) if t.expires > now => Ok(t.principal.clone()),
            Some(_) => Err(AuthError::Expired),
            None if token.matches('.').count() == 2 => self.self_signed_jwt(token, now),
            None => Err(AuthError::Invalid(
                "the access token is not valid (unknown to this emulator)".into(),
            )),
        }
    }

    /// A self-signed JWT used directly as a bearer token, as Google's client
    /// libraries do for service accounts: `iss` a known account, RS256 by one of
    /// its keys, unexpired, living at most an hour.
    fn self_signed_jwt(&self, token: &str, now: i64) -> Result<Principal, AuthError> {
        let bad = |m: &str| AuthError::Invalid(format!("the self-signed JWT is not valid: {m}"));
        let jwt = keys::Jwt::parse(token).map_err(|_| bad("malformed"))?;
        let iss = jwt.claim("iss").ok_or_else(|| bad("no iss"))?.to_owned();
        let keys: Vec<RsaKey> = {
            let dir = self.directory();
            let sa = dir
                .service_accounts
                .get(&iss)
                .ok_or_else(|| bad(&format!("unknown service account {iss}")))?;
            sa.keys
                .iter()
                .filter(|(id, _)| match (jwt.kid(), id) {
                    (Some(kid), Some(id)) => kid == id,
                    _ => true,
                })
                .map(|(_, k)| k.clone())
                .collect()
        };
        jwt.verify(&keys).map_err(|_| bad("signature"))?;
        let (Some(iat), Some(exp)) = (jwt.number("iat"), jwt.number("exp")) else {
            return Err(bad("iat and exp are required"));
        };
        if exp - iat > TOKEN_LIFETIME + 300 {
            return Err(bad("it lives more than an hour"));
        }
        if exp <= now {
            return Err(AuthError::Expired);
        }
        Ok(Principal::ServiceAccount(iss))
    }

    /// The service account a `_json_key` credential (a key file) stands for, if
    /// its private key belongs to the account.
    pub(crate) fn json_key(&self, json: &str) -> Result<Principal, AuthError> {
        let bad = |m: &str| AuthError::Invalid(format!("the JSON key is not valid: {m}"));
        let key: Value = serde_json::from_str(json).map_err(|_| bad("not JSON"))?;
        let email = key
            .get("client_email")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no client_email"))?;
        let pem = key
            .get("private_key")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no private_key"))?;
        let public = keys::public_of_private_pem(pem)
            .ok_or_else(|| bad("private_key is not an RSA PKCS#8 key"))?;
        let dir = self.directory();
        let sa = dir
            .service_accounts
            .get(email)
            .ok_or_else(|| bad(&format!("service account {email} does not exist")))?;
        if sa.keys.iter().any(|(_, k)| *k == public) {
            Ok(Principal::ServiceAccount(email.to_owned()))
        } else {
            Err(bad(&format!("the key is not a key of {email}")))
        }
    }

    /// Authenticates the `Authorization` header of a request.
    pub(crate) fn authenticate(&self, headers: &HeaderMap, now: i64) -> Result<Caller, AuthError> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let value = value
            .to_str()
            .map_err(|_| AuthError::Invalid("the Authorization header is not text".into()))?;
        let (scheme, cred) = value.split_once(' ').unwrap_or((value, ""));
        let cred = cred.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            if let Some(grant) = lock(&self.registry_tokens).get(cred).cloned() {
                if grant.expires <= now {
                    return Err(AuthError::Expired);
                }
                return Ok(match grant.principal {
                    Some(principal) => Caller::Principal {
                        principal,
                        scope: Some(grant.access),
                    },
                    None => Caller::AnonymousToken(grant.access),
                });
            }
            return self
                .access_token(cred, now)
                .map(|principal| Caller::Principal {
                    principal,
                    scope: None,
                });
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = STANDARD
                .decode(cred)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| AuthError::Invalid("the Basic credentials are not base64".into()))?;
            let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
            let principal = if is_token_user(user) {
                self.access_token(pass, now)?
            } else if user == "_json_key" {
                self.json_key(pass)?
            } else if user == "_json_key_base64" {
                let json = STANDARD
                    .decode(pass.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| AuthError::Invalid("_json_key_base64 is not base64".into()))?;
                self.json_key(&json)?
            } else {
                return Err(AuthError::Invalid(format!(
                    "unsupported username {user:?}; use oauth2accesstoken, _json_key or _json_key_base64"
                )));
            };
            return Ok(Caller::Principal {
                principal,
                scope: None,
            });
        }
        Err(AuthError::Invalid(format!(
            "unsupported authorization scheme {scheme:?}"
        )))
    }

    /// Whether `caller` (IAM alone, not token scopes) holds `perm` on `repo`.
    pub(crate) fn allowed(
        &self,
        caller: Option<&Principal>,
        repo: &RepositoryName,
        perm: Permission,
    ) -> bool {
        let dir = self.directory();
        if perm == Permission::Read && dir.anonymous_read {
            return true;
        }
        let project = format!("projects/{}", repo.project());
        let repo_name = repo.to_string();
        dir.bindings.iter().any(|b| {
            let member_ok = match &b.member {
                Member::AllUsers => true,
                Member::AllAuthenticatedUsers => caller.is_some(),
                Member::One(p) => caller == Some(p),
            };
            member_ok && (b.resource == project || b.resource == repo_name) && b.role.grants(perm)
        })
    }

    /// Whether `caller` holds `perm` on the project `project` (its id) itself, as
    /// project-level calls (listing repositories, creating one, reading
    /// operations) need; repository bindings do not count.
    pub(crate) fn allowed_project(
        &self,
        caller: Option<&Principal>,
        project: &str,
        perm: Permission,
    ) -> bool {
        let dir = self.directory();
        if perm == Permission::Read && dir.anonymous_read {
            return true;
        }
        let resource = format!("projects/{project}");
        dir.bindings.iter().any(|b| {
            let member_ok = match &b.member {
                Member::AllUsers => true,
                Member::AllAuthenticatedUsers => caller.is_some(),
                Member::One(p) => caller == Some(p),
            };
            member_ok && b.resource == resource && b.role.grants(perm)
        })
    }

    /// Whether the directory knows `principal` (for tokens minted by the admin surface).
    pub(crate) fn knows(&self, principal: &Principal) -> bool {
        let dir = self.directory();
        match principal {
            Principal::User(e) => {
                dir.users.contains_key(e)
                    || dir.static_tokens.values().any(|p| p == principal)
                    || dir
                        .bindings
                        .iter()
                        .any(|b| b.member == Member::One(principal.clone()))
            }
            Principal::ServiceAccount(e) => dir.service_accounts.contains_key(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest() {
        assert!(Role::Reader.grants(Permission::Read));
        assert!(!Role::Reader.grants(Permission::Write));
        assert!(Role::Writer.grants(Permission::Write));
        assert!(!Role::Writer.grants(Permission::Delete));
        assert!(Role::RepoAdmin.grants(Permission::Delete));
        assert!(!Role::RepoAdmin.grants(Permission::Admin));
        assert!(Role::Admin.grants(Permission::Admin));
        assert_eq!(
            Role::parse("roles/artifactregistry.repoAdmin"),
            Some(Role::RepoAdmin)
        );
        assert_eq!(Role::parse("viewer"), None);
        assert_eq!(
            Member::parse("serviceAccount:a@b"),
            Some(Member::One(Principal::ServiceAccount("a@b".into())))
        );
        assert_eq!(Member::parse("group:x"), None);
    }
}
