//! `cargo xtask coverage`: line coverage per crate with cargo-tarpaulin.

use std::collections::BTreeMap;
use std::process::Command;

use crate::{cargo, root, step};

/// The share of lines the specification asks tests to cover.
const TARGET_PERCENT: f64 = 80.0;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    ensure_tarpaulin()?;
    let out_dir = root().join("target").join("coverage");
    let mut cmd = cargo();
    cmd.args([
        "tarpaulin",
        "--workspace",
        "--skip-clean",
        "--engine",
        "llvm",
        "--out",
        "Json",
        "--output-dir",
    ])
    .arg(&out_dir)
    .args(["--exclude", "xtask"])
    .args(args);
    step("cargo tarpaulin", cmd)?;
    let report = std::fs::read_to_string(out_dir.join("tarpaulin-report.json"))
        .map_err(|e| format!("could not read the tarpaulin report: {e}"))?;
    let per_crate = per_crate(&report)?;
    println!(
        "\n{:<28} {:>8} {:>8} {:>8}",
        "crate", "covered", "lines", "percent"
    );
    let mut all = (0u64, 0u64);
    for (krate, (covered, coverable)) in &per_crate {
        if *coverable == 0 {
            println!("{krate:<28} {:>8} {:>8} {:>8}", "-", 0, "no code");
            continue;
        }
        all.0 += covered;
        all.1 += coverable;
        println!(
            "{krate:<28} {covered:>8} {coverable:>8} {:>7.1}%",
            percent(*covered, *coverable)
        );
    }
    println!(
        "{:<28} {:>8} {:>8} {:>7.1}%",
        "total",
        all.0,
        all.1,
        percent(all.0, all.1)
    );
    let below: Vec<&String> = per_crate
        .iter()
        .filter(|(_, (c, n))| *n > 0 && percent(*c, *n) < TARGET_PERCENT)
        .map(|(k, _)| k)
        .collect();
    if below.is_empty() {
        println!("every crate is above {TARGET_PERCENT}%");
    } else {
        println!("below {TARGET_PERCENT}%: {below:?}");
    }
    Ok(())
}

fn percent(covered: u64, coverable: u64) -> f64 {
    if coverable == 0 {
        100.0
    } else {
        // Line counts are far below 2^52, so the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let p = covered as f64 * 100.0 / coverable as f64;
        p
    }
}

/// Sums tarpaulin's per-file counts by crate directory (`crates/<name>/...`).
fn per_crate(report: &str) -> Result<BTreeMap<String, (u64, u64)>, String> {
    let json: serde_json::Value = serde_json::from_str(report)
        .map_err(|e| format!("the tarpaulin report is not JSON: {e}"))?;
    let files = json
        .get("files")
        .and_then(serde_json::Value::as_array)
        .ok_or("the tarpaulin report has no `files` list")?;
    let root = root();
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for file in files {
        let path = match file.get("path") {
            Some(serde_json::Value::Array(parts)) => parts
                .iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join("/"),
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => continue,
        };
        let path = path.replace("//", "/");
        let relative = path
            .strip_prefix(&*root.to_string_lossy())
            .unwrap_or(&path)
            .trim_start_matches('/')
            .to_owned();
        let mut parts = relative.split('/');
        let krate = match (parts.next(), parts.next()) {
            (Some("crates" | "bindings"), Some(name)) => name.to_owned(),
            (Some(top), _) => top.to_owned(),
            _ => continue,
        };
        if krate.ends_with(".rs") {
            continue;
        }
        let covered = file
            .get("covered")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let coverable = file
            .get("coverable")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let entry = out.entry(krate).or_default();
        entry.0 += covered;
        entry.1 += coverable;
    }
    Ok(out)
}

fn ensure_tarpaulin() -> Result<(), String> {
    let present = cargo()
        .args(["tarpaulin", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    println!("cargo-tarpaulin is missing; installing it from crates.io (a few minutes)");
    let mut install = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    install.args(["install", "cargo-tarpaulin", "--locked"]);
    step("cargo install cargo-tarpaulin", install)
}
