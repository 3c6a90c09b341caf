//! Lists: tags (`n`, `last`, `Link`, GAR's extension) and referrers (OCI 1.1,
//! with the tag-schema fallback for registries without the API), as streams.

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use gar_core::Error;
use gar_core::error::{ErrorKind, ResourceKind};
use gar_core::ids::Digest;
use gar_core::paging::{Page, PageStream, pages};
use http::header::{ACCEPT, LINK};
use http::{Method, StatusCode};

use crate::http::{Call, error_of, header, with_query};
use crate::manifest::{Descriptor, ImageIndex, media_types};
use crate::registry::{Registry, Repository};
use crate::wire::{TagList, next_link};

/// Largest tag-list or referrers page read.
const LIST_PAGE_LIMIT: usize = 16 * 1024 * 1024;

impl Repository {
    /// Lists the tags, page by page (`n`, `last` and `Link`), as a stream.
    ///
    /// ```no_run
    /// # async fn demo(repo: gar_oci::Repository) -> Result<(), gar_core::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let tags: Vec<String> = repo.list_tags().with_page_size(100).by_item().try_collect().await?;
    /// # drop(tags); Ok(()) }
    /// ```
    pub fn list_tags(&self) -> ListTags {
        ListTags {
            repo: self.clone(),
            page_size: None,
        }
    }

    /// Lists the manifests that refer to `digest` (OCI 1.1 `subject`).
    ///
    /// Uses the referrers API; when the registry lacks it (404 without an
    /// index), reads the fallback tag `sha256-{hex}` that OCI 1.1 defines.
    pub fn list_referrers(&self, digest: &Digest) -> ListReferrers {
        ListReferrers {
            repo: self.clone(),
            digest: digest.clone(),
            artifact_type: None,
        }
    }
}

impl Registry {
    /// Lists the registry's repositories (`GET /v2/_catalog`, paged with `n`,
    /// `last` and `Link`), where the registry offers the catalog.
    pub fn list_repositories(&self) -> ListRepositories {
        ListRepositories {
            registry: self.clone(),
            page_size: None,
        }
    }
}

/// A repository listing; see [`Registry::list_repositories`].
#[derive(Debug, Clone)]
pub struct ListRepositories {
    registry: Registry,
    page_size: Option<u32>,
}

#[derive(serde::Deserialize)]
struct Catalog {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

impl ListRepositories {
    /// Asks for pages of at most `n` repositories.
    #[must_use]
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// The pages of repository names.
    pub fn by_page(self) -> PageStream<'static, String, Error> {
        let registry = self.registry;
        let first = match self.page_size {
            Some(n) => with_query(&registry.url("/v2/_catalog"), "n", &n.to_string()),
            None => registry.url("/v2/_catalog"),
        };
        pages(move |token: Option<String>| {
            let registry = registry.clone();
            let first = first.clone();
            async move {
                let url = match token {
                    Some(link) => same_host(&registry, &link)?,
                    None => first,
                };
                let call = Call::new(Method::GET, url, "gar.oci.catalog.list")
                    .scope(crate::auth::Scope::catalog());
                let response = registry.execute(&call).await?;
                if !response.status().is_success() {
                    let resource = gar_core::error::Resource::new(
                        ResourceKind::Other,
                        format!("the catalog of {}", registry.host()),
                        None,
                    );
                    return Err(error_of(response, &resource).await);
                }
                let next = next_of(response.headers());
                let body = response.into_body().collect_bytes(LIST_PAGE_LIMIT).await?;
                let catalog: Catalog = serde_json::from_slice(&body).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!("the catalog of {} is malformed: {e}", registry.host()),
                    )
                })?;
                Ok(Page::new(catalog.repositories.unwrap_or_default(), next))
            }
        })
    }

    /// The repository names, one by one.
    pub fn by_item(self) -> BoxStream<'static, Result<String, Error>> {
        self.by_page().items()
    }
}

fn next_of(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_link)
}

/// A tag listing; see [`Repository::list_tags`].
#[derive(Debug, Clone)]
pub struct ListTags {
    repo: Repository,
    page_size: Option<u32>,
}

/// Resolves a `Link` target against the repository's registry, refusing other
/// hosts (the next page is fetched with the registry's credentials).
fn next_url(repo: &Repository, link: &str) -> Result<String, Error> {
    same_host(repo.registry(), link)
}

fn same_host(registry: &Registry, link: &str) -> Result<String, Error> {
    let (url, same_host) = registry.resolve(link)?;
    if !same_host {
        return Err(Error::new(
            ErrorKind::InvalidResponse,
            format!(
                "the registry's next-page link {link:?} points to another host; gar does not follow it with the registry's credentials"
            ),
        ));
    }
    Ok(url)
}

impl ListTags {
    /// Asks for pages of at most `n` tags.
    #[must_use]
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// The pages, each a [`TagList`] (with GAR's manifest extension when present).
    pub fn by_page(self) -> BoxStream<'static, Result<TagList, Error>> {
        let repo = self.repo;
        let first = match self.page_size {
            Some(n) => with_query(&repo.url("tags/list"), "n", &n.to_string()),
            None => repo.url("tags/list"),
        };
        pages(move |token: Option<String>| {
            let repo = repo.clone();
            let first = first.clone();
            async move {
                let url = match token {
                    Some(link) => next_url(&repo, &link)?,
                    None => first,
                };
                let call = Call::new(Method::GET, url, "gar.oci.tags.list")
                    .scope(repo.pull())
                    .attribute("gar.image", repo.name());
                let response = repo.registry().execute(&call).await?;
                if !response.status().is_success() {
                    return Err(error_of(
                        response,
                        &repo.resource(ResourceKind::Repository, repo.name()),
                    )
                    .await);
                }
                let next = next_of(response.headers());
                let body = response.into_body().collect_bytes(LIST_PAGE_LIMIT).await?;
                let list: TagList = serde_json::from_slice(&body).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!("the tag list of {repo} is malformed: {e}"),
                    )
                })?;
                Ok(Page::new(vec![list], next))
            }
        })
        .items()
    }

    /// The tags, one by one.
    pub fn by_item(self) -> BoxStream<'static, Result<String, Error>> {
        self.by_page()
            .flat_map(|page| {
                futures_util::stream::iter(match page {
                    Ok(list) => list.tags.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e)],
                })
            })
            .boxed()
    }
}

/// A referrers listing; see [`Repository::list_referrers`].
#[derive(Debug, Clone)]
pub struct ListReferrers {
    repo: Repository,
    digest: Digest,
    artifact_type: Option<String>,
}

impl ListReferrers {
    /// Only referrers of this artifact type (filtered here when the registry
    /// does not filter).
    #[must_use]
    pub fn with_artifact_type(mut self, artifact_type: &str) -> Self {
        self.artifact_type = Some(artifact_type.to_owned());
        self
    }

    /// The descriptors, page by page.
    pub fn by_page(self) -> PageStream<'static, Descriptor, Error> {
        let ListReferrers {
            repo,
            digest,
            artifact_type,
        } = self;
        let mut first = repo.url(&format!("referrers/{digest}"));
        if let Some(t) = &artifact_type {
            first = with_query(&first, "artifactType", t);
        }
        pages(move |token: Option<String>| {
            let repo = repo.clone();
            let digest = digest.clone();
            let first = first.clone();
            let artifact_type = artifact_type.clone();
            async move {
                let url = match token {
                    Some(link) => next_url(&repo, &link)?,
                    None => first,
                };
                let call = Call::new(Method::GET, url, "gar.oci.referrers.list")
                    .header(ACCEPT, media_types::OCI_INDEX)
                    .scope(repo.pull())
                    .attribute("gar.image", repo.name())
                    .attribute("gar.digest", digest.to_string());
                let response = repo.registry().execute(&call).await?;
                let status = response.status();
                let headers = response.headers().clone();
                let resource = repo.resource(ResourceKind::Manifest, digest.as_str());
                let is_index = header(&headers, http::header::CONTENT_TYPE)
                    .is_some_and(|c| c.starts_with(media_types::OCI_INDEX));
                let index: ImageIndex = if status == StatusCode::NOT_FOUND && !is_index {
                    // No referrers API: the OCI 1.1 fallback tag.
                    drop(response);
                    fallback(&repo, &digest).await?
                } else if !status.is_success() {
                    return Err(error_of(response, &resource).await);
                } else {
                    let body = response.into_body().collect_bytes(LIST_PAGE_LIMIT).await?;
                    serde_json::from_slice(&body).map_err(|e| {
                        Error::new(
                            ErrorKind::InvalidResponse,
                            format!("the referrers of {digest} in {repo} are malformed: {e}"),
                        )
                    })?
                };
                let filtered = header(&headers, "oci-filters-applied")
                    .is_some_and(|f| f.split(',').any(|x| x.trim() == "artifactType"));
                let items: Vec<Descriptor> = index
                    .manifests
                    .into_iter()
                    .filter(|d| {
                        filtered
                            || artifact_type
                                .as_ref()
                                .is_none_or(|t| d.artifact_type.as_ref() == Some(t))
                    })
                    .collect();
                let next = next_of(&headers);
                Ok(Page::new(items, next))
            }
        })
    }

    /// The descriptors, one by one.
    pub fn by_item(self) -> impl Stream<Item = Result<Descriptor, Error>> + Send + 'static {
        self.by_page().items()
    }

    /// All descriptors.
    pub async fn send(self) -> Result<Vec<Descriptor>, Error> {
        use futures_util::TryStreamExt;
        self.by_item().try_collect().await
    }
}

/// The index under the fallback tag `{alg}-{hex}`, or an empty one.
async fn fallback(repo: &Repository, digest: &Digest) -> Result<ImageIndex, Error> {
    let tag = format!("{}-{}", digest.algorithm().name(), digest.hex());
    match repo
        .get_manifest(&tag)
        .with_accept(&[media_types::OCI_INDEX])
        .send()
        .await
    {
        Ok(m) => Ok(m.as_index().cloned().unwrap_or_else(|| ImageIndex {
            schema_version: 2,
            media_type: Some(media_types::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: Default::default(),
        })),
        Err(e) if e.is_not_found() => Ok(ImageIndex {
            schema_version: 2,
            media_type: Some(media_types::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: Default::default(),
        }),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pages_stay_on_the_registry_host() {
        let registry = Registry::builder("https://us-docker.pkg.dev")
            .build()
            .unwrap();
        assert_eq!(
            same_host(&registry, "/v2/p/r/app/tags/list?n=2&last=b").unwrap(),
            "https://us-docker.pkg.dev/v2/p/r/app/tags/list?n=2&last=b"
        );
        assert!(same_host(&registry, "https://us-docker.pkg.dev/v2/_catalog?last=x").is_ok());
        let err = same_host(&registry, "https://evil.example/v2/_catalog?last=x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert!(err.to_string().contains("another host"), "{err}");
    }
}
