//! Three locations, one made unavailable by a fault rule: listings name it,
//! reads fail over past it.

use futures_util::TryStreamExt;
use gar::names::Location;
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

/// The three locations of [`three_locations`]'s seed, with the fault on every
/// request about europe-west1 (its registry named by host, its REST paths).
async fn three_locations_one_down() -> EmulatorHandle {
    let emu = three_locations().await;
    emu.clear_faults();
    emu.add_fault(FaultRule::status(503).location("europe-west1"))
        .unwrap();
    emu
}

#[tokio::test]
async fn registry_reads_fail_over_between_replicas() {
    let emu = three_locations_one_down().await;
    let client = client(&emu).await;
    // A replica of docker/hello in asia-east1, under a tag only it holds.
    let dir = std::env::temp_dir().join(format!("gar-facade-replicas-{}", std::process::id()));
    let layout = gar::Layout::create(&dir).await.unwrap();
    let hello = client.image("docker/hello:latest").unwrap();
    let pulled = client
        .pull_image(&hello, &layout)
        .unwrap()
        .send()
        .await
        .unwrap();
    let asia: Location = "asia-east1".parse().unwrap();
    let in_asia = client.image("docker/hello:only-asia").unwrap().at(&asia);
    client
        .push_image(&layout, &in_asia)
        .unwrap()
        .send()
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    // Writes never fail over: a push to the unavailable location fails there.
    let europe: Location = "europe-west1".parse().unwrap();
    let layout = gar::Layout::create(&dir).await.unwrap();
    client
        .pull_image(&hello, &layout)
        .unwrap()
        .send()
        .await
        .unwrap();
    let err = client
        .push_image(&layout, &in_asia.at(&europe))
        .unwrap()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    let replicas = client
        .locations(["europe-west1", "asia-east1", "us-central1"])
        .unwrap();
    let image = client.image("docker/hello:only-asia").unwrap();
    let mark = emu.requests().len();

    // Manifest get: europe-west1 is skipped, asia-east1 answers.
    let served = replicas.get_manifest(&image).await.unwrap();
    assert_eq!(served.location.as_str(), "asia-east1");
    assert_eq!(served.value.digest(), &pulled.digest);
    assert_eq!(served.skipped.len(), 1);
    assert_eq!(served.skipped[0].location.as_str(), "europe-west1");
    assert_eq!(
        served.skipped[0].error.kind(),
        ErrorKind::ServiceUnavailable
    );

    // Tag list.
    let tags = replicas.list_tags(&image).await.unwrap();
    assert_eq!(tags.location.as_str(), "asia-east1");
    let names: Vec<String> = tags.value.try_collect().await.unwrap();
    assert_eq!(names, ["only-asia"]);

    // Blob get: the config blob, verified as it flows.
    let config = served.value.as_image().unwrap().config.clone();
    let blob = replicas.get_blob(&image, &config.digest).await.unwrap();
    assert_eq!(blob.location.as_str(), "asia-east1");
    let bytes: Vec<_> = blob.value.try_collect().await.unwrap();
    let size: usize = bytes.iter().map(|b| b.len()).sum();
    assert_eq!(size as u64, config.size);

    // What the emulator saw: europe-west1's registry answered 503 (the fault),
    // asia-east1's served; us-central1 was never asked.
    let seen: Vec<_> = emu.requests().into_iter().skip(mark).collect();
    let europe_manifest = seen
        .iter()
        .filter(|r| {
            r.operation.starts_with("oci.") && r.location.as_deref() == Some("europe-west1")
        })
        .collect::<Vec<_>>();
    assert!(!europe_manifest.is_empty());
    assert!(europe_manifest.iter().all(|r| r.status == Some(503)));
    for op in ["oci.manifest.get", "oci.tags.list", "oci.blob.get"] {
        assert!(
            seen.iter().any(|r| r.operation == op
                && r.location.as_deref() == Some("asia-east1")
                && r.status == Some(200)),
            "{op}: {seen:?}"
        );
    }
    assert!(
        !seen
            .iter()
            .any(|r| r.location.as_deref() == Some("us-central1")),
        "{seen:?}"
    );

    // Not found is an answer: asia-east1 has no `latest`, and us-central1
    // (which has) is not asked.
    let mark = emu.requests().len();
    let err = client
        .locations(["asia-east1", "us-central1"])
        .unwrap()
        .get_manifest(&hello)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestNotFound, "{err}");
    assert!(
        !emu.requests()
            .into_iter()
            .skip(mark)
            .any(|r| r.location.as_deref() == Some("us-central1"))
    );

    // Every replica unavailable: one error naming them.
    let err = client
        .locations(["europe-west1"])
        .unwrap()
        .list_tags(&image)
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::LocationUnavailable);
    assert!(err.to_string().contains("europe-west1"), "{err}");

    // Without the fault, the first replica answers (its own 404 included).
    emu.clear_faults();
    let err = replicas.get_manifest(&image).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ManifestNotFound);
    emu.shutdown().await;
}
