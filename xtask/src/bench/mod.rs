//! `cargo xtask bench <suite>`: benchmarks that compare gar with a peer in the same
//! run and print ratios. One module per suite, registered in [`SUITES`]; results
//! are recorded in docs/benchmarks.md.

mod emulator;
mod node;
mod oci;

/// A suite: its name, one line about it, and its entry point (given the arguments
/// after the suite name).
type Suite = (
    &'static str,
    &'static str,
    fn(&[String]) -> Result<(), String>,
);

/// The suites.
const SUITES: &[Suite] = &[
    (
        "emulator",
        "blob upload/download MB/s and peak RSS: the emulator beside docker-registry",
        emulator::run,
    ),
    (
        "oci",
        "image push/pull MB/s, CPU s and peak RSS: gar-oci beside skopeo, against docker-registry",
        oci::run,
    ),
    (
        "node",
        "the same list call and 256 MiB blob pull from TypeScript and from Rust: calls/s, MB/s, TS/Rust",
        node::run,
    ),
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let Some(name) = args.first() else {
        return Err(usage());
    };
    let rest = args.get(1..).unwrap_or_default();
    match SUITES.iter().find(|(n, _, _)| n == name) {
        Some((_, _, entry)) => entry(rest),
        None => Err(format!("unknown benchmark suite {name:?}\n{}", usage())),
    }
}

/// A fresh directory for a suite's files (`gar-bench-{suite}-{pid}`), in tmpfs
/// (/dev/shm) when the machine has one, so that the disk is not what is measured.
pub(super) fn work_dir(suite: &str) -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("gar-bench-{suite}-{}", std::process::id()))
}

fn usage() -> String {
    let mut s = String::from("cargo xtask bench <suite>; suites:");
    if SUITES.is_empty() {
        s.push_str(" (none yet)");
    }
    for (name, what, _) in SUITES {
        s.push_str(&format!("\n  {name:<12} {what}"));
    }
    s
}
