//! `gar demo`: a guided tour against an emulator started in this process with
//! the demo seed. Every line it prints comes from a real call over loopback.

use std::time::Instant;

use futures_util::TryStreamExt;
use gar::model::{Repository, Version, VersionView};
use gar::{Client, Credentials, Error, ErrorKind, SecretString};
use gar_core::cleanup::CleanupPolicies;
use gar_emulator::{Emulator, Seed, seed};

use crate::cli::{DemoArgs, Global};
use crate::cmd::resources::{
    counts_text, file_table, image_table, package_table, plan_output, repository_table, tag_table,
    version_table,
};
use crate::output::{Out, bytes};

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
    let mut tour = Tour {
        out,
        step: 0,
        started: Instant::now(),
    };
    let emu = Emulator::builder()
        .seed(Seed::demo())
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
    result
}

async fn tour_steps(tour: &mut Tour<'_>, client: &Client, prefix: &str) -> gar::Result<()> {
    let out = tour.out;

    tour.step(
        "Repositories of every format",
        &format!("{prefix} repos list"),
    );
    let repos: Vec<Repository> = client
        .repositories()?
        .list()
        .by_item()
        .try_collect()
        .await?;
    repository_table(&repos).print();

    for (repo, package) in [
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
        let packages: Vec<_> = client
            .packages(repo)?
            .list()
            .by_item()
            .try_collect()
            .await?;
        package_table(&packages).print();
        let versions: Vec<Version> = client
            .versions(repo, package)?
            .list()
            .set_view(VersionView::Full)
            .set_order_by("create_time desc")
            .by_item()
            .try_collect()
            .await?;
        version_table(&versions).print();
        let tags: Vec<_> = client
            .tags(repo, package)?
            .list()
            .by_item()
            .try_collect()
            .await?;
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
    let files: Vec<_> = client
        .files("generic")?
        .list()
        .by_item()
        .try_collect()
        .await?;
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
    let images: Vec<_> = client
        .docker_images("docker")?
        .list()
        .set_order_by("upload_time desc")
        .by_item()
        .try_collect()
        .await?;
    image_table(&images).print();

    tour.step(
        "Inspect an image: metadata and vulnerability counts",
        &format!("{prefix} images inspect docker/hello:latest"),
    );
    let hello = client.image("docker/hello:latest")?;
    let details = client.inspect_image(&hello).await?;
    out.say(&format!(
        "{}\n  digest {}\n  tags {}\n  size {}, {}\n  vulnerabilities: {}",
        client.image_reference(&hello)?,
        details.name.digest(),
        details.image.tags.join(","),
        bytes(details.image.image_size_bytes),
        details.image.media_type,
        match &details.vulnerabilities {
            Ok(c) => counts_text(c),
            Err(e) => format!("unavailable: {e}"),
        }
    ));

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
