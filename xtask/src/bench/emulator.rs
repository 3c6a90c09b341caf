//! `cargo xtask bench emulator [--mib N]`: blob upload and download throughput and
//! peak RSS of the emulator beside Debian's `docker-registry`, in the same run, on
//! the same machine, with the same client (`gar-emulator`'s `bench` example).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, root, step};

/// The peer: Debian's registry (apt package `docker-registry`).
const REGISTRY: &str = "/usr/bin/docker-registry";

struct Measured {
    put_mbps: f64,
    get_mbps: f64,
    peak_rss_kib: f64,
}

/// Kills the child when dropped, so no server outlives the benchmark.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mib = match args {
        [] => 1024,
        [flag, n] if flag == "--mib" => n
            .parse()
            .map_err(|_| format!("--mib takes a number, not {n:?}"))?,
        _ => return Err("usage: cargo xtask bench emulator [--mib N]".to_owned()),
    };
    if !Path::new(REGISTRY).exists() {
        return Err(format!(
            "{REGISTRY} is missing: apt-get install docker-registry (the peer of this benchmark)"
        ));
    }
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "gar-emulator",
        "--bin",
        "gar-emulator",
        "--example",
        "bench",
    ]);
    step("build the emulator and the bench client (release)", build)?;
    let release = target_dir().join("release");
    let work = std::env::temp_dir().join(format!("gar-bench-emulator-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;

    // The emulator, printing its ready line.
    let mut emulator = Command::new(release.join("gar-emulator"))
        .args(["--listen", "127.0.0.1:0", "--seed", "demo", "--data-dir"])
        .arg(work.join("emulator"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let stdout = emulator.stdout.take().ok_or("the emulator has no stdout")?;
    let emulator = Guard(emulator);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading the emulator's ready line: {e}"))?;
    let ready: serde_json::Value = serde_json::from_str(&line)
        .map_err(|e| format!("the emulator's ready line is not JSON ({e}): {line}"))?;
    let url = ready
        .get("url")
        .unwrap_or(&serde_json::Value::Null)
        .as_str()
        .ok_or("the ready line has no url")?
        .to_owned();
    let token = ready
        .get("token")
        .unwrap_or(&serde_json::Value::Null)
        .as_str()
        .ok_or("the ready line has no token")?
        .to_owned();

    // Debian's registry on a free port.
    let port = free_port()?;
    let config = work.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            work.join("registry").display()
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let registry = Command::new(REGISTRY)
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {REGISTRY}: {e}"))?;
    let registry = Guard(registry);
    wait_for_port(port)?;

    println!("\n==> {mib} MiB blob, one streamed upload and one download each");
    let ours = measure(&release, &url, Some(&token), emulator.0.id(), mib)?;
    let peer = measure(
        &release,
        &format!("http://127.0.0.1:{port}"),
        None,
        registry.0.id(),
        mib,
    )?;
    drop(registry);
    drop(emulator);
    let _ = std::fs::remove_dir_all(&work);

    let rows = [
        ("upload MB/s", ours.put_mbps, peer.put_mbps),
        ("download MB/s", ours.get_mbps, peer.get_mbps),
        (
            "peak RSS MiB",
            ours.peak_rss_kib / 1024.0,
            peer.peak_rss_kib / 1024.0,
        ),
    ];
    let mut table = String::from(
        "| measure | gar-emulator | docker-registry | ratio |\n| --- | --- | --- | --- |\n",
    );
    for (name, a, b) in rows {
        let ratio = if b > 0.0 { a / b } else { f64::NAN };
        table.push_str(&format!("| {name} | {a:.1} | {b:.1} | {ratio:.2}x |\n"));
    }
    println!("{table}");
    let section = format!(
        "## emulator\n\n`cargo xtask bench emulator --mib {mib}`: one streamed blob upload (POST, PATCH, PUT) and one \
         download of {mib} MiB through the same client, against the emulator and Debian's `docker-registry` in the same \
         run; peak RSS is the server's `VmHWM`.\n\nMachine: {}.\n\n{table}",
        machine()
    );
    record(&section)?;
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

fn measure(
    release: &Path,
    url: &str,
    token: Option<&str>,
    pid: u32,
    mib: u64,
) -> Result<Measured, String> {
    let mut cmd = Command::new(release.join("examples").join("bench"));
    cmd.args([
        "--url",
        url,
        "--pid",
        &pid.to_string(),
        "--mib",
        &mib.to_string(),
    ]);
    if let Some(t) = token {
        cmd.args(["--token", t]);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run the bench client: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the bench client failed against {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| format!("the bench client printed no JSON ({e}): {text}"))?;
    let num = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("the bench output lacks {k}: {line}"))
    };
    Ok(Measured {
        put_mbps: num("putMBps")?,
        get_mbps: num("getMBps")?,
        peak_rss_kib: num("peakRssKiB")?,
    })
}

fn free_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn wait_for_port(port: u16) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "docker-registry did not listen on 127.0.0.1:{port} within 20 s"
    ))
}

/// CPU model, cores and memory, from /proc.
pub(crate) fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU", str::trim)
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    format!("{model}, {cores} cores, {} GiB", mem_kib / 1024 / 1024)
}

/// Replaces (or appends) `section` — which starts with its `## name` heading — in
/// docs/benchmarks.md, leaving other sections as they are.
pub(crate) fn record(section: &str) -> Result<(), String> {
    let path = root().join("docs").join("benchmarks.md");
    let heading = section.lines().next().unwrap_or_default().to_owned();
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nEach section is written by its `cargo xtask bench` suite.\n".to_owned()
    });
    let mut out = String::new();
    let mut skipping = false;
    let mut replaced = false;
    for line in existing.lines() {
        if line.starts_with("## ") {
            skipping = line == heading;
            if skipping && !replaced {
                out.push_str(section.trim_end());
                out.push_str("\n\n");
                replaced = true;
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !replaced {
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(section.trim_end());
        out.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, out).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("recorded in {}", path.display());
    Ok(())
}
