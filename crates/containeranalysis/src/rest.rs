//! The REST [`Stub`]: the same calls as JSON over HTTP/1.1 or HTTP/2, for
//! networks that let no gRPC through. Answers are read with gar-proto's
//! descriptor-guided reader, so enum aliases (`COMPLETE`) and values newer than
//! gar's protos never fail a call.

use gar_core::Error;
use gar_core::ErrorKind;
use gar_core::error::{Resource, ResourceKind};
use gar_proto::google::devtools::containeranalysis::v1::{
    GetVulnerabilityOccurrencesSummaryRequest, VulnerabilityOccurrencesSummary,
};
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, BatchCreateOccurrencesResponse, CreateNoteRequest,
    CreateOccurrenceRequest, GetNoteRequest, GetOccurrenceNoteRequest, GetOccurrenceRequest,
    ListNotesRequest, ListNotesResponse, ListOccurrencesRequest, ListOccurrencesResponse, Note,
    Occurrence,
};
use gar_transport::observe::Operation;
use gar_transport::retry::Idempotency;
use gar_transport::timeout::RequestTimeout;
use gar_transport::{Body, Transport};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, Request};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::names;
use crate::stub::{CallOptions, Stub, StubFuture};

/// Largest answer read.
const JSON_LIMIT: usize = 64 << 20;
/// Largest error body read.
const ERROR_LIMIT: usize = 1 << 20;

/// Calls over REST.
#[derive(Debug, Clone)]
pub(crate) struct RestStub {
    transport: Transport,
    endpoint: String,
}

impl RestStub {
    /// A stub sending to `endpoint` (`https://containeranalysis.googleapis.com`).
    pub(crate) fn new(transport: Transport, endpoint: &str) -> Self {
        Self {
            transport,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
        }
    }
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
fn encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string of the non-empty pairs.
fn query(pairs: &[(&str, String)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v, false)))
        .collect();
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

/// A page size as a query value; 0 (the server's default) is left out.
fn page_size(n: i32) -> String {
    if n == 0 { String::new() } else { n.to_string() }
}

/// The query of a listing: its filter, page size and page token, where set.
fn list_query(filter: &str, size: i32, token: &str) -> String {
    query(&[
        ("filter", filter.to_owned()),
        ("pageSize", page_size(size)),
        ("pageToken", token.to_owned()),
    ])
}

/// Reads ProtoJSON of the message `name` from an answer.
pub(crate) fn decode<T: DeserializeOwned>(name: &str, bytes: &[u8]) -> Result<T, Error> {
    let bad = |e: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("the Container Analysis answer is not a valid {name}: {e}"),
        )
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| bad(&e))?;
    gar_proto::json::from_value(name, value).map_err(|e| bad(&e))
}

/// One REST exchange.
struct Call<'a> {
    method: Method,
    /// The path after `/v1/` and the query.
    path: String,
    body: Option<Value>,
    answer: &'static str,
    operation: &'static str,
    name: &'a str,
    resource: Resource,
    idempotent: bool,
}

impl<'a> Call<'a> {
    /// A GET of `path`, retried as idempotent; `name` and `resource` say what
    /// it is about, `answer` is the message it gives.
    fn get(
        path: String,
        name: &'a str,
        resource: Resource,
        answer: &'static str,
        operation: &'static str,
    ) -> Self {
        Self {
            method: Method::GET,
            path,
            body: None,
            answer,
            operation,
            name,
            resource,
            idempotent: true,
        }
    }

    /// A POST of `body` to `path`, not idempotent (see [`Call::get`]).
    fn post(
        path: String,
        body: Value,
        name: &'a str,
        resource: Resource,
        answer: &'static str,
        operation: &'static str,
    ) -> Self {
        Self {
            method: Method::POST,
            body: Some(body),
            idempotent: false,
            ..Self::get(path, name, resource, answer, operation)
        }
    }
}

impl RestStub {
    async fn call<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        options: CallOptions,
    ) -> Result<T, Error> {
        let url = format!("{}/v1/{}", self.endpoint, call.path);
        let body = match &call.body {
            Some(v) => Body::full(v.to_string()),
            None => Body::empty(),
        };
        let mut builder = Request::builder()
            .method(call.method.clone())
            .uri(&url)
            .header(ACCEPT, "application/json");
        if call.body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        let mut request = builder
            .body(body)
            .map_err(|e| Error::invalid(ErrorKind::InvalidArgument, "request URL", &url, e))?;
        let mut operation =
            Operation::new(call.operation).with_attribute("gar.resource", call.name.to_owned());
        if let Some(project) = call
            .name
            .strip_prefix("projects/")
            .and_then(|r| r.split('/').next())
        {
            operation = operation.with_attribute("gar.project", project);
        }
        let extensions = request.extensions_mut();
        extensions.insert(operation);
        extensions.insert(if call.idempotent {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        });
        if let Some(t) = options.timeout {
            extensions.insert(RequestTimeout(t));
        }
        let response = self.transport.send(request).await?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.into_body().collect_bytes(ERROR_LIMIT).await?;
            return Err(Error::from_http(
                status.as_u16(),
                &bytes,
                Some(&call.resource),
            ));
        }
        let bytes = response.into_body().collect_bytes(JSON_LIMIT).await?;
        decode(call.answer, &bytes)
    }
}

/// The JSON body of an optional message: `{}` when it is absent.
fn message_json<T: Serialize>(message: Option<&T>) -> Result<Value, Error> {
    match message {
        Some(m) => to_json(m),
        None => Ok(json!({})),
    }
}

fn to_json<T: Serialize>(message: &T) -> Result<Value, Error> {
    serde_json::to_value(message).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("cannot encode the request: {e}"),
        )
    })
}

impl Stub for RestStub {
    fn get_occurrence(
        &self,
        request: GetOccurrenceRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Occurrence> {
        Box::pin(async move {
            let call = Call::get(
                encode(&request.name, true),
                &request.name,
                names::resource(&request.name, ResourceKind::Occurrence),
                "grafeas.v1.Occurrence",
                "gar.containeranalysis.occurrences.get",
            );
            self.call(call, options).await
        })
    }

    fn list_occurrences(
        &self,
        request: ListOccurrencesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, ListOccurrencesResponse> {
        Box::pin(async move {
            let q = list_query(&request.filter, request.page_size, &request.page_token);
            let call = Call::get(
                format!("{}/occurrences{q}", encode(&request.parent, true)),
                &request.parent,
                names::project_resource(&request.parent),
                "grafeas.v1.ListOccurrencesResponse",
                "gar.containeranalysis.occurrences.list",
            );
            self.call(call, options).await
        })
    }

    fn create_occurrence(
        &self,
        request: CreateOccurrenceRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Occurrence> {
        Box::pin(async move {
            let call = Call::post(
                format!("{}/occurrences", encode(&request.parent, true)),
                message_json(request.occurrence.as_ref())?,
                &request.parent,
                names::project_resource(&request.parent),
                "grafeas.v1.Occurrence",
                "gar.containeranalysis.occurrences.create",
            );
            self.call(call, options).await
        })
    }

    fn batch_create_occurrences(
        &self,
        request: BatchCreateOccurrencesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, BatchCreateOccurrencesResponse> {
        Box::pin(async move {
            let call = Call::post(
                format!("{}/occurrences:batchCreate", encode(&request.parent, true)),
                json!({"occurrences": to_json(&request.occurrences)?}),
                &request.parent,
                names::project_resource(&request.parent),
                "grafeas.v1.BatchCreateOccurrencesResponse",
                "gar.containeranalysis.occurrences.batchCreate",
            );
            self.call(call, options).await
        })
    }

    fn get_occurrence_note(
        &self,
        request: GetOccurrenceNoteRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Note> {
        Box::pin(async move {
            let call = Call::get(
                format!("{}/notes", encode(&request.name, true)),
                &request.name,
                names::resource(&request.name, ResourceKind::Occurrence),
                "grafeas.v1.Note",
                "gar.containeranalysis.occurrences.getNote",
            );
            self.call(call, options).await
        })
    }

    fn get_note(&self, request: GetNoteRequest, options: CallOptions) -> StubFuture<'_, Note> {
        Box::pin(async move {
            let call = Call::get(
                encode(&request.name, true),
                &request.name,
                names::resource(&request.name, ResourceKind::Note),
                "grafeas.v1.Note",
                "gar.containeranalysis.notes.get",
            );
            self.call(call, options).await
        })
    }

    fn list_notes(
        &self,
        request: ListNotesRequest,
        options: CallOptions,
    ) -> StubFuture<'_, ListNotesResponse> {
        Box::pin(async move {
            let q = list_query(&request.filter, request.page_size, &request.page_token);
            let call = Call::get(
                format!("{}/notes{q}", encode(&request.parent, true)),
                &request.parent,
                names::project_resource(&request.parent),
                "grafeas.v1.ListNotesResponse",
                "gar.containeranalysis.notes.list",
            );
            self.call(call, options).await
        })
    }

    fn create_note(
        &self,
        request: CreateNoteRequest,
        options: CallOptions,
    ) -> StubFuture<'_, Note> {
        Box::pin(async move {
            let q = query(&[("noteId", request.note_id.clone())]);
            let call = Call::post(
                format!("{}/notes{q}", encode(&request.parent, true)),
                message_json(request.note.as_ref())?,
                &request.parent,
                Resource::new(
                    ResourceKind::Note,
                    request.note_id.clone(),
                    Some(&request.parent),
                ),
                "grafeas.v1.Note",
                "gar.containeranalysis.notes.create",
            );
            self.call(call, options).await
        })
    }

    fn get_vulnerability_occurrences_summary(
        &self,
        request: GetVulnerabilityOccurrencesSummaryRequest,
        options: CallOptions,
    ) -> StubFuture<'_, VulnerabilityOccurrencesSummary> {
        Box::pin(async move {
            let q = query(&[("filter", request.filter.clone())]);
            let call = Call::get(
                format!(
                    "{}/occurrences:vulnerabilitySummary{q}",
                    encode(&request.parent, true)
                ),
                &request.parent,
                names::project_resource(&request.parent),
                "google.devtools.containeranalysis.v1.VulnerabilityOccurrencesSummary",
                "gar.containeranalysis.vulnerabilitySummary.get",
            );
            self.call(call, options).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gar_proto::grafeas::v1::occurrence::Details;

    #[test]
    fn answers_with_aliases_and_new_values_decode() {
        let occ: Occurrence = decode(
            "grafeas.v1.Occurrence",
            br#"{"name":"projects/p/occurrences/o","kind":"DISCOVERY","somethingNew":1,
                 "discovery":{"analysisStatus":"COMPLETE","continuousAnalysis":"NOT_YET_INVENTED"}}"#,
        )
        .unwrap();
        let Some(Details::Discovery(d)) = occ.details else {
            panic!("no discovery")
        };
        assert_eq!(d.analysis_status, 3);
        assert_eq!(d.continuous_analysis, 0);
        let e = decode::<Occurrence>("grafeas.v1.Occurrence", b"<html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    }

    #[test]
    fn urls_are_encoded() {
        assert_eq!(
            encode("projects/p/occurrences/a b", true),
            "projects/p/occurrences/a%20b"
        );
        assert_eq!(
            query(&[
                ("filter", "kind=\"X\"".into()),
                ("pageSize", page_size(0)),
                ("pageToken", String::new())
            ]),
            "?filter=kind%3D%22X%22"
        );
        assert_eq!(query(&[]), "");
    }
}
