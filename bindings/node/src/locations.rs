//! Several locations at once: listings that name the unreachable locations, and
//! reads that fail over between replicas (the facade's `Client::locations`).

use napi_derive::napi;
use serde::Serialize;
use serde_json::{Value, json};

use crate::client::NativeClient;
use crate::convert::to_json;
use crate::error::describe;
use crate::task::{Task, failed, start};

fn failures(f: &[gar::LocationFailure]) -> Value {
    Value::Array(
        f.iter()
            .map(|f| json!({ "location": f.location.to_string(), "error": describe(&f.error) }))
            .collect(),
    )
}

fn across<T: Serialize>(a: &gar::Across<T>) -> gar::Result<Value> {
    Ok(json!({
        "items": to_json(&a.items)?,
        "reached": a.reached.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "unreachable": failures(&a.unreachable),
    }))
}

fn served(s: gar::Served<Value>) -> Value {
    json!({
        "value": s.value,
        "location": s.location.to_string(),
        "skipped": failures(&s.skipped),
    })
}

#[napi]
impl NativeClient {
    /// The repositories of every location given (of the default project):
    /// `{ items, reached, unreachable }`.
    #[napi]
    pub fn locations_repositories(&self, locations: Vec<String>) -> Task {
        match self.inner.locations(locations) {
            Ok(l) => start(async move { across(&l.repositories().await) }),
            Err(e) => failed(e),
        }
    }

    /// The docker images of the repository `repository` (an id) in every location given.
    #[napi]
    pub fn locations_docker_images(&self, locations: Vec<String>, repository: String) -> Task {
        match self.inner.locations(locations) {
            Ok(l) => start(async move { across(&l.docker_images(&repository).await) }),
            Err(e) => failed(e),
        }
    }

    /// Reads a repository from the first of the locations that is available:
    /// `{ value, location, skipped }`.
    #[napi]
    pub fn locations_get_repository(&self, locations: Vec<String>, repository: String) -> Task {
        match self.inner.locations(locations) {
            Ok(l) => start(async move {
                let s = l
                    .read(|c| {
                        let repository = repository.clone();
                        async move { to_json(&c.repositories()?.get(&repository)?.send().await?) }
                    })
                    .await?;
                Ok(served(s))
            }),
            Err(e) => failed(e),
        }
    }

    /// Resolves an image (`docker/app:1.0`, its repository in each location in
    /// turn) from the first location that is available: `{ value: { name, digest },
    /// location, skipped }`.
    #[napi]
    pub fn locations_resolve_image(&self, locations: Vec<String>, image: String) -> Task {
        match self.inner.locations(locations) {
            Ok(l) => start(async move {
                let s = l
                    .read(|c| {
                        let image = image.clone();
                        async move {
                            let name = c.image(&image)?;
                            let resolved = c.resolve_image(&name).await?;
                            Ok(json!({
                                "name": resolved.to_string(),
                                "digest": resolved.digest().to_string(),
                            }))
                        }
                    })
                    .await?;
                Ok(served(s))
            }),
            Err(e) => failed(e),
        }
    }
}
