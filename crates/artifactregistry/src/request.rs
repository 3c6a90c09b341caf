//! Request builders: `set_*` for request fields, `with_*` for per-call options,
//! `send()` to run. Lists add `by_page()` and `by_item()` streams; long-running
//! calls add `start()` (the operation as first answered).

use std::marker::PhantomData;

use futures_util::stream::BoxStream;
use gar_core::cleanup::CleanupPolicies;
use gar_core::names::{LocationName, PackageName, RepositoryName, VersionName};
use gar_core::paging::{Page, PageStream, pages_from};
use gar_core::{Error, ErrorKind};
use http::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::client::{Call, Client};
use crate::lro::{PollingPolicy, poll_until_done};
use crate::model::{
    DockerImage, File, Format, Mode, Operation, Package, Repository, Tag, Version, VersionView,
};

fn invalid_response(call: &Call, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!(
            "the answer to {} is not what the API defines: {e}",
            call.operation
        ),
    )
}

// ---- lists --------------------------------------------------------------------------

/// A list call: one page with [`send`](Self::send), or every page as a stream
/// with [`by_page`](Self::by_page) / every item with [`by_item`](Self::by_item).
/// Pages are fetched one at a time as the stream is polled, so memory stays
/// bounded by a page whatever the list's length.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent or streamed"]
pub struct List<T> {
    client: Client,
    call: Call,
    key: &'static str,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> List<T> {
    pub(crate) fn new(client: &Client, call: Call, key: &'static str) -> Self {
        Self {
            client: client.clone(),
            call,
            key,
            _item: PhantomData,
        }
    }

    /// The most items per page (the server's default when unset; at most 1000).
    pub fn set_page_size(mut self, n: i32) -> Self {
        self.call.set_query("pageSize", n.to_string());
        self
    }

    /// Starts at the page of this token (from an earlier page's `next_page_token`).
    pub fn set_page_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        if token.is_empty() {
            self.call.query.retain(|(k, _)| *k != "pageToken");
        } else {
            self.call.set_query("pageToken", token);
        }
        self
    }

    /// One page: the first, or the one [`set_page_token`](Self::set_page_token) names.
    pub async fn send(self) -> Result<Page<T>, Error> {
        fetch_page(&self.client, &self.call, self.key).await
    }

    /// Every page, fetched as the stream is polled; ends after the last page or
    /// the first error.
    pub fn by_page(self) -> PageStream<'static, T, Error> {
        let mut call = self.call;
        let first = call
            .query
            .iter()
            .find(|(k, _)| *k == "pageToken")
            .map(|(_, v)| v.clone());
        call.query.retain(|(k, _)| *k != "pageToken");
        let client = self.client;
        let key = self.key;
        pages_from(first, move |token: Option<String>| {
            let client = client.clone();
            let mut call = call.clone();
            if let Some(t) = token {
                call.set_query("pageToken", t);
            }
            async move { fetch_page(&client, &call, key).await }
        })
    }

    /// Every item of every page, in order.
    pub fn by_item(self) -> BoxStream<'static, Result<T, Error>> {
        self.by_page().items()
    }
}

async fn fetch_page<T: DeserializeOwned>(
    client: &Client,
    call: &Call,
    key: &str,
) -> Result<Page<T>, Error> {
    let mut v: Value = client.send_json(call).await?;
    let items = match v.get_mut(key).map(Value::take) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| invalid_response(call, e))?,
        Some(_) => return Err(invalid_response(call, format!("{key} is not a list"))),
    };
    let next = v
        .get("nextPageToken")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Page::new(items, next))
}

macro_rules! filterable {
    ($($t:ty => $fields:literal),* $(,)?) => {$(
        impl List<$t> {
            #[doc = concat!("Only the items the filter selects, by ", $fields, ", with `*` wildcards ")]
            /// and `AND`/`OR` (for example `name="projects/p/locations/l/repositories/*"`).
            pub fn set_filter(mut self, filter: impl Into<String>) -> Self {
                self.call.set_query("filter", filter.into());
                self
            }
        }
    )*};
}

macro_rules! orderable {
    ($($t:ty => $fields:literal),* $(,)?) => {$(
        impl List<$t> {
            #[doc = concat!("The order: comma-separated fields among ", $fields, ", each optionally ")]
            /// followed by `desc` (for example `create_time desc`).
            pub fn set_order_by(mut self, order: impl Into<String>) -> Self {
                self.call.set_query("orderBy", order.into());
                self
            }
        }
    )*};
}

filterable! {
    Repository => "`name`",
    Package => "`name` and `annotations`",
    Version => "`name` and `annotations`",
    Tag => "`name` and `version`",
    File => "`name`, `owner` and `annotations`",
}

orderable! {
    Repository => "`name`, `create_time` and `update_time`",
    Package => "`name`, `create_time` and `update_time`",
    Version => "`name`, `create_time` and `update_time`",
    File => "`name`, `create_time` and `update_time`",
    DockerImage => "`name`, `upload_time`, `update_time` and `image_size_bytes`",
}

impl List<Version> {
    /// How much of each version to read: FULL adds the related tags.
    pub fn set_view(mut self, view: VersionView) -> Self {
        self.call.set_query("view", view.name());
        self
    }
}

// ---- plain calls --------------------------------------------------------------------

/// A call with one answer, `T`.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct Request<T> {
    client: Client,
    call: Call,
    decode: fn(Value) -> Result<T, String>,
}

pub(crate) fn decode_as<T: DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

pub(crate) fn decode_empty(_: Value) -> Result<(), String> {
    Ok(())
}

impl<T> Request<T> {
    pub(crate) fn new(client: &Client, call: Call, decode: fn(Value) -> Result<T, String>) -> Self {
        Self {
            client: client.clone(),
            call,
            decode,
        }
    }

    /// Sends the call.
    pub async fn send(self) -> Result<T, Error> {
        let v: Value = self.client.send_json(&self.call).await?;
        (self.decode)(v).map_err(|e| invalid_response(&self.call, e))
    }
}

impl Request<Version> {
    /// How much of the version to read: FULL adds its related tags.
    pub fn set_view(mut self, view: VersionView) -> Self {
        self.call.set_query("view", view.name());
        self
    }
}

// ---- long-running calls -------------------------------------------------------------

/// A long-running call: [`send`](Self::send) starts it and polls the operation
/// to completion (per the client's [`PollingPolicy`], or
/// [`with_polling`](Self::with_polling)'s); [`start`](Self::start) returns the
/// operation as first answered.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct LongRunning<T> {
    client: Client,
    call: Call,
    polling: Option<PollingPolicy>,
    finish: fn(&Operation) -> Result<T, String>,
}

pub(crate) fn finish_empty(_: &Operation) -> Result<(), String> {
    Ok(())
}

impl<T> LongRunning<T> {
    pub(crate) fn new(
        client: &Client,
        call: Call,
        finish: fn(&Operation) -> Result<T, String>,
    ) -> Self {
        Self {
            client: client.clone(),
            call,
            polling: None,
            finish,
        }
    }

    /// Polls this call's operation with `polling` instead of the client's policy.
    pub fn with_polling(mut self, polling: PollingPolicy) -> Self {
        self.polling = Some(polling);
        self
    }

    pub(crate) fn call_mut(&mut self) -> &mut Call {
        &mut self.call
    }

    /// Starts the operation; returns it as the server first answers (perhaps done).
    pub async fn start(self) -> Result<Operation, Error> {
        self.client.send_json(&self.call).await
    }

    /// Starts the operation and waits until it is done; its error (a
    /// `google.rpc.Status`) becomes this call's error.
    pub async fn send(self) -> Result<T, Error> {
        let first: Operation = self.client.send_json(&self.call).await?;
        let polling = self
            .polling
            .clone()
            .unwrap_or_else(|| self.client.polling().clone());
        let client = self.client.clone();
        let done = poll_until_done(first, &polling, |name| {
            let client = client.clone();
            async move { client.get_operation(&name).send().await }
        })
        .await?;
        match done.outcome() {
            Some(Err(e)) => Err(e),
            _ => (self.finish)(&done).map_err(|e| invalid_response(&self.call, e)),
        }
    }
}

/// The outcome of [`Client::batch_delete_versions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchDeleteOutcome {
    /// The versions that could not be deleted (or, with `validate_only`, would
    /// not be), as the operation's metadata lists them.
    pub failed_versions: Vec<String>,
}

pub(crate) fn finish_batch(op: &Operation) -> Result<BatchDeleteOutcome, String> {
    let failed = op
        .metadata
        .as_ref()
        .and_then(|m| m.get("failedVersions"))
        .cloned()
        .map(serde_json::from_value::<Vec<String>>)
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    Ok(BatchDeleteOutcome {
        failed_versions: failed,
    })
}

pub(crate) fn finish_repository(op: &Operation) -> Result<Repository, String> {
    let response = op
        .response
        .clone()
        .ok_or_else(|| "the operation has no response".to_owned())?;
    if let Some(ty) = response.get("@type").and_then(Value::as_str)
        && !ty.ends_with(".Repository")
    {
        return Err(format!(
            "the operation's response is a {ty}, not a Repository"
        ));
    }
    serde_json::from_value(response).map_err(|e| e.to_string())
}

/// Deletes a version (long-running); see [`Client::delete_version`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct DeleteVersion {
    inner: LongRunning<()>,
}

impl DeleteVersion {
    pub(crate) fn new(inner: LongRunning<()>) -> Self {
        Self { inner }
    }

    /// Deletes a tagged version too, with its tags (refused without it).
    pub fn set_force(mut self, force: bool) -> Self {
        self.inner.call_mut().set_query("force", force.to_string());
        self
    }

    /// Polls with `polling` instead of the client's policy.
    pub fn with_polling(mut self, polling: PollingPolicy) -> Self {
        self.inner = self.inner.with_polling(polling);
        self
    }

    /// Starts the deletion; returns the operation as first answered.
    pub async fn start(self) -> Result<Operation, Error> {
        self.inner.start().await
    }

    /// Deletes and waits until the operation is done.
    pub async fn send(self) -> Result<(), Error> {
        self.inner.send().await
    }
}

/// Deletes many versions of a package in one long-running call; see
/// [`Client::batch_delete_versions`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct BatchDeleteVersions {
    client: Client,
    parent: PackageName,
    names: Vec<String>,
    validate_only: bool,
    polling: Option<PollingPolicy>,
}

impl BatchDeleteVersions {
    pub(crate) fn new(client: &Client, parent: &PackageName) -> Self {
        Self {
            client: client.clone(),
            parent: parent.clone(),
            names: Vec::new(),
            validate_only: false,
            polling: None,
        }
    }

    /// The versions to delete (replacing any set before); at most 10,000.
    pub fn set_names<'a>(mut self, names: impl IntoIterator<Item = &'a VersionName>) -> Self {
        self.names = names.into_iter().map(ToString::to_string).collect();
        self
    }

    /// Only checks what would be deleted (the outcome lists what would fail).
    pub fn set_validate_only(mut self, yes: bool) -> Self {
        self.validate_only = yes;
        self
    }

    /// Polls with `polling` instead of the client's policy.
    pub fn with_polling(mut self, polling: PollingPolicy) -> Self {
        self.polling = Some(polling);
        self
    }

    fn long_running(self) -> LongRunning<BatchDeleteOutcome> {
        let body = if self.validate_only {
            json!({ "names": self.names, "validateOnly": true })
        } else {
            json!({ "names": self.names })
        };
        let call = Call::new(
            Method::POST,
            format!("{}/versions", self.parent),
            "gar.artifactregistry.versions.batchDelete",
        )
        .verb("batchDelete")
        .body(body)
        .on_package(&self.parent);
        let mut lro = LongRunning::new(&self.client, call, finish_batch);
        lro.polling = self.polling;
        lro
    }

    /// Starts the deletion; returns the operation as first answered.
    pub async fn start(self) -> Result<Operation, Error> {
        self.long_running().start().await
    }

    /// Deletes and waits until the operation is done.
    pub async fn send(self) -> Result<BatchDeleteOutcome, Error> {
        self.long_running().send().await
    }
}

// ---- repositories -------------------------------------------------------------------

/// The repository fields `create_repository` and `update_repository` set.
#[derive(Debug, Clone, Default)]
struct RepositoryFields {
    body: Map<String, Value>,
    mask: Vec<&'static str>,
}

impl RepositoryFields {
    fn set(&mut self, field: &'static str, value: Value) {
        self.body.insert(field.to_owned(), value);
        if !self.mask.contains(&field) {
            self.mask.push(field);
        }
    }
}

macro_rules! repository_setters {
    () => {
        /// Sets the description.
        pub fn set_description(mut self, text: impl Into<String>) -> Self {
            self.fields.set("description", Value::from(text.into()));
            self
        }

        /// Sets (replaces) the labels.
        pub fn set_labels<K: Into<String>, V: Into<String>>(
            mut self,
            labels: impl IntoIterator<Item = (K, V)>,
        ) -> Self {
            let map: Map<String, Value> = labels
                .into_iter()
                .map(|(k, v)| (k.into(), Value::from(v.into())))
                .collect();
            self.fields.set("labels", Value::Object(map));
            self
        }

        /// Sets (replaces) the cleanup policies; they are checked
        /// ([`CleanupPolicies::validate`]) before anything is sent.
        pub fn set_cleanup_policies(mut self, policies: &CleanupPolicies) -> Self {
            self.fields
                .set("cleanupPolicies", policies.to_rest_value());
            self.policies = Some(policies.clone());
            self
        }

        /// Sets whether cleanup policies only report (dry run) instead of deleting.
        pub fn set_cleanup_policy_dry_run(mut self, dry_run: bool) -> Self {
            self.fields.set("cleanupPolicyDryRun", Value::from(dry_run));
            self
        }

        /// Docker repositories: sets whether tags are immutable.
        pub fn set_immutable_tags(mut self, immutable: bool) -> Self {
            self.fields
                .set("dockerConfig", json!({ "immutableTags": immutable }));
            self
        }
    };
}

/// Changes a repository's settings; only the fields set are sent (with the
/// matching `updateMask`). See [`Client::update_repository`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct UpdateRepository {
    client: Client,
    name: RepositoryName,
    fields: RepositoryFields,
    policies: Option<CleanupPolicies>,
}

impl UpdateRepository {
    pub(crate) fn new(client: &Client, name: &RepositoryName) -> Self {
        Self {
            client: client.clone(),
            name: name.clone(),
            fields: RepositoryFields::default(),
            policies: None,
        }
    }

    repository_setters!();

    /// Sends the update; returns the repository as it is now.
    pub async fn send(self) -> Result<Repository, Error> {
        if let Some(p) = &self.policies {
            p.validate()?;
        }
        if self.fields.mask.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "update_repository: set at least one field",
            ));
        }
        let mut call = Call::new(
            Method::PATCH,
            self.name.to_string(),
            "gar.artifactregistry.repositories.update",
        )
        .body(Value::Object(self.fields.body))
        .idempotent(true)
        .on_repository(&self.name);
        call.set_query("updateMask", self.fields.mask.join(","));
        Request::new(&self.client, call, decode_as).send().await
    }
}

/// Creates a repository (long-running); see [`Client::create_repository`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct CreateRepository {
    client: Client,
    parent: LocationName,
    id: String,
    fields: RepositoryFields,
    policies: Option<CleanupPolicies>,
    polling: Option<PollingPolicy>,
}

impl CreateRepository {
    pub(crate) fn new(client: &Client, parent: &LocationName, id: &str, format: Format) -> Self {
        let mut fields = RepositoryFields::default();
        fields.set("format", Value::from(format.name().into_owned()));
        Self {
            client: client.clone(),
            parent: parent.clone(),
            id: id.to_owned(),
            fields,
            policies: None,
            polling: None,
        }
    }

    repository_setters!();

    /// Sets the mode (standard by default).
    pub fn set_mode(mut self, mode: Mode) -> Self {
        self.fields
            .set("mode", Value::from(mode.name().into_owned()));
        self
    }

    /// Polls with `polling` instead of the client's policy.
    pub fn with_polling(mut self, polling: PollingPolicy) -> Self {
        self.polling = Some(polling);
        self
    }

    fn long_running(self) -> Result<LongRunning<Repository>, Error> {
        if let Some(p) = &self.policies {
            p.validate()?;
        }
        let id: gar_core::ids::RepositoryId = self.id.parse()?;
        let name = self.parent.repository(id.clone());
        let mut call = Call::new(
            Method::POST,
            format!("{}/repositories", self.parent),
            "gar.artifactregistry.repositories.create",
        )
        .body(Value::Object(self.fields.body))
        .on_repository(&name);
        call.set_query("repositoryId", id.to_string());
        let mut lro = LongRunning::new(&self.client, call, finish_repository);
        lro.polling = self.polling;
        Ok(lro)
    }

    /// Starts the creation; returns the operation as first answered.
    pub async fn start(self) -> Result<Operation, Error> {
        self.long_running()?.start().await
    }

    /// Creates the repository and waits until it exists.
    pub async fn send(self) -> Result<Repository, Error> {
        self.long_running()?.send().await
    }
}

/// Asks which of some permissions the caller holds on a repository; see
/// [`Client::test_iam_permissions`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct TestIamPermissions {
    client: Client,
    name: RepositoryName,
    permissions: Vec<String>,
}

impl TestIamPermissions {
    pub(crate) fn new(client: &Client, name: &RepositoryName) -> Self {
        Self {
            client: client.clone(),
            name: name.clone(),
            permissions: Vec::new(),
        }
    }

    /// The permissions to test (`artifactregistry.versions.delete`, ...).
    pub fn set_permissions<S: Into<String>>(
        mut self,
        permissions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The subset of the permissions the caller holds.
    pub async fn send(self) -> Result<Vec<String>, Error> {
        let call = Call::new(
            Method::POST,
            self.name.to_string(),
            "gar.artifactregistry.repositories.testIamPermissions",
        )
        .verb("testIamPermissions")
        .body(json!({ "permissions": self.permissions }))
        .idempotent(true)
        .on_repository(&self.name);
        let v: Value = self.client.send_json(&call).await?;
        match v.get("permissions") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(p) => serde_json::from_value(p.clone()).map_err(|e| invalid_response(&call, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_outcomes_read_their_metadata() {
        let op: Operation = serde_json::from_value(json!({
            "name": "op", "done": true,
            "metadata": {"@type": "x", "failedVersions": ["a", "b"]},
            "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}
        }))
        .unwrap();
        assert_eq!(finish_batch(&op).unwrap().failed_versions, ["a", "b"]);
        assert!(finish_repository(&op).is_err());
        let none: Operation = serde_json::from_value(json!({"name": "op", "done": true})).unwrap();
        assert!(finish_batch(&none).unwrap().failed_versions.is_empty());
    }
}
