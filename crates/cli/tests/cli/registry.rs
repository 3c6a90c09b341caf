//! The docker registry through the CLI: pull, push, copy, manifests and blobs.

use std::process::Command;

use crate::common::*;

fn sha256_hex(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn pull_push_copy_manifest_and_blob() {
    let emu = start();
    let dir = temp_dir("registry");
    let layout = dir.join("layout");
    let layout_arg = layout.to_str().unwrap();

    // Pull the seed image into a new layout.
    let pulled = json(&emu, &["images", "pull", "docker/hello:latest", layout_arg]);
    let digest = pulled["digest"].as_str().unwrap().to_owned();
    assert_eq!(
        pulled["reference"],
        format!("{}/{PROJECT}/docker/hello:latest@{digest}", emu.host())
    );
    assert_eq!(pulled["manifests"], 1);
    assert_eq!(pulled["blobsTransferred"], 2);
    assert!(layout.join("oci-layout").exists());
    let hex = digest.trim_start_matches("sha256:");
    assert_eq!(sha256_hex(&layout.join("blobs/sha256").join(hex)), hex);

    // Push it under another name, then copy it across repositories.
    let pushed = json(
        &emu,
        &[
            "images",
            "push",
            layout_arg,
            "docker/pushed:v2",
            "--name",
            "latest",
        ],
    );
    assert_eq!(pushed["digest"], digest.as_str());
    let text = run(
        gar(&emu),
        &[
            "--no-progress",
            "images",
            "copy",
            "docker/pushed:v2",
            "docker/copied:v3",
        ],
    )
    .ok();
    assert!(text.stdout.starts_with("copied to "), "{text:?}");
    assert!(
        text.stderr.is_empty(),
        "no progress bar off a terminal: {text:?}"
    );
    let images = json(&emu, &["images", "list", "docker"]);
    let tags: Vec<&str> = images
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
        })
        .collect();
    for t in ["latest", "v2", "v3"] {
        assert!(tags.contains(&t), "{t} missing from {tags:?}");
    }
    // Copied again: every blob is already there.
    let again = json(
        &emu,
        &["images", "copy", "docker/pushed:v2", "docker/copied:v3"],
    );
    assert_eq!(again["blobsTransferred"], 0);

    // The manifest: parsed, and its exact bytes (which hash to its digest).
    let m = json(&emu, &["manifest", "get", "docker/copied:v3"]);
    assert_eq!(m["digest"], digest.as_str());
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let layer = m["manifest"]["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let raw = run(gar(&emu), &["manifest", "get", "docker/copied:v3", "--raw"]).ok();
    let raw_path = dir.join("manifest.json");
    write(&raw_path, &raw.stdout);
    assert_eq!(sha256_hex(&raw_path), hex);
    let text = table(
        &emu,
        &["manifest", "get", &format!("docker/hello@{digest}")],
    );
    assert!(
        text.contains("layer   application/vnd.oci.image.layer"),
        "{text}"
    );

    // A blob, to a file and to stdout.
    let blob_path = dir.join("layer");
    let got = json(
        &emu,
        &[
            "blob",
            "get",
            "docker/copied",
            &layer,
            "-O",
            blob_path.to_str().unwrap(),
        ],
    );
    assert_eq!(got["digest"], layer.as_str());
    assert_eq!(sha256_hex(&blob_path), layer.trim_start_matches("sha256:"));
    let out = run(
        gar(&emu),
        &["blob", "get", "docker/copied", &layer, "-O", "-"],
    )
    .ok();
    assert_eq!(out.stdout.as_bytes(), std::fs::read(&blob_path).unwrap());

    // Failures: bad platform (usage), missing image and blob (not found).
    let bad = run(
        gar(&emu),
        &[
            "images",
            "pull",
            "docker/hello",
            layout_arg,
            "--platform",
            "linux",
        ],
    );
    assert_eq!(bad.code, 2, "{bad:?}");
    let missing = run(
        gar(&emu),
        &[
            "-o",
            "json",
            "images",
            "pull",
            "docker/nope:v1",
            dir.join("x").to_str().unwrap(),
        ],
    );
    assert_eq!(missing.code, 3, "{missing:?}");
    assert_eq!(missing.error()["code"], "MANIFEST_NOT_FOUND");
    let zero = format!("sha256:{}", "0".repeat(64));
    let missing = run(
        gar(&emu),
        &[
            "-o",
            "json",
            "blob",
            "get",
            "docker/copied",
            &zero,
            "-O",
            dir.join("y").to_str().unwrap(),
        ],
    );
    assert_eq!(missing.code, 3, "{missing:?}");
    assert!(!dir.join("y").exists());
    let not_layout = run(
        gar(&emu),
        &["images", "push", dir.to_str().unwrap(), "docker/x:v1"],
    );
    assert_eq!(not_layout.code, 2, "{not_layout:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
