//! Images named as people type them, and moved through the registry: pull into
//! a layout, push, copy, inspect, delete.

use gar::{ErrorKind, Layout};

use crate::common::{client, emulator};

#[tokio::test]
async fn image_names_are_read_before_any_call() {
    let emu = emulator().await;
    let client = client(&emu).await;
    let before = emu.requests().len();
    let short = client.image("docker/team/app:1.0").unwrap();
    assert_eq!(
        short.repository.to_string(),
        "projects/demo-project/locations/us-central1/repositories/docker"
    );
    assert_eq!(short.image.as_str(), "team/app");
    assert_eq!(short.tag.as_ref().unwrap().as_str(), "1.0");
    assert_eq!(short.reference(), "1.0");
    let gar_host = client
        .image(&format!(
            "europe-west1-docker.pkg.dev/other-project/repo/app@sha256:{}",
            "a".repeat(64)
        ))
        .unwrap();
    assert_eq!(gar_host.repository.location().as_str(), "europe-west1");
    assert_eq!(gar_host.repository.project().as_str(), "other-project");
    assert_eq!(gar_host.reference(), format!("sha256:{}", "a".repeat(64)));
    let host = emu.url().trim_start_matches("http://");
    let on_emulator = client
        .image(&format!("{host}/demo-project/docker/hello"))
        .unwrap();
    assert_eq!(on_emulator.reference(), "latest");
    assert_eq!(
        client.image_reference(&on_emulator).unwrap().to_string(),
        format!("{host}/demo-project/docker/hello")
    );
    for (bad, kind) in [
        ("hello", ErrorKind::InvalidReference),
        ("docker.io/library/alpine:3", ErrorKind::InvalidReference),
        ("Docker/app", ErrorKind::InvalidRepository),
        ("docker/app:bad tag", ErrorKind::InvalidTag),
        ("docker/app@sha256:12", ErrorKind::InvalidDigest),
    ] {
        assert_eq!(client.image(bad).unwrap_err().kind(), kind, "{bad}");
    }
    assert_eq!(emu.requests().len(), before);
    emu.shutdown().await;
}

#[tokio::test]
async fn pull_push_copy_inspect_delete() {
    let emu = emulator().await;
    let client = client(&emu).await;
    let dir = std::env::temp_dir().join(format!("gar-facade-images-{}", std::process::id()));
    let layout = Layout::create(&dir).await.unwrap();

    let hello = client.image("docker/hello:latest").unwrap();
    let pulled = client
        .pull_image(&hello, &layout)
        .unwrap()
        .send()
        .await
        .unwrap();
    let resolved = client.resolve_image(&hello).await.unwrap();
    assert_eq!(&pulled.digest, resolved.digest());

    let target = client.image("docker/again:v1").unwrap();
    let pushed = client
        .push_image(&layout, &target)
        .unwrap()
        .with_name("latest")
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.digest, pulled.digest);
    assert_eq!(
        pushed.blobs_transferred + pushed.blobs_skipped + pushed.blobs_mounted,
        2
    );

    let copy = client.image("docker/copied:v2").unwrap();
    client
        .copy_image(&target, &copy)
        .unwrap()
        .send()
        .await
        .unwrap();
    let details = client.inspect_image(&copy).await.unwrap();
    assert_eq!(details.name.digest(), &pulled.digest);
    assert!(details.image.tags.contains(&"v2".to_owned()));
    assert_eq!(details.vulnerabilities.unwrap().total.total, 0);

    let manifest = client
        .oci(&copy)
        .unwrap()
        .get_manifest("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(manifest.digest(), &pulled.digest);

    let gone = client.delete_image(&copy).await.unwrap();
    assert_eq!(gone.digest(), &pulled.digest);
    let err = client.inspect_image(&copy).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    emu.shutdown().await;
}
