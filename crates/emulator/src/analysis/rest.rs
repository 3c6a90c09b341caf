//! The REST form of both services, as Google maps them onto HTTP:
//!
//! | request | call |
//! | --- | --- |
//! | `GET /v1/{parent}/occurrences?filter&pageSize&pageToken` | ListOccurrences |
//! | `POST /v1/{parent}/occurrences` (body: the occurrence) | CreateOccurrence |
//! | `POST /v1/{parent}/occurrences:batchCreate` (body: `{"occurrences": [...]}`) | BatchCreateOccurrences |
//! | `GET /v1/{parent}/occurrences:vulnerabilitySummary?filter` | GetVulnerabilityOccurrencesSummary |
//! | `GET /v1/{name=projects/*/occurrences/*}` | GetOccurrence |
//! | `GET /v1/{name=projects/*/occurrences/*}/notes` | GetOccurrenceNote |
//! | `GET /v1/{parent}/notes?filter&pageSize&pageToken` | ListNotes |
//! | `POST /v1/{parent}/notes?noteId=` (body: the note) | CreateNote |
//! | `GET /v1/{name=projects/*/notes/*}` | GetNote |
//!
//! `{parent}` is `projects/{p}` or `projects/{p}/locations/{l}`. Bodies are
//! ProtoJSON (enum aliases and numbers accepted); answers use enum names, or
//! numbers with `$alt=json;enum-encoding=int`.

use gar_proto::google::devtools::containeranalysis::v1::GetVulnerabilityOccurrencesSummaryRequest;
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, CreateNoteRequest, CreateOccurrenceRequest, GetNoteRequest,
    GetOccurrenceNoteRequest, GetOccurrenceRequest, ListNotesRequest, ListOccurrencesRequest,
};
use http::header::WWW_AUTHENTICATE;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ops::{self, ApiError, Code, err};
use crate::router::Ctx;
use crate::wire::{self, Resp, first, query_of};

/// Largest request body read.
const BODY_LIMIT: usize = 8 << 20;

fn error(e: &ApiError) -> Resp {
    let mut r = wire::google_error(e.code.http(), e.code.name(), &e.message);
    if e.code == Code::Unauthenticated {
        wire::set_header(
            &mut r,
            WWW_AUTHENTICATE,
            "Bearer realm=\"https://accounts.google.com/\"",
        );
    }
    r
}

/// Answers `result` as ProtoJSON of the message `name`.
fn reply<T: Serialize>(name: &str, ints: bool, result: Result<T, ApiError>) -> Resp {
    match result {
        Ok(msg) => match serde_json::to_value(&msg) {
            Ok(mut v) => {
                if ints {
                    gar_proto::json::normalize(name, &mut v);
                }
                wire::json(StatusCode::OK, &v)
            }
            Err(e) => wire::google_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                &format!("could not encode the answer: {e}"),
            ),
        },
        Err(e) => error(&e),
    }
}

/// Reads the body as ProtoJSON of the message `name`.
async fn body<T: DeserializeOwned>(req: Request<Incoming>, name: &str) -> Result<T, ApiError> {
    let bytes = wire::read_limited(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| {
            err(
                Code::InvalidArgument,
                "the body is unreadable or over 8 MiB",
            )
        })?;
    let value: Value = if bytes.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| err(Code::InvalidArgument, format!("the body is not JSON: {e}")))?
    };
    gar_proto::json::from_value(name, value).map_err(|e| {
        err(
            Code::InvalidArgument,
            format!("the body is not a valid {name}: {e}"),
        )
    })
}

fn page_size(query: &[(String, String)]) -> Result<i32, ApiError> {
    first(query, "pageSize").map_or(Ok(0), |v| {
        v.parse().map_err(|_| {
            err(
                Code::InvalidArgument,
                format!("pageSize {v:?} is not a number"),
            )
        })
    })
}

/// Serves one Container Analysis REST call.
pub(crate) async fn handle(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let state = &ctx.state;
    let who = match ops::authenticate(state, req.headers()) {
        Ok(w) => w,
        Err(e) => return error(&e),
    };
    let who = who.as_ref();
    let query = query_of(req.uri());
    let ints = first(&query, "$alt").is_some_and(|a| a.contains("enum-encoding=int"));
    let segments: Vec<String> = req
        .uri()
        .path()
        .trim_start_matches("/v1/")
        .split('/')
        .map(|s| wire::percent_decode(s, false))
        .collect();
    let (parent_len, tail) = match segments.as_slice() {
        [p, _, l, _, tail @ ..] if p == "projects" && l == "locations" => (4, tail),
        [p, _, tail @ ..] if p == "projects" => (2, tail),
        _ => (0, &[][..]),
    };
    let parent = segments
        .get(..parent_len)
        .map(|s| s.join("/"))
        .unwrap_or_default();
    let filter = first(&query, "filter").unwrap_or_default().to_owned();
    let token = first(&query, "pageToken").unwrap_or_default().to_owned();
    let method = req.method().clone();
    let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
    match (method, tail.as_slice()) {
        (Method::GET, ["occurrences"]) => {
            let page_size = match page_size(&query) {
                Ok(n) => n,
                Err(e) => return error(&e),
            };
            let r = ListOccurrencesRequest {
                parent,
                filter,
                page_size,
                page_token: token,
            };
            reply(
                "grafeas.v1.ListOccurrencesResponse",
                ints,
                ops::list_occurrences(state, who, r).await,
            )
        }
        (Method::POST, ["occurrences"]) => {
            let result = match body(req, "grafeas.v1.Occurrence").await {
                Ok(o) => {
                    let r = CreateOccurrenceRequest {
                        parent,
                        occurrence: Some(o),
                    };
                    ops::create_occurrence(state, who, r).await
                }
                Err(e) => Err(e),
            };
            reply("grafeas.v1.Occurrence", ints, result)
        }
        (Method::POST, ["occurrences:batchCreate"]) => {
            let result = match body::<BatchCreateOccurrencesRequest>(
                req,
                "grafeas.v1.BatchCreateOccurrencesRequest",
            )
            .await
            {
                Ok(mut r) => {
                    r.parent = parent;
                    ops::batch_create_occurrences(state, who, r).await
                }
                Err(e) => Err(e),
            };
            reply("grafeas.v1.BatchCreateOccurrencesResponse", ints, result)
        }
        (Method::GET, ["occurrences:vulnerabilitySummary"]) => {
            let r = GetVulnerabilityOccurrencesSummaryRequest { parent, filter };
            reply(
                "google.devtools.containeranalysis.v1.VulnerabilityOccurrencesSummary",
                ints,
                ops::vulnerability_summary(state, who, r).await,
            )
        }
        (Method::GET, ["occurrences", id]) => {
            let r = GetOccurrenceRequest {
                name: format!("{parent}/occurrences/{id}"),
            };
            reply(
                "grafeas.v1.Occurrence",
                ints,
                ops::get_occurrence(state, who, r).await,
            )
        }
        (Method::GET, ["occurrences", id, "notes"]) => {
            let r = GetOccurrenceNoteRequest {
                name: format!("{parent}/occurrences/{id}"),
            };
            reply(
                "grafeas.v1.Note",
                ints,
                ops::get_occurrence_note(state, who, r).await,
            )
        }
        (Method::GET, ["notes"]) => {
            let page_size = match page_size(&query) {
                Ok(n) => n,
                Err(e) => return error(&e),
            };
            let r = ListNotesRequest {
                parent,
                filter,
                page_size,
                page_token: token,
            };
            reply(
                "grafeas.v1.ListNotesResponse",
                ints,
                ops::list_notes(state, who, r).await,
            )
        }
        (Method::POST, ["notes"]) => {
            let note_id = first(&query, "noteId").unwrap_or_default().to_owned();
            let result = match body(req, "grafeas.v1.Note").await {
                Ok(n) => {
                    let r = CreateNoteRequest {
                        parent,
                        note_id,
                        note: Some(n),
                    };
                    ops::create_note(state, who, r).await
                }
                Err(e) => Err(e),
            };
            reply("grafeas.v1.Note", ints, result)
        }
        (Method::GET, ["notes", id]) => {
            let r = GetNoteRequest {
                name: format!("{parent}/notes/{id}"),
            };
            reply("grafeas.v1.Note", ints, ops::get_note(state, who, r).await)
        }
        (method, _) => error(&err(
            Code::NotFound,
            format!(
                "{method} {} is not a Container Analysis method this emulator serves",
                req.uri().path()
            ),
        )),
    }
}
