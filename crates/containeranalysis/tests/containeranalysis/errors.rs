//! Failures over both protocols land in the same error kinds: NOT_FOUND,
//! PERMISSION_DENIED, UNAUTHENTICATED, ALREADY_EXISTS, INVALID_ARGUMENT; an
//! UNAVAILABLE answer is retried for reads and not for creates; failures below
//! gRPC keep the transport's kind.

use gar_containeranalysis::Protocol;
use gar_core::ErrorKind;
use gar_core::error::{GrpcCode, ResourceKind};
use gar_emulator::FaultRule;
use gar_proto::grafeas::v1::{Note, NoteKind, Occurrence};

use crate::common::*;

fn attestation(note: &str) -> Occurrence {
    Occurrence {
        resource_uri: url(&image_b()),
        note_name: note.into(),
        kind: NoteKind::Attestation as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn errors_map_to_the_taxonomy_over_both_protocols() {
    let emu = start().await;
    for protocol in PROTOCOLS {
        let client = client(&emu, protocol);
        let rest = protocol == Protocol::Rest;

        // NOT_FOUND, with the resource it is about.
        let e = client
            .get_occurrence("projects/demo-project/occurrences/nope")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{protocol:?}: {e}");
        assert!(e.is_not_found() && !e.is_retryable());
        assert_eq!(e.grpc_code(), Some(GrpcCode::NotFound));
        assert_eq!(e.http_status(), rest.then_some(404));
        let r = e.resource().unwrap();
        assert_eq!(
            (r.kind(), r.id(), r.parent()),
            (
                ResourceKind::Occurrence,
                "nope",
                Some("projects/demo-project")
            )
        );
        assert!(e.server_message().unwrap().contains("not found"));
        for e in [
            client
                .get_note("projects/goog-vulnz/notes/CVE-1999-0001")
                .send()
                .await
                .unwrap_err(),
            client
                .get_occurrence_note("projects/demo-project/occurrences/nope")
                .send()
                .await
                .unwrap_err(),
            client
                .create_occurrence(
                    &project(),
                    attestation("projects/demo-project/notes/missing"),
                )
                .send()
                .await
                .unwrap_err(),
        ] {
            assert!(e.is_not_found(), "{protocol:?}: {e}");
        }

        // PERMISSION_DENIED: a reader writing, and a project without a role.
        let viewer = client_with(
            &emu,
            protocol,
            transport(VIEWER_TOKEN, Some(fast_retries())),
        );
        assert!(
            viewer.list_occurrences(&project()).send().await.is_ok(),
            "a reader reads"
        );
        let e = viewer
            .create_note(
                &project(),
                "nope",
                Note {
                    kind: NoteKind::Build as i32,
                    ..Default::default()
                },
            )
            .send()
            .await
            .unwrap_err();
        assert!(e.is_authorization(), "{protocol:?}: {e}");
        assert_eq!(e.grpc_code(), Some(GrpcCode::PermissionDenied));
        assert_eq!(e.http_status(), rest.then_some(403));
        let e = viewer
            .list_occurrences(&"other-project".parse().unwrap())
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::ProjectAccessDenied,
            "{protocol:?}: {e}"
        );
        assert!(
            e.server_message()
                .unwrap()
                .contains("containeranalysis.occurrences.list")
        );

        // UNAUTHENTICATED: a token the server does not know.
        let stranger = client_with(&emu, protocol, transport("ya29.unknown", None));
        let e = stranger
            .list_occurrences(&project())
            .send()
            .await
            .unwrap_err();
        assert!(e.is_authentication(), "{protocol:?}: {e}");
        assert_eq!(e.grpc_code(), Some(GrpcCode::Unauthenticated));

        // ALREADY_EXISTS and INVALID_ARGUMENT.
        let id = format!("twice-{protocol:?}").to_lowercase();
        let note = Note {
            kind: NoteKind::Build as i32,
            ..Default::default()
        };
        client
            .create_note(&project(), id.clone(), note.clone())
            .send()
            .await
            .unwrap();
        let e = client
            .create_note(&project(), id, note)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{protocol:?}: {e}");
        assert!(e.is_conflict());
        let e = client
            .list_occurrences(&project())
            .set_filter(r#"severity="HIGH""#)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{protocol:?}: {e}");
        assert!(e.is_configuration());

        // Names are checked before anything is sent.
        let before = seen(&emu, operation(protocol));
        let e = client
            .get_occurrence("occurrences/1")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResourceName);
        let e = client
            .get_note("projects/demo-project/notes/a/b")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResourceName);
        assert_eq!(seen(&emu, operation(protocol)), before);
    }
}

#[tokio::test]
async fn unavailable_is_retried_for_reads_over_both_protocols() {
    let emu = start().await;
    for protocol in PROTOCOLS {
        let op = operation(protocol);
        let client = client(&emu, protocol);

        emu.add_fault(FaultRule::status(503).operation(op).times(2))
            .unwrap();
        let before = seen(&emu, op);
        let page = client.list_occurrences(&project()).send().await.unwrap();
        assert_eq!(page.occurrences.len(), 17, "{protocol:?}");
        assert_eq!(
            seen(&emu, op) - before,
            3,
            "two UNAVAILABLE answers, then the page"
        );

        emu.add_fault(FaultRule::status(503).operation(op).times(1))
            .unwrap();
        let before = seen(&emu, op);
        client
            .vulnerability_summary(&project())
            .send()
            .await
            .unwrap();
        assert_eq!(seen(&emu, op) - before, 2);

        // More failures than attempts: the error comes back, retryable.
        emu.add_fault(FaultRule::status(503).operation(op).times(3))
            .unwrap();
        let before = seen(&emu, op);
        let e = client
            .get_note("projects/goog-vulnz/notes/CVE-2023-0286")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable, "{protocol:?}: {e}");
        assert!(e.is_retryable());
        assert_eq!(e.grpc_code(), Some(GrpcCode::Unavailable));
        assert_eq!(seen(&emu, op) - before, 3);

        // A create is not repeated.
        emu.add_fault(FaultRule::status(503).operation(op).times(1))
            .unwrap();
        let before = seen(&emu, op);
        let e = client
            .create_note(
                &project(),
                format!("once-{protocol:?}").to_lowercase(),
                Note {
                    kind: NoteKind::Build as i32,
                    ..Default::default()
                },
            )
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(seen(&emu, op) - before, 1);
        emu.clear_faults();
    }
}

#[tokio::test]
async fn failures_below_grpc_keep_the_transports_kind() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    for protocol in PROTOCOLS {
        let client = gar_containeranalysis::Client::builder()
            .transport(transport(DEMO_TOKEN, None))
            .endpoint(closed.clone())
            .protocol(protocol)
            .build()
            .unwrap();
        let e = client
            .list_occurrences(&project())
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionFailed, "{protocol:?}: {e}");
        assert!(e.is_network());
    }
    let e = gar_containeranalysis::Client::builder()
        .endpoint("containeranalysis.googleapis.com")
        .build()
        .unwrap_err();
    assert!(e.is_configuration(), "{e}");
}

#[tokio::test]
async fn a_call_timeout_ends_a_slow_call_over_both_protocols() {
    let emu = start().await;
    for protocol in PROTOCOLS {
        let op = operation(protocol);
        emu.add_fault(FaultRule::delay_ms(400).operation(op).times(1))
            .unwrap();
        let client = client_with(&emu, protocol, transport(DEMO_TOKEN, None));
        let e = client
            .list_occurrences(&project())
            .with_timeout(std::time::Duration::from_millis(50))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{protocol:?}: {e}");
        // The next call is on time.
        let page = client
            .list_occurrences(&project())
            .with_timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert_eq!(page.occurrences.len(), 17);
    }
}
