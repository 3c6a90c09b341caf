//! The gRPC form of both services: the generated tonic servers of gar-proto,
//! called on the incoming request directly (no tonic transport or router).

use std::sync::Arc;

use gar_proto::google::devtools::containeranalysis::v1::container_analysis_server::{
    ContainerAnalysis, ContainerAnalysisServer,
};
use gar_proto::google::devtools::containeranalysis::v1::{
    GetVulnerabilityOccurrencesSummaryRequest, VulnerabilityOccurrencesSummary,
};
use gar_proto::grafeas::v1::grafeas_server::{Grafeas, GrafeasServer};
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, BatchCreateOccurrencesResponse, CreateNoteRequest,
    CreateOccurrenceRequest, GetNoteRequest, GetOccurrenceNoteRequest, GetOccurrenceRequest,
    ListNotesRequest, ListNotesResponse, ListOccurrencesRequest, ListOccurrencesResponse, Note,
    Occurrence,
};
use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tonic::codegen::Service;
use tonic::{Response, Status};

use super::ops::{self, ApiError};
use crate::identity::Principal;
use crate::router::{Ctx, grpc_status, grpc_unimplemented};
use crate::state::State;
use crate::wire::{BoxError, Resp};

/// The Grafeas service path prefix.
const GRAFEAS: &str = "/grafeas.v1.Grafeas/";
/// The Container Analysis service path prefix.
const CONTAINER_ANALYSIS: &str = "/google.devtools.containeranalysis.v1.ContainerAnalysis/";

/// One call's view of the services: the state and who calls.
struct Api {
    state: Arc<State>,
    who: Option<Principal>,
}

fn status(e: ApiError) -> Status {
    Status::new(e.code.grpc(), e.message)
}

type Answer<T> = Result<Response<T>, Status>;

fn answer<T>(r: Result<T, ApiError>) -> Answer<T> {
    r.map(Response::new).map_err(status)
}

#[tonic::async_trait]
impl Grafeas for Api {
    async fn get_occurrence(
        &self,
        request: tonic::Request<GetOccurrenceRequest>,
    ) -> Answer<Occurrence> {
        answer(ops::get_occurrence(&self.state, self.who.as_ref(), request.into_inner()).await)
    }

    async fn list_occurrences(
        &self,
        request: tonic::Request<ListOccurrencesRequest>,
    ) -> Answer<ListOccurrencesResponse> {
        answer(ops::list_occurrences(&self.state, self.who.as_ref(), request.into_inner()).await)
    }

    async fn create_occurrence(
        &self,
        request: tonic::Request<CreateOccurrenceRequest>,
    ) -> Answer<Occurrence> {
        answer(ops::create_occurrence(&self.state, self.who.as_ref(), request.into_inner()).await)
    }

    async fn batch_create_occurrences(
        &self,
        request: tonic::Request<BatchCreateOccurrencesRequest>,
    ) -> Answer<BatchCreateOccurrencesResponse> {
        answer(
            ops::batch_create_occurrences(&self.state, self.who.as_ref(), request.into_inner())
                .await,
        )
    }

    async fn get_occurrence_note(
        &self,
        request: tonic::Request<GetOccurrenceNoteRequest>,
    ) -> Answer<Note> {
        answer(ops::get_occurrence_note(&self.state, self.who.as_ref(), request.into_inner()).await)
    }

    async fn get_note(&self, request: tonic::Request<GetNoteRequest>) -> Answer<Note> {
        answer(ops::get_note(&self.state, self.who.as_ref(), request.into_inner()).await)
    }

    async fn list_notes(
        &self,
        request: tonic::Request<ListNotesRequest>,
    ) -> Answer<ListNotesResponse> {
        answer(ops::list_notes(&self.state, self.who.as_ref(), request.into_inner()).await)
    }

    async fn create_note(&self, request: tonic::Request<CreateNoteRequest>) -> Answer<Note> {
        answer(ops::create_note(&self.state, self.who.as_ref(), request.into_inner()).await)
    }
}

#[tonic::async_trait]
impl ContainerAnalysis for Api {
    async fn get_vulnerability_occurrences_summary(
        &self,
        request: tonic::Request<GetVulnerabilityOccurrencesSummaryRequest>,
    ) -> Answer<VulnerabilityOccurrencesSummary> {
        answer(
            ops::vulnerability_summary(&self.state, self.who.as_ref(), request.into_inner()).await,
        )
    }
}

/// Serves one gRPC call: authenticates it, then hands it to the generated
/// server of its service; other services answer `UNIMPLEMENTED`.
pub(crate) async fn handle(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    let grafeas = path.starts_with(GRAFEAS);
    if !grafeas && !path.starts_with(CONTAINER_ANALYSIS) {
        return grpc_unimplemented(&path);
    }
    let who = match ops::authenticate(&ctx.state, req.headers()) {
        Ok(w) => w,
        Err(e) => {
            let code = u16::try_from(i32::from(e.code.grpc())).unwrap_or(2);
            return grpc_status(code, &e.message);
        }
    };
    let api = Api {
        state: ctx.state.clone(),
        who,
    };
    let served = if grafeas {
        GrafeasServer::new(api).call(req).await
    } else {
        ContainerAnalysisServer::new(api).call(req).await
    };
    match served {
        Ok(resp) => resp.map(|body| body.map_err(|e| Box::new(e) as BoxError).boxed_unsync()),
        Err(never) => match never {},
    }
}
