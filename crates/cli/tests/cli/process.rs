//! `gar emulator serve` as a process, and `gar demo` from start to end.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

#[test]
fn emulator_serve_until_sigterm() {
    let dir = temp_dir("serve");
    let mut child = bare()
        .args(["emulator", "serve", "--data-dir", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    let url = ready["url"].as_str().unwrap().to_owned();
    let token = ready["token"].as_str().unwrap().to_owned();
    assert_eq!(token, TOKEN);
    let repos = run(gar_by_flags(&url, &token), &["-o", "json", "repos", "list"])
        .ok()
        .json();
    assert_eq!(repos.as_array().unwrap().len(), 10);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = child.wait().unwrap();
    assert!(exited.success(), "{exited:?}");
    // A bad seed file is a usage error.
    let bad = run(
        bare(),
        &["emulator", "serve", "--seed", "/nonexistent/seed.json"],
    );
    assert_eq!(bad.code, 2, "{bad:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_demo_runs_well_under_a_minute() {
    let started = Instant::now();
    let out = run(bare(), &["demo"]).ok();
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(30),
        "the demo took {elapsed:?}"
    );
    for expected in [
        "== 1. Push a generated image",
        "pushed ",
        "2 blob(s) transferred (8.0 MiB)",
        "Repositories of every format",
        "docker      DOCKER",
        "byte-identical to the generated layer",
        "(scan: finished)",
        "CVE-2023-0286   CRITICAL  9.1   openssl  3.0.1      3.0.8",
        "5 (3 fixable): 1 critical, 1 high, 1 medium, 1 low, 1 minimal",
        "@demo/widgets",
        "verified its SHA-256",
        "demo bundle 2.0.0",
        "hello",
        "delete  by delete-older-than-30d",
        "kept by keep-stable over delete-older-than-30d",
        "Done in",
    ] {
        assert!(
            out.stdout.contains(expected),
            "the demo did not show {expected:?}:\n{}",
            out.stdout
        );
    }
    // The demo is for people.
    assert_eq!(run(bare(), &["-o", "json", "demo"]).code, 2);
}
