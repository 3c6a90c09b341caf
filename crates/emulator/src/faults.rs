//! Fault injection: rules that match requests by method, path pattern,
//! operation or location (so one location can be made unavailable) and answer with a status (with an optional `Retry-After`), a
//! delay, a dropped connection, or a truncated or corrupted body; for the first
//! N matches or with a probability drawn from a seeded generator, so a run is
//! repeatable.
//!
//! Rules are set through [`crate::EmulatorBuilder::fault`], the seed's `faults`,
//! or at run time with `POST /_emulator/faults` (a rule or `{"seed": n, "rules": [...]}`).
//!
//! Operations are named `surface.resource.verb`: `oci.ping`, `oci.token`,
//! `oci.tags.list`, `oci.manifest.{get,head,put,delete}`, `oci.blob.{get,head,delete}`,
//! `oci.upload.{start,patch,put,status,cancel}`, `oci.referrers`, `oauth.token`,
//! `metadata.token`, `metadata.get`, `grpc`, `rest`. Patterns use `*` for any run of characters.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::state::lock;

/// One fault rule. Matchers left empty match everything; exactly one effect
/// (`status`, `reset`, `truncateAfter`, `corrupt`) may be set, and `delayMs`
/// may come alone or with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultRule {
    /// Set by the emulator when the rule is added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// HTTP method to match (`GET`), case-insensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// URL path pattern to match (`/v2/*/blobs/*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Operation pattern to match (`oci.blob.get`, `oci.upload.*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Location pattern to match (`europe-west1`, `europe-*`): the location a
    /// request is about, named by its registry host (`X-Forwarded-Host`, else
    /// `Host`: `europe-west1-docker.pkg.dev`) or by the `/locations/{l}/` of its
    /// path. Requests naming no location do not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Answer with this status and an error body of the surface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// With `status`: the `Retry-After` header, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Wait this long before answering (or before the other effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Drop the connection without an answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
    /// Serve the real response but break the connection after this many body bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncate_after: Option<u64>,
    /// Serve the real response with its first body byte flipped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub corrupt: bool,
    /// Fire on the first `times` matching requests only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire with this probability (0 to 1), drawn from the seeded generator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// How many times the rule fired (reported by `GET /_emulator/faults`).
    #[serde(skip_deserializing)]
    pub fired: u64,
}

impl FaultRule {
    /// A rule answering with `status`.
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    /// A rule that waits `ms` milliseconds, then serves the request normally.
    pub fn delay_ms(ms: u64) -> Self {
        Self {
            delay_ms: Some(ms),
            ..Self::default()
        }
    }

    /// A rule that drops the connection.
    pub fn reset() -> Self {
        Self {
            reset: true,
            ..Self::default()
        }
    }

    /// A rule that breaks the response body after `bytes` bytes.
    pub fn truncate_after(bytes: u64) -> Self {
        Self {
            truncate_after: Some(bytes),
            ..Self::default()
        }
    }

    /// A rule that flips the first byte of the response body.
    pub fn corrupt() -> Self {
        Self {
            corrupt: true,
            ..Self::default()
        }
    }

    /// Matches only this operation pattern (a glob over the router's operation names:
    /// `oci.*` operations such as `oci.blob.get`, `oci.token`, `oauth.token`,
    /// `metadata.token`, `rest`, `grpc`, `analysis.rest`).
    pub fn operation(mut self, pattern: &str) -> Self {
        self.operation = Some(pattern.to_owned());
        self
    }

    /// Matches only requests about this location pattern (every surface: the
    /// registry of `{location}-docker.pkg.dev`, REST paths under
    /// `/locations/{location}/`), so one location can be made unavailable.
    pub fn location(mut self, pattern: &str) -> Self {
        self.location = Some(pattern.to_owned());
        self
    }

    /// Matches only this method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Matches only this path pattern.
    pub fn path(mut self, pattern: &str) -> Self {
        self.path = Some(pattern.to_owned());
        self
    }

    /// Adds a `Retry-After` (seconds) to a status rule.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Fires on the first `n` matches only.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Fires with probability `p`.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// Checks that the rule is coherent.
    pub fn validate(&self) -> Result<(), String> {
        let effects = [
            self.status.is_some(),
            self.reset,
            self.truncate_after.is_some(),
            self.corrupt,
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if effects > 1 {
            return Err(
                "a fault rule has at most one of status, reset, truncateAfter, corrupt".into(),
            );
        }
        if effects == 0 && self.delay_ms.is_none() {
            return Err(
                "a fault rule needs an effect: status, delayMs, reset, truncateAfter or corrupt"
                    .into(),
            );
        }
        if let Some(s) = self.status
            && !(100..=599).contains(&s)
        {
            return Err(format!("status {s} is not an HTTP status"));
        }
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("probability {p} is not between 0 and 1"));
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str, operation: &str, location: Option<&str>) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| glob(p, path))
            && self.operation.as_deref().is_none_or(|p| glob(p, operation))
            && self
                .location
                .as_deref()
                .is_none_or(|p| location.is_some_and(|l| glob(p, l)))
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
                None => return false,
            }
        }
    }
    true
}

/// What a fired rule does to one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// The rule's id.
    pub rule: String,
    /// Wait first.
    pub delay_ms: Option<u64>,
    /// Then this.
    pub effect: Option<Effect>,
}

/// The effect of a fired rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Answer with a status.
    Status {
        /// The status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Drop the connection.
    Reset,
    /// Break the body after N bytes.
    Truncate(u64),
    /// Flip the first body byte.
    Corrupt,
}

/// SplitMix64: a tiny, well-distributed, seedable generator.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug)]
struct Inner {
    rules: Vec<FaultRule>,
    rng: SplitMix64,
    next_id: u64,
}

/// The fault rules in force.
#[derive(Debug)]
pub(crate) struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    /// No rules, generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                rng: SplitMix64(seed),
                next_id: 1,
            }),
        }
    }

    /// Adds a rule; returns its id.
    pub(crate) fn add(&self, mut rule: FaultRule) -> Result<String, String> {
        rule.validate()?;
        let mut inner = lock(&self.inner);
        let id = match &rule.id {
            Some(id) if !inner.rules.iter().any(|r| r.id.as_deref() == Some(id)) => id.clone(),
            _ => {
                let id = format!("fault-{}", inner.next_id);
                inner.next_id += 1;
                id
            }
        };
        rule.id = Some(id.clone());
        rule.fired = 0;
        inner.rules.push(rule);
        Ok(id)
    }

    /// Reseeds the generator.
    pub(crate) fn reseed(&self, seed: u64) {
        lock(&self.inner).rng = SplitMix64(seed);
    }

    /// Removes every rule.
    pub(crate) fn clear(&self) {
        lock(&self.inner).rules.clear();
    }

    /// Removes one rule; whether it existed.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let mut inner = lock(&self.inner);
        let before = inner.rules.len();
        inner.rules.retain(|r| r.id.as_deref() != Some(id));
        inner.rules.len() != before
    }

    /// The rules, with their counters.
    pub(crate) fn list(&self) -> Vec<FaultRule> {
        lock(&self.inner).rules.clone()
    }

    /// The first rule that fires for this request, if any.
    pub(crate) fn decide(
        &self,
        method: &str,
        path: &str,
        operation: &str,
        location: Option<&str>,
    ) -> Option<Decision> {
        let mut inner = lock(&self.inner);
        let Inner { rules, rng, .. } = &mut *inner;
        for rule in rules.iter_mut() {
            if !rule.matches(method, path, operation, location) {
                continue;
            }
            if rule.times.is_some_and(|n| rule.fired >= n) {
                continue;
            }
            if let Some(p) = rule.probability
                && rng.next_f64() >= p
            {
                continue;
            }
            rule.fired += 1;
            let effect = if let Some(status) = rule.status {
                Some(Effect::Status {
                    status,
                    retry_after: rule.retry_after,
                })
            } else if rule.reset {
                Some(Effect::Reset)
            } else if let Some(n) = rule.truncate_after {
                Some(Effect::Truncate(n))
            } else if rule.corrupt {
                Some(Effect::Corrupt)
            } else {
                None
            };
            return Some(Decision {
                rule: rule.id.clone().unwrap_or_default(),
                delay_ms: rule.delay_ms,
                effect,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches() {
        assert!(glob("/v2/*/blobs/*", "/v2/p/r/img/blobs/sha256:ab"));
        assert!(glob("oci.upload.*", "oci.upload.patch"));
        assert!(!glob("oci.upload.*", "oci.blob.get"));
        assert!(glob("*", ""));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
    }

    #[test]
    fn times_limits_and_probability_is_seeded() {
        let f = Faults::new(7);
        f.add(FaultRule::status(503).operation("oci.blob.get").times(2))
            .unwrap();
        assert!(f.decide("GET", "/x", "oci.blob.get", None).is_some());
        assert!(f.decide("GET", "/x", "oci.manifest.get", None).is_none());
        assert!(f.decide("GET", "/x", "oci.blob.get", None).is_some());
        assert!(f.decide("GET", "/x", "oci.blob.get", None).is_none());

        let run = |seed| {
            let f = Faults::new(seed);
            f.add(FaultRule::status(500).probability(0.5)).unwrap();
            (0..64)
                .map(|_| f.decide("GET", "/", "x", None).is_some())
                .collect::<Vec<_>>()
        };
        let a = run(42);
        assert_eq!(a, run(42));
        assert_ne!(a, run(43));
        let fired = a.iter().filter(|b| **b).count();
        assert!((16..=48).contains(&fired), "fired {fired} of 64");
    }

    #[test]
    fn location_matches_only_requests_naming_it() {
        let f = Faults::new(1);
        f.add(FaultRule::status(503).location("europe-*")).unwrap();
        assert!(f.decide("GET", "/v2/", "oci.ping", None).is_none());
        assert!(
            f.decide("GET", "/v2/", "oci.ping", Some("us-central1"))
                .is_none()
        );
        assert!(
            f.decide("GET", "/v2/", "oci.ping", Some("europe-west1"))
                .is_some()
        );
        let json = serde_json::to_value(FaultRule::status(503).location("asia-east1")).unwrap();
        assert_eq!(json["location"], "asia-east1");
    }

    #[test]
    fn validation() {
        assert!(FaultRule::default().validate().is_err());
        let mut r = FaultRule::status(503);
        r.reset = true;
        assert!(r.validate().is_err());
        assert!(FaultRule::status(1000).validate().is_err());
        assert!(FaultRule::status(503).probability(2.0).validate().is_err());
        assert!(FaultRule::delay_ms(5).validate().is_ok());
    }
}
