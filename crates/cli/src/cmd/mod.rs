//! The commands.

pub mod auth;
pub mod demo;
pub mod emulator;
pub mod registry;
pub mod resources;
pub mod sample;

use clap::CommandFactory;
use gar::{Client, Credentials, Recording, SecretString};

use crate::cli::{Cli, CompletionsArgs, Global};

/// The client the global options describe.
pub async fn client(g: &Global) -> gar::Result<Client> {
    let mut b = Client::builder().user_agent(format!("gar-cli/{}", env!("CARGO_PKG_VERSION")));
    if let Some(p) = &g.project {
        b = b.project(p);
    }
    if let Some(l) = &g.location {
        b = b.location(l);
    }
    if let Some(e) = &g.emulator {
        b = b.emulator(e);
    }
    if g.anonymous {
        b = b.credentials(Credentials::Anonymous);
    } else if let Some(t) = &g.access_token {
        b = b.credentials(Credentials::AccessToken(SecretString::new(t.clone())));
    } else if let Some(f) = &g.credentials {
        b = b.credentials(Credentials::File(f.clone()));
    }
    if let Some(path) = &g.record {
        b = b.recording(Recording::Record(path.clone()));
    }
    if let Some(path) = &g.replay {
        b = b.recording(Recording::Replay(path.clone()));
    }
    if g.analysis_rest {
        b = b.analysis_protocol(gar::Protocol::Rest);
    }
    if g.no_retry {
        b = b.retry(None);
    }
    b.build().await
}

/// `gar completions SHELL`: the script on stdout.
pub fn completions(args: CompletionsArgs) -> gar::Result<()> {
    let mut command = Cli::command();
    let mut stdout = std::io::stdout();
    clap_complete::generate(args.shell, &mut command, "gar", &mut stdout);
    Ok(())
}

/// A local I/O failure as a gar error.
pub fn io_error(context: String, e: std::io::Error) -> gar::Error {
    gar::Error::new(gar::ErrorKind::Io, context).with_source(e)
}
