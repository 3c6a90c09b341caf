//! Three locations, one made unavailable by a fault rule: listings name it,
//! reads fail over past it.

use gar::{Client, ErrorKind};
use gar_emulator::seed::SeedRepository;
use gar_emulator::{Emulator, EmulatorHandle, FaultRule, Seed};
use serde_json::Value;

use crate::common::client;

const LOCATIONS: [&str; 3] = ["us-central1", "europe-west1", "asia-east1"];

/// The demo seed with a docker repository in each of the three locations, and
/// the fault: every REST call about europe-west1 answers 503.
async fn three_locations() -> EmulatorHandle {
    let mut seed = Seed::demo();
    for location in &LOCATIONS[1..] {
        seed.repositories.push(SeedRepository {
            name: format!("projects/demo-project/locations/{location}/repositories/docker"),
            format: Value::String("DOCKER".into()),
            description: format!("replica in {location}"),
            ..SeedRepository::default()
        });
        seed.repositories.push(SeedRepository {
            name: format!(
                "projects/demo-project/locations/{location}/repositories/only-{location}"
            ),
            format: Value::String("GENERIC".into()),
            ..SeedRepository::default()
        });
    }
    Emulator::builder()
        .seed(seed)
        .fault(FaultRule::status(503).path("/v1/projects/*/locations/europe-west1/*"))
        .start()
        .await
        .unwrap()
}

fn names(items: &[gar::model::Repository]) -> Vec<&str> {
    items.iter().map(|r| r.name.as_str()).collect()
}

#[tokio::test]
async fn listing_across_locations_names_the_unreachable_one() {
    let emu = three_locations().await;
    let client: Client = client(&emu).await;
    let across = client.locations(LOCATIONS).unwrap().repositories().await;
    assert!(!across.is_complete());
    assert_eq!(across.unreachable.len(), 1);
    assert_eq!(across.unreachable[0].location.as_str(), "europe-west1");
    assert_eq!(
        across.unreachable[0].error.kind(),
        ErrorKind::ServiceUnavailable
    );
    let reached: Vec<_> = across.reached.iter().map(|l| l.as_str()).collect();
    assert_eq!(reached, ["us-central1", "asia-east1"]);
    let listed = names(&across.items);
    assert!(
        listed.contains(&"projects/demo-project/locations/asia-east1/repositories/only-asia-east1")
    );
    assert!(listed.contains(&"projects/demo-project/locations/us-central1/repositories/docker"));
    assert!(!listed.iter().any(|n| n.contains("europe-west1")));
    // The calls really went out concurrently to each location, and the fault fired.
    let paths: Vec<_> = emu.requests().into_iter().map(|r| r.path).collect();
    for l in LOCATIONS {
        assert!(
            paths
                .iter()
                .any(|p| p.contains(&format!("/locations/{l}/"))),
            "{paths:?}"
        );
    }
    assert_eq!(emu.faults()[0].fired, 1);

    // Without the fault, every location answers.
    emu.clear_faults();
    let across = client.locations(LOCATIONS).unwrap().repositories().await;
    assert!(across.is_complete(), "{:?}", across.unreachable);
    assert!(
        names(&across.items).contains(
            &"projects/demo-project/locations/europe-west1/repositories/only-europe-west1"
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn reads_fail_over_between_replicas() {
    let emu = three_locations().await;
    let client = client(&emu).await;
    let replicas = client
        .locations(["europe-west1", "asia-east1", "us-central1"])
        .unwrap();
    let served = replicas
        .read(|c| async move { c.repositories()?.get("docker")?.send().await })
        .await
        .unwrap();
    assert_eq!(served.location.as_str(), "asia-east1");
    assert_eq!(served.value.description, "replica in asia-east1");
    assert_eq!(served.skipped.len(), 1);
    assert_eq!(served.skipped[0].location.as_str(), "europe-west1");

    // A not-found is an answer: no failover past it.
    let err = client
        .locations(["asia-east1", "us-central1"])
        .unwrap()
        .read(|c| async move { c.repositories()?.get("only-europe-west1")?.send().await })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RepositoryNotFound);

    // Every replica unavailable: one error naming them.
    let err = client
        .locations(["europe-west1"])
        .unwrap()
        .read(|c| async move { c.repositories()?.get("docker")?.send().await })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LocationUnavailable);
    assert!(err.to_string().contains("europe-west1"), "{err}");
    let source = std::error::Error::source(&err).unwrap();
    let source = source.downcast_ref::<gar::Error>().unwrap();
    assert_eq!(source.kind(), ErrorKind::ServiceUnavailable);

    // Bad locations are refused before any call.
    assert_eq!(
        client.locations(["mars-north1"]).unwrap_err().kind(),
        ErrorKind::InvalidLocation
    );
    assert_eq!(
        client.locations(Vec::<&str>::new()).unwrap_err().kind(),
        ErrorKind::InvalidLocation
    );
    emu.shutdown().await;
}
