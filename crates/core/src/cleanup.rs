//! Cleanup policies: both JSON shapes, validation, and a local evaluation of what
//! they would delete.
//!
//! A repository's cleanup policies come in two shapes. The REST API (`Repository.cleanupPolicies`)
//! holds a map from policy id to policy, with enum names (`"DELETE"`) and durations in
//! seconds (`"2592000s"`); the gcloud policy file holds a list of policies with
//! `name`, `{"action": {"type": "Delete"}}`, lower-case tag states and durations such
//! as `"30d"`. [`CleanupPolicies`] reads and writes both.
//!
//! [`CleanupPolicies::evaluate`] applies the policies to a repository's versions as
//! Artifact Registry documents them: conditions inside a policy all apply (AND), the
//! prefixes of one list are alternatives (OR), a version is deleted when at least one
//! DELETE policy selects it and no KEEP policy does (KEEP beats DELETE), and
//! `mostRecentVersions` keeps the `keepCount` newest versions of each matching
//! package. It has no I/O: the Artifact Registry client and the emulator both run it.
//!
//! ```
//! use gar_core::cleanup::{CleanupPolicies, VersionInfo, Outcome};
//! use gar_core::protojson::Timestamp;
//!
//! let policies = CleanupPolicies::from_gcloud_json(r#"[
//!   {"name": "delete-old", "action": {"type": "Delete"}, "condition": {"olderThan": "30d"}},
//!   {"name": "keep-release", "action": {"type": "Keep"},
//!    "condition": {"tagState": "tagged", "tagPrefixes": ["release"]}}
//! ]"#).unwrap();
//! let now: Timestamp = "2024-06-01T00:00:00Z".parse().unwrap();
//! let old: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
//! let versions = vec![
//!     VersionInfo::parse("app", "1.0", old, &["release-1.0"]).unwrap(),
//!     VersionInfo::parse("app", "1.1-rc", old, &[]).unwrap(),
//!     VersionInfo::parse("app", "1.2", now, &[]).unwrap(),
//! ];
//! let report = policies.evaluate(&versions, now);
//! let deleted: Vec<&str> = report.deletions().map(|d| d.version.as_str()).collect();
//! assert_eq!(deleted, ["1.1-rc"]);
//! assert!(matches!(report.decisions[0].outcome, Outcome::Keep { .. }));
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::ids::{PackageId, TagId, VersionId};
use crate::protojson::{self, Timestamp};

/// The most policies a repository may have.
pub const MAX_POLICIES: usize = 10;

crate::proto_enum! {
    /// What a policy does with the versions it selects.
    pub enum Action {
        /// Not set (invalid in a policy).
        Unspecified = 0 => "ACTION_UNSPECIFIED",
        /// Delete the selected versions.
        Delete = 1 => "DELETE",
        /// Keep the selected versions, whatever the DELETE policies say.
        Keep = 2 => "KEEP",
    }
}

crate::proto_enum! {
    /// Which versions a condition selects by their tags.
    pub enum TagState {
        /// Not set: tags do not matter (as ANY).
        Unspecified = 0 => "TAG_STATE_UNSPECIFIED",
        /// Versions with at least one tag.
        Tagged = 1 => "TAGGED",
        /// Versions without tags.
        Untagged = 2 => "UNTAGGED",
        /// Every version.
        Any = 3 => "ANY",
    }
}

/// The condition of a policy; every field that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Select by tag state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_state: Option<TagState>,
    /// Select versions with a tag that starts with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_prefixes: Vec<String>,
    /// Select versions whose id starts with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub version_name_prefixes: Vec<String>,
    /// Select versions of packages whose id starts with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_name_prefixes: Vec<String>,
    /// Select versions created at least this long ago.
    #[serde(
        default,
        with = "protojson::option_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub older_than: Option<Duration>,
    /// Select versions created less than this long ago.
    #[serde(
        default,
        with = "protojson::option_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub newer_than: Option<Duration>,
}

/// Keep the newest versions of each package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MostRecentVersions {
    /// Only packages whose id starts with one of these (all packages when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_name_prefixes: Vec<String>,
    /// How many of the newest versions of each package to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_count: Option<i32>,
}

/// One cleanup policy, in the REST shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupPolicy {
    /// The policy id (the key of the repository's map).
    #[serde(default)]
    pub id: String,
    /// DELETE or KEEP.
    #[serde(default = "unspecified_action")]
    pub action: Action,
    /// The condition; exclusive with `most_recent_versions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// Keep the newest versions; exclusive with `condition`, KEEP policies only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub most_recent_versions: Option<MostRecentVersions>,
}

fn unspecified_action() -> Action {
    Action::Unspecified
}

/// A repository's cleanup policies, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupPolicies {
    policies: BTreeMap<String, CleanupPolicy>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// Parses a gcloud duration: `30d`, `12h`, `15m`, `90s`, `2w`, `1.5s`.
fn parse_gcloud_duration(text: &str) -> Result<Duration, Error> {
    let text = text.trim();
    let unit_len = text.chars().last().map_or(0, char::len_utf8);
    let (number, unit) = text.split_at(text.len().saturating_sub(unit_len));
    let seconds_per = match unit {
        "s" | "S" => return protojson::parse_duration(&format!("{number}s")),
        "m" | "M" => 60,
        "h" | "H" => 3600,
        "d" | "D" => 86_400,
        "w" | "W" => 604_800,
        _ => {
            return Err(Error::invalid(
                ErrorKind::InvalidArgument,
                "policy duration",
                text,
                "use a number with a unit s, m, h, d or w, such as 30d",
            ));
        }
    };
    let n: u64 = number.parse().map_err(|_| {
        Error::invalid(
            ErrorKind::InvalidArgument,
            "policy duration",
            text,
            "the amount must be a whole number",
        )
    })?;
    n.checked_mul(seconds_per)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Error::invalid(
                ErrorKind::InvalidArgument,
                "policy duration",
                text,
                "too long",
            )
        })
}

/// Writes a duration the way gcloud files usually do: whole days as `30d`, else seconds.
fn format_gcloud_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 && d.as_secs() > 0 && d.as_secs().is_multiple_of(86_400) {
        format!("{}d", d.as_secs() / 86_400)
    } else {
        protojson::format_duration(d)
    }
}

fn string_list(v: Option<&Value>, field: &str) -> Result<Vec<String>, Error> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("{field} must be a list of strings")))
            })
            .collect(),
        Some(_) => Err(invalid(format!("{field} must be a list of strings"))),
    }
}

fn optional_duration(v: Option<&Value>, field: &str) -> Result<Option<Duration>, Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_gcloud_duration(s).map(Some),
        Some(_) => Err(invalid(format!(
            "{field} must be a duration string such as \"30d\""
        ))),
    }
}

impl CleanupPolicies {
    /// The policies, each under its id.
    pub fn new(policies: impl IntoIterator<Item = CleanupPolicy>) -> Self {
        Self {
            policies: policies.into_iter().map(|p| (p.id.clone(), p)).collect(),
        }
    }

    /// The policies in id order.
    pub fn iter(&self) -> impl Iterator<Item = &CleanupPolicy> {
        self.policies.values()
    }

    /// How many policies there are.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Reads the REST shape: the JSON object `Repository.cleanupPolicies` (id -> policy).
    /// A policy's missing `id` is taken from its key.
    pub fn from_rest_value(value: &Value) -> Result<Self, Error> {
        let map = value.as_object().ok_or_else(|| {
            invalid("cleanupPolicies must be a JSON object from policy id to policy")
        })?;
        let mut policies = BTreeMap::new();
        for (key, v) in map {
            let mut policy: CleanupPolicy = serde_json::from_value(v.clone())
                .map_err(|e| invalid(format!("cleanup policy {key:?} is malformed: {e}")))?;
            if policy.id.is_empty() {
                policy.id = key.clone();
            } else if policy.id != *key {
                return Err(invalid(format!(
                    "cleanup policy {key:?} has the different id {:?} inside",
                    policy.id
                )));
            }
            policies.insert(key.clone(), policy);
        }
        Ok(Self { policies })
    }

    /// The REST shape, as `Repository.cleanupPolicies`.
    pub fn to_rest_value(&self) -> Value {
        let map = self
            .policies
            .iter()
            .map(|(k, p)| (k.clone(), serde_json::to_value(p).unwrap_or(Value::Null)))
            .collect();
        Value::Object(map)
    }

    /// Reads a gcloud policy file (a JSON list of `{name, action: {type}, condition |
    /// mostRecentVersions}`).
    pub fn from_gcloud_json(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| invalid(format!("the policy file is not JSON: {e}")))?;
        let items = value
            .as_array()
            .ok_or_else(|| invalid("a gcloud policy file is a JSON list of policies"))?;
        let mut policies = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let policy = Self::gcloud_policy(item)
                .map_err(|e| invalid(format!("policy {i} of the policy file: {}", e.message())))?;
            if policies.contains_key(&policy.id) {
                return Err(invalid(format!(
                    "the policy name {:?} appears twice",
                    policy.id
                )));
            }
            policies.insert(policy.id.clone(), policy);
        }
        Ok(Self { policies })
    }

    fn gcloud_policy(item: &Value) -> Result<CleanupPolicy, Error> {
        let id = item
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("it has no \"name\""))?
            .to_owned();
        let action_text = item
            .get("action")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("it has no \"action\": {\"type\": \"Delete\" | \"Keep\"}"))?;
        let action = match action_text.to_ascii_lowercase().as_str() {
            "delete" => Action::Delete,
            "keep" => Action::Keep,
            _ => {
                return Err(invalid(format!(
                    "the action type {action_text:?} is neither Delete nor Keep"
                )));
            }
        };
        let condition = match item.get("condition") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let tag_state = match c.get("tagState").and_then(Value::as_str) {
                    None => None,
                    Some(s) => Some(match s.to_ascii_lowercase().as_str() {
                        "tagged" => TagState::Tagged,
                        "untagged" => TagState::Untagged,
                        "any" => TagState::Any,
                        _ => {
                            return Err(invalid(format!(
                                "the tag state {s:?} is not tagged, untagged or any"
                            )));
                        }
                    }),
                };
                Some(Condition {
                    tag_state,
                    tag_prefixes: string_list(c.get("tagPrefixes"), "tagPrefixes")?,
                    version_name_prefixes: string_list(
                        c.get("versionNamePrefixes"),
                        "versionNamePrefixes",
                    )?,
                    package_name_prefixes: string_list(
                        c.get("packageNamePrefixes"),
                        "packageNamePrefixes",
                    )?,
                    older_than: optional_duration(c.get("olderThan"), "olderThan")?,
                    newer_than: optional_duration(c.get("newerThan"), "newerThan")?,
                })
            }
        };
        let most_recent_versions = match item.get("mostRecentVersions") {
            None | Some(Value::Null) => None,
            Some(m) => Some(MostRecentVersions {
                package_name_prefixes: string_list(
                    m.get("packageNamePrefixes"),
                    "packageNamePrefixes",
                )?,
                keep_count: match m.get("keepCount") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_i64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                            .and_then(|n| i32::try_from(n).ok())
                            .ok_or_else(|| invalid("keepCount must be a whole number"))?,
                    ),
                },
            }),
        };
        Ok(CleanupPolicy {
            id,
            action,
            condition,
            most_recent_versions,
        })
    }

    /// The gcloud policy-file shape.
    pub fn to_gcloud_json(&self) -> Value {
        let items = self
            .policies
            .values()
            .map(|p| {
                let mut out = serde_json::Map::new();
                out.insert("name".into(), Value::from(p.id.clone()));
                let action = match p.action {
                    Action::Keep => "Keep",
                    _ => "Delete",
                };
                out.insert("action".into(), serde_json::json!({ "type": action }));
                if let Some(c) = &p.condition {
                    let mut cond = serde_json::Map::new();
                    if let Some(state) = &c.tag_state {
                        let s = match state {
                            TagState::Tagged => "tagged",
                            TagState::Untagged => "untagged",
                            _ => "any",
                        };
                        cond.insert("tagState".into(), Value::from(s));
                    }
                    for (key, list) in [
                        ("tagPrefixes", &c.tag_prefixes),
                        ("versionNamePrefixes", &c.version_name_prefixes),
                        ("packageNamePrefixes", &c.package_name_prefixes),
                    ] {
                        if !list.is_empty() {
                            cond.insert(key.into(), Value::from(list.clone()));
                        }
                    }
                    if let Some(d) = c.older_than {
                        cond.insert("olderThan".into(), Value::from(format_gcloud_duration(d)));
                    }
                    if let Some(d) = c.newer_than {
                        cond.insert("newerThan".into(), Value::from(format_gcloud_duration(d)));
                    }
                    out.insert("condition".into(), Value::Object(cond));
                }
                if let Some(m) = &p.most_recent_versions {
                    let mut mrv = serde_json::Map::new();
                    if !m.package_name_prefixes.is_empty() {
                        mrv.insert(
                            "packageNamePrefixes".into(),
                            Value::from(m.package_name_prefixes.clone()),
                        );
                    }
                    if let Some(k) = m.keep_count {
                        mrv.insert("keepCount".into(), Value::from(k));
                    }
                    out.insert("mostRecentVersions".into(), Value::Object(mrv));
                }
                Value::Object(out)
            })
            .collect();
        Value::Array(items)
    }

    /// Checks the rules Artifact Registry enforces: at most ten policies, an action
    /// on each, exactly one of `condition` and `mostRecentVersions`, the latter on
    /// KEEP policies only with a positive `keepCount`, and no tag prefixes on an
    /// UNTAGGED condition.
    pub fn validate(&self) -> Result<(), Error> {
        if self.policies.len() > MAX_POLICIES {
            return Err(invalid(format!(
                "a repository has at most {MAX_POLICIES} cleanup policies; these are {}",
                self.policies.len()
            )));
        }
        for p in self.policies.values() {
            let bad = |reason: &str| Err(invalid(format!("cleanup policy {:?}: {reason}", p.id)));
            if p.id.is_empty()
                || p.id.len() > 128
                || !p
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return bad("the id must be 1 to 128 letters, digits, '-', '_' or '.'");
            }
            if !matches!(p.action, Action::Delete | Action::Keep) {
                return bad("the action must be DELETE or KEEP");
            }
            match (&p.condition, &p.most_recent_versions) {
                (Some(_), Some(_)) => {
                    return bad("it has both a condition and mostRecentVersions; use one");
                }
                (None, None) => return bad("it needs a condition or mostRecentVersions"),
                (None, Some(m)) => {
                    if p.action != Action::Keep {
                        return bad("mostRecentVersions is allowed on KEEP policies only");
                    }
                    if m.keep_count.is_none_or(|k| k < 1) {
                        return bad("mostRecentVersions needs a keepCount of at least 1");
                    }
                }
                (Some(c), None) => {
                    if c.tag_state == Some(TagState::Untagged) && !c.tag_prefixes.is_empty() {
                        return bad("an UNTAGGED condition cannot have tag prefixes");
                    }
                    if let (Some(older), Some(newer)) = (c.older_than, c.newer_than)
                        && newer <= older
                    {
                        return bad(
                            "newerThan must be longer than olderThan, or nothing can match",
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Decides, for each version, whether the policies delete it, keep it, or leave
    /// it alone, as of `now`. Decisions come in the order of `versions`.
    pub fn evaluate(&self, versions: &[VersionInfo], now: Timestamp) -> CleanupReport {
        // mostRecentVersions: per policy, the versions it keeps.
        let mut kept_by_recency: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for p in self.policies.values() {
            let Some(m) = &p.most_recent_versions else {
                continue;
            };
            let keep = usize::try_from(m.keep_count.unwrap_or(0)).unwrap_or(0);
            let mut by_package: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, v) in versions.iter().enumerate() {
                if prefix_match(&m.package_name_prefixes, v.package.as_str()) {
                    by_package.entry(v.package.as_str()).or_default().push(i);
                }
            }
            for indices in by_package.values_mut() {
                // Newest first; ties broken by version id for a stable answer.
                indices.sort_by(|a, b| {
                    let (va, vb) = (versions.get(*a), versions.get(*b));
                    vb.map(|v| v.create_time)
                        .cmp(&va.map(|v| v.create_time))
                        .then_with(|| va.map(|v| &v.version).cmp(&vb.map(|v| &v.version)))
                });
                for i in indices.iter().take(keep) {
                    kept_by_recency.entry(*i).or_default().push(p.id.clone());
                }
            }
        }

        let decisions = versions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut keep_by = kept_by_recency.remove(&i).unwrap_or_default();
                let mut delete_by = Vec::new();
                for p in self.policies.values() {
                    let Some(c) = &p.condition else { continue };
                    if !condition_matches(c, v, now) {
                        continue;
                    }
                    match p.action {
                        Action::Keep => keep_by.push(p.id.clone()),
                        Action::Delete => delete_by.push(p.id.clone()),
                        _ => {}
                    }
                }
                keep_by.sort();
                keep_by.dedup();
                let outcome = match (keep_by.is_empty(), delete_by.is_empty()) {
                    (true, false) => Outcome::Delete { by: delete_by },
                    (false, _) => Outcome::Keep {
                        by: keep_by,
                        overrides: delete_by,
                    },
                    (true, true) => Outcome::NotSelected,
                };
                VersionDecision {
                    package: v.package.clone(),
                    version: v.version.clone(),
                    outcome,
                }
            })
            .collect();
        CleanupReport {
            evaluated_at: now,
            decisions,
        }
    }
}

/// Serialized in the REST shape (the map of `Repository.cleanupPolicies`).
impl Serialize for CleanupPolicies {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_rest_value().serialize(s)
    }
}

/// Read from the REST shape (the map of `Repository.cleanupPolicies`).
impl<'de> Deserialize<'de> for CleanupPolicies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Self::from_rest_value(&value).map_err(serde::de::Error::custom)
    }
}

fn prefix_match(prefixes: &[String], value: &str) -> bool {
    prefixes.is_empty() || prefixes.iter().any(|p| value.starts_with(p.as_str()))
}

fn condition_matches(c: &Condition, v: &VersionInfo, now: Timestamp) -> bool {
    let tagged = !v.tags.is_empty();
    let state_ok = match c.tag_state {
        Some(TagState::Tagged) => tagged,
        Some(TagState::Untagged) => !tagged,
        _ => true,
    };
    let tags_ok = c.tag_prefixes.is_empty()
        || v.tags.iter().any(|t| {
            c.tag_prefixes
                .iter()
                .any(|p| t.as_str().starts_with(p.as_str()))
        });
    let age = now.duration_since(v.create_time).unwrap_or(Duration::ZERO);
    let older_ok = c.older_than.is_none_or(|d| age >= d);
    let newer_ok = c.newer_than.is_none_or(|d| age < d);
    state_ok
        && tags_ok
        && older_ok
        && newer_ok
        && prefix_match(&c.version_name_prefixes, v.version.as_str())
        && prefix_match(&c.package_name_prefixes, v.package.as_str())
}

/// What the evaluator needs to know of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The package id (`team/app`).
    pub package: PackageId,
    /// The version id (a digest for docker).
    pub version: VersionId,
    /// When the version was created (uploaded).
    pub create_time: Timestamp,
    /// The tags that point at it.
    pub tags: Vec<TagId>,
}

impl VersionInfo {
    /// A version without tags.
    pub fn new(package: PackageId, version: VersionId, create_time: Timestamp) -> Self {
        Self {
            package,
            version,
            create_time,
            tags: Vec::new(),
        }
    }

    /// A version from text ids and tags, each checked.
    pub fn parse(
        package: &str,
        version: &str,
        create_time: Timestamp,
        tags: &[&str],
    ) -> Result<Self, Error> {
        Ok(Self {
            package: package.parse()?,
            version: version.parse()?,
            create_time,
            tags: tags.iter().map(|t| t.parse()).collect::<Result<_, _>>()?,
        })
    }

    /// The same version with these tags.
    pub fn with_tags(mut self, tags: impl IntoIterator<Item = TagId>) -> Self {
        self.tags = tags.into_iter().collect();
        self
    }
}

/// What the policies decide for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Deleted: DELETE policies select it and no KEEP policy does.
    Delete {
        /// The DELETE policies that select it.
        by: Vec<String>,
    },
    /// Kept by KEEP policies (condition or most-recent), perhaps against DELETE ones.
    Keep {
        /// The KEEP policies that keep it.
        by: Vec<String>,
        /// The DELETE policies that would otherwise have deleted it.
        overrides: Vec<String>,
    },
    /// No DELETE policy selects it (and no KEEP policy needs to).
    NotSelected,
}

/// The decision for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDecision {
    /// The package id.
    pub package: PackageId,
    /// The version id.
    pub version: VersionId,
    /// What happens to it.
    pub outcome: Outcome,
}

/// The result of [`CleanupPolicies::evaluate`]: a decision per version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupReport {
    /// The instant ages were measured against.
    pub evaluated_at: Timestamp,
    /// One decision per version, in input order.
    pub decisions: Vec<VersionDecision>,
}

impl CleanupReport {
    /// The versions that would be deleted.
    pub fn deletions(&self) -> impl Iterator<Item = &VersionDecision> {
        self.decisions
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Delete { .. }))
    }

    /// The versions that stay, for whatever reason.
    pub fn kept(&self) -> impl Iterator<Item = &VersionDecision> {
        self.decisions
            .iter()
            .filter(|d| !matches!(d.outcome, Outcome::Delete { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn now() -> Timestamp {
        "2024-06-01T00:00:00Z".parse().unwrap()
    }

    fn days_ago(d: i64) -> Timestamp {
        Timestamp::from_unix(now().unix_seconds() - d * DAY, 0).unwrap()
    }

    /// The scenario table both this module and the Artifact Registry client's end-to-end
    /// tests run (`testdata/cleanup-scenarios.json`).
    const SCENARIOS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/cleanup-scenarios.json"
    ));

    /// One version of the table: package, version, age in days, tags.
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Row {
        package: String,
        version: String,
        age_days: i64,
        tags: Vec<String>,
    }

    /// Which rows a scenario starts from.
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Rows {
        Mixed,
        None,
    }

    /// A gcloud policy file, the rows, and the expected deletions (`package@version`).
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Scenario {
        name: String,
        policies: Value,
        rows: Rows,
        deleted: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        mixed: Vec<Row>,
        scenarios: Vec<Scenario>,
    }

    fn table() -> Table {
        serde_json::from_str(SCENARIOS).unwrap()
    }

    fn versions(rows: &[Row]) -> Vec<VersionInfo> {
        rows.iter()
            .map(|r| {
                let tags: Vec<&str> = r.tags.iter().map(String::as_str).collect();
                VersionInfo::parse(&r.package, &r.version, days_ago(r.age_days), &tags).unwrap()
            })
            .collect()
    }

    fn deleted(policies: &CleanupPolicies, rows: &[Row]) -> Vec<String> {
        policies
            .evaluate(&versions(rows), now())
            .deletions()
            .map(|d| format!("{}@{}", d.package, d.version))
            .collect()
    }

    fn gcloud(text: &str) -> CleanupPolicies {
        let p = CleanupPolicies::from_gcloud_json(text).unwrap();
        p.validate().unwrap();
        p
    }

    #[test]
    fn scenario_table() {
        let table = table();
        assert!(table.scenarios.len() >= 15);
        let mut names = std::collections::BTreeSet::new();
        for s in &table.scenarios {
            let name = &s.name;
            assert!(names.insert(name), "scenario {name:?} twice");
            let policies = CleanupPolicies::from_gcloud_json(&s.policies.to_string())
                .unwrap_or_else(|e| panic!("scenario {name:?}: the policies: {e}"));
            if let Err(e) = policies.validate() {
                panic!("scenario {name:?}: the policies are invalid: {e}");
            }
            let rows: &[Row] = match s.rows {
                Rows::Mixed => &table.mixed,
                Rows::None => &[],
            };
            assert_eq!(deleted(&policies, rows), s.deleted, "scenario {name:?}");
        }
    }

    #[test]
    fn reports_say_why() {
        let p = gcloud(
            r#"[{"name":"d","action":{"type":"Delete"},"condition":{"olderThan":"30d"}},
                {"name":"k","action":{"type":"Keep"},"condition":{"tagPrefixes":["release"]}},
                {"name":"r","action":{"type":"Keep"},"mostRecentVersions":{"keepCount":1}}]"#,
        );
        let mixed = table().mixed;
        let report = p.evaluate(&versions(&mixed), now());
        let by_version = |v: &str| {
            report
                .decisions
                .iter()
                .find(|d| d.version.as_str() == v)
                .map(|d| d.outcome.clone())
                .unwrap()
        };
        assert_eq!(
            by_version("1.0"),
            Outcome::Keep {
                by: vec!["k".into()],
                overrides: vec!["d".into()]
            }
        );
        assert_eq!(
            by_version("1.1"),
            Outcome::Delete {
                by: vec!["d".into()]
            }
        );
        assert_eq!(
            by_version("1.4"),
            Outcome::Keep {
                by: vec!["r".into()],
                overrides: vec![]
            }
        );
        assert_eq!(by_version("1.3"), Outcome::NotSelected);
        assert_eq!(
            report.kept().count() + report.deletions().count(),
            mixed.len()
        );
    }

    #[test]
    fn gcloud_and_rest_shapes_convert() {
        let p = gcloud(
            r#"[{"name":"delete-prerelease","action":{"type":"Delete"},
                 "condition":{"tagState":"tagged","tagPrefixes":["alpha","v0"],"olderThan":"30d"}},
                {"name":"keep-minimum-versions","action":{"type":"Keep"},
                 "mostRecentVersions":{"packageNamePrefixes":["webapp","mobile"],"keepCount":5}}]"#,
        );
        let rest = p.to_rest_value();
        assert_eq!(rest["delete-prerelease"]["action"], "DELETE");
        assert_eq!(
            rest["delete-prerelease"]["condition"]["olderThan"],
            "2592000s"
        );
        assert_eq!(rest["delete-prerelease"]["condition"]["tagState"], "TAGGED");
        assert_eq!(
            rest["keep-minimum-versions"]["mostRecentVersions"]["keepCount"],
            5
        );
        let back = CleanupPolicies::from_rest_value(&rest).unwrap();
        assert_eq!(back, p);
        let via_serde: CleanupPolicies =
            serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(via_serde, p);
        let file = back.to_gcloud_json();
        assert_eq!(
            CleanupPolicies::from_gcloud_json(&file.to_string()).unwrap(),
            p
        );
        assert_eq!(file[0]["condition"]["olderThan"], "30d");

        // REST clients may send enums as numbers and leave the id to the key.
        let numeric = serde_json::json!({"x": {"action": 1, "condition": {"tagState": 2, "newerThan": "3600s"}}});
        let p = CleanupPolicies::from_rest_value(&numeric).unwrap();
        let x = p.iter().next().unwrap();
        assert_eq!((x.id.as_str(), &x.action), ("x", &Action::Delete));
        assert_eq!(
            x.condition.as_ref().unwrap().tag_state,
            Some(TagState::Untagged)
        );
        assert_eq!(p.to_gcloud_json()[0]["condition"]["newerThan"], "3600s");
    }

    #[test]
    fn gcloud_durations() {
        for (text, secs) in [
            ("30d", 30 * DAY),
            ("2w", 14 * DAY),
            ("12h", 43_200),
            ("15m", 900),
            ("90s", 90),
        ] {
            assert_eq!(
                parse_gcloud_duration(text).unwrap(),
                Duration::from_secs(u64::try_from(secs).unwrap())
            );
        }
        for bad in ["", "d", "30", "3.5d", "-1d", "30y"] {
            assert_eq!(
                parse_gcloud_duration(bad).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let cases = [
            (
                r#"[{"name":"a","action":{"type":"Delete"}}]"#,
                "needs a condition",
            ),
            (
                r#"[{"name":"a","action":{"type":"Delete"},"mostRecentVersions":{"keepCount":2}}]"#,
                "KEEP policies only",
            ),
            (
                r#"[{"name":"a","action":{"type":"Keep"},"mostRecentVersions":{}}]"#,
                "keepCount",
            ),
            (
                r#"[{"name":"a","action":{"type":"Keep"},"mostRecentVersions":{"keepCount":1},"condition":{}}]"#,
                "both",
            ),
            (
                r#"[{"name":"a","action":{"type":"Delete"},"condition":{"tagState":"untagged","tagPrefixes":["x"]}}]"#,
                "UNTAGGED",
            ),
            (
                r#"[{"name":"a b","action":{"type":"Delete"},"condition":{}}]"#,
                "id",
            ),
            (
                r#"[{"name":"a","action":{"type":"Delete"},"condition":{"olderThan":"5d","newerThan":"1d"}}]"#,
                "newerThan",
            ),
        ];
        for (text, needle) in cases {
            let err = CleanupPolicies::from_gcloud_json(text)
                .unwrap()
                .validate()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
        let eleven: Vec<String> = (0..11)
            .map(|i| format!(r#"{{"name":"p{i}","action":{{"type":"Delete"}},"condition":{{}}}}"#))
            .collect();
        let err = CleanupPolicies::from_gcloud_json(&format!("[{}]", eleven.join(",")))
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("at most 10"), "{err}");
        for (text, needle) in [
            (r#"{"a":1}"#, "list"),
            (r#"[{"action":{"type":"Delete"}}]"#, "name"),
            (r#"[{"name":"a","action":{"type":"Archive"}}]"#, "Archive"),
            (
                r#"[{"name":"a","action":{"type":"Keep"}},{"name":"a","action":{"type":"Keep"}}]"#,
                "twice",
            ),
            (
                r#"[{"name":"a","action":{"type":"Delete"},"condition":{"tagState":"some"}}]"#,
                "some",
            ),
        ] {
            let err = CleanupPolicies::from_gcloud_json(text).unwrap_err();
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
        let err = CleanupPolicies::from_rest_value(
            &serde_json::json!({"a": {"id": "b", "action": "KEEP"}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("different id"), "{err}");
    }
}
