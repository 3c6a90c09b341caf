//! Every call of the client, against the emulator.

use futures_util::{StreamExt, TryStreamExt};
use gar_artifactregistry::model::{Format, HashType, Mode, VersionView};
use gar_core::ErrorKind;
use gar_core::cleanup::CleanupPolicies;
use gar_core::names::{DockerImageName, FileName, TagName, VersionName};
use gar_emulator::FaultRule;

use crate::common::{DEMO_TOKEN, VIEWER_TOKEN, client, demo, location, package, repo};

#[tokio::test]
async fn repositories_are_listed_read_created_updated_and_deleted() {
    let emu = demo().await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let all: Vec<_> = c
        .list_repositories(&location())
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 10);
    let maven: Vec<_> = c
        .list_repositories(&location())
        .set_filter(r#"name="*/repositories/mav*""#)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(maven.len(), 1);
    assert_eq!(maven[0].format, Format::Maven);
    let newest_name_first = c
        .list_repositories(&location())
        .set_order_by("name desc")
        .set_page_size(1)
        .send()
        .await
        .unwrap();
    assert_eq!(newest_name_first.items[0].name, repo("yum").to_string());
    assert!(newest_name_first.next_page_token.is_some());

    let docker = c.get_repository(&repo("docker")).send().await.unwrap();
    assert_eq!(
        (docker.format.clone(), docker.mode.clone()),
        (Format::Docker, Mode::Standard)
    );
    assert!(docker.size_bytes > 0, "the seeded image takes space");
    assert_eq!(
        docker.registry_uri,
        "us-central1-docker.pkg.dev/demo-project/docker"
    );
    assert_eq!(docker.docker_config.map(|d| d.immutable_tags), Some(false));

    let created = c
        .create_repository(&location(), "made-here", Format::Generic)
        .set_description("made by the client")
        .set_labels([("env", "test")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.name, repo("made-here").to_string());
    assert_eq!(created.format, Format::Generic);
    assert_eq!(created.labels.get("env").map(String::as_str), Some("test"));
    let policies = CleanupPolicies::from_gcloud_json(
        r#"[{"name":"old","action":{"type":"Delete"},"condition":{"olderThan":"30d"}}]"#,
    )
    .unwrap();
    let updated = c
        .update_repository(&repo("made-here"))
        .set_description("changed")
        .set_cleanup_policies(&policies)
        .set_cleanup_policy_dry_run(true)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description, "changed");
    assert_eq!(updated.cleanup_policies, policies);
    assert!(updated.cleanup_policy_dry_run);
    assert_eq!(
        updated.labels.get("env").map(String::as_str),
        Some("test"),
        "labels untouched"
    );
    let invalid =
        CleanupPolicies::from_gcloud_json(r#"[{"name":"x","action":{"type":"Delete"}}]"#).unwrap();
    let err = c
        .update_repository(&repo("made-here"))
        .set_cleanup_policies(&invalid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidArgument,
        "checked before sending"
    );
    c.delete_repository(&repo("made-here"))
        .send()
        .await
        .unwrap();
    let err = c
        .get_repository(&repo("made-here"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RepositoryNotFound);
}

#[tokio::test]
async fn packages_versions_and_tags() {
    let emu = demo().await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let generic = repo("generic");
    let packages: Vec<_> = c
        .list_packages(&generic)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(packages.len(), 1);
    let bundle = package("generic", "demo-bundle");
    assert_eq!(packages[0].name, bundle.to_string());
    let p = c.get_package(&bundle).send().await.unwrap();
    assert_eq!(
        p.annotations.get("team").map(String::as_str),
        Some("platform")
    );
    let filtered: Vec<_> = c
        .list_packages(&generic)
        .set_filter("annotations.team:platform")
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);

    let basic: Vec<_> = c
        .list_versions(&bundle)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(basic.len(), 2);
    assert!(
        basic.iter().all(|v| v.related_tags.is_empty()),
        "BASIC has no tags"
    );
    let full: Vec<_> = c
        .list_versions(&bundle)
        .set_view(VersionView::Full)
        .set_order_by("create_time desc")
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        full[0].version_name().unwrap().version().as_str(),
        "2.0.0",
        "newest first"
    );
    assert_eq!(
        full[0].related_tags[0].name,
        bundle.tag("latest".parse().unwrap()).to_string()
    );
    let v1: VersionName = bundle.version("1.0.0".parse().unwrap());
    let one = c
        .get_version(&v1)
        .set_view(VersionView::Full)
        .send()
        .await
        .unwrap();
    assert_eq!(one.related_tags.len(), 1);
    assert!(one.create_time.is_some());

    let tags: Vec<_> = c.list_tags(&bundle).by_item().try_collect().await.unwrap();
    assert_eq!(tags.len(), 2);
    let by_version: Vec<_> = c
        .list_tags(&bundle)
        .set_filter(format!(r#"version="{v1}""#))
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_version.len(), 1);
    let stable: TagName = bundle.tag("stable".parse().unwrap());
    assert_eq!(
        c.get_tag(&stable).send().await.unwrap().version,
        v1.to_string()
    );
    let candidate: TagName = bundle.tag("candidate".parse().unwrap());
    let v2 = bundle.version("2.0.0".parse().unwrap());
    let t = c.create_tag(&candidate, &v2).send().await.unwrap();
    assert_eq!(
        (t.name.clone(), t.version.clone()),
        (candidate.to_string(), v2.to_string())
    );
    let again = c.create_tag(&candidate, &v2).send().await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists);
    let moved = c.update_tag(&candidate, &v1).send().await.unwrap();
    assert_eq!(moved.version, v1.to_string());
    c.delete_tag(&candidate).send().await.unwrap();
    assert_eq!(
        c.get_tag(&candidate).send().await.unwrap_err().kind(),
        ErrorKind::TagNotFound
    );

    // A tagged version needs force, which deletes its tags with it.
    let err = c.delete_version(&v1).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    c.delete_version(&v1).set_force(true).send().await.unwrap();
    assert_eq!(
        c.get_tag(&stable).send().await.unwrap_err().kind(),
        ErrorKind::TagNotFound
    );
    let files: Vec<_> = c
        .list_files(&generic)
        .set_filter(format!(r#"owner="{v1}""#))
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert!(files.is_empty(), "the version's files went with it");

    // Batch delete: validate only, then for real.
    let missing = bundle.version("9.9.9".parse().unwrap());
    let check = c
        .batch_delete_versions(&bundle)
        .set_names([&v2, &missing])
        .set_validate_only(true)
        .send()
        .await
        .unwrap();
    assert_eq!(check.failed_versions, [missing.to_string()]);
    assert!(
        c.get_version(&v2).send().await.is_ok(),
        "validate only deletes nothing"
    );
    let done = c
        .batch_delete_versions(&bundle)
        .set_names([&v2])
        .send()
        .await
        .unwrap();
    assert!(done.failed_versions.is_empty());
    assert_eq!(
        c.get_package(&bundle).send().await.unwrap_err().kind(),
        ErrorKind::PackageNotFound,
        "a package without versions is gone"
    );

    let maven = package("maven", "com.example:demo-app");
    c.delete_package(&maven).send().await.unwrap();
    assert_eq!(
        c.get_package(&maven).send().await.unwrap_err().kind(),
        ErrorKind::PackageNotFound
    );
    let left: Vec<_> = c
        .list_files(&repo("maven"))
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert!(left.is_empty(), "its files went with it");
}

#[tokio::test]
async fn files_are_listed_read_downloaded_checked_and_deleted() {
    let emu = demo().await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let maven = repo("maven");
    let files: Vec<_> = c.list_files(&maven).by_item().try_collect().await.unwrap();
    assert_eq!(files.len(), 4);
    let jars: Vec<_> = c
        .list_files(&maven)
        .set_filter(r#"name="*.jar""#)
        .set_order_by("name desc")
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(jars.len(), 2);
    assert!(
        jars[0].name.ends_with("demo-app-1.1.0.jar"),
        "{}",
        jars[0].name
    );
    let name: FileName = jars[0].name.parse().unwrap();
    assert_eq!(
        name.file().as_str(),
        "com/example/demo-app/1.1.0/demo-app-1.1.0.jar"
    );
    let file = c.get_file(&name).send().await.unwrap();
    assert_eq!(file.size_bytes, 17);
    assert!(file.owner.ends_with("/versions/1.1.0"));
    let sha = file.hash(&HashType::Sha256).unwrap().value.clone();

    let download = c.download_file(&name).send().await.unwrap();
    assert_eq!(download.file().map(|f| f.size_bytes), Some(17));
    let mut content = Vec::new();
    assert_eq!(download.write_to(&mut content).await.unwrap(), 17);
    assert_eq!(content, b"PK demo jar 1.1.0");
    let chunks: Vec<_> = c
        .download_file(&name)
        .set_expected_sha256(sha.clone())
        .send()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.concat(), b"PK demo jar 1.1.0");

    // The hash is checked as the bytes flow: a wrong hash, then a corrupted transfer.
    let mut wrong = sha.clone();
    wrong[0] ^= 1;
    let items: Vec<_> = c
        .download_file(&name)
        .set_expected_sha256(wrong)
        .send()
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind(),
        ErrorKind::BlobDigestMismatch
    );
    emu.add_fault(FaultRule::corrupt().path("*:download").times(1))
        .unwrap();
    let err = c
        .download_file(&name)
        .send()
        .await
        .unwrap()
        .write_to(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.is_digest_mismatch(), "{err}");

    c.delete_file(&name).send().await.unwrap();
    assert_eq!(
        c.get_file(&name).send().await.unwrap_err().kind(),
        ErrorKind::FileNotFound
    );
}

#[tokio::test]
async fn docker_images_and_the_format_views() {
    let emu = demo().await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let images: Vec<_> = c
        .list_docker_images(&repo("docker"))
        .set_order_by("upload_time desc")
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(images.len(), 1);
    let hello = &images[0];
    assert_eq!(hello.tags, ["latest"]);
    assert!(
        hello
            .uri
            .starts_with("us-central1-docker.pkg.dev/demo-project/docker/hello@sha256:")
    );
    assert!(hello.image_size_bytes > 0);
    assert!(hello.upload_time.is_some());
    let name: DockerImageName = hello.name.parse().unwrap();
    assert_eq!(name.uri(), hello.uri);
    assert_eq!(&c.get_docker_image(&name).send().await.unwrap(), hello);
    // The docker image is also a package and a version.
    let hello_pkg = package("docker", "hello");
    let versions: Vec<_> = c
        .list_versions(&hello_pkg)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        versions[0].version_name().unwrap().version().as_str(),
        name.digest().as_str()
    );

    let maven: Vec<_> = c
        .list_maven_artifacts(&repo("maven"))
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(maven.len(), 2);
    assert_eq!(
        (maven[0].group_id.as_str(), maven[0].artifact_id.as_str()),
        ("com.example", "demo-app")
    );
    assert!(
        maven[0].pom_uri.ends_with("demo-app-1.0.0.pom"),
        "{}",
        maven[0].pom_uri
    );
    let npm: Vec<_> = c
        .list_npm_packages(&repo("npm"))
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(npm.len(), 2);
    assert_eq!(npm[0].package_name, "@demo/widgets");
    assert_eq!(npm[0].tags, ["latest"]);
    let python: Vec<_> = c
        .list_python_packages(&repo("python"))
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        python
            .iter()
            .map(|p| p.version.as_str())
            .collect::<Vec<_>>(),
        ["0.1.0", "0.2.0"]
    );
    let go: Vec<_> = c
        .list_go_modules(&repo("go"))
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(go[0].version, "v1.0.0");
    // Apt and Yum are read through packages.
    for id in ["apt", "yum"] {
        let p: Vec<_> = c
            .list_packages(&repo(id))
            .by_item()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            p[0].package_name().unwrap().package().as_str(),
            "demo-utils"
        );
    }
    let err = c
        .list_maven_artifacts(&repo("npm"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FormatMismatch, "{err}");
}

#[tokio::test]
async fn test_iam_permissions_follows_the_roles() {
    let emu = demo().await;
    let asked = [
        "artifactregistry.versions.list",
        "artifactregistry.tags.create",
        "artifactregistry.versions.delete",
        "artifactregistry.repositories.update",
    ];
    let admin = client(&emu, Some(DEMO_TOKEN))
        .test_iam_permissions(&repo("generic"))
        .set_permissions(asked)
        .send()
        .await
        .unwrap();
    assert_eq!(admin, asked);
    let viewer = client(&emu, Some(VIEWER_TOKEN))
        .test_iam_permissions(&repo("generic"))
        .set_permissions(asked)
        .send()
        .await
        .unwrap();
    assert_eq!(viewer, ["artifactregistry.versions.list"]);
}
