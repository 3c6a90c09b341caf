//! Lists, one page per call: JavaScript asks for a page by its token and
//! follows `nextPageToken` until it is `null`. No native object lives between
//! pages, so a list abandoned half-way holds nothing.

use futures_util::{Stream, StreamExt};
use gar_core::paging::Page;
use serde::Serialize;
use serde_json::Value;

use crate::convert::page;
use crate::task::{Output, Task, start};

/// A task yielding the first page of `pages` (the one their list's options ask
/// for) as the JSON text of `{ items, nextPageToken }`, or `null` if the list
/// yields no page.
pub(crate) fn first_page<S, T>(pages: S) -> Task
where
    S: Stream<Item = gar::Result<Page<T>>> + Send + 'static,
    T: Serialize + Send + 'static,
{
    start(async move {
        let mut pages = std::pin::pin!(pages);
        match pages.next().await {
            Some(p) => {
                let p = p?;
                Ok(Output::Text(page(&p.items, p.next_page_token.as_deref())?))
            }
            None => Ok(Output::Json(Value::Null)),
        }
    })
}
