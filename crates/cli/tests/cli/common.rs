//! Test helpers: an emulator on its own runtime (so that the tests can block on
//! the binary), and runs of the binary with a clean environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use gar_emulator::{Emulator, EmulatorHandle, Seed};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_gar");
pub const PROJECT: &str = gar_emulator::seed::DEMO_PROJECT;
pub const TOKEN: &str = gar_emulator::seed::DEMO_TOKEN;
pub const VIEWER_TOKEN: &str = "ya29.demo-viewer-token";

/// An emulator serving from its own runtime's threads.
pub struct Emu {
    pub handle: EmulatorHandle,
    // Dropped after the handle: the server's tasks live on it.
    _runtime: tokio::runtime::Runtime,
}

impl Emu {
    pub fn url(&self) -> &str {
        self.handle.url()
    }

    pub fn host(&self) -> String {
        self.url().trim_start_matches("http://").to_owned()
    }
}

pub fn start_with(
    seed: Seed,
    configure: impl FnOnce(gar_emulator::EmulatorBuilder) -> gar_emulator::EmulatorBuilder,
) -> Emu {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = runtime
        .block_on(configure(Emulator::builder().seed(seed)).start())
        .unwrap();
    Emu {
        handle,
        _runtime: runtime,
    }
}

pub fn start() -> Emu {
    start_with(Seed::demo(), |b| b)
}

/// A fresh temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gar-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with an environment that holds no gar or Google settings of the
/// machine running the tests.
pub fn bare() -> Command {
    let mut c = Command::new(BIN);
    for var in [
        "GAR_PROJECT",
        "GAR_LOCATION",
        "GAR_ACCESS_TOKEN",
        "ARTIFACT_REGISTRY_EMULATOR_HOST",
        "ARTIFACT_REGISTRY_EMULATOR_TOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "CLOUDSDK_CONFIG",
    ] {
        c.env_remove(var);
    }
    c.env("HOME", std::env::temp_dir().join("gar-cli-test-home"));
    c.env("GCE_METADATA_HOST", "127.0.0.1:9");
    c.stdin(Stdio::null());
    c
}

/// The binary pointed at `emu` through the environment, as the demo user, in
/// the demo project and `us-central1`.
pub fn gar(emu: &Emu) -> Command {
    let mut c = bare();
    c.env("ARTIFACT_REGISTRY_EMULATOR_HOST", emu.host())
        .env("ARTIFACT_REGISTRY_EMULATOR_TOKEN", TOKEN)
        .env("GAR_PROJECT", PROJECT)
        .env("GAR_LOCATION", "us-central1");
    c
}

/// The binary pointed at the emulator at `url` through its flags rather than
/// the environment, with `token`, in the demo project and `us-central1`.
pub fn gar_by_flags(url: &str, token: &str) -> Command {
    let mut c = bare();
    c.args([
        "--emulator",
        url,
        "-p",
        PROJECT,
        "-l",
        "us-central1",
        "--access-token",
        token,
    ]);
    c
}

/// What a run gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "failed: {self:?}");
        self
    }

    /// The stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// The stderr's JSON error document.
    pub fn error(&self) -> Value {
        let line = self.stderr.lines().last().unwrap_or_default();
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("stderr is not a JSON error ({e}): {self:?}"))["error"]
            .clone()
    }
}

/// Runs `cmd` with `args`.
pub fn run(mut cmd: Command, args: &[&str]) -> Run {
    Run::of(cmd.args(args).output().unwrap())
}

/// Runs `gar -o json ARGS` against `emu` and expects success.
pub fn json(emu: &Emu, args: &[&str]) -> Value {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    run(gar(emu), &all).ok().json()
}

/// Runs `gar -o json ARGS` against `emu`, expects success and a JSON array,
/// and gives its length.
pub fn json_len(emu: &Emu, args: &[&str]) -> usize {
    json(emu, args).as_array().unwrap().len()
}

/// Runs `gar ARGS` against `emu` in table mode and expects success.
pub fn table(emu: &Emu, args: &[&str]) -> String {
    run(gar(emu), args).ok().stdout
}

pub fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}
