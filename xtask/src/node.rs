//! `cargo xtask node`: builds the Node addon and runs the TypeScript suites.
//!
//! Everything runs from `ts/` with the tools of its `devDependencies` (installed
//! by `npm ci` when absent; nothing global): `napi build` compiles
//! `bindings/node` (always for `x86_64-unknown-linux-gnu`, so into
//! `target/x86_64-unknown-linux-gnu/`, apart from the host build of the
//! workspace) and writes the addon, its loader and types into `ts/native/`;
//! `tsc` compiles `src/` and `test/` into `dist/`; `node --test` runs
//! `dist/test/*.test.{js,mjs}` against embedded emulators.
//!
//! A debug addon by default (the suites are small; a debug build of the
//! dependency graph is the quicker one); `--release` for benchmarks.

use std::path::PathBuf;
use std::process::Command;

use crate::{root, step};

/// The addon's build profile.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// `napi build` (debug).
    Debug,
    /// `napi build --release`.
    Release,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut profile = Profile::Debug;
    for a in args {
        match a.as_str() {
            "--release" => profile = Profile::Release,
            other => {
                return Err(format!(
                    "`cargo xtask node` takes only --release (got {other:?})"
                ));
            }
        }
    }
    build(profile)?;
    test()
}

fn ts() -> PathBuf {
    root().join("ts")
}

fn npm() -> Command {
    let mut c = Command::new("npm");
    c.current_dir(ts());
    c
}

fn tool(name: &str) -> Command {
    let mut c = Command::new(ts().join("node_modules").join(".bin").join(name));
    c.current_dir(ts());
    c
}

/// `npm ci` when the devDependencies are not installed.
pub(crate) fn install() -> Result<(), String> {
    if ts().join("node_modules/.bin/napi").exists() && ts().join("node_modules/.bin/tsc").exists() {
        return Ok(());
    }
    let mut ci = npm();
    ci.args(["ci", "--no-audit", "--no-fund"]);
    step("npm ci (ts/)", ci)
}

/// Builds the addon into `ts/native/` and compiles the TypeScript into `ts/dist/`.
pub(crate) fn build(profile: Profile) -> Result<(), String> {
    install()?;
    let mut napi = tool("napi");
    napi.args(["build", "--platform"]);
    if profile == Profile::Release {
        napi.arg("--release");
    }
    napi.args([
        "--manifest-path",
        "../bindings/node/Cargo.toml",
        "--package-json-path",
        "package.json",
        "-o",
        "native",
        "--js",
        "index.cjs",
        "--dts",
        "index.d.cts",
    ]);
    step("napi build (bindings/node -> ts/native)", napi)?;

    let dist = ts().join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .map_err(|e| format!("could not remove {}: {e}", dist.display()))?;
    }
    let mut tsc = tool("tsc");
    tsc.args(["-p", "tsconfig.json"]);
    step("tsc (ts/src, ts/test -> ts/dist)", tsc)
}

/// Runs the node:test suites (compiled by [`build`]).
pub(crate) fn test() -> Result<(), String> {
    let dir = ts().join("dist").join("test");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("could not read {}: {e}", dir.display()))?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".test.js") || n.ends_with(".test.mjs"))
        .map(|n| format!("dist/test/{n}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no test files in {}", dir.display()));
    }
    let mut node = Command::new("node");
    node.current_dir(ts())
        .args(["--test", "--test-concurrency=1"])
        .args(&files);
    step("node --test (ts/dist/test)", node)
}
