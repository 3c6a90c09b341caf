//! Credentials for other tools: the Docker credential-helper protocol, and the
//! access token itself.
//!
//! Docker, skopeo, podman and others run `docker-credential-gar get` with the
//! registry's address on standard input and read
//! `{"ServerURL": ..., "Username": "oauth2accesstoken", "Secret": <access token>}`
//! from standard output. The token comes from the same place as gar's own
//! (Application Default Credentials, or the emulator's token). `store` and
//! `erase` have nothing to keep (tokens are minted on demand) and succeed;
//! `list` names no stored credentials.

use std::io::{Read, Write};
use std::process::ExitCode;

use gar::{Client, Error, ErrorKind};
use serde_json::json;

use crate::cli::{AuthCmd, Global};
use crate::cmd::client;
use crate::exit;
use crate::output::Out;

/// The username that goes with an OAuth access token on `*.pkg.dev`.
pub const TOKEN_USERNAME: &str = "oauth2accesstoken";

/// Runs `gar auth ...`.
pub async fn run(c: AuthCmd, g: &Global, out: &Out) -> gar::Result<()> {
    match c {
        AuthCmd::DockerHelper { action } => {
            let client = client(g).await?;
            helper(
                &client,
                &action,
                &mut std::io::stdin().lock(),
                &mut std::io::stdout().lock(),
            )
            .await
        }
        AuthCmd::PrintAccessToken => {
            let token = client(g).await?.access_token().await?;
            if out.is_json() {
                out.json(&json!({ "accessToken": token.expose_secret() }));
            } else {
                println!("{}", token.expose_secret());
            }
            Ok(())
        }
    }
}

/// `docker-credential-gar ACTION`: the helper with the client of the
/// environment (ADC, or `ARTIFACT_REGISTRY_EMULATOR_HOST` and its token).
pub async fn docker_helper_main(action: &str) -> ExitCode {
    let result = async {
        let client = Client::builder()
            .user_agent(format!(
                "docker-credential-gar/{}",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .await?;
        helper(
            &client,
            action,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
        )
        .await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Docker shows the helper's standard output as the error message.
            println!("{e}");
            ExitCode::from(exit::code(&e))
        }
    }
}

/// The helper protocol over `input` and `output`.
pub async fn helper(
    client: &Client,
    action: &str,
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> gar::Result<()> {
    let write = |output: &mut dyn Write, text: String| {
        output
            .write_all(text.as_bytes())
            .and_then(|()| output.flush())
            .map_err(|e| Error::new(ErrorKind::Io, "cannot write the answer").with_source(e))
    };
    match action {
        "get" => {
            let mut server = String::new();
            input.read_to_string(&mut server).map_err(|e| {
                Error::new(ErrorKind::Io, "cannot read the server URL").with_source(e)
            })?;
            let server = server.trim();
            if server.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "no server URL on standard input",
                ));
            }
            let token = client.access_token().await?;
            let answer = json!({
                "ServerURL": server,
                "Username": TOKEN_USERNAME,
                "Secret": token.expose_secret(),
            });
            write(output, format!("{answer}\n"))
        }
        "store" | "erase" => {
            // Nothing is stored: tokens are minted when asked for.
            let mut ignored = Vec::new();
            let _ = input.read_to_end(&mut ignored);
            Ok(())
        }
        "list" => write(output, "{}\n".to_owned()),
        other => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("unknown credential-helper action {other:?}: use get, store, erase or list"),
        )),
    }
}
