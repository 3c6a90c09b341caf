//! Test helpers: an emulator with the demo seed plus test data, clients with
//! each role's token, the admin surface.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use gar_artifactregistry::{Client, PollingPolicy};
use gar_auth::{SecretString, StaticToken};
use gar_core::names::{LocationName, PackageName, RepositoryName};
use gar_core::protojson::Timestamp;
use gar_emulator::seed::{SeedPackage, SeedRepository, SeedVersion};
use gar_emulator::{Emulator, EmulatorHandle, Seed};
use gar_transport::{Body, Transport};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DEMO_TOKEN: &str = gar_emulator::seed::DEMO_TOKEN;
pub const VIEWER_TOKEN: &str = "ya29.demo-viewer-token";
pub const LOCATION: &str = "projects/demo-project/locations/us-central1";

pub fn location() -> LocationName {
    LOCATION.parse().unwrap()
}

pub fn repo(id: &str) -> RepositoryName {
    format!("{LOCATION}/repositories/{id}").parse().unwrap()
}

pub fn package(repo_id: &str, package: &str) -> PackageName {
    repo(repo_id).package(package.parse().unwrap())
}

fn transport() -> Transport {
    Transport::builder()
        .breaker(None)
        .request_timeout(Some(Duration::from_secs(20)))
        .build()
        .unwrap()
}

/// Polling fast enough for tests on the real clock.
pub fn quick() -> PollingPolicy {
    PollingPolicy::default()
        .with_initial_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(20))
        .with_deadline(Some(Duration::from_secs(20)))
}

/// A client of `emu` presenting `token` (anonymous without one).
pub fn client(emu: &EmulatorHandle, token: Option<&str>) -> Client {
    let mut t = transport();
    if let Some(token) = token {
        t = t.with_credentials(Arc::new(StaticToken::new(SecretString::new(token))));
    }
    Client::builder()
        .endpoint(emu.url())
        .transport(t)
        .polling(quick())
        .build()
        .unwrap()
}

/// POSTs JSON to the emulator's admin surface.
pub async fn admin(emu: &EmulatorHandle, path: &str, body: &Value) -> Value {
    let request = http::Request::post(format!("{}/_emulator/{path}", emu.url()))
        .header("content-type", "application/json")
        .body(Body::full(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let response = transport().send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.into_body().collect_bytes(1 << 24).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// GETs a path of the emulator without credentials beyond `token`; returns the status.
pub async fn status_of(emu: &EmulatorHandle, path: &str, token: &str) -> u16 {
    let request = http::Request::get(format!("{}{path}", emu.url()))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    transport().send(request).await.unwrap().status().as_u16()
}

/// Makes new long-running operations stay pending for `n` polls.
pub async fn pending_polls(emu: &EmulatorHandle, n: u32) {
    let v = admin(emu, "operations", &json!({ "pendingPolls": n })).await;
    assert_eq!(v["pendingPolls"], n);
}

/// The instant cleanup scenarios are evaluated at.
pub fn now() -> Timestamp {
    "2024-06-01T00:00:00Z".parse().unwrap()
}

pub fn days_ago(days: i64) -> Timestamp {
    Timestamp::from_unix(now().unix_seconds() - days * 86_400, 0).unwrap()
}

/// The cleanup scenario table, shared with gar-core's evaluator tests.
const CLEANUP_SCENARIOS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/cleanup-scenarios.json"
));

/// One version of the cleanup data: package, version, age in days, tags.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Row {
    pub package: String,
    pub version: String,
    pub age_days: i64,
    pub tags: Vec<String>,
}

/// Which rows a scenario starts from.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rows {
    Mixed,
    None,
}

/// A gcloud policy file, the rows, and the expected deletions (`package@version`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub policies: Value,
    pub rows: Rows,
    pub deleted: Vec<String>,
}

impl Scenario {
    /// The versions the scenario's repository holds.
    pub fn rows(&self) -> &'static [Row] {
        match self.rows {
            Rows::Mixed => mixed(),
            Rows::None => &[],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioTable {
    pub mixed: Vec<Row>,
    pub scenarios: Vec<Scenario>,
}

pub static SCENARIO_TABLE: LazyLock<ScenarioTable> =
    LazyLock::new(|| serde_json::from_str(CLEANUP_SCENARIOS).unwrap());

/// The data most cleanup scenarios start from.
pub fn mixed() -> &'static [Row] {
    &SCENARIO_TABLE.mixed
}

/// Adds a generic repository `id` holding `rows`.
pub fn add_generic(seed: &mut Seed, id: &str, rows: &[Row]) {
    let name = repo(id).to_string();
    seed.repositories.push(SeedRepository {
        name: name.clone(),
        format: json!("GENERIC"),
        ..SeedRepository::default()
    });
    let mut packages: Vec<SeedPackage> = Vec::new();
    for row in rows {
        let version = SeedVersion {
            version: row.version.clone(),
            tags: row.tags.clone(),
            create_time: Some(days_ago(row.age_days).to_string()),
            ..SeedVersion::default()
        };
        match packages.iter_mut().find(|sp| sp.package == row.package) {
            Some(sp) => sp.versions.push(version),
            None => packages.push(SeedPackage {
                repository: name.clone(),
                package: row.package.clone(),
                versions: vec![version],
                ..SeedPackage::default()
            }),
        }
    }
    seed.packages.extend(packages);
}

/// The demo seed plus a generic repository `many` whose package `pkg` has
/// `n` versions `v000`.. (version i created `n - i` minutes ago, odd ones
/// annotated `parity=odd`, every tenth tagged `t{i}`).
pub fn with_many(mut seed: Seed, n: usize) -> Seed {
    let name = repo("many").to_string();
    seed.repositories.push(SeedRepository {
        name: name.clone(),
        format: json!("GENERIC"),
        ..SeedRepository::default()
    });
    seed.packages.push(SeedPackage {
        repository: name,
        package: "pkg".into(),
        versions: (0..n)
            .map(|i| SeedVersion {
                version: format!("v{i:03}"),
                tags: if i % 10 == 0 {
                    vec![format!("t{i}")]
                } else {
                    Vec::new()
                },
                age_seconds: i64::try_from((n - i) * 60).unwrap(),
                annotations: [(
                    "parity".to_owned(),
                    if i % 2 == 1 { "odd" } else { "even" }.to_owned(),
                )]
                .into(),
                ..SeedVersion::default()
            })
            .collect(),
        ..SeedPackage::default()
    });
    seed
}

pub async fn start(seed: Seed) -> EmulatorHandle {
    Emulator::builder().seed(seed).start().await.unwrap()
}

pub async fn demo() -> EmulatorHandle {
    start(Seed::demo()).await
}
