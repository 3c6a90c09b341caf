//! Every call, over gRPC and over REST, against the emulator: lists with pages
//! and filters, gets, creates.

use futures_util::{StreamExt, TryStreamExt};
use gar_containeranalysis::filter::OccurrenceFilter;
use gar_proto::grafeas::v1::occurrence::Details;
use gar_proto::grafeas::v1::{Note, NoteKind, Occurrence};

use crate::common::*;

#[tokio::test]
async fn lists_page_and_filter_over_both_protocols() {
    let emu = start().await;
    let mut listings = Vec::new();
    for protocol in PROTOCOLS {
        let client = client(&emu, protocol);
        let before = seen(&emu, operation(protocol));

        // 12 + 3 vulnerabilities, a discovery and an SBOM reference: 17, in pages of 5.
        let pages: Vec<_> = client
            .list_occurrences(&project())
            .set_page_size(5)
            .by_page()
            .try_collect()
            .await
            .unwrap();
        let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
        assert_eq!(sizes, [5, 5, 5, 2], "{protocol:?}");
        assert_eq!(
            seen(&emu, operation(protocol)) - before,
            4,
            "one request per page"
        );
        let names: Vec<String> = pages
            .into_iter()
            .flat_map(|p| p.items)
            .map(|o| o.name)
            .collect();

        // Filters: kind and image.
        let a_vulns: Vec<Occurrence> = client
            .list_occurrences(&project())
            .set_filter(
                OccurrenceFilter::new()
                    .kind(NoteKind::Vulnerability)
                    .image(&image_a()),
            )
            .set_page_size(7)
            .by_item()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(a_vulns.len(), 12, "{protocol:?}");
        assert!(a_vulns.iter().all(|o| o.resource_uri == url(&image_a())
            && matches!(o.details, Some(Details::Vulnerability(_)))));
        let b: Vec<Occurrence> = client
            .list_occurrences(&project())
            .for_image(&image_b())
            .by_item()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(b.len(), 3);
        let discoveries: Vec<Occurrence> = client
            .list_occurrences(&project())
            .set_filter(OccurrenceFilter::new().kind(NoteKind::Discovery))
            .by_item()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(discoveries.len(), 1);

        // One page by hand, then resume the stream from its token.
        let first = client
            .list_occurrences(&project())
            .set_page_size(10)
            .send()
            .await
            .unwrap();
        assert_eq!(first.occurrences.len(), 10);
        assert!(!first.next_page_token.is_empty());
        let rest: Vec<Occurrence> = client
            .list_occurrences(&project())
            .set_page_size(10)
            .set_page_token(first.next_page_token.clone())
            .by_item()
            .try_collect()
            .await
            .unwrap();
        let resumed: Vec<String> = first
            .occurrences
            .iter()
            .chain(rest.iter())
            .map(|o| o.name.clone())
            .collect();
        assert_eq!(resumed, names);

        // The stream asks for the next page only when polled.
        let before = seen(&emu, operation(protocol));
        let mut items = client
            .list_occurrences(&project())
            .set_page_size(2)
            .by_item();
        items.next().await.unwrap().unwrap();
        items.next().await.unwrap().unwrap();
        assert_eq!(seen(&emu, operation(protocol)) - before, 1);
        drop(items);

        // Notes: 5 rule notes and 12 seeded ones in goog-vulnz, paged by 4.
        let notes: Vec<Note> = client
            .list_notes(&"goog-vulnz".parse().unwrap())
            .set_page_size(4)
            .by_item()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(notes.len(), 17, "{protocol:?}");
        let discovery_notes: Vec<Note> = client
            .list_notes(&"goog-analysis".parse().unwrap())
            .set_filter(r#"kind="DISCOVERY""#)
            .by_item()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(discovery_notes.len(), 1);
        listings.push(names);
    }
    assert_eq!(
        listings[0], listings[1],
        "gRPC and REST list the same, in the same order"
    );
}

#[tokio::test]
async fn gets_and_creates_over_both_protocols() {
    let emu = start().await;
    for protocol in PROTOCOLS {
        let client = client(&emu, protocol);
        let vuln = client
            .list_occurrences(&project())
            .set_filter(
                OccurrenceFilter::new()
                    .kind(NoteKind::Vulnerability)
                    .image(&image_b()),
            )
            .send()
            .await
            .unwrap()
            .occurrences
            .remove(0);
        let got = client
            .get_occurrence(vuln.name.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(got, vuln, "{protocol:?}");
        let note = client
            .get_occurrence_note(vuln.name.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(note.name, vuln.note_name);
        assert_eq!(note.kind, NoteKind::Vulnerability as i32);
        let same = client.get_note(note.name.clone()).send().await.unwrap();
        assert_eq!(same, note);

        // A note, one occurrence of it, then two more in a batch.
        let id = format!("policy-{protocol:?}").to_lowercase();
        let created = client
            .create_note(
                &project(),
                id.clone(),
                Note {
                    kind: NoteKind::Attestation as i32,
                    short_description: "signed by CI".into(),
                    ..Default::default()
                },
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.name, format!("projects/demo-project/notes/{id}"));
        assert!(created.create_time.is_some());
        let occurrence = |image: &gar_core::names::DockerImageName| Occurrence {
            resource_uri: url(image),
            note_name: created.name.clone(),
            kind: NoteKind::Attestation as i32,
            ..Default::default()
        };
        let one = client
            .create_occurrence(&project(), occurrence(&image_b()))
            .send()
            .await
            .unwrap();
        assert!(one.name.starts_with("projects/demo-project/occurrences/"));
        let batch = client
            .batch_create_occurrences(
                &project(),
                vec![occurrence(&image_a()), occurrence(&image_b())],
            )
            .send()
            .await
            .unwrap();
        assert_eq!(batch.occurrences.len(), 2);
        let of_note: Vec<Occurrence> = client
            .list_occurrences(&project())
            .set_filter(OccurrenceFilter::new().note_name(&created.name))
            .by_item()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(of_note.len(), 3, "{protocol:?}");
        let back = client.get_occurrence_note(one.name).send().await.unwrap();
        assert_eq!(back, created);
    }
}
