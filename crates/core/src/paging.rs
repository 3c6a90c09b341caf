//! One paging primitive for every list: REST (`pageToken`), OCI (`Link`) and gRPC
//! (`page_token`) alike.
//!
//! A list call is a function from an optional page token to a [`Page`]. [`pages`]
//! turns it into a `Stream` of pages that asks for the next page only when the
//! consumer wants it, ends on an empty or absent token, ends after the first error
//! (which it yields), and refuses a server that repeats a token (which would loop
//! forever). [`PageStream::items`] flattens it into a stream of items.
//!
//! ```
//! use futures_util::{StreamExt, TryStreamExt};
//! use gar_core::paging::{pages, Page};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let data: Vec<u32> = (1..=7).collect();
//! let stream = pages(move |token: Option<String>| {
//!     let data = data.clone();
//!     async move {
//!         let start: usize = token.as_deref().unwrap_or("0").parse().unwrap();
//!         let end = (start + 3).min(data.len());
//!         let next = (end < data.len()).then(|| end.to_string());
//!         Ok::<_, gar_core::Error>(Page::new(data[start..end].to_vec(), next))
//!     }
//! });
//! let all: Vec<u32> = stream.items().try_collect().await.unwrap();
//! assert_eq!(all, (1..=7).collect::<Vec<_>>());
//! # });
//! ```

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use crate::error::{Error, ErrorKind};

/// One page of a list: its items and the token of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The token of the next page; `None` (or empty) on the last page.
    pub next_page_token: Option<String>,
}

impl<T> Page<T> {
    /// A page; an empty `next_page_token` is normalised to `None`.
    pub fn new(items: Vec<T>, next_page_token: Option<String>) -> Self {
        Self {
            items,
            next_page_token: next_page_token.filter(|t| !t.is_empty()),
        }
    }
}

/// A stream of pages (see [`pages`]); `Send` so that it can cross tasks.
pub struct PageStream<'a, T, E> {
    inner: BoxStream<'a, Result<Page<T>, E>>,
}

impl<'a, T: Send + 'a, E: Send + 'a> PageStream<'a, T, E> {
    /// The items of every page, in order; ends after the first error.
    pub fn items(self) -> BoxStream<'a, Result<T, E>> {
        self.inner
            .flat_map(|page| match page {
                Ok(p) => stream::iter(p.items.into_iter().map(Ok).collect::<Vec<_>>()),
                Err(e) => stream::iter(vec![Err(e)]),
            })
            .boxed()
    }
}

impl<T, E> Stream for PageStream<'_, T, E> {
    type Item = Result<Page<T>, E>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

enum State<F, E> {
    Next {
        fetch: F,
        token: Option<String>,
        seen: HashSet<String>,
    },
    Fail(E),
    Done,
}

/// Pages of a list, fetched one at a time as the stream is polled, starting with
/// no token.
pub fn pages<'a, T, E, F, Fut>(fetch: F) -> PageStream<'a, T, E>
where
    T: Send + 'a,
    E: From<Error> + Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>, E>> + Send + 'a,
{
    pages_from(None, fetch)
}

/// Pages of a list, starting at `first_token` (to resume a listing).
pub fn pages_from<'a, T, E, F, Fut>(first_token: Option<String>, fetch: F) -> PageStream<'a, T, E>
where
    T: Send + 'a,
    E: From<Error> + Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>, E>> + Send + 'a,
{
    let mut seen = HashSet::new();
    if let Some(t) = &first_token {
        seen.insert(t.clone());
    }
    let state = State::Next {
        fetch,
        token: first_token,
        seen,
    };
    let inner = stream::unfold(state, |state| async move {
        match state {
            State::Done => None,
            State::Fail(e) => Some((Err(e), State::Done)),
            State::Next {
                mut fetch,
                token,
                mut seen,
            } => match fetch(token).await {
                Err(e) => Some((Err(e), State::Done)),
                Ok(page) => {
                    let page = Page::new(page.items, page.next_page_token);
                    let next = match page.next_page_token.clone() {
                        None => State::Done,
                        Some(t) if !seen.insert(t.clone()) => State::Fail(E::from(Error::new(
                            ErrorKind::InvalidResponse,
                            format!(
                                "the server returned the page token {t:?} twice; the listing stopped to avoid a loop"
                            ),
                        ))),
                        Some(t) => State::Next {
                            fetch,
                            token: Some(t),
                            seen,
                        },
                    };
                    Some((Ok(page), next))
                }
            },
        }
    });
    PageStream {
        inner: inner.boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;
    use std::sync::{Arc, Mutex};

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn follows_tokens_lazily_and_stops_on_empty() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        let s = pages(move |token: Option<String>| {
            seen.lock().unwrap().push(token.clone());
            async move {
                Ok::<_, Error>(match token.as_deref() {
                    None => Page::new(vec![1, 2], Some("a".into())),
                    Some("a") => Page::new(vec![], Some("b".into())),
                    Some("b") => Page::new(vec![3], Some(String::new())),
                    Some(other) => panic!("asked for {other}"),
                })
            }
        });
        let items: Vec<i32> = run(s.items().try_collect()).unwrap();
        assert_eq!(items, vec![1, 2, 3]);
        assert_eq!(
            *calls.lock().unwrap(),
            vec![None, Some("a".into()), Some("b".into())]
        );
    }

    #[test]
    fn stops_after_the_first_error() {
        let calls = Arc::new(Mutex::new(0));
        let count = calls.clone();
        let s = pages(move |token: Option<String>| {
            *count.lock().unwrap() += 1;
            async move {
                match token {
                    None => Ok(Page::new(vec![1], Some("x".into()))),
                    Some(_) => Err(Error::new(ErrorKind::ServiceUnavailable, "down")),
                }
            }
        });
        let got: Vec<Result<Page<i32>, Error>> = run(s.collect());
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert_eq!(
            got[1].as_ref().unwrap_err().kind(),
            ErrorKind::ServiceUnavailable
        );
        assert_eq!(*calls.lock().unwrap(), 2);
    }

    #[test]
    fn refuses_a_repeated_token() {
        let s = pages(|_token: Option<String>| async {
            Ok::<_, Error>(Page::new(vec![0u8], Some("same".into())))
        });
        let got: Vec<Result<u8, Error>> = run(s.items().collect());
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[2].as_ref().unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
    }

    #[test]
    fn resumes_from_a_token() {
        let s = pages_from(Some("5".into()), |token: Option<String>| async move {
            let n: u32 = token.unwrap().parse().unwrap();
            Ok::<_, Error>(Page::new(vec![n], (n < 7).then(|| (n + 1).to_string())))
        });
        let items: Vec<u32> = run(s.items().try_collect()).unwrap();
        assert_eq!(items, vec![5, 6, 7]);
    }
}
