//! The gRPC [`Stub`]: gar-proto's tonic clients over the gar transport, so that
//! authentication, retries (read calls are marked idempotent, so `UNAVAILABLE`
//! is retried), the circuit breaker and observability apply as for REST.

use std::time::Duration;

use gar_core::Error;
use gar_core::error::{GrpcCode, Resource, ResourceKind};
use gar_proto::google::devtools::containeranalysis::v1::container_analysis_client::ContainerAnalysisClient;
use gar_proto::google::devtools::containeranalysis::v1::{
    GetVulnerabilityOccurrencesSummaryRequest, VulnerabilityOccurrencesSummary,
};
use gar_proto::grafeas::v1::grafeas_client::GrafeasClient;
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, BatchCreateOccurrencesResponse, CreateNoteRequest,
    CreateOccurrenceRequest, GetNoteRequest, GetOccurrenceNoteRequest, GetOccurrenceRequest,
    ListNotesRequest, ListNotesResponse, ListOccurrencesRequest, ListOccurrencesResponse, Note,
    Occurrence,
};
use gar_transport::Transport;
use gar_transport::grpc::{BufferRequest, BufferRequestLayer};
use gar_transport::observe::Operation;
use gar_transport::retry::Idempotency;
use gar_transport::timeout::RequestTimeout;
use tower_layer::Layer;

use crate::names;
use crate::stub::{CallOptions, Stub, StubFuture};

/// Request bodies up to this size are buffered (so that they can be retried).
const BUFFER_LIMIT: usize = 16 << 20;
/// The largest answer decoded (a page of 1000 occurrences fits many times over).
const DECODE_LIMIT: usize = 64 << 20;

type Channel = BufferRequest<Transport>;

/// Calls over gRPC.
#[derive(Debug, Clone)]
pub(crate) struct GrpcStub {
    grafeas: GrafeasClient<Channel>,
    analysis: ContainerAnalysisClient<Channel>,
}

impl GrpcStub {
    /// A stub sending to `origin` (`https://containeranalysis.googleapis.com`).
    pub(crate) fn new(transport: Transport, origin: http::Uri) -> Self {
        let channel = BufferRequestLayer::new(BUFFER_LIMIT).layer(transport);
        Self {
            grafeas: GrafeasClient::with_origin(channel.clone(), origin.clone())
                .max_decoding_message_size(DECODE_LIMIT),
            analysis: ContainerAnalysisClient::with_origin(channel, origin)
                .max_decoding_message_size(DECODE_LIMIT),
        }
    }
}

/// The error of a failed gRPC call about `resource`: a failure below gRPC
/// (connection, TLS, open circuit, credentials) keeps the transport's kind;
/// anything the server said goes through [`Error::from_grpc`].
pub(crate) fn from_status(status: tonic::Status, resource: &Resource) -> Error {
    let transport = std::error::Error::source(&status)
        .and_then(|s| s.downcast_ref::<Error>())
        .map(|e| (e.kind(), e.message().to_owned()));
    if let Some((kind, message)) = transport {
        return Error::new(kind, message)
            .with_resource(resource.clone())
            .with_source(status);
    }
    Error::from_grpc(
        GrpcCode::from_i32(i32::from(status.code())),
        status.message(),
        Some(resource),
    )
}

/// What a call carries besides its message.
struct Meta {
    operation: &'static str,
    /// `x-goog-request-params`: the routing key and value.
    routing: (&'static str, String),
    idempotent: bool,
    resource: Resource,
}

impl Meta {
    fn on_parent(operation: &'static str, parent: &str, idempotent: bool) -> Self {
        Self {
            operation,
            routing: ("parent", parent.to_owned()),
            idempotent,
            resource: names::project_resource(parent),
        }
    }

    fn on_name(operation: &'static str, name: &str, kind: ResourceKind) -> Self {
        Self {
            operation,
            routing: ("name", name.to_owned()),
            idempotent: true,
            resource: names::resource(name, kind),
        }
    }
}

/// Percent-encodes a routing value.
fn routing_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn request<T>(message: T, meta: &Meta, options: &CallOptions) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let (key, value) = &meta.routing;
    if let Ok(v) = format!("{key}={}", routing_value(value)).parse() {
        request.metadata_mut().insert("x-goog-request-params", v);
    }
    let mut operation =
        Operation::new(meta.operation).with_attribute("gar.resource", value.clone());
    if let Some(project) = value
        .strip_prefix("projects/")
        .and_then(|r| r.split('/').next())
    {
        operation = operation.with_attribute("gar.project", project);
    }
    let extensions = request.extensions_mut();
    extensions.insert(operation);
    if meta.idempotent {
        extensions.insert(Idempotency::Idempotent);
    }
    if let Some(t) = options.timeout {
        extensions.insert(RequestTimeout(t));
        request.set_timeout(t.max(Duration::from_millis(1)));
    }
    request
}

macro_rules! unary {
    ($self:ident, $client:ident, $method:ident, $message:expr, $meta:expr, $options:expr) => {{
        let meta = $meta;
        let request = request($message, &meta, &$options);
        let mut client = $self.$client.clone();
        Box::pin(async move {
            client
                .$method(request)
                .await
                .map(tonic::Response::into_inner)
                .map_err(|s| from_status(s, &meta.resource))
        })
    }};
}

impl Stub for GrpcStub {
    fn get_occurrence(
        &self,
        request: GetOccurrenceRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Occurrence> {
        let meta = Meta::on_name(
            "gar.containeranalysis.occurrences.get",
            &request.name,
            ResourceKind::Occurrence,
        );
        unary!(self, grafeas, get_occurrence, request, meta, options)
    }

    fn list_occurrences(
        &self,
        request: ListOccurrencesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, ListOccurrencesResponse> {
        let meta = Meta::on_parent(
            "gar.containeranalysis.occurrences.list",
            &request.parent,
            true,
        );
        unary!(self, grafeas, list_occurrences, request, meta, options)
    }

    fn create_occurrence(
        &self,
        request: CreateOccurrenceRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Occurrence> {
        let meta = Meta::on_parent(
            "gar.containeranalysis.occurrences.create",
            &request.parent,
            false,
        );
        unary!(self, grafeas, create_occurrence, request, meta, options)
    }

    fn batch_create_occurrences(
        &self,
        request: BatchCreateOccurrencesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, BatchCreateOccurrencesResponse> {
        let meta = Meta::on_parent(
            "gar.containeranalysis.occurrences.batchCreate",
            &request.parent,
            false,
        );
        unary!(
            self,
            grafeas,
            batch_create_occurrences,
            request,
            meta,
            options
        )
    }

    fn get_occurrence_note(
        &self,
        request: GetOccurrenceNoteRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Note> {
        let meta = Meta::on_name(
            "gar.containeranalysis.occurrences.getNote",
            &request.name,
            ResourceKind::Occurrence,
        );
        unary!(self, grafeas, get_occurrence_note, request, meta, options)
    }

    fn get_note(&self, request: GetNoteRequest, options: CallOptions) -> StubFuture<'_, Note> {
        let meta = Meta::on_name(
            "gar.containeranalysis.notes.get",
            &request.name,
            ResourceKind::Note,
        );
        unary!(self, grafeas, get_note, request, meta, options)
    }

    fn list_notes(
        &self,
        request: ListNotesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, ListNotesResponse> {
        let meta = Meta::on_parent("gar.containeranalysis.notes.list", &request.parent, true);
        unary!(self, grafeas, list_notes, request, meta, options)
    }

    fn create_note(
        &self,
        request: CreateNoteRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Note> {
        let mut meta =
            Meta::on_parent("gar.containeranalysis.notes.create", &request.parent, false);
        meta.resource = Resource::new(
            ResourceKind::Note,
            request.note_id.clone(),
            Some(&request.parent),
        );
        unary!(self, grafeas, create_note, request, meta, options)
    }

    fn get_vulnerability_occurrences_summary(
        &self,
        request: GetVulnerabilityOccurrencesSummaryRequest,
        options: CallOptions,
    ) -> StubFuture<'_, VulnerabilityOccurrencesSummary> {
        let meta = Meta::on_parent(
            "gar.containeranalysis.vulnerabilitySummary.get",
            &request.parent,
            true,
        );
        unary!(
            self,
            analysis,
            get_vulnerability_occurrences_summary,
            request,
            meta,
            options
        )
    }
}
