//! The Artifact Registry REST surface, driven as a foreign client would: raw
//! HTTP, both percent-encoding forms, numeric enums, page tokens, operations,
//! error bodies, and consistency with the OCI side.

use gar_emulator::seed::{SeedPackage, SeedVersion};
use gar_emulator::{Emulator, EmulatorHandle, Seed};
use http::Method;
use serde_json::{Value, json};

use crate::common::{Client, DEMO_TOKEN, VIEWER_TOKEN, full};

const LOC: &str = "projects/demo-project/locations/us-central1";

fn repo(id: &str) -> String {
    format!("{LOC}/repositories/{id}")
}

async fn patch(c: &Client, path: &str, body: &Value) -> crate::common::Resp {
    c.send(
        Method::PATCH,
        path,
        &[("content-type", "application/json")],
        full(serde_json::to_vec(body).unwrap()),
    )
    .await
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A generic repository `many` with package `pkg` of `n` versions `v000`...,
/// version i created `n - i` hours ago, every fifth tagged `t{i}`.
async fn with_many(n: usize) -> EmulatorHandle {
    let mut seed = Seed::demo();
    seed.repositories.push(gar_emulator::seed::SeedRepository {
        name: repo("many"),
        format: json!("GENERIC"),
        ..Default::default()
    });
    seed.packages.push(SeedPackage {
        repository: repo("many"),
        package: "pkg".into(),
        versions: (0..n)
            .map(|i| SeedVersion {
                version: format!("v{i:03}"),
                tags: if i % 5 == 0 {
                    vec![format!("t{i}")]
                } else {
                    vec![]
                },
                age_seconds: i64::try_from((n - i) * 3600).unwrap(),
                annotations: [(
                    "parity".to_owned(),
                    if i % 2 == 0 { "even" } else { "odd" }.to_owned(),
                )]
                .into(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    });
    Emulator::builder().seed(seed).start().await.unwrap()
}

#[tokio::test]
async fn every_format_of_the_demo_has_data() {
    let emu = crate::common::demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c.get(&format!("/v1/{LOC}/repositories")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let repos = names(&r.json(), "repositories");
    assert!(repos.len() >= 10, "{repos:?}");
    for id in [
        "docker", "maven", "npm", "python", "apt", "yum", "go", "generic",
    ] {
        let packages = c.get(&format!("/v1/{}/packages", repo(id))).await.json();
        let packages = names(&packages, "packages");
        assert!(!packages.is_empty(), "{id} has packages");
        let versions = c.get(&format!("/v1/{}/versions", packages[0])).await.json();
        assert!(
            !names(&versions, "versions").is_empty(),
            "{id} has versions"
        );
        if id != "docker" {
            let files = c.get(&format!("/v1/{}/files", repo(id))).await.json();
            let files = files["files"].as_array().unwrap().clone();
            assert!(!files.is_empty(), "{id} has files");
            assert_eq!(files[0]["hashes"][0]["type"], "SHA256");
            let owner = files[0]["owner"].as_str().unwrap();
            assert!(owner.contains("/versions/"), "{owner}");
            let size: u64 = files[0]["sizeBytes"].as_str().unwrap().parse().unwrap();
            assert!(size > 0);
        }
    }
    for (id, collection, field) in [
        ("maven", "mavenArtifacts", "groupId"),
        ("npm", "npmPackages", "packageName"),
        ("python", "pythonPackages", "packageName"),
        ("go", "goModules", "version"),
        ("docker", "dockerImages", "uri"),
    ] {
        let r = c.get(&format!("/v1/{}/{collection}", repo(id))).await;
        assert_eq!(r.status, 200, "{collection}: {:?}", r.body);
        let items = r.json()[collection].as_array().unwrap().clone();
        assert!(!items.is_empty(), "{collection}");
        assert!(items[0][field].is_string(), "{collection}: {}", items[0]);
        let one = c
            .get(&format!("/v1/{}", items[0]["name"].as_str().unwrap()))
            .await;
        assert_eq!(one.status, 200, "{collection} get: {:?}", one.body);
        assert_eq!(one.json(), items[0]);
    }
    let wrong = c.get(&format!("/v1/{}/mavenArtifacts", repo("npm"))).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["error"]["status"], "FAILED_PRECONDITION");
}

#[tokio::test]
async fn both_encodings_and_numeric_enums_are_understood() {
    let emu = crate::common::demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let (_, digest) = c
        .push_image("demo-project/docker/team/app", "v1", &[b"layer"])
        .await;
    let hex = digest.trim_start_matches("sha256:");
    let single = c
        .get(&format!(
            "/v1/{}/packages/team%2Fapp/versions/sha256:{hex}?view=FULL",
            repo("docker")
        ))
        .await;
    let double = c
        .get(&format!(
            "/v1/{}/packages/team%252Fapp/versions/sha256%3A{hex}?view=2",
            repo("docker")
        ))
        .await;
    assert_eq!(single.status, 200, "{:?}", single.body);
    assert_eq!(single.json(), double.json());
    let v = single.json();
    assert_eq!(
        v["name"],
        format!("{}/packages/team%2Fapp/versions/{digest}", repo("docker"))
    );
    assert_eq!(
        v["relatedTags"][0]["name"],
        format!("{}/packages/team%2Fapp/tags/v1", repo("docker"))
    );
    assert!(v["metadata"]["imageSizeBytes"].is_string());
    let image = c
        .get(&format!(
            "/v1/{}/dockerImages/team%252Fapp@sha256%3A{hex}",
            repo("docker")
        ))
        .await;
    assert_eq!(image.status, 200, "{:?}", image.body);
    let image = image.json();
    assert_eq!(
        image["uri"],
        format!("us-central1-docker.pkg.dev/demo-project/docker/team/app@{digest}")
    );
    assert_eq!(image["tags"], json!(["v1"]));
    assert!(
        image["imageSizeBytes"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 5
    );
    assert!(image["uploadTime"].is_string());
    assert_eq!(image["mediaType"], crate::common::OCI_MANIFEST);

    // Enums as numbers, both ways.
    let named = c.get(&format!("/v1/{}", repo("docker"))).await.json();
    assert_eq!(
        (named["format"].clone(), named["mode"].clone()),
        (json!("DOCKER"), json!("STANDARD_REPOSITORY"))
    );
    assert!(named["sizeBytes"].is_string(), "int64 as a string");
    let numbered = c
        .get(&format!(
            "/v1/{}?%24alt=json%3Benum-encoding%3Dint",
            repo("docker")
        ))
        .await
        .json();
    assert_eq!(
        (numbered["format"].clone(), numbered["mode"].clone()),
        (json!(1), json!(1))
    );
    let r = patch(
        &c,
        &format!("/v1/{}?updateMask=cleanupPolicies,cleanup_policy_dry_run&$alt=json;enum-encoding=int", repo("generic")),
        &json!({"cleanupPolicies": {"old": {"id": "old", "action": 1, "condition": {"tagState": 2, "olderThan": "86400s"}}},
                "cleanupPolicyDryRun": true}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = r.json();
    assert_eq!(r["cleanupPolicies"]["old"]["action"], 1);
    assert_eq!(r["cleanupPolicies"]["old"]["condition"]["tagState"], 2);
    assert_eq!(r["cleanupPolicyDryRun"], true);
    let back = c.get(&format!("/v1/{}", repo("generic"))).await.json();
    assert_eq!(back["cleanupPolicies"]["old"]["action"], "DELETE");
    assert_eq!(
        back["cleanupPolicies"]["old"]["condition"]["tagState"],
        "UNTAGGED"
    );
    let files = c
        .get(&format!(
            "/v1/{}/files?$alt=json;enum-encoding=int",
            repo("generic")
        ))
        .await
        .json();
    assert_eq!(files["files"][0]["hashes"][0]["type"], 1);
    let bad = patch(
        &c,
        &format!("/v1/{}?updateMask=cleanupPolicies", repo("generic")),
        &json!({"cleanupPolicies": {"x": {"action": "DELETE"}}}),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn page_tokens_stay_valid_while_the_listing_changes() {
    let emu = with_many(30).await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let pkg = format!("{}/packages/pkg", repo("many"));
    let first = c
        .get(&format!("/v1/{pkg}/versions?pageSize=10"))
        .await
        .json();
    let first_names = names(&first, "versions");
    assert_eq!(first_names.len(), 10);
    let token = first["nextPageToken"].as_str().unwrap().to_owned();
    // Delete one listed version and one not yet listed, then go on.
    for v in ["v003", "v012"] {
        let r = c.delete(&format!("/v1/{pkg}/versions/{v}")).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.json()["done"], true);
    }
    let mut seen = first_names.clone();
    let mut token = Some(token);
    while let Some(t) = token {
        let page = c
            .get(&format!("/v1/{pkg}/versions?pageSize=10&pageToken={t}"))
            .await
            .json();
        seen.extend(names(&page, "versions"));
        token = page["nextPageToken"].as_str().map(str::to_owned);
    }
    let expected: Vec<String> = (0..30)
        .filter(|i| *i != 12)
        .map(|i| format!("{pkg}/versions/v{i:03}"))
        .collect();
    assert_eq!(seen, expected, "no version skipped or repeated");

    // A token is bound to its filter and order.
    let r = c
        .get(&format!(
            "/v1/{pkg}/versions?pageSize=10&orderBy=createTime%20desc&pageToken={}",
            first["nextPageToken"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        c.get(&format!("/v1/{pkg}/versions?pageSize=-1"))
            .await
            .status,
        400
    );

    // Order and filters.
    let newest = c
        .get(&format!(
            "/v1/{pkg}/versions?pageSize=3&orderBy=create_time%20desc"
        ))
        .await
        .json();
    assert_eq!(
        names(&newest, "versions"),
        ["v029", "v028", "v027"].map(|v| format!("{pkg}/versions/{v}"))
    );
    let filtered = c
        .get(&format!(
            "/v1/{pkg}/versions?filter={}",
            crate::common::query_escape(r#"annotations.parity:odd AND name="*v00*""#)
        ))
        .await
        .json();
    assert_eq!(
        names(&filtered, "versions"),
        ["v001", "v005", "v007", "v009"].map(|v| format!("{pkg}/versions/{v}")),
        "v003 was deleted"
    );
    let tags = c
        .get(&format!(
            "/v1/{pkg}/tags?filter={}",
            crate::common::query_escape(&format!(r#"version="{pkg}/versions/v010""#))
        ))
        .await
        .json();
    assert_eq!(names(&tags, "tags"), [format!("{pkg}/tags/t10")]);
    let bad = c.get(&format!("/v1/{pkg}/versions?filter=size%3D3")).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn operations_can_stay_pending_for_some_polls() {
    let emu = crate::common::demo().await;
    let admin = Client::new(emu.url());
    let r = admin
        .post_json("/_emulator/operations", &json!({"pendingPolls": 2}))
        .await;
    assert_eq!(r.json()["pendingPolls"], 2);
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let file = format!("{}/files/demo-bundle:1.0.0:README.txt", repo("generic"));
    let op = c.delete(&format!("/v1/{file}")).await;
    assert_eq!(op.status, 200, "{:?}", op.body);
    let op = op.json();
    assert!(op.get("done").is_none(), "{op}");
    let name = op["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with(&format!("{LOC}/operations/")), "{name}");
    for _ in 0..2 {
        let p = c.get(&format!("/v1/{name}")).await.json();
        assert!(p.get("done").is_none(), "{p}");
        assert_eq!(
            p["metadata"]["@type"],
            "type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata"
        );
    }
    let done = c.get(&format!("/v1/{name}")).await.json();
    assert_eq!(done["done"], true);
    assert_eq!(
        done["response"]["@type"],
        "type.googleapis.com/google.protobuf.Empty"
    );
    assert_eq!(c.get(&format!("/v1/{file}")).await.status, 404);
    let missing = c.get(&format!("/v1/{LOC}/operations/nope")).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn errors_have_google_bodies_and_name_the_missing_resource() {
    let emu = crate::common::demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let anonymous = Client::new(emu.url());
    let r = anonymous.get(&format!("/v1/{}", repo("generic"))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["status"], "UNAUTHENTICATED");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let r = Client::new(emu.url())
        .bearer("ya29.unknown")
        .get(&format!("/v1/{}", repo("generic")))
        .await;
    assert_eq!(r.status, 401);

    let viewer = Client::new(emu.url()).bearer(VIEWER_TOKEN);
    assert_eq!(
        viewer
            .get(&format!("/v1/{}/packages", repo("generic")))
            .await
            .status,
        200
    );
    let r = viewer
        .delete(&format!("/v1/{}/packages/demo-bundle", repo("generic")))
        .await;
    assert_eq!(r.status, 403);
    let e = r.json()["error"].clone();
    assert_eq!(e["status"], "PERMISSION_DENIED");
    assert_eq!(e["details"][0]["reason"], "IAM_PERMISSION_DENIED");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("artifactregistry.packages.delete")
    );
    let r = viewer
        .post_json(&format!("/v1/{}:testIamPermissions", repo("generic")), &json!({"permissions": [
            "artifactregistry.versions.list", "artifactregistry.versions.delete", "artifactregistry.tags.create", "storage.objects.get"]}))
        .await;
    assert_eq!(
        r.json()["permissions"],
        json!(["artifactregistry.versions.list"])
    );

    let pkg = format!("{}/packages/demo-bundle", repo("generic"));
    for (path, kind) in [
        (format!("{LOC}/repositories/nope"), "Repository"),
        (format!("{LOC}/repositories/nope/packages/x"), "Repository"),
        (format!("{}/packages/nope", repo("generic")), "Package"),
        (
            format!("{}/packages/nope/versions/1", repo("generic")),
            "Package",
        ),
        (format!("{pkg}/versions/9.9"), "Version"),
        (format!("{pkg}/tags/nope"), "Tag"),
        (format!("{}/files/nope", repo("generic")), "File"),
    ] {
        let r = c.get(&format!("/v1/{path}")).await;
        assert_eq!(r.status, 404, "{path}");
        let e = r.json()["error"].clone();
        assert_eq!(e["status"], "NOT_FOUND");
        assert_eq!(
            e["details"][0]["resourceType"],
            format!("artifactregistry.googleapis.com/{kind}"),
            "{path}"
        );
    }
    let r = c.delete(&format!("/v1/{pkg}/versions/1.0.0")).await;
    assert_eq!(r.status, 400, "a tagged version needs force");
    assert_eq!(r.json()["error"]["status"], "FAILED_PRECONDITION");
    let r = c
        .delete(&format!("/v1/{pkg}/versions/1.0.0?force=true"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        c.get(&format!("/v1/{pkg}/tags/stable")).await.status,
        404,
        "its tag went with it"
    );
    let r = c
        .get("/v1/projects/demo-project/locations/us-central1/repositories/generic/widgets")
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn rest_and_oci_views_agree() {
    let emu = crate::common::demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let (_, digest) = c
        .push_image("demo-project/docker/web", "1.0", &[b"one"])
        .await;
    let pkg = format!("{}/packages/web", repo("docker"));
    let version = format!("{pkg}/versions/{digest}");
    // Tags made over REST are seen by the OCI side, and the reverse.
    let r = c
        .post_json(
            &format!("/v1/{pkg}/tags?tagId=stable"),
            &json!({"version": version}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["name"], format!("{pkg}/tags/stable"));
    let dup = c
        .post_json(
            &format!("/v1/{pkg}/tags?tagId=stable"),
            &json!({"version": version}),
        )
        .await;
    assert_eq!(dup.status, 409);
    let m = c.get("/v2/demo-project/docker/web/manifests/stable").await;
    assert_eq!(m.status, 200);
    assert_eq!(m.header("docker-content-digest"), Some(digest.as_str()));
    let tags = c.get(&format!("/v1/{pkg}/tags")).await.json();
    assert_eq!(
        names(&tags, "tags"),
        [format!("{pkg}/tags/1.0"), format!("{pkg}/tags/stable")]
    );
    // Deleting the version over REST removes the manifest and its tags at once.
    let r = c.delete(&format!("/v1/{version}?force=true")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        c.get(&format!("/v2/demo-project/docker/web/manifests/{digest}"))
            .await
            .status,
        404
    );
    assert_eq!(
        c.get("/v2/demo-project/docker/web/manifests/stable")
            .await
            .status,
        404
    );
    assert_eq!(
        c.get(&format!("/v1/{pkg}")).await.status,
        404,
        "the image is gone"
    );
    let images = c
        .get(&format!("/v1/{}/dockerImages", repo("docker")))
        .await
        .json();
    assert!(
        !names(&images, "dockerImages")
            .iter()
            .any(|n| n.contains("/web@"))
    );
}

#[tokio::test]
async fn repositories_are_created_updated_and_deleted() {
    let emu = crate::common::demo().await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = c
        .post_json(
            &format!("/v1/{LOC}/repositories?repositoryId=extra"),
            &json!({"format": 11, "description": "made over REST", "labels": {"env": "test"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let op = r.json();
    assert_eq!(op["done"], true);
    assert_eq!(
        op["response"]["@type"],
        "type.googleapis.com/google.devtools.artifactregistry.v1.Repository"
    );
    assert_eq!(op["response"]["format"], "GENERIC");
    assert_eq!(
        c.post_json(
            &format!("/v1/{LOC}/repositories?repositoryId=extra"),
            &json!({"format": "GENERIC"})
        )
        .await
        .status,
        409
    );
    let viewer = Client::new(emu.url()).bearer(VIEWER_TOKEN);
    assert_eq!(
        viewer
            .post_json(
                &format!("/v1/{LOC}/repositories?repositoryId=other"),
                &json!({"format": "GENERIC"})
            )
            .await
            .status,
        403
    );
    let listed = c
        .get(&format!(
            "/v1/{LOC}/repositories?filter={}",
            crate::common::query_escape(r#"name="*/extra""#)
        ))
        .await
        .json();
    assert_eq!(names(&listed, "repositories"), [repo("extra")]);
    let r = patch(
        &c,
        &format!("/v1/{}?updateMask=description", repo("extra")),
        &json!({"description": "changed", "labels": {}}),
    )
    .await;
    assert_eq!(r.json()["description"], "changed");
    assert_eq!(
        r.json()["labels"]["env"],
        "test",
        "only masked fields change"
    );
    let r = c.delete(&format!("/v1/{}", repo("extra"))).await;
    assert_eq!(r.json()["done"], true);
    assert_eq!(c.get(&format!("/v1/{}", repo("extra"))).await.status, 404);
}

#[tokio::test]
async fn the_cleanup_pass_runs_on_demand_and_respects_dry_run() {
    let emu = with_many(10).await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let admin = Client::new(emu.url());
    let policies = json!({"cleanupPolicies": {
        "old": {"id": "old", "action": "DELETE", "condition": {"olderThan": "18000s"}},
        "keep-tagged": {"id": "keep-tagged", "action": "KEEP", "condition": {"tagState": "TAGGED"}}
    }, "cleanupPolicyDryRun": true});
    let r = patch(
        &c,
        &format!(
            "/v1/{}?updateMask=cleanupPolicies,cleanupPolicyDryRun",
            repo("many")
        ),
        &policies,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Versions v000..v004 are 10..6 hours old; v000 and v005 are tagged.
    let run = |dry: Option<bool>| {
        let admin = admin.clone();
        async move {
            let mut body = json!({"repository": repo("many")});
            if let Some(d) = dry {
                body["dryRun"] = json!(d);
            }
            let r = admin.post_json("/_emulator/cleanup", &body).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.json()["repositories"][0].clone()
        }
    };
    let report = run(None).await;
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["deleted"], json!([]));
    let action = |v: &str| {
        report["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["version"].as_str().unwrap().ends_with(v))
            .unwrap()
            .clone()
    };
    assert_eq!(action("v000")["action"], "KEEP");
    assert_eq!(action("v000")["overrides"], json!(["old"]));
    assert_eq!(action("v001")["action"], "DELETE");
    assert_eq!(action("v009")["action"], "NONE");
    patch(
        &c,
        &format!("/v1/{}?updateMask=cleanupPolicyDryRun", repo("many")),
        &json!({}),
    )
    .await;
    let report = run(None).await;
    assert_eq!(report["dryRun"], false);
    let pkg = format!("{}/packages/pkg", repo("many"));
    assert_eq!(
        report["deleted"],
        json!(["v001", "v002", "v003", "v004"].map(|v| format!("{pkg}/versions/{v}")))
    );
    let left = c.get(&format!("/v1/{pkg}/versions")).await.json();
    assert_eq!(names(&left, "versions").len(), 6);
    let again = run(Some(true)).await;
    assert_eq!(again["deleted"], json!([]));
}

#[tokio::test]
async fn page_sizes_are_capped_and_project_numbers_resolve() {
    let emu = with_many(1005).await;
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let pkg = format!("{}/packages/pkg", repo("many"));
    let page = c
        .get(&format!("/v1/{pkg}/versions?pageSize=5000"))
        .await
        .json();
    assert_eq!(
        names(&page, "versions").len(),
        1000,
        "at most 1000 per page"
    );
    let rest = c
        .get(&format!(
            "/v1/{pkg}/versions?page_size=5000&page_token={}",
            page["nextPageToken"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(names(&rest, "versions").len(), 5);
    assert!(rest.get("nextPageToken").is_none());
    let default = c.get(&format!("/v1/{pkg}/versions")).await.json();
    assert_eq!(names(&default, "versions").len(), 100, "the default page");
    let by_number = c
        .get("/v1/projects/123456789012/locations/us-central1/repositories/generic")
        .await;
    assert_eq!(by_number.status, 200, "{:?}", by_number.body);
    assert_eq!(by_number.json()["name"], repo("generic"));
}

#[tokio::test]
async fn repository_bindings_reach_their_repository_and_its_operations_only() {
    let mut seed = Seed::demo();
    seed.users.push(gar_emulator::seed::SeedUser {
        email: "keeper@example.com".into(),
        ..Default::default()
    });
    seed.tokens.push(gar_emulator::seed::SeedToken {
        token: "ya29.keeper".into(),
        principal: "user:keeper@example.com".into(),
    });
    seed.roles.push(gar_emulator::seed::SeedRole {
        principal: "user:keeper@example.com".into(),
        role: "repoAdmin".into(),
        resource: repo("generic"),
    });
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let admin = Client::new(emu.url());
    admin
        .post_json("/_emulator/operations", &json!({"pendingPolls": 1}))
        .await;
    let keeper = Client::new(emu.url()).bearer("ya29.keeper");
    let op = keeper
        .delete(&format!(
            "/v1/{}/files/demo-bundle:2.0.0:bundle.tar",
            repo("generic")
        ))
        .await;
    assert_eq!(op.status, 200, "{:?}", op.body);
    let name = op.json()["name"].as_str().unwrap().to_owned();
    let polled = keeper.get(&format!("/v1/{name}")).await;
    assert_eq!(
        polled.status, 200,
        "the repository's admin polls its operation"
    );
    assert_eq!(
        keeper.get(&format!("/v1/{name}")).await.json()["done"],
        true
    );
    let viewer = Client::new(emu.url()).bearer(VIEWER_TOKEN);
    assert_eq!(
        viewer.get(&format!("/v1/{name}")).await.status,
        200,
        "project readers too"
    );
    assert_eq!(
        keeper.get(&format!("/v1/{}", repo("maven"))).await.status,
        403
    );
    assert_eq!(
        keeper.get(&format!("/v1/{LOC}/repositories")).await.status,
        403,
        "listing is project-level"
    );
    let other_op = Client::new(emu.url())
        .bearer(DEMO_TOKEN)
        .delete(&format!("/v1/{}/packages/demo-tool", repo("python")))
        .await
        .json();
    let other = other_op["name"].as_str().unwrap();
    assert_eq!(keeper.get(&format!("/v1/{other}")).await.status, 403);
}

#[tokio::test]
async fn cleanup_settings_and_deletions_survive_a_restart() {
    let dir = crate::process::temp_dir("rest-restart");
    let emu = Emulator::builder().data_dir(&dir).start().await.unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let r = patch(
        &c,
        &format!("/v1/{}?updateMask=cleanupPolicies,cleanupPolicyDryRun", repo("npm")),
        &json!({"cleanupPolicies": {"beta": {"action": "DELETE", "condition": {"tagPrefixes": ["beta"]}}},
                "cleanupPolicyDryRun": true}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let gone = format!(
        "{}/packages/@demo%2Fwidgets/versions/1.0.0?force=true",
        repo("npm")
    );
    assert_eq!(c.delete(&format!("/v1/{gone}")).await.status, 200);
    emu.shutdown().await;
    let emu = Emulator::builder().data_dir(&dir).start().await.unwrap();
    let c = Client::new(emu.url()).bearer(DEMO_TOKEN);
    let back = c.get(&format!("/v1/{}", repo("npm"))).await.json();
    assert_eq!(
        back["cleanupPolicies"]["beta"]["condition"]["tagPrefixes"],
        json!(["beta"])
    );
    assert_eq!(back["cleanupPolicyDryRun"], true);
    let versions = c
        .get(&format!(
            "/v1/{}/packages/@demo%2Fwidgets/versions",
            repo("npm")
        ))
        .await
        .json();
    assert_eq!(names(&versions, "versions").len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
