//! Vulnerabilities: the facade's Container Analysis client and image report.

use napi_derive::napi;
use serde_json::{Value, json};

use crate::client::NativeClient;
use crate::convert::{from_json, millis, to_camel_json, to_json};
use crate::error::to_napi;
use crate::lists::first_page;
use crate::task::{Task, failed, start};

/// Options of an occurrence or note list.
#[napi(object)]
#[derive(Default)]
pub struct AnalysisListOptions {
    /// A Grafeas filter (`kind="VULNERABILITY"`, `resourceUrl="..."`, `noteName="..."`).
    pub filter: Option<String>,
    /// Occurrences only: the image (`image@sha256:...`) of this repository whose occurrences to list.
    pub image: Option<String>,
    /// With `image`: its repository.
    pub repository: Option<String>,
    /// Items per page.
    pub page_size: Option<i32>,
    /// Resume from this page token.
    pub page_token: Option<String>,
}

/// How to wait for the analysis of a fresh push.
#[napi(object)]
#[derive(Default)]
pub struct WaitOptions {
    /// Time between polls, in milliseconds.
    pub poll_interval_ms: Option<u32>,
    /// How long to wait in all, in milliseconds.
    pub deadline_ms: Option<u32>,
}

/// Options of the image report.
#[napi(object)]
#[derive(Default)]
pub struct ImageReportOptions {
    /// Only these images (package ids such as `team/app`).
    pub images: Option<Vec<String>>,
    /// Summaries fetched at once.
    pub concurrency: Option<u32>,
}

#[napi]
impl NativeClient {
    /// The vulnerability report of an image (`image@sha256:...`) of a repository.
    #[napi]
    pub fn vulnerabilities_report(&self, repository: String, image: String) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let name = c.docker_image_name(&repository, &image)?;
            Ok::<_, gar::Error>(c.vulnerabilities()?.vulnerability_report(&name))
        })();
        match req {
            Ok(r) => start(async move { to_camel_json(&r.send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// Waits until the analysis of an image has finished, then gives its report.
    #[napi]
    pub fn vulnerabilities_wait_for_analysis(
        &self,
        repository: String,
        image: String,
        options: Option<WaitOptions>,
    ) -> Task {
        let c = self.inner.clone();
        let o = options.unwrap_or_default();
        let req = (|| {
            let name = c.docker_image_name(&repository, &image)?;
            let mut w = c.vulnerabilities()?.wait_for_analysis(&name);
            if let Some(ms) = o.poll_interval_ms {
                w = w.with_poll_interval(millis(ms));
            }
            if let Some(ms) = o.deadline_ms {
                w = w.with_deadline(millis(ms));
            }
            Ok::<_, gar::Error>(w)
        })();
        match req {
            Ok(r) => start(async move { to_camel_json(&r.send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// Vulnerability counts by resource and severity in the default project,
    /// or for one image when `repository` and `image` are given.
    #[napi]
    pub fn vulnerabilities_summary(
        &self,
        repository: Option<String>,
        image: Option<String>,
    ) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let project = c.require_project()?.clone();
            let mut s = c.vulnerabilities()?.vulnerability_summary(&project);
            if let (Some(r), Some(i)) = (&repository, &image) {
                s = s.for_image(&c.docker_image_name(r, i)?);
            }
            Ok::<_, gar::Error>(s)
        })();
        match req {
            Ok(r) => start(async move { to_camel_json(&r.send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// The SBOM references of an image.
    #[napi]
    pub fn vulnerabilities_sbom_references(&self, repository: String, image: String) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let name = c.docker_image_name(&repository, &image)?;
            Ok::<_, gar::Error>(c.vulnerabilities()?.sbom_references(&name))
        })();
        match req {
            Ok(r) => start(async move { to_camel_json(&r.send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// Lists the Grafeas occurrences of the default project.
    #[napi]
    pub fn occurrences_list(&self, options: Option<AnalysisListOptions>) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let c = self.inner.clone();
        let list = (|| {
            let project = c.require_project()?.clone();
            let mut l = c.vulnerabilities()?.list_occurrences(&project);
            if let Some(f) = o.filter {
                l = l.set_filter(f);
            }
            if let Some(i) = &o.image {
                let r = o.repository.as_deref().unwrap_or_default();
                l = l.for_image(&c.docker_image_name(r, i)?);
            }
            if let Some(n) = o.page_size {
                l = l.set_page_size(n);
            }
            if let Some(t) = o.page_token {
                l = l.set_page_token(t);
            }
            Ok::<_, gar::Error>(l)
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Reads an occurrence (`projects/{p}/occurrences/{id}`).
    #[napi]
    pub fn occurrences_get(&self, name: String) -> Task {
        match self.inner.vulnerabilities() {
            Ok(v) => start(async move { to_json(&v.get_occurrence(name).send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// Creates an occurrence (Grafeas JSON) in the default project.
    #[napi]
    pub fn occurrences_create(&self, occurrence: Value) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let project = c.require_project()?.clone();
            let o = from_json(occurrence, "the occurrence")?;
            Ok::<_, gar::Error>(c.vulnerabilities()?.create_occurrence(&project, o))
        })();
        match req {
            Ok(r) => start(async move { to_json(&r.send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// Lists the notes of a project (the default one unless given; vulnerability
    /// notes live in `goog-vulnz`).
    #[napi]
    pub fn notes_list(
        &self,
        project: Option<String>,
        options: Option<AnalysisListOptions>,
    ) -> napi::Result<Task> {
        let o = options.unwrap_or_default();
        let c = self.inner.clone();
        let list = (|| {
            let project = match &project {
                Some(p) => p.parse()?,
                None => c.require_project()?.clone(),
            };
            let mut l = c.vulnerabilities()?.list_notes(&project);
            if let Some(f) = o.filter {
                l = l.set_filter(f);
            }
            if let Some(n) = o.page_size {
                l = l.set_page_size(n);
            }
            if let Some(t) = o.page_token {
                l = l.set_page_token(t);
            }
            Ok::<_, gar::Error>(l)
        })()
        .map_err(|e| to_napi(&e))?;
        Ok(first_page(list.by_page()))
    }

    /// Creates a note (Grafeas JSON) as `projects/{project}/notes/{note_id}` (the
    /// default project unless given).
    #[napi]
    pub fn notes_create(&self, project: Option<String>, note_id: String, note: Value) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let project = match &project {
                Some(p) => p.parse()?,
                None => c.require_project()?.clone(),
            };
            let n = from_json(note, "the note")?;
            Ok::<_, gar::Error>(c.vulnerabilities()?.create_note(&project, note_id, n))
        })();
        match req {
            Ok(r) => start(async move { to_json(&r.send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// Reads a note (`projects/{p}/notes/{id}`).
    #[napi]
    pub fn notes_get(&self, name: String) -> Task {
        match self.inner.vulnerabilities() {
            Ok(v) => start(async move { to_json(&v.get_note(name).send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// One row per docker image of a repository, newest first: the image, its
    /// platforms and its vulnerability counts (or the error that kept them away).
    #[napi]
    pub fn image_report(&self, repository: String, options: Option<ImageReportOptions>) -> Task {
        let o = options.unwrap_or_default();
        let req = (|| {
            let mut r = self.inner.image_report(&repository)?;
            if let Some(images) = o.images {
                r = r.set_images(images);
            }
            if let Some(n) = o.concurrency {
                r = r.with_concurrency(usize::try_from(n).unwrap_or(1));
            }
            Ok::<_, gar::Error>(r)
        })();
        match req {
            Ok(r) => start(async move {
                let rows = r.send().await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let platforms = crate::images::platforms(&row.platforms);
                    let (counts, error) = match &row.vulnerabilities {
                        Ok(c) => (to_camel_json(c)?, Value::Null),
                        Err(e) => (Value::Null, crate::error::describe(e)),
                    };
                    out.push(json!({
                        "image": to_json(&row.image)?,
                        "platforms": platforms,
                        "vulnerabilities": counts,
                        "error": error,
                    }));
                }
                Ok(Value::Array(out))
            }),
            Err(e) => failed(e),
        }
    }
}
