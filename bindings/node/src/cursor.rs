//! Lists, one page per call: JavaScript asks for a page by its token and
//! follows `nextPageToken` until it is `null`. No native object lives between
//! pages, so a list abandoned half-way holds nothing.

use futures_util::{Stream, StreamExt};
use serde_json::Value;

use crate::task::{JsonText, Output, Task, start};

/// A task yielding the first page of `pages` as the JSON text of
/// `{ items, nextPageToken }`, or `null` if the list yields no page.
pub(crate) fn first_page<S>(pages: S) -> Task
where
    S: Stream<Item = gar::Result<String>> + Send + 'static,
{
    start(async move {
        let mut pages = std::pin::pin!(pages);
        match pages.next().await {
            Some(page) => Ok(Output::Text(JsonText(page?))),
            None => Ok(Output::Json(Value::Null)),
        }
    })
}
