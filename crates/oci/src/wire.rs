//! Small pieces of the Distribution protocol: `WWW-Authenticate` challenges, token
//! scopes, `Link` pagination headers, and tag lists with GAR's extension.
//!
//! ```
//! use gar_oci::wire::{Challenge, next_link};
//!
//! let c = Challenge::parse(r#"Bearer realm="https://us-docker.pkg.dev/v2/token",service="us-docker.pkg.dev""#).unwrap();
//! assert_eq!(c.realm(), Some("https://us-docker.pkg.dev/v2/token"));
//! assert_eq!(next_link(r#"</v2/p/r/app/tags/list?n=2&last=b>; rel="next""#).as_deref(),
//!            Some("/v2/p/r/app/tags/list?n=2&last=b"));
//! ```

use std::collections::BTreeMap;

use gar_core::protojson;
use serde::{Deserialize, Serialize};

/// The authentication scheme a registry asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Bearer realm=...,service=...,scope=...`: fetch a token from the realm.
    Bearer {
        /// The parameters, by lower-cased name.
        params: BTreeMap<String, String>,
    },
    /// `Basic realm=...`: send credentials directly.
    Basic {
        /// The realm, if given.
        realm: Option<String>,
    },
}

impl Challenge {
    /// Parses a `WWW-Authenticate` value. Several challenges may be listed; the first
    /// Bearer one wins, else the first Basic one.
    pub fn parse(header: &str) -> Option<Self> {
        let challenges = split_challenges(header);
        let bearer = challenges
            .iter()
            .find(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, params)| Self::Bearer {
                params: params.clone(),
            });
        bearer.or_else(|| {
            challenges
                .iter()
                .find(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
                .map(|(_, params)| Self::Basic {
                    realm: params.get("realm").cloned(),
                })
        })
    }

    /// The token realm (Bearer) or realm (Basic).
    pub fn realm(&self) -> Option<&str> {
        match self {
            Self::Bearer { params } => params.get("realm").map(String::as_str),
            Self::Basic { realm } => realm.as_deref(),
        }
    }

    /// The `service` parameter, absent on some hosts.
    pub fn service(&self) -> Option<&str> {
        match self {
            Self::Bearer { params } => params.get("service").map(String::as_str),
            Self::Basic { .. } => None,
        }
    }

    /// The `scope` the registry asked for, if it said.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Self::Bearer { params } => params.get("scope").map(String::as_str),
            Self::Basic { .. } => None,
        }
    }

    /// The `error` parameter (`insufficient_scope`, `invalid_token`), if any.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Bearer { params } => params.get("error").map(String::as_str),
            Self::Basic { .. } => None,
        }
    }
}

/// Splits a header into `(scheme, params)` pairs, honouring quoted strings (which
/// may contain commas) and backslash escapes.
fn split_challenges(header: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut chars = header.chars().peekable();
    loop {
        // Skip separators.
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        // A token: a scheme, or a parameter name.
        let mut token = String::new();
        while let Some(c) = chars.peek().copied() {
            if c.is_whitespace() || c == '=' || c == ',' {
                break;
            }
            token.push(c);
            chars.next();
        }
        if token.is_empty() {
            if chars.next().is_none() {
                break;
            }
            continue;
        }
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                value.push(escaped);
                            }
                        }
                        '"' => break,
                        other => value.push(other),
                    }
                }
            } else {
                while let Some(c) = chars.peek().copied() {
                    if c == ',' || c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            if let Some((_, params)) = out.last_mut() {
                params.insert(token.to_ascii_lowercase(), value);
            }
        } else {
            out.push((token, BTreeMap::new()));
        }
    }
    out
}

/// The token scope for `repository` and `actions` (`repository:p/r/app:pull,push`).
pub fn scope(repository: &str, actions: &[&str]) -> String {
    format!("repository:{repository}:{}", actions.join(","))
}

/// The target of the `rel="next"` link of a `Link` header, if any.
pub fn next_link(header: &str) -> Option<String> {
    for part in header.split(',') {
        let part = part.trim();
        let Some(rest) = part.strip_prefix('<') else {
            continue;
        };
        let Some((target, params)) = rest.split_once('>') else {
            continue;
        };
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .map(|v| {
                    v.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                })
                .unwrap_or(false)
        });
        if is_next {
            return Some(target.to_owned());
        }
    }
    None
}

/// One manifest of GAR's tag-list extension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagListManifest {
    /// The image's size in bytes.
    #[serde(
        default,
        with = "protojson::option_uint64",
        skip_serializing_if = "Option::is_none"
    )]
    pub image_size_bytes: Option<u64>,
    /// The manifest's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// When it was created, in milliseconds since the epoch.
    #[serde(
        default,
        with = "protojson::option_int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_created_ms: Option<i64>,
    /// When it was uploaded, in milliseconds since the epoch.
    #[serde(
        default,
        with = "protojson::option_int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_uploaded_ms: Option<i64>,
    /// Its tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<String>,
}

/// The answer of `GET /v2/{name}/tags/list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagList {
    /// The repository name.
    #[serde(default)]
    pub name: String,
    /// The tags of this page.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
    /// GAR's extension: every manifest of the image, by digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub manifest: BTreeMap<String, TagListManifest>,
    /// GAR's extension: the child repositories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child: Vec<String>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(c.realm(), Some("https://auth.example/token"));
        assert_eq!(c.service(), Some("registry.example"));
        assert_eq!(c.scope(), Some("repository:a/b:pull,push"));
        assert_eq!(c.error(), Some("insufficient_scope"));
        // No service (reported on some GAR hosts), odd spacing and case.
        let c = Challenge::parse(r#"bearer  realm = "https://r/v2/token""#).unwrap();
        assert_eq!((c.realm(), c.service()), (Some("https://r/v2/token"), None));
        // Several challenges: Bearer preferred.
        let c = Challenge::parse(r#"Basic realm="x", Bearer realm="https://t""#).unwrap();
        assert_eq!(c.realm(), Some("https://t"));
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic {
                realm: Some("Registry Realm".into())
            })
        );
        assert_eq!(
            Challenge::parse(r#"Bearer realm="a\"b""#).unwrap().realm(),
            Some("a\"b")
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
        assert_eq!(Challenge::parse(""), None);
        assert_eq!(
            scope("p/r/app", &["pull", "push"]),
            "repository:p/r/app:pull,push"
        );
    }

    #[test]
    fn links() {
        assert_eq!(
            next_link(r#"<https://h/v2/x/tags/list?last=a&n=1>; rel="next""#).as_deref(),
            Some("https://h/v2/x/tags/list?last=a&n=1")
        );
        assert_eq!(
            next_link(r#"</prev>; rel="prev", </n>; rel=next"#).as_deref(),
            Some("/n")
        );
        assert_eq!(next_link(r#"</a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn gar_tag_list_extension() {
        let list: TagList = serde_json::from_str(
            r#"{"child":[],"manifest":{"sha256:ab":{"imageSizeBytes":"1024","layerId":"","mediaType":"application/vnd.docker.distribution.manifest.v2+json","tag":["latest"],"timeCreatedMs":"0","timeUploadedMs":"1700000000000"}},"name":"p/r/app","tags":["latest"]}"#,
        )
        .unwrap();
        let m = &list.manifest["sha256:ab"];
        assert_eq!(m.image_size_bytes, Some(1024));
        assert_eq!(m.time_uploaded_ms, Some(1_700_000_000_000));
        assert_eq!(m.tag, vec!["latest"]);
        let plain: TagList = serde_json::from_str(r#"{"name":"a","tags":null}"#).unwrap();
        assert!(plain.tags.is_empty());
        let out = serde_json::to_value(&list).unwrap();
        assert_eq!(out["manifest"]["sha256:ab"]["imageSizeBytes"], "1024");
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,200}") {
            let _ = Challenge::parse(&s);
            let _ = next_link(&s);
            let _ = crate::manifest::Manifest::parse(s.as_bytes().to_vec(), None);
            let _ = s.parse::<crate::manifest::Platform>();
        }

        #[test]
        fn quoted_values_round_trip(realm in "[ -~]{0,40}", service in "[a-z.:0-9-]{1,30}") {
            let escaped = realm.replace('\\', "\\\\").replace('"', "\\\"");
            let header = format!("Bearer realm=\"{escaped}\",service=\"{service}\"");
            let c = Challenge::parse(&header).unwrap();
            proptest::prop_assert_eq!(c.realm(), Some(realm.as_str()));
            proptest::prop_assert_eq!(c.service(), Some(service.as_str()));
        }
    }
}
