//! A vulnerability report of one image, built from its occurrences.
//!
//! [`VulnerabilityReport::from_occurrences`] reads the occurrences Container Analysis
//! holds for an image (vulnerability, discovery and SBOM-reference kinds; others are
//! ignored) and gives: counts by effective severity with how many are fixable, one
//! [`Finding`] per vulnerability with its packages, installed and fixed versions and
//! CVSS score, the scan status from the DISCOVERY occurrence, and the SBOM references.
//!
//! ```
//! use gar_containeranalysis::report::{Severity, VulnerabilityReport};
//! use gar_proto::grafeas::v1::{occurrence::Details, NoteKind, Occurrence, VulnerabilityOccurrence};
//!
//! let occ = Occurrence {
//!     note_name: "projects/goog-vulnz/notes/CVE-2024-0001".into(),
//!     kind: NoteKind::Vulnerability as i32,
//!     details: Some(Details::Vulnerability(VulnerabilityOccurrence {
//!         effective_severity: 4, fix_available: true, ..Default::default()
//!     })),
//!     ..Default::default()
//! };
//! let report = VulnerabilityReport::from_occurrences("https://us-docker.pkg.dev/p/r/app@sha256:00", &[occ]);
//! assert_eq!(report.count(Severity::High).total, 1);
//! assert_eq!(report.count(Severity::High).fixable, 1);
//! assert_eq!(report.findings[0].cve, "CVE-2024-0001");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use gar_core::protojson::Timestamp;
use gar_proto::google::devtools::containeranalysis::v1::VulnerabilityOccurrencesSummary;
use gar_proto::grafeas::v1::discovery_occurrence::AnalysisStatus;
use gar_proto::grafeas::v1::occurrence::Details;
use gar_proto::grafeas::v1::version::VersionKind;
use gar_proto::grafeas::v1::{Occurrence, Version};
use serde::Serialize;

/// How serious a vulnerability is, least serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Not stated.
    Unspecified,
    /// Minimal.
    Minimal,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The severities that are counted, most serious first.
    pub const RANKED: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Minimal,
    ];

    /// The severity with the `grafeas.v1.Severity` number `n`.
    pub fn from_proto(n: i32) -> Self {
        match n {
            1 => Self::Minimal,
            2 => Self::Low,
            3 => Self::Medium,
            4 => Self::High,
            5 => Self::Critical,
            _ => Self::Unspecified,
        }
    }

    /// The API's name (`"CRITICAL"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "SEVERITY_UNSPECIFIED",
            Self::Minimal => "MINIMAL",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many vulnerabilities, and how many of them have a fix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// All of them.
    pub total: u64,
    /// Those with a fix available.
    pub fixable: u64,
}

/// One package a vulnerability affects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AffectedPackage {
    /// The package name (`openssl`).
    pub name: String,
    /// The package type (`OS`, `MAVEN`, `GO`, ...).
    pub package_type: String,
    /// The installed version.
    pub installed_version: Option<String>,
    /// The first version with the fix; `None` when there is none yet.
    pub fixed_version: Option<String>,
    /// Whether a fix is available for this package.
    pub fix_available: bool,
    /// The severity for this package (distro or language ecosystem's, else the note's).
    pub effective_severity: Severity,
}

/// One vulnerability found in the image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The vulnerability id (`CVE-2024-0001`), the last part of the note name.
    pub cve: String,
    /// The note (`projects/goog-vulnz/notes/CVE-2024-0001`).
    pub note_name: String,
    /// The occurrence's own name.
    pub occurrence_name: String,
    /// The effective severity (the note provider's when the distro gives none).
    pub severity: Severity,
    /// The CVSS base score, if known.
    pub cvss_score: Option<f32>,
    /// Whether at least one affected package has a fix.
    pub fix_available: bool,
    /// The affected packages.
    pub packages: Vec<AffectedPackage>,
    /// A one-line description.
    pub short_description: String,
}

/// Where the analysis of an image stands.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanStatus {
    /// Known, not started.
    Pending,
    /// Being analysed.
    Scanning,
    /// Finished: the findings are complete (`FINISHED_SUCCESS`, alias `COMPLETE`).
    Finished,
    /// The analysis failed.
    Failed,
    /// The image is of a kind that cannot be analysed.
    Unsupported,
    /// The status is not stated.
    Unknown,
}

impl ScanStatus {
    /// The status with the `AnalysisStatus` number `n`.
    pub fn from_proto(n: i32) -> Self {
        match AnalysisStatus::try_from(n) {
            Ok(AnalysisStatus::Pending) => Self::Pending,
            Ok(AnalysisStatus::Scanning) => Self::Scanning,
            Ok(AnalysisStatus::FinishedSuccess) => Self::Finished,
            Ok(AnalysisStatus::FinishedFailed) => Self::Failed,
            Ok(AnalysisStatus::FinishedUnsupported) => Self::Unsupported,
            _ => Self::Unknown,
        }
    }

    /// Whether the analysis has ended, one way or another.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Failed | Self::Unsupported)
    }
}

/// The scan status and when the image was last scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scan {
    /// Where the analysis stands.
    pub status: ScanStatus,
    /// When the image was last scanned.
    pub last_scan_time: Option<Timestamp>,
}

/// A reference to an SBOM of the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SbomReference {
    /// Where the SBOM is (`gs://...`).
    pub location: String,
    /// Its media type.
    pub mime_type: String,
    /// Its digests, by algorithm.
    pub digest: BTreeMap<String, String>,
}

/// The vulnerability report of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnerabilityReport {
    /// The image (`https://{location}-docker.pkg.dev/...@sha256:...`).
    pub resource_uri: String,
    /// The analysis status, if a DISCOVERY occurrence exists.
    pub scan: Option<Scan>,
    /// Counts by severity (each of [`Severity::RANKED`] present, zero included).
    pub counts: BTreeMap<Severity, Count>,
    /// The findings, most serious first, then by id.
    pub findings: Vec<Finding>,
    /// SBOM references.
    pub sbom_references: Vec<SbomReference>,
}

/// A grafeas version as text: `epoch:name-revision` (or its full name); `None` for
/// the MINIMUM/MAXIMUM sentinels and empty versions.
pub fn version_text(v: &Version) -> Option<String> {
    if v.kind == VersionKind::Maximum as i32 || v.kind == VersionKind::Minimum as i32 {
        return None;
    }
    if !v.full_name.is_empty() {
        return Some(v.full_name.clone());
    }
    if v.name.is_empty() {
        return None;
    }
    let mut s = String::new();
    if v.epoch != 0 {
        s.push_str(&format!("{}:", v.epoch));
    }
    s.push_str(&v.name);
    if !v.revision.is_empty() {
        s.push('-');
        s.push_str(&v.revision);
    }
    Some(s)
}

impl VulnerabilityReport {
    /// The report of `resource_uri` from its occurrences (occurrences of other
    /// resources are ignored, so a whole project's listing can be passed).
    pub fn from_occurrences(resource_uri: &str, occurrences: &[Occurrence]) -> Self {
        let mut counts: BTreeMap<Severity, Count> = Severity::RANKED
            .iter()
            .map(|s| (*s, Count::default()))
            .collect();
        let mut findings = Vec::new();
        let mut scan: Option<(Option<gar_proto::wkt::Timestamp>, Scan)> = None;
        let mut sbom_references = Vec::new();
        for occ in occurrences
            .iter()
            .filter(|o| o.resource_uri.is_empty() || o.resource_uri == resource_uri)
        {
            match &occ.details {
                Some(Details::Vulnerability(v)) => {
                    let severity = match Severity::from_proto(v.effective_severity) {
                        Severity::Unspecified => Severity::from_proto(v.severity),
                        s => s,
                    };
                    let packages: Vec<AffectedPackage> = v
                        .package_issue
                        .iter()
                        .map(|p| AffectedPackage {
                            name: p.affected_package.clone(),
                            package_type: p.package_type.clone(),
                            installed_version: p.affected_version.as_ref().and_then(version_text),
                            fixed_version: p.fixed_version.as_ref().and_then(version_text),
                            fix_available: p.fix_available,
                            effective_severity: match Severity::from_proto(p.effective_severity) {
                                Severity::Unspecified => severity,
                                s => s,
                            },
                        })
                        .collect();
                    let fix_available = v.fix_available || packages.iter().any(|p| p.fix_available);
                    let entry = counts.entry(severity).or_default();
                    entry.total += 1;
                    if fix_available {
                        entry.fixable += 1;
                    }
                    let cve = occ
                        .note_name
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    findings.push(Finding {
                        cve,
                        note_name: occ.note_name.clone(),
                        occurrence_name: occ.name.clone(),
                        severity,
                        cvss_score: (v.cvss_score > 0.0).then_some(v.cvss_score),
                        fix_available,
                        packages,
                        short_description: v.short_description.clone(),
                    });
                }
                Some(Details::Discovery(d)) => {
                    // Several DISCOVERY occurrences: the latest update wins.
                    let updated = occ.update_time.or(occ.create_time);
                    if scan.as_ref().is_none_or(|(at, _)| updated >= *at) {
                        let s = Scan {
                            status: ScanStatus::from_proto(d.analysis_status),
                            last_scan_time: d.last_scan_time.and_then(|t| t.to_core()),
                        };
                        scan = Some((updated, s));
                    }
                }
                Some(Details::SbomReference(s)) => {
                    if let Some(pred) = s.payload.as_ref().and_then(|p| p.predicate.as_ref()) {
                        sbom_references.push(SbomReference {
                            location: pred.location.clone(),
                            mime_type: pred.mime_type.clone(),
                            digest: pred
                                .digest
                                .iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        });
                    }
                }
                _ => {}
            }
        }
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.cve.cmp(&b.cve)));
        Self {
            resource_uri: resource_uri.to_owned(),
            scan: scan.map(|(_, s)| s),
            counts,
            findings,
            sbom_references,
        }
    }

    /// The count for `severity` (zero when none).
    pub fn count(&self, severity: Severity) -> Count {
        self.counts.get(&severity).copied().unwrap_or_default()
    }

    /// The counts over every severity.
    pub fn total(&self) -> Count {
        self.counts.values().fold(Count::default(), |acc, c| Count {
            total: acc.total + c.total,
            fixable: acc.fixable + c.fixable,
        })
    }

    /// The counts in the shape of the vulnerability summary's, to compare them.
    pub fn resource_counts(&self) -> ResourceCounts {
        ResourceCounts {
            counts: self.counts.clone(),
            total: self.total(),
        }
    }

    /// The most serious severity found, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.first().map(|f| f.severity)
    }
}

/// The vulnerability counts of one resource in a [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceCounts {
    /// By effective severity (each of [`Severity::RANKED`] present, zero included).
    pub counts: BTreeMap<Severity, Count>,
    /// Over every severity (the API's `SEVERITY_UNSPECIFIED` row).
    pub total: Count,
}

impl Default for ResourceCounts {
    fn default() -> Self {
        Self {
            counts: Severity::RANKED
                .iter()
                .map(|s| (*s, Count::default()))
                .collect(),
            total: Count::default(),
        }
    }
}

impl ResourceCounts {
    /// The count for `severity` (zero when none).
    pub fn count(&self, severity: Severity) -> Count {
        self.counts.get(&severity).copied().unwrap_or_default()
    }
}

/// The vulnerability summary of a project (or of the resources its filter
/// selects): counts by resource and severity, with how many are fixable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Counts by resource URI.
    pub resources: BTreeMap<String, ResourceCounts>,
}

impl Summary {
    /// Reads the API's rows: one per resource and severity, and one with
    /// `SEVERITY_UNSPECIFIED` holding the resource's totals.
    pub fn from_proto(summary: &VulnerabilityOccurrencesSummary) -> Self {
        let mut resources: BTreeMap<String, ResourceCounts> = BTreeMap::new();
        for row in &summary.counts {
            let count = Count {
                total: u64::try_from(row.total_count).unwrap_or(0),
                fixable: u64::try_from(row.fixable_count).unwrap_or(0),
            };
            let entry = resources.entry(row.resource_uri.clone()).or_default();
            match Severity::from_proto(row.severity) {
                Severity::Unspecified => entry.total = count,
                s => {
                    entry.counts.insert(s, count);
                }
            }
        }
        Self { resources }
    }

    /// The counts of `resource_uri`, if it has any vulnerability.
    pub fn resource(&self, resource_uri: &str) -> Option<&ResourceCounts> {
        self.resources.get(resource_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gar_proto::grafeas::v1::vulnerability_occurrence::PackageIssue;
    use gar_proto::grafeas::v1::{
        DiscoveryOccurrence, NoteKind, SbomReferenceIntotoPayload, SbomReferenceIntotoPredicate,
        SbomReferenceOccurrence, VulnerabilityOccurrence,
    };

    const URI: &str = "https://us-docker.pkg.dev/p/r/app@sha256:00";

    fn vuln(cve: &str, severity: i32, effective: i32, fixed: Option<&str>) -> Occurrence {
        Occurrence {
            name: format!("projects/p/occurrences/{cve}"),
            resource_uri: URI.into(),
            note_name: format!("projects/goog-vulnz/notes/{cve}"),
            kind: NoteKind::Vulnerability as i32,
            details: Some(Details::Vulnerability(VulnerabilityOccurrence {
                severity,
                effective_severity: effective,
                cvss_score: 7.1,
                fix_available: fixed.is_some(),
                package_issue: vec![PackageIssue {
                    affected_package: "openssl".into(),
                    package_type: "OS".into(),
                    affected_version: Some(Version {
                        epoch: 1,
                        name: "3.0.1".into(),
                        revision: "2".into(),
                        kind: 1,
                        ..Default::default()
                    }),
                    fixed_version: Some(match fixed {
                        Some(f) => Version {
                            name: f.into(),
                            kind: 1,
                            ..Default::default()
                        },
                        None => Version {
                            kind: VersionKind::Maximum as i32,
                            ..Default::default()
                        },
                    }),
                    fix_available: fixed.is_some(),
                    ..Default::default()
                }],
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    #[test]
    fn counts_findings_scan_and_sbom() {
        let discovery = Occurrence {
            resource_uri: URI.into(),
            kind: NoteKind::Discovery as i32,
            details: Some(Details::Discovery(DiscoveryOccurrence {
                analysis_status: AnalysisStatus::FinishedSuccess as i32,
                last_scan_time: Some(gar_proto::wkt::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            })),
            ..Default::default()
        };
        let sbom = Occurrence {
            resource_uri: URI.into(),
            kind: NoteKind::SbomReference as i32,
            details: Some(Details::SbomReference(SbomReferenceOccurrence {
                payload: Some(SbomReferenceIntotoPayload {
                    predicate: Some(SbomReferenceIntotoPredicate {
                        location: "gs://bucket/sbom.json".into(),
                        mime_type: "application/spdx+json".into(),
                        digest: [("sha256".to_owned(), "ab".to_owned())]
                            .into_iter()
                            .collect(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })),
            ..Default::default()
        };
        let mut other_image = vuln("CVE-9", 5, 5, None);
        other_image.resource_uri = "https://us-docker.pkg.dev/p/r/other@sha256:11".into();
        let occurrences = vec![
            vuln("CVE-2", 3, 5, Some("3.0.2")),
            vuln("CVE-1", 4, 0, None),
            vuln("CVE-3", 2, 2, Some("3.0.9")),
            vuln("CVE-4", 2, 2, None),
            discovery,
            sbom,
            other_image,
        ];
        let r = VulnerabilityReport::from_occurrences(URI, &occurrences);
        assert_eq!(
            r.count(Severity::Critical),
            Count {
                total: 1,
                fixable: 1
            }
        );
        assert_eq!(
            r.count(Severity::High),
            Count {
                total: 1,
                fixable: 0
            }
        );
        assert_eq!(
            r.count(Severity::Low),
            Count {
                total: 2,
                fixable: 1
            }
        );
        assert_eq!(r.count(Severity::Minimal), Count::default());
        assert_eq!(
            r.total(),
            Count {
                total: 4,
                fixable: 2
            }
        );
        assert_eq!(r.counts.len(), 5);
        let order: Vec<&str> = r.findings.iter().map(|f| f.cve.as_str()).collect();
        assert_eq!(order, ["CVE-2", "CVE-1", "CVE-3", "CVE-4"]);
        assert_eq!(r.worst(), Some(Severity::Critical));
        let p = &r.findings[0].packages[0];
        assert_eq!(p.installed_version.as_deref(), Some("1:3.0.1-2"));
        assert_eq!(p.fixed_version.as_deref(), Some("3.0.2"));
        assert_eq!(r.findings[1].packages[0].fixed_version, None);
        assert_eq!(r.findings[1].cvss_score, Some(7.1));
        let scan = r.scan.unwrap();
        assert_eq!(scan.status, ScanStatus::Finished);
        assert!(scan.status.is_terminal());
        assert_eq!(scan.last_scan_time.unwrap().unix_seconds(), 1_700_000_000);
        assert_eq!(r.sbom_references[0].location, "gs://bucket/sbom.json");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["findings"][0]["severity"], "CRITICAL");
        assert_eq!(json["scan"]["status"], "FINISHED");
    }

    #[test]
    fn summary_rows_and_report_counts_agree() {
        use gar_proto::google::devtools::containeranalysis::v1::vulnerability_occurrences_summary::FixableTotalByDigest;
        let occurrences = vec![
            vuln("CVE-2", 3, 5, Some("3.0.2")),
            vuln("CVE-1", 4, 0, None),
            vuln("CVE-3", 2, 2, Some("3.0.9")),
        ];
        let report = VulnerabilityReport::from_occurrences(URI, &occurrences);
        let row = |severity: i32, fixable: i64, total: i64| FixableTotalByDigest {
            resource_uri: URI.into(),
            severity,
            fixable_count: fixable,
            total_count: total,
        };
        let proto = VulnerabilityOccurrencesSummary {
            counts: vec![row(5, 1, 1), row(4, 0, 1), row(2, 1, 1), row(0, 2, 3)],
        };
        let summary = Summary::from_proto(&proto);
        assert_eq!(summary.resource(URI), Some(&report.resource_counts()));
        assert_eq!(summary.resource("other"), None);
        assert_eq!(
            summary.resource(URI).unwrap().total,
            Count {
                total: 3,
                fixable: 2
            }
        );
    }

    #[test]
    fn the_latest_discovery_gives_the_scan() {
        let discovery = |status: AnalysisStatus, updated: i64| Occurrence {
            resource_uri: URI.into(),
            kind: NoteKind::Discovery as i32,
            update_time: Some(gar_proto::wkt::Timestamp {
                seconds: updated,
                nanos: 0,
            }),
            details: Some(Details::Discovery(DiscoveryOccurrence {
                analysis_status: status as i32,
                ..Default::default()
            })),
            ..Default::default()
        };
        let r = VulnerabilityReport::from_occurrences(
            URI,
            &[
                discovery(AnalysisStatus::FinishedSuccess, 20),
                discovery(AnalysisStatus::Pending, 10),
            ],
        );
        assert_eq!(r.scan.unwrap().status, ScanStatus::Finished);
    }

    #[test]
    fn statuses() {
        assert_eq!(ScanStatus::from_proto(1), ScanStatus::Pending);
        assert_eq!(ScanStatus::from_proto(2), ScanStatus::Scanning);
        assert_eq!(ScanStatus::from_proto(3), ScanStatus::Finished);
        assert_eq!(ScanStatus::from_proto(4), ScanStatus::Failed);
        assert_eq!(ScanStatus::from_proto(5), ScanStatus::Unsupported);
        assert_eq!(ScanStatus::from_proto(42), ScanStatus::Unknown);
        assert!(!ScanStatus::Scanning.is_terminal());
        assert_eq!(Severity::from_proto(9), Severity::Unspecified);
        assert_eq!(Severity::High.to_string(), "HIGH");
        let empty = VulnerabilityReport::from_occurrences(URI, &[]);
        assert_eq!(empty.total(), Count::default());
        assert_eq!(empty.worst(), None);
        assert!(empty.scan.is_none());
    }
}
