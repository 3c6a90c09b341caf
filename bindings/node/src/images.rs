//! Docker images named the way people type them (`docker/team/app:1.0`,
//! `docker/app@sha256:...`, full references): the facade's resolve, inspect and
//! delete.

use std::sync::Arc;

use futures_util::StreamExt;
use gar::Layout;
use gar::oci::manifest::Platform;
use napi::bindgen_prelude::Buffer;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use serde_json::{Value, json};

use crate::client::NativeClient;
use crate::convert::{to_camel_json, to_json};
use crate::error::{describe, invalid, to_napi};
use crate::streams::{ByteStream, Progress, ProgressFn};
use crate::task::{Output, Task, failed, start, start_now};

/// Options of an image transfer (push, pull, copy).
#[napi(object)]
#[derive(Default)]
pub struct TransferOptions {
    /// Blobs moved at once (the client's concurrency by default).
    pub concurrency: Option<u32>,
    /// Pull only: the platform to pick from an index (`linux/amd64`, `linux/arm64/v8`).
    pub platform: Option<String>,
}

/// The facade's progress callback, forwarding to JavaScript without blocking.
fn oci_progress(callback: ProgressFn) -> gar::oci::progress::ProgressFn {
    let callback = Arc::new(callback);
    Arc::new(move |p: &gar::Progress| {
        let _ = callback.call(
            Progress {
                bytes: p.done as f64,
                total: Some(p.total as f64),
                digest: Some(p.digest.to_string()),
                blob_bytes: Some(p.blob_done as f64),
                blob_total: Some(p.blob_total as f64),
            },
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    })
}

fn report(r: &gar::TransferReport) -> Value {
    json!({
        "digest": r.digest.to_string(),
        "manifests": r.manifests,
        "blobsTransferred": r.blobs_transferred,
        "blobsSkipped": r.blobs_skipped,
        "blobsMounted": r.blobs_mounted,
        "bytesTransferred": r.bytes_transferred,
    })
}

fn platform(text: &str) -> gar::Result<Platform> {
    let mut parts = text.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(os), Some(arch), variant, None) if !os.is_empty() && !arch.is_empty() => {
            let mut p = Platform::new(os, arch);
            if let Some(v) = variant {
                p.variant = Some(v.to_owned());
            }
            Ok(p)
        }
        _ => Err(invalid(
            gar::ErrorKind::InvalidArgument,
            format!("platform {text:?} is not os/architecture[/variant]"),
        )),
    }
}

/// Chunks a [`ByteSink`] holds before `write` waits for the upload to take them.
const SINK_DEPTH: usize = 4;

fn outcome(o: gar::oci::UploadOutcome) -> gar::Result<Value> {
    Ok(Value::String(
        match o {
            gar::oci::UploadOutcome::Uploaded => "uploaded",
            gar::oci::UploadOutcome::Existed => "existed",
            gar::oci::UploadOutcome::Mounted => "mounted",
            _ => "uploaded",
        }
        .to_owned(),
    ))
}

impl NativeClient {
    fn upload(
        &self,
        image: &str,
        digest: &str,
        size: f64,
        source: gar::oci::BlobSource,
        progress: Option<ProgressFn>,
    ) -> gar::Result<gar::oci::UploadBlob> {
        if !(0.0..=9_007_199_254_740_991.0).contains(&size) {
            return Err(invalid(
                gar::ErrorKind::InvalidArgument,
                format!("blob size {size} is not a byte count"),
            ));
        }
        let name = self.inner.image(image)?;
        let mut upload = self
            .inner
            .oci(&name)?
            .upload_blob(&digest.parse()?, size as u64, source);
        if let Some(p) = progress {
            upload = upload.with_progress(oci_progress(p));
        }
        Ok(upload)
    }
}

/// Where JavaScript writes the chunks of a blob being uploaded.
#[napi]
pub struct ByteSink {
    tx: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<gar::Result<bytes::Bytes>>>>,
    upload: Task,
}

#[napi]
impl ByteSink {
    /// Hands a chunk to the upload; resolves once it is taken (backpressure).
    #[napi]
    pub fn write(&self, chunk: Buffer) -> Task {
        let tx = self.tx.lock().ok().and_then(|g| g.clone());
        let chunk = bytes::Bytes::from(chunk.to_vec());
        start(async move {
            let tx = tx.ok_or_else(|| {
                invalid(
                    gar::ErrorKind::FailedPrecondition,
                    "the blob sink is closed",
                )
            })?;
            tx.send(Ok(chunk)).await.map_err(|_| {
                gar::Error::new(
                    gar::ErrorKind::BlobUploadFailed,
                    "the upload stopped taking data (see its result)",
                )
            })?;
            Ok(Value::Null)
        })
    }

    /// Ends the data; the upload then finishes (and checks the digest and size).
    #[napi]
    pub fn end(&self) {
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
    }

    /// Fails the upload: the source broke with `message`.
    #[napi]
    pub fn fail(&self, message: String) {
        let tx = self.tx.lock().ok().and_then(|mut g| g.take());
        if let Some(tx) = tx {
            napi::bindgen_prelude::spawn(async move {
                let _ = tx
                    .send(Err(gar::Error::new(
                        gar::ErrorKind::Io,
                        format!("the source stream failed: {message}"),
                    )))
                    .await;
            });
        }
    }

    /// The upload's result: `uploaded`, `existed` or `mounted`. May be awaited once.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn result(
        &self,
    ) -> napi::Result<napi::bindgen_prelude::Either3<String, Buffer, ByteStream>> {
        self.upload.wait().await
    }

    /// Stops the upload.
    #[napi]
    pub fn cancel(&self) {
        self.end();
        self.upload.cancel();
    }
}

fn concurrency(n: Option<u32>) -> Option<usize> {
    n.map(|n| usize::try_from(n.max(1)).unwrap_or(1))
}

/// Platforms as JSON.
pub(crate) fn platforms(ps: &[gar::Platform]) -> Value {
    Value::Array(
        ps.iter()
            .map(|p| {
                json!({
                    "os": p.os, "architecture": p.architecture,
                    "variant": p.variant, "digest": p.digest,
                })
            })
            .collect(),
    )
}

#[napi]
impl NativeClient {
    /// How an image name is understood: `{ repository, image, tag, digest, reference }`
    /// (`reference` is the full pullable reference). Checks only; no call.
    #[napi]
    pub fn image_parse(&self, image: String) -> napi::Result<Value> {
        let parsed = self.inner.image(&image).map_err(|e| to_napi(&e))?;
        let reference = self
            .inner
            .image_reference(&parsed)
            .map_err(|e| to_napi(&e))?;
        Ok(json!({
            "repository": parsed.repository.to_string(),
            "image": parsed.image.to_string(),
            "tag": parsed.tag.as_ref().map(ToString::to_string),
            "digest": parsed.digest.as_ref().map(ToString::to_string),
            "reference": reference.to_string(),
        }))
    }

    /// The docker image an image name stands for (a tag resolved to its digest):
    /// `{ name, digest }`.
    #[napi]
    pub fn image_resolve(&self, image: String) -> Task {
        let c = self.inner.clone();
        match c.image(&image) {
            Ok(name) => start(async move {
                let resolved = c.resolve_image(&name).await?;
                Ok(json!({
                    "name": resolved.to_string(),
                    "digest": resolved.digest().to_string(),
                }))
            }),
            Err(e) => failed(e),
        }
    }

    /// An image's metadata, platforms and vulnerability counts.
    #[napi]
    pub fn image_inspect(&self, image: String) -> Task {
        let c = self.inner.clone();
        match c.image(&image) {
            Ok(name) => start(async move {
                let d = c.inspect_image(&name).await?;
                let (counts, error) = match &d.vulnerabilities {
                    Ok(counts) => (to_camel_json(counts)?, Value::Null),
                    Err(e) => (Value::Null, describe(e)),
                };
                Ok(json!({
                    "name": d.name.to_string(),
                    "image": to_json(&d.image)?,
                    "platforms": platforms(&d.platforms),
                    "vulnerabilities": counts,
                    "error": error,
                }))
            }),
            Err(e) => failed(e),
        }
    }

    /// Pushes the image of the OCI image layout at `layout` as `image` (tagged
    /// with its tag, if named); blobs stream from the files.
    #[napi(
        ts_args_type = "layout: string, image: string, options?: TransferOptions | undefined | null, progress?: ((progress: Progress) => void) | undefined | null"
    )]
    pub fn image_push(
        &self,
        layout: String,
        image: String,
        options: Option<TransferOptions>,
        progress: Option<ProgressFn>,
    ) -> Task {
        let c = self.inner.clone();
        let o = options.unwrap_or_default();
        let name = match c.image(&image) {
            Ok(n) => n,
            Err(e) => return failed(e),
        };
        if o.platform.is_some() {
            return failed(invalid(
                gar::ErrorKind::InvalidArgument,
                "a push takes no platform: it pushes what the layout holds",
            ));
        }
        start(async move {
            let layout = Layout::open(&layout).await?;
            let mut push = c.push_image(&layout, &name)?;
            if let Some(p) = progress {
                push = push.with_progress(oci_progress(p));
            }
            if let Some(n) = concurrency(o.concurrency) {
                push = push.with_concurrency(n);
            }
            Ok(report(&push.send().await?))
        })
    }

    /// Pulls `image` into the OCI image layout at `layout` (created if absent);
    /// blobs stream to files, verified.
    #[napi(
        ts_args_type = "image: string, layout: string, options?: TransferOptions | undefined | null, progress?: ((progress: Progress) => void) | undefined | null"
    )]
    pub fn image_pull(
        &self,
        image: String,
        layout: String,
        options: Option<TransferOptions>,
        progress: Option<ProgressFn>,
    ) -> Task {
        let c = self.inner.clone();
        let o = options.unwrap_or_default();
        let prepared = (|| {
            let name = c.image(&image)?;
            let wanted = o.platform.as_deref().map(platform).transpose()?;
            Ok::<_, gar::Error>((name, wanted))
        })();
        let (name, wanted) = match prepared {
            Ok(p) => p,
            Err(e) => return failed(e),
        };
        start(async move {
            let layout = Layout::create(&layout).await?;
            let mut pull = c.pull_image(&name, &layout)?;
            if let Some(p) = wanted {
                pull = pull.with_platform(p);
            }
            if let Some(p) = progress {
                pull = pull.with_progress(oci_progress(p));
            }
            if let Some(n) = concurrency(o.concurrency) {
                pull = pull.with_concurrency(n);
            }
            Ok(report(&pull.send().await?))
        })
    }

    /// Copies `from` to `to` (across repositories, locations and projects).
    #[napi(
        ts_args_type = "from: string, to: string, options?: TransferOptions | undefined | null, progress?: ((progress: Progress) => void) | undefined | null"
    )]
    pub fn image_copy(
        &self,
        from: String,
        to: String,
        options: Option<TransferOptions>,
        progress: Option<ProgressFn>,
    ) -> Task {
        let c = self.inner.clone();
        let o = options.unwrap_or_default();
        let copy = (|| {
            let mut copy = c.copy_image(&c.image(&from)?, &c.image(&to)?)?;
            if let Some(p) = progress {
                copy = copy.with_progress(oci_progress(p));
            }
            if let Some(n) = concurrency(o.concurrency) {
                copy = copy.with_concurrency(n);
            }
            Ok::<_, gar::Error>(copy)
        })();
        match copy {
            Ok(copy) => start(async move { Ok(report(&copy.send().await?)) }),
            Err(e) => failed(e),
        }
    }

    /// An image's manifest (by its tag or digest, or `reference` when given):
    /// `{ digest, mediaType, manifest }`, the manifest parsed from its exact bytes.
    #[napi]
    pub fn image_manifest(&self, image: String, reference: Option<String>) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let name = c.image(&image)?;
            let reference = reference.unwrap_or_else(|| name.reference());
            Ok::<_, gar::Error>(c.oci(&name)?.get_manifest(&reference))
        })();
        match req {
            Ok(req) => start(async move {
                let m = req.send().await?;
                let parsed: Value = serde_json::from_slice(m.raw()).map_err(|e| {
                    gar::Error::new(
                        gar::ErrorKind::ManifestInvalid,
                        format!("the manifest is not JSON: {e}"),
                    )
                })?;
                Ok(json!({
                    "digest": m.digest().to_string(),
                    "mediaType": m.media_type(),
                    "manifest": parsed,
                }))
            }),
            Err(e) => failed(e),
        }
    }

    /// A blob of an image's repository as a byte stream, verified against its
    /// digest as it flows.
    #[napi]
    pub fn image_blob(&self, image: String, digest: String) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let name = c.image(&image)?;
            Ok::<_, gar::Error>(c.oci(&name)?.get_blob(&digest.parse()?))
        })();
        match req {
            Ok(req) => start(async move {
                let blob = req.send().await?;
                Ok(Output::Stream(ByteStream::new(blob.boxed())))
            }),
            Err(e) => failed(e),
        }
    }

    /// Downloads a blob of an image's repository to `dest` (verified; nothing is
    /// left at `dest` on failure); returns the byte count.
    #[napi]
    pub fn image_blob_download(&self, image: String, digest: String, dest: String) -> Task {
        let c = self.inner.clone();
        let req = (|| {
            let name = c.image(&image)?;
            Ok::<_, gar::Error>(c.oci(&name)?.download_blob(&digest.parse()?, dest))
        })();
        match req {
            Ok(req) => start(async move { Ok(json!(req.send().await?)) }),
            Err(e) => failed(e),
        }
    }

    /// Uploads the blob `digest` of `size` bytes to an image's repository from a
    /// file (`path`) or bytes (`bytes`); skipped when the repository holds it.
    /// Returns `uploaded`, `existed` or `mounted`.
    #[napi(
        ts_args_type = "image: string, digest: string, size: number, path?: string | undefined | null, bytes?: Buffer | undefined | null, progress?: ((progress: Progress) => void) | undefined | null"
    )]
    pub fn image_upload_blob(
        &self,
        image: String,
        digest: String,
        size: f64,
        path: Option<String>,
        bytes: Option<Buffer>,
        progress: Option<ProgressFn>,
    ) -> Task {
        let source = match (path, bytes) {
            (Some(p), None) => gar::oci::BlobSource::file(p),
            (None, Some(b)) => gar::oci::BlobSource::bytes(b.to_vec()),
            _ => {
                return failed(invalid(
                    gar::ErrorKind::InvalidArgument,
                    "give the blob as a path or as bytes",
                ));
            }
        };
        match self.upload(&image, &digest, size, source, progress) {
            Ok(upload) => start(async move { outcome(upload.send().await?) }),
            Err(e) => failed(e),
        }
    }

    /// Starts uploading the blob `digest` of `size` bytes from chunks JavaScript
    /// writes into the returned sink (a Node stream, read once: the upload cannot
    /// resume).
    #[napi(
        ts_args_type = "image: string, digest: string, size: number, progress?: ((progress: Progress) => void) | undefined | null"
    )]
    pub fn image_upload_blob_stream(
        &self,
        image: String,
        digest: String,
        size: f64,
        progress: Option<ProgressFn>,
    ) -> napi::Result<ByteSink> {
        let (tx, rx) = tokio::sync::mpsc::channel::<gar::Result<bytes::Bytes>>(SINK_DEPTH);
        let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let upload = self
            .upload(
                &image,
                &digest,
                size,
                gar::oci::BlobSource::stream(chunks),
                progress,
            )
            .map_err(|e| to_napi(&e))?;
        Ok(ByteSink {
            tx: std::sync::Mutex::new(Some(tx)),
            upload: start_now(async move { outcome(upload.send().await?) }),
        })
    }

    /// Deletes an image (by tag or digest) with its tags; returns the deleted name.
    #[napi]
    pub fn image_delete(&self, image: String) -> Task {
        let c = self.inner.clone();
        match c.image(&image) {
            Ok(name) => start(async move {
                let deleted = c.delete_image(&name).await?;
                Ok(Value::String(deleted.to_string()))
            }),
            Err(e) => failed(e),
        }
    }
}
