//! `gar-emulator`: runs the emulator until SIGINT or SIGTERM.
//!
//! ```text
//! gar-emulator [--listen 127.0.0.1:0] [--seed FILE|demo] [--data-dir DIR]
//!              [--gar-quirks] [--allow-anonymous-read] [--fault-seed N]
//! ```
//!
//! Once ready it prints one JSON line on stdout:
//! `{"url":"http://127.0.0.1:PORT","token":"...","dataDir":"...","pid":N}`.
#![forbid(unsafe_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use gar_emulator::{Emulator, Seed};

const USAGE: &str = "usage: gar-emulator [--listen ADDR] [--seed FILE|demo] [--data-dir DIR] \
[--gar-quirks] [--allow-anonymous-read] [--fault-seed N]

  --listen ADDR            address to listen on (default 127.0.0.1:0, a free loopback port)
  --seed FILE|demo         JSON seed file, or the built-in demo seed (default demo)
  --data-dir DIR           keep blobs and state in DIR across restarts (default: a temp dir)
  --gar-quirks             refuse chunked uploads as Artifact Registry does
  --allow-anonymous-read   let anonymous callers pull
  --fault-seed N           seed of the fault-injection generator

Prints one JSON line {\"url\", \"token\", ...} on stdout when ready; stops on SIGINT or SIGTERM.";

struct Args {
    listen: SocketAddr,
    seed: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    gar_quirks: bool,
    anonymous: bool,
    fault_seed: Option<u64>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: None,
        data_dir: None,
        gar_quirks: false,
        anonymous: false,
        fault_seed: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => {
                let v = value("--listen")?;
                args.listen = v
                    .parse()
                    .map_err(|_| format!("--listen {v:?} is not an address such as 127.0.0.1:0"))?;
            }
            "--seed" => args.seed = Some(PathBuf::from(value("--seed")?)),
            "--data-dir" => args.data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--gar-quirks" => args.gar_quirks = true,
            "--allow-anonymous-read" => args.anonymous = true,
            "--fault-seed" => {
                let v = value("--fault-seed")?;
                args.fault_seed = Some(
                    v.parse()
                        .map_err(|_| format!("--fault-seed {v:?} is not a number"))?,
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(args))
}

async fn run(args: Args) -> Result<(), String> {
    let seed = match &args.seed {
        Some(p) => Seed::from_file(p).map_err(|e| e.to_string())?,
        None => Seed::demo(),
    };
    let mut builder = Emulator::builder()
        .listen(args.listen)
        .seed(seed)
        .gar_quirks(args.gar_quirks)
        .allow_anonymous_read(args.anonymous);
    if let Some(d) = &args.data_dir {
        builder = builder.data_dir(d);
    }
    if let Some(s) = args.fault_seed {
        builder = builder.fault_seed(s);
    }
    let emu = builder.start().await.map_err(|e| {
        let mut m = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            m.push_str(&format!(": {s}"));
            src = s.source();
        }
        m
    })?;
    let line = serde_json::json!({
        "url": emu.url(),
        "token": emu.token(),
        "dataDir": emu.data_dir().display().to_string(),
        "tokenUri": format!("{}/token", emu.url()),
        "metadataHost": emu.addr().to_string(),
        "pid": std::process::id(),
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    wait_for_signal().await;
    emu.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("gar-emulator: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gar-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gar-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
