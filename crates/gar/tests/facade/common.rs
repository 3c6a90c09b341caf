//! Test helpers: an emulator, clients of it, environment maps.

use std::collections::HashMap;

use gar::{Client, ClientBuilder, Credentials, SecretString};
use gar_emulator::{Emulator, EmulatorHandle, Seed, seed};

/// An emulator with the demo seed.
pub async fn emulator() -> EmulatorHandle {
    Emulator::builder()
        .seed(Seed::demo())
        .start()
        .await
        .unwrap()
}

/// An environment of just these variables.
pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Polling fast enough for tests on the real clock.
pub fn quick() -> gar::PollingPolicy {
    gar::PollingPolicy::default()
        .with_initial_delay(std::time::Duration::from_millis(10))
        .with_max_delay(std::time::Duration::from_millis(20))
        .with_deadline(Some(std::time::Duration::from_secs(20)))
}

/// The builder of [`client`], for tests that set more on it.
pub fn builder(emu: &EmulatorHandle) -> ClientBuilder {
    Client::builder()
        .emulator(emu.url())
        .project(seed::DEMO_PROJECT)
        .location("us-central1")
        .credentials(Credentials::AccessToken(SecretString::new(
            seed::DEMO_TOKEN,
        )))
        .retry(None)
        .polling(quick())
        .environment_map(env(&[]))
}

/// A client of `emu` in the demo project and `us-central1`, with the demo
/// user's token and no retries (faults answer at once).
pub async fn client(emu: &EmulatorHandle) -> Client {
    builder(emu).build().await.unwrap()
}
