//! Lists as native cursors: `next()` starts a task that yields one page.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use napi_derive::napi;
use serde_json::Value;

use crate::convert::PageText;
use crate::task::{JsonText, Output, Task, start};

/// Pages as the JSON text of `{ items, nextPageToken }`.
pub(crate) type Pages = BoxStream<'static, gar::Result<PageText>>;

/// A list in progress. Each `next()` fetches the next page (only when asked);
/// after the last page it yields `null`. An error ends the list.
#[napi]
pub struct Cursor {
    pages: Arc<tokio::sync::Mutex<Option<Pages>>>,
}

impl Cursor {
    /// A cursor over `pages`.
    pub(crate) fn new(pages: Pages) -> Self {
        Self {
            pages: Arc::new(tokio::sync::Mutex::new(Some(pages))),
        }
    }
}

#[napi]
impl Cursor {
    /// Starts fetching the next page: `{ items, nextPageToken }`, or `null` at the end.
    #[napi]
    pub fn next(&self) -> Task {
        let pages = self.pages.clone();
        start(async move {
            let mut guard = pages.lock().await;
            let Some(stream) = guard.as_mut() else {
                return Ok(Output::Json(Value::Null));
            };
            match stream.next().await {
                Some(Ok(page)) => {
                    // The list ends here: let go of it now, on the runtime,
                    // rather than in `close()` on the JavaScript thread.
                    if page.last {
                        *guard = None;
                    }
                    Ok(Output::Text(JsonText(page.json)))
                }
                Some(Err(e)) => {
                    *guard = None;
                    Err(e)
                }
                None => {
                    *guard = None;
                    Ok(Output::Json(Value::Null))
                }
            }
        })
    }

    /// Drops the list (and any request in flight); later `next()` calls yield `null`.
    #[napi]
    pub fn close(&self) {
        if let Ok(mut guard) = self.pages.try_lock() {
            *guard = None;
        } else {
            let pages = self.pages.clone();
            napi::bindgen_prelude::spawn(async move {
                *pages.lock().await = None;
            });
        }
    }
}
