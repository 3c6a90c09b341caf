//! The seed's `analysis` section: notes and occurrences to start with, the
//! vulnerability rules a pushed image is matched against, and the scan delay.
//!
//! ```json
//! {
//!   "analysis": {
//!     "scanDelaySeconds": 30,
//!     "vulnerabilityRules": [
//!       {"id": "CVE-2023-0286", "package": "openssl", "fixed": "3.0.8", "severity": "HIGH",
//!        "effectiveSeverity": "CRITICAL", "cvssScore": 7.4, "description": "X.400 address type confusion"}
//!     ],
//!     "notes": [{"name": "projects/my-notes/notes/build-policy", "kind": "BUILD"}],
//!     "occurrences": [{"resourceUri": "https://us-docker.pkg.dev/p/r/app@sha256:...",
//!                      "noteName": "projects/goog-vulnz/notes/CVE-2023-0286", "kind": "VULNERABILITY",
//!                      "vulnerability": {"severity": "HIGH", "effectiveSeverity": "HIGH"}}]
//!   }
//! }
//! ```
//!
//! An image's packages come from its config's label [`PACKAGES_LABEL`]
//! (`"openssl=3.0.1, zlib=1.2.11"`) and from SBOMs (SPDX or CycloneDX JSON)
//! attached to it as OCI referrers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The image-config label that lists an image's packages: `name=version` pairs
/// separated by commas or white space.
pub const PACKAGES_LABEL: &str = "gar.emulator.packages";

/// Seconds from a push to the end of its analysis when the seed does not say.
pub const DEFAULT_SCAN_DELAY_SECONDS: u64 = 5;

/// Container Analysis data of a seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedAnalysis {
    /// Seconds (on the emulator's clock) from a push to the end of its analysis:
    /// its DISCOVERY occurrence is PENDING until then, FINISHED_SUCCESS after,
    /// and the vulnerability occurrences appear then
    /// ([`DEFAULT_SCAN_DELAY_SECONDS`] when absent).
    pub scan_delay_seconds: Option<u64>,
    /// Notes: `grafeas.v1.Note` objects in ProtoJSON, each with its full `name`.
    pub notes: Vec<Value>,
    /// Occurrences: `grafeas.v1.Occurrence` objects in ProtoJSON. A missing
    /// `name` is generated in the project of an extra `parent` key
    /// (`projects/{p}`), else of the `pkg.dev` resource URI; a missing `kind` is
    /// implied by the details. Their notes must be declared (in `notes`, or by
    /// a vulnerability rule).
    pub occurrences: Vec<Value>,
    /// What makes a pushed image vulnerable.
    pub vulnerability_rules: Vec<VulnerabilityRule>,
}

/// A vulnerability of one package: every image holding an affected version gets
/// a VULNERABILITY occurrence of the note `projects/goog-vulnz/notes/{id}` when
/// its analysis finishes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VulnerabilityRule {
    /// The vulnerability id, such as `CVE-2023-0286`; also the note id.
    pub id: String,
    /// The package name.
    pub package: String,
    /// The package type (`OS` when absent; `MAVEN`, `GO`, `NPM`, `PYPI`...).
    pub package_type: Option<String>,
    /// The first affected version (every version before `fixed` when absent).
    pub introduced: Option<String>,
    /// The first version with the fix; absent: no fix yet.
    pub fixed: Option<String>,
    /// The severity (`CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `MINIMAL`).
    pub severity: String,
    /// The distribution's severity, when it differs.
    pub effective_severity: Option<String>,
    /// The CVSS v3 base score.
    pub cvss_score: f32,
    /// A one-line description.
    pub description: String,
}

impl SeedAnalysis {
    /// The demo seed's rules: five vulnerabilities of common packages, one per
    /// severity, so that an image labelled
    /// `gar.emulator.packages=openssl=3.0.1,zlib=1.2.11,curl=7.88.0,glibc=2.35,busybox=1.35.0`
    /// gets a report with every severity.
    pub fn demo() -> Self {
        let rule = |id: &str, package: &str, fixed: Option<&str>, severity: &str, score: f32| {
            VulnerabilityRule {
                id: id.into(),
                package: package.into(),
                fixed: fixed.map(str::to_owned),
                severity: severity.into(),
                cvss_score: score,
                description: format!("{package}: demo vulnerability {id}"),
                ..VulnerabilityRule::default()
            }
        };
        Self {
            scan_delay_seconds: None,
            notes: Vec::new(),
            occurrences: Vec::new(),
            vulnerability_rules: vec![
                rule("CVE-2023-0286", "openssl", Some("3.0.8"), "CRITICAL", 9.1),
                rule("CVE-2022-37434", "zlib", Some("1.2.12"), "HIGH", 8.1),
                rule("CVE-2023-38545", "curl", None, "MEDIUM", 5.9),
                rule(
                    "CVE-2023-4911",
                    "glibc",
                    Some("2.35-0ubuntu3.4"),
                    "LOW",
                    3.3,
                ),
                rule("CVE-2022-48174", "busybox", None, "MINIMAL", 1.0),
            ],
        }
    }
}
