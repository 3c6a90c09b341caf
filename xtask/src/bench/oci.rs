//! `cargo xtask bench oci [--sizes 64,1024] [--runs 3]`: push and pull of a
//! single-layer image of each size to and from Debian's `docker-registry`, by
//! gar-oci (its `oci_bench` example) and by skopeo in the same run. Sources,
//! pulled layouts and the registry's storage live in a tmpfs (/dev/shm), so the
//! disk is not what is measured. Wall time is measured around each client's
//! process (to the microsecond); CPU seconds and peak RSS come from
//! `/usr/bin/time`; each number is the median of the runs.
//! Every run pushes fresh content to fresh repositories (no tool skips a blob
//! it has seen), against a freshly started registry, with the two tools taking
//! turns at going first, each timed step preceded by writing and deleting a
//! file of the image's size in the tmpfs (see [`prefault`]). Results and the
//! machine go to docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::emulator::{machine, record};
use crate::{cargo, root, step};

const REGISTRY: &str = "/usr/bin/docker-registry";
const SKOPEO: &str = "/usr/bin/skopeo";
const TIME: &str = "/usr/bin/time";

/// Targets of issue D.
const PULL_SPEEDUP_TARGET: f64 = 4.0;
const PUSH_CPU_RATIO_TARGET: f64 = 0.5;
const PEAK_RSS_TARGET_MIB: f64 = 64.0;

/// One measured command.
#[derive(Clone, Copy, Debug)]
struct Sample {
    wall: f64,
    cpu: f64,
    rss_kib: f64,
}

/// Kills the registry when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Removes the work directory when dropped.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn usage() -> String {
    "usage: cargo xtask bench oci [--sizes 64,1024] [--runs 3]".to_owned()
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut sizes: Vec<u64> = vec![64, 1024];
    let mut runs = 3usize;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(usage)?;
        match flag.as_str() {
            "--sizes" => {
                sizes = value
                    .split(',')
                    .map(|s| s.trim().parse::<u64>().map_err(|_| usage()))
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => runs = value.parse::<usize>().map_err(|_| usage())?.max(1),
            _ => return Err(usage()),
        }
    }
    for (tool, package) in [
        (REGISTRY, "docker-registry"),
        (SKOPEO, "skopeo"),
        (TIME, "time"),
    ] {
        if !Path::new(tool).exists() {
            return Err(format!(
                "{tool} is missing: apt-get install -y {package} (this benchmark needs it)"
            ));
        }
    }
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "gar-oci",
        "--example",
        "oci_bench",
    ]);
    step("build gar-oci's oci_bench (release)", build)?;
    let bench = target_dir()
        .join("release")
        .join("examples")
        .join("oci_bench");
    let work = WorkDir(super::work_dir("oci"));
    std::fs::create_dir_all(&work.0)
        .map_err(|e| format!("cannot create {}: {e}", work.0.display()))?;
    println!("work directory (tmpfs): {}", work.0.display());

    let load_before = load_average();
    let mut rows = Vec::new();
    for &mib in &sizes {
        let mut samples: [Vec<Sample>; 4] = Default::default();
        for run in 0..runs {
            // A fresh registry and storage per run: the tmpfs stays small and
            // every run starts from the same state.
            let storage = work.0.join(format!("storage-{mib}-{run}"));
            let (server, url) = start_registry(&work.0, &storage)?;
            let host = url.trim_start_matches("http://").to_owned();
            let seed = (mib << 8) + run as u64 * 2;
            let ours_src = work.0.join(format!("src-gar-{mib}-{run}"));
            let theirs_src = work.0.join(format!("src-skopeo-{mib}-{run}"));
            for (dir, s) in [(&ours_src, seed + 1), (&theirs_src, seed + 2)] {
                let out = Command::new(&bench)
                    .args(["make-layout", "--mib", &mib.to_string(), "--seed"])
                    .arg(s.to_string())
                    .arg("--dir")
                    .arg(dir)
                    .output()
                    .map_err(|e| format!("cannot run {}: {e}", bench.display()))?;
                if !out.status.success() {
                    return Err(format!(
                        "oci_bench make-layout failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            let ours_repo = format!("bench/gar-{mib}-{run}");
            let theirs_repo = format!("bench/skopeo-{mib}-{run}");
            let ours_dst = work.0.join(format!("pull-gar-{mib}-{run}"));
            let theirs_dst = work.0.join(format!("pull-skopeo-{mib}-{run}"));
            let time_file = work.0.join("time.txt");

            let mut gar_push = Command::new(&bench);
            gar_push
                .args([
                    "push", "--url", &url, "--repo", &ours_repo, "--tag", "v1", "--dir",
                ])
                .arg(&ours_src);
            let mut skopeo_push = Command::new(SKOPEO);
            skopeo_push
                .args(["copy", "-q", "--dest-tls-verify=false"])
                .arg(format!("oci:{}:v1", theirs_src.display()))
                .arg(format!("docker://{host}/{theirs_repo}:v1"));
            let mut gar_pull = Command::new(&bench);
            gar_pull
                .args([
                    "pull", "--url", &url, "--repo", &ours_repo, "--tag", "v1", "--dir",
                ])
                .arg(&ours_dst);
            let mut skopeo_pull = Command::new(SKOPEO);
            skopeo_pull
                .args(["copy", "-q", "--src-tls-verify=false"])
                .arg(format!("docker://{host}/{theirs_repo}:v1"))
                .arg(format!("oci:{}:v1", theirs_dst.display()));
            // Alternate who goes first, so that neither always meets the
            // machine in the same state.
            let gar_first = run % 2 == 0;
            let steps = order(gar_first, (gar_push, 0), (skopeo_push, 1))
                .into_iter()
                .chain(order(gar_first, (gar_pull, 2), (skopeo_pull, 3)));
            for (cmd, slot) in steps {
                prefault(&work.0, mib)?;
                let sample = timed(cmd, &time_file)?;
                if let Some(v) = samples.get_mut(slot) {
                    v.push(sample);
                }
            }

            drop(server);
            for d in [&ours_src, &theirs_src, &ours_dst, &theirs_dst, &storage] {
                let _ = std::fs::remove_dir_all(d);
            }
            println!(
                "{mib} MiB run {}: push gar {:.2}s skopeo {:.2}s; pull gar {:.2}s skopeo {:.2}s",
                run + 1,
                samples[0].last().map_or(0.0, |s| s.wall),
                samples[1].last().map_or(0.0, |s| s.wall),
                samples[2].last().map_or(0.0, |s| s.wall),
                samples[3].last().map_or(0.0, |s| s.wall),
            );
        }
        let [gar_push, skopeo_push, gar_pull, skopeo_pull] = samples.map(|s| median(&s));
        rows.push((mib, gar_push, skopeo_push, gar_pull, skopeo_pull));
    }

    let load = format!("{load_before} at the start, {} at the end", load_average());
    let report = render(&rows, runs);
    println!("\n{report}\nload average (1 min): {load}");
    record(&format!(
        "## oci\n\n`cargo xtask bench oci --sizes {} --runs {runs}`: push and pull of a single-layer image \
         (a gzip stream of incompressible bytes, so no tool recompresses it) to and from Debian's \
         `docker-registry` (`{}`), by gar-oci (`crates/oci/examples/oci_bench.rs`, default \
         settings) and by skopeo (`{}`) in the same run. Sources, pulled layouts and the registry's storage are in \
         /dev/shm; before every timed step the bench writes and deletes a file of the image's size \
         there, so that neither tool meets memory the VM has not backed yet (first-touch faults of \
         the hypervisor otherwise dominated the 1 GiB runs). MB/s is layer bytes over the wall time of the client's process (measured around it, to the microsecond); CPU is user + system seconds of the client \
         process; peak RSS is the client's maximum resident set (`/usr/bin/time`). Medians of {runs} runs.\n\n\
         Machine: {}; load average (1 min, other work included) {load}: the \
         machine is shared, so wall times and ratios move with its load while CPU seconds and RSS \
         hardly do.\n\n{report}",
        sizes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(","),
        version(REGISTRY, &["--version"]),
        version(SKOPEO, &["--version"]),
        machine(),
    ))
}

fn render(rows: &[(u64, Sample, Sample, Sample, Sample)], runs: usize) -> String {
    let mut t = String::from(
        "| image | operation | gar MB/s | skopeo MB/s | gar CPU s | skopeo CPU s | gar peak RSS MiB | skopeo peak RSS MiB | MB/s ratio | CPU ratio |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mut verdicts = Vec::new();
    for (mib, gp, sp, gl, sl) in rows {
        let bytes = *mib as f64 * 1024.0 * 1024.0;
        for (op, g, s) in [("push", gp, sp), ("pull", gl, sl)] {
            let (gm, sm) = (bytes / 1e6 / g.wall, bytes / 1e6 / s.wall);
            t.push_str(&format!(
                "| {mib} MiB | {op} | {gm:.0} | {sm:.0} | {:.2} | {:.2} | {:.1} | {:.1} | {:.2}x | {:.2}x |\n",
                g.cpu,
                s.cpu,
                g.rss_kib / 1024.0,
                s.rss_kib / 1024.0,
                gm / sm,
                g.cpu / s.cpu,
            ));
        }
        let gib = bytes / (1024.0 * 1024.0 * 1024.0);
        let pull_speedup = (bytes / gl.wall) / (bytes / sl.wall);
        let push_cpu = (gp.cpu / gib) / (sp.cpu / gib);
        verdicts.push(format!(
            "- {mib} MiB: pull {pull_speedup:.1}x skopeo's MB/s (target ≥ {PULL_SPEEDUP_TARGET}x: {}); \
             push CPU s/GiB {:.2} vs {:.2}, ratio {push_cpu:.2} (target ≤ {PUSH_CPU_RATIO_TARGET}: {})",
            verdict(pull_speedup >= PULL_SPEEDUP_TARGET),
            gp.cpu / gib,
            sp.cpu / gib,
            verdict(push_cpu <= PUSH_CPU_RATIO_TARGET),
        ));
        if *mib >= 1024 {
            let peak = gp.rss_kib.max(gl.rss_kib) / 1024.0;
            verdicts.push(format!(
                "- {mib} MiB: gar's peak RSS {peak:.1} MiB (target ≤ {PEAK_RSS_TARGET_MIB} MiB: {})",
                verdict(peak <= PEAK_RSS_TARGET_MIB)
            ));
        }
    }
    t.push('\n');
    t.push_str(&format!("Targets (medians of {runs} runs):\n\n"));
    t.push_str(&verdicts.join("\n"));
    t.push('\n');
    t
}

/// Writes and deletes a file of `mib` MiB plus a margin in `dir` (the tmpfs),
/// right before a timed step. The step then writes into memory the VM already
/// backs: on this machine (a Firecracker guest) the first touch of guest
/// memory costs the hypervisor's page faults, which at 1 GiB outweighed what
/// either tool does and landed on whichever tool met fresh memory. Both tools
/// get the same treatment before every step.
fn prefault(dir: &Path, mib: u64) -> Result<(), String> {
    use std::io::Write;
    let path = dir.join("prefault");
    let chunk = vec![0x5au8; 1 << 20];
    let mut file = std::fs::File::create(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    for _ in 0..mib + 64 {
        file.write_all(&chunk)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    drop(file);
    std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
}

/// `a` then `b`, or `b` then `a`.
fn order<T>(a_first: bool, a: T, b: T) -> [T; 2] {
    if a_first { [a, b] } else { [b, a] }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn median(samples: &[Sample]) -> Sample {
    let pick = |f: fn(&Sample) -> f64| {
        let mut v: Vec<f64> = samples.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    Sample {
        wall: pick(|s| s.wall),
        cpu: pick(|s| s.cpu),
        rss_kib: pick(|s| s.rss_kib),
    }
}

/// Runs `cmd` under `/usr/bin/time`: wall seconds, CPU seconds, peak RSS.
fn timed(cmd: Command, time_file: &Path) -> Result<Sample, String> {
    let mut wrapped = Command::new(TIME);
    wrapped
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(time_file)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdout(Stdio::null());
    // Wall time from here, not from `/usr/bin/time`'s `%e` (hundredths of a
    // second: a 64 MiB pull takes about 0.1 s, so `%e` alone would round by up
    // to 5 %); the wrapper's own start costs both tools the same.
    let started = Instant::now();
    let out = wrapped
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let wall = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = std::fs::read_to_string(time_file)
        .map_err(|e| format!("cannot read {}: {e}", time_file.display()))?;
    let nums: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match nums.as_slice() {
        [_, user, sys, rss] => Ok(Sample {
            wall: wall.max(0.001),
            cpu: user + sys,
            rss_kib: *rss,
        }),
        _ => Err(format!("unexpected /usr/bin/time output: {text}")),
    }
}

fn start_registry(work: &Path, storage: &Path) -> Result<(Server, String), String> {
    std::fs::create_dir_all(storage)
        .map_err(|e| format!("cannot create {}: {e}", storage.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))?;
    let config = work.join(format!("registry-{port}.yml"));
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: gar-bench\n",
            storage.display()
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let child = Command::new(REGISTRY)
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {REGISTRY}: {e}"))?;
    let server = Server(child);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok((server, format!("http://127.0.0.1:{port}")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{REGISTRY} did not listen on 127.0.0.1:{port} within 20 s"
    ))
}

/// The 1-minute load average, from /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn version(tool: &str, args: &[&str]) -> String {
    Command::new(tool)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| tool.to_owned())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}
