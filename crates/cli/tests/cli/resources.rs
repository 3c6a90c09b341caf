//! Every resource command, in table and JSON form.

use serde_json::Value;

use crate::common::*;

#[test]
fn repositories_packages_versions_and_tags() {
    let emu = start();
    // repos list: JSON is the API's resources, the table has a header.
    let repos = json(&emu, &["repos", "list"]);
    let listed = names(&repos);
    assert_eq!(listed.len(), 10, "{listed:?}");
    let docker = repos
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().ends_with("/docker"))
        .unwrap();
    assert_eq!(docker["format"], "DOCKER");
    let text = table(&emu, &["repos", "list"]);
    assert!(text.starts_with("REPOSITORY  FORMAT"), "{text}");
    assert!(text.contains("maven       MAVEN"), "{text}");

    let repo = json(&emu, &["repos", "get", "npm"]);
    assert_eq!(
        repo["name"],
        format!("projects/{PROJECT}/locations/us-central1/repositories/npm")
    );
    // Full names work too, and --project/--location flags beat the environment.
    let full = format!("projects/{PROJECT}/locations/us-central1/repositories/npm");
    assert_eq!(json(&emu, &["repos", "get", &full]), repo);

    let created = json(
        &emu,
        &[
            "repos",
            "create",
            "scratch",
            "--format",
            "generic",
            "--description",
            "made by a test",
        ],
    );
    assert_eq!(created["format"], "GENERIC");
    assert_eq!(created["description"], "made by a test");
    let gone = json(&emu, &["repos", "delete", "scratch"]);
    assert_eq!(
        gone["deleted"],
        format!("projects/{PROJECT}/locations/us-central1/repositories/scratch")
    );

    let packages = json(&emu, &["packages", "list", "npm"]);
    assert_eq!(
        names(&packages),
        [format!("{full}/packages/@demo%2Fwidgets")]
    );
    let package = json(&emu, &["packages", "get", "npm", "@demo/widgets"]);
    assert_eq!(package, packages[0]);

    // Versions come with their tags (view FULL), newest first.
    let versions = json(&emu, &["versions", "list", "npm", "@demo/widgets"]);
    let v = names(&versions);
    assert!(
        v[0].ends_with("/versions/1.1.0-beta.1") && v[1].ends_with("/versions/1.0.0"),
        "{v:?}"
    );
    assert!(
        versions[0]["relatedTags"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with("/tags/beta")
    );
    let one = json(&emu, &["versions", "get", "npm", "@demo/widgets", "1.0.0"]);
    assert_eq!(one["name"], versions[1]["name"]);
    let text = table(&emu, &["versions", "list", "npm", "@demo/widgets"]);
    assert!(text.contains("1.1.0-beta.1  beta"), "{text}");

    // Tags: create, update, get, list, delete.
    let tag = json(
        &emu,
        &["tags", "create", "npm", "@demo/widgets", "next", "1.0.0"],
    );
    assert!(
        tag["version"]
            .as_str()
            .unwrap()
            .ends_with("/versions/1.0.0")
    );
    let tag = json(
        &emu,
        &[
            "tags",
            "update",
            "npm",
            "@demo/widgets",
            "next",
            "1.1.0-beta.1",
        ],
    );
    assert!(
        tag["version"]
            .as_str()
            .unwrap()
            .ends_with("/versions/1.1.0-beta.1")
    );
    assert_eq!(
        json(&emu, &["tags", "get", "npm", "@demo/widgets", "next"]),
        tag
    );
    assert_eq!(json_len(&emu, &["tags", "list", "npm", "@demo/widgets"]), 3);
    json(&emu, &["tags", "delete", "npm", "@demo/widgets", "next"]);
    assert_eq!(json_len(&emu, &["tags", "list", "npm", "@demo/widgets"]), 2);

    // Deleting a tagged version needs --force.
    let refused = run(
        gar(&emu),
        &["versions", "delete", "npm", "@demo/widgets", "1.0.0"],
    );
    assert_ne!(refused.code, 0, "{refused:?}");
    json(
        &emu,
        &[
            "versions",
            "delete",
            "npm",
            "@demo/widgets",
            "1.0.0",
            "--force",
        ],
    );
    assert_eq!(
        json_len(&emu, &["versions", "list", "npm", "@demo/widgets"]),
        1
    );
    json(&emu, &["packages", "delete", "npm", "@demo/widgets"]);
    assert_eq!(
        json(&emu, &["packages", "list", "npm"]),
        Value::Array(vec![])
    );
    assert!(table(&emu, &["packages", "list", "npm"]).contains("(none)"));
}

#[test]
fn files_listed_read_downloaded_and_deleted() {
    let emu = start();
    assert_eq!(json_len(&emu, &["files", "list", "generic"]), 3);
    let file = json(
        &emu,
        &["files", "get", "generic", "demo-bundle:2.0.0:README.txt"],
    );
    assert_eq!(file["sizeBytes"], "18");
    assert_eq!(file["hashes"][0]["type"], "SHA256");

    // To standard output, and to a file.
    let out = run(
        gar(&emu),
        &[
            "files",
            "download",
            "generic",
            "demo-bundle:2.0.0:README.txt",
            "-O",
            "-",
        ],
    )
    .ok();
    assert_eq!(out.stdout, "demo bundle 2.0.0\n");
    let dir = temp_dir("download");
    let path = dir.join("readme.txt");
    let done = json(
        &emu,
        &[
            "files",
            "download",
            "generic",
            "demo-bundle:2.0.0:README.txt",
            "-O",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(done["sizeBytes"], "18");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "demo bundle 2.0.0\n"
    );

    // A corrupted download fails, and leaves no file behind.
    emu.handle
        .add_fault(gar_emulator::FaultRule::corrupt().path("*:download"))
        .unwrap();
    let bad = dir.join("bad.txt");
    let failed = run(
        gar(&emu),
        &[
            "-o",
            "json",
            "files",
            "download",
            "generic",
            "demo-bundle:2.0.0:README.txt",
            "-O",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(failed.code, 1, "{failed:?}");
    assert_eq!(failed.error()["code"], "BLOB_DIGEST_MISMATCH");
    assert!(!bad.exists());
    assert!(
        std::fs::read_dir(&dir).unwrap().count() == 1,
        "only readme.txt remains"
    );
    emu.handle.clear_faults();

    json(
        &emu,
        &["files", "delete", "generic", "demo-bundle:2.0.0:README.txt"],
    );
    assert_eq!(json_len(&emu, &["files", "list", "generic"]), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn images_inspected_reported_and_deleted() {
    let emu = start();
    let images = json(&emu, &["images", "list", "docker"]);
    assert_eq!(images.as_array().unwrap().len(), 1);
    assert_eq!(images[0]["tags"][0], "latest");
    let digest = images[0]["name"]
        .as_str()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_owned();

    let report = json(&emu, &["images", "list", "docker", "--vulns"]);
    assert_eq!(report[0]["image"]["name"], images[0]["name"]);
    assert_eq!(report[0]["vulnerabilities"]["total"]["total"], 0);
    assert_eq!(report[0]["vulnerabilities"]["CRITICAL"]["total"], 0);
    assert!(report[0]["vulnerabilityError"].is_null());
    // A single-manifest image: its platform comes from its config.
    assert_eq!(report[0]["platforms"][0]["os"], "linux");
    assert_eq!(report[0]["platforms"][0]["architecture"], "amd64");
    assert_eq!(report[0]["platforms"][0]["digest"], digest.as_str());
    assert!(report[0]["platformsError"].is_null());

    // By tag, by digest, and by the full reference on the emulator's host.
    let by_tag = json(&emu, &["images", "inspect", "docker/hello:latest"]);
    assert_eq!(
        by_tag["reference"],
        format!("{}/{PROJECT}/docker/hello:latest@{digest}", emu.host())
    );
    assert_eq!(by_tag["image"], images[0]);
    assert_eq!(by_tag["platforms"], report[0]["platforms"]);
    assert!(by_tag["platformsError"].is_null());
    let by_digest = json(
        &emu,
        &["images", "inspect", &format!("docker/hello@{digest}")],
    );
    assert_eq!(by_digest["image"], images[0]);
    let full = json(
        &emu,
        &[
            "images",
            "inspect",
            &format!("{}/{PROJECT}/docker/hello:latest", emu.host()),
        ],
    );
    assert_eq!(full["image"], images[0]);
    let text = table(&emu, &["images", "inspect", "docker/hello"]);
    assert!(
        text.contains(&format!("digest           {digest}")),
        "{text}"
    );
    assert!(text.contains("vulnerabilities  none"), "{text}");
    assert!(text.contains("platforms        linux/amd64"), "{text}");

    // The vulnerability report (the seed image has no findings and no scan yet).
    let vulns = json(&emu, &["vulns", "docker/hello:latest"]);
    assert_eq!(
        vulns["resourceUri"],
        format!("https://us-central1-docker.pkg.dev/{PROJECT}/docker/hello@{digest}")
    );
    assert_eq!(vulns["findings"], Value::Array(vec![]));
    assert_eq!(vulns["total"]["total"], 0);
    let rest = json(&emu, &["--analysis-rest", "vulns", "docker/hello:latest"]);
    assert_eq!(rest, vulns);

    let gone = json(&emu, &["images", "delete", "docker/hello:latest"]);
    assert!(
        gone["deleted"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/dockerImages/hello@{digest}"))
    );
    assert_eq!(
        json(&emu, &["images", "list", "docker"]),
        Value::Array(vec![])
    );
    let missing = run(gar(&emu), &["images", "inspect", "docker/hello:latest"]);
    assert_eq!(missing.code, 3, "{missing:?}");
}

/// The arguments of `gar cleanup ACTION REPOSITORY --policy POLICY`.
fn cleanup_args<'a>(action: &'a str, repository: &'a str, policy: &'a str) -> [&'a str; 5] {
    ["cleanup", action, repository, "--policy", policy]
}

#[test]
fn cleanup_dry_run_then_apply() {
    let emu = start();
    let dir = temp_dir("cleanup");
    let policy_path = dir.join("policy.json");
    let policy = policy_path.to_str().unwrap();
    write(
        &policy_path,
        r#"[{"name": "old", "action": {"type": "Delete"}, "condition": {"olderThan": "30d"}},
            {"name": "stable", "action": {"type": "Keep"}, "condition": {"tagState": "tagged", "tagPrefixes": ["stable"]}}]"#,
    );
    let plan = json(&emu, &cleanup_args("dry-run", "generic", policy));
    assert_eq!(
        plan["repository"],
        format!("projects/{PROJECT}/locations/us-central1/repositories/generic")
    );
    assert_eq!(
        plan["deletions"],
        Value::Array(vec![]),
        "1.0.0 is old but tagged stable"
    );
    let kept = plan["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["version"].as_str().unwrap().ends_with("/versions/1.0.0"))
        .unwrap();
    assert_eq!(kept["action"], "KEEP");
    assert_eq!(kept["by"][0], "stable");
    assert_eq!(kept["overrides"][0], "old");

    let plan = json(&emu, &cleanup_args("dry-run", "maven", policy));
    let doomed = plan["deletions"].as_array().unwrap();
    assert_eq!(doomed.len(), 1);
    assert!(doomed[0].as_str().unwrap().ends_with("/versions/1.0.0"));
    let text = table(&emu, &cleanup_args("dry-run", "maven", policy));
    assert!(text.contains("1.0.0    delete  by old"), "{text}");
    assert!(text.contains("nothing was deleted"), "{text}");
    assert_eq!(
        json_len(&emu, &["versions", "list", "maven", "com.example:demo-app"]),
        2
    );

    let applied = json(&emu, &cleanup_args("apply", "maven", policy));
    assert_eq!(applied["deleted"], plan["deletions"]);
    let left = json(&emu, &["versions", "list", "maven", "com.example:demo-app"]);
    assert_eq!(names(&left).len(), 1);
    assert!(names(&left)[0].ends_with("/versions/1.1.0"));

    // A malformed policy file is a usage error, before any call.
    write(
        &policy_path,
        r#"[{"name": "x", "action": {"type": "Explode"}}]"#,
    );
    let bad = run(gar(&emu), &cleanup_args("dry-run", "maven", policy));
    assert_eq!(bad.code, 2, "{bad:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn repositories_across_locations_name_the_unreachable_one() {
    let mut seed = gar_emulator::Seed::demo();
    for location in ["europe-west1", "asia-east1"] {
        seed.repositories.push(gar_emulator::seed::SeedRepository {
            name: format!("projects/{PROJECT}/locations/{location}/repositories/docker-{location}"),
            format: Value::String("DOCKER".into()),
            ..Default::default()
        });
    }
    let emu = start_with(seed, |b| {
        b.fault(
            gar_emulator::FaultRule::status(503).path("/v1/projects/*/locations/europe-west1/*"),
        )
    });
    let all = json(
        &emu,
        &[
            "--no-retry",
            "repos",
            "list",
            "--locations",
            "us-central1,europe-west1,asia-east1",
        ],
    );
    let listed = names(&all["repositories"]);
    assert_eq!(listed.len(), 11, "{listed:?}");
    assert!(listed.iter().any(|n| n.ends_with("/docker-asia-east1")));
    assert_eq!(all["unreachable"][0]["location"], "europe-west1");
    assert_eq!(all["unreachable"][0]["code"], "SERVICE_UNAVAILABLE");
    assert_eq!(all["unreachable"].as_array().unwrap().len(), 1);
    let text = run(
        gar(&emu),
        &[
            "--no-retry",
            "repos",
            "list",
            "--locations",
            "us-central1,europe-west1,asia-east1",
        ],
    )
    .ok();
    assert!(
        text.stderr
            .contains("warning: europe-west1 could not be listed"),
        "{text:?}"
    );

    // Reads fail over past the unavailable location, and say so.
    let served = run(
        gar(&emu),
        &[
            "-o",
            "json",
            "--no-retry",
            "--replicas",
            "europe-west1,asia-east1",
            "repos",
            "get",
            "docker-asia-east1",
        ],
    )
    .ok();
    assert_eq!(
        served.json()["name"],
        format!("projects/{PROJECT}/locations/asia-east1/repositories/docker-asia-east1")
    );
    assert!(
        served
            .stderr
            .contains("warning: europe-west1 was unavailable")
            && served.stderr.contains("served from asia-east1"),
        "{served:?}"
    );
    // A not-found is an answer, not a reason to fail over.
    let missing = run(
        gar(&emu),
        &[
            "--no-retry",
            "--replicas",
            "asia-east1,us-central1",
            "repos",
            "get",
            "docker-europe-west1",
        ],
    );
    assert_eq!(missing.code, 3, "{missing:?}");
    // Every replica down: a transient failure naming them.
    let down = run(
        gar(&emu),
        &[
            "-o",
            "json",
            "--no-retry",
            "--replicas",
            "europe-west1",
            "repos",
            "list",
        ],
    );
    assert_eq!(down.code, 5, "{down:?}");
    assert_eq!(down.error()["code"], "LOCATION_UNAVAILABLE");
    // Writes do not fail over.
    let write = run(
        gar(&emu),
        &[
            "--replicas",
            "asia-east1,us-central1",
            "repos",
            "delete",
            "docker",
        ],
    );
    assert_eq!(write.code, 2, "{write:?}");
}

#[test]
fn record_then_replay_without_the_emulator() {
    let emu = start();
    let dir = temp_dir("record");
    let cassette = dir.join("cassette.json");
    let recorded = json(
        &emu,
        &[
            "--record",
            cassette.to_str().unwrap(),
            "packages",
            "list",
            "generic",
        ],
    );
    let url = emu.url().to_owned();
    drop(emu);
    assert!(
        !std::fs::read_to_string(&cassette).unwrap().contains(TOKEN),
        "no token in the cassette"
    );
    let replayed = run(
        gar_by_flags(&url, TOKEN),
        &[
            "-o",
            "json",
            "--replay",
            cassette.to_str().unwrap(),
            "packages",
            "list",
            "generic",
        ],
    )
    .ok()
    .json();
    assert_eq!(replayed, recorded);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shell_completions() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(bare(), &["completions", shell]).ok();
        for word in ["repos", "cleanup", "docker-helper"] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = run(bare(), &["completions", "tcsh"]);
    assert_eq!(out.code, 2);
}
