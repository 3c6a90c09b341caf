//! `gar emulator serve`: the emulator in this process until SIGINT or SIGTERM.

use std::io::Write;

use gar::{Error, ErrorKind};
use gar_emulator::{Emulator, Seed};
use serde_json::json;

use crate::cli::EmulatorCmd;
use crate::output::Out;

fn emulator_error(e: gar_emulator::Error) -> Error {
    Error::new(ErrorKind::Io, format!("the emulator failed: {e}")).with_source(e)
}

/// Runs `gar emulator ...`.
pub async fn run(c: EmulatorCmd, out: &Out) -> gar::Result<()> {
    let EmulatorCmd::Serve {
        listen,
        seed,
        data_dir,
        gar_quirks,
        allow_anonymous_read,
    } = c;
    let seed = if seed == "demo" {
        Seed::demo()
    } else {
        Seed::from_file(std::path::Path::new(&seed)).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("the seed file {seed} cannot be used: {e}"),
            )
        })?
    };
    let mut builder = Emulator::builder()
        .listen(listen)
        .seed(seed)
        .gar_quirks(gar_quirks)
        .allow_anonymous_read(allow_anonymous_read);
    if let Some(d) = &data_dir {
        builder = builder.data_dir(d);
    }
    let emu = builder.start().await.map_err(emulator_error)?;
    let ready = json!({
        "url": emu.url(),
        "token": emu.token(),
        "dataDir": emu.data_dir().display().to_string(),
        "pid": std::process::id(),
    });
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{ready}");
        let _ = stdout.flush();
    }
    if !out.is_json() {
        eprintln!(
            "emulator ready at {url}; try:\n  export ARTIFACT_REGISTRY_EMULATOR_HOST={host} ARTIFACT_REGISTRY_EMULATOR_TOKEN={token}\n  gar --project {project} --location us-central1 repos list\nstop with Ctrl-C",
            url = emu.url(),
            host = emu.url().trim_start_matches("http://"),
            token = emu.token(),
            project = gar_emulator::seed::DEMO_PROJECT,
        );
    }
    wait_for_signal().await;
    emu.shutdown().await;
    Ok(())
}

/// Waits for SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
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
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
