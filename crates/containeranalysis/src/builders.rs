//! The request builders [`Client`](crate::Client)'s methods return: `set_*` for
//! request fields, `with_*` for per-call options, `send()` to run; lists add
//! `by_page()` and `by_item()` streams built on [`gar_core::paging`].

use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use gar_core::error::ResourceKind;
use gar_core::ids::ProjectId;
use gar_core::names::DockerImageName;
use gar_core::paging::{Page, PageStream, pages_from};
use gar_core::{Error, ErrorKind};
use gar_proto::google::devtools::containeranalysis::v1::GetVulnerabilityOccurrencesSummaryRequest;
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, BatchCreateOccurrencesResponse, CreateNoteRequest,
    CreateOccurrenceRequest, GetNoteRequest, GetOccurrenceNoteRequest, GetOccurrenceRequest,
    ListNotesRequest, ListNotesResponse, ListOccurrencesRequest, ListOccurrencesResponse, Note,
    NoteKind, Occurrence,
};

use crate::filter::{OccurrenceFilter, resource_url};
use crate::names;
use crate::report::{SbomReference, ScanStatus, Summary, VulnerabilityReport};
use crate::stub::{CallOptions, Stub};

macro_rules! call_options {
    () => {
        /// Each attempt of this call must be answered within `timeout`.
        #[must_use]
        pub fn with_timeout(mut self, timeout: Duration) -> Self {
            self.options = self.options.with_timeout(timeout);
            self
        }
    };
}

macro_rules! paging {
    ($item:ty) => {
        /// The page size (the server's default, 20 for occurrences, when 0; at most 1000).
        #[must_use]
        pub fn set_page_size(mut self, n: i32) -> Self {
            self.request.page_size = n;
            self
        }

        /// Starts at this page token (to resume a listing).
        #[must_use]
        pub fn set_page_token(mut self, token: impl Into<String>) -> Self {
            self.request.page_token = token.into();
            self
        }

        /// The filter expression: `field="value"` terms joined by `AND` (for
        /// occurrences, [`OccurrenceFilter`] builds them).
        #[must_use]
        pub fn set_filter(mut self, filter: impl Into<String>) -> Self {
            self.request.filter = filter.into();
            self
        }

        /// Every item of every page, fetched page by page as the stream is polled.
        pub fn by_item(self) -> BoxStream<'static, Result<$item, Error>> {
            self.by_page().items()
        }
    };
}

/// A listing request that pages by token, and the call that fetches its page.
trait ListRequest: Clone + Send + 'static {
    /// What a page holds.
    type Item: Send + 'static;

    /// The token of the page asked for (empty for the first page).
    fn page_token_mut(&mut self) -> &mut String;

    /// Fetches the page this request names.
    fn fetch(
        self,
        stub: Arc<dyn Stub>,
        options: CallOptions,
    ) -> impl Future<Output = Result<Page<Self::Item>, Error>> + Send + 'static;
}

impl ListRequest for ListOccurrencesRequest {
    type Item = Occurrence;

    fn page_token_mut(&mut self) -> &mut String {
        &mut self.page_token
    }

    async fn fetch(
        self,
        stub: Arc<dyn Stub>,
        options: CallOptions,
    ) -> Result<Page<Occurrence>, Error> {
        let r = stub.list_occurrences(self, options).await?;
        Ok(Page::new(r.occurrences, Some(r.next_page_token)))
    }
}

impl ListRequest for ListNotesRequest {
    type Item = Note;

    fn page_token_mut(&mut self) -> &mut String {
        &mut self.page_token
    }

    async fn fetch(self, stub: Arc<dyn Stub>, options: CallOptions) -> Result<Page<Note>, Error> {
        let r = stub.list_notes(self, options).await?;
        Ok(Page::new(r.notes, Some(r.next_page_token)))
    }
}

/// The pages of `request`, fetched one at a time as the stream is polled.
fn pages<R: ListRequest>(
    stub: Arc<dyn Stub>,
    mut request: R,
    options: CallOptions,
) -> PageStream<'static, R::Item, Error> {
    let first = Some(request.page_token_mut().clone()).filter(|t| !t.is_empty());
    pages_from(first, move |token: Option<String>| {
        let mut page = request.clone();
        *page.page_token_mut() = token.unwrap_or_default();
        page.fetch(stub.clone(), options.clone())
    })
}

/// Every occurrence `request` lists, following page tokens.
async fn list_all(
    stub: Arc<dyn Stub>,
    request: ListOccurrencesRequest,
    options: CallOptions,
) -> Result<Vec<Occurrence>, Error> {
    ListOccurrences {
        stub,
        request,
        options,
    }
    .by_item()
    .try_collect()
    .await
}

/// Lists occurrences; see [`Client::list_occurrences`](crate::Client::list_occurrences).
#[derive(Debug)]
pub struct ListOccurrences {
    stub: Arc<dyn Stub>,
    request: ListOccurrencesRequest,
    options: CallOptions,
}

impl ListOccurrences {
    pub(crate) fn new(stub: Arc<dyn Stub>, project: &ProjectId) -> Self {
        Self {
            stub,
            request: ListOccurrencesRequest {
                parent: names::parent(project),
                ..Default::default()
            },
            options: CallOptions::default(),
        }
    }

    /// Only the occurrences of `image` (a `resourceUrl` filter).
    #[must_use]
    pub fn for_image(self, image: &DockerImageName) -> Self {
        self.set_filter(OccurrenceFilter::new().resource_url(&resource_url(image)))
    }

    paging!(Occurrence);
    call_options!();

    /// One page.
    pub async fn send(self) -> Result<ListOccurrencesResponse, Error> {
        self.stub.list_occurrences(self.request, self.options).await
    }

    /// The pages, fetched one at a time as the stream is polled.
    pub fn by_page(self) -> PageStream<'static, Occurrence, Error> {
        pages(self.stub, self.request, self.options)
    }
}

/// Lists notes; see [`Client::list_notes`](crate::Client::list_notes).
#[derive(Debug)]
pub struct ListNotes {
    stub: Arc<dyn Stub>,
    request: ListNotesRequest,
    options: CallOptions,
}

impl ListNotes {
    pub(crate) fn new(stub: Arc<dyn Stub>, project: &ProjectId) -> Self {
        Self {
            stub,
            request: ListNotesRequest {
                parent: names::parent(project),
                ..Default::default()
            },
            options: CallOptions::default(),
        }
    }

    paging!(Note);
    call_options!();

    /// One page.
    pub async fn send(self) -> Result<ListNotesResponse, Error> {
        self.stub.list_notes(self.request, self.options).await
    }

    /// The pages, fetched one at a time as the stream is polled.
    pub fn by_page(self) -> PageStream<'static, Note, Error> {
        pages(self.stub, self.request, self.options)
    }
}

/// Gets an occurrence; see [`Client::get_occurrence`](crate::Client::get_occurrence).
#[derive(Debug)]
pub struct GetOccurrence {
    stub: Arc<dyn Stub>,
    name: String,
    options: CallOptions,
}

impl GetOccurrence {
    pub(crate) fn new(stub: Arc<dyn Stub>, name: String) -> Self {
        Self {
            stub,
            name,
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Runs the call.
    pub async fn send(self) -> Result<Occurrence, Error> {
        names::check(&self.name, ResourceKind::Occurrence)?;
        let request = GetOccurrenceRequest { name: self.name };
        self.stub.get_occurrence(request, self.options).await
    }
}

/// Gets an occurrence's note; see
/// [`Client::get_occurrence_note`](crate::Client::get_occurrence_note).
#[derive(Debug)]
pub struct GetOccurrenceNote {
    stub: Arc<dyn Stub>,
    name: String,
    options: CallOptions,
}

impl GetOccurrenceNote {
    pub(crate) fn new(stub: Arc<dyn Stub>, name: String) -> Self {
        Self {
            stub,
            name,
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Runs the call.
    pub async fn send(self) -> Result<Note, Error> {
        names::check(&self.name, ResourceKind::Occurrence)?;
        let request = GetOccurrenceNoteRequest { name: self.name };
        self.stub.get_occurrence_note(request, self.options).await
    }
}

/// Gets a note; see [`Client::get_note`](crate::Client::get_note).
#[derive(Debug)]
pub struct GetNote {
    stub: Arc<dyn Stub>,
    name: String,
    options: CallOptions,
}

impl GetNote {
    pub(crate) fn new(stub: Arc<dyn Stub>, name: String) -> Self {
        Self {
            stub,
            name,
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Runs the call.
    pub async fn send(self) -> Result<Note, Error> {
        names::check(&self.name, ResourceKind::Note)?;
        let request = GetNoteRequest { name: self.name };
        self.stub.get_note(request, self.options).await
    }
}

/// Creates an occurrence; see [`Client::create_occurrence`](crate::Client::create_occurrence).
#[derive(Debug)]
pub struct CreateOccurrence {
    stub: Arc<dyn Stub>,
    request: CreateOccurrenceRequest,
    options: CallOptions,
}

impl CreateOccurrence {
    pub(crate) fn new(stub: Arc<dyn Stub>, project: &ProjectId, occurrence: Occurrence) -> Self {
        Self {
            stub,
            request: CreateOccurrenceRequest {
                parent: names::parent(project),
                occurrence: Some(occurrence),
            },
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Runs the call; the answer carries the name the server gave.
    pub async fn send(self) -> Result<Occurrence, Error> {
        self.stub
            .create_occurrence(self.request, self.options)
            .await
    }
}

/// Creates occurrences in one call; see
/// [`Client::batch_create_occurrences`](crate::Client::batch_create_occurrences).
#[derive(Debug)]
pub struct BatchCreateOccurrences {
    stub: Arc<dyn Stub>,
    request: BatchCreateOccurrencesRequest,
    options: CallOptions,
}

impl BatchCreateOccurrences {
    pub(crate) fn new(
        stub: Arc<dyn Stub>,
        project: &ProjectId,
        occurrences: Vec<Occurrence>,
    ) -> Self {
        Self {
            stub,
            request: BatchCreateOccurrencesRequest {
                parent: names::parent(project),
                occurrences,
            },
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Runs the call.
    pub async fn send(self) -> Result<BatchCreateOccurrencesResponse, Error> {
        self.stub
            .batch_create_occurrences(self.request, self.options)
            .await
    }
}

/// Creates a note; see [`Client::create_note`](crate::Client::create_note).
#[derive(Debug)]
pub struct CreateNote {
    stub: Arc<dyn Stub>,
    request: CreateNoteRequest,
    options: CallOptions,
}

impl CreateNote {
    pub(crate) fn new(
        stub: Arc<dyn Stub>,
        project: &ProjectId,
        note_id: String,
        note: Note,
    ) -> Self {
        Self {
            stub,
            request: CreateNoteRequest {
                parent: names::parent(project),
                note_id,
                note: Some(note),
            },
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Runs the call.
    pub async fn send(self) -> Result<Note, Error> {
        let id = &self.request.note_id;
        names::check(
            &format!("{}/notes/{id}", self.request.parent),
            ResourceKind::Note,
        )?;
        self.stub.create_note(self.request, self.options).await
    }
}

/// The vulnerability summary; see
/// [`Client::vulnerability_summary`](crate::Client::vulnerability_summary).
#[derive(Debug)]
pub struct GetVulnerabilitySummary {
    stub: Arc<dyn Stub>,
    request: GetVulnerabilityOccurrencesSummaryRequest,
    options: CallOptions,
}

impl GetVulnerabilitySummary {
    pub(crate) fn new(stub: Arc<dyn Stub>, project: &ProjectId) -> Self {
        Self {
            stub,
            request: GetVulnerabilityOccurrencesSummaryRequest {
                parent: names::parent(project),
                filter: String::new(),
            },
            options: CallOptions::default(),
        }
    }

    /// The filter expression (see [`OccurrenceFilter`]).
    #[must_use]
    pub fn set_filter(mut self, filter: impl Into<String>) -> Self {
        self.request.filter = filter.into();
        self
    }

    /// Only `image` (a `resourceUrl` filter).
    #[must_use]
    pub fn for_image(self, image: &DockerImageName) -> Self {
        self.set_filter(OccurrenceFilter::new().resource_url(&resource_url(image)))
    }

    call_options!();

    /// Runs the call.
    pub async fn send(self) -> Result<Summary, Error> {
        let s = self
            .stub
            .get_vulnerability_occurrences_summary(self.request, self.options)
            .await?;
        Ok(Summary::from_proto(&s))
    }
}

/// The request listing every occurrence of `image` of `kind` (all kinds when `None`).
fn image_listing(image: &DockerImageName, kind: Option<NoteKind>) -> ListOccurrencesRequest {
    let mut filter = OccurrenceFilter::new();
    if let Some(k) = kind {
        filter = filter.kind(k);
    }
    ListOccurrencesRequest {
        parent: names::parent(image.repository().project()),
        filter: filter.resource_url(&resource_url(image)).to_string(),
        page_size: 1000,
        page_token: String::new(),
    }
}

/// The vulnerability report of an image; see
/// [`Client::vulnerability_report`](crate::Client::vulnerability_report).
#[derive(Debug)]
pub struct GetVulnerabilityReport {
    stub: Arc<dyn Stub>,
    url: String,
    request: ListOccurrencesRequest,
    options: CallOptions,
}

impl GetVulnerabilityReport {
    pub(crate) fn new(stub: Arc<dyn Stub>, image: &DockerImageName) -> Self {
        Self {
            stub,
            url: resource_url(image),
            request: image_listing(image, None),
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Lists the image's occurrences and builds the report.
    pub async fn send(self) -> Result<VulnerabilityReport, Error> {
        let all = list_all(self.stub, self.request, self.options).await?;
        Ok(VulnerabilityReport::from_occurrences(&self.url, &all))
    }
}

/// The SBOM references of an image; see
/// [`Client::sbom_references`](crate::Client::sbom_references).
#[derive(Debug)]
pub struct ListSbomReferences {
    stub: Arc<dyn Stub>,
    url: String,
    request: ListOccurrencesRequest,
    options: CallOptions,
}

impl ListSbomReferences {
    pub(crate) fn new(stub: Arc<dyn Stub>, image: &DockerImageName) -> Self {
        Self {
            stub,
            url: resource_url(image),
            request: image_listing(image, Some(NoteKind::SbomReference)),
            options: CallOptions::default(),
        }
    }

    call_options!();

    /// Lists the image's SBOM_REFERENCE occurrences.
    pub async fn send(self) -> Result<Vec<SbomReference>, Error> {
        let all = list_all(self.stub, self.request, self.options).await?;
        Ok(VulnerabilityReport::from_occurrences(&self.url, &all).sbom_references)
    }
}

/// Default time between polls of [`WaitForAnalysis`].
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Default deadline of [`WaitForAnalysis`].
pub const DEFAULT_ANALYSIS_DEADLINE: Duration = Duration::from_secs(600);

/// Waits for the analysis of an image; see
/// [`Client::wait_for_analysis`](crate::Client::wait_for_analysis).
///
/// Time is tokio's, so tests with a paused clock run it without waiting.
#[derive(Debug)]
pub struct WaitForAnalysis {
    stub: Arc<dyn Stub>,
    image: DockerImageName,
    poll_interval: Duration,
    deadline: Duration,
    options: CallOptions,
}

impl WaitForAnalysis {
    pub(crate) fn new(stub: Arc<dyn Stub>, image: &DockerImageName) -> Self {
        Self {
            stub,
            image: image.clone(),
            poll_interval: DEFAULT_POLL_INTERVAL,
            deadline: DEFAULT_ANALYSIS_DEADLINE,
            options: CallOptions::default(),
        }
    }

    /// Time between polls (default [`DEFAULT_POLL_INTERVAL`]).
    #[must_use]
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// How long to wait in all (default [`DEFAULT_ANALYSIS_DEADLINE`]); the last
    /// poll happens at the deadline.
    #[must_use]
    pub fn with_deadline(mut self, after: Duration) -> Self {
        self.deadline = after;
        self
    }

    call_options!();

    /// Polls the image's DISCOVERY occurrence until its status is final
    /// (`FINISHED_SUCCESS`, alias `COMPLETE`, or `FINISHED_FAILED`,
    /// `FINISHED_UNSUPPORTED`), then lists everything and gives the report (its
    /// `scan` says which end it came to). A missing DISCOVERY occurrence (the
    /// push is not known yet) counts as not finished. Errors of a poll end the
    /// wait (the transport has retried what can be retried); the deadline
    /// passing ends it with a `Timeout` error.
    pub async fn send(self) -> Result<VulnerabilityReport, Error> {
        let url = resource_url(&self.image);
        let deadline = tokio::time::Instant::now() + self.deadline;
        let discoveries = image_listing(&self.image, Some(NoteKind::Discovery));
        loop {
            let found =
                list_all(self.stub.clone(), discoveries.clone(), self.options.clone()).await?;
            let scan = VulnerabilityReport::from_occurrences(&url, &found).scan;
            if scan.is_some_and(|s| s.status.is_terminal()) {
                let all =
                    list_all(self.stub, image_listing(&self.image, None), self.options).await?;
                return Ok(VulnerabilityReport::from_occurrences(&url, &all));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                let status = scan.map_or("no DISCOVERY occurrence yet", |s| match s.status {
                    ScanStatus::Pending => "PENDING",
                    ScanStatus::Scanning => "SCANNING",
                    _ => "not finished",
                });
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the analysis of {url} had not finished after {:?} ({status}); wait longer, or check that vulnerability scanning is on for the repository",
                        self.deadline
                    ),
                ));
            }
            tokio::time::sleep_until(deadline.min(now + self.poll_interval)).await;
        }
    }
}
