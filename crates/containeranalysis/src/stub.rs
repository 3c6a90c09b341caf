//! The seam between the [`Client`](crate::Client) and the wire: one method per
//! call, taking and giving the API's messages.
//!
//! [`Client::builder`](crate::Client::builder) picks the gRPC or the REST
//! implementation; tests (and anything else) can supply their own through
//! [`Client::from_stub`](crate::Client::from_stub).
//!
//! ```
//! use gar_containeranalysis::stub::{CallOptions, Stub, StubFuture};
//! use gar_containeranalysis::Client;
//! use gar_proto::grafeas::v1::*;
//! use gar_proto::google::devtools::containeranalysis::v1::*;
//!
//! /// Answers every listing with no occurrences, and refuses the rest.
//! #[derive(Debug)]
//! struct Empty;
//!
//! fn refused<'a, T: Send + 'a>() -> StubFuture<'a, T> {
//!     Box::pin(async { Err(gar_core::Error::new(gar_core::ErrorKind::Unimplemented, "not in this test")) })
//! }
//!
//! impl Stub for Empty {
//!     fn list_occurrences(&self, _: ListOccurrencesRequest, _: CallOptions) -> StubFuture<'_, ListOccurrencesResponse> {
//!         Box::pin(async { Ok(ListOccurrencesResponse::default()) })
//!     }
//!     fn get_occurrence(&self, _: GetOccurrenceRequest, _: CallOptions) -> StubFuture<'_, Occurrence> { refused() }
//!     fn create_occurrence(&self, _: CreateOccurrenceRequest, _: CallOptions) -> StubFuture<'_, Occurrence> { refused() }
//!     fn batch_create_occurrences(&self, _: BatchCreateOccurrencesRequest, _: CallOptions)
//!         -> StubFuture<'_, BatchCreateOccurrencesResponse> { refused() }
//!     fn get_occurrence_note(&self, _: GetOccurrenceNoteRequest, _: CallOptions) -> StubFuture<'_, Note> { refused() }
//!     fn get_note(&self, _: GetNoteRequest, _: CallOptions) -> StubFuture<'_, Note> { refused() }
//!     fn list_notes(&self, _: ListNotesRequest, _: CallOptions) -> StubFuture<'_, ListNotesResponse> { refused() }
//!     fn create_note(&self, _: CreateNoteRequest, _: CallOptions) -> StubFuture<'_, Note> { refused() }
//!     fn get_vulnerability_occurrences_summary(&self, _: GetVulnerabilityOccurrencesSummaryRequest, _: CallOptions)
//!         -> StubFuture<'_, VulnerabilityOccurrencesSummary> { refused() }
//! }
//!
//! let client = Client::from_stub(Empty);
//! # drop(client);
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use gar_core::Error;
use gar_proto::google::devtools::containeranalysis::v1::{
    GetVulnerabilityOccurrencesSummaryRequest, VulnerabilityOccurrencesSummary,
};
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, BatchCreateOccurrencesResponse, CreateNoteRequest,
    CreateOccurrenceRequest, GetNoteRequest, GetOccurrenceNoteRequest, GetOccurrenceRequest,
    ListNotesRequest, ListNotesResponse, ListOccurrencesRequest, ListOccurrencesResponse, Note,
    Occurrence,
};

/// The future a [`Stub`] method returns.
pub type StubFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// Options of one call, set with the `with_*` methods of the request builders.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// The longest wait for each attempt's answer (the transport's default when `None`).
    pub timeout: Option<Duration>,
}

impl CallOptions {
    /// Options with the transport's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// With a per-attempt timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The calls of Grafeas v1 and Container Analysis v1 that gar makes.
///
/// Implementations map every failure to a [`gar_core::Error`] (the gRPC and REST
/// ones through gar-core's `Error::from_grpc` and `Error::from_http`).
pub trait Stub: Send + Sync + fmt::Debug {
    /// `grafeas.v1.Grafeas/GetOccurrence`.
    fn get_occurrence(
        &self,
        request: GetOccurrenceRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Occurrence>;

    /// `grafeas.v1.Grafeas/ListOccurrences`.
    fn list_occurrences(
        &self,
        request: ListOccurrencesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, ListOccurrencesResponse>;

    /// `grafeas.v1.Grafeas/CreateOccurrence`.
    fn create_occurrence(
        &self,
        request: CreateOccurrenceRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Occurrence>;

    /// `grafeas.v1.Grafeas/BatchCreateOccurrences`.
    fn batch_create_occurrences(
        &self,
        request: BatchCreateOccurrencesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, BatchCreateOccurrencesResponse>;

    /// `grafeas.v1.Grafeas/GetOccurrenceNote`.
    fn get_occurrence_note(
        &self,
        request: GetOccurrenceNoteRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Note>;

    /// `grafeas.v1.Grafeas/GetNote`.
    fn get_note(&self, request: GetNoteRequest, options: CallOptions) -> StubFuture<'_, Note>;

    /// `grafeas.v1.Grafeas/ListNotes`.
    fn list_notes(
        &self,
        request: ListNotesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, ListNotesResponse>;

    /// `grafeas.v1.Grafeas/CreateNote`.
    fn create_note(&self, request: CreateNoteRequest, options: CallOptions)
    -> StubFuture<'_, Note>;

    /// `google.devtools.containeranalysis.v1.ContainerAnalysis/GetVulnerabilityOccurrencesSummary`.
    fn get_vulnerability_occurrences_summary(
        &self,
        request: GetVulnerabilityOccurrencesSummaryRequest,
        options: CallOptions,
    ) -> StubFuture<'_, VulnerabilityOccurrencesSummary>;
}
