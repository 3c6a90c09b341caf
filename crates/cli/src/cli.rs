//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// gar: Google Artifact Registry from the command line — repositories,
/// packages, versions, tags, files, docker images, vulnerabilities and cleanup,
/// against Google or the local emulator.
#[derive(Debug, Parser)]
#[command(name = "gar", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Options every command shares.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares.
#[derive(Debug, Args)]
pub struct Global {
    /// The default project.
    #[arg(long, short = 'p', global = true, env = "GAR_PROJECT")]
    pub project: Option<String>,

    /// The default location (us-central1, europe, ...).
    #[arg(long, short = 'l', global = true, env = "GAR_LOCATION")]
    pub location: Option<String>,

    /// Send every call to an emulator at this address (also read from
    /// ARTIFACT_REGISTRY_EMULATOR_HOST).
    #[arg(long, global = true, value_name = "URL")]
    pub emulator: Option<String>,

    /// A credentials file (service-account key, authorized_user, ...) instead of
    /// Application Default Credentials.
    #[arg(long, global = true, value_name = "FILE")]
    pub credentials: Option<PathBuf>,

    /// A fixed access token instead of Application Default Credentials.
    #[arg(long, global = true, env = "GAR_ACCESS_TOKEN", hide_env_values = true)]
    pub access_token: Option<String>,

    /// Call without credentials.
    #[arg(long, global = true, conflicts_with_all = ["credentials", "access_token"])]
    pub anonymous: bool,

    /// How results are printed: a table for people, JSON for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Record every HTTP exchange to this cassette (tokens are scrubbed).
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,

    /// Answer from this cassette instead of the network.
    #[arg(long, global = true, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// Read from the first of these locations (comma-separated, in order) that is
    /// available: a read fails over past a location that is unreachable, down or
    /// over quota. For reads only.
    #[arg(long, global = true, value_delimiter = ',', value_name = "LOCATIONS")]
    pub replicas: Vec<String>,

    /// Container Analysis over REST instead of gRPC.
    #[arg(long, global = true)]
    pub analysis_rest: bool,

    /// Do not retry failed calls.
    #[arg(long, global = true)]
    pub no_retry: bool,

    /// Never draw progress bars (they are drawn only on a terminal anyway).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns.
    Table,
    /// JSON documents whose shape is stable across releases.
    Json,
}

/// The commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Repositories of a project and location (or of several locations).
    #[command(subcommand, alias = "repositories")]
    Repos(ReposCmd),
    /// Packages of a repository.
    #[command(subcommand)]
    Packages(PackagesCmd),
    /// Versions of a package.
    #[command(subcommand)]
    Versions(VersionsCmd),
    /// Tags of a package.
    #[command(subcommand)]
    Tags(TagsCmd),
    /// Files of a repository.
    #[command(subcommand)]
    Files(FilesCmd),
    /// Docker images.
    #[command(subcommand)]
    Images(ImagesCmd),
    /// Image manifests, verified against their digest.
    #[command(subcommand)]
    Manifest(ManifestCmd),
    /// Image blobs (layers, configs), verified as they download.
    #[command(subcommand)]
    Blob(BlobCmd),
    /// The vulnerability report of an image.
    Vulns(VulnsArgs),
    /// Cleanup policies: what they would delete, or deleting it.
    #[command(subcommand)]
    Cleanup(CleanupCmd),
    /// The local emulator of Artifact Registry, the docker registry and Container Analysis.
    #[command(subcommand)]
    Emulator(EmulatorCmd),
    /// Credentials for other tools.
    #[command(subcommand)]
    Auth(AuthCmd),
    /// Prints a shell completion script.
    Completions(CompletionsArgs),
    /// A guided tour against an in-process emulator (no account needed).
    Demo(DemoArgs),
}

/// `gar repos ...`
#[derive(Debug, Clone, Subcommand)]
pub enum ReposCmd {
    /// Lists repositories; with --locations, of several locations at once.
    List {
        /// Locations to list concurrently (comma-separated); unreachable ones are named.
        #[arg(long, value_delimiter = ',', value_name = "LOCATIONS")]
        locations: Vec<String>,
    },
    /// Shows one repository.
    Get {
        /// Repository id or full name.
        repository: String,
    },
    /// Creates a repository.
    Create {
        /// Repository id.
        repository: String,
        /// Its format.
        #[arg(long, value_enum)]
        format: FormatArg,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Deletes a repository and everything in it.
    Delete {
        /// Repository id or full name.
        repository: String,
    },
}

/// Repository formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Docker / OCI images.
    Docker,
    /// Maven.
    Maven,
    /// npm.
    Npm,
    /// Python.
    Python,
    /// Apt.
    Apt,
    /// Yum.
    Yum,
    /// Go modules.
    Go,
    /// Generic files.
    Generic,
    /// Kubeflow pipelines.
    Kfp,
    /// Ruby gems.
    Ruby,
}

/// A package: the repository that holds it and its name.
#[derive(Debug, Clone, Args)]
pub struct PackageArgs {
    /// Repository id or full name.
    pub repository: String,
    /// Package name.
    pub package: String,
}

/// `gar packages ...`
#[derive(Debug, Clone, Subcommand)]
pub enum PackagesCmd {
    /// Lists the packages of a repository.
    List {
        /// Repository id or full name.
        repository: String,
    },
    /// Shows one package.
    Get {
        #[command(flatten)]
        package: PackageArgs,
    },
    /// Deletes a package with its versions, tags and files.
    Delete {
        #[command(flatten)]
        package: PackageArgs,
    },
}

/// `gar versions ...`
#[derive(Debug, Clone, Subcommand)]
pub enum VersionsCmd {
    /// Lists the versions of a package, with their tags.
    List {
        #[command(flatten)]
        package: PackageArgs,
    },
    /// Shows one version.
    Get {
        #[command(flatten)]
        package: PackageArgs,
        /// Version id.
        #[arg(value_name = "VERSION")]
        version_id: String,
    },
    /// Deletes a version.
    Delete {
        #[command(flatten)]
        package: PackageArgs,
        /// Version id.
        #[arg(value_name = "VERSION")]
        version_id: String,
        /// Delete a tagged version too, with its tags.
        #[arg(long)]
        force: bool,
    },
}

/// `gar tags ...`
#[derive(Debug, Clone, Subcommand)]
pub enum TagsCmd {
    /// Lists the tags of a package.
    List {
        #[command(flatten)]
        package: PackageArgs,
    },
    /// Shows one tag.
    Get {
        #[command(flatten)]
        package: PackageArgs,
        /// Tag.
        tag: String,
    },
    /// Creates a tag pointing at a version.
    Create {
        #[command(flatten)]
        package: PackageArgs,
        /// Tag.
        tag: String,
        /// Version id.
        #[arg(value_name = "VERSION")]
        version_id: String,
    },
    /// Moves a tag to another version.
    Update {
        #[command(flatten)]
        package: PackageArgs,
        /// Tag.
        tag: String,
        /// Version id.
        #[arg(value_name = "VERSION")]
        version_id: String,
    },
    /// Deletes a tag (the version stays).
    Delete {
        #[command(flatten)]
        package: PackageArgs,
        /// Tag.
        tag: String,
    },
}

/// `gar files ...`
#[derive(Debug, Clone, Subcommand)]
pub enum FilesCmd {
    /// Lists the files of a repository.
    List {
        /// Repository id or full name.
        repository: String,
    },
    /// Shows one file's metadata.
    Get {
        /// Repository id or full name.
        repository: String,
        /// File id.
        file: String,
    },
    /// Downloads a file, checked against its SHA-256.
    Download {
        /// Repository id or full name.
        repository: String,
        /// File id.
        file: String,
        /// Where to write it (`-` for standard output; default: the file's base name).
        #[arg(long, short = 'O')]
        out: Option<PathBuf>,
    },
    /// Deletes a file.
    Delete {
        /// Repository id or full name.
        repository: String,
        /// File id.
        file: String,
    },
}

/// `gar images ...`
#[derive(Debug, Clone, Subcommand)]
pub enum ImagesCmd {
    /// Lists the images of a docker repository with tags, size, upload time and
    /// (with --vulns) vulnerability counts.
    List {
        /// Repository id or full name.
        repository: String,
        /// Add each image's vulnerability counts.
        #[arg(long)]
        vulns: bool,
        /// Images read at once with --vulns.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Pushes the image of an OCI image layout directory.
    Push {
        /// The OCI image layout directory.
        layout: PathBuf,
        /// Where to: `repo/image:tag` or a full reference.
        image: String,
        /// The layout entry to push (its `org.opencontainers.image.ref.name`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Pulls an image into an OCI image layout directory (created if needed).
    Pull {
        /// `repo/image:tag`, `repo/image@sha256:...`, or a full reference.
        image: String,
        /// The OCI image layout directory.
        layout: PathBuf,
        /// Only this platform of an index (`linux/amd64`).
        #[arg(long)]
        platform: Option<String>,
    },
    /// Copies an image (every platform) to another repository, location or project.
    Copy {
        /// The source image.
        source: String,
        /// The target image (its tag, if any, is set).
        target: String,
    },
    /// Shows an image: metadata, platforms and vulnerability counts.
    Inspect {
        /// `repo/image:tag`, `repo/image@sha256:...`, or a full reference.
        image: String,
    },
    /// Deletes an image (every tag pointing at it too).
    Delete {
        /// `repo/image:tag`, `repo/image@sha256:...`, or a full reference.
        image: String,
    },
}

/// `gar manifest ...`
#[derive(Debug, Clone, Subcommand)]
pub enum ManifestCmd {
    /// Prints an image's manifest (its exact bytes with --raw).
    Get {
        /// `repo/image:tag`, `repo/image@sha256:...`, or a full reference.
        image: String,
        /// Print the manifest's bytes as the registry serves them.
        #[arg(long)]
        raw: bool,
    },
}

/// `gar blob ...`
#[derive(Debug, Clone, Subcommand)]
pub enum BlobCmd {
    /// Downloads a blob of an image's repository, checked against its digest.
    Get {
        /// The image whose repository holds the blob (`repo/image`).
        image: String,
        /// The blob's digest.
        digest: String,
        /// Where to write it (`-` for standard output; default: the digest's hex).
        #[arg(long, short = 'O')]
        out: Option<PathBuf>,
    },
}

/// `gar vulns IMAGE`
#[derive(Debug, Clone, Args)]
pub struct VulnsArgs {
    /// `repo/image:tag`, `repo/image@sha256:...`, or a full reference.
    pub image: String,
    /// Wait until the analysis of the image has finished (at most this many seconds).
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
}

/// `gar cleanup ...`
#[derive(Debug, Clone, Subcommand)]
pub enum CleanupCmd {
    /// Reports what the cleanup policies would delete and keep, and why; deletes nothing.
    DryRun(CleanupArgs),
    /// Deletes what the cleanup policies delete.
    Apply(CleanupApplyArgs),
}

/// The policies a cleanup evaluates.
#[derive(Debug, Clone, Args)]
pub struct CleanupArgs {
    /// Repository id or full name.
    pub repository: String,
    /// A policy file (gcloud's shape or the API's) instead of the repository's own policies.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// `gar cleanup apply`
#[derive(Debug, Clone, Args)]
pub struct CleanupApplyArgs {
    /// The repository and policies.
    #[command(flatten)]
    pub cleanup: CleanupArgs,
    /// Delete even though the repository is in cleanup dry-run mode.
    #[arg(long)]
    pub force: bool,
}

/// `gar emulator ...`
#[derive(Debug, Clone, Subcommand)]
pub enum EmulatorCmd {
    /// Runs the emulator until interrupted; prints one JSON line when ready.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// A JSON seed file, or `demo` for the built-in demo seed.
        #[arg(long, default_value = "demo")]
        seed: String,
        /// Keep state in this directory across restarts.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Refuse chunked uploads as Artifact Registry does.
        #[arg(long)]
        gar_quirks: bool,
        /// Let anonymous callers pull.
        #[arg(long)]
        allow_anonymous_read: bool,
    },
}

/// `gar auth ...`
#[derive(Debug, Clone, Subcommand)]
pub enum AuthCmd {
    /// The Docker credential-helper protocol (`get`, `store`, `erase`, `list`), as
    /// `docker-credential-gar` too.
    DockerHelper {
        /// The helper action.
        action: String,
    },
    /// Prints the current access token.
    PrintAccessToken,
}

/// `gar completions SHELL`
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `gar demo`
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Keep the emulator running after the tour, until interrupted.
    #[arg(long)]
    pub keep: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
