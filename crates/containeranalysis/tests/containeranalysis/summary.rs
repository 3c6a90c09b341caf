//! The summary's counts equal what the listed occurrences imply, and the report
//! of an image reads findings, scan status and SBOM references.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use gar_containeranalysis::filter::OccurrenceFilter;
use gar_containeranalysis::report::{Count, ScanStatus, Severity, VulnerabilityReport};
use gar_proto::grafeas::v1::{NoteKind, Occurrence};

use crate::common::*;

#[tokio::test]
async fn summary_counts_equal_what_the_listing_implies() {
    let emu = start().await;
    for protocol in PROTOCOLS {
        let client = client(&emu, protocol);
        let vulns: Vec<Occurrence> = client
            .list_occurrences(&project())
            .set_filter(OccurrenceFilter::new().kind(NoteKind::Vulnerability))
            .set_page_size(4)
            .by_item()
            .try_collect()
            .await
            .unwrap();
        let mut by_resource: BTreeMap<String, Vec<Occurrence>> = BTreeMap::new();
        for o in vulns {
            by_resource
                .entry(o.resource_uri.clone())
                .or_default()
                .push(o);
        }
        assert_eq!(by_resource.len(), 2);
        let summary = client
            .vulnerability_summary(&project())
            .send()
            .await
            .unwrap();
        assert_eq!(summary.resources.len(), 2, "{protocol:?}");
        for (uri, occurrences) in &by_resource {
            let implied = VulnerabilityReport::from_occurrences(uri, occurrences).resource_counts();
            assert_eq!(summary.resource(uri), Some(&implied), "{protocol:?} {uri}");
        }
        // Image a by hand: CRITICAL, HIGH, MEDIUM, LOW, MINIMAL, HIGH, twice;
        // every third (0 and 6 critical, 3 and 9 low) fixable.
        let a = summary.resource(&url(&image_a())).unwrap();
        let expect = |total, fixable| Count { total, fixable };
        assert_eq!(a.count(Severity::Critical), expect(2, 2));
        assert_eq!(a.count(Severity::High), expect(4, 0));
        assert_eq!(a.count(Severity::Medium), expect(2, 0));
        assert_eq!(a.count(Severity::Low), expect(2, 2));
        assert_eq!(a.count(Severity::Minimal), expect(2, 0));
        assert_eq!(
            a.total,
            expect(12, 4),
            "the SEVERITY_UNSPECIFIED row is the total"
        );
        // Image b: no effective severity, so its severity (MEDIUM) counts.
        let b = summary.resource(&url(&image_b())).unwrap();
        assert_eq!(b.count(Severity::Medium), expect(3, 3));
        assert_eq!(b.total, expect(3, 3));
        // Narrowed to one image.
        let only_b = client
            .vulnerability_summary(&project())
            .for_image(&image_b())
            .send()
            .await
            .unwrap();
        assert_eq!(
            only_b.resources.keys().collect::<Vec<_>>(),
            [&url(&image_b())]
        );
    }
}

#[tokio::test]
async fn the_report_of_an_image() {
    let emu = start().await;
    for protocol in PROTOCOLS {
        let client = client(&emu, protocol);
        let report = client
            .vulnerability_report(&image_a())
            .send()
            .await
            .unwrap();
        assert_eq!(report.resource_uri, url(&image_a()));
        assert_eq!(report.findings.len(), 12);
        assert_eq!(
            report.total(),
            Count {
                total: 12,
                fixable: 4
            }
        );
        assert_eq!(report.worst(), Some(Severity::Critical));
        let first = &report.findings[0];
        assert_eq!(first.severity, Severity::Critical);
        assert_eq!(first.cve, "CVE-2024-0000");
        assert_eq!(first.cvss_score, Some(6.5));
        let p = &first.packages[0];
        assert_eq!(p.name, "openssl");
        assert_eq!(p.installed_version.as_deref(), Some("3.0.1-1"));
        assert_eq!(p.fixed_version.as_deref(), Some("3.0.8"));
        let unfixed = report
            .findings
            .iter()
            .find(|f| f.cve == "CVE-2024-0001")
            .unwrap();
        assert_eq!(unfixed.packages[0].fixed_version, None);
        assert!(!unfixed.fix_available);
        // The seeded discovery said COMPLETE.
        let scan = report.scan.unwrap();
        assert_eq!(scan.status, ScanStatus::Finished);
        assert_eq!(
            scan.last_scan_time.unwrap().to_string(),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(report.sbom_references.len(), 1);
        let sboms = client.sbom_references(&image_a()).send().await.unwrap();
        assert_eq!(sboms, report.sbom_references);
        assert_eq!(sboms[0].location, "gs://sboms/a.spdx.json");
        assert_eq!(sboms[0].mime_type, "application/spdx+json");
        // An image with nothing known has an empty report.
        let unknown = image("nothing", &format!("sha256:{}", "c".repeat(64)));
        let empty = client.vulnerability_report(&unknown).send().await.unwrap();
        assert!(empty.findings.is_empty() && empty.scan.is_none());
    }
}
