//! The Docker credential helper: the protocol, the `docker-credential-gar`
//! name, and skopeo pushing to the emulator with it.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::*;

fn with_stdin(mut cmd: Command, args: &[&str], input: &str) -> Run {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::of(child.wait_with_output().unwrap())
}

/// A directory holding `docker-credential-gar`, a link to the binary.
fn helper_dir() -> std::path::PathBuf {
    let dir = temp_dir("helper-bin");
    std::os::unix::fs::symlink(BIN, dir.join("docker-credential-gar")).unwrap();
    dir
}

#[test]
fn the_helper_protocol_under_both_names() {
    let emu = start();
    let answer = with_stdin(
        gar(&emu),
        &["auth", "docker-helper", "get"],
        &format!("{}\n", emu.host()),
    )
    .ok();
    let v: Value = serde_json::from_str(&answer.stdout).unwrap();
    assert_eq!(v["ServerURL"], emu.host());
    assert_eq!(v["Username"], "oauth2accesstoken");
    assert_eq!(v["Secret"], TOKEN);

    let dir = helper_dir();
    let mut as_helper = Command::new(dir.join("docker-credential-gar"));
    as_helper
        .env("ARTIFACT_REGISTRY_EMULATOR_HOST", emu.host())
        .env("ARTIFACT_REGISTRY_EMULATOR_TOKEN", TOKEN)
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS");
    let answer = with_stdin(as_helper, &["get"], "https://us-docker.pkg.dev").ok();
    let v: Value = serde_json::from_str(&answer.stdout).unwrap();
    assert_eq!(v["ServerURL"], "https://us-docker.pkg.dev");
    assert_eq!(v["Secret"], TOKEN);
    // store and erase keep nothing; list names nothing; others are refused.
    let mut c = Command::new(dir.join("docker-credential-gar"));
    c.env("ARTIFACT_REGISTRY_EMULATOR_HOST", emu.host());
    with_stdin(
        c,
        &["store"],
        r#"{"ServerURL":"x","Username":"u","Secret":"s"}"#,
    )
    .ok();
    let mut c = Command::new(dir.join("docker-credential-gar"));
    c.env("ARTIFACT_REGISTRY_EMULATOR_HOST", emu.host());
    assert_eq!(with_stdin(c, &["list"], "").ok().stdout.trim(), "{}");
    let mut c = Command::new(dir.join("docker-credential-gar"));
    c.env("ARTIFACT_REGISTRY_EMULATOR_HOST", emu.host());
    let refused = with_stdin(c, &["explode"], "");
    assert_eq!(refused.code, 2);
    assert!(
        refused.stdout.contains("unknown credential-helper action"),
        "{refused:?}"
    );
    // Without credentials, `get` fails as an auth failure.
    let none = with_stdin(
        bare(),
        &["--anonymous", "auth", "docker-helper", "get"],
        "us-docker.pkg.dev",
    );
    assert_eq!(none.code, 4, "{none:?}");

    // The token itself.
    assert_eq!(
        run(gar(&emu), &["auth", "print-access-token"])
            .ok()
            .stdout
            .trim(),
        TOKEN
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn skopeo_pushes_with_the_helper() {
    assert!(
        Command::new("skopeo").arg("--version").output().is_ok(),
        "skopeo is needed for this test: apt-get install -y skopeo (.ci/run does)"
    );
    let emu = start();
    let dir = temp_dir("skopeo");
    let bin = helper_dir();
    // A docker config whose credHelpers send the emulator's host to `gar`.
    let config = dir.join("auth.json");
    write(
        &config,
        &serde_json::json!({"credHelpers": {emu.host(): "gar"}}).to_string(),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // skopeo runs the helper with its own environment: the emulator's address and token.
    let run_skopeo = |args: &[&str]| {
        let mut c = Command::new("skopeo");
        c.env("PATH", &path)
            .env("REGISTRY_AUTH_FILE", &config)
            .env("ARTIFACT_REGISTRY_EMULATOR_HOST", emu.host())
            .env("ARTIFACT_REGISTRY_EMULATOR_TOKEN", TOKEN)
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .arg("--insecure-policy")
            .args(args);
        Run::of(c.output().unwrap())
    };
    let before = emu.handle.requests().len();
    let src = format!("docker://{}/{PROJECT}/docker/hello:latest", emu.host());
    let dst = format!(
        "docker://{}/{PROJECT}/docker/pushed-by-skopeo:v1",
        emu.host()
    );
    run_skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--authfile",
        config.to_str().unwrap(),
        &src,
        &dst,
    ])
    .ok();
    // The helper's credentials reached the registry as Basic auth at its token endpoint.
    let basic = emu.handle.requests()[before..]
        .iter()
        .filter(|r| r.path == "/v2/token" && r.authorization.as_deref() == Some("Basic"))
        .count();
    assert!(basic > 0, "skopeo never presented the helper's credentials");
    // And the image is there.
    let listed = json(&emu, &["images", "list", "docker"]);
    let pushed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tags"][0] == "v1")
        .unwrap_or_else(|| panic!("no pushed image in {listed}"));
    assert!(
        pushed["name"]
            .as_str()
            .unwrap()
            .contains("/dockerImages/pushed-by-skopeo@sha256:")
    );

    // Without the helper on PATH the same push is refused.
    let refused = {
        let mut c = Command::new("skopeo");
        c.env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("REGISTRY_AUTH_FILE", &config)
            .arg("--insecure-policy")
            .args([
                "copy",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                "--authfile",
                config.to_str().unwrap(),
                &src,
                &dst,
            ]);
        Run::of(c.output().unwrap())
    };
    assert_ne!(refused.code, 0, "{refused:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&bin).unwrap();
}
