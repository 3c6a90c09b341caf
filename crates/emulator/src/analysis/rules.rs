//! What an image holds and what makes it vulnerable: packages read from the
//! image config's label or an attached SBOM, version ranges, and the notes and
//! occurrence details a match produces.

use std::cmp::Ordering;

use gar_proto::grafeas::v1::version::VersionKind;
use gar_proto::grafeas::v1::vulnerability_occurrence::PackageIssue;
use gar_proto::grafeas::v1::{
    Cvss, CvssVersion, Note, NoteKind, RelatedUrl, Severity, Version, VulnerabilityNote,
    VulnerabilityOccurrence, note, vulnerability_note,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::seed::{PACKAGES_LABEL, VulnerabilityRule};

/// The project that holds the vulnerability notes.
pub(crate) const VULNZ_PROJECT: &str = "goog-vulnz";

/// A package found in an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstalledPackage {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The packages listed in an image config's [`PACKAGES_LABEL`] label.
pub(crate) fn packages_from_config(config: &Value) -> Vec<InstalledPackage> {
    let label = config
        .get("config")
        .and_then(|c| c.get("Labels"))
        .and_then(|l| l.get(PACKAGES_LABEL))
        .and_then(Value::as_str)
        .unwrap_or_default();
    label
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|pair| {
            let (name, version) = pair.split_once('=')?;
            let (name, version) = (name.trim(), version.trim());
            (!name.is_empty() && !version.is_empty()).then(|| InstalledPackage {
                name: name.to_owned(),
                version: version.to_owned(),
            })
        })
        .collect()
}

/// An SBOM format the emulator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SbomFormat {
    /// SPDX JSON (`packages[].name`, `versionInfo`).
    Spdx,
    /// CycloneDX JSON (`components[].name`, `version`).
    CycloneDx,
}

impl SbomFormat {
    /// Lower-case name, as `SBOMReferenceNote.format` holds it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Spdx => "spdx",
            Self::CycloneDx => "cyclonedx",
        }
    }

    /// The SBOM's media type.
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            Self::Spdx => "application/spdx+json",
            Self::CycloneDx => "application/vnd.cyclonedx+json",
        }
    }
}

/// Whether an artifact type names an SBOM.
pub(crate) fn is_sbom_type(artifact_type: &str) -> bool {
    let t = artifact_type.to_ascii_lowercase();
    t.contains("spdx") || t.contains("cyclonedx")
}

/// The format and packages of an SBOM document, if it is one.
pub(crate) fn packages_from_sbom(doc: &Value) -> Option<(SbomFormat, Vec<InstalledPackage>)> {
    let (format, items, version_key) = if let Some(p) = doc.get("packages") {
        (SbomFormat::Spdx, p, "versionInfo")
    } else if let Some(c) = doc.get("components") {
        (SbomFormat::CycloneDx, c, "version")
    } else {
        return None;
    };
    let packages = items
        .as_array()?
        .iter()
        .filter_map(|p| {
            Some(InstalledPackage {
                name: p.get("name")?.as_str()?.to_owned(),
                version: p.get(version_key)?.as_str()?.to_owned(),
            })
        })
        .collect();
    Some((format, packages))
}

/// Compares versions piece by piece: runs of digits numerically, other runs as
/// text, separators ignored; a version that is a prefix of another is older.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    let pieces = |s: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut current = String::new();
        let mut digits = false;
        for c in s.chars() {
            if !c.is_ascii_alphanumeric() {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                continue;
            }
            if !current.is_empty() && c.is_ascii_digit() != digits {
                out.push(std::mem::take(&mut current));
            }
            digits = c.is_ascii_digit();
            current.push(c);
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    };
    let (pa, pb) = (pieces(a), pieces(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            // A number sorts after text: `1.0.0` is newer than `1.0.rc1`.
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    pa.len().cmp(&pb.len())
}

/// Whether `rule` affects `package`.
pub(crate) fn affects(rule: &VulnerabilityRule, package: &InstalledPackage) -> bool {
    rule.package == package.name
        && rule
            .introduced
            .as_deref()
            .is_none_or(|i| compare_versions(&package.version, i) != Ordering::Less)
        && rule
            .fixed
            .as_deref()
            .is_none_or(|f| compare_versions(&package.version, f) == Ordering::Less)
}

/// A severity name as its number; unknown names are refused.
pub(crate) fn severity(name: &str) -> Option<i32> {
    Severity::from_str_name(&name.to_ascii_uppercase()).map(|s| s as i32)
}

/// Checks a rule (at start-up).
pub(crate) fn validate(rule: &VulnerabilityRule) -> Result<(), String> {
    if rule.id.is_empty() || rule.id.contains('/') {
        return Err(format!(
            "vulnerability rule {:?}: the id must be a non-empty note id",
            rule.id
        ));
    }
    if rule.package.is_empty() {
        return Err(format!("vulnerability rule {}: no package", rule.id));
    }
    if severity(&rule.severity).is_none_or(|s| s == 0) {
        return Err(format!(
            "vulnerability rule {}: severity {:?} is not CRITICAL, HIGH, MEDIUM, LOW or MINIMAL",
            rule.id, rule.severity
        ));
    }
    if let Some(e) = &rule.effective_severity
        && severity(e).is_none()
    {
        return Err(format!(
            "vulnerability rule {}: effectiveSeverity {e:?} is not a severity",
            rule.id
        ));
    }
    Ok(())
}

fn version(name: &str) -> Version {
    Version {
        name: name.to_owned(),
        kind: VersionKind::Normal as i32,
        full_name: name.to_owned(),
        ..Version::default()
    }
}

fn package_type(rule: &VulnerabilityRule) -> String {
    rule.package_type.clone().unwrap_or_else(|| "OS".to_owned())
}

fn cpe(rule: &VulnerabilityRule) -> String {
    format!("cpe:/a:{}:{}", rule.package, rule.package)
}

fn nvd(id: &str) -> RelatedUrl {
    RelatedUrl {
        url: format!("https://nvd.nist.gov/vuln/detail/{id}"),
        label: "More Info".to_owned(),
    }
}

/// The note of a rule's vulnerability: `projects/goog-vulnz/notes/{id}`.
pub(crate) fn vulnerability_note(rule: &VulnerabilityRule) -> Note {
    let sev = severity(&rule.severity).unwrap_or_default();
    Note {
        name: note_name(&rule.id),
        short_description: rule.id.clone(),
        long_description: rule.description.clone(),
        kind: NoteKind::Vulnerability as i32,
        related_url: vec![nvd(&rule.id)],
        r#type: Some(note::Type::Vulnerability(VulnerabilityNote {
            cvss_score: rule.cvss_score,
            severity: sev,
            details: vec![vulnerability_note::Detail {
                severity_name: rule.severity.to_ascii_uppercase(),
                description: rule.description.clone(),
                package_type: package_type(rule),
                affected_cpe_uri: cpe(rule),
                affected_package: rule.package.clone(),
                affected_version_start: Some(match &rule.introduced {
                    Some(v) => Version {
                        inclusive: true,
                        ..version(v)
                    },
                    None => Version {
                        kind: VersionKind::Minimum as i32,
                        ..Version::default()
                    },
                }),
                affected_version_end: Some(match &rule.fixed {
                    Some(v) => version(v),
                    None => Version {
                        kind: VersionKind::Maximum as i32,
                        ..Version::default()
                    },
                }),
                fixed_cpe_uri: cpe(rule),
                fixed_package: rule.package.clone(),
                fixed_version: Some(match &rule.fixed {
                    Some(v) => version(v),
                    None => Version {
                        kind: VersionKind::Maximum as i32,
                        ..Version::default()
                    },
                }),
                source: "gar-emulator".to_owned(),
                ..vulnerability_note::Detail::default()
            }],
            cvss_version: CvssVersion::CvssVersion3 as i32,
            ..VulnerabilityNote::default()
        })),
        ..Note::default()
    }
}

/// The name of a vulnerability's note.
pub(crate) fn note_name(id: &str) -> String {
    format!("projects/{VULNZ_PROJECT}/notes/{id}")
}

/// The details of the VULNERABILITY occurrence `rule` gives `package`.
pub(crate) fn vulnerability_details(
    rule: &VulnerabilityRule,
    package: &InstalledPackage,
) -> VulnerabilityOccurrence {
    let sev = severity(&rule.severity).unwrap_or_default();
    let effective = rule
        .effective_severity
        .as_deref()
        .and_then(severity)
        .filter(|s| *s != 0)
        .unwrap_or(sev);
    let fix_available = rule.fixed.is_some();
    VulnerabilityOccurrence {
        r#type: package_type(rule),
        severity: sev,
        cvss_score: rule.cvss_score,
        package_issue: vec![PackageIssue {
            affected_cpe_uri: cpe(rule),
            affected_package: package.name.clone(),
            affected_version: Some(version(&package.version)),
            fixed_cpe_uri: cpe(rule),
            fixed_package: package.name.clone(),
            fixed_version: Some(match &rule.fixed {
                Some(v) => version(v),
                None => Version {
                    kind: VersionKind::Maximum as i32,
                    ..Version::default()
                },
            }),
            fix_available,
            package_type: package_type(rule),
            effective_severity: effective,
            ..PackageIssue::default()
        }],
        short_description: rule.id.clone(),
        long_description: rule.description.clone(),
        related_urls: vec![nvd(&rule.id)],
        effective_severity: effective,
        fix_available,
        cvssv3: Some(Cvss {
            base_score: rule.cvss_score,
            ..Cvss::default()
        }),
        cvss_version: CvssVersion::CvssVersion3 as i32,
        ..VulnerabilityOccurrence::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pkg(name: &str, version: &str) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            version: version.into(),
        }
    }

    #[test]
    fn versions_compare_piecewise() {
        for (a, b, o) in [
            ("3.0.1", "3.0.8", Ordering::Less),
            ("3.0.10", "3.0.8", Ordering::Greater),
            ("1.2.11", "1.2.11", Ordering::Equal),
            ("2.35", "2.35-0ubuntu3.4", Ordering::Less),
            ("1.0.0", "1.0.rc1", Ordering::Greater),
            ("1:2.0", "1:10.0", Ordering::Less),
        ] {
            assert_eq!(compare_versions(a, b), o, "{a} vs {b}");
        }
    }

    #[test]
    fn ranges_and_sources() {
        let rule = VulnerabilityRule {
            id: "CVE-1".into(),
            package: "openssl".into(),
            introduced: Some("3.0.0".into()),
            fixed: Some("3.0.8".into()),
            severity: "HIGH".into(),
            ..VulnerabilityRule::default()
        };
        assert!(affects(&rule, &pkg("openssl", "3.0.1")));
        assert!(affects(&rule, &pkg("openssl", "3.0.0")));
        assert!(!affects(&rule, &pkg("openssl", "3.0.8")));
        assert!(!affects(&rule, &pkg("openssl", "1.1.1")));
        assert!(!affects(&rule, &pkg("libssl", "3.0.1")));
        assert!(validate(&rule).is_ok());
        assert!(
            validate(&VulnerabilityRule {
                severity: "SEVERE".into(),
                ..rule.clone()
            })
            .is_err()
        );

        let config = json!({"config": {"Labels": {PACKAGES_LABEL: "openssl=3.0.1, zlib=1.2.11  bad curl="}}});
        assert_eq!(
            packages_from_config(&config),
            vec![pkg("openssl", "3.0.1"), pkg("zlib", "1.2.11")]
        );
        assert!(packages_from_config(&json!({"config": {}})).is_empty());
        let spdx = json!({"spdxVersion": "SPDX-2.3", "packages": [{"name": "curl", "versionInfo": "7.88.0"}, {"name": "nover"}]});
        assert_eq!(
            packages_from_sbom(&spdx),
            Some((SbomFormat::Spdx, vec![pkg("curl", "7.88.0")]))
        );
        let cdx = json!({"bomFormat": "CycloneDX", "components": [{"name": "zlib", "version": "1.2.11"}]});
        assert_eq!(
            packages_from_sbom(&cdx),
            Some((SbomFormat::CycloneDx, vec![pkg("zlib", "1.2.11")]))
        );
        assert_eq!(packages_from_sbom(&json!({"x": 1})), None);
        assert!(is_sbom_type("application/spdx+json"));
        assert!(!is_sbom_type("application/vnd.oci.image.config.v1+json"));
    }

    #[test]
    fn details_carry_fix_and_severities() {
        let rule = VulnerabilityRule {
            id: "CVE-2".into(),
            package: "zlib".into(),
            severity: "medium".into(),
            effective_severity: Some("LOW".into()),
            cvss_score: 5.5,
            ..VulnerabilityRule::default()
        };
        let d = vulnerability_details(&rule, &pkg("zlib", "1.2.11"));
        assert_eq!(d.severity, Severity::Medium as i32);
        assert_eq!(d.effective_severity, Severity::Low as i32);
        assert!(!d.fix_available);
        assert_eq!(
            d.package_issue[0].fixed_version.as_ref().unwrap().kind,
            VersionKind::Maximum as i32
        );
        let n = vulnerability_note(&rule);
        assert_eq!(n.name, "projects/goog-vulnz/notes/CVE-2");
        assert_eq!(n.kind, NoteKind::Vulnerability as i32);
    }
}
