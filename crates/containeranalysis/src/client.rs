//! The [`Client`] handle and its configuration.

use std::fmt;
use std::sync::Arc;

use gar_core::endpoints::{BaseUrl, Endpoints, Surface};
use gar_core::ids::ProjectId;
use gar_core::names::DockerImageName;
use gar_core::{Error, ErrorKind};
use gar_proto::grafeas::v1::{Note, Occurrence};
use gar_transport::Transport;

use crate::builders::{
    BatchCreateOccurrences, CreateNote, CreateOccurrence, GetNote, GetOccurrence,
    GetOccurrenceNote, GetVulnerabilityReport, GetVulnerabilitySummary, ListNotes, ListOccurrences,
    ListSbomReferences, WaitForAnalysis,
};
use crate::grpc::GrpcStub;
use crate::rest::RestStub;
use crate::stub::Stub;

/// Container Analysis's public endpoint (gRPC and REST).
pub const DEFAULT_ENDPOINT: &str = "https://containeranalysis.googleapis.com";

/// The wire form of the calls.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC over HTTP/2 (the default).
    #[default]
    Grpc,
    /// JSON over HTTP, for networks that let no gRPC through.
    Rest,
}

/// A client of Container Analysis v1 and Grafeas v1: a cheap-to-clone handle.
///
/// Every call returns a request builder: `set_*` for request fields, `with_*`
/// for per-call options, then `send()`; lists also give `by_page()` and
/// `by_item()` streams. Calls go over gRPC or REST ([`Protocol`]) through a
/// [`Transport`], which brings authentication, retries, the circuit breaker and
/// the `gar.containeranalysis.*` spans and metrics.
///
/// ```no_run
/// use std::time::Duration;
/// use gar_containeranalysis::{Client, Protocol};
/// use gar_containeranalysis::report::Severity;
/// use gar_core::names::DockerImageName;
///
/// # async fn demo(transport: gar_transport::Transport) -> Result<(), gar_core::Error> {
/// let client = Client::builder().transport(transport).protocol(Protocol::Rest).build()?;
/// let image: DockerImageName = "projects/my-project/locations/us/repositories/docker/dockerImages/\
///     app@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".parse()?;
/// let report = client
///     .wait_for_analysis(&image)
///     .with_deadline(Duration::from_secs(300))
///     .send()
///     .await?;
/// println!("{} critical, {} fixable", report.count(Severity::Critical).total, report.total().fixable);
/// for finding in &report.findings {
///     println!("{} {} {:?}", finding.cve, finding.severity, finding.cvss_score);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    stub: Arc<dyn Stub>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("stub", &self.stub).finish()
    }
}

/// Configures a [`Client`].
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    transport: Option<Transport>,
    endpoint: Option<String>,
    protocol: Protocol,
}

impl ClientBuilder {
    /// The transport to send through (default: `Transport::builder().build()`,
    /// without credentials).
    #[must_use]
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The API's base URL (default [`DEFAULT_ENDPOINT`]; a regional endpoint or
    /// an emulator's `http://127.0.0.1:PORT` otherwise).
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The Container Analysis endpoint of `endpoints` (Google's, or one base URL
    /// for every surface, as for the emulator).
    #[must_use]
    pub fn endpoints(mut self, endpoints: &Endpoints) -> Self {
        self.endpoint = Some(endpoints.global_url(Surface::ContainerAnalysis).to_string());
        self
    }

    /// gRPC (the default) or REST.
    #[must_use]
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, Error> {
        let transport = match self.transport {
            Some(t) => t,
            None => Transport::builder().build()?,
        };
        let endpoint = self.endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        // Checks scheme, host and port; refuses paths.
        let base: BaseUrl = endpoint.parse()?;
        let base = base.to_string();
        let stub: Arc<dyn Stub> = match self.protocol {
            Protocol::Grpc => {
                let origin: http::Uri = base.parse().map_err(|e| {
                    Error::invalid(ErrorKind::InvalidArgument, "endpoint", &base, e)
                })?;
                Arc::new(GrpcStub::new(transport, origin))
            }
            Protocol::Rest => Arc::new(RestStub::new(transport, &base)),
        };
        Ok(Client { stub })
    }
}

impl Client {
    /// A builder with the defaults: Google's endpoint over gRPC.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client over `stub` (a mock in tests, or another wire).
    pub fn from_stub(stub: impl Stub + 'static) -> Self {
        Self {
            stub: Arc::new(stub),
        }
    }

    /// The occurrences of `project`, narrowed with `set_filter` (see
    /// [`OccurrenceFilter`](crate::filter::OccurrenceFilter)).
    pub fn list_occurrences(&self, project: &ProjectId) -> ListOccurrences {
        ListOccurrences::new(self.stub.clone(), project)
    }

    /// The occurrence `name` (`projects/{p}/occurrences/{id}`).
    pub fn get_occurrence(&self, name: impl Into<String>) -> GetOccurrence {
        GetOccurrence::new(self.stub.clone(), name.into())
    }

    /// The note the occurrence `name` refers to.
    pub fn get_occurrence_note(&self, name: impl Into<String>) -> GetOccurrenceNote {
        GetOccurrenceNote::new(self.stub.clone(), name.into())
    }

    /// Creates `occurrence` in `project`.
    pub fn create_occurrence(
        &self,
        project: &ProjectId,
        occurrence: Occurrence,
    ) -> CreateOccurrence {
        CreateOccurrence::new(self.stub.clone(), project, occurrence)
    }

    /// Creates `occurrences` in `project` in one call (all or none).
    pub fn batch_create_occurrences(
        &self,
        project: &ProjectId,
        occurrences: Vec<Occurrence>,
    ) -> BatchCreateOccurrences {
        BatchCreateOccurrences::new(self.stub.clone(), project, occurrences)
    }

    /// The notes of `project` (vulnerability notes live in `goog-vulnz`).
    pub fn list_notes(&self, project: &ProjectId) -> ListNotes {
        ListNotes::new(self.stub.clone(), project)
    }

    /// The note `name` (`projects/{p}/notes/{id}`).
    pub fn get_note(&self, name: impl Into<String>) -> GetNote {
        GetNote::new(self.stub.clone(), name.into())
    }

    /// Creates `note` as `projects/{project}/notes/{note_id}`.
    pub fn create_note(
        &self,
        project: &ProjectId,
        note_id: impl Into<String>,
        note: Note,
    ) -> CreateNote {
        CreateNote::new(self.stub.clone(), project, note_id.into(), note)
    }

    /// Vulnerability counts by resource and severity in `project`.
    pub fn vulnerability_summary(&self, project: &ProjectId) -> GetVulnerabilitySummary {
        GetVulnerabilitySummary::new(self.stub.clone(), project)
    }

    /// The [`VulnerabilityReport`](crate::report::VulnerabilityReport) of `image`,
    /// from all its occurrences.
    pub fn vulnerability_report(&self, image: &DockerImageName) -> GetVulnerabilityReport {
        GetVulnerabilityReport::new(self.stub.clone(), image)
    }

    /// Polls until the analysis of `image` has finished (or failed, or is
    /// unsupported), then gives its report; fails with a `Timeout` error when
    /// the deadline passes first.
    pub fn wait_for_analysis(&self, image: &DockerImageName) -> WaitForAnalysis {
        WaitForAnalysis::new(self.stub.clone(), image)
    }

    /// The SBOMs attached to `image`.
    pub fn sbom_references(&self, image: &DockerImageName) -> ListSbomReferences {
        ListSbomReferences::new(self.stub.clone(), image)
    }
}
