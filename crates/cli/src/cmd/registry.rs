//! The docker registry: pushes, pulls and copies with progress, manifests and
//! blobs.

use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use gar::oci::manifest::Platform;
use gar::{Client, Error, ErrorKind, ImageName, Layout, TransferReport};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::cli::{BlobCmd, Global, ManifestCmd};
use crate::cmd::io_error;
use crate::output::{Out, Table, bytes};
use crate::progress::Bar;

/// A transfer's outcome as stable JSON.
pub fn transfer_json(reference: &str, r: &TransferReport) -> Value {
    json!({
        "reference": reference,
        "digest": r.digest.to_string(),
        "manifests": r.manifests,
        "blobsTransferred": r.blobs_transferred,
        "blobsSkipped": r.blobs_skipped,
        "blobsMounted": r.blobs_mounted,
        "bytesTransferred": r.bytes_transferred.to_string(),
    })
}

/// A transfer's outcome as a sentence.
pub fn transfer_text(verb: &str, reference: &str, r: &TransferReport) -> String {
    format!(
        "{verb} {reference}: {} manifest(s), {} blob(s) transferred ({}), {} already there, {} mounted",
        r.manifests,
        r.blobs_transferred,
        bytes(i64::try_from(r.bytes_transferred).unwrap_or(i64::MAX)),
        r.blobs_skipped,
        r.blobs_mounted
    )
}

fn report(out: &Out, verb: &str, reference: &str, r: &TransferReport) {
    if out.is_json() {
        out.json(&transfer_json(reference, r));
    } else {
        out.say(&transfer_text(verb, reference, r));
    }
}

fn pinned(client: &Client, image: &ImageName, r: &TransferReport) -> gar::Result<String> {
    Ok(client
        .image_reference(image)?
        .with_digest(r.digest.clone())
        .to_string())
}

/// `gar images push LAYOUT IMAGE`.
pub async fn push(
    layout: &Path,
    image: &str,
    name: Option<&str>,
    client: &Client,
    g: &Global,
    out: &Out,
) -> gar::Result<()> {
    let image = client.image(image)?;
    let layout = Layout::open(layout).await?;
    let bar = Bar::new(format!("push {image}"), !g.no_progress);
    let mut push = client
        .push_image(&layout, &image)?
        .with_progress(bar.callback());
    if let Some(n) = name {
        push = push.with_name(n);
    }
    let result = push.send().await;
    bar.finish();
    let r = result?;
    report(out, "pushed", &pinned(client, &image, &r)?, &r);
    Ok(())
}

fn platform(text: &str) -> gar::Result<Platform> {
    let mut parts = text.split('/');
    match (parts.next(), parts.next()) {
        (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => Ok(Platform::new(os, arch)),
        _ => Err(Error::invalid(
            ErrorKind::InvalidArgument,
            "platform",
            text,
            "write it os/architecture, such as linux/amd64",
        )),
    }
}

/// `gar images pull IMAGE LAYOUT`.
pub async fn pull(
    image: &str,
    layout: &Path,
    wanted: Option<&str>,
    client: &Client,
    g: &Global,
    out: &Out,
) -> gar::Result<()> {
    let image = client.image(image)?;
    let wanted = wanted.map(platform).transpose()?;
    let layout = Layout::create(layout).await?;
    let bar = Bar::new(format!("pull {image}"), !g.no_progress);
    let mut pull = client
        .pull_image(&image, &layout)?
        .with_progress(bar.callback());
    if let Some(p) = wanted {
        pull = pull.with_platform(p);
    }
    let result = pull.send().await;
    bar.finish();
    let r = result?;
    report(out, "pulled", &pinned(client, &image, &r)?, &r);
    Ok(())
}

/// `gar images copy SOURCE TARGET`.
pub async fn copy(
    source: &str,
    target: &str,
    client: &Client,
    g: &Global,
    out: &Out,
) -> gar::Result<()> {
    let from = client.image(source)?;
    let to = client.image(target)?;
    let bar = Bar::new(format!("copy {from} -> {to}"), !g.no_progress);
    let result = client
        .copy_image(&from, &to)?
        .with_progress(bar.callback())
        .send()
        .await;
    bar.finish();
    let r = result?;
    report(out, "copied to", &pinned(client, &to, &r)?, &r);
    Ok(())
}

/// `gar manifest ...`.
pub async fn manifest(c: ManifestCmd, client: &Client, out: &Out) -> gar::Result<()> {
    let ManifestCmd::Get { image, raw } = c;
    let image = client.image(&image)?;
    let m = client
        .oci(&image)?
        .get_manifest(&image.reference())
        .send()
        .await?;
    if raw {
        let mut stdout = tokio::io::stdout();
        stdout
            .write_all(m.raw())
            .await
            .map_err(|e| io_error("cannot write the manifest".into(), e))?;
        stdout
            .flush()
            .await
            .map_err(|e| io_error("cannot write the manifest".into(), e))?;
        return Ok(());
    }
    let body: Value = serde_json::from_slice(m.raw()).unwrap_or(Value::Null);
    if out.is_json() {
        out.json(&json!({
            "digest": m.digest().to_string(),
            "mediaType": m.media_type(),
            "size": m.raw().len(),
            "manifest": body,
        }));
        return Ok(());
    }
    out.say(&format!(
        "{} ({}, {} bytes)",
        m.digest(),
        m.media_type(),
        m.raw().len()
    ));
    let mut t = Table::new(&["ROLE", "MEDIA TYPE", "DIGEST", "SIZE", "PLATFORM"]);
    if let Some(i) = m.as_image() {
        t.row(vec![
            "config".into(),
            i.config.media_type.clone(),
            i.config.digest.to_string(),
            bytes(i64::try_from(i.config.size).unwrap_or(i64::MAX)),
            String::new(),
        ]);
        for l in &i.layers {
            t.row(vec![
                "layer".into(),
                l.media_type.clone(),
                l.digest.to_string(),
                bytes(i64::try_from(l.size).unwrap_or(i64::MAX)),
                String::new(),
            ]);
        }
    }
    if let Some(i) = m.as_index() {
        for d in &i.manifests {
            t.row(vec![
                "manifest".into(),
                d.media_type.clone(),
                d.digest.to_string(),
                bytes(i64::try_from(d.size).unwrap_or(i64::MAX)),
                d.platform
                    .as_ref()
                    .map(|p| format!("{}/{}", p.os, p.architecture))
                    .unwrap_or_default(),
            ]);
        }
    }
    t.print();
    Ok(())
}

/// `gar blob ...`.
pub async fn blob(c: BlobCmd, client: &Client, out: &Out) -> gar::Result<()> {
    let BlobCmd::Get {
        image,
        digest,
        out: path,
    } = c;
    let image = client.image(&image)?;
    let digest: gar::names::Digest = digest.parse()?;
    let repo = client.oci(&image)?;
    let path = path.unwrap_or_else(|| PathBuf::from(digest.hex()));
    if path.as_os_str() == "-" {
        let mut stream = repo.get_blob(&digest).send().await?;
        let mut stdout = tokio::io::stdout();
        while let Some(chunk) = stream.try_next().await? {
            stdout
                .write_all(&chunk)
                .await
                .map_err(|e| io_error("cannot write the blob".into(), e))?;
        }
        stdout
            .flush()
            .await
            .map_err(|e| io_error("cannot write the blob".into(), e))?;
        return Ok(());
    }
    let size = repo.download_blob(&digest, &path).send().await?;
    if out.is_json() {
        out.json(&json!({
            "digest": digest.to_string(),
            "path": path.display().to_string(),
            "size": size.to_string(),
        }));
    } else {
        out.say(&format!(
            "downloaded {digest} to {} ({}, digest verified)",
            path.display(),
            bytes(i64::try_from(size).unwrap_or(i64::MAX))
        ));
    }
    Ok(())
}
