//! Calls that run on the addon's tokio runtime and can be cancelled.

use std::future::Future;
use std::sync::Mutex;

use napi::bindgen_prelude::{Buffer, Either3};
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::error::{cancelled, to_napi};
use crate::streams::ByteStream;

/// What a task produces: JSON (converted to a JavaScript value), bytes (a
/// `Buffer`), or a stream of bytes.
pub(crate) enum Output {
    /// A JSON value (`null` for calls that return nothing).
    Json(Value),
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

/// A started call: `wait()` resolves with its result, `cancel()` stops it (the
/// call's future is dropped, which closes its connections and removes any partial
/// file it was writing).
#[napi]
pub struct Task {
    result: Mutex<Option<oneshot::Receiver<gar::Result<Output>>>>,
    abort: tokio::task::AbortHandle,
}

/// Starts `call` on the addon's runtime.
pub(crate) fn start<F, T>(call: F) -> Task
where
    F: Future<Output = gar::Result<T>> + Send + 'static,
    T: Into<Output> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let handle = napi::bindgen_prelude::spawn(async move {
        let _ = tx.send(call.await.map(Into::into));
    });
    Task {
        result: Mutex::new(Some(rx)),
        abort: handle.abort_handle(),
    }
}

/// A task that has already failed (an argument was rejected before any call).
pub(crate) fn failed(e: gar::Error) -> Task {
    start(async move { Err::<Value, _>(e) })
}

#[napi]
impl Task {
    /// The call's result; rejects with the call's error, or with `CANCELLED`
    /// after `cancel()`. May be awaited once.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn wait(&self) -> napi::Result<Either3<Value, Buffer, ByteStream>> {
        let rx = self
            .result
            .lock()
            .map_err(|_| napi::Error::from_reason("task state poisoned"))?
            .take()
            .ok_or_else(|| napi::Error::from_reason("Task.wait() may be called once"))?;
        match rx.await {
            Ok(Ok(Output::Json(v))) => Ok(Either3::A(v)),
            Ok(Ok(Output::Bytes(b))) => Ok(Either3::B(b.into())),
            Ok(Ok(Output::Stream(s))) => Ok(Either3::C(s)),
            Ok(Err(e)) => Err(to_napi(&e)),
            Err(_) => Err(to_napi(&cancelled())),
        }
    }

    /// Stops the call; a pending `wait()` rejects with `CANCELLED`.
    #[napi]
    pub fn cancel(&self) {
        self.abort.abort();
    }
}
