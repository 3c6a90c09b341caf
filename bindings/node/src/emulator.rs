//! The embedded emulator (`gar-emulator`), started and stopped from JavaScript.

use std::net::SocketAddr;
use std::sync::Mutex;

use gar_emulator::{Emulator, EmulatorHandle, FaultRule, Seed};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{from_json, to_json};
use crate::error::to_napi;

/// How to start an emulator.
#[napi(object)]
pub struct EmulatorOptions {
    /// `"demo"` (the default), a path to a seed file, or a seed object.
    pub seed: Option<Value>,
    /// Keep state in this directory across restarts (a temporary one otherwise).
    pub data_dir: Option<String>,
    /// The address to listen on (`127.0.0.1:0`, a free port, by default).
    pub listen: Option<String>,
    /// Reproduce GAR's refusal of chunked uploads.
    pub gar_quirks: Option<bool>,
    /// Let anonymous callers pull.
    pub allow_anonymous_read: Option<bool>,
    /// Fault rules in force from the start.
    pub faults: Option<Vec<Value>>,
    /// Seed of the fault generator (probabilities).
    pub fault_seed: Option<i64>,
}

fn emulator_error(kind: gar::ErrorKind, e: &gar_emulator::Error) -> napi::Error {
    let mut message = e.to_string();
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        next = cause.source();
    }
    to_napi(&gar::Error::new(kind, message))
}

fn seed(value: Option<Value>) -> napi::Result<Seed> {
    match value {
        None => Ok(Seed::demo()),
        Some(Value::String(s)) if s == "demo" => Ok(Seed::demo()),
        Some(Value::String(path)) => Seed::from_file(std::path::Path::new(&path))
            .map_err(|e| emulator_error(gar::ErrorKind::InvalidArgument, &e)),
        Some(v) => from_json::<Seed>(v, "the seed").map_err(|e| to_napi(&e)),
    }
}

fn fault(v: Value) -> napi::Result<FaultRule> {
    let rule: FaultRule = from_json(v, "the fault rule").map_err(|e| to_napi(&e))?;
    rule.validate().map_err(|m| {
        to_napi(&gar::Error::new(
            gar::ErrorKind::InvalidArgument,
            format!("the fault rule is not valid: {m}"),
        ))
    })?;
    Ok(rule)
}

/// A running emulator. Dropping it (garbage collection) stops it too.
#[napi]
pub struct NativeEmulator {
    handle: Mutex<Option<EmulatorHandle>>,
    url: String,
    token: String,
    data_dir: String,
}

/// Starts an emulator.
#[napi]
pub async fn start_emulator(options: EmulatorOptions) -> napi::Result<NativeEmulator> {
    let mut b = Emulator::builder().seed(seed(options.seed)?);
    if let Some(dir) = options.data_dir {
        b = b.data_dir(dir);
    }
    if let Some(listen) = options.listen {
        let addr: SocketAddr = listen.parse().map_err(|e| {
            to_napi(&gar::Error::new(
                gar::ErrorKind::InvalidArgument,
                format!("listen address {listen:?} is not valid: {e}"),
            ))
        })?;
        b = b.listen(addr);
    }
    if let Some(on) = options.gar_quirks {
        b = b.gar_quirks(on);
    }
    if let Some(on) = options.allow_anonymous_read {
        b = b.allow_anonymous_read(on);
    }
    for rule in options.faults.unwrap_or_default() {
        b = b.fault(fault(rule)?);
    }
    if let Some(s) = options.fault_seed {
        b = b.fault_seed(u64::try_from(s).unwrap_or_default());
    }
    let handle = b
        .start()
        .await
        .map_err(|e| emulator_error(gar::ErrorKind::Io, &e))?;
    Ok(NativeEmulator {
        url: handle.url().to_owned(),
        token: handle.token().to_owned(),
        data_dir: handle.data_dir().display().to_string(),
        handle: Mutex::new(Some(handle)),
    })
}

impl NativeEmulator {
    fn with<T>(&self, f: impl FnOnce(&EmulatorHandle) -> napi::Result<T>) -> napi::Result<T> {
        let guard = self
            .handle
            .lock()
            .map_err(|_| napi::Error::from_reason("emulator state poisoned"))?;
        match guard.as_ref() {
            Some(h) => f(h),
            None => Err(to_napi(&gar::Error::new(
                gar::ErrorKind::FailedPrecondition,
                "the emulator was shut down",
            ))),
        }
    }
}

#[napi]
impl NativeEmulator {
    /// The base URL, `http://127.0.0.1:PORT`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// An access token of the seed's default principal.
    #[napi(getter)]
    pub fn token(&self) -> String {
        self.token.clone()
    }

    /// Where blobs (and, with a data dir, the state) live.
    #[napi(getter)]
    pub fn data_dir(&self) -> String {
        self.data_dir.clone()
    }

    /// Whether it is still running.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.handle.lock().is_ok_and(|h| h.is_some())
    }

    /// Adds a fault rule; returns its id.
    #[napi]
    pub fn add_fault(&self, rule: Value) -> napi::Result<String> {
        let rule = fault(rule)?;
        self.with(|h| {
            h.add_fault(rule)
                .map_err(|e| emulator_error(gar::ErrorKind::InvalidArgument, &e))
        })
    }

    /// Removes every fault rule.
    #[napi]
    pub fn clear_faults(&self) -> napi::Result<()> {
        self.with(|h| {
            h.clear_faults();
            Ok(())
        })
    }

    /// The fault rules with their `fired` counters.
    #[napi]
    pub fn faults(&self) -> napi::Result<Value> {
        self.with(|h| to_json(&h.faults()).map_err(|e| to_napi(&e)))
    }

    /// The request log, oldest first.
    #[napi]
    pub fn requests(&self) -> napi::Result<Value> {
        self.with(|h| to_json(&h.requests()).map_err(|e| to_napi(&e)))
    }

    /// Mints an access token for a principal of the seed (`user:...`, `serviceAccount:...`).
    #[napi]
    pub fn token_for(&self, principal: String) -> napi::Result<String> {
        self.with(|h| {
            h.token_for(&principal)
                .map_err(|e| emulator_error(gar::ErrorKind::InvalidArgument, &e))
        })
    }

    /// Stops accepting, lets open connections finish (at most 5 s), saves the state.
    /// Calling it again does nothing.
    #[napi]
    pub async fn shutdown(&self) -> napi::Result<()> {
        let handle = self
            .handle
            .lock()
            .map_err(|_| napi::Error::from_reason("emulator state poisoned"))?
            .take();
        if let Some(h) = handle {
            h.shutdown().await;
        }
        Ok(())
    }
}
