//! The generated types match the public API: field numbers (from the descriptors),
//! binary encoding, and ProtoJSON.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use gar_proto::google::devtools::containeranalysis::v1::{
    VulnerabilityOccurrencesSummary, vulnerability_occurrences_summary::FixableTotalByDigest,
};
use gar_proto::grafeas::v1::{
    DiscoveryOccurrence, NoteKind, Occurrence, Severity, Version, VulnerabilityOccurrence,
    discovery_occurrence::AnalysisStatus, occurrence::Details, version::VersionKind,
    vulnerability_occurrence::PackageIssue,
};
use prost::Message;
use prost_types::FileDescriptorSet;

fn field_number(fds: &FileDescriptorSet, message: &str, field: &str) -> Option<i32> {
    // `message` is a dotted path inside its package: `grafeas.v1.VulnerabilityOccurrence.PackageIssue`.
    for file in &fds.file {
        let package = file.package();
        let Some(rest) = message.strip_prefix(&format!("{package}.")) else {
            continue;
        };
        let mut parts = rest.split('.');
        let first = parts.next();
        let mut current = file.message_type.iter().find(|m| Some(m.name()) == first);
        for nested in parts {
            current = current.and_then(|m| m.nested_type.iter().find(|n| n.name() == nested));
        }
        if let Some(m) = current {
            return m
                .field
                .iter()
                .find(|f| f.name() == field)
                .map(|f| f.number());
        }
    }
    None
}

#[test]
fn field_numbers_equal_the_public_api() {
    let fds = FileDescriptorSet::decode(gar_proto::FILE_DESCRIPTOR_SET).unwrap();
    let table: &[(&str, &str, i32)] = &[
        ("grafeas.v1.Occurrence", "name", 1),
        ("grafeas.v1.Occurrence", "resource_uri", 2),
        ("grafeas.v1.Occurrence", "note_name", 3),
        ("grafeas.v1.Occurrence", "kind", 4),
        ("grafeas.v1.Occurrence", "remediation", 5),
        ("grafeas.v1.Occurrence", "create_time", 6),
        ("grafeas.v1.Occurrence", "update_time", 7),
        ("grafeas.v1.Occurrence", "vulnerability", 8),
        ("grafeas.v1.Occurrence", "package", 11),
        ("grafeas.v1.Occurrence", "discovery", 13),
        ("grafeas.v1.Occurrence", "sbom_reference", 19),
        ("grafeas.v1.VulnerabilityOccurrence", "type", 1),
        ("grafeas.v1.VulnerabilityOccurrence", "severity", 2),
        ("grafeas.v1.VulnerabilityOccurrence", "cvss_score", 3),
        ("grafeas.v1.VulnerabilityOccurrence", "package_issue", 4),
        ("grafeas.v1.VulnerabilityOccurrence", "short_description", 5),
        ("grafeas.v1.VulnerabilityOccurrence", "long_description", 6),
        ("grafeas.v1.VulnerabilityOccurrence", "related_urls", 7),
        (
            "grafeas.v1.VulnerabilityOccurrence",
            "effective_severity",
            8,
        ),
        ("grafeas.v1.VulnerabilityOccurrence", "fix_available", 9),
        ("grafeas.v1.VulnerabilityOccurrence", "cvssv3", 10),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "affected_cpe_uri",
            1,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "affected_package",
            2,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "affected_version",
            3,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "fixed_cpe_uri",
            4,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "fixed_package",
            5,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "fixed_version",
            6,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "fix_available",
            7,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "package_type",
            8,
        ),
        (
            "grafeas.v1.VulnerabilityOccurrence.PackageIssue",
            "effective_severity",
            9,
        ),
        ("grafeas.v1.Version", "epoch", 1),
        ("grafeas.v1.Version", "name", 2),
        ("grafeas.v1.Version", "revision", 3),
        ("grafeas.v1.Version", "kind", 4),
        ("grafeas.v1.Version", "full_name", 5),
        ("grafeas.v1.Version", "inclusive", 6),
        ("grafeas.v1.Note", "name", 1),
        ("grafeas.v1.Note", "short_description", 2),
        ("grafeas.v1.Note", "long_description", 3),
        ("grafeas.v1.Note", "kind", 4),
        ("grafeas.v1.Note", "related_url", 5),
        ("grafeas.v1.Note", "expiration_time", 6),
        ("grafeas.v1.Note", "create_time", 7),
        ("grafeas.v1.Note", "update_time", 8),
        ("grafeas.v1.Note", "related_note_names", 9),
        ("grafeas.v1.Note", "vulnerability", 10),
        ("grafeas.v1.Note", "discovery", 15),
        ("grafeas.v1.Note", "sbom_reference", 21),
        ("grafeas.v1.DiscoveryOccurrence", "continuous_analysis", 1),
        ("grafeas.v1.DiscoveryOccurrence", "analysis_status", 2),
        ("grafeas.v1.DiscoveryOccurrence", "last_scan_time", 5),
        ("grafeas.v1.ListOccurrencesRequest", "parent", 1),
        ("grafeas.v1.ListOccurrencesRequest", "filter", 2),
        ("grafeas.v1.ListOccurrencesRequest", "page_size", 3),
        ("grafeas.v1.ListOccurrencesRequest", "page_token", 4),
        ("grafeas.v1.ListOccurrencesResponse", "occurrences", 1),
        ("grafeas.v1.ListOccurrencesResponse", "next_page_token", 2),
        (
            "google.devtools.containeranalysis.v1.GetVulnerabilityOccurrencesSummaryRequest",
            "parent",
            1,
        ),
        (
            "google.devtools.containeranalysis.v1.GetVulnerabilityOccurrencesSummaryRequest",
            "filter",
            2,
        ),
        (
            "google.devtools.containeranalysis.v1.VulnerabilityOccurrencesSummary",
            "counts",
            1,
        ),
        (
            "google.devtools.containeranalysis.v1.VulnerabilityOccurrencesSummary.FixableTotalByDigest",
            "resource_uri",
            1,
        ),
        (
            "google.devtools.containeranalysis.v1.VulnerabilityOccurrencesSummary.FixableTotalByDigest",
            "severity",
            2,
        ),
        (
            "google.devtools.containeranalysis.v1.VulnerabilityOccurrencesSummary.FixableTotalByDigest",
            "fixable_count",
            3,
        ),
        (
            "google.devtools.containeranalysis.v1.VulnerabilityOccurrencesSummary.FixableTotalByDigest",
            "total_count",
            4,
        ),
    ];
    for (message, field, number) in table {
        assert_eq!(
            field_number(&fds, message, field),
            Some(*number),
            "{message}.{field}"
        );
    }
    // Enum numbers.
    assert_eq!(Severity::Critical as i32, 5);
    assert_eq!(Severity::Minimal as i32, 1);
    assert_eq!(NoteKind::SbomReference as i32, 12);
    assert_eq!(NoteKind::Discovery as i32, 6);
    assert_eq!(AnalysisStatus::FinishedSuccess as i32, 3);
    assert_eq!(AnalysisStatus::FinishedUnsupported as i32, 5);
    assert_eq!(VersionKind::Maximum as i32, 3);
}

fn sample() -> Occurrence {
    Occurrence {
        name: "projects/p/occurrences/o1".into(),
        resource_uri: "https://us-docker.pkg.dev/p/r/app@sha256:00".into(),
        note_name: "projects/goog-vulnz/notes/CVE-2024-0001".into(),
        kind: NoteKind::Vulnerability as i32,
        create_time: Some(gar_proto::wkt::Timestamp {
            seconds: 1_700_000_000,
            nanos: 500_000_000,
        }),
        details: Some(Details::Vulnerability(VulnerabilityOccurrence {
            severity: Severity::High as i32,
            cvss_score: 7.5,
            effective_severity: Severity::Critical as i32,
            fix_available: true,
            package_issue: vec![PackageIssue {
                affected_package: "openssl".into(),
                affected_version: Some(Version {
                    name: "3.0.1".into(),
                    kind: VersionKind::Normal as i32,
                    ..Default::default()
                }),
                fixed_version: Some(Version {
                    name: "3.0.2".into(),
                    kind: VersionKind::Normal as i32,
                    ..Default::default()
                }),
                fix_available: true,
                ..Default::default()
            }],
            ..Default::default()
        })),
        ..Default::default()
    }
}

#[test]
fn binary_round_trip() {
    let occ = sample();
    let bytes = occ.encode_to_vec();
    assert_eq!(Occurrence::decode(bytes.as_slice()).unwrap(), occ);
}

#[test]
fn protojson_shape() {
    let json = serde_json::to_value(sample()).unwrap();
    assert_eq!(
        json["resourceUri"],
        "https://us-docker.pkg.dev/p/r/app@sha256:00"
    );
    assert_eq!(json["kind"], "VULNERABILITY");
    assert_eq!(json["createTime"], "2023-11-14T22:13:20.500Z");
    assert_eq!(json["vulnerability"]["effectiveSeverity"], "CRITICAL");
    assert_eq!(
        json["vulnerability"]["packageIssue"][0]["fixedVersion"]["name"],
        "3.0.2"
    );
    let back: Occurrence = serde_json::from_value(json).unwrap();
    assert_eq!(back, sample());

    // Enums as numbers, int64 as strings or numbers, unknown fields ignored.
    let summary: VulnerabilityOccurrencesSummary = serde_json::from_str(
        r#"{"counts":[{"resourceUri":"u","severity":4,"fixableCount":"2","totalCount":3,"newField":true}]}"#,
    )
    .unwrap();
    assert_eq!(
        summary.counts,
        vec![FixableTotalByDigest {
            resource_uri: "u".into(),
            severity: Severity::High as i32,
            fixable_count: 2,
            total_count: 3
        }]
    );
    let out = serde_json::to_value(&summary).unwrap();
    assert_eq!(out["counts"][0]["fixableCount"], "2");
    assert_eq!(out["counts"][0]["severity"], "HIGH");

    // COMPLETE is an alias of FINISHED_SUCCESS.
    let d: DiscoveryOccurrence = gar_proto::json::from_value(
        "grafeas.v1.DiscoveryOccurrence",
        serde_json::json!({"analysisStatus": "COMPLETE"}),
    )
    .unwrap();
    assert_eq!(d.analysis_status, AnalysisStatus::FinishedSuccess as i32);

    // Unknown enum values, nested inside repeated messages, read as the default
    // instead of failing the whole message.
    let json = serde_json::json!({
        "kind": "SOMETHING_NEW",
        "vulnerability": {"severity": "HIGH", "packageIssue": [{"effectiveSeverity": "EXTREME", "affectedPackage": "x"}]},
    });
    assert!(serde_json::from_value::<Occurrence>(json.clone()).is_err());
    let occ: Occurrence = gar_proto::json::from_value("grafeas.v1.Occurrence", json).unwrap();
    assert_eq!(occ.kind, 0);
    let Some(Details::Vulnerability(v)) = occ.details else {
        panic!("no vulnerability")
    };
    assert_eq!(v.severity, Severity::High as i32);
    assert_eq!(v.package_issue[0].effective_severity, 0);
    assert_eq!(v.package_issue[0].affected_package, "x");
}
