//! Repositories, packages, versions, tags, files, images, vulnerabilities and
//! cleanup: each command one facade call, printed as a table or stable JSON.

use std::path::PathBuf;

use futures_util::TryStreamExt;
use gar::model::{DockerImage, File, Format, Package, Repository, Tag, Version, VersionView};
use gar::report::{Count, ResourceCounts, Severity, VulnerabilityReport};
use gar::{Client, Error, ErrorKind};
use gar_core::cleanup::{CleanupPolicies, Outcome};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{
    CleanupArgs, CleanupCmd, Command, FilesCmd, FormatArg, Global, ImagesCmd, PackageArgs,
    PackagesCmd, ReposCmd, TagsCmd, VersionsCmd, VulnsArgs,
};
use crate::cmd::io_error;
use crate::output::{Out, Table, bytes, short};

/// Runs a resource command.
pub async fn run(command: Command, client: &Client, g: &Global, out: &Out) -> gar::Result<()> {
    match command {
        Command::Images(ImagesCmd::Push {
            layout,
            image,
            name,
        }) => crate::cmd::registry::push(&layout, &image, name.as_deref(), client, g, out).await,
        Command::Images(ImagesCmd::Pull {
            image,
            layout,
            platform,
        }) => {
            crate::cmd::registry::pull(&image, &layout, platform.as_deref(), client, g, out).await
        }
        Command::Images(ImagesCmd::Copy { source, target }) => {
            crate::cmd::registry::copy(&source, &target, client, g, out).await
        }
        Command::Repos(c) => repos(c, client, out).await,
        Command::Packages(c) => packages(c, client, out).await,
        Command::Versions(c) => versions(c, client, out).await,
        Command::Tags(c) => tags(c, client, out).await,
        Command::Files(c) => files(c, client, out).await,
        Command::Images(c) => images(c, client, out).await,
        Command::Vulns(a) => vulns(a, client, out).await,
        Command::Manifest(c) => crate::cmd::registry::manifest(c, client, out).await,
        Command::Blob(c) => crate::cmd::registry::blob(c, client, out).await,
        Command::Cleanup(c) => cleanup(c, client, out).await,
        // Dispatched in main.
        Command::Emulator(_) | Command::Auth(_) | Command::Completions(_) | Command::Demo(_) => {
            Ok(())
        }
    }
}

/// Whether a command only reads (and so may fail over between replicas).
pub fn is_read(command: &Command) -> bool {
    match command {
        Command::Repos(c) => matches!(c, ReposCmd::List { .. } | ReposCmd::Get { .. }),
        Command::Packages(c) => matches!(c, PackagesCmd::List { .. } | PackagesCmd::Get { .. }),
        Command::Versions(c) => matches!(c, VersionsCmd::List { .. } | VersionsCmd::Get { .. }),
        Command::Tags(c) => matches!(c, TagsCmd::List { .. } | TagsCmd::Get { .. }),
        Command::Files(c) => !matches!(c, FilesCmd::Delete { .. }),
        Command::Images(c) => matches!(
            c,
            ImagesCmd::List { .. } | ImagesCmd::Inspect { .. } | ImagesCmd::Pull { .. }
        ),
        Command::Manifest(_) | Command::Blob(_) | Command::Vulns(_) => true,
        Command::Cleanup(c) => matches!(c, CleanupCmd::DryRun(_)),
        Command::Emulator(_) | Command::Auth(_) | Command::Completions(_) | Command::Demo(_) => {
            false
        }
    }
}

/// Runs a read command with `--replicas`: in the first location that is
/// available, as [`gar::Locations::read`] decides, naming on stderr the
/// locations skipped. Short names resolve in each location in turn.
pub async fn run_with_failover(
    command: Command,
    client: &Client,
    g: &Global,
    out: &Out,
) -> gar::Result<()> {
    if !is_read(&command) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "--replicas is for reads (list, get, inspect, pull, download, vulns, manifest, blob, cleanup dry-run); writes go to one location",
        ));
    }
    let served = client
        .locations(&g.replicas)?
        .read(|c| {
            let command = command.clone();
            async move { run(command, &c, g, out).await }
        })
        .await?;
    for skipped in &served.skipped {
        out.warn(&format!(
            "{} was unavailable ({}); served from {}",
            skipped.location, skipped.error, served.location
        ));
    }
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A timestamp to the second (`2026-01-02T03:04:05Z`), or nothing.
pub fn time(t: Option<gar_core::protojson::Timestamp>) -> String {
    let Some(t) = t else {
        return String::new();
    };
    let text = t.to_string();
    match (text.find('.'), text.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", text.get(..dot).unwrap_or(&text)),
        _ => text,
    }
}

fn deleted(out: &Out, name: &str) {
    if out.is_json() {
        out.json(&json!({ "deleted": name }));
    } else {
        out.say(&format!("deleted {name}"));
    }
}

// ---- repositories ---------------------------------------------------------------------

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Docker => Format::Docker,
        FormatArg::Maven => Format::Maven,
        FormatArg::Npm => Format::Npm,
        FormatArg::Python => Format::Python,
        FormatArg::Apt => Format::Apt,
        FormatArg::Yum => Format::Yum,
        FormatArg::Go => Format::Go,
        FormatArg::Generic => Format::Generic,
        FormatArg::Kfp => Format::Kfp,
        FormatArg::Ruby => Format::Ruby,
    }
}

/// The repositories of the project and location, as `gar repos list` lists them.
pub async fn list_repositories(client: &Client) -> gar::Result<Vec<Repository>> {
    client.repositories()?.list().by_item().try_collect().await
}

/// The packages of a repository, as `gar packages list` lists them.
pub async fn list_packages(client: &Client, repository: &str) -> gar::Result<Vec<Package>> {
    client
        .packages(repository)?
        .list()
        .by_item()
        .try_collect()
        .await
}

/// The versions of a package, with their tags, newest first, as `gar versions
/// list` lists them.
pub async fn list_versions(
    client: &Client,
    repository: &str,
    package: &str,
) -> gar::Result<Vec<Version>> {
    client
        .versions(repository, package)?
        .list()
        .set_view(VersionView::Full)
        .set_order_by("create_time desc")
        .by_item()
        .try_collect()
        .await
}

/// The tags of a package, as `gar tags list` lists them.
pub async fn list_tags(client: &Client, repository: &str, package: &str) -> gar::Result<Vec<Tag>> {
    client
        .tags(repository, package)?
        .list()
        .by_item()
        .try_collect()
        .await
}

/// The files of a repository, as `gar files list` lists them.
pub async fn list_files(client: &Client, repository: &str) -> gar::Result<Vec<File>> {
    client
        .files(repository)?
        .list()
        .by_item()
        .try_collect()
        .await
}

/// The docker images of a repository, newest first, as `gar images list` lists
/// them.
pub async fn list_images(client: &Client, repository: &str) -> gar::Result<Vec<DockerImage>> {
    client
        .docker_images(repository)?
        .list()
        .set_order_by("upload_time desc")
        .by_item()
        .try_collect()
        .await
}

/// The table of repositories.
pub fn repository_table(items: &[Repository]) -> Table {
    let mut t = Table::new(&["REPOSITORY", "FORMAT", "LOCATION", "SIZE", "DESCRIPTION"]);
    for r in items {
        let location = r
            .repository_name()
            .map(|n| n.location().to_string())
            .unwrap_or_default();
        t.row(vec![
            short(&r.name),
            r.format.name().into_owned(),
            location,
            bytes(r.size_bytes),
            r.description.clone(),
        ]);
    }
    t
}

async fn repos(c: ReposCmd, client: &Client, out: &Out) -> gar::Result<()> {
    match c {
        ReposCmd::List { locations } if !locations.is_empty() => {
            let across = client.locations(&locations)?.repositories().await;
            let unreachable: Vec<Value> = across
                .unreachable
                .iter()
                .map(|f| {
                    json!({
                        "location": f.location.as_str(),
                        "code": f.error.code(),
                        "message": f.error.to_string(),
                    })
                })
                .collect();
            out.emit(
                &json!({ "repositories": to_json(&across.items), "unreachable": unreachable }),
                &repository_table(&across.items),
            );
            for f in &across.unreachable {
                if !out.is_json() {
                    out.warn(&format!("{} could not be listed: {}", f.location, f.error));
                }
            }
            Ok(())
        }
        ReposCmd::List { .. } => {
            let items = list_repositories(client).await?;
            out.emit(&to_json(&items), &repository_table(&items));
            Ok(())
        }
        ReposCmd::Get { repository } => {
            let r = client.repositories()?.get(&repository)?.send().await?;
            out.emit(&to_json(&r), &repository_table(std::slice::from_ref(&r)));
            Ok(())
        }
        ReposCmd::Create {
            repository,
            format,
            description,
        } => {
            let mut create = client
                .repositories()?
                .create(&repository, format_of(format));
            if let Some(d) = description {
                create = create.set_description(d);
            }
            let r = create.send().await?;
            out.emit(&to_json(&r), &repository_table(std::slice::from_ref(&r)));
            Ok(())
        }
        ReposCmd::Delete { repository } => {
            let name = client.repository_name(&repository)?;
            client.repositories()?.delete(&repository)?.send().await?;
            deleted(out, &name.to_string());
            Ok(())
        }
    }
}

// ---- packages, versions, tags ---------------------------------------------------------

/// The table of packages.
pub fn package_table(items: &[Package]) -> Table {
    let mut t = Table::new(&["PACKAGE", "CREATED", "UPDATED"]);
    for p in items {
        t.row(vec![
            short(&p.name),
            time(p.create_time),
            time(p.update_time),
        ]);
    }
    t
}

async fn packages(c: PackagesCmd, client: &Client, out: &Out) -> gar::Result<()> {
    match c {
        PackagesCmd::List { repository } => {
            let items = list_packages(client, &repository).await?;
            out.emit(&to_json(&items), &package_table(&items));
        }
        PackagesCmd::Get {
            package:
                PackageArgs {
                    repository,
                    package,
                },
        } => {
            let p = client.packages(&repository)?.get(&package)?.send().await?;
            out.emit(&to_json(&p), &package_table(std::slice::from_ref(&p)));
        }
        PackagesCmd::Delete {
            package:
                PackageArgs {
                    repository,
                    package,
                },
        } => {
            let name = client.package_name(&repository, &package)?;
            client
                .packages(&repository)?
                .delete(&package)?
                .send()
                .await?;
            deleted(out, &name.to_string());
        }
    }
    Ok(())
}

/// The table of versions.
pub fn version_table(items: &[Version]) -> Table {
    let mut t = Table::new(&["VERSION", "TAGS", "CREATED"]);
    for v in items {
        let tags: Vec<String> = v.related_tags.iter().map(|t| short(&t.name)).collect();
        t.row(vec![short(&v.name), tags.join(","), time(v.create_time)]);
    }
    t
}

async fn versions(c: VersionsCmd, client: &Client, out: &Out) -> gar::Result<()> {
    match c {
        VersionsCmd::List {
            package:
                PackageArgs {
                    repository,
                    package,
                },
        } => {
            let items = list_versions(client, &repository, &package).await?;
            out.emit(&to_json(&items), &version_table(&items));
        }
        VersionsCmd::Get {
            package:
                PackageArgs {
                    repository,
                    package,
                },
            version_id: version,
        } => {
            let v = client
                .versions(&repository, &package)?
                .get(&version)?
                .set_view(VersionView::Full)
                .send()
                .await?;
            out.emit(&to_json(&v), &version_table(std::slice::from_ref(&v)));
        }
        VersionsCmd::Delete {
            package:
                PackageArgs {
                    repository,
                    package,
                },
            version_id: version,
            force,
        } => {
            let name = client.version_name(&repository, &package, &version)?;
            client
                .versions(&repository, &package)?
                .delete(&version)?
                .set_force(force)
                .send()
                .await?;
            deleted(out, &name.to_string());
        }
    }
    Ok(())
}

/// The table of tags.
pub fn tag_table(items: &[Tag]) -> Table {
    let mut t = Table::new(&["TAG", "VERSION"]);
    for tag in items {
        t.row(vec![short(&tag.name), short(&tag.version)]);
    }
    t
}

async fn tags(c: TagsCmd, client: &Client, out: &Out) -> gar::Result<()> {
    let tag = match c {
        TagsCmd::List {
            package:
                PackageArgs {
                    repository,
                    package,
                },
        } => {
            let items = list_tags(client, &repository, &package).await?;
            out.emit(&to_json(&items), &tag_table(&items));
            return Ok(());
        }
        TagsCmd::Delete {
            package:
                PackageArgs {
                    repository,
                    package,
                },
            tag,
        } => {
            let name = client.tag_name(&repository, &package, &tag)?;
            client
                .tags(&repository, &package)?
                .delete(&tag)?
                .send()
                .await?;
            deleted(out, &name.to_string());
            return Ok(());
        }
        TagsCmd::Get {
            package:
                PackageArgs {
                    repository,
                    package,
                },
            tag,
        } => {
            client
                .tags(&repository, &package)?
                .get(&tag)?
                .send()
                .await?
        }
        TagsCmd::Create {
            package:
                PackageArgs {
                    repository,
                    package,
                },
            tag,
            version_id: version,
        } => {
            client
                .tags(&repository, &package)?
                .create(&tag, &version)?
                .send()
                .await?
        }
        TagsCmd::Update {
            package:
                PackageArgs {
                    repository,
                    package,
                },
            tag,
            version_id: version,
        } => {
            client
                .tags(&repository, &package)?
                .update(&tag, &version)?
                .send()
                .await?
        }
    };
    out.emit(&to_json(&tag), &tag_table(std::slice::from_ref(&tag)));
    Ok(())
}

// ---- files ----------------------------------------------------------------------------

/// The table of files.
pub fn file_table(items: &[File]) -> Table {
    let mut t = Table::new(&["FILE", "SIZE", "SHA256", "OWNER"]);
    for f in items {
        let sha = f
            .hash(&gar::model::HashType::Sha256)
            .map(|h| h.hex())
            .unwrap_or_default();
        t.row(vec![
            short(&f.name),
            bytes(f.size_bytes),
            sha.get(..12).unwrap_or(&sha).to_owned(),
            short(&f.owner),
        ]);
    }
    t
}

async fn files(c: FilesCmd, client: &Client, out: &Out) -> gar::Result<()> {
    match c {
        FilesCmd::List { repository } => {
            let items = list_files(client, &repository).await?;
            out.emit(&to_json(&items), &file_table(&items));
        }
        FilesCmd::Get { repository, file } => {
            let f = client.files(&repository)?.get(&file)?.send().await?;
            out.emit(&to_json(&f), &file_table(std::slice::from_ref(&f)));
        }
        FilesCmd::Download {
            repository,
            file,
            out: path,
        } => {
            let name = client.file_name(&repository, &file)?;
            let base = name
                .file()
                .as_str()
                .rsplit(['/', ':'])
                .next()
                .unwrap_or("download");
            let path = path.unwrap_or_else(|| PathBuf::from(base));
            let download = client.files(&repository)?.download(&file)?.send().await?;
            let written = if path.as_os_str() == "-" {
                let mut stdout = tokio::io::stdout();
                download.write_to(&mut stdout).await?
            } else {
                // Into a temporary file, renamed once the hash has been checked.
                let partial = path.with_extension("gar-partial");
                let mut f = tokio::fs::File::create(&partial)
                    .await
                    .map_err(|e| io_error(format!("cannot create {}", partial.display()), e))?;
                let written = match download.write_to(&mut f).await {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = tokio::fs::remove_file(&partial).await;
                        return Err(e);
                    }
                };
                tokio::fs::rename(&partial, &path)
                    .await
                    .map_err(|e| io_error(format!("cannot write {}", path.display()), e))?;
                written
            };
            if path.as_os_str() != "-" {
                if out.is_json() {
                    out.json(&json!({
                        "file": name.to_string(),
                        "path": path.display().to_string(),
                        "sizeBytes": written.to_string(),
                    }));
                } else {
                    out.say(&format!(
                        "downloaded {} to {} ({}, SHA-256 checked)",
                        name.file(),
                        path.display(),
                        bytes(i64::try_from(written).unwrap_or(i64::MAX))
                    ));
                }
            }
        }
        FilesCmd::Delete { repository, file } => {
            let name = client.file_name(&repository, &file)?;
            client.files(&repository)?.delete(&file)?.send().await?;
            deleted(out, &name.to_string());
        }
    }
    Ok(())
}

// ---- images and vulnerabilities -------------------------------------------------------

/// One count as JSON: `{"total": n, "fixable": m}`.
fn count_json(n: Count) -> Value {
    json!({"total": n.total, "fixable": n.fixable})
}

/// The count of each severity, most severe first, as JSON:
/// `{"CRITICAL": {"total": n, "fixable": m}, ...}`.
fn severity_counts_json(count: impl Fn(Severity) -> Count) -> serde_json::Map<String, Value> {
    Severity::RANKED
        .into_iter()
        .map(|s| (s.name().to_owned(), count_json(count(s))))
        .collect()
}

/// Counts as JSON: `{"CRITICAL": {"total": n, "fixable": m}, ..., "total": {...}}`.
pub fn counts_json(c: &ResourceCounts) -> Value {
    let mut m = severity_counts_json(|s| c.count(s));
    m.insert("total".into(), count_json(c.total));
    Value::Object(m)
}

/// Counts as text: `2 (1 fixable): 1 critical, 1 high`.
pub fn counts_text(c: &ResourceCounts) -> String {
    let parts: Vec<String> = Severity::RANKED
        .iter()
        .filter_map(|s| {
            let n = c.count(*s);
            (n.total > 0).then(|| format!("{} {}", n.total, s.name().to_ascii_lowercase()))
        })
        .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        format!(
            "{} ({} fixable): {}",
            c.total.total,
            c.total.fixable,
            parts.join(", ")
        )
    }
}

fn platforms_json(platforms: &[gar::Platform]) -> Value {
    Value::Array(
        platforms
            .iter()
            .map(|p| {
                json!({"os": p.os, "architecture": p.architecture, "variant": p.variant, "digest": p.digest})
            })
            .collect(),
    )
}

fn platforms_text(platforms: &[gar::Platform]) -> String {
    platforms
        .iter()
        .map(|p| {
            if p.variant.is_empty() {
                format!("{}/{}", p.os, p.architecture)
            } else {
                format!("{}/{}/{}", p.os, p.architecture, p.variant)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An error as JSON: `{"code": ..., "message": ...}`.
fn error_json(e: &Error) -> Value {
    json!({"code": e.code(), "message": e.to_string()})
}

/// Why the platforms could not be read, as JSON (`null` when they could).
fn platforms_error_json(e: Option<&Error>) -> Value {
    e.map_or(Value::Null, error_json)
}

fn vulnerabilities_json(v: &Result<ResourceCounts, Error>) -> (Value, Value) {
    match v {
        Ok(c) => (counts_json(c), Value::Null),
        Err(e) => (Value::Null, error_json(e)),
    }
}

/// The image's name within its repository (`hello`), empty when its resource
/// name cannot be read.
pub fn image_name(image: &DockerImage) -> String {
    image
        .docker_image_name()
        .map(|n| n.image().to_string())
        .unwrap_or_default()
}

/// The table of docker images.
pub fn image_table(items: &[DockerImage]) -> Table {
    let mut t = Table::new(&["IMAGE", "DIGEST", "TAGS", "SIZE", "UPLOADED"]);
    for i in items {
        let (image, digest) = match i.docker_image_name() {
            Ok(n) => (n.image().to_string(), n.digest().to_string()),
            Err(_) => (short(&i.name), String::new()),
        };
        t.row(vec![
            image,
            digest.get(..19).unwrap_or(&digest).to_owned(),
            i.tags.join(","),
            bytes(i.image_size_bytes),
            time(i.upload_time),
        ]);
    }
    t
}

async fn images(c: ImagesCmd, client: &Client, out: &Out) -> gar::Result<()> {
    match c {
        ImagesCmd::List {
            repository,
            vulns: false,
            ..
        } => {
            let items = list_images(client, &repository).await?;
            out.emit(&to_json(&items), &image_table(&items));
        }
        ImagesCmd::List {
            repository,
            vulns: true,
            concurrency,
        } => {
            let rows = client
                .image_report(&repository)?
                .with_concurrency(concurrency)
                .send()
                .await?;
            let mut t = Table::new(&["IMAGE", "TAGS", "SIZE", "UPLOADED", "VULNERABILITIES"]);
            let mut docs = Vec::new();
            for r in &rows {
                let (counts, error) = vulnerabilities_json(&r.vulnerabilities);
                docs.push(json!({
                    "image": to_json(&r.image),
                    "platforms": platforms_json(&r.platforms),
                    "platformsError": platforms_error_json(r.platforms_error.as_ref()),
                    "vulnerabilities": counts,
                    "vulnerabilityError": error,
                }));
                t.row(vec![
                    image_name(&r.image),
                    r.image.tags.join(","),
                    bytes(r.image.image_size_bytes),
                    time(r.image.upload_time),
                    match &r.vulnerabilities {
                        Ok(c) => counts_text(c),
                        Err(e) => format!("unavailable ({})", e.code()),
                    },
                ]);
            }
            out.emit(&Value::Array(docs), &t);
        }
        ImagesCmd::Inspect { image } => {
            let name = client.image(&image)?;
            let d = client.inspect_image(&name).await?;
            let reference = client
                .image_reference(&name)?
                .with_digest(d.name.digest().clone());
            let (counts, error) = vulnerabilities_json(&d.vulnerabilities);
            if out.is_json() {
                out.json(&json!({
                    "reference": reference.to_string(),
                    "image": to_json(&d.image),
                    "platforms": platforms_json(&d.platforms),
                    "platformsError": platforms_error_json(d.platforms_error.as_ref()),
                    "vulnerabilities": counts,
                    "vulnerabilityError": error,
                }));
            } else {
                let mut t = Table::new(&["FIELD", "VALUE"]);
                t.row(vec!["reference".into(), reference.to_string()]);
                t.row(vec!["digest".into(), d.name.digest().to_string()]);
                t.row(vec!["tags".into(), d.image.tags.join(",")]);
                t.row(vec!["size".into(), bytes(d.image.image_size_bytes)]);
                t.row(vec!["media type".into(), d.image.media_type.clone()]);
                t.row(vec!["uploaded".into(), time(d.image.upload_time)]);
                if let Some(e) = &d.platforms_error {
                    t.row(vec!["platforms".into(), format!("unreadable: {e}")]);
                } else if !d.platforms.is_empty() {
                    t.row(vec!["platforms".into(), platforms_text(&d.platforms)]);
                }
                t.row(vec![
                    "vulnerabilities".into(),
                    match &d.vulnerabilities {
                        Ok(c) => counts_text(c),
                        Err(e) => format!("unavailable: {e}"),
                    },
                ]);
                t.print();
            }
        }
        ImagesCmd::Delete { image } => {
            let name = client.image(&image)?;
            let gone = client.delete_image(&name).await?;
            deleted(out, &gone.to_string());
        }
        // Dispatched in `run`.
        ImagesCmd::Push { .. } | ImagesCmd::Pull { .. } | ImagesCmd::Copy { .. } => {}
    }
    Ok(())
}

/// A vulnerability report as stable JSON.
pub fn report_json(r: &VulnerabilityReport) -> Value {
    let counts = severity_counts_json(|s| r.count(s));
    json!({
        "resourceUri": r.resource_uri,
        "scan": r.scan.map(|s| json!({
            "status": to_json(&s.status),
            "lastScanTime": s.last_scan_time.map(|t| t.to_string()),
        })),
        "counts": counts,
        "total": count_json(r.total()),
        "findings": r.findings.iter().map(|f| json!({
            "cve": f.cve,
            "severity": f.severity.name(),
            "cvssScore": f.cvss_score,
            "fixAvailable": f.fix_available,
            "description": f.short_description,
            "packages": f.packages.iter().map(|p| json!({
                "name": p.name,
                "type": p.package_type,
                "installedVersion": p.installed_version,
                "fixedVersion": p.fixed_version,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A vulnerability report as a table.
pub fn report_table(r: &VulnerabilityReport) -> Table {
    let mut t = Table::new(&[
        "CVE",
        "SEVERITY",
        "CVSS",
        "PACKAGE",
        "INSTALLED",
        "FIXED IN",
    ]);
    for f in &r.findings {
        let p = f.packages.first();
        t.row(vec![
            f.cve.clone(),
            f.severity.name().to_owned(),
            f.cvss_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            p.map(|p| p.name.clone()).unwrap_or_default(),
            p.and_then(|p| p.installed_version.clone())
                .unwrap_or_default(),
            p.and_then(|p| p.fixed_version.clone())
                .unwrap_or_else(|| "no fix yet".to_owned()),
        ]);
    }
    t
}

async fn vulns(a: VulnsArgs, client: &Client, out: &Out) -> gar::Result<()> {
    let name = client.image(&a.image)?;
    let image = client.resolve_image(&name).await?;
    let analysis = client.vulnerabilities()?;
    let report = match a.wait {
        Some(secs) => {
            analysis
                .wait_for_analysis(&image)
                .with_deadline(std::time::Duration::from_secs(secs))
                .send()
                .await?
        }
        None => analysis.vulnerability_report(&image).send().await?,
    };
    if out.is_json() {
        out.json(&report_json(&report));
    } else {
        let status = report
            .scan
            .map(|s| format!("{:?}", s.status).to_ascii_lowercase())
            .unwrap_or_else(|| "not scanned".to_owned());
        out.say(&format!("{} (scan: {status})", report.resource_uri));
        report_table(&report).print();
    }
    Ok(())
}

// ---- cleanup --------------------------------------------------------------------------

fn read_policies(path: &std::path::Path) -> gar::Result<CleanupPolicies> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io_error(format!("cannot read the policy file {}", path.display()), e))?;
    match CleanupPolicies::from_gcloud_json(&text) {
        Ok(p) => Ok(p),
        Err(gcloud) => {
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("the policy file {} is not JSON: {e}", path.display()),
                )
            })?;
            CleanupPolicies::from_rest_value(&value).map_err(|_| gcloud)
        }
    }
}

fn outcome_json(o: &Outcome) -> Value {
    match o {
        Outcome::Delete { by } => json!({"action": "DELETE", "by": by}),
        Outcome::Keep { by, overrides } => {
            json!({"action": "KEEP", "by": by, "overrides": overrides})
        }
        Outcome::NotSelected => json!({"action": "NONE"}),
    }
}

fn outcome_text(o: &Outcome) -> (String, String) {
    match o {
        Outcome::Delete { by } => ("delete".into(), format!("by {}", by.join(", "))),
        Outcome::Keep { by, overrides } if overrides.is_empty() => {
            ("keep".into(), format!("kept by {}", by.join(", ")))
        }
        Outcome::Keep { by, overrides } => (
            "keep".into(),
            format!("kept by {} over {}", by.join(", "), overrides.join(", ")),
        ),
        Outcome::NotSelected => ("keep".into(), "no policy selects it".into()),
    }
}

/// The JSON and table of a cleanup plan.
pub fn plan_output(plan: &gar::artifactregistry::CleanupPlan) -> (Value, Table) {
    let mut t = Table::new(&["PACKAGE", "VERSION", "ACTION", "WHY"]);
    let mut decisions = Vec::new();
    for d in &plan.report.decisions {
        let (action, why) = outcome_text(&d.outcome);
        t.row(vec![
            d.package.to_string(),
            d.version.to_string(),
            action,
            why,
        ]);
        let mut doc = outcome_json(&d.outcome);
        if let Value::Object(m) = &mut doc {
            m.insert("version".into(), json!(plan.version_name(d).to_string()));
        }
        decisions.push(doc);
    }
    let doc = json!({
        "repository": plan.repository.to_string(),
        "repositoryDryRun": plan.dry_run,
        "evaluatedAt": plan.report.evaluated_at.to_string(),
        "policies": plan.policies.to_rest_value(),
        "deletions": plan.deletions().map(|v| v.to_string()).collect::<Vec<_>>(),
        "decisions": decisions,
    });
    (doc, t)
}

fn cleanup_builder(
    args: &CleanupArgs,
    client: &Client,
) -> gar::Result<gar::artifactregistry::Cleanup> {
    let mut c = client.cleanup(&args.repository)?;
    if let Some(path) = &args.policy {
        c = c.set_policies(read_policies(path)?);
    }
    Ok(c)
}

async fn cleanup(c: CleanupCmd, client: &Client, out: &Out) -> gar::Result<()> {
    match c {
        CleanupCmd::DryRun(args) => {
            let plan = cleanup_builder(&args, client)?.report().await?;
            let (doc, table) = plan_output(&plan);
            out.emit(&doc, &table);
            out.say(&format!(
                "dry run: {} of {} versions would be deleted; nothing was deleted",
                plan.report.deletions().count(),
                plan.report.decisions.len()
            ));
        }
        CleanupCmd::Apply(args) => {
            let applied = cleanup_builder(&args.cleanup, client)?
                .set_force(args.force)
                .apply()
                .await?;
            let (mut doc, table) = plan_output(&applied.plan);
            if let Value::Object(m) = &mut doc {
                m.insert(
                    "deleted".into(),
                    json!(
                        applied
                            .deleted
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    ),
                );
                m.insert("failed".into(), json!(applied.failed));
            }
            out.emit(&doc, &table);
            out.say(&format!(
                "deleted {} versions ({} could not be)",
                applied.deleted.len(),
                applied.failed.len()
            ));
        }
    }
    Ok(())
}
