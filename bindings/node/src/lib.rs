//! `gar-node`: the Node.js binding of gar.
//!
//! A napi-rs addon over the `gar` facade and nothing else: every call here is a
//! facade call with its arguments converted from JavaScript and its result
//! converted back. The npm package in `ts/` wraps this addon in the public
//! TypeScript API; the JavaScript names of this crate are internal to it.
//!
//! - `NativeClient` (module `client`): built from options by `connect`; one method
//!   per facade call, grouped by area (`services`, `images`, `analysis`,
//!   `streams`).
//! - `Task` (module `task`): every call that reaches the network runs as a task on
//!   the addon's tokio runtime; JavaScript awaits `wait()` and may `cancel()` it
//!   (the TS layer wires `AbortSignal` to it).
//! - Lists (module `lists`): one page per call, asked for by its page token; `ByteStream`
//!   (module `streams`): content in pieces of up to 1 MiB per `next()`.
//! - Module `error`: a facade error crosses as a JavaScript `Error` whose message
//!   holds the stable code, the retry verdict and the HTTP status or gRPC code;
//!   the TS layer turns it into a `GarError`.
//! - `NativeEmulator` (module `emulator`): the embedded emulator, started and
//!   stopped from JavaScript.
//!
//! Built with `napi build` from `ts/` (`cargo xtask node`), which always targets
//! `x86_64-unknown-linux-gnu`; a `cargo build --workspace` compiles it as a host
//! cdylib, which is how clippy, rustdoc and the unit tests see it.

#![cfg_attr(
    test,
    allow(
        dead_code,
        reason = "napi registers the exported items only outside test builds, so unit tests see them unused"
    )
)]

mod analysis;
mod client;
mod convert;
mod emulator;
mod error;
mod images;
mod lists;
mod locations;
mod services;
mod streams;
mod task;

/// How many workers the addon's runtime gets: one per two cores, at least one,
/// unless `TOKIO_WORKER_THREADS` says otherwise.
///
/// The runtime only moves bytes and waits on sockets; hashing and file writes
/// run on threads of their own, and JavaScript has its own thread. Every worker
/// more is a thread the others wake and hand work to: with one worker per core a
/// small call paid several wake-ups between workers besides the two it needs
/// (to the worker and back to JavaScript), and each costs tens of microseconds
/// on a virtual machine.
fn worker_threads(cores: usize) -> usize {
    (cores / 2).max(1)
}

#[cfg(not(test))]
#[napi_derive::module_init]
fn init() {
    // Once per process: every environment (worker_threads) that loads the
    // addon runs this, and napi keeps the first runtime.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TOKIO_WORKER_THREADS").is_some() {
            return;
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        // If the runtime cannot be built here, napi builds its default one on first use.
        if let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads(cores))
            .enable_all()
            .build()
        {
            napi::bindgen_prelude::create_custom_tokio_runtime(rt);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::worker_threads;

    #[test]
    fn one_worker_per_two_cores_at_least_one() {
        assert_eq!(worker_threads(1), 1);
        assert_eq!(worker_threads(2), 1);
        assert_eq!(worker_threads(3), 1);
        assert_eq!(worker_threads(8), 4);
    }
}
