//! The service handles: every resource of the demo seed through short ids,
//! writes, downloads checked against their hash, and typed errors before any call.

use futures_util::TryStreamExt;
use gar::ErrorKind;
use gar::model::Format;

use crate::common::{client, emulator};

#[tokio::test]
async fn every_resource_through_short_ids() {
    let emu = emulator().await;
    let client = client(&emu).await;

    let repos: Vec<_> = client
        .repositories()
        .unwrap()
        .list()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    let formats: Vec<_> = repos.iter().map(|r| r.format.clone()).collect();
    for f in [
        Format::Docker,
        Format::Maven,
        Format::Npm,
        Format::Python,
        Format::Generic,
    ] {
        assert!(formats.contains(&f), "{f:?} missing from {formats:?}");
    }
    let docker = client
        .repositories()
        .unwrap()
        .get("docker")
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(docker.format, Format::Docker);

    let packages: Vec<_> = client
        .packages("generic")
        .unwrap()
        .list()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(packages.len(), 1);
    assert!(packages[0].name.ends_with("/packages/demo-bundle"));

    let versions = client.versions("generic", "demo-bundle").unwrap();
    let mut listed: Vec<_> = versions
        .list()
        .set_view(gar::model::VersionView::Full)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed.len(), 2);
    assert!(listed[0].name.ends_with("/versions/1.0.0"));
    assert_eq!(listed[0].related_tags.len(), 1);

    // Tags: create, move, read, delete.
    let tags = client.tags("generic", "demo-bundle").unwrap();
    tags.create("candidate", "1.0.0")
        .unwrap()
        .send()
        .await
        .unwrap();
    let moved = tags
        .update("candidate", "2.0.0")
        .unwrap()
        .send()
        .await
        .unwrap();
    assert!(moved.version.ends_with("/versions/2.0.0"), "{moved:?}");
    let read = tags.get("candidate").unwrap().send().await.unwrap();
    assert_eq!(read, moved);
    tags.delete("candidate").unwrap().send().await.unwrap();
    let err = tags.get("candidate").unwrap().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TagNotFound, "{err:?}");

    // Files: list, read, download checked against the listed SHA-256.
    let files = client.files("generic").unwrap();
    let listed: Vec<_> = files.list().by_item().try_collect().await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let download = files
        .download("demo-bundle:2.0.0:README.txt")
        .unwrap()
        .send()
        .await
        .unwrap();
    let mut bytes = Vec::new();
    download.write_to(&mut bytes).await.unwrap();
    assert_eq!(bytes, b"demo bundle 2.0.0\n");

    // Docker images, listed and read by digest.
    let images: Vec<_> = client
        .docker_images("docker")
        .unwrap()
        .list()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    let hello = images
        .iter()
        .find(|i| i.tags.contains(&"latest".to_owned()))
        .unwrap();
    let name = hello.docker_image_name().unwrap();
    let by_digest = format!("{}@{}", name.image(), name.digest());
    let read = client
        .docker_images("docker")
        .unwrap()
        .get(&by_digest)
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(&read, hello);

    // Deleting a version and a package, waiting for their operations.
    let versions = client.versions("generic", "demo-bundle").unwrap();
    versions
        .delete("1.0.0")
        .unwrap()
        .set_force(true)
        .send()
        .await
        .unwrap();
    let err = versions.get("1.0.0").unwrap().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::VersionNotFound);
    client
        .packages("generic")
        .unwrap()
        .delete("demo-bundle")
        .unwrap()
        .send()
        .await
        .unwrap();
    let err = client
        .packages("generic")
        .unwrap()
        .get("demo-bundle")
        .unwrap()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PackageNotFound);

    // A repository created and deleted, by full name too.
    let created = client
        .repositories()
        .unwrap()
        .create("scratch", Format::Generic)
        .send()
        .await
        .unwrap();
    client
        .repositories()
        .unwrap()
        .delete(&created.name)
        .unwrap()
        .send()
        .await
        .unwrap();
    let err = client
        .packages("scratch")
        .unwrap()
        .list()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RepositoryNotFound);
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_names_fail_before_any_request() {
    let emu = emulator().await;
    let client = client(&emu).await;
    let before = emu.requests().len();
    assert_eq!(
        client.packages("Bad_Repo").unwrap_err().kind(),
        ErrorKind::InvalidRepository
    );
    assert_eq!(
        client.versions("docker", "").unwrap_err().kind(),
        ErrorKind::InvalidPackage
    );
    let err = client
        .tags("generic", "demo-bundle")
        .unwrap()
        .get("bad tag!")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTag);
    let err = client
        .docker_images("docker")
        .unwrap()
        .get("hello:latest")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidReference);
    let err = client
        .docker_images("docker")
        .unwrap()
        .get("hello@sha256:abc")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidDigest);
    assert_eq!(
        client
            .repository_name("projects/my-project/locations/nowhere/repositories/r")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidLocation
    );
    assert_eq!(
        client.cleanup("UPPER").unwrap_err().kind(),
        ErrorKind::InvalidRepository
    );
    let err = client.with_location("us-centrl1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidLocation);
    // No project: the handles say how to set one.
    let unscoped = gar::Client::builder()
        .emulator(emu.url())
        .credentials(gar::Credentials::Anonymous)
        .environment_map(crate::common::env(&[]))
        .build()
        .await
        .unwrap();
    assert_eq!(
        unscoped.repositories().unwrap_err().kind(),
        ErrorKind::InvalidProject
    );
    assert_eq!(
        emu.requests().len(),
        before,
        "no request may have been sent"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn cleanup_reports_without_deleting() {
    let emu = emulator().await;
    let client = client(&emu).await;
    let policies = gar_core::cleanup::CleanupPolicies::from_gcloud_json(
        r#"[{"name": "old", "action": {"type": "Delete"}, "condition": {"olderThan": "30d"}},
            {"name": "stable", "action": {"type": "Keep"}, "condition": {"tagState": "tagged", "tagPrefixes": ["stable"]}}]"#,
    )
    .unwrap();
    let plan = client
        .cleanup("maven")
        .unwrap()
        .set_policies(policies)
        .report()
        .await
        .unwrap();
    let doomed: Vec<_> = plan.deletions().map(|v| v.to_string()).collect();
    assert_eq!(doomed.len(), 1, "{doomed:?}");
    assert!(doomed[0].ends_with("/versions/1.0.0"));
    // Nothing was deleted.
    let versions: Vec<_> = client
        .versions("maven", "com.example:demo-app")
        .unwrap()
        .list()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    emu.shutdown().await;
}
