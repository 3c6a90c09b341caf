//! Calls that run on the addon's tokio runtime and can be cancelled.
//!
//! A [`Task`] holds a call's future until JavaScript awaits `wait()`, which runs
//! it as the napi async call itself (one hop between the threads, the least a
//! promise can cost); `cancel()` aborts it, before or while it runs. Only calls
//! that must make progress before anyone waits (an upload fed by `write`s) are
//! spawned at once instead ([`start_now`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use std::sync::OnceLock;

use futures_util::future::{AbortHandle, Abortable, Aborted};
use napi::bindgen_prelude::{Buffer, Either3, FnArgs};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::error::{cancelled, to_napi};
use crate::streams::ByteStream;

/// What a task produces: JSON (handed to JavaScript as its text, which
/// `JSON.parse` turns into objects faster than property-by-property creation),
/// bytes (a `Buffer`), or a stream of bytes.
pub(crate) enum Output {
    /// A JSON value (`null` for calls that return nothing).
    Json(Value),
    /// JSON already written as text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A byte stream.
    Stream(ByteStream),
}

impl From<Value> for Output {
    fn from(v: Value) -> Self {
        Self::Json(v)
    }
}

type Call = Pin<Box<dyn Future<Output = Result<gar::Result<Output>, Aborted>> + Send>>;

enum State {
    /// Not started: runs when awaited.
    Lazy(Call),
    /// Started: its result arrives here.
    Running(oneshot::Receiver<gar::Result<Output>>),
}

/// A call: `wait()` resolves with its result, `cancel()` stops it (the call's
/// future is dropped, which closes its connections and removes any partial file
/// it was writing).
#[napi]
pub struct Task {
    state: Mutex<Option<State>>,
    abort: AbortHandle,
    /// A call spawned at once, to abort on `cancel()`.
    spawned: Option<tokio::task::AbortHandle>,
    /// Whether `run` first polls the call on the JavaScript thread (see [`start_local`]).
    local: bool,
}

/// A task that runs `call` on the addon's runtime when awaited.
pub(crate) fn start<F, T>(call: F) -> Task
where
    F: Future<Output = gar::Result<T>> + Send + 'static,
    T: Into<Output> + Send + 'static,
{
    lazy(call, false)
}

/// A task whose result is usually at hand already (the next piece of a stream
/// that reads ahead, an argument rejected): `run` polls it once on the
/// JavaScript thread, and only what is still pending moves to the runtime.
pub(crate) fn start_local<F, T>(call: F) -> Task
where
    F: Future<Output = gar::Result<T>> + Send + 'static,
    T: Into<Output> + Send + 'static,
{
    lazy(call, true)
}

fn lazy<F, T>(call: F, local: bool) -> Task
where
    F: Future<Output = gar::Result<T>> + Send + 'static,
    T: Into<Output> + Send + 'static,
{
    let (abort, registration) = AbortHandle::new_pair();
    let call = Abortable::new(async move { call.await.map(Into::into) }, registration);
    Task {
        state: Mutex::new(Some(State::Lazy(Box::pin(call)))),
        abort,
        spawned: None,
        local,
    }
}

/// A task whose `call` starts now on the addon's runtime.
pub(crate) fn start_now<F, T>(call: F) -> Task
where
    F: Future<Output = gar::Result<T>> + Send + 'static,
    T: Into<Output> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let handle = napi::bindgen_prelude::spawn(async move {
        let _ = tx.send(call.await.map(Into::into));
    });
    let (abort, _) = AbortHandle::new_pair();
    Task {
        state: Mutex::new(Some(State::Running(rx))),
        abort,
        spawned: Some(handle.abort_handle()),
        local: false,
    }
}

/// A task that has already failed (an argument was rejected before any call).
pub(crate) fn failed(e: gar::Error) -> Task {
    start_local(async move { Err::<Value, _>(e) })
}

/// What a finished call hands JavaScript: its id, whether it succeeded, and its
/// value (JSON text, bytes or a stream) or its error (the marked error text).
type Completion = FnArgs<(u32, bool, Either3<String, Buffer, ByteStream>)>;

/// The one JavaScript function every `Task::run` completes through. Weak: it does
/// not keep Node's event loop alive (the TS layer does, while calls are pending).
#[allow(
    clippy::type_complexity,
    reason = "napi's ThreadsafeFunction carries its configuration as type parameters"
)]
type CompletionFn = ThreadsafeFunction<Completion, (), Completion, napi::Status, false, true>;

static COMPLETIONS: OnceLock<CompletionFn> = OnceLock::new();

/// Sets the function finished calls are delivered to (once per process; the TS
/// layer does it when it loads the addon). One long-lived thread-safe function
/// instead of one per call: the cheaper way back to the JavaScript thread.
#[napi(
    ts_args_type = "callback: (id: number, ok: boolean, value: string | Buffer | ByteStream) => void"
)]
pub fn set_completion_handler(callback: CompletionFn) -> napi::Result<()> {
    COMPLETIONS
        .set(callback)
        .map_err(|_| napi::Error::from_reason("the completion handler is set already"))
}

/// Delivers a finished call to JavaScript.
fn complete(id: u32, out: gar::Result<Output>) {
    let Some(callback) = COMPLETIONS.get() else {
        return;
    };
    let (ok, value) = match out {
        Ok(Output::Json(v)) => (true, Either3::A(v.to_string())),
        Ok(Output::Text(t)) => (true, Either3::A(t)),
        Ok(Output::Bytes(b)) => (true, Either3::B(b.into())),
        Ok(Output::Stream(s)) => (true, Either3::C(s)),
        Err(e) => (false, Either3::A(to_napi(&e).reason)),
    };
    let _ = callback.call(
        FnArgs::from((id, ok, value)),
        ThreadsafeFunctionCallMode::NonBlocking,
    );
}

fn to_js(out: gar::Result<Output>) -> napi::Result<Either3<String, Buffer, ByteStream>> {
    match out {
        Ok(Output::Json(v)) => Ok(Either3::A(v.to_string())),
        Ok(Output::Text(t)) => Ok(Either3::A(t)),
        Ok(Output::Bytes(b)) => Ok(Either3::B(b.into())),
        Ok(Output::Stream(s)) => Ok(Either3::C(s)),
        Err(e) => Err(to_napi(&e)),
    }
}

#[napi]
impl Task {
    /// The call's result: JSON text, a `Buffer` or a `ByteStream`; rejects with
    /// the call's error, or with `CANCELLED` after `cancel()`. May be awaited once.
    #[napi(ts_return_type = "Promise<string | Buffer | ByteStream>")]
    pub async fn wait(&self) -> napi::Result<Either3<String, Buffer, ByteStream>> {
        let state = self
            .state
            .lock()
            .map_err(|_| napi::Error::from_reason("task state poisoned"))?
            .take()
            .ok_or_else(|| napi::Error::from_reason("Task.wait() may be called once"))?;
        match state {
            State::Lazy(call) => match call.await {
                Ok(out) => to_js(out),
                Err(Aborted) => Err(to_napi(&cancelled())),
            },
            State::Running(rx) => match rx.await {
                Ok(out) => to_js(out),
                Err(_) => Err(to_napi(&cancelled())),
            },
        }
    }

    /// Runs the call and delivers its result to the completion handler under
    /// `id` (see `setCompletionHandler`): the fast path the TS layer uses. A task
    /// runs once, by `run` or by `wait`.
    #[napi]
    pub fn run(&self, id: u32) -> napi::Result<()> {
        let state = self
            .state
            .lock()
            .map_err(|_| napi::Error::from_reason("task state poisoned"))?
            .take()
            .ok_or_else(|| napi::Error::from_reason("a task runs once"))?;
        if COMPLETIONS.get().is_none() {
            return Err(napi::Error::from_reason(
                "Task.run needs setCompletionHandler first",
            ));
        }
        let mut call: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            let out = match state {
                State::Lazy(call) => call.await.unwrap_or_else(|Aborted| Err(cancelled())),
                State::Running(rx) => rx.await.unwrap_or_else(|_| Err(cancelled())),
            };
            complete(id, out);
        });
        // A local call is first polled here, on the JavaScript thread (inside
        // the runtime's context): when its result is at hand it completes
        // without waking a worker. Tokio polls the spawned future again at
        // once, so nothing the placeholder waker missed is lost. A call that
        // needs the network goes to the runtime directly: polled here, it would
        // hand its request to the connection's task on a worker (one wake-up)
        // and then move there itself (another).
        let first = if self.local {
            let waker = futures_util::task::noop_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            napi::bindgen_prelude::within_runtime_if_available(|| call.as_mut().poll(&mut cx))
        } else {
            std::task::Poll::Pending
        };
        if first.is_pending() {
            napi::bindgen_prelude::spawn(call);
        }
        Ok(())
    }

    /// Stops the call; a pending `wait()` rejects with `CANCELLED`.
    #[napi]
    pub fn cancel(&self) {
        self.abort.abort();
        if let Some(h) = &self.spawned {
            h.abort();
        }
    }
}
