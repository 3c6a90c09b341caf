//! Long-running operations: pending for some polls, polled to completion, and a
//! deadline that stops the polling.

use std::time::Duration;

use gar_artifactregistry::model::Format;
use gar_core::ErrorKind;

use crate::common::{DEMO_TOKEN, client, demo, location, package, pending_polls, quick, repo};

fn operation_polls(emu: &gar_emulator::EmulatorHandle) -> Vec<Option<u16>> {
    emu.requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/operations/"))
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn an_operation_pending_for_three_polls_is_polled_to_completion() {
    let emu = demo().await;
    let c = client(&emu, Some(DEMO_TOKEN));
    pending_polls(&emu, 3).await;
    let bundle = package("generic", "demo-bundle");
    let v2 = bundle.version("2.0.0".parse().unwrap());

    // start() hands back the operation as first answered: not done.
    let op = c.delete_version(&v2).set_force(true).start().await.unwrap();
    assert!(!op.done);
    assert!(op.outcome().is_none());
    assert!(
        op.name.starts_with(&format!("{}/operations/", location())),
        "{}",
        op.name
    );
    let polled = c.get_operation(&op.name).send().await.unwrap();
    assert!(!polled.done);

    // send() polls until done: three pending answers, then the done one.
    let before = operation_polls(&emu).len();
    c.delete_version(&bundle.version("1.0.0".parse().unwrap()))
        .set_force(true)
        .send()
        .await
        .unwrap();
    let polls = operation_polls(&emu).split_off(before);
    assert_eq!(polls, [Some(200); 4], "3 pending polls and the final one");

    // The same for a call with a response: the created repository.
    let before = operation_polls(&emu).len();
    let created = c
        .create_repository(&location(), "slow", Format::Npm)
        .send()
        .await
        .unwrap();
    assert_eq!(created.format, Format::Npm);
    assert_eq!(operation_polls(&emu).len() - before, 4);
}

#[tokio::test]
async fn polling_stops_at_the_deadline() {
    let emu = demo().await;
    let c = client(&emu, Some(DEMO_TOKEN));
    pending_polls(&emu, 1_000_000).await;
    let started = std::time::Instant::now();
    let err = c
        .delete_package(&package("npm", "@demo/widgets"))
        .with_polling(
            quick()
                .with_initial_delay(Duration::from_millis(20))
                .with_deadline(Some(Duration::from_millis(300))),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_timeout());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        operation_polls(&emu).len() >= 5,
        "it polled until the deadline"
    );
    // A call refused at its start fails at once, with its own kind.
    pending_polls(&emu, 0).await;
    let err = c.delete_repository(&repo("nope")).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RepositoryNotFound);
}
