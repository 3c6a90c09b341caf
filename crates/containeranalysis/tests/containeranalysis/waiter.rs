//! Waiting for the analysis of a freshly pushed image, against the emulator
//! (whose scans finish when its clock passes the seed's delay) and against a
//! scripted stub on a paused clock.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gar_containeranalysis::Client;
use gar_containeranalysis::report::{Count, ScanStatus, Severity};
use gar_containeranalysis::stub::{CallOptions, Stub, StubFuture};
use gar_core::{Error, ErrorKind};
use gar_proto::google::devtools::containeranalysis::v1::{
    GetVulnerabilityOccurrencesSummaryRequest, VulnerabilityOccurrencesSummary,
};
use gar_proto::grafeas::v1::occurrence::Details;
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, BatchCreateOccurrencesResponse, CreateNoteRequest,
    CreateOccurrenceRequest, DiscoveryOccurrence, GetNoteRequest, GetOccurrenceNoteRequest,
    GetOccurrenceRequest, ListNotesRequest, ListNotesResponse, ListOccurrencesRequest,
    ListOccurrencesResponse, Note, NoteKind, Occurrence,
};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn the_waiter_sees_a_freshly_pushed_image_finish() {
    let emu = start().await;
    for (i, protocol) in PROTOCOLS.into_iter().enumerate() {
        let client = client(&emu, protocol);
        let path = format!("fresh/app{i}");
        let (image, size) =
            push_image(&emu, &path, "openssl=3.0.1, zlib=1.2.11, nginx=1.25.0").await;

        // Right after the push: PENDING, nothing found yet.
        let report = client.vulnerability_report(&image).send().await.unwrap();
        assert_eq!(
            report.scan.unwrap().status,
            ScanStatus::Pending,
            "{protocol:?}"
        );
        assert!(report.findings.is_empty());

        let op = operation(protocol);
        let before = seen(&emu, op);
        let waiter = tokio::spawn(
            client
                .wait_for_analysis(&image)
                .with_poll_interval(Duration::from_millis(20))
                .with_deadline(Duration::from_secs(30))
                .send(),
        );
        // Once the waiter has seen PENDING twice, the emulator's clock passes the delay.
        while seen(&emu, op) < before + 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!waiter.is_finished());
        advance(&emu, 60).await;
        let report = waiter.await.unwrap().unwrap();
        assert!(
            seen(&emu, op) >= before + 4,
            "two pending polls, a final one, the listing"
        );

        let scan = report.scan.unwrap();
        assert_eq!(scan.status, ScanStatus::Finished, "{protocol:?}");
        assert!(scan.last_scan_time.is_some());
        let cves: BTreeSet<&str> = report.findings.iter().map(|f| f.cve.as_str()).collect();
        assert_eq!(
            cves,
            BTreeSet::from(["CVE-2022-37434", "CVE-2023-0286"]),
            "nginx has no rule"
        );
        assert_eq!(
            report.count(Severity::Critical),
            Count {
                total: 1,
                fixable: 1
            }
        );
        assert_eq!(
            report.count(Severity::High),
            Count {
                total: 1,
                fixable: 1
            }
        );
        let openssl = &report.findings[0];
        assert_eq!(openssl.cve, "CVE-2023-0286");
        assert_eq!(
            openssl.packages[0].installed_version.as_deref(),
            Some("3.0.1")
        );
        assert_eq!(openssl.packages[0].fixed_version.as_deref(), Some("3.0.8"));
        assert_eq!(openssl.cvss_score, Some(9.1));
        let summary = client
            .vulnerability_summary(&project())
            .for_image(&image)
            .send()
            .await
            .unwrap();
        assert_eq!(
            summary.resource(&url(&image)),
            Some(&report.resource_counts())
        );

        // An SBOM attached afterwards: its reference, and its packages' findings.
        attach_sbom(
            &emu,
            &path,
            &image,
            size,
            json!([{"name": "curl", "versionInfo": "7.88.0"}]),
        )
        .await;
        let sboms = client.sbom_references(&image).send().await.unwrap();
        assert_eq!(sboms.len(), 1);
        assert_eq!(sboms[0].mime_type, "application/spdx+json");
        assert!(sboms[0].location.contains(&format!("/{path}@sha256:")));
        let report = client.vulnerability_report(&image).send().await.unwrap();
        assert_eq!(report.findings.len(), 3);
        assert_eq!(
            report.count(Severity::Medium),
            Count {
                total: 1,
                fixable: 0
            }
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_waiter_gives_up_at_its_deadline() {
    let emu = start().await;
    let (image, _) = push_image(&emu, "slow", "openssl=3.0.1").await;
    for protocol in PROTOCOLS {
        let client = client(&emu, protocol);
        let before = seen(&emu, operation(protocol));
        let started = tokio::time::Instant::now();
        let e = client
            .wait_for_analysis(&image)
            .with_poll_interval(Duration::from_secs(10))
            .with_deadline(Duration::from_secs(60))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{protocol:?}: {e}");
        assert!(e.is_timeout());
        assert!(e.message().contains("PENDING"), "{e}");
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(60),
            "tokio time, paused"
        );
        assert_eq!(
            seen(&emu, operation(protocol)) - before,
            7,
            "at 0, 10, ..., 60 s"
        );
    }
}

/// Answers listings of DISCOVERY occurrences from a script of statuses (`None`:
/// no occurrence yet), then the whole image's occurrences.
#[derive(Debug, Clone)]
struct Scripted {
    statuses: Arc<Mutex<Vec<Option<i32>>>>,
    polls: Arc<Mutex<u32>>,
}

fn refused<'a, T: Send + 'a>() -> StubFuture<'a, T> {
    Box::pin(async { Err(Error::new(ErrorKind::Unimplemented, "not scripted")) })
}

impl Stub for Scripted {
    fn list_occurrences(
        &self,
        request: ListOccurrencesRequest,
        _: CallOptions,
    ) -> StubFuture<'_, ListOccurrencesResponse> {
        Box::pin(async move {
            let discovery = |status: i32| Occurrence {
                resource_uri: url(&image_a()),
                kind: NoteKind::Discovery as i32,
                details: Some(Details::Discovery(DiscoveryOccurrence {
                    analysis_status: status,
                    ..Default::default()
                })),
                ..Default::default()
            };
            assert!(request.filter.contains(&url(&image_a())));
            if request.filter.contains("DISCOVERY") {
                *self.polls.lock().unwrap() += 1;
                let mut script = self.statuses.lock().unwrap();
                let next = if script.len() > 1 {
                    script.remove(0)
                } else {
                    script[0]
                };
                if next == Some(-1) {
                    return Err(Error::new(ErrorKind::PermissionDenied, "revoked"));
                }
                return Ok(ListOccurrencesResponse {
                    occurrences: next.map(discovery).into_iter().collect(),
                    next_page_token: String::new(),
                });
            }
            let last = *self.statuses.lock().unwrap().last().unwrap();
            Ok(ListOccurrencesResponse {
                occurrences: last.map(discovery).into_iter().collect(),
                next_page_token: String::new(),
            })
        })
    }
    fn get_occurrence(
        &self,
        _: GetOccurrenceRequest,
        _: CallOptions,
    ) -> StubFuture<'_, Occurrence> {
        refused()
    }
    fn create_occurrence(
        &self,
        _: CreateOccurrenceRequest,
        _: CallOptions,
    ) -> StubFuture<'_, Occurrence> {
        refused()
    }
    fn batch_create_occurrences(
        &self,
        _: BatchCreateOccurrencesRequest,
        _: CallOptions,
    ) -> StubFuture<'_, BatchCreateOccurrencesResponse> {
        refused()
    }
    fn get_occurrence_note(
        &self,
        _: GetOccurrenceNoteRequest,
        _: CallOptions,
    ) -> StubFuture<'_, Note> {
        refused()
    }
    fn get_note(&self, _: GetNoteRequest, _: CallOptions) -> StubFuture<'_, Note> {
        refused()
    }
    fn list_notes(&self, _: ListNotesRequest, _: CallOptions) -> StubFuture<'_, ListNotesResponse> {
        refused()
    }
    fn create_note(&self, _: CreateNoteRequest, _: CallOptions) -> StubFuture<'_, Note> {
        refused()
    }
    fn get_vulnerability_occurrences_summary(
        &self,
        _: GetVulnerabilityOccurrencesSummaryRequest,
        _: CallOptions,
    ) -> StubFuture<'_, VulnerabilityOccurrencesSummary> {
        refused()
    }
}

fn scripted(statuses: &[Option<i32>]) -> (Client, Scripted) {
    let stub = Scripted {
        statuses: Arc::new(Mutex::new(statuses.to_vec())),
        polls: Arc::new(Mutex::new(0)),
    };
    (Client::from_stub(stub.clone()), stub)
}

#[tokio::test(start_paused = true)]
async fn the_waiter_polls_on_tokio_time_until_a_final_status() {
    // Not known yet, PENDING, SCANNING, then 3 (FINISHED_SUCCESS, alias COMPLETE).
    let (client, stub) = scripted(&[None, Some(1), Some(2), Some(3)]);
    let started = tokio::time::Instant::now();
    let report = client
        .wait_for_analysis(&image_a())
        .with_poll_interval(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(report.scan.unwrap().status, ScanStatus::Finished);
    assert_eq!(*stub.polls.lock().unwrap(), 4);
    assert_eq!(started.elapsed(), Duration::from_secs(90));

    // A failed analysis is an end too; the report says which.
    let (client, _) = scripted(&[Some(1), Some(4)]);
    let report = client.wait_for_analysis(&image_a()).send().await.unwrap();
    assert_eq!(report.scan.unwrap().status, ScanStatus::Failed);
    let (client, _) = scripted(&[Some(5)]);
    let report = client.wait_for_analysis(&image_a()).send().await.unwrap();
    assert_eq!(report.scan.unwrap().status, ScanStatus::Unsupported);

    // The default deadline (10 minutes) with the default interval (5 s): 121 polls.
    let (client, stub) = scripted(&[None]);
    let started = tokio::time::Instant::now();
    let e = client
        .wait_for_analysis(&image_a())
        .send()
        .await
        .unwrap_err();
    assert!(e.is_timeout());
    assert!(e.message().contains("no DISCOVERY occurrence"), "{e}");
    assert_eq!(started.elapsed(), Duration::from_secs(600));
    assert_eq!(*stub.polls.lock().unwrap(), 121);

    // An error of a poll ends the wait at once.
    let (client, stub) = scripted(&[Some(1), Some(-1)]);
    let e = client
        .wait_for_analysis(&image_a())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(*stub.polls.lock().unwrap(), 2);
}
