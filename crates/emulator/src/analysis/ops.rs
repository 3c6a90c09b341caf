//! The calls of both services, shared by the gRPC and REST surfaces: checks,
//! authorization, filters, paging, and the vulnerability summary.

use std::collections::BTreeMap;

use gar_core::ids::ProjectId;
use gar_proto::google::devtools::containeranalysis::v1::vulnerability_occurrences_summary::FixableTotalByDigest;
use gar_proto::google::devtools::containeranalysis::v1::{
    GetVulnerabilityOccurrencesSummaryRequest, VulnerabilityOccurrencesSummary,
};
use gar_proto::grafeas::v1::occurrence::Details;
use gar_proto::grafeas::v1::{
    BatchCreateOccurrencesRequest, BatchCreateOccurrencesResponse, CreateNoteRequest,
    CreateOccurrenceRequest, GetNoteRequest, GetOccurrenceNoteRequest, GetOccurrenceRequest,
    ListNotesRequest, ListNotesResponse, ListOccurrencesRequest, ListOccurrencesResponse, Note,
    NoteKind, Occurrence,
};
use gar_proto::wkt::Timestamp;
use http::{HeaderMap, StatusCode};

use super::filter::{Filter, Key, NOTE_KEYS, OCCURRENCE_KEYS};
use super::store::{self, kind_of_details, kind_of_note_type, new_occurrence_name};
use crate::identity::{AuthError, Caller, Member, Permission, Principal};
use crate::state::{State, read};

/// The canonical error codes the services answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// 400.
    InvalidArgument,
    /// 401.
    Unauthenticated,
    /// 403.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 409.
    AlreadyExists,
}

impl Code {
    /// The gRPC code.
    pub(crate) fn grpc(self) -> tonic::Code {
        match self {
            Self::InvalidArgument => tonic::Code::InvalidArgument,
            Self::Unauthenticated => tonic::Code::Unauthenticated,
            Self::PermissionDenied => tonic::Code::PermissionDenied,
            Self::NotFound => tonic::Code::NotFound,
            Self::AlreadyExists => tonic::Code::AlreadyExists,
        }
    }

    /// The HTTP status of the REST form.
    pub(crate) fn http(self) -> StatusCode {
        match self {
            Self::InvalidArgument => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::AlreadyExists => StatusCode::CONFLICT,
        }
    }

    /// The status name of the REST error body.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::NotFound => "NOT_FOUND",
            Self::AlreadyExists => "ALREADY_EXISTS",
        }
    }
}

/// A refused call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// Why.
    pub code: Code,
    /// What to tell the caller.
    pub message: String,
}

/// A refused call of `code`.
pub(crate) fn err(code: Code, message: impl Into<String>) -> ApiError {
    ApiError {
        code,
        message: message.into(),
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    err(Code::InvalidArgument, message)
}

/// Who calls: the principal of an OAuth access token, or `None` without
/// credentials when anonymous reads are allowed (refused otherwise). Docker
/// registry tokens are not OAuth tokens and are refused.
pub(crate) fn authenticate(
    state: &State,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    match state.identity.authenticate(headers, state.clock.unix()) {
        Ok(Caller::Anonymous) if state.identity.directory().anonymous_read => Ok(None),
        Ok(Caller::Anonymous) => Err(err(
            Code::Unauthenticated,
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
        )),
        Ok(Caller::Principal {
            principal,
            scope: None,
        }) => Ok(Some(principal)),
        Ok(Caller::Principal { scope: Some(_), .. } | Caller::AnonymousToken(_)) => Err(err(
            Code::Unauthenticated,
            "Request had invalid authentication credentials: a Docker registry token is not an OAuth 2 access token.",
        )),
        Err(AuthError::Expired) => Err(err(
            Code::Unauthenticated,
            "Request had invalid authentication credentials: the access token has expired.",
        )),
        Err(AuthError::Invalid(m)) => Err(err(
            Code::Unauthenticated,
            format!("Request had invalid authentication credentials: {m}."),
        )),
    }
}

/// The project id in `projects/{p}` or `projects/{p}/locations/{l}`.
fn parent_project(parent: &str) -> Result<String, ApiError> {
    let parts: Vec<&str> = parent.split('/').collect();
    let ok = matches!(
        parts.as_slice(),
        ["projects", _] | ["projects", _, "locations", _]
    );
    let project = parts.get(1).copied().filter(|_| ok).ok_or_else(|| {
        invalid(format!(
            "parent {parent:?} is not projects/{{project}} (or projects/{{project}}/locations/{{location}})"
        ))
    })?;
    project
        .parse::<ProjectId>()
        .map_err(|e| invalid(e.message().to_owned()))?;
    Ok(project.to_owned())
}

/// The project and id in `projects/{p}[/locations/{l}]/{collection}/{id}`.
fn split_name(name: &str, collection: &str) -> Result<(String, String), ApiError> {
    let parts: Vec<&str> = name.split('/').collect();
    let (project, id) = match parts.as_slice() {
        ["projects", p, c, id] if *c == collection => (*p, *id),
        ["projects", p, "locations", _, c, id] if *c == collection => (*p, *id),
        _ => {
            return Err(invalid(format!(
                "name {name:?} is not projects/{{project}}/{collection}/{{id}}"
            )));
        }
    };
    if id.is_empty() {
        return Err(invalid(format!("name {name:?} has an empty id")));
    }
    project
        .parse::<ProjectId>()
        .map_err(|e| invalid(e.message().to_owned()))?;
    Ok((project.to_owned(), id.to_owned()))
}

/// Checks that `who` holds `perm` on `project` and returns the project's id
/// (a number is resolved). Projects the registry does not know (the providers
/// `goog-vulnz` and `goog-analysis`) serve notes to any authenticated caller
/// when `public_notes`.
fn authorize(
    state: &State,
    who: Option<&Principal>,
    project: &str,
    perm: Permission,
    permission: &str,
    public_notes: bool,
) -> Result<String, ApiError> {
    let known = read(&state.registry)
        .project(project)
        .map(|p| (p.id.to_string(), p.number.clone()));
    let dir = state.identity.directory();
    let open = perm == Permission::Read && dir.anonymous_read;
    match known {
        Some((id, number)) => {
            let resources = [format!("projects/{id}"), format!("projects/{number}")];
            let granted = dir.bindings.iter().any(|b| {
                let member = match &b.member {
                    Member::AllUsers => true,
                    Member::AllAuthenticatedUsers => who.is_some(),
                    Member::One(p) => who == Some(p),
                };
                member && resources.contains(&b.resource) && b.role.grants(perm)
            });
            if open || granted {
                return Ok(id);
            }
        }
        None => {
            if public_notes && perm == Permission::Read && (open || who.is_some()) {
                return Ok(project.to_owned());
            }
        }
    }
    Err(match who {
        None => err(
            Code::Unauthenticated,
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
        ),
        Some(p) => err(
            Code::PermissionDenied,
            format!(
                "Permission \"{permission}\" denied on resource \"projects/{project}\" for {p} (or it may not exist)."
            ),
        ),
    })
}

/// Checks the parent `projects/{p}[/locations/{l}]` and that `who` holds
/// `perm` (named `permission`) on its project, as [`authorize`] does; returns
/// the project's id.
fn authorize_parent(
    state: &State,
    who: Option<&Principal>,
    parent: &str,
    perm: Permission,
    permission: &str,
    public_notes: bool,
) -> Result<String, ApiError> {
    let project = parent_project(parent)?;
    authorize(state, who, &project, perm, permission, public_notes)
}

/// Checks the name `projects/{p}[/locations/{l}]/{collection}/{id}` and that
/// `who` may read it (`permission`), as [`authorize`] does; returns its key in
/// the store, `projects/{project id}/{collection}/{id}`.
fn authorize_read_name(
    state: &State,
    who: Option<&Principal>,
    name: &str,
    collection: &str,
    permission: &str,
    public_notes: bool,
) -> Result<String, ApiError> {
    let (project, id) = split_name(name, collection)?;
    let project = authorize(
        state,
        who,
        &project,
        Permission::Read,
        permission,
        public_notes,
    )?;
    Ok(format!("projects/{project}/{collection}/{id}"))
}

fn now(state: &State) -> (i64, Timestamp) {
    let t = state.clock.now();
    (t.unix_seconds(), Timestamp::from_core(t))
}

/// Runs `f` on the store and saves when it changed anything.
async fn with_store<R>(state: &State, f: impl FnOnce(&mut store::Store) -> R) -> R {
    let (r, changed) = state.analysis.with(state.clock.unix(), f);
    if changed {
        state.analysis.save().await;
    }
    r
}

fn in_project(name: &str, project: &str, collection: &str) -> bool {
    name.strip_prefix("projects/")
        .and_then(|rest| rest.strip_prefix(project))
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| rest.starts_with(collection))
}

fn not_found(what: &str, name: &str) -> ApiError {
    err(Code::NotFound, format!("{what} {name:?} not found."))
}

/// One page (`page_size`, `page_token`) of the entries of `project` in the
/// store's `collection` (`"occurrences/"` or `"notes/"`, picked by `entries`)
/// that `keep` accepts, and the token of the next page.
async fn page_in<T: Clone>(
    state: &State,
    project: &str,
    collection: &str,
    entries: impl FnOnce(&store::Store) -> &BTreeMap<String, T>,
    keep: impl Fn(&T) -> bool,
    page_size: i32,
    page_token: &str,
) -> Result<(Vec<T>, String), ApiError> {
    with_store(state, |s| {
        store::page(
            entries(s)
                .iter()
                .filter(|(name, x)| in_project(name, project, collection) && keep(x)),
            page_size,
            page_token,
        )
    })
    .await
    .map_err(invalid)
}

/// `GetOccurrence`.
pub(crate) async fn get_occurrence(
    state: &State,
    who: Option<&Principal>,
    req: GetOccurrenceRequest,
) -> Result<Occurrence, ApiError> {
    let key = authorize_read_name(
        state,
        who,
        &req.name,
        "occurrences",
        "containeranalysis.occurrences.get",
        false,
    )?;
    with_store(state, |s| s.occurrences.get(&key).cloned())
        .await
        .ok_or_else(|| not_found("occurrence", &req.name))
}

/// `ListOccurrences`.
pub(crate) async fn list_occurrences(
    state: &State,
    who: Option<&Principal>,
    req: ListOccurrencesRequest,
) -> Result<ListOccurrencesResponse, ApiError> {
    let project = authorize_parent(
        state,
        who,
        &req.parent,
        Permission::Read,
        "containeranalysis.occurrences.list",
        false,
    )?;
    let filter = Filter::parse(&req.filter, OCCURRENCE_KEYS).map_err(invalid)?;
    let (occurrences, next_page_token) = page_in(
        state,
        &project,
        "occurrences/",
        |s| &s.occurrences,
        |o| filter.matches_occurrence(o),
        req.page_size,
        &req.page_token,
    )
    .await?;
    Ok(ListOccurrencesResponse {
        occurrences,
        next_page_token,
    })
}

/// Checks an occurrence to create in `project` and completes it.
fn prepare_occurrence(
    s: &store::Store,
    project: &str,
    occurrence: Option<Occurrence>,
    when: Timestamp,
) -> Result<Occurrence, ApiError> {
    let mut o = occurrence.ok_or_else(|| invalid("occurrence is required"))?;
    if o.resource_uri.is_empty() {
        return Err(invalid("occurrence.resourceUri is required"));
    }
    split_name(&o.note_name, "notes")
        .map_err(|e| invalid(format!("occurrence.noteName: {}", e.message)))?;
    if !s.notes.contains_key(&o.note_name) {
        return Err(not_found("note", &o.note_name));
    }
    let implied = kind_of_details(o.details.as_ref());
    if o.kind == NoteKind::Unspecified as i32 {
        o.kind = implied as i32;
    }
    if o.kind == NoteKind::Unspecified as i32 {
        return Err(invalid("occurrence.kind is required"));
    }
    if implied != NoteKind::Unspecified && o.kind != implied as i32 {
        return Err(invalid(format!(
            "occurrence.kind {} does not match its details ({})",
            NoteKind::try_from(o.kind).map_or("unknown", |k| k.as_str_name()),
            implied.as_str_name()
        )));
    }
    o.name = new_occurrence_name(project);
    o.create_time = Some(when);
    o.update_time = Some(when);
    Ok(o)
}

/// `CreateOccurrence`.
pub(crate) async fn create_occurrence(
    state: &State,
    who: Option<&Principal>,
    req: CreateOccurrenceRequest,
) -> Result<Occurrence, ApiError> {
    let project = authorize_parent(
        state,
        who,
        &req.parent,
        Permission::Write,
        "containeranalysis.occurrences.create",
        false,
    )?;
    let (_, when) = now(state);
    with_store(state, |s| {
        let o = prepare_occurrence(s, &project, req.occurrence, when)?;
        s.occurrences.insert(o.name.clone(), o.clone());
        s.changed = true;
        Ok(o)
    })
    .await
}

/// `BatchCreateOccurrences`: all or nothing, at most 1000.
pub(crate) async fn batch_create_occurrences(
    state: &State,
    who: Option<&Principal>,
    req: BatchCreateOccurrencesRequest,
) -> Result<BatchCreateOccurrencesResponse, ApiError> {
    let project = authorize_parent(
        state,
        who,
        &req.parent,
        Permission::Write,
        "containeranalysis.occurrences.create",
        false,
    )?;
    if req.occurrences.is_empty() || req.occurrences.len() > 1000 {
        return Err(invalid(format!(
            "a batch holds 1 to 1000 occurrences, not {}",
            req.occurrences.len()
        )));
    }
    let (_, when) = now(state);
    with_store(state, |s| {
        let prepared = req
            .occurrences
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                prepare_occurrence(s, &project, Some(o), when).map_err(|e| ApiError {
                    message: format!("occurrences[{i}]: {}", e.message),
                    ..e
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for o in &prepared {
            s.occurrences.insert(o.name.clone(), o.clone());
        }
        s.changed = true;
        Ok(BatchCreateOccurrencesResponse {
            occurrences: prepared,
        })
    })
    .await
}

/// `GetOccurrenceNote`.
pub(crate) async fn get_occurrence_note(
    state: &State,
    who: Option<&Principal>,
    req: GetOccurrenceNoteRequest,
) -> Result<Note, ApiError> {
    let key = authorize_read_name(
        state,
        who,
        &req.name,
        "occurrences",
        "containeranalysis.occurrences.get",
        false,
    )?;
    with_store(state, |s| {
        let o = s
            .occurrences
            .get(&key)
            .ok_or_else(|| not_found("occurrence", &req.name))?;
        s.notes
            .get(&o.note_name)
            .cloned()
            .ok_or_else(|| not_found("note", &o.note_name))
    })
    .await
}

/// `GetNote`.
pub(crate) async fn get_note(
    state: &State,
    who: Option<&Principal>,
    req: GetNoteRequest,
) -> Result<Note, ApiError> {
    let key = authorize_read_name(
        state,
        who,
        &req.name,
        "notes",
        "containeranalysis.notes.get",
        true,
    )?;
    with_store(state, |s| s.notes.get(&key).cloned())
        .await
        .ok_or_else(|| not_found("note", &req.name))
}

/// `ListNotes`.
pub(crate) async fn list_notes(
    state: &State,
    who: Option<&Principal>,
    req: ListNotesRequest,
) -> Result<ListNotesResponse, ApiError> {
    let project = authorize_parent(
        state,
        who,
        &req.parent,
        Permission::Read,
        "containeranalysis.notes.list",
        true,
    )?;
    let filter = Filter::parse(&req.filter, NOTE_KEYS).map_err(invalid)?;
    let (notes, next_page_token) = page_in(
        state,
        &project,
        "notes/",
        |s| &s.notes,
        |n| filter.matches_note(n),
        req.page_size,
        &req.page_token,
    )
    .await?;
    Ok(ListNotesResponse {
        notes,
        next_page_token,
    })
}

/// `CreateNote`.
pub(crate) async fn create_note(
    state: &State,
    who: Option<&Principal>,
    req: CreateNoteRequest,
) -> Result<Note, ApiError> {
    let project = authorize_parent(
        state,
        who,
        &req.parent,
        Permission::Write,
        "containeranalysis.notes.create",
        false,
    )?;
    let id = req.note_id;
    let valid = !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(invalid(format!(
            "noteId {id:?} must be 1 to 100 letters, digits, '-', '_' or '.'"
        )));
    }
    let mut note = req.note.ok_or_else(|| invalid("note is required"))?;
    let implied = kind_of_note_type(note.r#type.as_ref());
    if note.kind == NoteKind::Unspecified as i32 {
        note.kind = implied as i32;
    }
    if note.kind == NoteKind::Unspecified as i32 {
        return Err(invalid("note.kind is required"));
    }
    let (_, when) = now(state);
    note.name = format!("projects/{project}/notes/{id}");
    note.create_time = Some(when);
    note.update_time = Some(when);
    with_store(state, |s| {
        if s.notes.contains_key(&note.name) {
            return Err(err(
                Code::AlreadyExists,
                format!("note {:?} already exists.", note.name),
            ));
        }
        s.notes.insert(note.name.clone(), note.clone());
        s.changed = true;
        Ok(note)
    })
    .await
}

/// `GetVulnerabilityOccurrencesSummary`: per resource, one row per severity
/// found (by effective severity) and a SEVERITY_UNSPECIFIED row with the totals.
pub(crate) async fn vulnerability_summary(
    state: &State,
    who: Option<&Principal>,
    req: GetVulnerabilityOccurrencesSummaryRequest,
) -> Result<VulnerabilityOccurrencesSummary, ApiError> {
    let project = authorize_parent(
        state,
        who,
        &req.parent,
        Permission::Read,
        "containeranalysis.occurrences.list",
        false,
    )?;
    let filter = Filter::parse(&req.filter, OCCURRENCE_KEYS).map_err(invalid)?;
    if filter
        .value(Key::Kind)
        .is_some_and(|k| k != NoteKind::Vulnerability.as_str_name())
    {
        return Ok(VulnerabilityOccurrencesSummary { counts: Vec::new() });
    }
    // resource -> severity -> (fixable, total)
    let groups: BTreeMap<String, BTreeMap<i32, (i64, i64)>> = with_store(state, |s| {
        let mut groups: BTreeMap<String, BTreeMap<i32, (i64, i64)>> = BTreeMap::new();
        for (_, o) in s.occurrences.iter().filter(|(name, o)| {
            in_project(name, &project, "occurrences/")
                && o.kind == NoteKind::Vulnerability as i32
                && filter.matches_occurrence(o)
        }) {
            let (severity, fixable) = match &o.details {
                Some(Details::Vulnerability(v)) => (
                    if v.effective_severity != 0 {
                        v.effective_severity
                    } else {
                        v.severity
                    },
                    v.fix_available || v.package_issue.iter().any(|p| p.fix_available),
                ),
                _ => (0, false),
            };
            let rows = groups.entry(o.resource_uri.clone()).or_default();
            for sev in [severity, 0] {
                let row = rows.entry(sev).or_default();
                row.0 += i64::from(fixable);
                row.1 += 1;
                if sev == 0 {
                    break;
                }
            }
        }
        groups
    })
    .await;
    let counts = groups
        .into_iter()
        .flat_map(|(uri, rows)| {
            rows.into_iter()
                .map(move |(severity, (fixable, total))| FixableTotalByDigest {
                    resource_uri: uri.clone(),
                    severity,
                    fixable_count: fixable,
                    total_count: total,
                })
        })
        .collect();
    Ok(VulnerabilityOccurrencesSummary { counts })
}
