//! Vulnerabilities through the facade, and the image report joining docker
//! image metadata with vulnerability counts.

use futures_util::TryStreamExt;
use gar::grafeas::v1::occurrence::Details;
use gar::grafeas::v1::{Note, NoteKind, Occurrence, VulnerabilityNote, VulnerabilityOccurrence};
use gar::report::{Count, Severity};
use gar::{Client, Protocol};
use gar_emulator::seed::SeedImage;
use gar_emulator::{Emulator, Seed};

use crate::common::{client, env, quick};

/// Adds a vulnerability of `severity` on `image` (a `pkg.dev` resource URL).
async fn add_finding(client: &Client, uri: &str, cve: &str, severity: i32, fixable: bool) {
    let analysis = client.vulnerabilities().unwrap();
    let project = "demo-project".parse().unwrap();
    let note = Note {
        kind: NoteKind::Vulnerability as i32,
        short_description: cve.into(),
        r#type: Some(gar::grafeas::v1::note::Type::Vulnerability(
            VulnerabilityNote {
                severity,
                ..Default::default()
            },
        )),
        ..Default::default()
    };
    // The note may exist from an earlier finding.
    let _ = analysis.create_note(&project, cve, note).send().await;
    let occurrence = Occurrence {
        resource_uri: uri.into(),
        note_name: format!("projects/demo-project/notes/{cve}"),
        kind: NoteKind::Vulnerability as i32,
        details: Some(Details::Vulnerability(VulnerabilityOccurrence {
            severity,
            effective_severity: severity,
            fix_available: fixable,
            ..Default::default()
        })),
        ..Default::default()
    };
    analysis
        .create_occurrence(&project, occurrence)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_image_report_joins_metadata_and_vulnerabilities() {
    let mut seed = Seed::demo();
    for (image, tag) in [("team/app", "v1"), ("tools", "stable"), ("team/app", "v2")] {
        seed.images.push(SeedImage {
            repository: "projects/demo-project/locations/us-central1/repositories/docker".into(),
            image: image.into(),
            tags: vec![tag.into()],
            layers: vec![format!("{image} {tag}\n")],
            media_types: None,
        });
    }
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    for protocol in [Protocol::Grpc, Protocol::Rest] {
        let client = Client::builder()
            .emulator(emu.url())
            .project("demo-project")
            .location("us-central1")
            .credentials(gar::Credentials::AccessToken(gar::SecretString::new(
                gar_emulator::seed::DEMO_TOKEN,
            )))
            .analysis_protocol(protocol)
            .polling(quick())
            .environment_map(env(&[]))
            .build()
            .await
            .unwrap();
        assert_eq!(client.analysis_protocol(), protocol);
        let images: Vec<_> = client
            .docker_images("docker")
            .unwrap()
            .list()
            .by_item()
            .try_collect()
            .await
            .unwrap();
        let uri_of = |tag: &str| {
            let i = images
                .iter()
                .find(|i| i.tags.iter().any(|t| t == tag))
                .unwrap();
            format!("https://{}", i.docker_image_name().unwrap().uri())
        };
        if protocol == Protocol::Grpc {
            add_finding(
                &client,
                &uri_of("v1"),
                "CVE-2026-0001",
                Severity::Critical as i32,
                true,
            )
            .await;
            add_finding(
                &client,
                &uri_of("v1"),
                "CVE-2026-0002",
                Severity::High as i32,
                false,
            )
            .await;
            add_finding(
                &client,
                &uri_of("stable"),
                "CVE-2026-0002",
                Severity::High as i32,
                false,
            )
            .await;
        }

        let report = client
            .image_report("docker")
            .unwrap()
            .with_concurrency(2)
            .send()
            .await
            .unwrap();
        assert_eq!(report.len(), 4, "hello, app v1 and v2, tools");
        let row = |tag: &str| {
            report
                .iter()
                .find(|r| r.image.tags.iter().any(|t| t == tag))
                .unwrap()
        };
        let v1 = row("v1").vulnerabilities.as_ref().unwrap();
        assert_eq!(
            v1.count(Severity::Critical),
            Count {
                total: 1,
                fixable: 1
            }
        );
        assert_eq!(
            v1.count(Severity::High),
            Count {
                total: 1,
                fixable: 0
            }
        );
        assert_eq!(
            v1.total,
            Count {
                total: 2,
                fixable: 1
            }
        );
        assert_eq!(
            row("stable").vulnerabilities.as_ref().unwrap().total.total,
            1
        );
        assert_eq!(row("v2").vulnerabilities.as_ref().unwrap().total.total, 0);
        assert!(row("v2").image.image_size_bytes > 0);
        assert!(row("v2").image.upload_time.is_some());
        // Newest upload first.
        let times: Vec<_> = report.iter().map(|r| r.image.upload_time).collect();
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted);

        // Narrowed to some images.
        let only = client
            .image_report("docker")
            .unwrap()
            .set_images(["team/app"])
            .send()
            .await
            .unwrap();
        assert_eq!(only.len(), 2);

        // The per-image report of the client F wrote, through the facade.
        let v1_name = images
            .iter()
            .find(|i| i.tags.iter().any(|t| t == "v1"))
            .unwrap()
            .docker_image_name()
            .unwrap();
        let full = client
            .vulnerabilities()
            .unwrap()
            .vulnerability_report(&v1_name)
            .send()
            .await
            .unwrap();
        assert_eq!(full.findings.len(), 2);
    }
    // A failed summary stays in its row; the listing still answers.
    let client = client(&emu).await;
    emu.add_fault(gar_emulator::FaultRule::status(403).path("*VulnerabilityOccurrencesSummary"))
        .unwrap();
    let report = client.image_report("docker").unwrap().send().await.unwrap();
    assert_eq!(report.len(), 4);
    for row in &report {
        let err = row.vulnerabilities.as_ref().unwrap_err();
        assert!(err.is_authorization(), "{err:?}");
    }
    emu.shutdown().await;
}
