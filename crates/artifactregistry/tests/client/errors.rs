//! Error answers: each not-found maps to its own kind, IAM denials and missing
//! credentials to theirs.

use gar_artifactregistry::model::Format;
use gar_core::names::{DockerImageName, FileName};
use gar_core::{ErrorCategory, ErrorKind};

use crate::common::{DEMO_TOKEN, VIEWER_TOKEN, client, demo, location, package, repo};

#[tokio::test]
async fn each_not_found_has_its_own_kind() {
    let emu = demo().await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let bundle = package("generic", "demo-bundle");
    let ghost_repo = package("ghost", "demo-bundle");
    let ghost_pkg = package("generic", "ghost");
    let v = |p: &gar_core::names::PackageName, id: &str| p.version(id.parse().unwrap());
    let t = |p: &gar_core::names::PackageName, id: &str| p.tag(id.parse().unwrap());

    let kind = |r: Result<(), gar_core::Error>| r.unwrap_err().kind();
    assert_eq!(
        kind(c.get_repository(&repo("ghost")).send().await.map(drop)),
        ErrorKind::RepositoryNotFound
    );
    assert_eq!(
        kind(c.get_package(&ghost_pkg).send().await.map(drop)),
        ErrorKind::PackageNotFound
    );
    assert_eq!(
        kind(c.get_version(&v(&bundle, "9.9")).send().await.map(drop)),
        ErrorKind::VersionNotFound
    );
    assert_eq!(
        kind(c.get_tag(&t(&bundle, "ghost")).send().await.map(drop)),
        ErrorKind::TagNotFound
    );
    // The innermost missing resource decides, whatever was asked for.
    assert_eq!(
        kind(
            c.get_version(&v(&ghost_pkg, "1.0.0"))
                .send()
                .await
                .map(drop)
        ),
        ErrorKind::PackageNotFound
    );
    assert_eq!(
        kind(
            c.get_version(&v(&ghost_repo, "1.0.0"))
                .send()
                .await
                .map(drop)
        ),
        ErrorKind::RepositoryNotFound
    );
    assert_eq!(
        kind(c.get_tag(&t(&ghost_pkg, "latest")).send().await.map(drop)),
        ErrorKind::PackageNotFound
    );
    assert_eq!(
        kind(c.list_versions(&ghost_pkg).send().await.map(drop)),
        ErrorKind::PackageNotFound
    );
    assert_eq!(
        kind(c.delete_version(&v(&bundle, "9.9")).send().await),
        ErrorKind::VersionNotFound
    );
    assert_eq!(
        kind(
            c.create_tag(&t(&bundle, "x"), &v(&bundle, "9.9"))
                .send()
                .await
                .map(drop)
        ),
        ErrorKind::VersionNotFound
    );
    let file: FileName = format!("{}/files/ghost.txt", repo("generic"))
        .parse()
        .unwrap();
    assert_eq!(
        kind(c.get_file(&file).send().await.map(drop)),
        ErrorKind::FileNotFound
    );
    let image: DockerImageName = format!(
        "{}/dockerImages/ghost@sha256:{}",
        repo("docker"),
        "0".repeat(64)
    )
    .parse()
    .unwrap();
    let err = c.get_docker_image(&image).send().await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = c
        .get_operation(&format!("{}/operations/ghost", location()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = c.get_version(&v(&bundle, "9.9")).send().await.unwrap_err();
    assert_eq!(err.http_status(), Some(404));
    assert!(err.to_string().contains("9.9"), "{err}");
}

#[tokio::test]
async fn iam_denials_and_missing_credentials() {
    let emu = demo().await;
    let viewer = client(&emu, Some(VIEWER_TOKEN));
    let bundle = package("generic", "demo-bundle");
    assert!(
        viewer.get_package(&bundle).send().await.is_ok(),
        "readers read"
    );
    let err = viewer.delete_package(&bundle).send().await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Authorization);
    assert_eq!(err.kind(), ErrorKind::RepositoryAccessDenied);
    assert_eq!(err.http_status(), Some(403));
    assert!(
        err.server_message()
            .unwrap()
            .contains("artifactregistry.packages.delete"),
        "{err}"
    );
    let err = viewer
        .update_repository(&repo("generic"))
        .set_description("no")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_authorization());
    let err = viewer
        .create_repository(&location(), "nope", Format::Generic)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_authorization());
    let err = viewer
        .create_tag(
            &bundle.tag("x".parse().unwrap()),
            &bundle.version("2.0.0".parse().unwrap()),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.is_authorization());

    let anonymous = client(&emu, None);
    let err = anonymous.get_package(&bundle).send().await.unwrap_err();
    assert!(err.is_authentication(), "{err:?}");
    assert_eq!(err.http_status(), Some(401));
    let err = client(&emu, Some("ya29.not-a-token"))
        .list_packages(&repo("generic"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_authentication(), "{err:?}");
}
