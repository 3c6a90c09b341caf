/**
 * The client: one object per configuration, sharing connections, retries,
 * circuit breakers and credentials across every area, as the Rust `gar::Client`
 * does (it is that client underneath).
 */
import { Readable } from 'node:stream';

import { Emulator } from './emulator.js';
import { GarError, abortedError, toGarError } from './errors.js';
import { type Native, native } from './native.js';
import { type CallOptions, type Page, Paged, call, decode, run } from './run.js';
import type {
  BatchDeleteResult,
  CleanupApplied,
  CleanupPlan,
  CleanupPolicies,
  DockerImage,
  File,
  Format,
  ImageReportRow,
  Mode,
  Note,
  Occurrence,
  Package,
  Repository,
  ResourceCounts,
  SbomReference,
  Tag,
  Version,
  VersionView,
  VulnerabilityReport,
  VulnerabilitySummary,
} from './types.js';

/** Where credentials come from. */
export type Credentials =
  /** Application Default Credentials (the default): `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's file, the metadata server. */
  | { type: 'applicationDefault' }
  /** A credentials file (service-account key, authorized user, external account, impersonation). */
  | { type: 'file'; path: string }
  /** The JSON text of a credentials file. */
  | { type: 'json'; json: string }
  /** A fixed access token (not refreshed). */
  | { type: 'accessToken'; token: string }
  /** No credentials (anonymous reads, where allowed). */
  | { type: 'anonymous' };

/** How to build a client. */
export interface ClientOptions {
  /** The default project. */
  project?: string;
  /** The default location (`us-central1`). */
  location?: string;
  /**
   * Send every surface to an emulator: its URL, or an {@link Emulator} (whose
   * token then becomes the credentials unless `credentials` says otherwise).
   * Without it, `ARTIFACT_REGISTRY_EMULATOR_HOST` does the same.
   */
  emulator?: string | Emulator;
  /** Credentials; Application Default Credentials when absent. */
  credentials?: Credentials;
  /** `false` turns retries off (they follow gar's table by error kind otherwise). */
  retry?: boolean;
  /** Connect timeout in milliseconds. */
  connectTimeoutMs?: number;
  /** Timeout of each request until its response head, in milliseconds (60 s by default; 0 for none). */
  requestTimeoutMs?: number;
  /** Blob transfers at once. */
  concurrency?: { uploads?: number; downloads?: number };
  /** A product token naming your tool (`my-tool/1.2`). */
  userAgent?: string;
  /** Record every exchange; {@link Client.saveRecording} writes the cassette to this path. */
  record?: string;
  /** Answer every call from this cassette, without a network. */
  replay?: string;
  /** Environment variables to read instead of `process.env`. */
  env?: Record<string, string>;
  /** Container Analysis over `'grpc'` (the default) or `'rest'` (for networks that let no gRPC through). */
  analysisProtocol?: 'grpc' | 'rest';
  /** Use the regional Artifact Registry API hosts (`us-central1-artifactregistry.googleapis.com`). */
  regionalEndpoints?: boolean;
}

/** Options of a list. */
export interface ListOptions extends CallOptions {
  /** Items per page. */
  pageSize?: number;
  /** Resume from this page token. */
  pageToken?: string;
}

/** Options of a list that can be filtered. */
export interface FilterOptions {
  /** A filter such as `name="projects/p/locations/l/repositories/*"`, with `AND`/`OR`. */
  filter?: string;
}

/** Options of a list that can be ordered. */
export interface OrderOptions {
  /** The order: `create_time desc`, `name`, ... */
  orderBy?: string;
}

/** Repository settings for creation and update. */
export interface RepositoryFields {
  description?: string;
  labels?: Record<string, string>;
  cleanupPolicies?: CleanupPolicies;
  cleanupPolicyDryRun?: boolean;
  /** Docker repositories: tags cannot be moved once set. */
  immutableTags?: boolean;
}

/** Progress of a transfer. */
export interface Progress {
  /** Bytes transferred so far (of the whole operation). */
  bytes: number;
  /** The total, when known. */
  total: number | null;
  /** Image transfers: the blob that moved. */
  digest?: string;
  /** Image transfers: bytes of that blob so far. */
  blobBytes?: number;
  /** Image transfers: that blob's size. */
  blobTotal?: number;
}

/** Options of a transfer. */
export interface TransferOptions extends CallOptions {
  /** Called as bytes flow (from the Rust side, never blocking it); exceptions it throws are ignored. */
  onProgress?: (progress: Progress) => void;
  /** The SHA-256 the content must have (hex, `sha256:` optional); the file's listed hash by default. */
  expectedSha256?: string;
}

const NATIVE = Symbol('gar.native');

/** Wraps a user's progress callback so that an exception it throws cannot escape (into the addon or the stream). */
function guarded(f: ((p: Progress) => void) | undefined): ((p: Progress) => void) | undefined {
  if (f === undefined) return undefined;
  return (p) => {
    try {
      f(p);
    } catch {
      // A progress callback must not break the transfer.
    }
  };
}

/** The same, as the native callback. */
function nativeProgress(f: ((p: Progress) => void) | undefined): ((p: Native.Progress) => void) | undefined {
  const g = guarded(f);
  if (g === undefined) return undefined;
  return (p) => {
    const out: Progress = { bytes: p.bytes, total: p.total ?? null };
    if (p.digest != null) {
      out.digest = p.digest;
      out.blobBytes = p.blobBytes ?? 0;
      out.blobTotal = p.blobTotal ?? 0;
    }
    g(out);
  };
}

function nativeOptions(o: ClientOptions): Native.ClientOptions {
  let emulator: string | undefined;
  let credentials: Native.CredentialsOptions | undefined;
  if (o.emulator instanceof Emulator) {
    emulator = o.emulator.url;
    credentials = { kind: 'accessToken', value: o.emulator.token };
  } else {
    emulator = o.emulator;
  }
  if (o.credentials !== undefined) {
    const c = o.credentials;
    switch (c.type) {
      case 'file':
        credentials = { kind: 'file', value: c.path };
        break;
      case 'json':
        credentials = { kind: 'json', value: c.json };
        break;
      case 'accessToken':
        credentials = { kind: 'accessToken', value: c.token };
        break;
      default:
        credentials = { kind: c.type };
    }
  }
  return {
    project: o.project,
    location: o.location,
    emulator,
    credentials,
    retry: o.retry,
    connectTimeoutMs: o.connectTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
    concurrency: o.concurrency,
    userAgent: o.userAgent,
    record: o.record,
    replay: o.replay,
    env: o.env,
    analysisProtocol: o.analysisProtocol,
    regionalEndpoints: o.regionalEndpoints,
  };
}

/**
 * A gar client.
 *
 * ```ts
 * const client = new Client({ project: 'my-project', location: 'us-central1' });
 * for await (const v of client.versions.list('docker', 'team/app', { orderBy: 'create_time desc' })) {
 *   console.log(v.name);
 * }
 * ```
 *
 * The constructor returns at once; the configuration is checked and credentials
 * are found on the first call (or {@link Client.ready}), whose promise then
 * rejects with the `GarError` saying what is wrong.
 */
export class Client {
  readonly #native: Promise<Native.NativeClient>;
  #resolved: Native.NativeClient | undefined;

  /** Repositories of the default project and location. */
  readonly repositories: Repositories;
  /** Packages of a repository. */
  readonly packages: Packages;
  /** Versions of a package. */
  readonly versions: Versions;
  /** Tags of a package. */
  readonly tags: Tags;
  /** Files of a repository. */
  readonly files: Files;
  /** Docker images of a repository, as the Artifact Registry API lists them. */
  readonly dockerImages: DockerImages;
  /** Cleanup policies: dry-run reports and application. */
  readonly cleanup: Cleanup;
  /** Vulnerabilities (Container Analysis). */
  readonly vulnerabilities: Vulnerabilities;
  /** Docker images named as people type them (`docker/team/app:1.0`). */
  readonly images: Images;

  /** A client for `options`. */
  constructor(options?: ClientOptions);
  /** @internal */
  constructor(options: ClientOptions, from: Promise<Native.NativeClient>);
  constructor(options: ClientOptions = {}, from?: Promise<Native.NativeClient>) {
    this.#native =
      from ??
      native.connect(nativeOptions(options)).catch((e: unknown) => {
        throw toGarError(e);
      });
    // Failure is reported by the calls that await it; do not leave it unhandled meanwhile.
    this.#native.then(
      (n) => {
        this.#resolved = n;
      },
      () => undefined,
    );
    this.repositories = new Repositories(this);
    this.packages = new Packages(this);
    this.versions = new Versions(this);
    this.tags = new Tags(this);
    this.files = new Files(this);
    this.dockerImages = new DockerImages(this);
    this.cleanup = new Cleanup(this);
    this.vulnerabilities = new Vulnerabilities(this);
    this.images = new Images(this);
  }

  /**
   * Several locations of the default project at once, in order of preference:
   * listings that name the locations that did not answer, and reads that fail
   * over to the next location when one is unavailable.
   */
  locations(locations: string[]): Locations {
    return new Locations(this, locations);
  }

  /** Builds a client and waits until it is ready (rejects on bad options or credentials). */
  static async connect(options: ClientOptions = {}): Promise<Client> {
    const c = new Client(options);
    await c.ready();
    return c;
  }

  /** Resolves once the configuration is checked and credentials are found. */
  async ready(): Promise<void> {
    await this.#native;
  }

  /** @internal */
  [NATIVE](): Promise<Native.NativeClient> {
    return this.#native;
  }

  /** The default project (once ready), as the Rust client normalised it. */
  get project(): string | undefined {
    return this.#resolved?.project ?? undefined;
  }

  /** The default location (once ready). */
  get location(): string | undefined {
    return this.#resolved?.location ?? undefined;
  }

  /** The same client (connections, credentials, breakers shared) with another default project. */
  withProject(project: string): Client {
    return new Client({}, this.#native.then((n) => call(() => n.withProject(project))));
  }

  /** The same client with another default location. */
  withLocation(location: string): Client {
    return new Client({}, this.#native.then((n) => call(() => n.withLocation(location))));
  }

  /** The current access token (fetched or refreshed as needed). */
  async accessToken(options: CallOptions = {}): Promise<string> {
    const n = await this.#native;
    return run<string>(() => n.accessToken(), options.signal);
  }

  /** Writes what was recorded so far to the `record` cassette; returns its path. */
  async saveRecording(): Promise<string> {
    const n = await this.#native;
    return call(() => n.saveRecording());
  }
}

/** The native client of `c`. */
function nativeOf(c: Client): Promise<Native.NativeClient> {
  return c[NATIVE]();
}

/** Runs a native task-returning call on the ready client. */
async function task<T>(c: Client, f: (n: Native.NativeClient) => Native.Task, o?: CallOptions): Promise<T> {
  const n = await nativeOf(c);
  return run<T>(() => f(n), o?.signal);
}

/** A list on the ready client. */
function paged<T>(
  c: Client,
  f: (n: Native.NativeClient, pageToken: string | undefined) => Native.Task,
  o?: CallOptions & { pageToken?: string },
): Paged<T> {
  return new Paged<T>(
    async (pageToken, signal) => {
      const n = await nativeOf(c);
      return run<Page<T> | null>(() => f(n, pageToken), signal);
    },
    o?.pageToken,
    o?.signal,
  );
}

function listOptions(
  o: ListOptions & FilterOptions & OrderOptions & { view?: VersionView },
): Native.ListOptions | undefined {
  const { pageSize, pageToken, filter, orderBy, view } = o;
  // None set (the usual case): nothing for the addon to read.
  if (pageSize === undefined && pageToken === undefined && filter === undefined && orderBy === undefined && view === undefined) {
    return undefined;
  }
  return { pageSize, pageToken, filter, orderBy, view };
}

/** Repositories of the default project and location. Ids are short (`docker`) or full names. */
export class Repositories {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** Lists them. */
  list(options: ListOptions & FilterOptions & OrderOptions = {}): Paged<Repository> {
    return paged(this.client, (n, pageToken) => n.repositoriesList(listOptions({ ...options, pageToken })), options);
  }

  /** Reads one. */
  get(repository: string, options: CallOptions = {}): Promise<Repository> {
    return task(this.client, (n) => n.repositoriesGet(repository), options);
  }

  /** Creates one and waits until it exists. */
  create(
    repository: string,
    format: Format,
    options: RepositoryFields & CallOptions & { mode?: Mode } = {},
  ): Promise<Repository> {
    return task(this.client, (n) => n.repositoriesCreate(repository, format, fields(options)), options);
  }

  /** Changes one's description, labels, cleanup policies or tag immutability. */
  update(repository: string, changes: RepositoryFields, options: CallOptions = {}): Promise<Repository> {
    return task(this.client, (n) => n.repositoriesUpdate(repository, fields(changes)), options);
  }

  /** Deletes one with everything in it (waits until it is gone). */
  async delete(repository: string, options: CallOptions = {}): Promise<void> {
    await task(this.client, (n) => n.repositoriesDelete(repository), options);
  }

  /** Which of `permissions` the caller holds on one. */
  testIamPermissions(repository: string, permissions: string[], options: CallOptions = {}): Promise<string[]> {
    return task(this.client, (n) => n.repositoriesTestIamPermissions(repository, permissions), options);
  }
}

function fields(f: RepositoryFields & { mode?: Mode }): Native.RepositoryFields {
  return {
    mode: f.mode,
    description: f.description,
    labels: f.labels,
    cleanupPolicies: f.cleanupPolicies,
    cleanupPolicyDryRun: f.cleanupPolicyDryRun,
    immutableTags: f.immutableTags,
  };
}

/** Packages of a repository. */
export class Packages {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** Lists them. */
  list(repository: string, options: ListOptions & FilterOptions & OrderOptions = {}): Paged<Package> {
    return paged(this.client, (n, pageToken) => n.packagesList(repository, listOptions({ ...options, pageToken })), options);
  }

  /** Reads one. */
  get(repository: string, pkg: string, options: CallOptions = {}): Promise<Package> {
    return task(this.client, (n) => n.packagesGet(repository, pkg), options);
  }

  /** Deletes one with its versions, tags and files. */
  async delete(repository: string, pkg: string, options: CallOptions = {}): Promise<void> {
    await task(this.client, (n) => n.packagesDelete(repository, pkg), options);
  }
}

/** Versions of a package. */
export class Versions {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** Lists them (`view: 'FULL'` adds their tags). */
  list(
    repository: string,
    pkg: string,
    options: ListOptions & FilterOptions & OrderOptions & { view?: VersionView } = {},
  ): Paged<Version> {
    return paged(this.client, (n, pageToken) => n.versionsList(repository, pkg, listOptions({ ...options, pageToken })), options);
  }

  /** Reads one. */
  get(
    repository: string,
    pkg: string,
    version: string,
    options: CallOptions & { view?: VersionView } = {},
  ): Promise<Version> {
    return task(this.client, (n) => n.versionsGet(repository, pkg, version, options.view), options);
  }

  /** Deletes one; a tagged one only with `force`. */
  async delete(
    repository: string,
    pkg: string,
    version: string,
    options: CallOptions & { force?: boolean } = {},
  ): Promise<void> {
    await task(this.client, (n) => n.versionsDelete(repository, pkg, version, options.force), options);
  }

  /** Deletes several at once (`validateOnly` checks without deleting). */
  batchDelete(
    repository: string,
    pkg: string,
    versions: string[],
    options: CallOptions & { validateOnly?: boolean } = {},
  ): Promise<BatchDeleteResult> {
    return task(
      this.client,
      (n) => n.versionsBatchDelete(repository, pkg, versions, options.validateOnly),
      options,
    );
  }
}

/** Tags of a package. */
export class Tags {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** Lists them. */
  list(repository: string, pkg: string, options: ListOptions & FilterOptions = {}): Paged<Tag> {
    return paged(this.client, (n, pageToken) => n.tagsList(repository, pkg, listOptions({ ...options, pageToken })), options);
  }

  /** Reads one. */
  get(repository: string, pkg: string, tag: string, options: CallOptions = {}): Promise<Tag> {
    return task(this.client, (n) => n.tagsGet(repository, pkg, tag), options);
  }

  /** Creates `tag` on `version`. */
  create(repository: string, pkg: string, tag: string, version: string, options: CallOptions = {}): Promise<Tag> {
    return task(this.client, (n) => n.tagsCreate(repository, pkg, tag, version), options);
  }

  /** Moves `tag` to `version`. */
  update(repository: string, pkg: string, tag: string, version: string, options: CallOptions = {}): Promise<Tag> {
    return task(this.client, (n) => n.tagsUpdate(repository, pkg, tag, version), options);
  }

  /** Deletes a tag (the version stays). */
  async delete(repository: string, pkg: string, tag: string, options: CallOptions = {}): Promise<void> {
    await task(this.client, (n) => n.tagsDelete(repository, pkg, tag), options);
  }
}

/** Files of a repository. */
export class Files {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** Lists them. */
  list(repository: string, options: ListOptions & FilterOptions & OrderOptions = {}): Paged<File> {
    return paged(this.client, (n, pageToken) => n.filesList(repository, listOptions({ ...options, pageToken })), options);
  }

  /** Reads one's metadata. */
  get(repository: string, file: string, options: CallOptions = {}): Promise<File> {
    return task(this.client, (n) => n.filesGet(repository, file), options);
  }

  /**
   * Downloads one's content to `dest`, streamed inside Rust and verified against
   * its SHA-256 as it flows; on failure or abort nothing is left at `dest`.
   */
  download(
    repository: string,
    file: string,
    dest: string,
    options: TransferOptions = {},
  ): Promise<{ path: string; bytes: number }> {
    return task(
      this.client,
      (n) => n.filesDownload(repository, file, dest, options.expectedSha256, nativeProgress(options.onProgress)),
      options,
    );
  }

  /**
   * One's content as a Node `Readable` (verified as it flows: a mismatch ends
   * the stream with an error). Data arrives in pieces of up to 1 MiB, read only
   * as fast as the consumer takes them.
   */
  async read(repository: string, file: string, options: TransferOptions = {}): Promise<Readable> {
    const stream = await task<Native.ByteStream>(
      this.client,
      (n) => n.filesRead(repository, file, options.expectedSha256),
      options,
    );
    return byteReadable(stream, options);
  }

  /** Deletes one. */
  async delete(repository: string, file: string, options: CallOptions = {}): Promise<void> {
    await task(this.client, (n) => n.filesDelete(repository, file), options);
  }
}

/** Bytes as a Buffer, without copying. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A native byte stream as a Node `Readable`. */
function byteReadable(stream: Native.ByteStream, options: TransferOptions): Readable {
  const signal = options.signal;
  const onProgress = guarded(options.onProgress);
  async function* pieces(): AsyncGenerator<Buffer, void, undefined> {
    let bytes = 0;
    try {
      for (;;) {
        const piece = await run<Buffer | null>(() => stream.next(), signal);
        if (piece === null) return;
        bytes += piece.length;
        onProgress?.({ bytes, total: null });
        yield piece;
      }
    } finally {
      stream.close();
    }
  }
  return Readable.from(pieces(), { objectMode: false, highWaterMark: 1 });
}

/** Docker images of a repository, as the Artifact Registry API lists them. */
export class DockerImages {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** Lists them (`orderBy: 'upload_time desc'` for the newest first). */
  list(repository: string, options: ListOptions & OrderOptions = {}): Paged<DockerImage> {
    return paged(this.client, (n, pageToken) => n.dockerImagesList(repository, listOptions({ ...options, pageToken })), options);
  }

  /** Reads one: `team/app@sha256:...` or a full name. */
  get(repository: string, image: string, options: CallOptions = {}): Promise<DockerImage> {
    return task(this.client, (n) => n.dockerImagesGet(repository, image), options);
  }
}

/** Options of a cleanup evaluation. */
export interface CleanupOptions extends CallOptions {
  /** Policies to evaluate instead of the repository's own. */
  policies?: CleanupPolicies;
  /** The instant ages are measured against (RFC 3339 or a `Date`); now by default. */
  now?: string | Date;
}

/** Cleanup policies: what they would delete, and deleting it. */
export class Cleanup {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** What the policies would delete and keep, and why; deletes nothing. */
  report(repository: string, options: CleanupOptions = {}): Promise<CleanupPlan> {
    return task(this.client, (n) => n.cleanupReport(repository, cleanupOptions(options)), options);
  }

  /** Deletes what the policies select (`force` also deletes tagged versions). */
  apply(repository: string, options: CleanupOptions & { force?: boolean } = {}): Promise<CleanupApplied> {
    return task(
      this.client,
      (n) => n.cleanupApply(repository, { ...cleanupOptions(options), force: options.force }),
      options,
    );
  }
}

function cleanupOptions(o: CleanupOptions): Native.CleanupOptions {
  const now = o.now instanceof Date ? o.now.toISOString() : o.now;
  return { policies: o.policies, now };
}

/** Vulnerabilities from Container Analysis. Images are named `image@sha256:...` within a repository. */
export class Vulnerabilities {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** The report of one image: counts by severity, findings, scan status, SBOMs. */
  report(repository: string, image: string, options: CallOptions = {}): Promise<VulnerabilityReport> {
    return task(this.client, (n) => n.vulnerabilitiesReport(repository, image), options);
  }

  /** Waits until the analysis of a fresh push has finished, then gives its report. */
  waitForAnalysis(
    repository: string,
    image: string,
    options: CallOptions & { pollIntervalMs?: number; deadlineMs?: number } = {},
  ): Promise<VulnerabilityReport> {
    return task(
      this.client,
      (n) =>
        n.vulnerabilitiesWaitForAnalysis(repository, image, {
          pollIntervalMs: options.pollIntervalMs,
          deadlineMs: options.deadlineMs,
        }),
      options,
    );
  }

  /** Counts by resource and severity in the default project, or for one image. */
  summary(options: CallOptions & { repository?: string; image?: string } = {}): Promise<VulnerabilitySummary> {
    return task(this.client, (n) => n.vulnerabilitiesSummary(options.repository, options.image), options);
  }

  /** The SBOMs attached to an image. */
  sbomReferences(repository: string, image: string, options: CallOptions = {}): Promise<SbomReference[]> {
    return task(this.client, (n) => n.vulnerabilitiesSbomReferences(repository, image), options);
  }

  /** One row per docker image of a repository, newest first, with its counts. */
  imageReport(
    repository: string,
    options: CallOptions & { images?: string[]; concurrency?: number } = {},
  ): Promise<ImageReportRow[]> {
    return task(
      this.client,
      (n) => n.imageReport(repository, { images: options.images, concurrency: options.concurrency }),
      options,
    );
  }

  /** The Grafeas occurrences of the default project (narrow with `filter`, or `repository` + `image`). */
  occurrences(
    options: ListOptions & FilterOptions & { repository?: string; image?: string } = {},
  ): Paged<Occurrence> {
    return paged(
      this.client,
      (n, pageToken) =>
        n.occurrencesList({
          filter: options.filter,
          image: options.image,
          repository: options.repository,
          pageSize: options.pageSize,
          pageToken,
        }),
      options,
    );
  }

  /** Reads an occurrence by its full name. */
  occurrence(name: string, options: CallOptions = {}): Promise<Occurrence> {
    return task(this.client, (n) => n.occurrencesGet(name), options);
  }

  /** Creates an occurrence in the default project. */
  createOccurrence(occurrence: Occurrence, options: CallOptions = {}): Promise<Occurrence> {
    return task(this.client, (n) => n.occurrencesCreate(occurrence), options);
  }

  /** The notes of a project (the default one; vulnerability notes live in `goog-vulnz`). */
  notes(options: ListOptions & FilterOptions & { project?: string } = {}): Paged<Note> {
    return paged(
      this.client,
      (n, pageToken) =>
        n.notesList(options.project, {
          filter: options.filter,
          pageSize: options.pageSize,
          pageToken,
        }),
      options,
    );
  }

  /** Creates a note as `projects/{project}/notes/{noteId}` (the default project unless given). */
  createNote(noteId: string, note: Note, options: CallOptions & { project?: string } = {}): Promise<Note> {
    return task(this.client, (n) => n.notesCreate(options.project, noteId, note), options);
  }

  /** Reads a note by its full name. */
  note(name: string, options: CallOptions = {}): Promise<Note> {
    return task(this.client, (n) => n.notesGet(name), options);
  }
}

/** A location that failed, and how. */
export interface LocationFailure {
  location: string;
  error: { code: string; message: string; retryable: boolean; httpStatus?: number };
}

/** What a listing across locations gathered. */
export interface Across<T> {
  /** The items of every location that answered, in the order the locations were given. */
  items: T[];
  /** The locations that answered. */
  reached: string[];
  /** The locations that did not, with their errors. */
  unreachable: LocationFailure[];
}

/** A value read with failover, and where it came from. */
export interface Served<T> {
  value: T;
  /** The location that served it. */
  location: string;
  /** The locations tried before it, with their errors. */
  skipped: LocationFailure[];
}

/**
 * Several locations at once; see {@link Client.locations}. A read fails over only
 * when a location is unavailable (network, server, quota, open circuit); a
 * not-found or permission error is the answer. When every location is
 * unavailable the error's code is `LOCATION_UNAVAILABLE`.
 */
export class Locations {
  /** @internal */
  constructor(
    private readonly client: Client,
    /** The locations, in order of preference. */
    readonly locations: string[],
  ) {}

  /** The repositories of every location. */
  repositories(options: CallOptions = {}): Promise<Across<Repository>> {
    return task(this.client, (n) => n.locationsRepositories(this.locations), options);
  }

  /** The docker images of the repository `repository` (an id) in every location. */
  dockerImages(repository: string, options: CallOptions = {}): Promise<Across<DockerImage>> {
    return task(this.client, (n) => n.locationsDockerImages(this.locations, repository), options);
  }

  /** A repository, from the first location available. */
  getRepository(repository: string, options: CallOptions = {}): Promise<Served<Repository>> {
    return task(this.client, (n) => n.locationsGetRepository(this.locations, repository), options);
  }

  /** An image's digest and name (a tag resolved), from the first location available. */
  resolveImage(image: string, options: CallOptions = {}): Promise<Served<{ name: string; digest: string }>> {
    return task(this.client, (n) => n.locationsResolveImage(this.locations, image), options);
  }
}

/** Options of an image push, pull or copy. */
export interface ImageTransferOptions extends CallOptions {
  /** Blobs moved at once (the client's `concurrency` by default). */
  concurrency?: number;
  /** Called as bytes move: of the whole operation, and of the blob that moved. */
  onProgress?: (progress: Progress) => void;
}

/** What an image transfer did. */
export interface TransferReport {
  /** The digest of the top manifest (the index, or the image manifest). */
  digest: string;
  /** Manifests written. */
  manifests: number;
  /** Blobs whose bytes moved. */
  blobsTransferred: number;
  /** Blobs the target already held. */
  blobsSkipped: number;
  /** Blobs the registry linked from the source repository. */
  blobsMounted: number;
  /** Bytes of the blobs that moved. */
  bytesTransferred: number;
}

/** How an image name is understood. */
export interface ImageName {
  /** The repository's full name. */
  repository: string;
  /** The image (package) id, `team/app`. */
  image: string;
  tag: string | null;
  digest: string | null;
  /** The full pullable reference (`us-central1-docker.pkg.dev/p/docker/team/app:1.0`). */
  reference: string;
}

/** An image's metadata, platforms and vulnerability counts. */
export interface ImageDetails {
  /** The docker image's full name (`.../dockerImages/team%2Fapp@sha256:...`). */
  name: string;
  image: DockerImage;
  platforms: Array<{ os: string; architecture: string; variant: string; digest: string }>;
  /** Its vulnerability counts, or `null` when they could not be read (see `error`). */
  vulnerabilities: ResourceCounts | null;
  error: { code: string; message: string; retryable: boolean } | null;
}

/**
 * Docker images named the way people type them: `docker/team/app:1.0` (in the
 * default project and location), `docker/app@sha256:...`, or a full reference.
 */
export class Images {
  /** @internal */
  constructor(private readonly client: Client) {}

  /** How `image` is understood (checked locally; no call). */
  async parse(image: string): Promise<ImageName> {
    const n = await nativeOf(this.client);
    return call(() => n.imageParse(image)) as ImageName;
  }

  /** The image's digest and docker image name (a tag is resolved; `latest` when none is given). */
  resolve(image: string, options: CallOptions = {}): Promise<{ name: string; digest: string }> {
    return task(this.client, (n) => n.imageResolve(image), options);
  }

  /** Its metadata, platforms and vulnerability counts. */
  inspect(image: string, options: CallOptions = {}): Promise<ImageDetails> {
    return task(this.client, (n) => n.imageInspect(image), options);
  }

  /**
   * Pushes the image of an OCI image layout directory as `image` (tagged with its
   * tag, if named). Blobs stream from the files inside Rust.
   */
  push(layout: string, image: string, options: ImageTransferOptions = {}): Promise<TransferReport> {
    return task(
      this.client,
      (n) => n.imagePush(layout, image, { concurrency: options.concurrency }, nativeProgress(options.onProgress)),
      options,
    );
  }

  /**
   * Pulls `image` (by digest, else tag, else `latest`) into an OCI image layout
   * directory (created if absent), every blob verified; `platform` picks one
   * image of an index (`linux/arm64/v8`).
   */
  pull(image: string, layout: string, options: ImageTransferOptions & { platform?: string } = {}): Promise<TransferReport> {
    return task(
      this.client,
      (n) =>
        n.imagePull(
          image,
          layout,
          { concurrency: options.concurrency, platform: options.platform },
          nativeProgress(options.onProgress),
        ),
      options,
    );
  }

  /** Copies `from` to `to` across repositories, locations and projects (blobs mounted where possible). */
  copy(from: string, to: string, options: ImageTransferOptions = {}): Promise<TransferReport> {
    return task(
      this.client,
      (n) => n.imageCopy(from, to, { concurrency: options.concurrency }, nativeProgress(options.onProgress)),
      options,
    );
  }

  /** The manifest of `image` (or of `reference`, a tag or digest in its repository), parsed from its exact bytes. */
  manifest(
    image: string,
    options: CallOptions & { reference?: string } = {},
  ): Promise<{ digest: string; mediaType: string; manifest: Record<string, unknown> }> {
    return task(this.client, (n) => n.imageManifest(image, options.reference), options);
  }

  /** A blob of the image's repository as a Node `Readable`, verified against `digest` as it flows. */
  async blob(image: string, digest: string, options: TransferOptions = {}): Promise<Readable> {
    const stream = await task<Native.ByteStream>(this.client, (n) => n.imageBlob(image, digest), options);
    return byteReadable(stream, options);
  }

  /**
   * Uploads the blob `digest` of `size` bytes to the image's repository from a
   * file path, bytes, or a Node stream (any async iterable of bytes, read with
   * backpressure; a stream cannot resume, a file can). Nothing is sent when the
   * repository already holds the blob. The registry checks the digest.
   */
  async uploadBlob(
    image: string,
    digest: string,
    size: number,
    source: string | Uint8Array | AsyncIterable<Uint8Array>,
    options: TransferOptions = {},
  ): Promise<'uploaded' | 'existed' | 'mounted'> {
    const progress = nativeProgress(options.onProgress);
    if (typeof source === 'string' || source instanceof Uint8Array) {
      const path = typeof source === 'string' ? source : undefined;
      const bytes = typeof source === 'string' ? undefined : asBuffer(source);
      return task(this.client, (n) => n.imageUploadBlob(image, digest, size, path, bytes, progress), options);
    }
    const signal = options.signal;
    if (signal?.aborted) throw abortedError(signal);
    const n = await nativeOf(this.client);
    const sink = call(() => n.imageUploadBlobStream(image, digest, size, progress));
    const onAbort = (): void => sink.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const feeding = (async () => {
        try {
          for await (const chunk of source) {
            await run(() => sink.write(asBuffer(chunk)));
            if (signal?.aborted) return;
          }
          sink.end();
        } catch (e) {
          sink.fail(e instanceof Error ? e.message : String(e));
          throw e;
        }
      })();
      const [fed, done] = await Promise.allSettled([feeding, sink.result()]);
      if (done.status === 'fulfilled') return decode(done.value) as 'uploaded' | 'existed' | 'mounted';
      // The source's own failure explains the upload's; else the upload's error does.
      if (fed.status === 'rejected' && !(fed.reason instanceof GarError) && !signal?.aborted) throw fed.reason;
      throw toGarError(done.reason, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Downloads a blob of the image's repository to `dest` (verified; nothing left on failure); resolves with its size. */
  downloadBlob(image: string, digest: string, dest: string, options: CallOptions = {}): Promise<number> {
    return task(this.client, (n) => n.imageBlobDownload(image, digest, dest), options);
  }

  /** Deletes it with its tags; resolves with the deleted docker image name. */
  delete(image: string, options: CallOptions = {}): Promise<string> {
    return task(this.client, (n) => n.imageDelete(image), options);
  }
}

export type { Page };
