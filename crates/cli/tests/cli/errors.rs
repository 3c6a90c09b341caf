//! Exit codes that tell usage errors, not-found, auth failures and transient
//! failures apart, and errors as JSON on stderr.

use crate::common::*;

#[test]
fn usage_errors_exit_2_before_any_call() {
    let emu = start();
    let before = emu.handle.requests().len();
    assert_eq!(run(gar(&emu), &["repos", "frobnicate"]).code, 2);
    assert_eq!(run(gar(&emu), &[]).code, 2);
    assert_eq!(
        run(gar(&emu), &["--output", "yaml", "repos", "list"]).code,
        2
    );
    let help = run(gar(&emu), &["--help"]).ok();
    assert!(help.stdout.contains("Usage: gar"), "{help:?}");
    assert!(
        run(gar(&emu), &["--version"])
            .ok()
            .stdout
            .starts_with("gar ")
    );

    let bad = run(gar(&emu), &["-o", "json", "packages", "list", "Bad_Repo"]);
    assert_eq!(bad.code, 2);
    let e = bad.error();
    assert_eq!(e["code"], "INVALID_REPOSITORY");
    assert_eq!(e["category"], "CONFIGURATION");
    assert_eq!(e["exitCode"], 2);
    let bad = run(gar(&emu), &["images", "inspect", "docker/hello:bad tag"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.starts_with("error: "), "{bad:?}");
    let typo = run(gar(&emu), &["-l", "us-centrl1", "repos", "list"]);
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr.contains("us-central1"),
        "a suggestion: {typo:?}"
    );
    let mut unscoped = gar(&emu);
    unscoped.env_remove("GAR_PROJECT");
    let none = run(unscoped, &["-o", "json", "repos", "list"]);
    assert_eq!(none.code, 2);
    assert_eq!(none.error()["code"], "INVALID_PROJECT");
    assert_eq!(
        emu.handle.requests().len(),
        before,
        "no request may have been sent"
    );
}

#[test]
fn not_found_exits_3() {
    let emu = start();
    for args in [
        &["repos", "get", "nope"][..],
        &["packages", "list", "nope"],
        &["versions", "get", "generic", "demo-bundle", "9.9.9"],
        &["tags", "get", "generic", "demo-bundle", "nope"],
        &["files", "get", "generic", "nope.txt"],
        &["images", "inspect", "docker/nope:latest"],
    ] {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        let r = run(gar(&emu), &all);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        assert!(
            r.error()["code"].as_str().unwrap().ends_with("NOT_FOUND"),
            "{r:?}"
        );
    }
    let r = run(gar(&emu), &["-o", "json", "repos", "get", "nope"]);
    assert_eq!(r.error()["code"], "REPOSITORY_NOT_FOUND");
}

#[test]
fn auth_failures_exit_4() {
    let emu = start();
    let anonymous = run(gar(&emu), &["-o", "json", "--anonymous", "repos", "list"]);
    assert_eq!(anonymous.code, 4, "{anonymous:?}");
    assert_eq!(anonymous.error()["category"], "AUTHENTICATION");
    let mut viewer = gar(&emu);
    viewer.env("ARTIFACT_REGISTRY_EMULATOR_TOKEN", VIEWER_TOKEN);
    let denied = run(viewer, &["-o", "json", "repos", "delete", "docker"]);
    assert_eq!(denied.code, 4, "{denied:?}");
    assert_eq!(denied.error()["category"], "AUTHORIZATION");
    // A reader still reads.
    let mut viewer = gar(&emu);
    viewer.env("ARTIFACT_REGISTRY_EMULATOR_TOKEN", VIEWER_TOKEN);
    run(viewer, &["repos", "get", "docker"]).ok();
}

#[test]
fn transient_failures_exit_5() {
    let emu = start();
    emu.handle
        .add_fault(gar_emulator::FaultRule::status(503).path("/v1/*/repositories"))
        .unwrap();
    let r = run(gar(&emu), &["-o", "json", "--no-retry", "repos", "list"]);
    assert_eq!(r.code, 5, "{r:?}");
    assert_eq!(r.error()["code"], "SERVICE_UNAVAILABLE");
    emu.handle.clear_faults();
    emu.handle
        .add_fault(gar_emulator::FaultRule::status(429).path("/v1/*/repositories"))
        .unwrap();
    let r = run(gar(&emu), &["-o", "json", "--no-retry", "repos", "list"]);
    assert_eq!(r.code, 5, "{r:?}");
    // Nothing listens there: the connection fails.
    let url = emu.url().to_owned();
    drop(emu);
    let r = run(
        gar_by_flags(&url, TOKEN),
        &["-o", "json", "--no-retry", "repos", "list"],
    );
    assert_eq!(r.code, 5, "{r:?}");
    assert_eq!(r.error()["category"], "NETWORK");
}
