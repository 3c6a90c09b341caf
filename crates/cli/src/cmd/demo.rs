//! `gar demo`: a guided tour against an emulator started in this process with
//! the demo seed. Every line it prints comes from a real call over loopback.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gar::{Client, Credentials, Error, ErrorKind, Layout, SecretString};
use gar_core::cleanup::CleanupPolicies;
use gar_emulator::{Emulator, Seed, seed};

use crate::cli::{DemoArgs, Global};
use crate::cmd::registry::transfer_text;
use crate::cmd::resources::{
    counts_text, file_table, image_name, image_table, list_files, list_images, list_packages,
    list_repositories, list_tags, list_versions, package_table, plan_output, report_table,
    repository_table, tag_table, version_table,
};
use crate::cmd::sample;
use crate::output::{Out, bytes};
use crate::progress::Bar;

/// The size of the generated image's data file.
const SAMPLE_BYTES: usize = 8 << 20;

/// Seconds from a push to the end of the emulator's scan in the demo.
const SCAN_DELAY_SECONDS: u64 = 1;

/// The policies the demo evaluates: delete what is older than 30 days, keep
/// what is tagged `stable`, and always keep the newest version of each package.
const DEMO_POLICIES: &str = r#"[
  {"name": "delete-older-than-30d", "action": {"type": "Delete"}, "condition": {"olderThan": "30d"}},
  {"name": "keep-stable", "action": {"type": "Keep"}, "condition": {"tagState": "tagged", "tagPrefixes": ["stable"]}},
  {"name": "keep-newest", "action": {"type": "Keep"}, "mostRecentVersions": {"keepCount": 1}}
]"#;

struct Tour<'a> {
    out: &'a Out,
    step: usize,
    started: Instant,
    progress: bool,
    dir: PathBuf,
}

impl Tour<'_> {
    fn step(&mut self, title: &str, command: &str) {
        self.step += 1;
        self.out.say("");
        self.out.say(&format!("== {}. {title}", self.step));
        self.out.say(&format!("   $ {command}"));
    }
}

/// Runs the tour.
pub async fn run(args: DemoArgs, g: &Global, out: &Out) -> gar::Result<()> {
    if out.is_json() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the demo is a tour for people: run it without --output json",
        ));
    }
    let dir = std::env::temp_dir().join(format!("gar-demo-{}", std::process::id()));
    let mut tour = Tour {
        out,
        step: 0,
        started: Instant::now(),
        progress: !g.no_progress,
        dir: dir.clone(),
    };
    // The demo seed, with the scan of a pushed image finishing a second later.
    let mut demo_seed = Seed::demo();
    if let Some(a) = demo_seed.analysis.as_mut() {
        a.scan_delay_seconds = Some(SCAN_DELAY_SECONDS);
    }
    let emu = Emulator::builder()
        .seed(demo_seed)
        .start()
        .await
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start the emulator: {e}")))?;
    let project = seed::DEMO_PROJECT;
    let location = "us-central1";
    out.say(&format!(
        "gar demo: an Artifact Registry emulator is running in this process at {}",
        emu.url()
    ));
    out.say(&format!(
        "(project {project}, location {location}; every command below runs against it over loopback)"
    ));
    let host = emu.url().trim_start_matches("http://").to_owned();
    out.say(&format!(
        "To run the same commands yourself against `gar emulator serve`:\n  export ARTIFACT_REGISTRY_EMULATOR_HOST={host} ARTIFACT_REGISTRY_EMULATOR_TOKEN={token} GAR_PROJECT={project} GAR_LOCATION={location}",
        token = emu.token()
    ));
    let prefix = "gar";
    let mut builder = Client::builder()
        .emulator(emu.url())
        .project(project)
        .location(location)
        .credentials(Credentials::AccessToken(SecretString::new(emu.token())))
        .user_agent(format!("gar-demo/{}", env!("CARGO_PKG_VERSION")));
    if g.no_retry {
        builder = builder.retry(None);
    }
    let client = builder.build().await?;

    let result = tour_steps(&mut tour, &client, prefix).await;
    match &result {
        Ok(()) => {
            out.say("");
            out.say(&format!(
                "Done in {:.1} s. Try it yourself: start `gar emulator serve`, export what it prints, and run the commands above.",
                tour.started.elapsed().as_secs_f64()
            ));
        }
        Err(_) => out.say("\nThe tour stopped on an error:"),
    }
    if result.is_ok() && args.keep {
        out.say(&format!(
            "\nThe emulator stays up at {} (token {}); Ctrl-C stops it.",
            emu.url(),
            emu.token()
        ));
        crate::cmd::emulator::wait_for_signal().await;
    }
    emu.shutdown().await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

async fn tour_steps(tour: &mut Tour<'_>, client: &Client, prefix: &str) -> gar::Result<()> {
    let out = tour.out;
    let image = client.image("docker/demo-app:v1")?;

    tour.step(
        "Push a generated image",
        &format!("{prefix} images push ./demo-layout docker/demo-app:v1"),
    );
    let sample = sample::generate(&tour.dir.join("layout"), "v1", SAMPLE_BYTES).await?;
    out.say(&format!(
        "generated an OCI image layout: a {} tar layer and a linux/amd64 config labelled {}={}",
        bytes(i64::try_from(sample.layer.len()).unwrap_or(i64::MAX)),
        sample::PACKAGES_LABEL,
        sample::PACKAGES
    ));
    let bar = Bar::new("push docker/demo-app:v1", tour.progress);
    let pushed = client
        .push_image(&sample.layout, &image)?
        .with_progress(bar.callback())
        .send()
        .await;
    bar.finish();
    let pushed = pushed?;
    let reference = client
        .image_reference(&image)?
        .with_digest(pushed.digest.clone())
        .to_string();
    out.say(&transfer_text("pushed", &reference, &pushed));

    tour.step(
        "Repositories of every format",
        &format!("{prefix} repos list"),
    );
    let repos = list_repositories(client).await?;
    repository_table(&repos).print();

    for (repo, package) in [
        ("docker", "demo-app"),
        ("generic", "demo-bundle"),
        ("npm", "@demo/widgets"),
        ("maven", "com.example:demo-app"),
    ] {
        tour.step(
            &format!("Packages, versions and tags of the {repo} repository"),
            &format!(
                "{prefix} packages list {repo}; {prefix} versions list {repo} {package}; {prefix} tags list {repo} {package}"
            ),
        );
        let packages = list_packages(client, repo).await?;
        package_table(&packages).print();
        let versions = list_versions(client, repo, package).await?;
        version_table(&versions).print();
        let tags = list_tags(client, repo, package).await?;
        if !tags.is_empty() {
            tag_table(&tags).print();
        }
    }

    tour.step(
        "Files, and a download checked against its SHA-256",
        &format!(
            "{prefix} files list generic; {prefix} files download generic demo-bundle:2.0.0:README.txt -O -"
        ),
    );
    let files = list_files(client, "generic").await?;
    file_table(&files).print();
    let download = client
        .files("generic")?
        .download("demo-bundle:2.0.0:README.txt")?
        .send()
        .await?;
    let mut content = Vec::new();
    let n = download.write_to(&mut content).await?;
    out.say(&format!(
        "downloaded {} and verified its SHA-256: {:?}",
        bytes(i64::try_from(n).unwrap_or(i64::MAX)),
        String::from_utf8_lossy(&content).trim_end()
    ));

    tour.step("Docker images", &format!("{prefix} images list docker"));
    let images = list_images(client, "docker").await?;
    image_table(&images).print();

    tour.step(
        "Inspect the manifest",
        &format!("{prefix} manifest get docker/demo-app:v1"),
    );
    let manifest = client.oci(&image)?.get_manifest("v1").send().await?;
    out.say(&format!(
        "{} ({}, {} bytes, digest verified)",
        manifest.digest(),
        manifest.media_type(),
        manifest.raw().len()
    ));
    if let Some(m) = manifest.as_image() {
        out.say(&format!(
            "  config {} ({} B)",
            m.config.digest, m.config.size
        ));
        for l in &m.layers {
            out.say(&format!(
                "  layer  {} ({}, {})",
                l.digest,
                bytes(i64::try_from(l.size).unwrap_or(i64::MAX)),
                l.media_type
            ));
        }
    }

    tour.step(
        "Pull it back and verify the blob",
        &format!("{prefix} images pull docker/demo-app:v1 ./pulled"),
    );
    pull_and_verify(tour, client, &image, &sample).await?;

    tour.step(
        "The vulnerability report (the emulator scans each push)",
        &format!("{prefix} vulns docker/demo-app:v1 --wait 30"),
    );
    let name = client.resolve_image(&image).await?;
    let report = client
        .vulnerabilities()?
        .wait_for_analysis(&name)
        .with_poll_interval(Duration::from_millis(200))
        .with_deadline(Duration::from_secs(30))
        .send()
        .await?;
    out.say(&format!(
        "{} (scan: {})",
        report.resource_uri,
        report
            .scan
            .map(|s| format!("{:?}", s.status).to_ascii_lowercase())
            .unwrap_or_else(|| "not scanned".into())
    ));
    report_table(&report).print();

    tour.step(
        "Images with their vulnerability counts",
        &format!("{prefix} images list docker --vulns"),
    );
    let rows = client.image_report("docker")?.send().await?;
    for r in &rows {
        out.say(&format!(
            "{:<10} {:<8} {:>9}  {}",
            image_name(&r.image),
            r.image.tags.join(","),
            bytes(r.image.image_size_bytes),
            match &r.vulnerabilities {
                Ok(c) => counts_text(c),
                Err(e) => format!("unavailable: {e}"),
            }
        ));
    }

    tour.step(
        "Cleanup dry run: what policies would delete, and why (nothing is deleted)",
        &format!("{prefix} cleanup dry-run maven --policy policy.json"),
    );
    out.say(&format!(
        "policy.json: {}",
        DEMO_POLICIES
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let policies = CleanupPolicies::from_gcloud_json(DEMO_POLICIES)?;
    for repo in ["maven", "npm", "generic"] {
        let plan = client
            .cleanup(repo)?
            .set_policies(policies.clone())
            .report()
            .await?;
        out.say(&format!("-- {repo}"));
        plan_output(&plan).1.print();
    }
    Ok(())
}

async fn pull_and_verify(
    tour: &Tour<'_>,
    client: &Client,
    image: &gar::ImageName,
    sample: &sample::Sample,
) -> gar::Result<()> {
    let out = tour.out;
    let pulled = Layout::create(tour.dir.join("pulled")).await?;
    let bar = Bar::new("pull docker/demo-app:v1", tour.progress);
    let result = client
        .pull_image(image, &pulled)?
        .with_progress(bar.callback())
        .send()
        .await;
    bar.finish();
    let report = result?;
    out.say(&transfer_text(
        "pulled",
        &client.image_reference(image)?.to_string(),
        &report,
    ));
    let digest = &sample.layer_descriptor.digest;
    let back = pulled.read_blob(digest).await?;
    let same = back == sample.layer;
    out.say(&format!(
        "layer {digest}: {} downloaded, digest checked while streaming; {}",
        bytes(i64::try_from(back.len()).unwrap_or(i64::MAX)),
        if same {
            "byte-identical to the generated layer"
        } else {
            "DIFFERENT from the generated layer"
        }
    ));
    if !same || report.digest != *sample.manifest.digest() {
        return Err(Error::new(
            ErrorKind::BlobDigestMismatch,
            "the pulled image differs from the pushed one",
        ));
    }
    Ok(())
}
