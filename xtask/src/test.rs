//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use crate::{cargo, step};

/// Runs the checks; `--no-fmt` and friends are deliberately absent: CI runs all.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!(
            "`cargo xtask test` takes no arguments (got {extra:?})"
        ));
    }
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step("cargo fmt --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    step("cargo clippy --workspace --all-targets -D warnings", clippy)?;

    no_aws_lc()?;

    let interop = interop_peer();

    let mut test = cargo();
    test.args(["test", "--workspace"]);
    step("cargo test --workspace", test)?;

    // The TypeScript twin: the addon built by `napi build` (its own target
    // directory, x86_64-unknown-linux-gnu), then the node:test suites.
    crate::node::build(crate::node::Profile::Debug)?;
    crate::node::test()?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings");
    step("cargo doc --no-deps (warnings denied)", doc)?;

    println!("\nall checks passed");
    if !interop {
        warn_interop_skipped();
    }
    Ok(())
}

/// The registry gar-oci's interop suite runs against (Debian's `docker-registry`).
const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// Whether the interop peer is installed; warns loudly when it is not (the suite
/// then skips itself, and CI, which installs it, would run it).
fn interop_peer() -> bool {
    let present = std::path::Path::new(DOCKER_REGISTRY).exists();
    if !present {
        warn_interop_skipped();
    }
    present
}

fn warn_interop_skipped() {
    println!(
        "\n######################################################################\n\
         ### WARNING: {DOCKER_REGISTRY} is absent: gar-oci's interop suite against\n\
         ### a real registry is SKIPPED in this run. Install it with\n\
         ###   apt-get install -y docker-registry apache2-utils\n\
         ### (.ci/run does) to run it.\n\
         ######################################################################"
    );
}

/// Two TLS providers in one graph make rustls panic at run time; the project uses
/// ring only, so aws-lc-rs must not appear anywhere in the dependency graph.
fn no_aws_lc() -> Result<(), String> {
    println!("\n==> dependency graph has no aws-lc-rs");
    let out = cargo()
        .args([
            "tree",
            "--workspace",
            "--target",
            "all",
            "-e",
            "normal,build,dev",
            "-i",
            "aws-lc-rs",
        ])
        .output()
        .map_err(|e| format!("could not run cargo tree: {e}"))?;
    // `cargo tree -i` fails with "did not match any packages" when it is absent.
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && !out.stdout.is_empty() {
        return Err(format!(
            "aws-lc-rs is in the dependency graph; set default-features = false on the crate that brings it:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    if !out.status.success() && !stderr.contains("did not match any packages") {
        return Err(format!("cargo tree failed: {stderr}"));
    }
    println!("<== no aws-lc-rs: ok");
    Ok(())
}
