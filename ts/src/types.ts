/**
 * The resources of Artifact Registry and Container Analysis, in their ProtoJSON
 * shape (the JSON the REST API speaks).
 *
 * **int64 values are strings** (`sizeBytes: "1024"`), as ProtoJSON writes them:
 * they may exceed `Number.MAX_SAFE_INTEGER`, and a string survives `JSON`
 * round trips. Convert with `BigInt(x)` when you need arithmetic. Timestamps are
 * RFC 3339 strings, enums are string unions of their names, and bytes are base64.
 */

/** A repository format. */
export type Format =
  | 'FORMAT_UNSPECIFIED'
  | 'DOCKER'
  | 'MAVEN'
  | 'NPM'
  | 'APT'
  | 'YUM'
  | 'PYTHON'
  | 'KFP'
  | 'GO'
  | 'GENERIC'
  | 'RUBY';

/** A repository mode. */
export type Mode = 'MODE_UNSPECIFIED' | 'STANDARD_REPOSITORY' | 'VIRTUAL_REPOSITORY' | 'REMOTE_REPOSITORY';

/** How much of a version a read returns: `FULL` adds its tags. */
export type VersionView = 'BASIC' | 'FULL';

/** The algorithm of a file hash. */
export type HashType = 'HASH_TYPE_UNSPECIFIED' | 'SHA256' | 'MD5' | 'DIRSUM_SHA256';

/** A cleanup policy action. */
export type CleanupAction = 'DELETE' | 'KEEP';

/** Which versions a condition selects by their tags. */
export type TagState = 'TAGGED' | 'UNTAGGED' | 'ANY';

/** One cleanup policy (REST shape). */
export interface CleanupPolicy {
  /** Its id (also its key in the policy map). */
  id: string;
  /** What it does with the versions it selects. */
  action: CleanupAction;
  /** Select by tags, names and age; every field set must hold. */
  condition?: {
    tagState?: TagState;
    tagPrefixes?: string[];
    versionNamePrefixes?: string[];
    packageNamePrefixes?: string[];
    /** A duration such as `"86400s"`. */
    olderThan?: string;
    /** A duration such as `"86400s"`. */
    newerThan?: string;
  };
  /** Keep the most recent versions of each package. */
  mostRecentVersions?: {
    packageNamePrefixes?: string[];
    keepCount?: number;
  };
}

/** Cleanup policies by id (the REST shape). */
export type CleanupPolicies = Record<string, CleanupPolicy>;

/** A repository. */
export interface Repository {
  /** `projects/{p}/locations/{l}/repositories/{r}`. */
  name: string;
  format: Format;
  description?: string;
  labels?: Record<string, string>;
  createTime?: string;
  updateTime?: string;
  kmsKeyName?: string;
  mode: Mode;
  dockerConfig?: { immutableTags: boolean };
  mavenConfig?: { allowSnapshotOverwrites: boolean; versionPolicy?: string };
  cleanupPolicies?: CleanupPolicies;
  cleanupPolicyDryRun: boolean;
  /** int64 as a string. */
  sizeBytes: string;
  vulnerabilityScanningConfig?: Record<string, unknown>;
  registryUri?: string;
}

/** A package. */
export interface Package {
  /** `.../repositories/{r}/packages/{p}` (ids percent-encoded). */
  name: string;
  displayName?: string;
  createTime?: string;
  updateTime?: string;
  annotations?: Record<string, string>;
}

/** A tag. */
export interface Tag {
  /** `.../packages/{p}/tags/{t}`. */
  name: string;
  /** The version's full name. */
  version: string;
}

/** A file or version hash. */
export interface Hash {
  type: HashType;
  /** base64. */
  value: string;
}

/** A version. */
export interface Version {
  /** `.../packages/{p}/versions/{v}`. */
  name: string;
  description?: string;
  createTime?: string;
  updateTime?: string;
  /** Its tags (with the `FULL` view). */
  relatedTags?: Tag[];
  metadata?: Record<string, unknown>;
  annotations?: Record<string, string>;
  fingerprints?: Hash[];
}

/** A file. */
export interface File {
  /** `.../repositories/{r}/files/{f}`. */
  name: string;
  /** int64 as a string. */
  sizeBytes: string;
  hashes?: Hash[];
  createTime?: string;
  updateTime?: string;
  owner?: string;
  annotations?: Record<string, string>;
}

/** One platform of a docker image index. */
export interface ImageManifest {
  architecture: string;
  os: string;
  digest: string;
  mediaType: string;
  osVersion?: string;
  osFeatures?: string[];
  variant?: string;
}

/** A docker image as the Artifact Registry API lists it. */
export interface DockerImage {
  /** `.../repositories/{r}/dockerImages/{image}@sha256:...`. */
  name: string;
  /** `{location}-docker.pkg.dev/{p}/{r}/{image}@sha256:...`. */
  uri: string;
  tags?: string[];
  /** int64 as a string. */
  imageSizeBytes: string;
  uploadTime?: string;
  mediaType?: string;
  buildTime?: string;
  updateTime?: string;
  artifactType?: string;
  imageManifests?: ImageManifest[];
}

/** The outcome of a batch delete. */
export interface BatchDeleteResult {
  /** Versions that could not be (or, validating only, would not be) deleted. */
  failedVersions: string[];
}

/** What a cleanup evaluation decides for one version. */
export interface CleanupDecision {
  package: string;
  version: string;
  /** The version's full name. */
  name: string;
  /** `DELETE`, `KEEP`, or `NOT_SELECTED` (no DELETE policy selects it). */
  action: 'DELETE' | 'KEEP' | 'NOT_SELECTED';
  /** The policies that decided it. */
  by: string[];
  /** KEEP only: the DELETE policies it was kept against. */
  overrides: string[];
}

/** A cleanup dry-run report. */
export interface CleanupPlan {
  repository: string;
  /** Whether the repository is in cleanup dry-run mode. */
  dryRun: boolean;
  policies: CleanupPolicies;
  /** The instant ages were measured against. */
  evaluatedAt: string;
  decisions: CleanupDecision[];
  /** The full names of the versions the policies delete. */
  deletions: string[];
}

/** What applying cleanup policies did. */
export interface CleanupApplied {
  plan: CleanupPlan;
  /** The versions deleted. */
  deleted: string[];
  /** Versions the batch deletes reported as not deleted. */
  failed: string[];
}

/** A vulnerability severity. */
export type Severity = 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'UNSPECIFIED';

/** Where the analysis of an image stands. */
export type ScanStatus = 'PENDING' | 'SCANNING' | 'FINISHED' | 'FAILED' | 'UNSUPPORTED' | 'UNKNOWN';

/** How many vulnerabilities, and how many have a fix. */
export interface Count {
  total: number;
  fixable: number;
}

/** One package a vulnerability affects. */
export interface AffectedPackage {
  name: string;
  packageType: string;
  installedVersion: string | null;
  fixedVersion: string | null;
  fixAvailable: boolean;
  effectiveSeverity: Severity;
}

/** One vulnerability found in an image. */
export interface Finding {
  /** `CVE-2024-0001`. */
  cve: string;
  noteName: string;
  occurrenceName: string;
  severity: Severity;
  cvssScore: number | null;
  fixAvailable: boolean;
  packages: AffectedPackage[];
  shortDescription: string;
}

/** An SBOM attached to an image. */
export interface SbomReference {
  location: string;
  mimeType: string;
  digest: Record<string, string>;
}

/** The vulnerability report of one image. */
export interface VulnerabilityReport {
  resourceUri: string;
  scan: { status: ScanStatus; lastScanTime: string | null } | null;
  counts: Partial<Record<Severity, Count>>;
  /** Most serious first. */
  findings: Finding[];
  sbomReferences: SbomReference[];
}

/** Vulnerability counts of one resource. */
export interface ResourceCounts {
  counts: Partial<Record<Severity, Count>>;
  total: Count;
}

/** Vulnerability counts by resource URI. */
export interface VulnerabilitySummary {
  resources: Record<string, ResourceCounts>;
}

/** One row of the image report. */
export interface ImageReportRow {
  image: DockerImage;
  platforms: Array<{ os: string; architecture: string; variant: string; digest: string }>;
  /** The image's counts, or `null` when they could not be read (see `error`). */
  vulnerabilities: ResourceCounts | null;
  /** Why the counts are missing: the error's code and message. */
  error: { code: string; message: string; retryable: boolean } | null;
}

/** A Grafeas occurrence (ProtoJSON; see the Grafeas v1 reference for every field). */
export interface Occurrence {
  /** `projects/{p}/occurrences/{id}`. */
  name?: string;
  resourceUri: string;
  noteName: string;
  /** `VULNERABILITY`, `DISCOVERY`, `SBOM_REFERENCE`, ... */
  kind: string;
  createTime?: string;
  updateTime?: string;
  vulnerability?: Record<string, unknown>;
  discovery?: Record<string, unknown>;
  [field: string]: unknown;
}

/** A Grafeas note (ProtoJSON). */
export interface Note {
  name?: string;
  kind?: string;
  shortDescription?: string;
  longDescription?: string;
  vulnerability?: Record<string, unknown>;
  [field: string]: unknown;
}
